"""Fixtures made in code: no test reads ../shared."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image as PILImage

from telltales.example import picture


def encode(pil: PILImage.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    pil.save(buf, fmt, **kw)
    return buf.getvalue()


def _noise(h: int, w: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def contract_images() -> dict[str, bytes]:
    """The images every cue must survive: blank, noise, gradient, photo-like, tiny, huge, JPEG."""
    grad = np.linspace(0, 255, 256 * 256 * 3).reshape(256, 256, 3).astype(np.uint8)
    return {
        "blank": encode(PILImage.new("RGB", (128, 96), (255, 255, 255))),
        "noise": encode(PILImage.fromarray(_noise(200, 300))),
        "gradient": encode(PILImage.fromarray(grad)),
        "photo-like-jpeg": encode(picture(640, 480), "JPEG", quality=90),
        "tiny-8x8": encode(PILImage.fromarray(_noise(8, 8, 2))),
        "huge": encode(picture(4000, 3000), "JPEG", quality=85),
        "grey-1px": encode(PILImage.new("L", (1, 1), 128)),
    }


@pytest.fixture(scope="session")
def images() -> dict[str, bytes]:
    return contract_images()
