"""Landmark providers and the body cues on images without people."""

from __future__ import annotations

import io

import numpy as np
import pytest
from test_body_drawings import drawn_eye

from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.cues.body.eye_colour import DISTANCE_THRESHOLD, colour_distance, iris_colour
from telltales.example import picture
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import all_cues

BODY = [c for c in all_cues() if c.id.startswith("body.")]


@pytest.fixture(scope="module")
def landscape():
    buf = io.BytesIO()
    picture(640, 480).save(buf, "JPEG", quality=90)
    return load_image(buf.getvalue())


def test_no_people_gives_empty_landmarks(landscape):
    a = Analysis(landscape)
    assert a.faces == () and a.hands == () and a.eyes == () and a.pose == ()


@pytest.mark.parametrize("c", BODY, ids=[c.id for c in BODY])
def test_body_cue_without_people_is_not_applicable(c, landscape):
    f, _ = run_cue(c, Analysis(landscape))
    assert f.status == Status.NOT_APPLICABLE
    assert "no " in f.reason


def test_registered_body_cues():
    ids = {c.id for c in BODY}
    assert {"body.hands", "body.pupils", "body.eye-highlights", "body.eye-colour"} <= ids
    assert "body.animals" in ids  # a pointer only: boxes cat faces for a manual check, never evidence


def test_iris_colour_brown_vs_blue():
    brown = iris_colour(*drawn_eye(iris_rgb=(120, 80, 45), seed=1))
    blue = iris_colour(*drawn_eye(iris_rgb=(70, 110, 170), seed=2))
    darker_brown = iris_colour(*drawn_eye(iris_rgb=(90, 60, 34), seed=3))
    assert colour_distance(brown, blue) > DISTANCE_THRESHOLD
    assert colour_distance(brown, darker_brown) < DISTANCE_THRESHOLD / 2
    assert np.isfinite(brown.lab).all()


def test_eye_crop_is_cut_at_full_resolution_and_boxed_in_working_pixels():
    from telltales.analyses.landmarks import EYE_A_CONTOUR, IRIS_A, _eye

    rgb, (cx, cy), r, _ = drawn_eye(radius=20.0)
    native = np.zeros((400, 600, 3), np.uint8)
    native[100:100 + rgb.shape[0], 300:300 + rgb.shape[1]] = rgb
    scale = 0.5  # working = native / 2
    pts = np.zeros((478, 3))
    centre = np.array([300 + cx, 100 + cy])
    pts[IRIS_A[0], :2] = centre * scale
    for k, (dx, dy) in zip(IRIS_A[1:], [(1, 0), (0, 1), (-1, 0), (0, -1)], strict=True):
        pts[k, :2] = (centre + r * np.array([dx, dy])) * scale
    for k, t in zip(EYE_A_CONTOUR, np.linspace(0, 2 * np.pi, len(EYE_A_CONTOUR), endpoint=False), strict=True):
        pts[k, :2] = (centre + np.array([2 * r * np.cos(t), 1.1 * r * np.sin(t)])) * scale
    eye = _eye(native, scale, 0, pts, IRIS_A, EYE_A_CONTOUR)
    assert eye is not None
    assert abs(eye.radius - r) < 0.5
    # the crop's iris centre is the drawn one, in native pixels
    assert np.allclose(np.array(eye.centre) + (eye.box[0] / scale, eye.box[1] / scale), centre, atol=1.0)
    assert eye.opening[int(eye.centre[1]), int(eye.centre[0])]
    assert eye.crop[int(eye.centre[1]), int(eye.centre[0])].sum() < 100  # the pupil
