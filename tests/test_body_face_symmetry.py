"""body.face-symmetry: drawn frontal faces with symmetric, one-sided and no glasses; yaw from the mesh."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image as PILImage

from telltales.analyses.landmarks import Face
from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.cues.body.face_symmetry import (
    MAX_YAW,
    MIN_FACE_WIDTH,
    bands,
    earrings,
    glasses,
    horizontal_edge_cover,
    rim_asymmetric,
    yaw,
)
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import all_cues

SYMMETRY = next(c for c in all_cues() if c.id == "body.face-symmetry")
SKIN, FRAME = (200, 160, 140), (30, 30, 35)


def face_mesh(width: float = 200.0, centre=(200.0, 200.0), nose_dx: float = 0.0) -> np.ndarray:
    """The mesh points the cue uses, for a frontal face ``width`` px wide (cheek to cheek)."""
    cx, cy = centre
    m = np.zeros((478, 3))
    m[:, :2] = centre
    s = width / 200.0
    m[234, :2], m[454, :2] = (cx - 100 * s, cy), (cx + 100 * s, cy)
    m[132, :2], m[361, :2] = (cx - 90 * s, cy + 50 * s), (cx + 90 * s, cy + 50 * s)
    m[1, :2] = (cx + nose_dx, cy + 20 * s)
    for outer, inner, lid, sign in ((33, 133, (145, 153, 144), -1), (263, 362, (374, 380, 373), 1)):
        m[outer, :2] = (cx + sign * 70 * s, cy - 30 * s)
        m[inner, :2] = (cx + sign * 25 * s, cy - 30 * s)
        for k, i in enumerate(lid):
            m[i, :2] = (cx + sign * (35 + 10 * k) * s, cy - 22 * s)
    return m


def drawn_face(frame: str = "both", width: float = 200.0, size: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """A skin-coloured face; ``frame``: "both" (glasses), "one" (lower rim under one eye only) or "none"."""
    import cv2

    img = np.zeros((size, size, 3), np.uint8)
    img[:] = (90, 110, 130)
    c = size // 2
    s = width / 200.0
    cv2.ellipse(img, (c, c), (int(105 * s), int(140 * s)), 0, 0, 360, SKIN, -1)
    for sign in (-1, 1):  # eyes
        cv2.ellipse(img, (int(c + sign * 47 * s), int(c - 30 * s)), (int(22 * s), int(8 * s)), 0, 0, 360, (240, 240, 235), -1)
    t = max(2, int(3 * s))
    if frame != "none":
        cv2.line(img, (int(c - 25 * s), int(c - 38 * s)), (int(c + 25 * s), int(c - 38 * s)), FRAME, t)  # bridge
        for sign in (-1, 1):
            x0, x1 = sorted((int(c + sign * 20 * s), int(c + sign * 80 * s)))
            cv2.line(img, (x0, int(c - 55 * s)), (x1, int(c - 55 * s)), FRAME, t)  # upper rim
            if frame == "both" or sign < 0:
                cv2.line(img, (x0, int(c - 5 * s)), (x1, int(c - 5 * s)), FRAME, t)  # lower rim
    img = np.clip(img + np.random.default_rng(0).normal(0, 2, img.shape), 0, 255).astype(np.uint8)
    return img, face_mesh(width, (float(c), float(c)))


def _gray(rgb: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def test_yaw_is_zero_for_a_frontal_face_and_grows_when_turned():
    assert yaw(face_mesh()) == pytest.approx(0.0)
    assert yaw(face_mesh(nose_dx=40.0)) == pytest.approx(0.2)


def test_horizontal_edge_cover():
    img = np.full((40, 60), 180, np.uint8)
    assert horizontal_edge_cover(img) == 0.0
    h = img.copy()
    h[20:23, :] = 30
    assert horizontal_edge_cover(h) > 0.9
    v = img.copy()
    v[:, 30:33] = 30
    assert horizontal_edge_cover(v) < 0.2


@pytest.mark.parametrize("frame, worn, flagged", [("both", True, False), ("one", True, True), ("none", False, False)])
def test_glasses_bridge_and_rims(frame, worn, flagged):
    rgb, mesh = drawn_face(frame)
    g = glasses(_gray(rgb), bands(mesh))
    assert not isinstance(g, str)
    assert (g["bridge"] >= 0.6) == worn
    assert rim_asymmetric(g) == flagged


def test_earrings_are_measured_on_both_sides():
    rgb, mesh = drawn_face("none")
    e = earrings(_gray(rgb), bands(mesh))
    assert not isinstance(e, str) and len(e["edges"]) == 2


def _analysis(rgb, mesh=None):
    buf = io.BytesIO()
    PILImage.fromarray(rgb).save(buf, "PNG")
    a = Analysis(load_image(buf.getvalue()))
    # the face mesh given directly (the landmark model is tested elsewhere): the cue's own logic is under test
    a._cache.update(faces=() if mesh is None else (Face((100.0, 60.0, 200.0, 280.0), 0.9, mesh),))
    return a


def test_cue_flags_a_one_sided_frame_and_boxes_both_rims():
    rgb, mesh = drawn_face("one")
    f, _ = run_cue(SYMMETRY, _analysis(rgb, mesh))
    assert f.status == Status.GENERATED and "glasses" in f.reason
    assert len(f.regions) == 2
    (x0, _, _, _), (x1, _, _, _) = (r.box for r in f.regions)
    assert x0 < 200 < x1  # one box under each eye


@pytest.mark.parametrize("frame", ["both", "none"])
def test_cue_clear_on_symmetric_faces(frame):
    rgb, mesh = drawn_face(frame)
    f, manual = run_cue(SYMMETRY, _analysis(rgb, mesh))
    assert f.status == Status.CLEAR
    # earrings and ears are left to a person: the face and both ear regions are boxed
    assert manual[0].cue == "body.face-symmetry" and len(manual[0].regions) == 3
    (_, ear_l), (_, ear_r) = ((r.label, r.box) for r in manual[0].regions[1:])
    assert ear_l[0] < 200 < ear_r[0]


@pytest.mark.parametrize("case, why", [("none", "no face"), ("turned", "turned sideways"), ("small", "px wide")])
def test_not_applicable(case, why):
    if case == "none":
        rgb, mesh = drawn_face("one")[0], None
    elif case == "turned":
        rgb, _ = drawn_face("one")
        mesh = face_mesh(centre=(200.0, 200.0), nose_dx=200 * (MAX_YAW + 0.05))
    else:
        rgb, mesh = drawn_face("one", width=MIN_FACE_WIDTH * 0.8)
    f, _ = run_cue(SYMMETRY, _analysis(rgb, mesh))
    assert f.status == Status.NOT_APPLICABLE and why in f.reason
