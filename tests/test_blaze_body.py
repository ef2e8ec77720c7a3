"""analyses.blaze_body: mediapipe's hand and pose pre/post-processing, known answers (no mediapipe)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from telltales import landmark_models
from telltales.analyses import blaze
from telltales.analyses import blaze_body as bb
from telltales.example import picture


def test_palm_and_pose_anchor_counts_and_centres():
    palm = blaze.ssd_anchors(bb.PALM_ANCHORS)
    pose = blaze.ssd_anchors(bb.POSE_ANCHORS)
    assert palm.shape == (2016, 4) and pose.shape == (2254, 4)
    np.testing.assert_array_equal(palm[:, 2:], 1.0)  # fixed anchor size
    palm, pose = palm[:, :2], pose[:, :2]
    # palm: 24x24 cells x 2 anchors, then 12x12 cells x 6 (three stride-16 layers share one map)
    np.testing.assert_allclose(palm[0], [0.5 / 24, 0.5 / 24])
    np.testing.assert_allclose(palm[1], palm[0])
    np.testing.assert_allclose(palm[2], [1.5 / 24, 0.5 / 24])
    np.testing.assert_allclose(palm[1152], [0.5 / 12, 0.5 / 12])
    np.testing.assert_allclose(palm[1152 + 5], palm[1152])
    np.testing.assert_allclose(palm[-1], [11.5 / 12, 11.5 / 12])
    # pose: 28x28x2 + 14x14x2 + 7x7x6
    np.testing.assert_allclose(pose[28 * 28 * 2 + 14 * 14 * 2], [0.5 / 7, 0.5 / 7])


def test_palm_and_pose_rects_rotation_shift_and_square():
    # wrist below the middle-finger base: upright, no rotation; shift -0.5 moves up by half the height
    kp = np.array([[200.0, 240.0], [0, 0], [200.0, 160.0]])
    r = bb.palm_rect(np.array([160.0, 180.0, 240.0, 220.0]), kp)
    assert r.rotation == pytest.approx(0.0)
    assert (r.cx, r.cy) == pytest.approx((200.0, 200.0 - 0.5 * 40))
    assert (r.w, r.h) == pytest.approx((80 * 2.6, 80 * 2.6))  # square on the long side, then scaled
    # pointing right: the rect turns by +90 degrees and the shift goes along the rotated y (to the right)
    kp = np.array([[160.0, 200.0], [0, 0], [240.0, 200.0]])
    r = bb.palm_rect(np.array([180.0, 160.0, 220.0, 240.0]), kp)
    assert r.rotation == pytest.approx(math.pi / 2)
    assert (r.cx, r.cy) == pytest.approx((200.0 + 0.5 * 80, 200.0))
    assert (r.w, r.h) == pytest.approx((80 * 2.6, 80 * 2.6))
    # pose: centred on keypoint 0, side twice the distance to keypoint 1, x1.25
    r = bb.pose_rect(np.array([[200.0, 200.0], [200.0, 100.0]]))
    assert (r.cx, r.cy, r.w, r.h, r.rotation) == pytest.approx((200, 200, 250, 250, 0))


def test_rotate_world_turns_x_and_y_only():
    world = np.array([[1.0, 0.0, 0.3], [0.0, 2.0, -0.1]])
    out = bb.rotate_world(world, math.pi / 2)  # clockwise on screen (y down): +x -> +y
    np.testing.assert_allclose(out, [[0.0, 1.0, 0.3], [-2.0, 0.0, -0.1]], atol=1e-12)


def test_association_keeps_the_later_of_two_overlapping_rects():
    a, b, c = blaze.Rect(100, 100, 50, 50), blaze.Rect(102, 101, 50, 50), blaze.Rect(300, 300, 50, 50)
    assert bb.associate([a, b, c]) == [b, c]


def test_heatmap_refinement_moves_to_the_peak_only_when_confident():
    hm = np.full((64, 64, 2), -10.0, np.float32)
    hm[20, 30, 0] = 10.0  # landmark 0: a sharp peak at column 30, row 20
    pts = np.array([[31.5 / 64, 21.2 / 64, 0.0], [0.5, 0.5, 0.0]])
    out = bb.refine_from_heatmap(pts, hm, 7, 0.5)
    assert out[0, :2] == pytest.approx((30 / 64, 20 / 64), abs=1e-3)
    np.testing.assert_allclose(out[1], pts[1])  # landmark 1: nothing confident, unchanged


@pytest.mark.skipif(not landmark_models.available(), reason="landmark models not installed")
def test_no_hands_and_no_pose_on_the_example_picture():
    rgb = np.asarray(picture(640, 480).convert("RGB"))
    assert bb.hands(rgb) == []
    assert bb.pose(rgb) is None
