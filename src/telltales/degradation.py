"""Why an input may be too degraded to judge: tiny, heavily compressed, screenshot-like.

Used by ``inspect`` and the evaluation runner alike. The notes feed ``Fusion.combine(..., degraded=...)``, which
adds them to the reason an image is "unsure".
"""

from __future__ import annotations

import numpy as np

from .formats import jpeg
from .image import Image

TINY_SIDE = 256
LOW_QUALITY = 50


def jpeg_quality(data: bytes) -> int | None:
    """The libjpeg quality nearest to the file's quantisation, or None for a non-JPEG."""
    tables = jpeg.quantisation_tables(data)
    return jpeg.estimate_quality(tables) if tables else None


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
