"""Loading and validating images: the one place for every format quirk.

Dtype policy: the working pixels are always ``uint8`` RGB, shape ``(H, W, 3)``,
values 0-255. Conversion decides by the source mode, never by pixel values:

* ``1``, ``L``, ``P``, ``CMYK``, ``YCbCr``, ``LAB``, ``HSV`` -> RGB by Pillow;
* ``I;16*`` and ``I`` (16-bit PNG and TIFF) -> divided by 257 (65535 -> 255);
* ``F`` (32-bit float) -> taken as 0-1, clipped, times 255;
* any alpha (``RGBA``, ``LA``, ``PA``, palette transparency) -> flattened onto
  white, with a warning;
* animated files and MPO -> the first frame, with a warning;
* EXIF orientation is applied, so pixel coordinates are those a viewer shows.

Bad input raises :class:`~telltales.errors.ImageError` with a message that
says what is wrong (missing, unreadable, empty, not an image, truncated,
too many pixels).
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from .errors import ImageError
from .formats import png

DEFAULT_MAX_PIXELS = 150_000_000
DEFAULT_MAX_BYTES = 1 << 30
_HEIF_REGISTERED = False


def _register_optional_openers() -> None:
    """HEIC/HEIF (and AVIF where Pillow lacks it) through pillow-heif, if installed."""
    global _HEIF_REGISTERED
    if _HEIF_REGISTERED:
        return
    _HEIF_REGISTERED = True
    try:
        import pillow_heif
    except ImportError:
        return
    pillow_heif.register_heif_opener()
    if "AVIF" not in PILImage.registered_extensions().values() and hasattr(
        pillow_heif, "register_avif_opener"
    ):
        pillow_heif.register_avif_opener()


@dataclass(frozen=True)
class Metadata:
    """Metadata blocks as stored in the file; parsed by the provenance cues."""

    exif: bytes | None = None
    xmp: str | None = None
    icc: bytes | None = None
    text: dict[str, str] = field(default_factory=dict)  # PNG tEXt/zTXt/iTXt, GIF comments
    comments: tuple[str, ...] = ()  # JPEG COM segments
    info: dict[str, Any] = field(default_factory=dict)  # Pillow's info, JSON-safe keys only

    @property
    def empty(self) -> bool:
        return not (self.exif or self.xmp or self.text or self.comments)


@dataclass(frozen=True)
class Image:
    """A validated image: its bytes, decoded pixels and metadata."""

    path: str | None
    data: bytes
    sha256: str
    format: str
    mode: str
    size: tuple[int, int]  # (width, height) as a viewer shows it
    pixels: np.ndarray = field(repr=False)  # uint8 (H, W, 3), full resolution
    metadata: Metadata = field(default_factory=Metadata, repr=False)
    n_frames: int = 1
    has_alpha: bool = False
    warnings: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        return self.size[0]

    @property
    def height(self) -> int:
        return self.size[1]

    @property
    def megapixels(self) -> float:
        return self.size[0] * self.size[1] / 1e6

    @property
    def noise_unreliable(self) -> str | None:
        """Why the fine pixel noise is not the picture's own, decided by the stored mode, or None.

        A palette (GIF, PNG-8) or bilevel image had its colours quantised: the
        quantisation pattern replaced whatever noise the picture had, on real
        photos as on generated ones, so noise cues must not judge it.
        """
        if self.mode in ("P", "PA"):
            return ("its colours were reduced to a palette of at most 256 (GIF, PNG-8): the "
                    "quantisation replaced the fine noise, in real photos as in generated images")
        if self.mode == "1":
            return "it is a black-and-white (1-bit) image: there is no fine noise to measure"
        return None

    def describe(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "mode": self.mode,
            "width": self.size[0],
            "height": self.size[1],
            "bytes": len(self.data),
            "frames": self.n_frames,
            "warnings": list(self.warnings),
        }


def _read_source(source: Any, max_bytes: int) -> tuple[str | None, bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        return None, bytes(source)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.exists():
            raise ImageError(f"{path}: no such file")
        if path.is_dir():
            raise ImageError(f"{path}: is a folder, not an image (use `telltales scan` for folders)")
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise ImageError(f"{path}: file is {size} bytes, over the limit of {max_bytes}")
            data = path.read_bytes()
        except PermissionError:
            raise ImageError(f"{path}: permission denied") from None
        except OSError as exc:
            raise ImageError(f"{path}: cannot read ({exc.strerror or exc})") from None
        return str(path), data
    if hasattr(source, "read"):
        data = source.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise ImageError(f"stream is over the limit of {max_bytes} bytes")
        return getattr(source, "name", None), bytes(data)
    raise ImageError(
        f"source must be a path, bytes, a file object or a PIL image, not {type(source).__name__}"
    )


def _to_rgb(img: PILImage.Image, notes: list[str]) -> np.ndarray:
    mode = img.mode
    if mode.startswith("I;16") or mode == "I":
        arr = np.asarray(img, dtype=np.float64) / 257.0
        arr = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
        notes.append(f"{mode} image (16-bit) reduced to 8 bits")
        return np.repeat(arr[..., None], 3, axis=2)
    if mode == "F":
        arr = np.clip(np.asarray(img, dtype=np.float64), 0.0, 1.0) * 255.0
        notes.append("32-bit float image taken as 0-1 and reduced to 8 bits")
        return np.repeat(np.rint(arr).astype(np.uint8)[..., None], 3, axis=2)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode == "P" and "transparency" in img.info
    ) or (mode in ("L", "RGB") and "transparency" in img.info)
    if has_alpha:
        rgba = img.convert("RGBA")
        white = PILImage.new("RGBA", rgba.size, (255, 255, 255, 255))
        white.alpha_composite(rgba)
        notes.append("alpha channel flattened onto white")
        return np.asarray(white.convert("RGB"))
    if mode == "CMYK":
        notes.append("CMYK image converted to RGB")
    return np.asarray(img.convert("RGB"))


def _json_safe_info(info: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in info.items():
        if k in ("exif", "icc_profile", "xmp", "photoshop", "mp", "mpinfo"):
            continue
        if isinstance(v, str | int | float | bool):
            out[str(k)] = v
        elif isinstance(v, tuple) and all(isinstance(x, int | float) for x in v):
            out[str(k)] = list(v)
    return out


def _metadata(img: PILImage.Image, data: bytes) -> Metadata:
    info = img.info
    exif = info.get("exif")
    if isinstance(exif, str):
        exif = exif.encode("latin-1")
    xmp = info.get("xmp") or info.get("XML:com.adobe.xmp")
    if isinstance(xmp, bytes):
        xmp = xmp.decode("utf-8", "replace")
    text: dict[str, str] = {}
    if png.is_png(data):
        text = png.text_chunks(data)
    else:
        for k, v in getattr(img, "text", {}).items() if hasattr(img, "text") else []:
            text[str(k)] = str(v)
    comments: tuple[str, ...] = ()
    if img.format == "JPEG":
        from .formats import jpeg

        comments = tuple(
            s.payload.decode("utf-8", "replace") for s in jpeg.segments(data) if s.marker == 0xFE
        )
    elif isinstance(info.get("comment"), bytes | str):
        c = info["comment"]
        comments = (c.decode("utf-8", "replace") if isinstance(c, bytes) else c,)
    return Metadata(
        exif=bytes(exif) if exif else None,
        xmp=xmp or None,
        icc=info.get("icc_profile") or None,
        text=text,
        comments=comments,
        info=_json_safe_info(info),
    )


def load_image(
    source: Any,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Image:
    """Read ``source`` (path, bytes, binary file object or PIL image) into a validated :class:`Image`.

    Raises :class:`ImageError` with a plain message when the input cannot be analysed.
    """
    if max_pixels <= 0:
        raise ValueError(f"max_pixels must be positive, got {max_pixels}")
    _register_optional_openers()
    if isinstance(source, PILImage.Image):
        return _from_pil(source, None, b"", max_pixels)
    path, data = _read_source(source, max_bytes)
    label = path or "input"
    if not data:
        raise ImageError(f"{label}: file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            img = PILImage.open(io.BytesIO(data))
            img.load()
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as exc:
        raise ImageError(f"{label}: too many pixels to decode safely ({exc})") from None
    except UnidentifiedImageError:
        raise ImageError(f"{label}: not an image, or a format telltales cannot read") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        msg = str(exc)
        if "truncated" in msg or isinstance(exc, EOFError):
            raise ImageError(f"{label}: file is truncated ({msg or 'unexpected end of data'})") from None
        raise ImageError(f"{label}: image data is corrupt ({msg})") from None
    return _from_pil(img, path, data, max_pixels)


def _from_pil(img: PILImage.Image, path: str | None, data: bytes, max_pixels: int) -> Image:
    label = path or "input"
    w, h = img.size
    if w * h > max_pixels:
        raise ImageError(
            f"{label}: {w}x{h} is {w * h / 1e6:.0f} megapixels, over the limit of "
            f"{max_pixels / 1e6:.0f} (raise it with max_pixels / --max-pixels)"
        )
    if w < 1 or h < 1:
        raise ImageError(f"{label}: image has no pixels ({w}x{h})")
    notes: list[str] = []
    n_frames = int(getattr(img, "n_frames", 1) or 1)
    if n_frames > 1:
        img.seek(0)
        kind = "MPO with" if img.format == "MPO" else "animated image with"
        notes.append(f"{kind} {n_frames} frames: analysed the first")
    fmt = img.format or ("array" if not data else "unknown")
    mode = img.mode
    metadata = _metadata(img, data)
    orientation = img.getexif().get(0x0112) if hasattr(img, "getexif") else None
    try:
        oriented = ImageOps.exif_transpose(img) or img
        if orientation not in (None, 1):
            notes.append(f"EXIF orientation {orientation} applied")
    except Exception:  # a broken orientation tag must not lose the image
        oriented = img
        notes.append("EXIF orientation tag unreadable: not applied")
    try:
        pixels = _to_rgb(oriented, notes)
    except (OSError, ValueError) as exc:
        raise ImageError(f"{label}: cannot convert {mode} pixels ({exc})") from None
    has_alpha = any("alpha" in n for n in notes)
    digest = hashlib.sha256(data if data else pixels.tobytes()).hexdigest()
    return Image(
        path=path,
        data=data,
        sha256=digest,
        format=fmt,
        mode=mode,
        size=(pixels.shape[1], pixels.shape[0]),
        pixels=np.ascontiguousarray(pixels),
        metadata=metadata,
        n_frames=n_frames,
        has_alpha=has_alpha,
        warnings=tuple(notes),
    )
