"""The pre- and post-processing mediapipe's graphs do around its BlazeFace/BlazePalm/BlazePose models.

Plain numpy + OpenCV ports of the mediapipe calculators that sit between an
image and a TFLite model (the models themselves run through
:func:`telltales.landmark_models.run`):

* :func:`ssd_anchors` -- ``SsdAnchorsCalculator``;
* :func:`decode_boxes` -- ``TensorsToDetectionsCalculator`` (boxes, keypoints, sigmoid scores);
* :func:`weighted_nms` -- ``NonMaxSuppressionCalculator`` with ``algorithm: WEIGHTED``;
* :func:`letterbox_rect`, :func:`crop` -- ``ImageToTensorCalculator`` (whole image kept in
  aspect with zero padding, or a rotated rectangle warped to the model's input);
* :func:`project` -- ``LandmarkProjectionCalculator`` / ``DetectionProjectionCalculator``
  (model-input coordinates back to image pixels);
* :func:`rect_from_box`, :func:`rect_from_points`, :func:`rect_from_alignment`,
  :func:`transform_rect` -- ``DetectionsToRectsCalculator`` (rotation from two keypoints),
  ``AlignmentPointsRectsCalculator`` and ``RectTransformationCalculator`` (scale, shift,
  ``square_long``);
* :func:`pad_rect` -- ``ImageToTensorCalculator``'s ``PadRoi`` (a rect grown to the
  tensor's aspect ratio, ``keep_aspect_ratio: true``).

Used by :mod:`telltales.analyses.blaze_face` and :mod:`telltales.analyses.blaze_body`.

Everything works in image pixels. A rotated rectangle is a :class:`Rect`
(centre, width, height, rotation in radians, positive = clockwise on screen, as
mediapipe's ``NormalizedRect.rotation``). A detection is a :class:`Detections`
batch: boxes as (xmin, ymin, xmax, ymax), keypoints (n, k, 2), scores (n,).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


# anchors ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class AnchorOptions:
    """The fields of ``SsdAnchorsCalculatorOptions`` the Blaze models use."""

    input_size: tuple[int, int]  # (height, width) of the model input
    num_layers: int
    strides: tuple[int, ...]
    min_scale: float
    max_scale: float
    anchor_offset: tuple[float, float] = (0.5, 0.5)  # (x, y)
    aspect_ratios: tuple[float, ...] = (1.0,)
    interpolated_scale_aspect_ratio: float = 1.0
    fixed_anchor_size: bool = True
    reduce_boxes_in_lowest_layer: bool = False


def _scale(min_scale: float, max_scale: float, index: int, count: int) -> float:
    if count == 1:
        return (min_scale + max_scale) * 0.5
    return min_scale + (max_scale - min_scale) * index / (count - 1.0)


def ssd_anchors(o: AnchorOptions) -> np.ndarray:
    """Anchors as (n, 4) float32 rows (x_center, y_center, w, h), normalised, in the model's order.

    Consecutive layers with the same stride share one feature map (their anchors
    are interleaved per cell), as in mediapipe; the cells run row by row.
    """
    out: list[tuple[float, float, float, float]] = []
    layer = 0
    while layer < o.num_layers:
        ratios: list[float] = []
        scales: list[float] = []
        last = layer
        while last < o.num_layers and o.strides[last] == o.strides[layer]:
            scale = _scale(o.min_scale, o.max_scale, last, o.num_layers)
            if last == 0 and o.reduce_boxes_in_lowest_layer:
                ratios += [1.0, 2.0, 0.5]
                scales += [0.1, scale, scale]
            else:
                for ar in o.aspect_ratios:
                    ratios.append(ar)
                    scales.append(scale)
                if o.interpolated_scale_aspect_ratio > 0.0:
                    nxt = 1.0 if last == o.num_layers - 1 else _scale(o.min_scale, o.max_scale, last + 1, o.num_layers)
                    scales.append(math.sqrt(scale * nxt))
                    ratios.append(o.interpolated_scale_aspect_ratio)
            last += 1
        sizes = [(s * math.sqrt(r), s / math.sqrt(r)) for s, r in zip(scales, ratios, strict=True)]  # (w, h)
        stride = o.strides[layer]
        fh = math.ceil(o.input_size[0] / stride)
        fw = math.ceil(o.input_size[1] / stride)
        for y in range(fh):
            for x in range(fw):
                cx = (x + o.anchor_offset[0]) / fw
                cy = (y + o.anchor_offset[1]) / fh
                for w, h in sizes:
                    out.append((cx, cy, 1.0, 1.0) if o.fixed_anchor_size else (cx, cy, w, h))
        layer = last
    return np.asarray(out, dtype=np.float32)


# decoding ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Detections:
    """A batch of detections: boxes (n, 4) as xmin, ymin, xmax, ymax; keypoints (n, k, 2); scores (n,)."""

    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    def take(self, idx: np.ndarray | list[int] | slice) -> Detections:
        if not isinstance(idx, slice):
            idx = np.asarray(idx, dtype=np.int64)
        return Detections(self.boxes[idx], self.keypoints[idx], self.scores[idx])


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def decode_boxes(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, *,
                 scale: tuple[float, float, float, float], num_keypoints: int,
                 min_score: float, score_clipping: float = 100.0,
                 keypoint_offset: int = 4, values_per_keypoint: int = 2) -> Detections:
    """``TensorsToDetectionsCalculator`` with ``reverse_output_order: true`` and ``sigmoid_score: true``.

    ``raw_boxes`` (n, coords) and ``raw_scores`` (n, classes) are the model's
    two outputs (batch dimension dropped); ``scale`` is (x, y, w, h) scale.
    Coordinates come out normalised to the model input; detections scoring
    below ``min_score`` (best class, after clipping and the sigmoid) are dropped.
    """
    raw = np.asarray(raw_boxes, dtype=np.float64).reshape(anchors.shape[0], -1)
    logits = np.asarray(raw_scores, dtype=np.float64).reshape(anchors.shape[0], -1)
    if score_clipping > 0:
        logits = np.clip(logits, -score_clipping, score_clipping)
    scores = sigmoid(logits.max(axis=1))
    keep = np.flatnonzero(scores >= min_score)
    a = anchors[keep].astype(np.float64)
    r = raw[keep]
    xs, ys, ws, hs = scale
    cx = r[:, 0] / xs * a[:, 2] + a[:, 0]
    cy = r[:, 1] / ys * a[:, 3] + a[:, 1]
    w = r[:, 2] / ws * a[:, 2]
    h = r[:, 3] / hs * a[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    k = np.arange(num_keypoints) * values_per_keypoint + keypoint_offset
    kx = r[:, k] / xs * a[:, 2:3] + a[:, 0:1]
    ky = r[:, k + 1] / ys * a[:, 3:4] + a[:, 1:2]
    valid = (w >= 0) & (h >= 0)
    return Detections(boxes[valid], np.stack([kx, ky], axis=2)[valid], scores[keep][valid])


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of one box ``a`` (xmin, ymin, xmax, ymax) with boxes ``b`` (n, 4)."""
    ix = np.clip(np.minimum(a[2], b[:, 2]) - np.maximum(a[0], b[:, 0]), 0, None)
    iy = np.clip(np.minimum(a[3], b[:, 3]) - np.maximum(a[1], b[:, 1]), 0, None)
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def weighted_nms(d: Detections, min_suppression: float = 0.3, max_detections: int = -1) -> Detections:
    """``NonMaxSuppressionCalculator`` in WEIGHTED mode with IoU overlap.

    Repeatedly takes the best remaining detection; every remaining detection whose
    IoU with it exceeds ``min_suppression`` (itself included) is merged into one
    whose box and keypoints are the score-weighted means, keeping the best score.
    The result is ordered by score, best first.
    """
    order = list(np.argsort(-d.scores, kind="stable"))
    boxes, kps, scores = [], [], []
    while order:
        top = order[0]
        rest = np.asarray(order)
        sim = iou(d.boxes[top], d.boxes[rest])
        group = rest[sim > min_suppression]
        order = [int(i) for i in rest[sim <= min_suppression] if i != top]
        if group.size:
            w = d.scores[group][:, None]
            boxes.append((d.boxes[group] * w).sum(0) / w.sum())
            kps.append((d.keypoints[group] * w[:, :, None]).sum(0) / w.sum())
        else:  # only when the top box is degenerate (zero area, IoU with itself 0)
            boxes.append(d.boxes[top])
            kps.append(d.keypoints[top])
        scores.append(d.scores[top])
        if 0 < max_detections <= len(scores):
            break
    if not scores:
        return Detections(np.zeros((0, 4)), np.zeros((0,) + d.keypoints.shape[1:]), np.zeros(0))
    return Detections(np.asarray(boxes), np.asarray(kps), np.asarray(scores))


# rectangles -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rect:
    """A rotated rectangle in image pixels: centre, size, rotation (radians, clockwise on screen)."""

    cx: float
    cy: float
    w: float
    h: float
    rotation: float = 0.0


def normalize_radians(angle: float) -> float:
    """Into [-pi, pi), as mediapipe's ``NormalizeRadians``."""
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def rotation(start: np.ndarray, end: np.ndarray, target_degrees: float) -> float:
    """``DetectionsToRectsCalculator``'s rotation: the start->end vector turned to ``target_degrees``."""
    angle = math.radians(target_degrees) - math.atan2(-(float(end[1]) - float(start[1])),
                                                      float(end[0]) - float(start[0]))
    return normalize_radians(angle)


def rect_from_box(box: np.ndarray, start: np.ndarray | None = None, end: np.ndarray | None = None,
                  target_degrees: float = 0.0) -> Rect:
    """A rect around box (xmin, ymin, xmax, ymax, pixels), rotated by the start->end keypoints if given."""
    x0, y0, x1, y1 = (float(v) for v in box)
    rot = rotation(start, end, target_degrees) if start is not None and end is not None else 0.0
    return Rect((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0, rot)


def rect_from_points(points: np.ndarray, start: int, end: int, target_degrees: float = 0.0) -> Rect:
    """``LandmarksToDetection`` + ``DetectionsToRects``: the points' bounding box, rotated by two of them."""
    p = np.asarray(points, dtype=np.float64)[:, :2]
    box = np.array([p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()])
    return rect_from_box(box, p[start], p[end], target_degrees)


def rect_from_alignment(center: np.ndarray, scale_point: np.ndarray, target_degrees: float = 0.0) -> Rect:
    """``AlignmentPointsRectsCalculator``: a square centred on ``center``, side twice the distance to
    ``scale_point``, rotated so that center -> scale_point points at ``target_degrees``."""
    c = np.asarray(center, dtype=np.float64)
    e = np.asarray(scale_point, dtype=np.float64)
    side = 2.0 * float(np.hypot(*(e[:2] - c[:2])))
    return Rect(float(c[0]), float(c[1]), side, side, rotation(c, e, target_degrees))


def transform_rect(r: Rect, scale_x: float = 1.0, scale_y: float = 1.0, shift_x: float = 0.0,
                   shift_y: float = 0.0, square_long: bool = False, square_short: bool = False) -> Rect:
    """``RectTransformationCalculator`` on a pixel rect: shift (in rect units, along its axes), square, scale."""
    cx, cy, w, h = r.cx, r.cy, r.w, r.h
    c, s = math.cos(r.rotation), math.sin(r.rotation)
    cx += w * shift_x * c - h * shift_y * s
    cy += w * shift_x * s + h * shift_y * c
    if square_long:
        w = h = max(w, h)
    elif square_short:
        w = h = min(w, h)
    return Rect(cx, cy, w * scale_x, h * scale_y, r.rotation)


def pad_rect(r: Rect, out_h: int, out_w: int) -> Rect:
    """Rect ``r`` grown to the model's aspect ratio (``keep_aspect_ratio: true``), same centre and rotation.

    ``ImageToTensorCalculator``'s ``PadRoi``: the padding is split evenly on both sides, so
    :func:`crop` through the grown rect letterboxes ``r`` and :func:`project` through it maps
    model-input coordinates straight back to image pixels (no separate letterbox removal).
    """
    target = out_h / out_w
    w, h = float(r.w), float(r.h)
    if target > h / w:
        h = w * target
    else:
        w = h / target
    return Rect(r.cx, r.cy, w, h, r.rotation)


def letterbox_rect(height: int, width: int, out_h: int, out_w: int) -> Rect:
    """The whole image as a rect grown to the model's aspect ratio (:func:`pad_rect` of the image)."""
    return pad_rect(Rect(width / 2.0, height / 2.0, float(width), float(height), 0.0), out_h, out_w)


# crops ------------------------------------------------------------------------------------
def _sampling_matrix(r: Rect, out_h: int, out_w: int, flip: bool = False) -> np.ndarray:
    """The 2x3 affine matrix taking model-input pixels to image pixels for rect ``r``, in float64 from the rect."""
    c, s = math.cos(r.rotation), math.sin(r.rotation)
    rot = np.array([[c, -s], [s, c]])
    sx = -r.w / out_w if flip else r.w / out_w
    half_x = -r.w / 2 if flip else r.w / 2
    lin = rot @ np.diag([sx, r.h / out_h])
    shift = np.array([r.cx, r.cy]) - rot @ np.array([half_x, r.h / 2])
    return np.hstack([lin, shift[:, None]])


def crop_matrix(r: Rect, out_h: int, out_w: int, flip: bool = False, float32_corners: bool = True) -> np.ndarray:
    """The 2x3 affine matrix taking image pixels to the model input for rect ``r``.

    As mediapipe's OpenCV converter: the rect's corners go to the tensor's corners
    (0, 0) .. (out_w, out_h); ``flip`` mirrors the result left-right (the iris model's right eye).

    ``float32_corners`` True (mediapipe's converter, the face port): the matrix is fitted to the
    rect's corners as ``cv2.boxPoints`` gives them, rounded to float32. False (the hand and pose
    port): computed from the rect in float64. The two differ by ~1e-4 px in where a pixel is read,
    which can flip a rounding in the bilinear sampling; the landmark models' answers move with it
    (a heatmap-refined pose landmark by up to a few pixels), so each port keeps the one it was
    measured with.
    """
    if not float32_corners:
        return cv2.invertAffineTransform(_sampling_matrix(r, out_h, out_w, flip))
    corners = cv2.boxPoints(((r.cx, r.cy), (r.w, r.h), math.degrees(r.rotation)))  # bl, tl, tr, br
    dst = np.float32([[0, out_h], [0, 0], [out_w, 0]])
    if flip:
        dst = np.float32([[out_w, out_h], [out_w, 0], [0, 0]])
    return cv2.getAffineTransform(np.float32(corners[:3]), dst)


def crop(rgb: np.ndarray, r: Rect, out_h: int, out_w: int, value_range: tuple[float, float] = (0.0, 1.0),
         border: str = "replicate", flip: bool = False, float32_corners: bool = True) -> np.ndarray:
    """``ImageToTensorCalculator``: rect ``r`` of ``rgb`` (uint8 HxWx3) warped to a (1, out_h, out_w, 3) float32 tensor.

    Bilinear sampling through :func:`crop_matrix` (``flip``, ``float32_corners`` as there);
    outside the image ``border`` is "replicate" (edge pixels) or "zero" (black, i.e. the low
    end of ``value_range``). To letterbox a rect of another aspect ratio than the tensor's
    (``keep_aspect_ratio: true``), crop :func:`pad_rect` of it.
    """
    if float32_corners:
        m, flags = crop_matrix(r, out_h, out_w, flip), cv2.INTER_LINEAR
    else:
        m, flags = _sampling_matrix(r, out_h, out_w, flip), cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    mode = cv2.BORDER_REPLICATE if border == "replicate" else cv2.BORDER_CONSTANT
    img = cv2.warpAffine(np.ascontiguousarray(rgb), m, (out_w, out_h), flags=flags, borderMode=mode, borderValue=0)
    lo, hi = value_range
    x = img.astype(np.float32) * np.float32((hi - lo) / 255.0) + np.float32(lo)
    return x[None]


def project(points: np.ndarray, r: Rect, flip: bool = False) -> np.ndarray:
    """Points normalised to the model input ((n, 2+) in [0, 1]) back to image pixels through rect ``r``.

    ``LandmarkProjectionCalculator``: rotate about the rect centre, scale by the
    rect size. A third column (z, normalised by the input width) is scaled by
    the rect width into pixels. ``flip`` undoes a left-right mirrored crop.
    """
    p = np.asarray(points, dtype=np.float64).copy()
    if flip:
        p[:, 0] = 1.0 - p[:, 0]
    x, y = p[:, 0] - 0.5, p[:, 1] - 0.5
    c, s = math.cos(r.rotation), math.sin(r.rotation)
    p[:, 0] = (c * x - s * y) * r.w + r.cx
    p[:, 1] = (s * x + c * y) * r.h + r.cy
    if p.shape[1] > 2:
        p[:, 2] = p[:, 2] * r.w
    return p


def project_detections(d: Detections, r: Rect) -> Detections:
    """``DetectionProjectionCalculator``: detections normalised to the model input to image pixels.

    Boxes become the axis-aligned bounds of their projected corners.
    """
    if not len(d):
        return d
    b = d.boxes
    corners = np.stack([b[:, [0, 1]], b[:, [2, 1]], b[:, [2, 3]], b[:, [0, 3]]], axis=1).reshape(-1, 2)
    pc = project(corners, r).reshape(-1, 4, 2)
    boxes = np.concatenate([pc.min(1), pc.max(1)], axis=1)
    n, k, _ = d.keypoints.shape
    kps = project(d.keypoints.reshape(-1, 2), r).reshape(n, k, 2)
    return Detections(boxes, kps, d.scores)
