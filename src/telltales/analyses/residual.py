"""The noise residual: what is left of an image once its content is removed.

Cameras leave sensor noise, demosaicing and JPEG traces in this residual;
generators leave the periodic fingerprints of their upsampling layers. The
residual is ``x - median3x3(x)`` of the luma, a cheap edge-preserving
denoiser (Corvi et al. 2023 use a learned one; the median keeps the
periodic patterns that matter here).

``residual`` (shared input) is computed at the working size; cues that need
the native pixel grid (where upsampling and JPEG-block traces live) read
``noise_tiles`` (native tiles and their luma, cut once per image) and call
:func:`highpass` on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis import Analysis, provider
from .pixels import luma


def highpass(gray: np.ndarray) -> np.ndarray:
    """``gray - median3x3(gray)`` as float32 (same units as ``gray``)."""
    import cv2

    g = np.ascontiguousarray(gray, dtype=np.float32)
    if min(g.shape) < 3:
        return np.zeros_like(g)
    return g - cv2.medianBlur(g, 3)


def native_crops(shape: tuple[int, int], size: int, max_tiles: int = 4) -> list[tuple[int, int]]:
    """Top-left corners (y, x) of up to ``max_tiles`` ``size``-pixel tiles, 8-aligned.

    Tiles are spread over the central part of the image (where the subject and
    the focus usually are), aligned to multiples of 8 so JPEG blocks keep
    their phase. Empty when the image is smaller than one tile.
    """
    h, w = shape
    if h < size or w < size:
        return []
    ny = min(2, h // size)
    nx = min(2, w // size)
    ys = np.linspace(0, h - size, ny + 2)[1:-1] if ny > 1 else [(h - size) / 2]
    xs = np.linspace(0, w - size, nx + 2)[1:-1] if nx > 1 else [(w - size) / 2]
    out = [(int(y) // 8 * 8, int(x) // 8 * 8) for y in ys for x in xs]
    return out[:max_tiles]


TILE = 256
MIN_TILE = 128


def tile_layout(shape: tuple[int, int]) -> tuple[int, list[tuple[int, int]]]:
    """The tile size (``TILE``, or ``MIN_TILE`` on small images) and its corners from :func:`native_crops`."""
    size = TILE if min(shape) >= TILE else MIN_TILE
    return size, native_crops(shape, size)


@dataclass(frozen=True, eq=False)
class NoiseTiles:
    """The native-resolution tiles the noise cues measure (:func:`tile_layout`), once per image."""

    size: int  # tile side, native px
    corners: list[tuple[int, int]]  # (y, x) of each tile
    crops: list[np.ndarray]  # uint8 RGB views of ``a.native``
    lumas: list[np.ndarray]  # their float32 luma

    def unmeasurable(self, image_size: tuple[int, int], what: str) -> str | None:
        """Why the noise cannot be measured on these tiles (``what``: "its noise", "its spectrum"), or None."""
        if not self.corners:
            w, h = image_size
            return f"image too small to measure {what} ({w}x{h} px)"
        if max(float(t.std()) for t in self.lumas) < 1.0:
            return "the image is flat: there is no noise to measure"
        return None


@provider("noise_tiles")
def noise_tiles(a: Analysis) -> NoiseTiles:
    """Up to four native-resolution tiles spread over the image's centre, with their luma."""
    px = a.get("native")
    size, corners = tile_layout(px.shape[:2])
    crops = [px[y : y + size, x : x + size] for y, x in corners]
    return NoiseTiles(size, corners, crops, [luma(c) for c in crops])


@provider("residual")
def residual(a: Analysis) -> np.ndarray:
    """float32 noise residual ``luma - median3x3(luma)`` of ``a.rgb``, in grey levels."""
    return highpass(luma(a.get("rgb")))
