"""analyses.blaze_body: mediapipe's hand and pose pre/post-processing, known answers (no mediapipe)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from telltales import landmark_models
from telltales.analyses import blaze_body as bb
from telltales.example import picture


def test_anchor_counts_and_centres():
    palm = bb.ssd_anchors((192, 192), bb.PALM_STRIDES)
    pose = bb.ssd_anchors((224, 224), bb.POSE_STRIDES)
    assert palm.shape == (2016, 2) and pose.shape == (2254, 2)
    # palm: 24x24 cells x 2 anchors, then 12x12 cells x 6 (three stride-16 layers share one map)
    np.testing.assert_allclose(palm[0], [0.5 / 24, 0.5 / 24])
    np.testing.assert_allclose(palm[1], palm[0])
    np.testing.assert_allclose(palm[2], [1.5 / 24, 0.5 / 24])
    np.testing.assert_allclose(palm[1152], [0.5 / 12, 0.5 / 12])
    np.testing.assert_allclose(palm[1152 + 5], palm[1152])
    np.testing.assert_allclose(palm[-1], [11.5 / 12, 11.5 / 12])
    # pose: 28x28x2 + 14x14x2 + 7x7x6
    np.testing.assert_allclose(pose[28 * 28 * 2 + 14 * 14 * 2], [0.5 / 7, 0.5 / 7])


def test_decode_detections_scales_by_input_and_thresholds_the_sigmoid():
    anchors = np.array([[0.25, 0.5], [0.75, 0.5]], dtype=np.float32)
    raw = np.zeros((1, 2, 8), dtype=np.float32)
    raw[0, 0, :4] = [19.2, -19.2, 96.0, 48.0]  # centre +0.1, -0.1; size 0.5 x 0.25 of 192
    raw[0, 0, 4:] = [0, 0, 96, 96]
    scores = np.array([[[2.0], [-2.0]]], dtype=np.float32)
    d = bb.decode_detections(raw, scores, anchors, (192, 192), 2, 0.5)
    assert len(d) == 1
    np.testing.assert_allclose(d.boxes[0], [0.35 - 0.25, 0.4 - 0.125, 0.35 + 0.25, 0.4 + 0.125], atol=1e-6)
    np.testing.assert_allclose(d.keypoints[0], [[0.25, 0.5], [0.75, 1.0]], atol=1e-6)
    assert d.scores[0] == pytest.approx(1 / (1 + math.exp(-2)))
    clipped = bb.decode_detections(raw, np.full((1, 2, 1), 1e4, np.float32), anchors, (192, 192), 2, 0.5)
    assert len(clipped) == 2 and np.all(clipped.scores <= 1.0)


def test_weighted_nms_merges_overlaps_by_score_and_keeps_the_rest():
    boxes = np.array([
        [0.0, 0.0, 1.0, 1.0],
        [0.1, 0.0, 1.1, 1.0],   # IoU with the first = 0.9 / 1.1 > 0.3
        [5.0, 5.0, 6.0, 6.0],   # apart
        [0.6, 0.0, 1.6, 1.0],   # IoU with the first 0.4/1.6 = 0.25: survives the first round
    ])
    kps = boxes[:, None, :2].copy()
    scores = np.array([0.6, 0.9, 0.7, 0.5])
    out = bb.weighted_nms(bb.Detections(boxes, kps, scores), 0.3)
    # the 0.9 box absorbs the 0.6 box and the 0.5 box (IoU 0.5/1.5 with it)
    assert len(out) == 2
    np.testing.assert_allclose(out.scores, [0.9, 0.7])
    w = np.array([0.6, 0.9, 0.5])
    np.testing.assert_allclose(out.boxes[0], (boxes[[0, 1, 3]] * w[:, None]).sum(0) / w.sum())
    np.testing.assert_allclose(out.keypoints[0, 0], (kps[[0, 1, 3], 0] * w[:, None]).sum(0) / w.sum())
    np.testing.assert_allclose(out.boxes[1], boxes[2])
    assert len(bb.weighted_nms(bb.Detections(np.zeros((0, 4)), np.zeros((0, 1, 2)), np.zeros(0)))) == 0


def _blob(h: int, w: int, x: float, y: float, sigma: float = 2.0) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    g = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma**2))
    return np.repeat((255 * g).astype(np.uint8)[:, :, None], 3, axis=2)


def _peak(t: np.ndarray) -> tuple[float, float]:
    m = t[0, :, :, 0]
    v, u = np.unravel_index(np.argmax(m), m.shape)
    return u / m.shape[1], v / m.shape[0]


def test_letterbox_pads_the_short_side_and_maps_back():
    rgb = _blob(100, 200, 150.0, 30.0)
    x, pad = bb.letterbox(rgb, (192, 192), (0.0, 1.0))
    assert x.shape == (1, 192, 192, 3) and x.dtype == np.float32
    np.testing.assert_allclose(pad, (0.0, 0.25, 0.0, 0.25))
    assert x[0, :40].max() == 0.0 and x[0, -40:].max() == 0.0  # zero borders top and bottom
    u, v = _peak(x)
    assert (u, v) == pytest.approx((150 / 200, 0.25 + 0.5 * 30 / 100), abs=1.5 / 192)
    back = bb.remove_letterbox(np.array([[u, v]]), pad)[0]
    assert back == pytest.approx((150 / 200, 30 / 100), abs=2 / 192)
    lo = bb.letterbox(np.zeros((10, 10, 3), np.uint8), (4, 4), (-1.0, 1.0))[0]
    assert lo.min() == -1.0 and lo.max() == -1.0


@pytest.mark.parametrize("rotation", [0.0, 0.4, -2.0, math.pi])
def test_rotated_crop_maps_a_point_back_to_where_it_was(rotation):
    rgb = _blob(300, 400, 230.0, 120.0)
    rect = bb.Rect(210.0, 140.0, 120.0, 120.0, rotation)
    x, pad = bb.crop_rotated(rgb, rect, (224, 224))
    assert pad == pytest.approx((0, 0, 0, 0))
    u, v = _peak(x)
    got = bb.project_back(np.array([[u, v, 0.01]]), pad, rect)[0]
    assert got[:2] == pytest.approx((230.0, 120.0), abs=1.0)  # within a crop pixel (120/224 px)
    assert got[2] == pytest.approx(0.01 * 120)  # z scaled as x: by the ROI width


def test_crop_of_a_wide_roi_is_letterboxed_and_mapped_back():
    rgb = _blob(300, 400, 250.0, 150.0)
    rect = bb.Rect(200.0, 150.0, 200.0, 100.0)
    x, pad = bb.crop_rotated(rgb, rect, (256, 256))
    np.testing.assert_allclose(pad, (0.0, 0.25, 0.0, 0.25))
    u, v = _peak(x)
    got = bb.project_back(np.array([[u, v, 0.0]]), pad, rect)[0]
    assert got[:2] == pytest.approx((250.0, 150.0), abs=1.0)


def test_rect_from_keypoints_rotation_shift_and_square():
    size = (400, 400)  # (h, w)
    # wrist below the middle-finger base: upright, no rotation; shift -0.5 moves up by half the height
    kp = np.array([[0.5, 0.6], [0, 0], [0.5, 0.4]])
    r = bb.rect_from_keypoints(kp, size, 0, 2, box=np.array([0.4, 0.45, 0.6, 0.55]), scale=2.6, shift_y=-0.5)
    assert r.rotation == pytest.approx(0.0)
    assert (r.cx, r.cy) == pytest.approx((200.0, 200.0 - 0.5 * 40))
    assert (r.w, r.h) == pytest.approx((80 * 2.6, 80 * 2.6))  # square on the long side, then scaled
    # pointing right: the rect turns by +90 degrees and the shift goes along the rotated y (to the right)
    kp = np.array([[0.4, 0.5], [0, 0], [0.6, 0.5]])
    r = bb.rect_from_keypoints(kp, size, 0, 2, box=np.array([0.45, 0.4, 0.55, 0.6]), shift_y=-0.5)
    assert r.rotation == pytest.approx(math.pi / 2)
    assert (r.cx, r.cy) == pytest.approx((200.0 + 0.5 * 80, 200.0))
    # pose: centred on keypoint 0, side twice the distance to keypoint 1
    kp = np.array([[0.5, 0.5], [0.5, 0.25]])
    r = bb.rect_from_keypoints(kp, size, 0, 1, scale=1.25)
    assert (r.cx, r.cy, r.w, r.h, r.rotation) == pytest.approx((200, 200, 250, 250, 0))


def test_association_keeps_the_later_of_two_overlapping_rects():
    a, b, c = bb.Rect(100, 100, 50, 50), bb.Rect(102, 101, 50, 50), bb.Rect(300, 300, 50, 50)
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
