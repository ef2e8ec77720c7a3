"""Hands (21 points) and pose (33 points) from mediapipe's TFLite models, without mediapipe.

The models are the ones of :mod:`telltales.landmark_models` (``palm_detection_full``,
``hand_landmark_full``, ``pose_detection``, ``pose_landmark_full``); this module does the
pre- and post-processing that mediapipe's legacy graphs do around them, in static-image mode:

* hands: ``HandLandmarkTrackingCpu`` -- palm detection on the whole image (letterboxed to
  192x192), weighted NMS, at most ``max_hands`` palms, a rotated square ROI per palm
  (``PalmDetectionDetectionToRoi``), overlapping ROIs merged (``AssociationNormRectCalculator``),
  then ``HandLandmarkCpu`` on each ROI (224x224 crop, hand flag > 0.5, handedness, landmarks
  projected back);
* pose: ``PoseLandmarkCpu`` -- pose detection (224x224 letterbox, values in [-1, 1]), the first
  detection after NMS, a rotated ROI from its hip-centre and scale keypoints
  (``PoseDetectionToRoi``), ``PoseLandmarkByRoiCpu`` (256x256 crop, pose flag > 0.5, heatmap
  refinement, projection back).

The generic helpers at the top (:func:`ssd_anchors`, :func:`decode_detections`,
:func:`weighted_nms`, :func:`letterbox`, :func:`rect_from_keypoints`, :func:`crop_rotated`,
:func:`project_back`) each mirror one mediapipe calculator, named in its docstring.

Conventions: a detection is normalised to the image it was found on; a :class:`Rect` is in
pixels of the full image (centre, size, rotation in radians, clockwise on screen as mediapipe's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .. import landmark_models

# ---------------------------------------------------------------------------------------------
# generic helpers (the same names as the face worker's telltales.analyses.blaze)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rect:
    """A rotated rectangle in pixels: centre, width, height, rotation (radians, y down)."""

    cx: float
    cy: float
    w: float
    h: float
    rotation: float = 0.0


@dataclass(frozen=True)
class Detections:
    """Decoded SSD detections: boxes (N, 4) xmin, ymin, xmax, ymax; keypoints (N, K, 2); scores (N,)."""

    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)

    def take(self, idx: np.ndarray | list[int] | slice) -> Detections:
        return Detections(self.boxes[idx], self.keypoints[idx], self.scores[idx])


def _calculate_scale(min_scale: float, max_scale: float, index: int, count: int) -> float:
    if count == 1:
        return (min_scale + max_scale) * 0.5
    return min_scale + (max_scale - min_scale) * index / (count - 1.0)


def ssd_anchors(
    input_size: tuple[int, int],
    strides: list[int],
    *,
    min_scale: float = 0.1484375,
    max_scale: float = 0.75,
    offset: float = 0.5,
    aspect_ratios: tuple[float, ...] = (1.0,),
    interpolated_scale_aspect_ratio: float = 1.0,
) -> np.ndarray:
    """Anchor centres (N, 2) x, y in [0, 1]; mirrors ``SsdAnchorsCalculator`` with ``fixed_anchor_size``.

    Consecutive layers with the same stride share one feature map; each of them adds one anchor
    per aspect ratio and one interpolated-scale anchor per cell. With fixed anchor size only the
    count and the centres matter (width = height = 1), so the scales are not returned.
    """
    h_in, w_in = input_size
    out: list[np.ndarray] = []
    layer = 0
    while layer < len(strides):
        per_cell = 0
        last = layer
        while last < len(strides) and strides[last] == strides[layer]:
            per_cell += len(aspect_ratios) + (1 if interpolated_scale_aspect_ratio > 0 else 0)
            last += 1
        stride = strides[layer]
        fh, fw = math.ceil(h_in / stride), math.ceil(w_in / stride)
        ys, xs = np.meshgrid((np.arange(fh) + offset) / fh, (np.arange(fw) + offset) / fw, indexing="ij")
        cells = np.stack([xs.ravel(), ys.ravel()], axis=1)
        out.append(np.repeat(cells, per_cell, axis=0))
        layer = last
    return np.concatenate(out).astype(np.float32)


def decode_detections(
    raw_boxes: np.ndarray,
    raw_scores: np.ndarray,
    anchors: np.ndarray,
    input_size: tuple[int, int],
    num_keypoints: int,
    min_score: float,
    clip: float = 100.0,
) -> Detections:
    """Boxes and keypoints from raw SSD outputs; mirrors ``TensorsToDetectionsCalculator``.

    Options as the palm and pose graphs set them: ``reverse_output_order`` (x before y),
    ``box_coord_offset`` 0, ``keypoint_coord_offset`` 4, two values per keypoint, x/y/w/h scale =
    the input size, fixed-size anchors, ``sigmoid_score`` with ``score_clipping_thresh``; a box is
    kept when its score >= ``min_score``. Coordinates are normalised to the model input.
    """
    raw = raw_boxes.reshape(-1, raw_boxes.shape[-1]).astype(np.float64)
    logits = np.clip(raw_scores.reshape(-1).astype(np.float64), -clip, clip)
    scores = 1.0 / (1.0 + np.exp(-logits))
    keep = np.nonzero(scores >= min_score)[0]
    raw, anc = raw[keep], anchors[keep].astype(np.float64)
    h_in, w_in = input_size
    cx = raw[:, 0] / w_in + anc[:, 0]
    cy = raw[:, 1] / h_in + anc[:, 1]
    w = raw[:, 2] / w_in
    h = raw[:, 3] / h_in
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    kp = raw[:, 4 : 4 + 2 * num_keypoints].reshape(-1, num_keypoints, 2)
    kp = kp / np.array([w_in, h_in]) + anc[:, None, :]
    return Detections(boxes, kp, scores[keep])


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where((inter > 0) & (union > 0), inter / np.where(union > 0, union, 1), 0.0)


def weighted_nms(dets: Detections, threshold: float = 0.3) -> Detections:
    """Weighted non-maximum suppression; mirrors ``NonMaxSuppressionCalculator`` (WEIGHTED, IoU).

    In score order, the best remaining detection absorbs every remaining one whose IoU with it
    is above ``threshold`` (itself included): its box and keypoints become their score-weighted
    mean, its score stays its own. Output in descending score.
    """
    order = np.argsort(-dets.scores, kind="stable")
    boxes, kps, scores = [], [], []
    while len(order):
        top = order[0]
        sim = _iou(dets.boxes[top], dets.boxes[order])
        cand = order[sim > threshold]
        if len(cand) == 0:  # degenerate (empty) box: keep it alone
            cand = order[:1]
        wts = dets.scores[cand][:, None]
        total = wts.sum()
        boxes.append((dets.boxes[cand] * wts).sum(0) / total)
        kps.append((dets.keypoints[cand] * wts[:, :, None]).sum(0) / total)
        scores.append(dets.scores[top])
        order = order[~np.isin(order, cand)]
    if not scores:
        return dets.take(slice(0, 0))
    return Detections(np.array(boxes), np.array(kps), np.array(scores))


def _pad_roi(rect: Rect, out_size: tuple[int, int]) -> tuple[Rect, tuple[float, float, float, float]]:
    """The ROI grown to the tensor's aspect ratio and the letterbox padding (``PadRoi``)."""
    out_h, out_w = out_size
    tensor_aspect = out_h / out_w
    roi_aspect = rect.h / rect.w
    if tensor_aspect > roi_aspect:
        new_w, new_h = rect.w, rect.w * tensor_aspect
        v, hz = (1.0 - roi_aspect / tensor_aspect) / 2.0, 0.0
    else:
        new_w, new_h = rect.h / tensor_aspect, rect.h
        v, hz = 0.0, (1.0 - tensor_aspect / roi_aspect) / 2.0
    return Rect(rect.cx, rect.cy, new_w, new_h, rect.rotation), (hz, v, hz, v)


def crop_rotated(
    rgb: np.ndarray,
    rect: Rect,
    out_size: tuple[int, int],
    value_range: tuple[float, float] = (0.0, 1.0),
    border_zero: bool = False,
) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """A rotated ROI warped to an (1, H, W, 3) float tensor, keeping the aspect ratio.

    Mirrors ``ImageToTensorCalculator`` (OpenCV converter) with ``keep_aspect_ratio``: the ROI is
    padded to the tensor's aspect (returned as left, top, right, bottom fractions), its corners
    map to the tensor's corners, bilinear sampling on the uint8 image, border zero or replicate,
    then values scaled to ``value_range``.
    """
    out_h, out_w = out_size
    padded, pad = _pad_roi(rect, out_size)
    c, s = math.cos(padded.rotation), math.sin(padded.rotation)
    rot = np.array([[c, -s], [s, c]])
    lin = rot @ np.diag([padded.w / out_w, padded.h / out_h])
    shift = np.array([padded.cx, padded.cy]) - rot @ np.array([padded.w / 2, padded.h / 2])
    m = np.hstack([lin, shift[:, None]])
    border = cv2.BORDER_CONSTANT if border_zero else cv2.BORDER_REPLICATE
    img = cv2.warpAffine(
        np.ascontiguousarray(rgb), m, (out_w, out_h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=border, borderValue=0
    )
    lo, hi = value_range
    x = img.astype(np.float32) * np.float32((hi - lo) / 255.0) + np.float32(lo)
    return x[None], pad


def letterbox(
    rgb: np.ndarray, out_size: tuple[int, int], value_range: tuple[float, float] = (0.0, 1.0)
) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """The whole image fitted into the tensor with zero borders, and the padding (left, top, right, bottom).

    Mirrors ``ImageToTensorCalculator`` without a ROI, ``keep_aspect_ratio`` and
    ``border_mode: BORDER_ZERO`` as the palm and pose detection graphs use it.
    """
    h, w = rgb.shape[:2]
    return crop_rotated(rgb, Rect(w / 2, h / 2, w, h), out_size, value_range, border_zero=True)


def remove_letterbox(points: np.ndarray, pad: tuple[float, float, float, float]) -> np.ndarray:
    """Normalised points (..., 2+) on the letterboxed tensor -> on the unpadded image/ROI.

    Mirrors ``DetectionLetterboxRemovalCalculator`` / ``LandmarkLetterboxRemovalCalculator``
    (z, if present, is scaled as x).
    """
    left, top, right, bottom = pad
    out = np.array(points, dtype=np.float64, copy=True)
    out[..., 0] = (out[..., 0] - left) / (1.0 - left - right)
    out[..., 1] = (out[..., 1] - top) / (1.0 - top - bottom)
    if out.shape[-1] > 2:
        out[..., 2] = out[..., 2] / (1.0 - left - right)
    return out


def _normalize_radians(angle: float) -> float:
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def rotation_from_keypoints(p0: np.ndarray, p1: np.ndarray, target_angle: float) -> float:
    """The ROI rotation that makes p0 -> p1 point at ``target_angle`` (``DetectionsToRectsCalculator``)."""
    return _normalize_radians(target_angle - math.atan2(-(p1[1] - p0[1]), p1[0] - p0[0]))


def transform_rect(
    rect: Rect, *, scale: float = 1.0, shift_x: float = 0.0, shift_y: float = 0.0, square_long: bool = True
) -> Rect:
    """Shift (in the rect's own rotated frame), square on the long side, scale; mirrors ``RectTransformationCalculator``."""
    c, s = math.cos(rect.rotation), math.sin(rect.rotation)
    dx = rect.w * shift_x * c - rect.h * shift_y * s
    dy = rect.w * shift_x * s + rect.h * shift_y * c
    w, h = rect.w, rect.h
    if square_long:
        w = h = max(w, h)
    return Rect(rect.cx + dx, rect.cy + dy, w * scale, h * scale, rect.rotation)


def rect_from_keypoints(
    keypoints: np.ndarray,
    size: tuple[int, int],
    start: int,
    end: int,
    *,
    box: np.ndarray | None = None,
    target_angle: float = math.pi / 2,
    scale: float = 1.0,
    shift_y: float = 0.0,
) -> Rect:
    """The ROI for one detection (normalised coordinates, image ``size`` = (height, width)), in pixels.

    With ``box`` (xmin, ymin, xmax, ymax) the rect is the box (``DetectionsToRectsCalculator``, as
    ``PalmDetectionDetectionToRoi``); without, it is centred on keypoint ``start`` with side twice
    the distance to keypoint ``end`` (``AlignmentPointsRectsCalculator``, as ``PoseDetectionToRoi``).
    The rotation makes start -> end point at ``target_angle``; then ``RectTransformationCalculator``
    (``shift_y``, ``square_long``, ``scale``).
    """
    h, w = size
    kp = np.asarray(keypoints, dtype=np.float64) * np.array([w, h])
    rot = rotation_from_keypoints(kp[start], kp[end], target_angle)
    if box is not None:
        x0, y0, x1, y1 = np.asarray(box, dtype=np.float64) * np.array([w, h, w, h])
        rect = Rect((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0, rot)
    else:
        side = 2.0 * float(np.hypot(*(kp[end] - kp[start])))
        rect = Rect(kp[start, 0], kp[start, 1], side, side, rot)
    return transform_rect(rect, scale=scale, shift_y=shift_y)


def project_back(points: np.ndarray, pad: tuple[float, float, float, float], rect: Rect) -> np.ndarray:
    """Landmarks (N, 3) normalised to the crop tensor -> pixels of the full image (x, y, z*width).

    Mirrors ``LandmarkLetterboxRemovalCalculator`` then ``LandmarkProjectionCalculator``: rotate
    about the crop centre in the unit square, scale by the ROI size, add its centre; z scaled
    as x (by the ROI width), so it comes out in pixels as mediapipe's ``z * image width``.
    """
    p = remove_letterbox(points, pad)
    x, y = p[:, 0] - 0.5, p[:, 1] - 0.5
    c, s = math.cos(rect.rotation), math.sin(rect.rotation)
    out = np.empty((len(p), 3))
    out[:, 0] = (c * x - s * y) * rect.w + rect.cx
    out[:, 1] = (s * x + c * y) * rect.h + rect.cy
    out[:, 2] = p[:, 2] * rect.w
    return out


def rotate_world(world: np.ndarray, rotation: float) -> np.ndarray:
    """World landmarks (N, 3) rotated in x, y by the ROI rotation (``WorldLandmarkProjectionCalculator``)."""
    c, s = math.cos(rotation), math.sin(rotation)
    out = np.array(world, dtype=np.float64, copy=True)
    out[:, 0] = c * world[:, 0] - s * world[:, 1]
    out[:, 1] = s * world[:, 0] + c * world[:, 1]
    return out


def refine_from_heatmap(
    points: np.ndarray, heatmap: np.ndarray, kernel: int = 7, min_confidence: float = 0.5
) -> np.ndarray:
    """x, y (normalised) replaced by the sigmoid-weighted mean of a kernel of the heatmap (H, W, N).

    Mirrors ``RefineLandmarksFromHeatmapCalculator`` (``kernel_size`` 7, refine only when the
    kernel's max confidence >= ``min_confidence``; the kernel shrinks at the edges).
    """
    hm_h, hm_w, _ = heatmap.shape
    out = np.array(points, dtype=np.float64, copy=True)
    off = (kernel - 1) // 2
    for i in range(len(out)):
        col, row = int(out[i, 0] * hm_w), int(out[i, 1] * hm_h)
        if col < 0 or col >= hm_w or row < 0 or row >= hm_h:
            continue
        r0, r1 = max(0, row - off), min(hm_h, row + off + 1)
        c0, c1 = max(0, col - off), min(hm_w, col + off + 1)
        conf = 1.0 / (1.0 + np.exp(-heatmap[r0:r1, c0:c1, i].astype(np.float64)))
        total = conf.sum()
        if conf.max() >= min_confidence and total > 0:
            rows, cols = np.mgrid[r0:r1, c0:c1]
            out[i, 0] = (cols * conf).sum() / hm_w / total
            out[i, 1] = (rows * conf).sum() / hm_h / total
    return out


def _rect_iou(a: Rect, b: Rect) -> float:
    """Axis-aligned IoU of two rects ignoring rotation (mediapipe's ``OverlapSimilarity`` on NormalizedRect)."""
    box = np.array([a.cx - a.w / 2, a.cy - a.h / 2, a.cx + a.w / 2, a.cy + a.h / 2])
    other = np.array([[b.cx - b.w / 2, b.cy - b.h / 2, b.cx + b.w / 2, b.cy + b.h / 2]])
    return float(_iou(box, other)[0])


def associate(rects: list[Rect], threshold: float = 0.5) -> list[Rect]:
    """Later rects replace earlier ones they overlap (IoU > threshold); ``AssociationNormRectCalculator``."""
    kept: list[Rect] = []
    for r in rects:
        kept = [k for k in kept if _rect_iou(k, r) <= threshold]
        kept.append(r)
    return kept


# ---------------------------------------------------------------------------------------------
# hands
# ---------------------------------------------------------------------------------------------

PALM = "palm_detection_full"
HAND = "hand_landmark_full"
PALM_SIZE = (192, 192)
HAND_SIZE = (224, 224)
PALM_STRIDES = [8, 16, 16, 16]
HAND_SIDES = ("Left", "Right")  # mediapipe/modules/hand_landmark/handedness.txt


def palm_detections(rgb: np.ndarray, min_score: float = 0.5) -> Detections:
    """Palms normalised to the image: ``PalmDetectionCpu`` (letterbox, decode, weighted NMS, unpad)."""
    x, pad = letterbox(rgb, PALM_SIZE, (0.0, 1.0))
    raw_boxes, raw_scores = landmark_models.run(PALM, x)[:2]
    dets = decode_detections(raw_boxes, raw_scores, ssd_anchors(PALM_SIZE, PALM_STRIDES), PALM_SIZE, 7, min_score)
    dets = weighted_nms(dets, 0.3)
    boxes = remove_letterbox(dets.boxes.reshape(-1, 2, 2), pad).reshape(-1, 4)
    return Detections(boxes, remove_letterbox(dets.keypoints, pad), dets.scores)


def palm_rect(box: np.ndarray, keypoints: np.ndarray, size: tuple[int, int]) -> Rect:
    """``PalmDetectionDetectionToRoi``: wrist (0) -> middle-finger base (2) upright, x2.6, shifted -0.5."""
    return rect_from_keypoints(keypoints, size, 0, 2, box=box, scale=2.6, shift_y=-0.5)


def hand_in_rect(rgb: np.ndarray, rect: Rect) -> tuple[np.ndarray, np.ndarray, str, float] | None:
    """``HandLandmarkCpu`` on one ROI: points (pixels, z*width), world points, side, side score; None if no hand."""
    x, pad = crop_rotated(rgb, rect, HAND_SIZE, (0.0, 1.0))
    lms, flag, side, world = landmark_models.run(HAND, x)[:4]
    if not float(flag.reshape(-1)[0]) > 0.5:
        return None
    pts = lms.reshape(21, 3).astype(np.float64) / np.array([HAND_SIZE[1], HAND_SIZE[0], HAND_SIZE[1] * 0.4])
    points = project_back(pts, pad, rect)
    p = float(side.reshape(-1)[0])
    label, score = (HAND_SIDES[0], p) if p >= 1.0 - p else (HAND_SIDES[1], 1.0 - p)
    return points, rotate_world(world.reshape(21, 3), rect.rotation), label, score


def hands(
    rgb: np.ndarray, max_hands: int = 6, min_score: float = 0.5
) -> list[tuple[np.ndarray, np.ndarray, str, float]]:
    """Hands as ``mediapipe.solutions.hands.Hands(static_image_mode=True, model_complexity=1)`` finds them.

    Each: 21 points (x, y in pixels, z = mediapipe's z * image width), 21 world points (m),
    the side label ("Left"/"Right", mediapipe's mirrored-image convention) and its score.
    """
    size = rgb.shape[:2]
    dets = palm_detections(rgb, min_score).take(slice(0, max_hands))
    rects = associate([palm_rect(dets.boxes[i], dets.keypoints[i], size) for i in range(len(dets))])
    found = [hand_in_rect(rgb, r) for r in rects]
    return [f for f in found if f is not None]


# ---------------------------------------------------------------------------------------------
# pose
# ---------------------------------------------------------------------------------------------

POSE_DET = "pose_detection"
POSE_LM = "pose_landmark_full"
POSE_DET_SIZE = (224, 224)
POSE_LM_SIZE = (256, 256)
POSE_STRIDES = [8, 16, 32, 32, 32]


def pose_detections(rgb: np.ndarray, min_score: float = 0.5) -> Detections:
    """People normalised to the image: ``PoseDetectionCpu`` (letterbox in [-1, 1], decode, weighted NMS, unpad)."""
    x, pad = letterbox(rgb, POSE_DET_SIZE, (-1.0, 1.0))
    raw_boxes, raw_scores = landmark_models.run(POSE_DET, x)[:2]
    anchors = ssd_anchors(POSE_DET_SIZE, POSE_STRIDES)
    dets = weighted_nms(decode_detections(raw_boxes, raw_scores, anchors, POSE_DET_SIZE, 4, min_score), 0.3)
    boxes = remove_letterbox(dets.boxes.reshape(-1, 2, 2), pad).reshape(-1, 4)
    return Detections(boxes, remove_letterbox(dets.keypoints, pad), dets.scores)


def pose_rect(keypoints: np.ndarray, size: tuple[int, int]) -> Rect:
    """``PoseDetectionToRoi``: centred on the mid-hip (0), side 2x its distance to keypoint 1, x1.25."""
    return rect_from_keypoints(keypoints, size, 0, 1, scale=1.25)


def pose_in_rect(rgb: np.ndarray, rect: Rect) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``PoseLandmarkByRoiCpu`` on one ROI: 33 points (pixels, z*width), visibility, world (m); None if no pose."""
    x, pad = crop_rotated(rgb, rect, POSE_LM_SIZE, (0.0, 1.0))
    lms, flag, _seg, heatmap, world = landmark_models.run(POSE_LM, x)[:5]
    if not float(flag.reshape(-1)[0]) > 0.5:
        return None
    raw = lms.reshape(39, 5).astype(np.float64)
    pts = raw[:, :3] / np.array([POSE_LM_SIZE[1], POSE_LM_SIZE[0], POSE_LM_SIZE[1]])
    pts = refine_from_heatmap(pts, heatmap.reshape(heatmap.shape[-3:]), 7, 0.5)
    points = project_back(pts, pad, rect)[:33]
    visibility = 1.0 / (1.0 + np.exp(-raw[:33, 3]))
    return points, visibility, rotate_world(world.reshape(39, 3)[:33], rect.rotation)


def pose(rgb: np.ndarray, min_score: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The most prominent person as ``mediapipe.solutions.pose.Pose(static_image_mode=True, model_complexity=1)``.

    33 points (x, y in pixels, z = mediapipe's z * image width), visibility (33,) in [0, 1], and
    33 world points (m); None when no person is found.
    """
    dets = pose_detections(rgb, min_score)
    if len(dets) == 0:
        return None
    return pose_in_rect(rgb, pose_rect(dets.keypoints[0], rgb.shape[:2]))
