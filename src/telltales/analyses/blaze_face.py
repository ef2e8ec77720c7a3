"""Face detection and the 478-point face mesh without mediapipe: its TFLite models and graph rules.

:func:`detect` is ``mediapipe.solutions.face_detection.FaceDetection`` (short- or
full-range model) and :func:`mesh` is ``FaceMesh(static_image_mode=True,
max_num_faces=1, refine_landmarks=True)``, rebuilt from mediapipe's graphs
(``face_detection*.pbtxt``, ``face_landmark_front_cpu``,
``face_detection_front_detection_to_roi``, ``face_landmark_cpu``,
``iris_landmark_left_and_right_cpu``, ``iris_landmark_cpu``, ``update_face_landmarks``)
with the helpers of :mod:`telltales.analyses.blaze`.

The refined mesh is built the way mediapipe did before its attention model
(which needs custom TFLite ops): the 468-point ``face_landmark`` model, then the
``iris_landmark`` model on each eye, whose 71 eye-contour points replace the
mesh's points around that eye and whose 5 iris points become 468-477. By
default only the irises are taken (see :func:`refine`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from .. import landmark_models
from . import blaze


@dataclass(frozen=True)
class DetectorSpec:
    model: str
    anchors: blaze.AnchorOptions
    scale: float  # x, y, w, h scale (the input size)
    min_score: float  # the graph's min_score_thresh (what mediapipe 0.10.21 applies, see detect)


DETECTORS: dict[str, DetectorSpec] = {
    "short": DetectorSpec(
        "face_detection_short_range",
        blaze.AnchorOptions(input_size=(128, 128), num_layers=4, strides=(8, 16, 16, 16),
                            min_scale=0.1484375, max_scale=0.75, interpolated_scale_aspect_ratio=1.0),
        128.0,
        0.5,
    ),
    "full": DetectorSpec(
        "face_detection_full_range_sparse",
        blaze.AnchorOptions(input_size=(192, 192), num_layers=1, strides=(4,),
                            min_scale=0.1484375, max_scale=0.75, interpolated_scale_aspect_ratio=0.0),
        192.0,
        0.6,
    ),
}
NUM_KEYPOINTS = 6  # right eye, left eye (as mediapipe names them: 0 is image-left), nose, mouth, ears
NMS_IOU = 0.3
MESH_DETECTION_SCORE = 0.5  # FaceMesh's min_detection_confidence
FACE_FLAG_THRESHOLD = 0.5  # FaceMesh's min_tracking_confidence feeds the face-presence threshold
MESH_INPUT = 192
FACE_ROI_SCALE = 1.5
IRIS_INPUT = 64
# mediapipe's iris graph crops 2.3x the eye-corner distance; the iris model's radius grows with
# the crop, and at 2.3 it is ~7% smaller than the attention mesh's (today's FaceMesh, which the
# eye cues were built on), at 2.6 ~2% (no labels involved: measured against mediapipe's output
# in benchmarks/bench_blaze_face.py). 2.6 keeps the eye cues' iris sizes where they were.
IRIS_ROI_SCALE = 2.6
EYE_CORNERS = ((33, 133), (362, 263))  # first ("left" in mediapipe) eye, second ("right", flipped)

# update_face_landmarks_calculator.cc: the mesh index of each of the 71 eye-contour points, per eye.
EYE_CONTOUR_INDICES = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173,
     130, 25, 110, 24, 23, 22, 26, 112, 243, 247, 30, 29, 27, 28, 56, 190,
     226, 31, 228, 229, 230, 231, 232, 233, 244, 113, 225, 224, 223, 222, 221, 189,
     35, 124, 46, 53, 52, 65, 143, 111, 117, 118, 119, 120, 121, 128, 245,
     156, 70, 63, 105, 66, 107, 55, 193),
    (263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398,
     359, 255, 339, 254, 253, 252, 256, 341, 463, 467, 260, 259, 257, 258, 286, 414,
     446, 261, 448, 449, 450, 451, 452, 453, 464, 342, 445, 444, 443, 442, 441, 413,
     265, 353, 276, 283, 282, 295, 372, 340, 346, 347, 348, 349, 350, 357, 465,
     383, 300, 293, 334, 296, 336, 285, 417),
)
# The eye points whose mean z gives the iris z (the attention graph's "assign_average" z refinement).
EYE_Z_INDICES = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173),
    (263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398),
)

Box = tuple[float, float, float, float]


@cache
def _anchors(model: str) -> np.ndarray:
    return blaze.ssd_anchors(DETECTORS[model].anchors)


def _split(outputs: list[np.ndarray], sizes: tuple[int, ...]) -> list[np.ndarray]:
    """The model outputs ordered by ``sizes`` (element counts), whatever order the file lists them in."""
    by_size = {int(o.size): o for o in outputs}
    return [by_size[s] for s in sizes]


def detections(rgb: np.ndarray, model: str = "short", min_score: float = 0.5) -> blaze.Detections:
    """Face detections in ``rgb`` pixels, best first (weighted NMS already applied)."""
    spec = DETECTORS[model]
    h, w = spec.anchors.input_size
    roi = blaze.letterbox_rect(rgb.shape[0], rgb.shape[1], h, w)
    x = blaze.crop(rgb, roi, h, w, value_range=(-1.0, 1.0), border="zero")
    anchors = _anchors(model)
    n = anchors.shape[0]
    raw_boxes, raw_scores = _split(landmark_models.run(spec.model, x), (n * 16, n))
    s = spec.scale
    found = blaze.decode_boxes(raw_boxes, raw_scores, anchors, scale=(s, s, s, s),
                               num_keypoints=NUM_KEYPOINTS, min_score=min_score)
    return blaze.project_detections(blaze.weighted_nms(found, NMS_IOU), roi)


def detect(rgb: np.ndarray, model: str = "short",
           min_score: float | None = None) -> list[tuple[Box, float, np.ndarray]]:
    """Faces as ``FaceDetection(model_selection=0 short / 1 full)`` finds them.

    Each is ((x, y, w, h) box in ``rgb`` pixels, score, (6, 2) keypoints in pixels), best first.

    ``min_score`` None (the default) is what mediapipe 0.10.21 does whatever
    ``min_detection_confidence`` it is given: that option never reaches the
    graphs' ``TensorsToDetectionsCalculator``, which keep their own thresholds,
    0.5 for the short-range and 0.6 for the full-range model (measured: with
    0.3 or 0.8 the solution returns the same faces, down to score 0.52 for short).
    A number is applied as given.
    """
    spec = DETECTORS[model]
    d = detections(rgb, model, spec.min_score if min_score is None else min_score)
    out = []
    for b, s, k in zip(d.boxes, d.scores, d.keypoints, strict=True):
        out.append(((float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])), float(s), k.copy()))
    return out


def face_roi(box: np.ndarray, keypoints: np.ndarray) -> blaze.Rect:
    """``FaceDetectionFrontDetectionToRoi``: rotated by the eyes (keypoints 0 -> 1), squared, x1.5."""
    r = blaze.rect_from_box(box, keypoints[0], keypoints[1], 0.0)
    return blaze.transform_rect(r, FACE_ROI_SCALE, FACE_ROI_SCALE, square_long=True)


def eye_roi(points: np.ndarray, corners: tuple[int, int]) -> blaze.Rect:
    """``IrisLandmarkLandmarksToRoi``: the two corners' box, rotated along them, squared, x2.3."""
    r = blaze.rect_from_points(points[list(corners)], 0, 1, 0.0)
    return blaze.transform_rect(r, IRIS_ROI_SCALE, IRIS_ROI_SCALE, square_long=True)


def face_landmarks(rgb: np.ndarray, roi: blaze.Rect) -> tuple[np.ndarray, float]:
    """The 468 mesh points (x, y, z in pixels) in ``roi`` and the face-presence score."""
    x = blaze.crop(rgb, roi, MESH_INPUT, MESH_INPUT, value_range=(0.0, 1.0), border="replicate")
    raw, flag = _split(landmark_models.run("face_landmark", x), (468 * 3, 1))
    pts = raw.reshape(468, 3).astype(np.float64) / MESH_INPUT
    return blaze.project(pts, roi), float(blaze.sigmoid(float(flag.ravel()[0])))


def iris_landmarks(rgb: np.ndarray, roi: blaze.Rect, right: bool) -> tuple[np.ndarray, np.ndarray]:
    """``IrisLandmarkCpu``: (71, 3) eye-contour and (5, 3) iris points in pixels; the right eye is mirrored."""
    x = blaze.crop(rgb, roi, IRIS_INPUT, IRIS_INPUT, value_range=(0.0, 1.0), border="replicate", flip=right)
    contour, iris = _split(landmark_models.run("iris_landmark", x), (71 * 3, 5 * 3))
    c = blaze.project(contour.reshape(71, 3).astype(np.float64) / IRIS_INPUT, roi, flip=right)
    i = blaze.project(iris.reshape(5, 3).astype(np.float64) / IRIS_INPUT, roi, flip=right)
    return c, i


def refine(rgb: np.ndarray, points: np.ndarray, update_contours: bool = False) -> np.ndarray:
    """468 mesh points -> 478: both irises from the iris model (468-472 around corners 33/133,
    473-477 around 263/362, centre first), their z the mean z of the eye's contour.

    ``update_contours`` also replaces the 71 points around each eye with the iris
    model's (x, y), as mediapipe's iris-tracking graph did (``UpdateFaceLandmarksCalculator``).
    Off by default: against today's FaceMesh (the attention model) the face
    model's own eye points are closer (median error 0.8% of the face size
    against 1.0% for the eye contour, 0.9% against 2.2% for the brows): the iris
    model draws the eye region about 10% smaller around the iris centre.
    """
    out = np.asarray(points, dtype=np.float64).copy()
    irises = []
    for e, corners in enumerate(EYE_CORNERS):
        contour, iris = iris_landmarks(rgb, eye_roi(points, corners), right=e == 1)
        if update_contours:
            out[list(EYE_CONTOUR_INDICES[e]), :2] = contour[:, :2]
        iris[:, 2] = out[list(EYE_Z_INDICES[e]), 2].mean()
        irises.append(iris)
    return np.concatenate([out] + irises, axis=0)


def mesh(rgb: np.ndarray) -> np.ndarray | None:
    """The (478, 3) refined mesh of the most confident face, as ``FaceMesh(static_image_mode=True,
    max_num_faces=1, refine_landmarks=True, min_detection_confidence=0.5)`` gives it.

    x, y in ``rgb`` pixels; z in pixels (mediapipe's z times the image width).
    None when the short-range detector finds no face or the face-presence score is below 0.5.
    """
    d = detections(rgb, "short", MESH_DETECTION_SCORE)
    if not len(d):
        return None
    points, presence = face_landmarks(rgb, face_roi(d.boxes[0], d.keypoints[0]))
    if presence < FACE_FLAG_THRESHOLD:
        return None
    return refine(rgb, points)
