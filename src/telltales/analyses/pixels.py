"""Pixel planes every pixel cue shares."""

from __future__ import annotations

import numpy as np
from PIL import Image as PILImage

from ..analysis import Analysis, provider


def luma(rgb: np.ndarray) -> np.ndarray:
    """float32 Rec. 601 luma of uint8 RGB, in grey levels (0-255)."""
    x = rgb.astype(np.float32)
    return x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114


def unit_luma(rgb: np.ndarray) -> np.ndarray:
    """float32 Rec. 601 luma of uint8 RGB, in 0-1 (the ``gray`` input's scale)."""
    x = rgb.astype(np.float32) / 255.0
    return x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114


@provider("raw")
def raw(a: Analysis) -> bytes:
    """The file's bytes, exactly as read."""
    return a.image.data


@provider("metadata")
def metadata(a: Analysis):
    """Metadata blocks (EXIF, XMP, PNG text, comments) as stored."""
    return a.image.metadata


@provider("native")
def native(a: Analysis) -> np.ndarray:
    """Full-resolution uint8 RGB, oriented."""
    return a.image.pixels


@provider("rgb")
def rgb(a: Analysis) -> np.ndarray:
    """uint8 RGB at the working size (long side <= working_size), area-averaged."""
    px = a.image.pixels
    s = a.scale
    if s >= 1.0:
        return px
    h, w = px.shape[:2]
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return np.asarray(PILImage.fromarray(px).resize(size, PILImage.Resampling.BOX))


@provider("gray")
def gray(a: Analysis) -> np.ndarray:
    """float32 luma (Rec. 601) in 0-1 at the working size."""
    return unit_luma(a.get("rgb"))
