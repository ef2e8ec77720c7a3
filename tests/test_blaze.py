"""Known-answer tests for the mediapipe graph helpers (telltales.analyses.blaze) and the face port."""

from __future__ import annotations

import math

import numpy as np
import pytest

from telltales import landmark_models
from telltales.analyses import blaze, blaze_face


def test_short_range_anchors_count_and_first_centres():
    a = blaze.ssd_anchors(blaze_face.DETECTORS["short"].anchors)
    assert a.shape == (896, 4)
    # stride 8: a 16x16 map, 2 anchors per cell (aspect 1 + interpolated)
    np.testing.assert_allclose(a[0], [0.5 / 16, 0.5 / 16, 1, 1])
    np.testing.assert_allclose(a[1], a[0])
    np.testing.assert_allclose(a[2, :2], [1.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(a[32, :2], [0.5 / 16, 1.5 / 16])
    # three stride-16 layers share an 8x8 map, 6 anchors per cell
    np.testing.assert_allclose(a[512:518, :2], [[0.5 / 8, 0.5 / 8]] * 6)
    np.testing.assert_allclose(a[518, :2], [1.5 / 8, 0.5 / 8])
    np.testing.assert_allclose(a[-1, :2], [7.5 / 8, 7.5 / 8])


def test_full_range_anchors_count_and_first_centres():
    a = blaze.ssd_anchors(blaze_face.DETECTORS["full"].anchors)
    assert a.shape == (2304, 4)
    np.testing.assert_allclose(a[0], [0.5 / 48, 0.5 / 48, 1, 1])
    np.testing.assert_allclose(a[1, :2], [1.5 / 48, 0.5 / 48])
    np.testing.assert_allclose(a[48, :2], [0.5 / 48, 1.5 / 48])


def test_anchor_sizes_when_not_fixed():
    o = blaze.AnchorOptions(input_size=(64, 64), num_layers=2, strides=(32, 32), min_scale=0.2,
                            max_scale=0.6, fixed_anchor_size=False)
    a = blaze.ssd_anchors(o)
    assert a.shape == (2 * 2 * 4, 4)
    # per cell: scale 0.2, interpolated sqrt(0.2*0.6), scale 0.6, interpolated sqrt(0.6*1.0)
    np.testing.assert_allclose(a[:4, 2], [0.2, math.sqrt(0.12), 0.6, math.sqrt(0.6)], rtol=1e-6)


def test_decode_box_and_keypoints_against_anchor():
    anchors = np.array([[0.5, 0.25, 1.0, 1.0]], dtype=np.float32)
    raw = np.zeros((1, 8))
    raw[0, :4] = [12.8, -6.4, 25.6, 51.2]  # dx, dy, w, h in input pixels (scale 128)
    raw[0, 4:6] = [-12.8, 12.8]
    raw[0, 6:8] = [0.0, 0.0]
    d = blaze.decode_boxes(raw, np.array([[0.0]]), anchors, scale=(128, 128, 128, 128),
                           num_keypoints=2, min_score=0.4)
    np.testing.assert_allclose(d.boxes[0], [0.6 - 0.1, 0.2 - 0.2, 0.6 + 0.1, 0.2 + 0.2])
    np.testing.assert_allclose(d.keypoints[0], [[0.4, 0.35], [0.5, 0.25]])
    np.testing.assert_allclose(d.scores, [0.5])
    # sigmoid(0) = 0.5 is below 0.6; a logit of 1e6 is clipped to 100 (score 1)
    assert len(blaze.decode_boxes(raw, np.array([[0.0]]), anchors, scale=(128,) * 4, num_keypoints=2,
                                  min_score=0.6)) == 0
    d = blaze.decode_boxes(raw, np.array([[1e6]]), anchors, scale=(128,) * 4, num_keypoints=2, min_score=0.6)
    assert d.scores[0] == pytest.approx(1.0)


def test_weighted_nms_merges_overlaps_and_keeps_the_rest():
    boxes = np.array([[0.0, 0.0, 1.0, 1.0],  # best
                      [0.1, 0.0, 1.1, 1.0],  # IoU 0.818 with the best: merged into it
                      [2.0, 2.0, 3.0, 3.0],  # apart: its own detection
                      [0.6, 0.0, 1.6, 1.0]])  # IoU 0.25 with the best (below 0.3): kept
    kps = np.array([[[0.5, 0.5]], [[0.6, 0.5]], [[2.5, 2.5]], [[1.1, 0.5]]])
    scores = np.array([0.9, 0.6, 0.8, 0.7])
    out = blaze.weighted_nms(blaze.Detections(boxes, kps, scores), 0.3)
    np.testing.assert_allclose(out.scores, [0.9, 0.8, 0.7])
    np.testing.assert_allclose(out.boxes[0], [0.04, 0.0, 1.04, 1.0])
    np.testing.assert_allclose(out.keypoints[0], [[0.54, 0.5]])
    np.testing.assert_allclose(out.boxes[1], boxes[2])
    # the 4th box overlaps the merged 2nd one (IoU 0.43 with [0.1..1.1]) but that one is gone already
    np.testing.assert_allclose(out.boxes[2], boxes[3])


def test_rotation_from_two_keypoints():
    assert blaze.rotation(np.array([0, 0]), np.array([10, 0]), 0) == pytest.approx(0)
    # the end below-right of the start (y down): the rect turns clockwise by 45 degrees
    assert blaze.rotation(np.array([0, 0]), np.array([10, 10]), 0) == pytest.approx(math.pi / 4)
    # hands: target 90 degrees, wrist -> middle finger pointing up is upright
    assert blaze.rotation(np.array([0, 10]), np.array([0, 0]), 90) == pytest.approx(0)


def test_transform_rect_square_long_scale_and_shift():
    r = blaze.transform_rect(blaze.Rect(100, 50, 40, 20), 1.5, 1.5, square_long=True)
    assert (r.cx, r.cy, r.w, r.h) == (100, 50, 60, 60)
    # a shift along the rect's own y axis, rotated by 90 degrees, moves it along -x
    r = blaze.transform_rect(blaze.Rect(100, 50, 40, 20, math.pi / 2), shift_y=0.5)
    assert (r.cx, r.cy) == (pytest.approx(90), pytest.approx(50))


def test_letterbox_mapping():
    r = blaze.letterbox_rect(480, 640, 128, 128)
    assert (r.cx, r.cy, r.w, r.h) == (320, 240, 640, 640)
    pts = blaze.project(np.array([[0.5, 0.5], [0.0, 0.0], [1.0, 0.125]]), r)
    np.testing.assert_allclose(pts, [[320, 240], [0, -80], [640, 0]])
    # the tensor itself: the image fills rows 16..111, zero padding (-1 in [-1, 1]) above and below
    img = np.full((480, 640, 3), 255, np.uint8)
    x = blaze.crop(img, r, 128, 128, value_range=(-1.0, 1.0), border="zero")
    assert x.shape == (1, 128, 128, 3)
    assert x[0, 8, 64, 0] == pytest.approx(-1) and x[0, 64, 64, 0] == pytest.approx(1)
    assert x[0, 120, 64, 0] == pytest.approx(-1)


def test_rotated_crop_inverse_round_trips_a_point():
    r = blaze.Rect(300.0, 200.0, 120.0, 120.0, 0.6)
    m = blaze.crop_matrix(r, 192, 192)
    p = np.array([320.0, 170.0])
    t = m @ np.array([p[0], p[1], 1.0])
    back = blaze.project(np.array([[t[0] / 192, t[1] / 192, 0.1]]), r)
    np.testing.assert_allclose(back[0, :2], p, atol=1e-3)
    assert back[0, 2] == pytest.approx(0.1 * 120)
    # mirrored crop (the iris model's right eye)
    mf = blaze.crop_matrix(r, 64, 64, flip=True)
    t = mf @ np.array([p[0], p[1], 1.0])
    back = blaze.project(np.array([[t[0] / 64, t[1] / 64]]), r, flip=True)
    np.testing.assert_allclose(back[0], p, atol=1e-3)


def test_rotated_crop_samples_the_rect():
    img = np.zeros((200, 200, 3), np.uint8)
    img[90:110, 115:135] = 255  # a white square right of the centre
    # turned by 90 degrees clockwise, the rect's +x axis points down the image: the square appears at the top
    x = blaze.crop(img, blaze.Rect(100, 100, 100, 100, math.pi / 2), 64, 64)
    ys, xs = np.nonzero(x[0, :, :, 0] > 0.5)
    assert ys.mean() < 32 and abs(xs.mean() - 32) < 3


needs_models = pytest.mark.skipif(not landmark_models.available(), reason="landmark models not installed")


@needs_models
def test_no_face_in_a_picture_without_people():
    from telltales import example

    rgb = np.asarray(example.picture(640, 480).convert("RGB"))
    assert blaze_face.detect(rgb, "short") == []
    assert blaze_face.detect(rgb, "full") == []
    assert blaze_face.mesh(rgb) is None
