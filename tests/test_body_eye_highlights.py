"""body.eye-highlights: aligned corneal highlights (Hu, Li, Lyu 2021) on drawn eyes."""

from __future__ import annotations

import numpy as np
from test_body_drawings import drawn_eye

from telltales.cues.body.eye_highlights import GRID, compare_eyes, highlight_iou


def test_known_iou_of_two_masks():
    valid = np.ones((GRID, GRID), bool)
    a = np.zeros_like(valid)
    b = np.zeros_like(valid)
    a[10:20, 10:20] = True
    b[10:20, 15:25] = True  # half overlap: 50 / 150
    p = highlight_iou(a, b, valid)
    assert abs(p.iou - 1 / 3) < 1e-9
    assert abs(p.offset - 5 / (GRID / 2)) < 1e-9


def _pair(hl_a, hl_b, shape_a="dot", shape_b="dot", ra=20.0, rb=21.0):
    ea = drawn_eye("round", ra, seed=1, highlight=hl_a, highlight_shape=shape_a)
    eb = drawn_eye("round", rb, seed=2, highlight=hl_b, highlight_shape=shape_b)
    return compare_eyes(ea[0], ea[1], ea[2], eb[0], eb[1], eb[2], ea[3], eb[3])


def test_matching_highlights_overlap():
    p = _pair((0.3, -0.3), (0.3, -0.3))
    assert not isinstance(p, str)
    assert p.iou > 0.6 and p.offset < 0.1 and not p.mismatch


def test_highlights_in_different_places_and_shapes_do_not():
    p = _pair((0.5, -0.4), (-0.55, 0.45), "dot", "bar")
    assert not isinstance(p, str)
    assert p.iou == 0.0 and p.offset > 1.0 and p.mismatch


def test_no_highlights_is_not_judged():
    assert isinstance(_pair(None, None), str)


def test_turned_face_is_not_judged():
    assert "turned" in _pair((0.3, -0.3), (0.3, -0.3), ra=20.0, rb=12.0)
