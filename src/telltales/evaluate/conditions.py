"""What happens to an image between the generator and the person asking: applied on the fly.

* ``asis``: the bytes as given.
* ``stripped``: the same pixels, every metadata block removed. JPEG: APP1-APP15
  and COM segments dropped without re-encoding (APP0/JFIF kept). PNG, WebP and
  any other format: decoded and re-saved losslessly (PNG, or lossless WebP for
  WebP) with no text, EXIF, XMP or ICC chunks. The stored raster is unchanged;
  note that dropping EXIF also drops the orientation tag, as many platforms do.
* ``web``: stripped, long side at most 1024 px, JPEG quality 80 (4:2:0) - what a
  news site or social network serves.
* ``thumbnail``: long side at most 512 px, JPEG quality 60, no metadata.

Resizing uses Pillow's Lanczos filter on the oriented RGB pixels (alpha
flattened onto white), the same pixels telltales analyses.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image as PILImage

from ..errors import TelltalesError
from ..formats import jpeg, png

CONDITIONS = ("asis", "stripped", "web", "thumbnail")
VERSION = "2"  # bump when a condition's output for the same input may change (2: JPEG stripping reads past extraneous bytes)


class ConditionError(TelltalesError):
    """The condition cannot be applied to this file (for example a truncated JPEG header)."""


def asis(data: bytes) -> bytes:
    return data


def stripped(data: bytes) -> bytes:
    if jpeg.is_jpeg(data):
        try:
            return jpeg.strip_metadata(data)
        except ValueError as exc:
            raise ConditionError(f"cannot strip metadata: {exc}") from None
    img = _open(data)
    fmt = "WEBP" if img.format == "WEBP" else "PNG"
    keep = {k: img.info[k] for k in ("transparency",) if k in img.info and fmt == "PNG"}
    if img.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
        img = img.convert("RGBA" if "A" in img.mode else "RGB")
    clean = img.copy()
    clean.info = keep
    buf = io.BytesIO()
    if fmt == "WEBP":
        clean.save(buf, "WEBP", lossless=True, quality=100, exif=b"", icc_profile=None)
    else:
        clean.save(buf, "PNG", **keep)
    return buf.getvalue()


def _recompress(data: bytes, long_side: int, quality: int) -> bytes:
    from ..image import load_image

    try:
        image = load_image(data)
    except TelltalesError as exc:
        raise ConditionError(str(exc)) from None
    pil = PILImage.fromarray(image.pixels)
    w, h = pil.size
    if max(w, h) > long_side:
        s = long_side / max(w, h)
        pil = pil.resize((max(1, round(w * s)), max(1, round(h * s))), PILImage.Resampling.LANCZOS)
    buf = io.BytesIO()
    pil.save(buf, "JPEG", quality=quality, subsampling=2, optimize=False)
    return buf.getvalue()


def web(data: bytes) -> bytes:
    return _recompress(data, 1024, 80)


def thumbnail(data: bytes) -> bytes:
    return _recompress(data, 512, 60)


APPLY: dict[str, Callable[[bytes], bytes]] = {
    "asis": asis,
    "stripped": stripped,
    "web": web,
    "thumbnail": thumbnail,
}


def apply(condition: str, data: bytes) -> bytes:
    """``data`` as it looks after ``condition``."""
    try:
        func = APPLY[condition]
    except KeyError:
        raise TelltalesError(f"unknown condition {condition!r}; choose from {', '.join(CONDITIONS)}") from None
    return func(data)


def parse(value: str | None, default: tuple[str, ...] = ("asis",)) -> tuple[str, ...]:
    """``"asis,web"`` -> ``("asis", "web")``, checked; ``"all"`` -> every condition."""
    if not value:
        return default
    if value.strip() == "all":
        return CONDITIONS
    names = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    unknown = [n for n in names if n not in APPLY]
    if unknown:
        raise TelltalesError(f"unknown condition(s) {unknown}; choose from {', '.join(CONDITIONS)}")
    return names


def _open(data: bytes) -> PILImage.Image:
    try:
        img = PILImage.open(io.BytesIO(data))
        img.load()
        return img
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a condition failure
        raise ConditionError(f"cannot decode the image to strip it: {exc}") from None


def has_metadata(data: bytes) -> bool:
    """Whether ``data`` still carries EXIF, XMP, ICC, comments or text chunks."""
    if jpeg.is_jpeg(data):
        return any(s.marker in jpeg.METADATA_MARKERS for s in jpeg.segments(data))
    if png.is_png(data):
        return any(c.type in ("tEXt", "zTXt", "iTXt", "eXIf", "iCCP") for c in png.chunks(data))
    img = _open(data)
    return bool(img.info.get("exif") or img.info.get("xmp") or img.info.get("icc_profile"))
