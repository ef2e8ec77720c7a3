"""NovelAI's "stealth" metadata: generation data hidden in the pixels' lowest bits.

NovelAI (and the ``stealth_pnginfo`` extension of the AUTOMATIC1111 web UI)
writes the metadata into the least significant bit of each pixel, so that it
survives sites that strip PNG text chunks (but not lossy re-encoding, resizing
or flattening the alpha channel). The layout:

* bits are read column by column (x outer, y inner), one per pixel from the
  alpha channel, or three (R, G, B) per pixel in the RGB variant;
* 15 bytes of magic: ``stealth_pnginfo`` / ``stealth_pngcomp`` (alpha),
  ``stealth_rgbinfo`` / ``stealth_rgbcomp`` (RGB); ``comp`` means gzip;
* a 32-bit big-endian length *in bits*, then the payload, bytes MSB first,
  UTF-8 (after gunzip): NovelAI's JSON or an A1111 ``parameters`` text.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from .inflate import TooLarge, inflate

MAGICS: dict[bytes, tuple[str, bool]] = {
    b"stealth_pnginfo": ("alpha", False),
    b"stealth_pngcomp": ("alpha", True),
    b"stealth_rgbinfo": ("rgb", False),
    b"stealth_rgbcomp": ("rgb", True),
}
MAGIC_BITS = 15 * 8
LENGTH_BITS = 32
MAX_PAYLOAD_BYTES = 2_000_000  # stored (possibly compressed) bytes we are willing to read
MAX_TEXT_BYTES = 4_000_000  # after inflation


@dataclass(frozen=True)
class Stealth:
    """What the low bits held."""

    channel: str  # "alpha" or "rgb"
    compressed: bool
    text: str
    stored_bytes: int


def lsb_stream(plane: np.ndarray, n_bits: int) -> np.ndarray:
    """The first ``n_bits`` lowest bits of ``plane`` (H, W) or (H, W, C), column by column.

    Only the columns needed are touched, so checking the magic of a large
    picture reads its first column or two.
    """
    h = plane.shape[0]
    per_column = h * (plane.shape[2] if plane.ndim == 3 else 1)
    cols = min(plane.shape[1], math.ceil(n_bits / max(1, per_column)))
    part = plane[:, :cols]
    order = (1, 0, 2) if part.ndim == 3 else (1, 0)
    return (np.transpose(part, order).reshape(-1)[:n_bits] & 1).astype(np.uint8)


def _bytes(bits: np.ndarray) -> bytes:
    return np.packbits(bits).tobytes()


def read_stealth(plane: np.ndarray, channel: str) -> Stealth | None:
    """Stealth metadata in ``plane`` (uint8 alpha (H, W) or RGB (H, W, 3)), or None.

    None when the magic is absent, the length is impossible, the payload is
    over :data:`MAX_PAYLOAD_BYTES`, or it would inflate past :data:`MAX_TEXT_BYTES`.
    """
    capacity = plane.size
    if capacity < MAGIC_BITS + LENGTH_BITS:
        return None
    head = lsb_stream(plane, MAGIC_BITS + LENGTH_BITS)
    kind = MAGICS.get(_bytes(head[:MAGIC_BITS]))
    if kind is None or kind[0] != channel:
        return None
    n_bits = int.from_bytes(_bytes(head[MAGIC_BITS:]), "big")
    if n_bits <= 0 or n_bits % 8 or n_bits > capacity - MAGIC_BITS - LENGTH_BITS \
            or n_bits // 8 > MAX_PAYLOAD_BYTES:
        return None
    bits = lsb_stream(plane, MAGIC_BITS + LENGTH_BITS + n_bits)[MAGIC_BITS + LENGTH_BITS:]
    payload = _bytes(bits)
    if kind[1]:
        try:
            payload = inflate(payload, MAX_TEXT_BYTES, container="gzip")
        except (zlib.error, TooLarge):
            return None
    return Stealth(channel, kind[1], payload.decode("utf-8", "replace"), n_bits // 8)


def write_stealth(plane: np.ndarray, text: str, *, compressed: bool = True, channel: str = "alpha") -> np.ndarray:
    """A copy of ``plane`` with ``text`` written into its lowest bits (the inverse of :func:`read_stealth`).

    For tests and demonstrations: it shows how easily such metadata is made.
    """
    import gzip

    data = gzip.compress(text.encode("utf-8")) if compressed else text.encode("utf-8")
    magic = next(m for m, (ch, comp) in MAGICS.items() if ch == channel and comp == compressed)
    message = magic + (len(data) * 8).to_bytes(4, "big") + data
    bits = np.unpackbits(np.frombuffer(message, np.uint8))
    if bits.size > plane.size:
        raise ValueError("the picture is too small to hold this text")
    order = (1, 0, 2) if plane.ndim == 3 else (1, 0)
    flat = np.transpose(plane, order).copy().reshape(-1)
    flat[: bits.size] = (flat[: bits.size] & 0xFE) | bits
    inverse = (1, 0, 2) if plane.ndim == 3 else (1, 0)
    shape = tuple(plane.shape[i] for i in order)
    return np.ascontiguousarray(np.transpose(flat.reshape(shape), inverse))


LOSSLESS_FORMATS = frozenset({"PNG", "WEBP", "TIFF", "BMP"})


def planes(data: bytes, fmt: str, has_alpha: bool, rgb: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """The planes stealth metadata may hide in: ``[(channel, plane)]``.

    Lossy formats (JPEG) keep no low bits, so they have none. ``rgb`` is the
    decoded picture; an image with transparency is decoded again from ``data``
    for its alpha channel (the shared pixels had it flattened onto white).
    """
    if fmt not in LOSSLESS_FORMATS:
        return []
    if not has_alpha:
        return [("rgb", rgb)]
    import io

    from PIL import Image as PILImage

    try:
        with PILImage.open(io.BytesIO(data)) as img:
            img.seek(0)
            rgba = np.asarray(img.convert("RGBA"))
    except Exception:  # undecodable here means no readable stealth data, never an error
        return []
    return [("alpha", rgba[..., 3]), ("rgb", rgba[..., :3])]
