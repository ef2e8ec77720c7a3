"""Loading and validating images: the one place for every format quirk.

Dtype policy: the working pixels are always ``uint8`` RGB, shape ``(H, W, 3)``,
values 0-255. Conversion decides by the source mode, never by pixel values:

* ``1``, ``L``, ``P``, ``CMYK``, ``YCbCr``, ``LAB``, ``HSV`` -> RGB by Pillow;
* ``I;16*`` and ``I`` -> scaled from the source's full integer range to 0-255,
  never clipped: 16-bit (PNG, TIFF, PGM) divided by 257; a 32-bit integer TIFF
  (its BitsPerSample and SampleFormat tags say so) by (2^32 - 1) / 255, or for
  signed samples (2^31 - 1) / 255 with negatives set to 0;
* ``F`` (32-bit float) -> taken as 0-1, clipped, times 255;
* any alpha (``RGBA``, ``LA``, ``PA``, palette transparency) -> flattened onto
  white, with a warning;
* animated files and MPO -> the first frame, with a warning;
* EXIF orientation is applied, so pixel coordinates are those a viewer shows,
  and a note says what was done; an invalid value (0, 9, 65535) is ignored, and
  a note says so.

One pixel budget, ``max_pixels``, bounds the cost of decoding: Pillow's own
limit is set from it, a JPEG over it is decoded at 1/2, 1/4 or 1/8 scale
(``Image.reduced``), anything else over it is refused. Only regular files are
read, and at most ``max_bytes + 1`` bytes of them; PNG text is inflated to
bounded sizes (:mod:`telltales.formats.png`).

Bad input raises :class:`~telltales.errors.ImageError` with a message that
says what is wrong (missing, unreadable, empty, not an image, truncated,
too many pixels).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from .errors import ImageError
from .formats import png
from .limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS

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
    reduced: bool = False  # decoded below native resolution (a JPEG over the pixel budget)

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


def _read_path(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, refusing anything but a regular file and reading at most ``max_bytes + 1``."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except PermissionError:
        raise ImageError(f"{path}: permission denied") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise ImageError(f"{path}: is a folder, not an image (use `telltales scan` for folders)")
    if not stat.S_ISREG(st.st_mode):
        raise ImageError(f"{path}: is a {_file_kind(st.st_mode)}, not a regular file")
    if st.st_size > max_bytes:
        raise ImageError(f"{path}: file is {st.st_size} bytes, over the limit of {max_bytes}")
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except PermissionError:
        raise ImageError(f"{path}: permission denied") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:  # it grew after the size check
        raise ImageError(f"{path}: file is over the limit of {max_bytes} bytes")
    return data


def _file_kind(mode: int) -> str:
    kinds = [(stat.S_ISFIFO, "named pipe (FIFO)"), (stat.S_ISCHR, "character device"),
             (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket")]
    return next((name for test, name in kinds if test(mode)), "special file")


def _read_stream(source: Any, max_bytes: int) -> bytes:
    """At most ``max_bytes + 1`` bytes of a binary file object; text-mode or closed ones are refused."""
    if getattr(source, "closed", False):
        raise ImageError("the file object is closed")
    try:
        data = source.read(max_bytes + 1)
    except ValueError as exc:  # I/O on a closed file
        raise ImageError(f"cannot read the file object ({exc})") from None
    except UnicodeDecodeError:
        raise ImageError("the file object is open in text mode; open it with 'rb'") from None
    except OSError as exc:
        raise ImageError(f"cannot read the file object ({exc.strerror or exc})") from None
    if isinstance(data, str):
        raise ImageError("the file object is open in text mode; open it with 'rb'")
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ImageError(f"the file object's read() returned {type(data).__name__}, not bytes")
    if len(data) > max_bytes:
        raise ImageError(f"stream is over the limit of {max_bytes} bytes")
    return bytes(data)


def _read_source(source: Any, max_bytes: int) -> tuple[str | None, bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        return None, bytes(source)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        return str(path), _read_path(path, max_bytes)
    if hasattr(source, "read"):
        name = getattr(source, "name", None)
        return (name if isinstance(name, str) else None), _read_stream(source, max_bytes)
    raise ImageError(
        f"source must be a path, bytes, a file object or a PIL image, not {type(source).__name__}"
    )


def _int_bits(img: PILImage.Image) -> tuple[int, bool]:
    """(bits per sample, signed) of a 32-bit-container ``I`` image, from the file's own tags."""
    tags = getattr(img, "tag_v2", None)
    if tags is not None:
        bits = tags.get(258, (32,))
        bits = int(bits[0] if isinstance(bits, tuple | list) else bits)
        fmt = tags.get(339, (1,))
        fmt = int(fmt[0] if isinstance(fmt, tuple | list) else fmt)
        return bits, fmt == 2
    return 16, False  # PNG, PGM and images made in memory keep 16-bit samples in I


def _int_to_uint8(img: PILImage.Image, notes: list[str]) -> np.ndarray:
    """An ``I;16*`` or ``I`` image scaled (never clipped) from its full range to 0-255."""
    mode = img.mode
    if mode.startswith("I;16"):
        bits, signed = 16, False
    else:
        bits, signed = _int_bits(img)
    arr = np.asarray(img)
    if mode == "I" and bits > 16 and not signed:
        arr = arr.view(np.uint32)  # Pillow keeps unsigned 32-bit samples in a signed container
    if signed:
        top = float(2 ** (bits - 1) - 1)
        if (arr < 0).any():
            notes.append(f"negative samples of a signed {bits}-bit image set to 0")
        scaled = np.clip(arr.astype(np.float64), 0, None) / top * 255.0
        kind = f"signed {bits}-bit integer"
    else:
        if bits <= 16 and (arr > 65535).any():
            notes.append("samples above 65535 in a 16-bit image set to 65535")
        scaled = arr.astype(np.float64) / float(2**bits - 1) * 255.0
        kind = f"{bits}-bit"
    notes.append(f"{mode} image ({kind}) scaled to 8 bits")
    out = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    return np.repeat(out[..., None], 3, axis=2)


def _to_rgb(img: PILImage.Image, notes: list[str]) -> np.ndarray:
    mode = img.mode
    if mode.startswith("I;16") or mode == "I":
        return _int_to_uint8(img, notes)
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
    if mode == "RGB":  # no copy through convert(): the decoded image is the biggest thing in memory
        return np.asarray(img)
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


def _comments(data: bytes, limit: int = png.MAX_TOTAL_TEXT) -> tuple[str, ...]:
    """JPEG COM segments, at most ``limit`` characters in all."""
    from .formats import jpeg

    out: list[str] = []
    kept = 0
    for seg in jpeg.segments(data):
        if seg.marker == 0xFE and kept < limit:
            text = seg.payload[: limit - kept].decode("utf-8", "replace")
            out.append(text)
            kept += len(text)
    return tuple(out)


def _metadata(img: PILImage.Image, data: bytes) -> tuple[Metadata, tuple[str, ...]]:
    info = img.info
    exif = info.get("exif")
    if isinstance(exif, str):
        exif = exif.encode("latin-1")
    xmp = info.get("xmp") or info.get("XML:com.adobe.xmp")
    if isinstance(xmp, bytes):
        xmp = xmp.decode("utf-8", "replace")
    text: dict[str, str] = {}
    notes: tuple[str, ...] = ()
    if png.is_png(data):
        texts = png.read_texts(data)
        text, notes = texts.texts, texts.notes
    else:
        for k, v in getattr(img, "text", {}).items() if hasattr(img, "text") else []:
            text[str(k)] = str(v)
    comments: tuple[str, ...] = ()
    if img.format == "JPEG":
        comments = _comments(data)
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
    ), notes


DRAFT_SCALES = (1, 2, 4, 8)  # the reductions libjpeg decodes at directly (DCT scaling)
_ORIENTATION_NOTES = {
    2: "mirrored left-right",
    3: "rotated 180 degrees",
    4: "flipped upside down",
    5: "mirrored across the main diagonal",
    6: "rotated 90 degrees clockwise",
    7: "mirrored across the anti-diagonal",
    8: "rotated 90 degrees counter-clockwise",
}


def pillow_limit(max_pixels: int, data: bytes) -> int:
    """Pillow's ``MAX_IMAGE_PIXELS`` for this input, set from telltales' one pixel budget.

    A JPEG may declare up to ``8 * 8`` times the budget, since it is decoded at
    down to 1/8 scale per side (see :func:`draft_scale`); anything else, the budget.
    """
    return max_pixels * DRAFT_SCALES[-1] ** 2 if data[:2] == b"\xff\xd8" else max_pixels


def draft_scale(size: tuple[int, int], max_pixels: int) -> int | None:
    """The smallest JPEG draft reduction that brings ``size`` within ``max_pixels``; None if none does."""
    w, h = size
    for k in DRAFT_SCALES:
        if -(-w // k) * -(-h // k) <= max_pixels:
            return k
    return None


def _open(data: bytes, label: str, max_pixels: int) -> tuple[PILImage.Image, list[str], bool]:
    """Decode ``data`` within the pixel budget (a JPEG over it is decoded reduced, with draft()).

    Returns the image, notes (the reduction, and what the decoder warned about:
    kept in the report instead of printed with a site-packages path) and whether
    it was decoded reduced.
    """
    PILImage.MAX_IMAGE_PIXELS = pillow_limit(max_pixels, data)
    notes: list[str] = []
    reduced = False
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        img = PILImage.open(io.BytesIO(data))
        w, h = img.size
        if w * h > max_pixels and img.format in ("JPEG", "MPO"):
            k = draft_scale((w, h), max_pixels)
            if k is not None:
                img.draft(img.mode, (max(1, w // k), max(1, h // k)))
                reduced = img.size != (w, h)
                if reduced:
                    notes.append(
                        f"{w}x{h} is over the pixel budget of {max_pixels / 1e6:g} megapixels: "
                        f"decoded at {img.size[0]}x{img.size[1]} (1/{round(w / img.size[0])} scale); "
                        "cues that need native pixels were not run"
                    )
        if img.size[0] * img.size[1] > max_pixels:
            _too_many(label, img.size, max_pixels)
        img.load()
    notes.extend(dict.fromkeys(f"the decoder warned: {str(m.message).strip()}" for m in said))
    return img, notes, reduced


def _too_many(label: str, size: tuple[int, int], max_pixels: int) -> None:
    w, h = size
    raise ImageError(
        f"{label}: {w}x{h} is {w * h / 1e6:.0f} megapixels, over the pixel budget of "
        f"{max_pixels / 1e6:g} megapixels (raise it with max_pixels / --max-pixels)"
    )


def load_image(
    source: Any,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Image:
    """Read ``source`` (path, bytes, binary file object or PIL image) into a validated :class:`Image`.

    ``max_pixels`` is the one pixel budget: Pillow's own limit is set from it, a
    JPEG over it is decoded at a reduced scale (1/2, 1/4 or 1/8), anything else
    over it is refused. Raises :class:`ImageError` with a plain message when the
    input cannot be analysed.
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
        img, decode_notes, reduced = _open(data, label, max_pixels)
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        count = f"{int(found.group(1)) / 1e6:.0f} megapixels" if found else "too many pixels"
        raise ImageError(
            f"{label}: {count}, over the pixel budget of {max_pixels / 1e6:g} megapixels "
            "(raise it with max_pixels / --max-pixels)"
        ) from None
    except UnidentifiedImageError:
        raise ImageError(f"{label}: not an image, or a format telltales cannot read") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        msg = str(exc)
        if "truncated" in msg or isinstance(exc, EOFError):
            raise ImageError(f"{label}: file is truncated ({msg or 'unexpected end of data'})") from None
        raise ImageError(f"{label}: image data is corrupt ({msg})") from None
    return _from_pil(img, path, data, max_pixels, decode_notes, reduced)


def _orient(img: PILImage.Image, notes: list[str]) -> PILImage.Image:
    """Apply the EXIF orientation in place and say what was done; an invalid value is ignored, and said."""
    try:
        orientation = img.getexif().get(0x0112) if hasattr(img, "getexif") else None
    except Exception:  # noqa: BLE001 - a broken EXIF block must not lose the image
        notes.append("EXIF block unreadable: orientation not applied")
        return img
    if orientation in (None, 1):
        return img
    what = _ORIENTATION_NOTES.get(orientation) if isinstance(orientation, int) else None
    if what is None:
        notes.append(f"EXIF orientation {orientation!r} is not a valid value (1-8): ignored")
        return img
    try:
        ImageOps.exif_transpose(img, in_place=True)
    except Exception:  # noqa: BLE001 - a broken orientation tag must not lose the image
        notes.append(f"EXIF orientation {orientation} could not be applied: pixels as stored")
        return img
    notes.append(f"EXIF orientation {orientation} applied: {what}")
    return img


def _from_pil(
    img: PILImage.Image,
    path: str | None,
    data: bytes,
    max_pixels: int,
    decode_notes: list[str] | None = None,
    reduced: bool = False,
) -> Image:
    label = path or "input"
    w, h = img.size
    if w * h > max_pixels:
        _too_many(label, (w, h), max_pixels)
    if w < 1 or h < 1:
        raise ImageError(f"{label}: image has no pixels ({w}x{h})")
    notes: list[str] = list(decode_notes or [])
    n_frames = int(getattr(img, "n_frames", 1) or 1)
    if n_frames > 1:
        img.seek(0)
        kind = "MPO with" if img.format == "MPO" else "animated image with"
        notes.append(f"{kind} {n_frames} frames: analysed the first")
    fmt = img.format or ("array" if not data else "unknown")
    mode = img.mode
    metadata, text_notes = _metadata(img, data)
    notes.extend(text_notes)
    # an image decoded here is transposed in place; a caller's PIL image is copied first
    oriented = _orient(img.copy() if not data and _needs_orient(img) else img, notes)
    try:
        pixels = _to_rgb(oriented, notes)
    except (OSError, ValueError) as exc:
        raise ImageError(f"{label}: cannot convert {mode} pixels ({exc})") from None
    del oriented
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
        reduced=reduced,
    )


def _needs_orient(img: PILImage.Image) -> bool:
    try:
        return img.getexif().get(0x0112) in _ORIENTATION_NOTES
    except Exception:  # noqa: BLE001
        return False
