"""Why an input may be too degraded to judge: tiny, heavily compressed, screenshot-like.

Used by ``inspect`` and the evaluation runner alike. The notes feed ``Fusion.combine(..., degraded=...)``, which
adds them to the reason an image is "unsure".
"""

from __future__ import annotations

import numpy as np

from .formats import jpeg
from .image import Image

# IJG (libjpeg) standard luminance table, natural order; quality q scales it.
_STD_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
], dtype=float)

TINY_SIDE = 256
LOW_QUALITY = 50


def ijg_table(quality: int) -> np.ndarray:
    """The luminance table libjpeg writes at ``quality`` (1-100)."""
    q = min(100, max(1, quality))
    scale = 5000 / q if q < 50 else 200 - 2 * q
    return np.clip(np.floor((_STD_LUMA * scale + 50) / 100), 1, 255)


def jpeg_quality(data: bytes) -> int | None:
    """The libjpeg quality whose luminance table is closest in total size to the file's, or None.

    Compares sums, so the zig-zag order of stored tables does not matter. Encoders with
    their own tables (cameras, Photoshop) get the nearest libjpeg equivalent.
    """
    tables = jpeg.quantisation_tables(data)
    if not tables:
        return None
    luma = np.asarray(tables.get(0, next(iter(tables.values()))), dtype=float)
    if luma.size != 64:
        return None
    total = luma.sum()
    sums = np.array([ijg_table(q).sum() for q in range(1, 101)])
    return int(np.argmin(np.abs(sums - total)) + 1)


def flat_block_share(pixels: np.ndarray, block: int = 8, max_blocks: int = 40_000) -> float:
    """Share of 8x8 blocks with no variation at all (typical of screenshots and graphics).

    On large images an evenly spread sample of about ``max_blocks`` blocks is checked.
    """
    g = pixels[..., 1] if pixels.ndim == 3 else pixels
    h, w = (g.shape[0] // block) * block, (g.shape[1] // block) * block
    if h == 0 or w == 0:
        return 0.0
    b = g[:h, :w].reshape(h // block, block, w // block, block)
    step = max(1, int(np.ceil(np.sqrt(b.shape[0] * b.shape[2] / max_blocks))))
    b = b[::step, :, ::step, :]
    return float((b.max(axis=(1, 3)) == b.min(axis=(1, 3))).mean())


def degradation_notes(image: Image) -> list[str]:
    """Plain-language notes on why this input is hard to judge (empty when it is fine)."""
    notes: list[str] = []
    if max(image.size) < TINY_SIDE:
        notes.append(f"tiny image ({image.width}x{image.height})")
    if jpeg.is_jpeg(image.data):
        q = jpeg_quality(image.data)
        if q is not None and q < LOW_QUALITY:
            notes.append(f"heavily compressed (JPEG quality about {q})")
    flat = flat_block_share(image.pixels)
    if flat > 0.5:
        notes.append(f"screenshot-like: {flat:.0%} of the image is perfectly flat areas")
    return notes
