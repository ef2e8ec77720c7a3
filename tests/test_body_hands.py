"""body.hands: protrusions of a drawn hand silhouette; joint angles from 3-D landmarks."""

from __future__ import annotations

import numpy as np
import pytest
from test_body_drawings import drawn_hand

from telltales.cues.body.hands import backward_bends, count_protrusions, judge_hand


@pytest.mark.parametrize("fingers", [3, 4, 5, 6, 7])
@pytest.mark.parametrize("size", [120, 240])
def test_protrusions_on_a_mask(fingers, size):
    _, mask, _, centre, palm = drawn_hand(fingers, size)
    got = count_protrusions(mask, centre, palm)
    assert not isinstance(got, str)
    assert got.protrusions == fingers


def test_six_fingered_hand_is_flagged_and_five_is_not():
    rgb, _, lm, _, _ = drawn_hand(6)
    issues, details = judge_hand(rgb, lm, np.zeros((21, 3)))
    assert details["protrusions"] == 6
    assert issues == ["six finger-like protrusions on one hand"]
    x, y, w, h = details["silhouette_box"]  # the box covers the sixth finger, which no landmark marks
    assert x < lm[:, 0].min() - 10 and w > np.ptp(lm[:, 0]) + 20
    rgb, _, lm, _, _ = drawn_hand(5)
    issues, details = judge_hand(rgb, lm, np.zeros((21, 3)))
    assert details["protrusions"] == 5 and issues == []


def test_hand_on_skin_coloured_background_is_not_judged():
    rgb, _, lm, _, _ = drawn_hand(6, background=(200, 160, 140))
    assert isinstance(judge_hand(rgb, lm, np.zeros((21, 3))), str)


def _world_hand(bends_deg: dict[str, float]) -> np.ndarray:
    """Flat hand in the x-y plane, fingers along +y; each finger curls by the given angle at PIP and DIP (+ = palm side)."""
    pts = np.zeros((21, 3))
    bases = {"thumb": (1, -0.04), "index": (5, -0.03), "middle": (9, -0.01), "ring": (13, 0.01), "little": (17, 0.03)}
    for name, (first, x) in bases.items():
        p = np.array([x, 0.08, 0.0])
        d = np.array([0.0, 1.0, 0.0])
        pts[first] = p
        for k in range(1, 4):
            if k >= 2:
                a = np.radians(bends_deg.get(name, 30.0))
                d = np.array([0.0, d[1] * np.cos(a) - d[2] * np.sin(a), d[1] * np.sin(a) + d[2] * np.cos(a)])
            p = p + 0.025 * d
            pts[first + k] = p
    return pts


def test_backward_bent_finger_is_reported():
    assert backward_bends(_world_hand({})) == []
    bent = backward_bends(_world_hand({"index": -80.0}))
    assert [name for name, _ in bent] == ["index", "index"]
    assert all(abs(ang - 80) < 1 for _, ang in bent)


def test_hand_touching_another_hand_is_not_judged():
    rgb, _, lm, _, _ = drawn_hand(6)
    other = lm[1:6, :2] + 2.0  # another hand's landmarks lying on this silhouette
    assert judge_hand(rgb, lm, np.zeros((21, 3)), other) == "hand outline unusable: the hand touches another hand or a face"
