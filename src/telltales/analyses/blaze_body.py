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

The generic calculators (anchors, decoding, weighted NMS, rects, letterbox and rotated crops,
projection back to the image) are the face port's, :mod:`telltales.analyses.blaze`; only the
body-specific ones are here (:func:`rotate_world`, :func:`refine_from_heatmap`, :func:`associate`).

Conventions: detections and :class:`~telltales.analyses.blaze.Rect` are in pixels of the full
image (centre, size, rotation in radians, clockwise on screen as mediapipe's).
"""

from __future__ import annotations

import math

import numpy as np

from .. import landmark_models
from . import blaze
from .blaze import Detections, Rect

# ---------------------------------------------------------------------------------------------
# body-only helpers (the generic ones are telltales.analyses.blaze)
# ---------------------------------------------------------------------------------------------


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
        conf = blaze.sigmoid(heatmap[r0:r1, c0:c1, i])
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
    return float(blaze.iou(box, other)[0])


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
# palm_detection_cpu.pbtxt: SsdAnchorsCalculator
PALM_ANCHORS = blaze.AnchorOptions(input_size=PALM_SIZE, num_layers=4, strides=(8, 16, 16, 16),
                                   min_scale=0.1484375, max_scale=0.75)
HAND_SIDES = ("Left", "Right")  # mediapipe/modules/hand_landmark/handedness.txt


def _detect(rgb: np.ndarray, model: str, anchors: blaze.AnchorOptions, num_keypoints: int,
            value_range: tuple[float, float], min_score: float) -> Detections:
    """``PalmDetectionCpu`` / ``PoseDetectionCpu``: letterbox (zero border), decode, weighted NMS, to pixels."""
    out_h, out_w = anchors.input_size
    roi = blaze.letterbox_rect(rgb.shape[0], rgb.shape[1], out_h, out_w)
    x = blaze.crop(rgb, roi, out_h, out_w, value_range=value_range, border="zero", float32_corners=False)
    raw_boxes, raw_scores = landmark_models.run(model, x)[:2]
    found = blaze.decode_boxes(raw_boxes, raw_scores, blaze.ssd_anchors(anchors),
                               scale=(out_w, out_h, out_w, out_h), num_keypoints=num_keypoints,
                               min_score=min_score)
    return blaze.project_detections(blaze.weighted_nms(found, 0.3), roi)


def _crop(rgb: np.ndarray, rect: Rect, size: tuple[int, int]) -> tuple[np.ndarray, Rect]:
    """The landmark model's input for ``rect`` (letterboxed to the input's aspect) and the padded rect."""
    padded = blaze.pad_rect(rect, size[0], size[1])
    return blaze.crop(rgb, padded, size[0], size[1], float32_corners=False), padded


def palm_detections(rgb: np.ndarray, min_score: float = 0.5) -> Detections:
    """Palms in image pixels, best first: ``PalmDetectionCpu`` (letterbox, decode, weighted NMS, unpad)."""
    return _detect(rgb, PALM, PALM_ANCHORS, 7, (0.0, 1.0), min_score)


def palm_rect(box: np.ndarray, keypoints: np.ndarray) -> Rect:
    """``PalmDetectionDetectionToRoi``: wrist (0) -> middle-finger base (2) upright, x2.6, shifted -0.5."""
    r = blaze.rect_from_box(box, keypoints[0], keypoints[2], 90.0)
    return blaze.transform_rect(r, 2.6, 2.6, shift_y=-0.5, square_long=True)


def hand_in_rect(rgb: np.ndarray, rect: Rect) -> tuple[np.ndarray, np.ndarray, str, float] | None:
    """``HandLandmarkCpu`` on one ROI: points (pixels, z*width), world points, side, side score; None if no hand."""
    x, padded = _crop(rgb, rect, HAND_SIZE)
    lms, flag, side, world = landmark_models.run(HAND, x)[:4]
    if not float(flag.reshape(-1)[0]) > 0.5:
        return None
    pts = lms.reshape(21, 3).astype(np.float64) / np.array([HAND_SIZE[1], HAND_SIZE[0], HAND_SIZE[1] * 0.4])
    points = blaze.project(pts, padded)
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
    dets = palm_detections(rgb, min_score).take(slice(0, max_hands))
    rects = associate([palm_rect(dets.boxes[i], dets.keypoints[i]) for i in range(len(dets))])
    found = [hand_in_rect(rgb, r) for r in rects]
    return [f for f in found if f is not None]


# ---------------------------------------------------------------------------------------------
# pose
# ---------------------------------------------------------------------------------------------

POSE_DET = "pose_detection"
POSE_LM = "pose_landmark_full"
POSE_DET_SIZE = (224, 224)
POSE_LM_SIZE = (256, 256)
# pose_detection_cpu.pbtxt: SsdAnchorsCalculator
POSE_ANCHORS = blaze.AnchorOptions(input_size=POSE_DET_SIZE, num_layers=5, strides=(8, 16, 32, 32, 32),
                                   min_scale=0.1484375, max_scale=0.75)


def pose_detections(rgb: np.ndarray, min_score: float = 0.5) -> Detections:
    """People in image pixels, best first: ``PoseDetectionCpu`` (letterbox in [-1, 1], decode, weighted NMS, unpad)."""
    return _detect(rgb, POSE_DET, POSE_ANCHORS, 4, (-1.0, 1.0), min_score)


def pose_rect(keypoints: np.ndarray) -> Rect:
    """``PoseDetectionToRoi``: centred on the mid-hip (0), side 2x its distance to keypoint 1 (upright), x1.25."""
    r = blaze.rect_from_alignment(keypoints[0], keypoints[1], 90.0)
    return blaze.transform_rect(r, 1.25, 1.25, square_long=True)


def pose_in_rect(rgb: np.ndarray, rect: Rect) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``PoseLandmarkByRoiCpu`` on one ROI: 33 points (pixels, z*width), visibility, world (m); None if no pose."""
    x, padded = _crop(rgb, rect, POSE_LM_SIZE)
    lms, flag, _seg, heatmap, world = landmark_models.run(POSE_LM, x)[:5]
    if not float(flag.reshape(-1)[0]) > 0.5:
        return None
    raw = lms.reshape(39, 5).astype(np.float64)
    pts = raw[:, :3] / np.array([POSE_LM_SIZE[1], POSE_LM_SIZE[0], POSE_LM_SIZE[1]])
    pts = refine_from_heatmap(pts, heatmap.reshape(heatmap.shape[-3:]), 7, 0.5)
    points = blaze.project(pts, padded)[:33]
    visibility = blaze.sigmoid(raw[:33, 3])
    return points, visibility, rotate_world(world.reshape(39, 3)[:33], rect.rotation)


def pose(rgb: np.ndarray, min_score: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The most prominent person as ``mediapipe.solutions.pose.Pose(static_image_mode=True, model_complexity=1)``.

    33 points (x, y in pixels, z = mediapipe's z * image width), visibility (33,) in [0, 1], and
    33 world points (m); None when no person is found.
    """
    dets = pose_detections(rgb, min_score)
    if len(dets) == 0:
        return None
    return pose_in_rect(rgb, pose_rect(dets.keypoints[0]))
