"""Irregular pupils (Guo, Hu, Lyu et al. 2022, "Eyes tell all: irregular pupil shapes reveal GAN-generated faces").

A real pupil is a round hole in the iris; seen at an angle it is an ellipse, and
its edge is clean. Generators paint pupils as blobs: their outline wobbles,
has bumps and notches, or merges with the iris. The paper segments the pupil,
fits an ellipse to it and measures how well the two agree with the boundary IoU
(BIoU): close to 1 for real pupils, clearly lower for irregular ones.

Here: the eyes come from the face mesh's iris landmarks (``eyes``); inside the
iris disk, the pupil is the dark region at the centre (Otsu threshold), with
holes left by reflections filled. An eye is judged only when the pupil stands
out from the iris, sits clear of the eyelids and the iris edge, and is large
enough in pixels; otherwise it is skipped, and with no judgeable eye the cue
says not-applicable.

What the dev data taught: at web resolution (irises 15-40 px across) real
pupils are rarely clean. A window reflected in the cornea, motion blur and JPEG
blocks bite into their outline, and real pupils scored a boundary IoU as low
as 0.18, as low as a drawn jagged pupil. So the cue says "clean" only above
BIOU_CLEAN, "irregular" only below every real pupil measured (BIOU_THRESHOLD),
and "cannot tell" in between.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from telltales.analyses.pixels import unit_luma
from telltales.analysis import Analysis
from telltales.findings import Region, Result
from telltales.registry import cue

MIN_IRIS_RADIUS = 8.0  # native px: below this the pupil is a handful of pixels
MIN_CONTRAST = 0.08  # pupil must be this much darker than the iris (0-1 grey)
GLINT_STEP = 0.12  # brighter than the iris by this much: a reflection (window, lamp), outline unknown there
WORK_RADIUS = 32.0  # iris radius after upsampling, so outlines are traced at sub-pixel steps
BIOU_CLEAN = 0.50  # at or above: a clean ellipse. Drawn eyes: round pupils 0.73-0.94, jagged 0.20-0.38
BIOU_THRESHOLD = 0.12  # below: irregular beyond anything seen in real eyes. Real pupils on the dev photos of
# people score 0.17-0.70 (window reflections and blur bite into them; benchmarks/bench_body.py), so the
# threshold sits below the lowest real value with a margin; in between the cue cannot tell and says so.


@dataclass(frozen=True)
class PupilFit:
    """One measured pupil: region IoU and boundary IoU against its fitted ellipse."""

    iou: float
    biou: float
    pupil_radius: float  # equivalent radius, native px
    contrast: float


def _band(mask: np.ndarray, d: int) -> np.ndarray:
    """The inner boundary band of width ``d`` px (Cheng et al.'s boundary IoU)."""
    import cv2

    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * d + 1, 2 * d + 1))
    inner = cv2.erode(mask.astype(np.uint8), k, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return mask & ~inner.astype(bool)


def ellipse_agreement(mask: np.ndarray, ignore: np.ndarray | None = None) -> tuple[float, float] | None:
    """IoU and boundary IoU between a binary pupil mask and the ellipse fitted to its outline.

    Pixels in ``ignore`` (reflections that hide part of the outline) count for neither.
    """
    import cv2

    m = mask.astype(np.uint8)
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    c = max(contours, key=cv2.contourArea)
    keep = np.ones(len(c), bool) if ignore is None else ~ignore[c[:, 0, 1], c[:, 0, 0]]
    if keep.sum() < 5 or keep.mean() < 0.6:
        return None
    ellipse = cv2.fitEllipse(c[keep])
    fit = np.zeros_like(m)
    cv2.ellipse(fit, ellipse, 1, -1)
    a, b = mask.astype(bool), fit.astype(bool)
    if ignore is not None:
        a, b = a & ~ignore, b & ~ignore
    union = (a | b).sum()
    if union == 0:
        return None
    iou = float((a & b).sum() / union)
    r = np.sqrt(a.sum() / np.pi)
    d = max(1, int(round(0.2 * r)))
    ba, bb = _band(a, d), _band(b, d)
    bu = (ba | bb).sum()
    biou = float((ba & bb).sum() / bu) if bu else 0.0
    return iou, biou


def _otsu(values: np.ndarray) -> float:
    import cv2

    if values.size < 2:
        return 0.0
    t, _ = cv2.threshold((values * 255).astype(np.uint8).reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return float(t) / 255.0


def segment_pupil(gray: np.ndarray, centre: tuple[float, float], radius: float,
                  opening: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, float] | str:
    """The pupil mask, the reflections over it, and its contrast; or why it cannot be segmented."""
    from scipy import ndimage

    h, w = gray.shape
    yy, xx = np.mgrid[0:h, 0:w]
    dist = np.hypot(xx - centre[0], yy - centre[1])
    disk = dist < 0.85 * radius
    if opening is not None:
        disk &= opening
    if disk.sum() < 0.5 * np.pi * (0.85 * radius) ** 2:
        return "the eyelids cover most of the iris"
    # reflections: much brighter than the iris; they hide part of the outline
    glint = (dist < radius) & (gray > np.median(gray[disk]) + GLINT_STEP)
    glint = ndimage.binary_dilation(glint, iterations=max(1, int(radius / 16)))
    t = _otsu(gray[disk & ~glint])
    dark = disk & (gray < t)
    if dark.sum() > 0.5 * disk.sum():  # the split fell between iris and sclera: split the dark part again
        t = _otsu(gray[dark & ~glint])
        dark = disk & (gray < t)
    labels, _ = ndimage.label(dark)
    central = labels[(dist < 0.35 * radius) & dark]
    if central.size == 0:
        return "no dark pupil at the iris centre"
    core = labels == np.bincount(central).argmax()
    pupil = ndimage.binary_fill_holes(core | (glint & ndimage.binary_dilation(core)))
    pupil = ndimage.binary_opening(pupil)
    labels, n = ndimage.label(pupil)
    if n == 0:
        return "no dark pupil at the iris centre"
    pupil = labels == np.bincount(labels[labels > 0]).argmax()
    frac = pupil.sum() / (np.pi * radius**2)
    if not 0.03 <= frac <= 0.35:
        return f"the dark region fills {frac:.0%} of the iris, not a pupil"
    rim = disk & ~ndimage.binary_erosion(disk, iterations=2)
    if (pupil & rim).sum() > 0.05 * pupil.sum():
        return "the pupil runs into the iris edge or an eyelid"
    ring = disk & ~ndimage.binary_dilation(pupil, iterations=2)
    if ring.sum() < 10:
        return "too little iris around the pupil"
    contrast = float(np.median(gray[ring & ~glint]) - np.median(gray[pupil & ~glint]))
    if contrast < MIN_CONTRAST:
        return f"the pupil is hardly darker than the iris (contrast {contrast:.2f})"
    return pupil, glint, contrast


def measure_pupil(rgb: np.ndarray, centre: tuple[float, float], radius: float,
                  opening: np.ndarray | None = None) -> PupilFit | str:
    """Segment the pupil in an eye crop and fit an ellipse to it; a reason string if it cannot."""
    import cv2

    if radius < MIN_IRIS_RADIUS:
        return f"the iris is {2 * radius:.0f} px across, too small (need {2 * MIN_IRIS_RADIUS:.0f})"
    up = max(1.0, WORK_RADIUS / radius)
    size = (round(rgb.shape[1] * up), round(rgb.shape[0] * up))
    g = cv2.resize(unit_luma(rgb), size, interpolation=cv2.INTER_CUBIC)
    g = cv2.GaussianBlur(g, (0, 0), 0.5 * up)
    op = None
    if opening is not None:
        op = cv2.resize(opening.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    seg = segment_pupil(g, (centre[0] * up, centre[1] * up), radius * up, op)
    if isinstance(seg, str):
        return seg
    pupil, glint, contrast = seg
    agree = ellipse_agreement(pupil, glint)
    if agree is None:
        return "the pupil outline is too short to fit an ellipse"
    r = float(np.sqrt(pupil.sum() / np.pi) / up)
    return PupilFit(iou=agree[0], biou=agree[1], pupil_radius=r, contrast=contrast)


@cue("body.pupils", needs=("eyes",), version="2")
def irregular_pupils(a: Analysis) -> Result:
    """Pupils whose outline is not a clean ellipse (boundary IoU against a fitted ellipse)."""
    eyes = a.get("eyes")
    if not eyes:
        return Result.not_applicable("no face with visible eyes large enough to examine")
    measured, skipped = [], []
    for e in eyes:
        fit = measure_pupil(e.crop, e.centre, e.radius, e.opening)
        if isinstance(fit, str):
            skipped.append({"face": e.face, "eye": e.which, "why": fit})
        else:
            measured.append((e, fit))
    details = {"skipped": skipped, "threshold_biou": BIOU_THRESHOLD, "clean_biou": BIOU_CLEAN,
               "eyes": [{"face": e.face, "eye": e.which, "iou": f.iou, "biou": f.biou,
                         "pupil_radius_px": f.pupil_radius, "contrast": f.contrast} for e, f in measured]}
    if not measured:
        why = skipped[0]["why"] if skipped else "no eye could be measured"
        return Result.not_applicable(f"no pupil could be measured ({why})", details=details)
    worst = min(f.biou for _, f in measured)
    if worst < BIOU_THRESHOLD:
        bad = [(e, f) for e, f in measured if f.biou < BIOU_THRESHOLD]
        regions = tuple(Region(a.to_original(e.box), f"pupil outline irregular (boundary IoU {f.biou:.2f})")
                        for e, f in bad)
        return Result.generated(
            min(1.0, 0.4 + (BIOU_THRESHOLD - worst) / BIOU_THRESHOLD),
            f"{len(bad)} pupil(s) are not a round or oval shape: the outline matches the best-fitting ellipse "
            f"with a boundary overlap of only {worst:.2f}, lower than any real pupil we measured",
            regions=regions, details=details)
    if worst < BIOU_CLEAN:
        return Result.not_applicable(
            f"a pupil outline is uneven (boundary overlap {worst:.2f} with its ellipse), but reflections and blur "
            f"do this to real pupils too; cannot tell", details=details)
    return Result.clear(
        f"{len(measured)} pupil(s) measured; all are clean ellipses (lowest boundary overlap {worst:.2f})",
        details=details)
