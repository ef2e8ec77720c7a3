"""Mismatched glasses: a frame rim on one side of a frontal face only (Borji 2023, 2.1 "face symmetry").

Generators paint the two sides of a face separately and often lose track of
accessories: glasses whose frame runs under one eye and is missing or
different under the other, an earring on one ear only. Faces themselves are
never perfectly symmetric, so this cue does not compare features (eyes, brows,
mouth); it looks only where accessories sit, and only on faces seen from the
front (turned sideways, one lens and one ear are hidden or foreshortened).

Glasses: the face mesh gives mirrored anchor points (the eye corners and the
lower eyelids). A pair of glasses shows as a horizontal edge across the nose
between the eyes (the bridge) and a horizontal edge under each eye (the lower
rims). Measured: in each band, the share of columns crossed by a horizontal
edge. When the bridge says "glasses" and one lower rim is clearly drawn while
under the other eye not even a faint horizontal edge is found, the frame is
asymmetric.

Earrings: the region below each ear lobe (beside the jaw corners) is compared
by edge density, mirrored; it is reported in the details only. Hair falling
over one ear makes real faces just as asymmetric there (dev real photos up to
34 times more edges on one side, benchmarks/bench_body2.py), so without a
detector for the earring itself this is not evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from telltales.analysis import Analysis
from telltales.findings import ManualCheck, Region, Result
from telltales.registry import cue
from telltales.taxonomy import BY_ID

MIN_FACE_WIDTH = 120.0  # cheek-to-cheek width, working px
MAX_YAW = 0.12  # nose-tip offset from the cheeks' midpoint / face width: beyond, not frontal
CHEEK = (234, 454)  # image-left, image-right on a frontal face (the mesh's mirrored pair)
JAW = (132, 361)
EYES = ((33, 133, (145, 153, 144)), (263, 362, (374, 380, 373)))  # outer corner, inner corner, lower lid points
NOSE_TIP = 1
# thresholds: beyond the worst dev real photo of people (benchmarks/bench_body2.py)
MIN_BRIDGE = 0.6  # share of the bridge band's columns crossed by a horizontal edge: glasses are worn
RIM_DRAWN = 0.6  # a lower rim crossing at least this share of the band's columns is drawn
RIM_ABSENT = 0.15  # ... at most this share: absent


@dataclass(frozen=True)
class Bands:
    """Boxes (x, y, w, h, working px): glasses bridge, lower rims and earring regions (image-left first)."""

    bridge: tuple[float, float, float, float]
    rims: tuple[tuple[float, float, float, float], tuple[float, float, float, float]]
    earrings: tuple[tuple[float, float, float, float], tuple[float, float, float, float]]


def yaw(mesh: np.ndarray) -> float:
    """How far the face is turned: nose tip's horizontal offset from the cheeks' midpoint, per face width."""
    lx, rx = mesh[CHEEK[0], 0], mesh[CHEEK[1], 0]
    width = abs(rx - lx)
    return float(abs(mesh[NOSE_TIP, 0] - (lx + rx) / 2) / width) if width > 0 else 1.0


def bands(mesh: np.ndarray) -> Bands:
    """Where a glasses bridge, its lower rims and earrings would be, from the mesh."""
    width = float(abs(mesh[CHEEK[1], 0] - mesh[CHEEK[0], 0]))
    rims = []
    for outer, inner, lid in EYES:
        ew = float(abs(mesh[inner, 0] - mesh[outer, 0]))
        x0 = float(min(mesh[outer, 0], mesh[inner, 0]))
        low = float(mesh[list(lid), 1].max())
        rims.append((x0, low + 0.2 * ew, ew, 0.8 * ew))
    il, ir = mesh[EYES[0][1], :2], mesh[EYES[1][1], :2]
    gap = float(abs(ir[0] - il[0]))
    cy = float((il[1] + ir[1]) / 2)
    bridge = (float(min(il[0], ir[0]) + 0.2 * gap), cy - 0.5 * gap, 0.6 * gap, 0.6 * gap)
    ears = []
    for cheek, jaw, sign in ((CHEEK[0], JAW[0], -1), (CHEEK[1], JAW[1], 1)):
        x = mesh[cheek, 0]
        x0 = x - 0.22 * width if sign < 0 else x - 0.03 * width
        ears.append((float(x0), float(mesh[jaw, 1]), 0.25 * width, 0.4 * width))
    return Bands(bridge, tuple(rims), tuple(ears))


def _cut(img: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray | None:
    x, y, w, h = (int(round(v)) for v in box)
    if x < 0 or y < 0 or x + w > img.shape[1] or y + h > img.shape[0] or w < 6 or h < 4:
        return None
    return img[y:y + h, x:x + w]


def horizontal_edge_cover(gray_u8: np.ndarray, weak: bool = False) -> float:
    """Share of the columns crossed by a horizontal edge (Canny edge whose gradient is mostly vertical).

    ``weak``: count faint edges too (a thin metal frame after JPEG compression), to decide a rim is absent.
    """
    import cv2

    g = cv2.GaussianBlur(gray_u8, (3, 3), 0)
    e = cv2.Canny(g, *((15, 40) if weak else (40, 100))) > 0
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1)
    horiz = e & (np.abs(gy) > 2.0 * np.abs(gx))
    return float(horiz.any(axis=0).mean())


def edge_density(gray_u8: np.ndarray) -> float:
    """Share of pixels on strong edges (Canny)."""
    import cv2

    return float((cv2.Canny(gray_u8, 80, 160) > 0).mean())


def glasses(gray_u8: np.ndarray, b: Bands) -> dict | str:
    """Bridge and lower-rim edge cover, or why they cannot be measured."""
    parts = [_cut(gray_u8, b.bridge), _cut(gray_u8, b.rims[0]), _cut(gray_u8, b.rims[1])]
    if any(p is None for p in parts):
        return "the eye region runs out of the picture or is too small"
    bridge, rl, rr = (horizontal_edge_cover(np.ascontiguousarray(p)) for p in parts)
    wl, wr = (horizontal_edge_cover(np.ascontiguousarray(p), weak=True) for p in parts[1:])
    return {"bridge": bridge, "rims": (rl, rr), "rims_faint": (wl, wr)}


def rim_asymmetric(g: dict) -> bool:
    """Glasses are worn (bridge) and one lower rim is drawn while the other is absent (not even a faint edge)."""
    if g["bridge"] < MIN_BRIDGE:
        return False
    drawn = int(np.argmax(g["rims"]))
    return g["rims"][drawn] >= RIM_DRAWN and g["rims_faint"][1 - drawn] <= RIM_ABSENT


def earrings(gray_u8: np.ndarray, b: Bands) -> dict | str:
    parts = [_cut(gray_u8, box) for box in b.earrings]
    if any(p is None for p in parts):
        return "an ear region runs out of the picture"
    da, db = (edge_density(np.ascontiguousarray(p)) for p in parts)
    return {"edges": (da, db), "edge_ratio": max(da, db) / max(min(da, db), 0.005)}


def _manual(note: str, regions: tuple[Region, ...]) -> tuple[ManualCheck, ...]:
    return (ManualCheck("body.face-symmetry", f"{note} {BY_ID['body.face-symmetry'].guidance}", regions),)


@cue("body.face-symmetry", needs=("faces", "gray"), version="2")
def accessory_asymmetry(a: Analysis) -> Result:
    """A glasses frame drawn under one eye of a frontal face and missing under the other."""
    faces = a.get("faces")
    if not faces:
        return Result.not_applicable("no face found")
    gray = np.clip(a.get("gray") * 255.0, 0, 255).astype(np.uint8)
    measured, skipped, bad, ears_r = [], [], [], []
    for i, f in enumerate(faces):
        mesh = f.points
        width = float(abs(mesh[CHEEK[1], 0] - mesh[CHEEK[0], 0]))
        if width < MIN_FACE_WIDTH:
            skipped.append({"face": i, "why": f"face is {width:.0f} px wide, too small (need {MIN_FACE_WIDTH:.0f})"})
            continue
        turn = yaw(mesh)
        if turn > MAX_YAW:
            skipped.append({"face": i, "why": f"face is turned sideways (yaw {turn:.2f}, frontal below {MAX_YAW})"})
            continue
        b = bands(mesh)
        g = glasses(gray, b)
        if isinstance(g, str):
            skipped.append({"face": i, "why": g})
            continue
        measured.append({"face": i, "yaw": turn, "glasses": g, "earrings": earrings(gray, b)})
        ears_r += [Region(a.to_original(box), f"{side} earring / ear")
                   for side, box in zip(("image-left", "image-right"), b.earrings, strict=True)]
        if rim_asymmetric(g):
            bad.append((b, g))
    details = {"faces": measured, "skipped": skipped,
               "thresholds": {"bridge": MIN_BRIDGE, "rim_drawn": RIM_DRAWN, "rim_absent": RIM_ABSENT}}
    faces_r = tuple(Region(a.to_original(f.box), "face") for f in faces)
    if not measured:
        why = skipped[0]["why"] if skipped else "no face"
        return Result.not_applicable(f"no frontal face large enough to compare its two sides ({why})", details=details,
                                     manual=_manual("The two sides of the face could not be compared automatically.",
                                                    faces_r))
    if bad:
        regions = tuple(Region(a.to_original(box), "glasses rim under this eye") for b, _ in bad for box in b.rims)
        worst = max(max(g["rims"]) - min(g["rims"]) for _, g in bad)
        return Result.generated(0.4, "the glasses do not match on the two sides of a frontal face: the frame's lower "
                                f"rim is drawn under one eye and missing under the other (edge cover differs by {worst:.0%})",
                                regions=regions, details=details)
    worn = sum(m["glasses"]["bridge"] >= MIN_BRIDGE for m in measured)
    return Result.clear(f"{len(measured)} frontal face(s) examined ({worn} with glasses); glasses frames match "
                        "left and right (earrings are measured but not judged: hair makes real ears just as uneven)",
                        details=details,
                        manual=_manual("The automatic check judges only glasses frames; compare the two boxed ear "
                                       "regions of each face.", faces_r + tuple(ears_r)))
