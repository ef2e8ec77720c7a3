"""Plastic skin: a face smoother than any real photograph (Borji 2023, 2.1 "skin and hair").

Generated portraits often have skin like polished wax: pores, fine lines and
the small irregularities of real skin are missing, while the eyebrows and
eyelashes next to it are crisp. A real face photographed in focus keeps some
texture everywhere, even after retouching.

The check, on every face large enough:
1. The face is cut from the full-resolution picture and resampled so that the
   irises are SCALE_IOD pixels apart; every face is measured at the same
   scale, whatever the picture's resolution.
2. Texture is the median absolute difference between the face and a blurred
   copy of it (sigma 1.5 px), in three skin spots the mesh locates: both
   cheeks and the forehead. Spots with clipped highlights or deep shadow are
   not measured (they are flat for another reason).
3. The eyebrows must be textured: when they are flat too, the face is out of
   focus, drawn or painted, and smooth skin means nothing. Such faces are not
   judged.
4. When all three spots are smoother than SMOOTH, the skin is "plastic".

Compression smooths skin too: faces in JPEGs below quality MIN_JPEG_QUALITY are
judged only when large enough for the 8x8 blocks to average out, and not at all
below MIN_JPEG_QUALITY_LARGE.

SMOOTH sits 25% below the smoothest real face measured (benchmarks/bench_body2.py:
half of the dev real photos with faces fitted it, the other half was checked;
heavily retouched stock portraits come closest). Beauty filters, heavy
retouching, dolls and statues make smooth skin too, hence the modest strength.

Hair dissolving into the background is not measured: where the hair meets the
background is boxed for a person to look at.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from telltales.analyses.pixels import luma
from telltales.analysis import Analysis
from telltales.cues.body.face_symmetry import yaw
from telltales.degradation import jpeg_quality
from telltales.findings import ManualCheck, Region, Result
from telltales.formats import jpeg
from telltales.registry import cue
from telltales.taxonomy import BY_ID

SCALE_IOD = 60.0  # faces are resampled to this distance between the iris centres (px)
MIN_IOD = 60.0  # native px between the iris centres: smaller faces are not judged
IRIS_CENTRES = (468, 473)
SKIN_SPOTS = {"image-left cheek": 205, "image-right cheek": 425, "forehead": 151}
BROWS = (105, 334, 66, 296)
SPOT_RADIUS = 0.12  # of the iris distance
BROW_RADIUS = 0.08
BLUR_SIGMA = 1.5  # px at SCALE_IOD
MIN_SPOT_PX = 50
CLIPPED = (8.0, 247.0)  # grey levels: darker or brighter pixels are clipped, not skin texture
MAX_CLIPPED = 0.2
SMOOTH = 0.45  # grey levels: all three spots below this is plastic skin
SHARP_BROWS = 1.5  # grey levels: flatter eyebrows mean an out-of-focus or drawn face
MAX_YAW = 0.3
# JPEG compression smooths skin by itself where its 8x8 blocks are about the size of the measuring scale: on dev,
# the smoothest real face (0.60 as published) fell to 0.35 once recompressed at quality 60. Faces at least
# twice the measuring scale are shrunk enough for the blocks to average out.
MIN_JPEG_QUALITY = 70
MIN_JPEG_QUALITY_LARGE = 50  # for faces with the irises at least 2 * SCALE_IOD apart
STRENGTH = 0.35
TOP_OF_FACE = 10  # mesh point at the top of the forehead


def _disc_texture(residual: np.ndarray, gray: np.ndarray, centre: np.ndarray, radius: float) -> float | None:
    """Median |residual| inside a disc; None when the disc leaves the crop, is tiny or mostly clipped."""
    h, w = residual.shape
    yy, xx = np.ogrid[:h, :w]
    disc = (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 < radius**2
    if disc.sum() < MIN_SPOT_PX or not (0 <= centre[0] < w and 0 <= centre[1] < h):
        return None
    g = gray[disc]
    if float(((g < CLIPPED[0]) | (g > CLIPPED[1])).mean()) > MAX_CLIPPED:
        return None
    return float(np.median(np.abs(residual[disc])))


def face_texture(gray: np.ndarray, mesh: np.ndarray) -> dict[str, Any] | str:
    """Skin and eyebrow texture of one face, or why it cannot be measured.

    ``gray``: float32 grey levels 0-255 at full resolution; ``mesh``: (478, 2+) points in the same pixels.
    """
    import cv2

    p = np.asarray(mesh, dtype=np.float64)[:, :2]
    iod = float(np.linalg.norm(p[IRIS_CENTRES[0]] - p[IRIS_CENTRES[1]]))
    if not np.isfinite(iod) or iod < MIN_IOD:
        return f"the eyes are {iod:.0f} px apart, too small to see skin texture (need {MIN_IOD:.0f})"
    x0, y0 = np.maximum(np.floor(p.min(axis=0)).astype(int), 0)
    x1, y1 = np.ceil(p.max(axis=0)).astype(int) + 1
    crop = gray[y0:y1, x0:x1]
    if crop.shape[0] < 8 or crop.shape[1] < 8:
        return "the face runs out of the picture"
    k = SCALE_IOD / iod
    small = cv2.resize(crop, (max(1, round(crop.shape[1] * k)), max(1, round(crop.shape[0] * k))),
                       interpolation=cv2.INTER_AREA)
    residual = small - cv2.GaussianBlur(small, (0, 0), BLUR_SIGMA)
    at = (p - (x0, y0)) * k
    spots = {name: _disc_texture(residual, small, at[i], SPOT_RADIUS * SCALE_IOD) for name, i in SKIN_SPOTS.items()}
    brows = [t for i in BROWS if (t := _disc_texture(residual, small, at[i], BROW_RADIUS * SCALE_IOD)) is not None]
    if any(v is None for v in spots.values()):
        missing = ", ".join(n for n, v in spots.items() if v is None)
        return f"skin not measurable at the {missing} (out of the picture, clipped or in deep shadow)"
    if len(brows) < 2:
        return "the eyebrows are not measurable"
    return {"iris_distance": iod, "spots": spots, "brows": float(np.median(brows))}


def is_plastic(m: dict[str, Any]) -> bool:
    """Every skin spot smoother than SMOOTH, next to textured eyebrows."""
    return m["brows"] >= SHARP_BROWS and max(m["spots"].values()) < SMOOTH


def _spot_boxes(mesh: np.ndarray, iod: float) -> list[tuple[str, tuple[float, float, float, float]]]:
    r = SPOT_RADIUS * iod
    return [(name, (float(mesh[i, 0] - r), float(mesh[i, 1] - r), 2 * r, 2 * r)) for name, i in SKIN_SPOTS.items()]


def _hair_box(mesh: np.ndarray) -> tuple[float, float, float, float]:
    """Where the hair meets the background: above and around the forehead (working px)."""
    x0, x1 = float(mesh[:, 0].min()), float(mesh[:, 0].max())
    top, bottom = float(mesh[TOP_OF_FACE, 1]), float(mesh[:, 1].max())
    w, h = x1 - x0, bottom - top
    return (x0 - 0.25 * w, top - 0.6 * h, 1.5 * w, 0.9 * h)


def _hair_check(a: Analysis, faces) -> tuple[ManualCheck, ...]:
    boxes = []
    H, W = a.get("rgb").shape[:2]
    for f in faces:
        x, y, w, h = _hair_box(f.points)
        x0, y0, x1, y1 = max(0.0, x), max(0.0, y), min(float(W), x + w), min(float(H), y + h)
        if x1 > x0 and y1 > y0:
            boxes.append(Region(a.to_original((x0, y0, x1 - x0, y1 - y0)), "hair outline"))
    note = "Hair is not judged automatically: look where it meets the background (boxed)."
    return (ManualCheck("body.skin-hair", f"{note} {BY_ID['body.skin-hair'].guidance}", tuple(boxes)),)


@cue("body.skin-hair", needs=("faces", "native"), version="2")
def plastic_skin(a: Analysis) -> Result:
    """Skin on an in-focus face smoother than on any real photo measured."""
    faces = a.get("faces")
    if not faces:
        return Result.not_applicable("no face found")
    q = jpeg_quality(a.image.data) if jpeg.is_jpeg(a.image.data) else None
    if q is not None and q < MIN_JPEG_QUALITY_LARGE:
        return Result.not_applicable(f"JPEG quality about {q}: compression this strong smooths skin by itself "
                                     f"(judged from quality {MIN_JPEG_QUALITY_LARGE})", manual=_hair_check(a, faces))
    native, scale = a.get("native"), a.scale
    measured, skipped, plastic = [], [], []
    for i, f in enumerate(faces):
        turn = yaw(f.points)
        if turn > MAX_YAW:
            skipped.append({"face": i, "why": f"turned sideways (yaw {turn:.2f}, judged up to {MAX_YAW})"})
            continue
        mesh = np.asarray(f.points, dtype=np.float64)[:, :2] / scale
        iod = float(np.linalg.norm(mesh[IRIS_CENTRES[0]] - mesh[IRIS_CENTRES[1]]))
        if q is not None and q < MIN_JPEG_QUALITY and iod < 2 * SCALE_IOD:
            skipped.append({"face": i, "why": f"JPEG quality about {q} smooths a face this small (eyes {iod:.0f} px "
                                             f"apart) by itself; judged from quality {MIN_JPEG_QUALITY}, or from "
                                             f"{MIN_JPEG_QUALITY_LARGE} when the eyes are {2 * SCALE_IOD:.0f} px apart"})
            continue
        x0, y0 = np.maximum(np.floor(mesh.min(axis=0)).astype(int) - 2, 0)
        x1, y1 = np.ceil(mesh.max(axis=0)).astype(int) + 3
        m = face_texture(luma(native[y0:y1, x0:x1]), mesh - (x0, y0))
        if isinstance(m, str):
            skipped.append({"face": i, "why": m})
            continue
        if m["brows"] < SHARP_BROWS:
            skipped.append({"face": i, "why": f"eyebrows flat too (texture {m['brows']:.2f}): out of focus, drawn or "
                                             "painted; smooth skin means nothing there"})
            continue
        measured.append({"face": i, "yaw": turn, **m})
        if is_plastic(m):
            plastic.append((f, m))
    details = {"faces": measured, "skipped": skipped, "jpeg_quality": q,
               "thresholds": {"smooth": SMOOTH, "sharp_brows": SHARP_BROWS, "min_iris_distance": MIN_IOD}}
    hair = _hair_check(a, faces)
    if not measured:
        why = skipped[0]["why"] if skipped else "no face"
        return Result.not_applicable(f"no face where skin texture can be judged ({why})", details=details, manual=hair)
    if plastic:
        regions = tuple(Region(a.to_original(tuple(v * scale for v in box)), f"smooth skin ({name})")
                        for f, m in plastic for name, box in _spot_boxes(np.asarray(f.points)[:, :2] / scale,
                                                                        m["iris_distance"]))
        rough = max(max(m["spots"].values()) for _, m in plastic)
        return Result.generated(STRENGTH, f"{len(plastic)} in-focus face(s) with plastic skin: cheeks and forehead all "
                                f"smoother than {SMOOTH} grey levels (roughest spot {rough:.2f}), next to sharp "
                                "eyebrows; no real photo measured was this smooth, though beauty filters and heavy "
                                "retouching come close", regions=regions, details=details, manual=hair)
    smooth = min(max(m["spots"].values()) for m in measured)
    return Result.clear(f"{len(measured)} in-focus face(s) measured: skin has real texture (smoothest face's "
                        f"roughest spot {smooth:.2f} grey levels, plastic below {SMOOTH})", details=details, manual=hair)
