"""details.texture: shaded surfaces with and without grain, made in the test."""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image as PILImage

from telltales.analysis import Analysis
from telltales.cues.text_noise import texture
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import get

CUE = get("details.texture")


def _airbrushed(h: int = 480, w: int = 640) -> np.ndarray:
    """Large, softly shaded shapes with no grain at all: a plastic rendering."""
    rng = np.random.default_rng(1)
    x = rng.normal(128, 60, (h // 16, w // 16)).astype(np.float32)
    x = cv2.resize(x, (w, h), interpolation=cv2.INTER_CUBIC)
    x = cv2.GaussianBlur(x, (0, 0), 12)
    x = (x - x.min()) / (x.max() - x.min()) * 180 + 40
    return np.repeat(x[..., None], 3, axis=2)


def _run(px: np.ndarray):
    buf = io.BytesIO()
    PILImage.fromarray(np.clip(np.rint(px), 0, 255).astype(np.uint8)).save(buf, "PNG")
    return CUE.func(Analysis(load_image(buf.getvalue())))


def test_grainless_shading_is_over_smooth():
    r = _run(_airbrushed())
    assert r.details["smooth_share"] >= texture.SMOOTH_SHARE
    assert r.status == Status.GENERATED
    assert 0 < r.strength <= texture.STRENGTH_CAP
    assert r.manual and r.manual[0].regions == r.regions
    assert r.regions and r.regions[0].label == "largest over-smooth area"
    x, y, w, h = r.regions[0].box
    assert w > 0 and h > 0 and x + w <= 640 and y + h <= 480


def test_the_same_shading_with_sensor_grain_is_clear():
    noisy = _airbrushed() + np.random.default_rng(2).normal(0, 3, (480, 640, 1))
    r = _run(noisy)
    assert r.details["smooth_share"] < 0.1
    assert r.status == Status.CLEAR


def test_mostly_smooth_image_asks_for_a_look_without_evidence():
    px = _airbrushed()
    px[:, 512:] += np.random.default_rng(3).normal(0, 3, (480, 128, 1))  # grain on the right fifth
    r = _run(px)
    assert texture.MANUAL_SHARE <= r.details["smooth_share"] < texture.SMOOTH_SHARE
    assert r.status == Status.CLEAR
    assert r.manual and r.manual[0].cue == "details.texture"
    x, _, w, _ = r.regions[0].box
    assert x + w <= 512  # the marked area is the grainless part


def test_grain_everywhere_raises_no_manual_check():
    px = _airbrushed() + np.random.default_rng(4).normal(0, 3, (480, 640, 1))
    assert not _run(px).manual


def test_flat_image_is_not_applicable():
    assert _run(np.full((256, 256, 3), 128.0)).status == Status.NOT_APPLICABLE
