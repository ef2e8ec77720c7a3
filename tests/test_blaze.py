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


def test_decode_with_batch_dims_scale_by_input_size_and_clipping():
    # the palm/pose layout: (1, n, coords) and (1, n, 1) outputs, scale = the 192x192 input size
    anchors = np.array([[0.25, 0.5, 1, 1], [0.75, 0.5, 1, 1]], dtype=np.float32)
    raw = np.zeros((1, 2, 8), dtype=np.float32)
    raw[0, 0, :4] = [19.2, -19.2, 96.0, 48.0]  # centre +0.1, -0.1; size 0.5 x 0.25 of 192
    raw[0, 0, 4:] = [0, 0, 96, 96]
    scores = np.array([[[2.0], [-2.0]]], dtype=np.float32)
    d = blaze.decode_boxes(raw, scores, anchors, scale=(192, 192, 192, 192), num_keypoints=2, min_score=0.5)
    assert len(d) == 1
    np.testing.assert_allclose(d.boxes[0], [0.35 - 0.25, 0.4 - 0.125, 0.35 + 0.25, 0.4 + 0.125], atol=1e-6)
    np.testing.assert_allclose(d.keypoints[0], [[0.25, 0.5], [0.75, 1.0]], atol=1e-6)
    assert d.scores[0] == pytest.approx(1 / (1 + math.exp(-2)))
    clipped = blaze.decode_boxes(raw, np.full((1, 2, 1), 1e4, np.float32), anchors, scale=(192,) * 4,
                                 num_keypoints=2, min_score=0.5)
    assert len(clipped) == 2 and np.all(clipped.scores <= 1.0)
    # a box decoded with a negative size is dropped (as mediapipe does)
    raw[0, 1, 2] = -10.0
    assert len(blaze.decode_boxes(raw, np.full((1, 2, 1), 5.0, np.float32), anchors, scale=(192,) * 4,
                                  num_keypoints=2, min_score=0.5)) == 1


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


def test_weighted_nms_a_later_best_absorbs_earlier_overlaps():
    boxes = np.array([
        [0.0, 0.0, 1.0, 1.0],
        [0.1, 0.0, 1.1, 1.0],   # IoU with the first = 0.9 / 1.1 > 0.3
        [5.0, 5.0, 6.0, 6.0],   # apart
        [0.6, 0.0, 1.6, 1.0],   # IoU with the first 0.4/1.6 = 0.25, with the second 0.5/1.5
    ])
    kps = boxes[:, None, :2].copy()
    scores = np.array([0.6, 0.9, 0.7, 0.5])
    out = blaze.weighted_nms(blaze.Detections(boxes, kps, scores), 0.3)
    # the 0.9 box absorbs the 0.6 box and the 0.5 box
    assert len(out) == 2
    np.testing.assert_allclose(out.scores, [0.9, 0.7])
    w = np.array([0.6, 0.9, 0.5])
    np.testing.assert_allclose(out.boxes[0], (boxes[[0, 1, 3]] * w[:, None]).sum(0) / w.sum())
    np.testing.assert_allclose(out.keypoints[0, 0], (kps[[0, 1, 3], 0] * w[:, None]).sum(0) / w.sum())
    np.testing.assert_allclose(out.boxes[1], boxes[2])
    assert len(blaze.weighted_nms(blaze.Detections(np.zeros((0, 4)), np.zeros((0, 1, 2)), np.zeros(0)))) == 0
    # a zero-area box (IoU 0 even with itself) stays alone, once, and the loop ends
    flat = np.array([[1.0, 1.0, 1.0, 2.0], [0.0, 0.0, 1.0, 1.0]])
    out = blaze.weighted_nms(blaze.Detections(flat, flat[:, None, :2], np.array([0.9, 0.8])), 0.3)
    np.testing.assert_allclose(out.boxes, flat)
    np.testing.assert_allclose(out.scores, [0.9, 0.8])
    # take: indices, or a slice (the first max_hands)
    assert len(out.take(slice(0, 1))) == 1 and len(out.take([1, 0])) == 2


def test_rotation_from_two_keypoints():
    assert blaze.rotation(np.array([0, 0]), np.array([10, 0]), 0) == pytest.approx(0)
    # the end below-right of the start (y down): the rect turns clockwise by 45 degrees
    assert blaze.rotation(np.array([0, 0]), np.array([10, 10]), 0) == pytest.approx(math.pi / 4)
    # hands: target 90 degrees, wrist -> middle finger pointing up is upright
    assert blaze.rotation(np.array([0, 10]), np.array([0, 0]), 90) == pytest.approx(0)


def test_rect_from_alignment_points():
    # pose: centred on keypoint 0, side twice the distance to keypoint 1, upright when 1 is above 0
    r = blaze.rect_from_alignment(np.array([200.0, 200.0]), np.array([200.0, 100.0]), 90)
    assert (r.cx, r.cy, r.w, r.h, r.rotation) == pytest.approx((200, 200, 200, 200, 0))
    r = blaze.rect_from_alignment(np.array([200.0, 200.0]), np.array([230.0, 200.0]), 90)
    assert (r.w, r.rotation) == pytest.approx((60, math.pi / 2))


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


@pytest.mark.parametrize("float32_corners", [True, False])
def test_rotated_crop_inverse_round_trips_a_point(float32_corners):
    r = blaze.Rect(300.0, 200.0, 120.0, 120.0, 0.6)
    m = blaze.crop_matrix(r, 192, 192, float32_corners=float32_corners)
    p = np.array([320.0, 170.0])
    t = m @ np.array([p[0], p[1], 1.0])
    back = blaze.project(np.array([[t[0] / 192, t[1] / 192, 0.1]]), r)
    np.testing.assert_allclose(back[0, :2], p, atol=1e-3)
    assert back[0, 2] == pytest.approx(0.1 * 120)
    # mirrored crop (the iris model's right eye)
    mf = blaze.crop_matrix(r, 64, 64, flip=True, float32_corners=float32_corners)
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


def _blob(h: int, w: int, x: float, y: float, sigma: float = 2.0) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    g = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma**2))
    return np.repeat((255 * g).astype(np.uint8)[:, :, None], 3, axis=2)


def _peak(t: np.ndarray) -> tuple[float, float]:
    m = t[0, :, :, 0]
    v, u = np.unravel_index(np.argmax(m), m.shape)
    return u / m.shape[1], v / m.shape[0]


@pytest.mark.parametrize("float32_corners", [True, False])
def test_letterbox_pads_the_short_side_and_maps_back(float32_corners):
    rgb = _blob(100, 200, 150.0, 30.0)
    r = blaze.letterbox_rect(100, 200, 192, 192)
    assert (r.cx, r.cy, r.w, r.h) == (100, 50, 200, 200)  # a quarter of padding above and below
    x = blaze.crop(rgb, r, 192, 192, border="zero", float32_corners=float32_corners)
    assert x.shape == (1, 192, 192, 3) and x.dtype == np.float32
    assert x[0, :40].max() == 0.0 and x[0, -40:].max() == 0.0  # zero borders top and bottom
    u, v = _peak(x)
    assert (u, v) == pytest.approx((150 / 200, 0.25 + 0.5 * 30 / 100), abs=1.5 / 192)
    back = blaze.project(np.array([[u, v]]), r)[0]
    assert back == pytest.approx((150, 30), abs=2 * 200 / 192)
    lo = blaze.crop(np.zeros((10, 10, 3), np.uint8), blaze.letterbox_rect(10, 10, 4, 4), 4, 4, (-1.0, 1.0), "zero",
                    float32_corners=float32_corners)
    assert lo.min() == -1.0 and lo.max() == -1.0


@pytest.mark.parametrize("float32_corners", [True, False])
@pytest.mark.parametrize("rotation", [0.0, 0.4, -2.0, math.pi])
def test_rotated_crop_maps_a_point_back_to_where_it_was(rotation, float32_corners):
    rgb = _blob(300, 400, 230.0, 120.0)
    rect = blaze.Rect(210.0, 140.0, 120.0, 120.0, rotation)
    assert blaze.pad_rect(rect, 224, 224) == rect
    x = blaze.crop(rgb, rect, 224, 224, float32_corners=float32_corners)
    u, v = _peak(x)
    got = blaze.project(np.array([[u, v, 0.01]]), rect)[0]
    assert got[:2] == pytest.approx((230.0, 120.0), abs=1.0)  # within a crop pixel (120/224 px)
    assert got[2] == pytest.approx(0.01 * 120)  # z scaled as x: by the ROI width


def test_crop_of_a_wide_roi_is_letterboxed_and_mapped_back():
    rgb = _blob(300, 400, 250.0, 150.0)
    rect = blaze.Rect(200.0, 150.0, 200.0, 100.0)
    padded = blaze.pad_rect(rect, 256, 256)
    assert padded == blaze.Rect(200.0, 150.0, 200.0, 200.0)  # grown to the square tensor, same centre
    x = blaze.crop(rgb, padded, 256, 256, float32_corners=False)
    u, v = _peak(x)
    assert v == pytest.approx(0.5, abs=1.5 / 256)
    got = blaze.project(np.array([[u, v, 0.0]]), padded)[0]
    assert got[:2] == pytest.approx((250.0, 150.0), abs=1.0)


def test_float32_corner_and_float64_crops_sample_almost_the_same_pixels():
    rgb = (np.random.default_rng(0).random((300, 400, 3)) * 255).astype(np.uint8)
    r = blaze.Rect(203.3, 151.7, 181.1, 181.1, 0.37)
    a = blaze.crop(rgb, r, 256, 256)
    b = blaze.crop(rgb, r, 256, 256, float32_corners=False)
    np.testing.assert_allclose(blaze.crop_matrix(r, 256, 256), blaze.crop_matrix(r, 256, 256, float32_corners=False),
                               atol=1e-4)
    # a read position moved across one of warpAffine's 1/32-pixel steps changes a value by at most 255/32 levels
    assert np.abs(a - b).max() <= 9 / 255 and np.mean(a != b) < 0.01
