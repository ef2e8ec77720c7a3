"""Views of an image for the CLIP backbone, and their features (a shared input).

Two kinds of view, both 224x224 and both taken from the image *without its
border* (``MARGIN`` of each side is never looked at, so a badge or sparkle a
generator or a platform pastes into a corner cannot be what the detector
answers to):

* the **global** view: the inner area resized (bicubic) so its short side is
  224, then centre-cropped. It sees the whole scene at CLIP's scale.
* **native** crops: 224x224 windows of the full-resolution pixels, never
  resampled, so the pixel-level traces generators leave survive. They sit at
  fixed relative positions inside the inner area (:data:`CROP_CENTRES`); an
  image whose inner area is smaller than 224 px has none.

Everything here is a pure function of the uint8 RGB array, so training
(``training/train_clip_detector.py``) and run time compute identical views.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image as PILImage

from ..analysis import Analysis, provider

SIZE = 224
MARGIN = 0.08  # share of each side left out of every view
# (y, x) centres of the native crops, as fractions of the inner area; the first
# two are what the detector was trained with, in this order
CROP_CENTRES: tuple[tuple[float, float], ...] = ((0.35, 0.35), (0.65, 0.65), (0.35, 0.65), (0.65, 0.35))
DEFAULT_CROPS = 2


@dataclass(frozen=True)
class Views:
    """uint8 crops (V, 224, 224, 3), their boxes (x, y, w, h) in the given pixels, their kinds."""

    crops: np.ndarray
    boxes: tuple[tuple[int, int, int, int], ...]
    kinds: tuple[str, ...]  # "global" or "native"


def inner_area(h: int, w: int) -> tuple[int, int, int, int]:
    """(y0, x0, y1, x1) of the image without its MARGIN border."""
    my, mx = int(round(h * MARGIN)), int(round(w * MARGIN))
    return my, mx, h - my, w - mx


def global_view(rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The inner area, short side resized to 224 (bicubic), centre crop; and its box."""
    y0, x0, y1, x1 = inner_area(*rgb.shape[:2])
    inner = rgb[y0:y1, x0:x1]
    h, w = inner.shape[:2]
    s = SIZE / min(h, w)
    nw, nh = max(SIZE, round(w * s)), max(SIZE, round(h * s))
    img = PILImage.fromarray(np.ascontiguousarray(inner)).resize((nw, nh), PILImage.Resampling.BICUBIC)
    left, top = (nw - SIZE) // 2, (nh - SIZE) // 2
    crop = np.asarray(img.crop((left, top, left + SIZE, top + SIZE)))
    # the box of the original pixels this view shows
    bw, bh = round(SIZE / s), round(SIZE / s)
    return crop, (x0 + round(left / s), y0 + round(top / s), min(bw, w), min(bh, h))


def crop_boxes(h: int, w: int, n: int = DEFAULT_CROPS) -> list[tuple[int, int, int, int]]:
    """Up to ``n`` native 224 windows (x, y, 224, 224) inside the inner area, distinct."""
    y0, x0, y1, x1 = inner_area(h, w)
    if y1 - y0 < SIZE or x1 - x0 < SIZE:
        return []
    boxes: list[tuple[int, int, int, int]] = []
    for fy, fx in CROP_CENTRES[:n]:
        cy, cx = y0 + fy * (y1 - y0), x0 + fx * (x1 - x0)
        top = int(np.clip(round(cy - SIZE / 2), y0, y1 - SIZE))
        left = int(np.clip(round(cx - SIZE / 2), x0, x1 - SIZE))
        box = (left, top, SIZE, SIZE)
        if box not in boxes:
            boxes.append(box)
    return boxes


def views(rgb: np.ndarray, n_crops: int = DEFAULT_CROPS) -> Views:
    """The global view and up to ``n_crops`` native crops of a uint8 RGB image."""
    g, gbox = global_view(rgb)
    boxes = crop_boxes(*rgb.shape[:2], n_crops)
    crops = [g] + [rgb[y : y + s, x : x + s] for x, y, s, _ in boxes]
    return Views(np.stack(crops), (gbox, *boxes), ("global",) + ("native",) * len(boxes))


@dataclass(frozen=True)
class ClipFeatures:
    views: Views
    features: np.ndarray  # (V, blocks, 2, 768) float32: CLS and patch mean per block


def clip_features(rgb: np.ndarray, n_crops: int = DEFAULT_CROPS) -> ClipFeatures:
    """Views of ``rgb`` and their backbone features, in one batch."""
    from ..backbone import load, normalise

    v = views(rgb, n_crops)
    return ClipFeatures(v, load().run(normalise(v.crops)))


@provider("clip")
def clip(a: Analysis) -> ClipFeatures:
    """Backbone features of the full-resolution image's views (raises BackboneMissing).

    The triage profile looks at the global view alone (one backbone run)."""
    return clip_features(a.native, 0 if a.profile == "triage" else DEFAULT_CROPS)
