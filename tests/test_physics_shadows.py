"""physics.shadows and physics.reflections: pointers for a person, never a verdict."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage

from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import get


def png(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    PILImage.fromarray(img).convert("RGB").save(buf, "PNG")
    return buf.getvalue()


def sunny_scene(shadow: bool = True) -> bytes:
    """A bright ground with a post and, in sunlight, its sharp shadow falling to the right."""
    img = np.full((480, 640), 200, np.uint8)
    img[:160] = 235  # sky
    cv2.rectangle(img, (200, 120), (230, 380), 120, -1)  # the post
    if shadow:
        cv2.fillConvexPoly(img, np.array([[200, 380], [230, 380], [520, 440], [480, 450]]), 60)
    return png(img)


def run(cue_id: str, data: bytes):
    return run_cue(get(cue_id), Analysis(load_image(data)))


def test_a_sharp_cast_shadow_is_boxed_for_a_person():
    f, manual = run("physics.shadows", sunny_scene())
    assert f.status == Status.NOT_APPLICABLE  # the cue points, it does not judge
    assert len(manual) == 1 and manual[0].regions
    x, y, w, h = manual[0].regions[0].box
    assert 180 <= x <= 260 and 360 <= y <= 420 and x + w >= 470  # the shadow, not the post
    assert "meet in one point" in manual[0].guidance


@pytest.mark.parametrize("data", [sunny_scene(shadow=False), png(np.full((300, 400), 128, np.uint8))])
def test_no_shadow_keeps_the_general_guidance(data):
    f, manual = run("physics.shadows", data)
    assert f.status == Status.NOT_APPLICABLE
    assert len(manual) == 1 and not manual[0].regions and manual[0].guidance


def lake(mirrored: bool = True) -> bytes:
    """Trees and houses above a horizon at row 240; below, their reflection (darker, softer) or noise."""
    rng = np.random.default_rng(4)
    top = np.full((240, 640), 190, np.float32)
    for _ in range(25):
        x, w, hgt = rng.integers(0, 620), rng.integers(6, 30), rng.integers(40, 200)
        top[240 - hgt:, x:x + w] = rng.integers(30, 150)
    below = cv2.GaussianBlur(top[::-1] * 0.7, (0, 0), 1.5) if mirrored else rng.uniform(60, 140, (240, 640))
    return png(np.clip(np.vstack([top, below]), 0, 255).astype(np.uint8))


def test_a_reflection_is_boxed_for_a_person():
    f, manual = run("physics.reflections", lake())
    assert f.status == Status.NOT_APPLICABLE
    assert manual and len(manual[0].regions) == 2
    assert abs(f.details["axis_row"] - 240) <= 8


def test_no_reflection_is_not_pointed_at():
    f, manual = run("physics.reflections", lake(mirrored=False))
    assert f.status == Status.NOT_APPLICABLE
    assert manual and not manual[0].regions
