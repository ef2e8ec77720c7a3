"""One degradation pipeline for both classes: what an image may go through before anyone checks it.

``augment`` takes oriented uint8 RGB pixels and returns the JPEG (or PNG) bytes
of a randomly degraded copy: sometimes cropped, usually shrunk (never
enlarged) with a random filter, sometimes blurred or given sensor-like noise,
usually JPEG-compressed at quality 60-100. Real photos and generated images go
through exactly the same draws, so neither format, size nor compression can
separate the classes in training.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image as PILImage
from PIL import ImageFilter

FILTERS = (PILImage.Resampling.BOX, PILImage.Resampling.BILINEAR,
           PILImage.Resampling.BICUBIC, PILImage.Resampling.LANCZOS)
VERSION = "1"


def augment(rgb: np.ndarray, rng: np.random.Generator) -> bytes:
    img = PILImage.fromarray(rgb)
    w, h = img.size
    if rng.random() < 0.4:  # crop: keep 60-100% of each side
        cw, ch = int(w * rng.uniform(0.6, 1.0)), int(h * rng.uniform(0.6, 1.0))
        x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        img = img.crop((x, y, x + cw, y + ch))
        w, h = img.size
    if rng.random() < 0.75:  # shrink, never enlarge: long side to 256..1280 px, at most 1x
        target = rng.uniform(256, 1280)
        s = min(1.0, target / max(w, h))
        if min(w, h) * s >= 160 and s < 0.999:
            img = img.resize((round(w * s), round(h * s)), FILTERS[int(rng.integers(len(FILTERS)))])
    if rng.random() < 0.15:
        img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.0))))
    if rng.random() < 0.15:
        px = np.asarray(img).astype(np.float32)
        px += rng.normal(0.0, float(rng.uniform(1.0, 3.0)), px.shape)
        img = PILImage.fromarray(np.clip(np.rint(px), 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    if rng.random() < 0.85:
        img.save(buf, "JPEG", quality=int(rng.integers(60, 101)), subsampling=2 if rng.random() < 0.8 else 0)
    else:
        img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()
