"""Body landmarks shared by the body cues: faces (478-point mesh), hands (21 points), pose (33 points).

All come from mediapipe's models (face detection, face mesh, iris, palm, hand and
pose landmarks; Apache-2.0), installed by :mod:`telltales.landmark_models` and run
with the TFLite runtime; the pre- and post-processing of mediapipe's graphs is
ported in :mod:`.blaze`, :mod:`.blaze_face` and :mod:`.blaze_body` (mediapipe
itself is not needed). Nothing is downloaded. They are computed once per image,
lazily, at the working size (``a.rgb``); coordinates are working-size pixels.

Cost control: ``faces`` first runs the small face detectors (a few ms) and runs
the mesh only on a crop around each face it found; ``pose`` runs only when a
face or a hand was found, so an image without people pays for three detectors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..analysis import Analysis, provider
from . import blaze_body, blaze_face

MAX_FACES = 5
MAX_HANDS = 6
MIN_FACE_PX = 24  # faces smaller than this (box side, working px) are not meshed
MIN_IRIS_PX = 4.0  # irises with a smaller radius (native px) are not cropped

# Mesh indices used by the eye cues (refine_landmarks=True adds 468..477).
IRIS_A = (468, 469, 470, 471, 472)  # centre first; the eye around corners 33/133
IRIS_B = (473, 474, 475, 476, 477)  # the eye around corners 263/362
EYE_A_CONTOUR = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
EYE_B_CONTOUR = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)


def _frozen(x: Any) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float32)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Face:
    """One face: detector box and score, and the 478-point mesh (x, y in working px; z relative, px)."""

    box: tuple[float, float, float, float]  # x, y, w, h in working-size pixels
    score: float
    points: np.ndarray  # (478, 3)

    @property
    def size(self) -> float:
        return float(max(self.box[2], self.box[3]))


@dataclass(frozen=True, eq=False)
class Hand:
    """One hand: box around its landmarks, detector confidence, side, 21 points and 3-D world points (m)."""

    box: tuple[float, float, float, float]
    score: float
    side: str  # "Left" / "Right" as mediapipe labels it (its mirrored-image convention)
    points: np.ndarray  # (21, 3) x, y in working px, z relative
    world: np.ndarray  # (21, 3) metres, origin at the hand's centre

    @property
    def size(self) -> float:
        return float(max(self.box[2], self.box[3]))


@dataclass(frozen=True, eq=False)
class Pose:
    """One body (mediapipe pose finds the most prominent person): 33 points, visibility, world points (m)."""

    box: tuple[float, float, float, float]
    points: np.ndarray  # (33, 3) x, y in working px, z relative
    visibility: np.ndarray  # (33,)
    world: np.ndarray  # (33, 3)


# --- geometry helpers -----------------------------------------------------------------
def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0.0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _points_box(pts: np.ndarray) -> tuple[float, float, float, float]:
    x0, y0 = pts[:, 0].min(), pts[:, 1].min()
    return (float(x0), float(y0), float(pts[:, 0].max() - x0), float(pts[:, 1].max() - y0))


def _usable(rgb: np.ndarray) -> bool:
    return rgb.ndim == 3 and min(rgb.shape[:2]) >= 32 and float(rgb.std()) > 2.0


def detect_faces(rgb: np.ndarray) -> list[tuple[tuple[float, float, float, float], float]]:
    """Face boxes (working px) and scores from both face detectors (full and short range), merged."""
    found: list[tuple[tuple[float, float, float, float], float]] = []
    for model in ("full", "short"):
        for box, score, _ in blaze_face.detect(rgb, model):
            if all(_iou(box, b) < 0.3 for b, _ in found):
                found.append((box, score))
    found.sort(key=lambda f: -f[0][2] * f[0][3])
    return found


def mesh_face(rgb: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray | None:
    """The 478-point mesh of the face in ``box``, run on a crop around it; None if the mesh fails."""
    h, w = rgb.shape[:2]
    x, y, bw, bh = box
    side = max(bw, bh) * 2.0
    cx, cy = x + bw / 2, y + bh / 2
    x0, y0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    x1, y1 = int(min(w, cx + side / 2)), int(min(h, cy + side / 2))
    crop = rgb[y0:y1, x0:x1]
    if crop.shape[0] < 8 or crop.shape[1] < 8:
        return None
    up = max(1.0, 256.0 / max(crop.shape[:2]))
    if up > 1.0:
        import cv2

        crop = cv2.resize(crop, (round(crop.shape[1] * up), round(crop.shape[0] * up)), interpolation=cv2.INTER_CUBIC)
    found = blaze_face.mesh(np.ascontiguousarray(crop))
    if found is None:
        return None
    pts = found / up
    pts[:, 0] += x0
    pts[:, 1] += y0
    return pts


# --- providers --------------------------------------------------------------------
@provider("faces")
def faces(a: Analysis) -> tuple[Face, ...]:
    """Faces with their refined 478-point mesh (irises included); empty when there are none."""
    rgb = a.get("rgb")
    if not _usable(rgb):
        return ()
    out: list[Face] = []
    for box, score in detect_faces(rgb)[: MAX_FACES * 2]:
        if max(box[2], box[3]) < MIN_FACE_PX:
            continue
        pts = mesh_face(rgb, box)
        if pts is None:
            continue
        mbox = _points_box(pts)
        if any(_iou(mbox, f.box) > 0.4 for f in out):
            continue
        out.append(Face(box=mbox, score=score, points=_frozen(pts)))
        if len(out) >= MAX_FACES:
            break
    return tuple(out)


@provider("hands")
def hands(a: Analysis) -> tuple[Hand, ...]:
    """Hands with 21 landmarks each (palm detector + landmark model); empty when there are none."""
    rgb = a.get("rgb")
    if not _usable(rgb):
        return ()
    out: list[Hand] = []
    for pts, world, side, score in blaze_body.hands(np.ascontiguousarray(rgb), MAX_HANDS, 0.5):
        out.append(Hand(_points_box(pts), float(score), side, _frozen(pts), _frozen(world)))
    return tuple(out)


@provider("pose")
def pose(a: Analysis) -> tuple[Pose, ...]:
    """The most prominent person's 33 body landmarks; run only when a face or a hand was found."""
    rgb = a.get("rgb")
    if not _usable(rgb) or not (a.get("faces") or a.get("hands")):
        return ()
    found = blaze_body.pose(np.ascontiguousarray(rgb))
    if found is None:
        return ()
    pts, vis, wpts = found
    seen = pts[vis > 0.5] if (vis > 0.5).sum() >= 2 else pts
    return (Pose(_points_box(seen), _frozen(pts), _frozen(vis), _frozen(wpts)),)


@dataclass(frozen=True, eq=False)
class Eye:
    """One eye cut from the full-resolution image: RGB crop, iris circle and the eyelid opening."""

    face: int  # index into ``faces``
    which: str  # "image-left" / "image-right"
    crop: np.ndarray  # uint8 RGB, native pixels
    centre: tuple[float, float]  # iris centre, crop px
    radius: float  # iris radius, native px
    opening: np.ndarray  # bool, crop shape: inside the eyelids (from the mesh eye contour)
    box: tuple[float, float, float, float]  # the crop in working-size pixels (for regions)


def _eye(native: np.ndarray, scale: float, face_i: int, pts: np.ndarray, iris: tuple[int, ...],
         contour: tuple[int, ...]) -> Eye | None:
    import cv2

    c = pts[iris[0], :2] / scale
    rim = pts[list(iris[1:]), :2] / scale
    radius = float(np.mean(np.linalg.norm(rim - c, axis=1)))
    if not np.isfinite(radius) or radius < MIN_IRIS_PX:
        return None
    half = int(np.ceil(radius * 2.2))
    H, W = native.shape[:2]
    x0, y0 = int(round(c[0])) - half, int(round(c[1])) - half
    x1, y1 = x0 + 2 * half + 1, y0 + 2 * half + 1
    if x0 < 0 or y0 < 0 or x1 > W or y1 > H:
        return None
    crop = np.ascontiguousarray(native[y0:y1, x0:x1])
    poly = np.round(pts[list(contour), :2] / scale - (x0, y0)).astype(np.int32)
    opening = np.zeros(crop.shape[:2], np.uint8)
    cv2.fillPoly(opening, [poly], 1)
    crop.setflags(write=False)
    op = opening.astype(bool)
    op.setflags(write=False)
    box = (x0 * scale, y0 * scale, (x1 - x0) * scale, (y1 - y0) * scale)
    return Eye(face_i, "", crop, (float(c[0] - x0), float(c[1] - y0)), radius, op, box)


@provider("eyes")
def eyes(a: Analysis) -> tuple[Eye, ...]:
    """Both eyes of every meshed face, cut at full resolution around the iris landmarks."""
    found = a.get("faces")
    if not found:
        return ()
    native, scale = a.get("native"), a.scale
    out: list[Eye] = []
    for i, f in enumerate(found):
        pair = [_eye(native, scale, i, f.points, iris, contour)
                for iris, contour in ((IRIS_A, EYE_A_CONTOUR), (IRIS_B, EYE_B_CONTOUR))]
        left_first = f.points[IRIS_A[0], 0] <= f.points[IRIS_B[0], 0]
        for k, e in enumerate(pair):
            if e is not None:
                which = "image-left" if (k == 0) == left_first else "image-right"
                out.append(Eye(e.face, which, e.crop, e.centre, e.radius, e.opening, e.box))
    return tuple(out)


def eye_pairs(eyes: tuple[Eye, ...]) -> tuple[list[tuple[int, Eye, Eye]], list[dict[str, Any]]]:
    """Both eyes of each face as ``(face, image-left, image-right)``, and the faces skipped (and why)."""
    by_face: dict[int, dict[str, Eye]] = {}
    for e in eyes:
        by_face.setdefault(e.face, {})[e.which] = e
    pairs, skipped = [], []
    for face, two in sorted(by_face.items()):
        if len(two) < 2:
            skipped.append({"face": face, "why": "only one eye visible"})
        else:
            pairs.append((face, two["image-left"], two["image-right"]))
    return pairs, skipped
