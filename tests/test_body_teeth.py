"""body.teeth: a drawn open mouth with teeth separated by dark gaps, a smeared row, too many narrow teeth."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image as PILImage

from telltales.analyses.landmarks import Face
from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.cues.body.teeth import (
    LOWER_INNER,
    MIN_MOUTH_PX,
    UPPER_INNER,
    judge_row,
    level_mouth,
    mouth_opening,
    mouth_polygon,
    teeth_mask,
    tooth_row,
)
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import all_cues

TEETH = next(c for c in all_cues() if c.id == "body.teeth")
SKIN, LIP, INSIDE, TOOTH, GAP = (200, 160, 140), (170, 60, 70), (50, 20, 25), (235, 230, 220), (120, 100, 95)


def drawn_mouth(width: float = 200.0, opening: float = 0.35, tooth_w: float | None = 26.0, tilt_deg: float = 0.0,
                size: tuple[int, int] = (400, 300), row: float = 0.8):
    """Skin, red lips, an open mouth (ellipse) with a row of upper teeth; dark gaps every ``tooth_w`` px.

    ``tooth_w=None``: one white band without gaps (a smeared row). Returns (rgb, 478-point mesh, gap x positions).
    """
    W, H = size
    cx, cy = W / 2, H / 2
    a, b = width / 2, width * opening / 2
    yy, xx = np.mgrid[0:H, 0:W].astype(float)
    t = np.radians(tilt_deg)
    u = (xx - cx) * np.cos(t) + (yy - cy) * np.sin(t)  # along the mouth
    v = -(xx - cx) * np.sin(t) + (yy - cy) * np.cos(t)  # across it
    img = np.zeros((H, W, 3))
    img[:] = SKIN
    img[(u / (a * 1.15)) ** 2 + (v / (b + 0.12 * width)) ** 2 < 1] = LIP
    inside = (u / a) ** 2 + (v / b) ** 2 < 1
    img[inside] = INSIDE
    teeth = inside & (v < b * 0.1) & (np.abs(u) < a * row)
    img[teeth] = TOOTH
    gaps = []
    if tooth_w is not None:
        k = np.arange(-10, 11) * tooth_w
        gaps = [float(g) for g in k if abs(g) < a * row - 4]
        for g in gaps:
            img[teeth & (np.abs(u - g) < 1.5)] = GAP
    img += np.random.default_rng(0).normal(0, 2, img.shape)
    mesh = np.zeros((478, 3))
    ring = list(UPPER_INNER) + list(LOWER_INNER)
    angles = np.r_[np.linspace(np.pi, 0, len(UPPER_INNER)), np.linspace(0, np.pi, len(LOWER_INNER) + 2)[1:-1]]
    for i, ang in zip(ring, angles, strict=True):
        pu, pv = a * np.cos(ang), -b * np.sin(ang) if i in UPPER_INNER else b * np.sin(ang)
        mesh[i, :2] = (cx + pu * np.cos(t) - pv * np.sin(t), cy + pu * np.sin(t) + pv * np.cos(t))
    return np.clip(img, 0, 255).astype(np.uint8), mesh, gaps


def _row(rgb, mesh):
    crop, inside = level_mouth(rgb, mouth_polygon(mesh))
    return tooth_row(crop, teeth_mask(crop, inside), float(np.linalg.norm(mesh[78, :2] - mesh[308, :2])))


def test_mouth_opening_is_the_lip_gap_per_width():
    _, mesh, _ = drawn_mouth(opening=0.35)
    assert mouth_opening(mesh) == pytest.approx(0.35, abs=0.01)
    assert mouth_polygon(mesh).shape == (20, 2)


@pytest.mark.parametrize("tilt", [0.0, 12.0])
def test_gaps_between_teeth_are_found(tilt):
    rgb, mesh, gaps = drawn_mouth(tooth_w=26.0, tilt_deg=tilt)
    row = _row(rgb, mesh)
    assert not isinstance(row, str)
    assert len(row.boundaries) == len(gaps)
    assert np.allclose(row.widths, 26.0, atol=2.0)
    assert row.median_share == pytest.approx(0.13, abs=0.01)
    assert judge_row(row) == []


def test_a_row_without_gaps_is_smeared():
    rgb, mesh, _ = drawn_mouth(width=260.0, tooth_w=None)
    row = _row(rgb, mesh)
    assert not isinstance(row, str)
    assert row.boundaries == () and row.expected_teeth > 6
    assert "smeared" in judge_row(row)[0]


def test_a_short_row_without_gaps_is_not_called_smeared():
    rgb, mesh, _ = drawn_mouth(width=200.0, tooth_w=None, row=0.6)
    row = _row(rgb, mesh)
    assert not isinstance(row, str) and row.expected_teeth < 6 and judge_row(row) == []


def test_far_too_many_narrow_teeth():
    rgb, mesh, _ = drawn_mouth(width=300.0, tooth_w=10.0)
    row = _row(rgb, mesh)
    assert not isinstance(row, str)
    assert row.median_share == pytest.approx(10 / 300, abs=0.005)
    assert "too many and narrow" in judge_row(row)[0]


def test_mouth_without_teeth_has_no_row():
    rgb, mesh, _ = drawn_mouth()
    rgb[(rgb == rgb).all(-1) & (np.abs(rgb.astype(int) - TOOTH).sum(-1) < 40)] = INSIDE
    assert isinstance(_row(rgb, mesh), str)


def _analysis(rgb, mesh=None):
    buf = io.BytesIO()
    PILImage.fromarray(rgb).save(buf, "PNG")
    a = Analysis(load_image(buf.getvalue()))
    # the face mesh given directly (the landmark model is tested elsewhere): the cue's own logic is under test
    faces = () if mesh is None else (Face((100.0, 50.0, 200.0, 200.0), 0.9, mesh),)
    a._cache.update(faces=faces)
    return a


def test_cue_flags_a_smeared_row_with_the_mouth_boxed():
    rgb, mesh, _ = drawn_mouth(width=260.0, tooth_w=None)
    f, _ = run_cue(TEETH, _analysis(rgb, mesh))
    assert f.status == Status.GENERATED and "smeared" in f.reason
    x, y, w, h = f.regions[0].box
    assert abs(x - 70) <= 2 and abs(w - 260) <= 3


def test_cue_clear_on_normal_teeth():
    rgb, mesh, _ = drawn_mouth()
    f, manual = run_cue(TEETH, _analysis(rgb, mesh))
    assert f.status == Status.CLEAR and f.details["faces"][0]["boundaries"] >= 4
    assert manual[0].cue == "body.teeth" and len(manual[0].regions) == 1


@pytest.mark.parametrize("kind, why", [("none", "no face"), ("closed", "mouth closed"), ("small", "px wide")])
def test_not_applicable(kind, why):
    if kind == "none":
        rgb, mesh = drawn_mouth()[0], None
    elif kind == "closed":
        rgb, mesh, _ = drawn_mouth(opening=0.05)
    else:
        rgb, mesh, _ = drawn_mouth(width=MIN_MOUTH_PX * 0.8, size=(120, 90))
    f, _ = run_cue(TEETH, _analysis(rgb, mesh))
    assert f.status == Status.NOT_APPLICABLE and why in f.reason
