"""Malformed teeth: a smeared tooth row, too many or oddly sized teeth (Borji 2023, 2.1 "teeth").

Generators often paint an open mouth's teeth as one white band without the
dark lines between teeth, or as a row of many narrow, uneven teeth. Real teeth
show a dark boundary between every two front teeth, and the front teeth of an
adult are each roughly an eighth to a fifth of the mouth's width.

Here: the face mesh's inner-lip landmarks outline the open mouth; the crop is
cut at full resolution and turned so the mouth corners are level. Teeth are
the bright, low-colour (white to ivory) pixels inside the lips. Along the
tooth row the brightness is averaged down each column; the boundaries between
teeth are narrow dark dips in that profile. Measured: the number of
boundaries, the tooth widths between them (as a share of the mouth's width)
and how regular they are. A long, well-resolved tooth row without a single
boundary is "smeared".

Real photos soften teeth too (focus, compression, retouching), so the
thresholds sit beyond the most extreme dev real photo (benchmarks/bench_body2.py):
of 20 real tooth rows (as published; 20 web copies) three showed no boundary
at all, over rows about 4.1-5.4 teeth long, so a row must be at least 6 teeth
long to count as smeared; the narrowest real median tooth was 9.8% of the
mouth's width, the threshold is 4.5%. How regular the widths are (their
coefficient of variation) is reported, not judged: real rows vary from
perspective and from incisor to canine. Few generated images in the dev set
show open mouths at a usable size, so this cue rarely fires there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from telltales.analysis import Analysis
from telltales.findings import ManualCheck, Region, Result
from telltales.registry import cue
from telltales.taxonomy import BY_ID

UPPER_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LOWER_INNER = (324, 318, 402, 317, 14, 87, 178, 88, 95)  # from corner 308 back towards 78
MIN_OPEN = 0.12  # lip gap / mouth width: below, the mouth is closed
MIN_MOUTH_PX = 60.0  # mouth width, native px: below, tooth boundaries are a pixel or two wide
MIN_TEETH_PX = 250  # bright pixels inside the lips
MIN_ROW = 0.35  # the tooth row must span at least this share of the mouth's width
DIP_DEPTH = 6.0  # L* units a column must be darker than its neighbourhood to count as a boundary
# thresholds: beyond the worst dev real photo of people
MIN_TOOTH_SHARE = 0.045  # median tooth width / mouth width below this: far too many, too narrow teeth
SMEAR_TEETH = 6.0  # a row this many expected tooth widths long without one boundary is smeared
EXPECTED_TOOTH = 0.13  # a front tooth's width / mouth width


@dataclass(frozen=True)
class ToothRow:
    mouth_px: float  # mouth width (corner to corner), native px
    row_px: float  # the tooth row's visible length, px
    boundaries: tuple[float, ...]  # x of the dark gaps, px from the row's start
    widths: tuple[float, ...]  # px between consecutive boundaries

    @property
    def median_share(self) -> float | None:
        return float(np.median(self.widths)) / self.mouth_px if self.widths else None

    @property
    def expected_teeth(self) -> float:
        return self.row_px / (EXPECTED_TOOTH * self.mouth_px)


def mouth_polygon(mesh: np.ndarray) -> np.ndarray:
    """The inner-lip outline (x, y), corner 78 first."""
    return mesh[list(UPPER_INNER) + list(LOWER_INNER), :2]


def mouth_opening(mesh: np.ndarray) -> float:
    """Gap between the inner lips (13-14) as a share of the mouth width (78-308)."""
    width = np.linalg.norm(mesh[78, :2] - mesh[308, :2])
    return float(np.linalg.norm(mesh[13, :2] - mesh[14, :2]) / width) if width > 0 else 0.0


def level_mouth(rgb: np.ndarray, poly: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Crop around the mouth, rotated so the corners are level: (crop uint8 RGB, bool mask inside the lips)."""
    import cv2

    left, right = poly[0], poly[len(UPPER_INNER) - 1]
    angle = float(np.degrees(np.arctan2(right[1] - left[1], right[0] - left[0])))
    centre = tuple(float(v) for v in poly.mean(0))
    M = cv2.getRotationMatrix2D(centre, angle, 1.0)
    rot = cv2.warpAffine(rgb, M, (rgb.shape[1], rgb.shape[0]), flags=cv2.INTER_LINEAR)
    p = np.c_[poly, np.ones(len(poly))] @ M.T
    x0, y0 = np.floor(p.min(0)).astype(int)
    x1, y1 = np.ceil(p.max(0)).astype(int) + 1
    x0, y0 = max(0, x0), max(0, y0)
    crop = np.ascontiguousarray(rot[y0:y1, x0:x1])
    mask = np.zeros(crop.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(p - (x0, y0)).astype(np.int32)], 1)
    return crop, mask.astype(bool)


def teeth_mask(crop: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Bright, low-colour pixels inside the lips (teeth; lips and tongue are red, the mouth's inside dark)."""
    import cv2

    lab = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB).astype(np.float32)
    light = lab[..., 0] * (100.0 / 255.0)
    chroma = np.hypot(lab[..., 1] - 128.0, lab[..., 2] - 128.0)
    if not inside.any():
        return inside
    floor = max(45.0, float(np.percentile(light[inside], 40)))
    return inside & (light > floor) & (chroma < 25.0)


def tooth_row(crop: np.ndarray, teeth: np.ndarray, mouth_px: float) -> ToothRow | str:
    """The boundaries between teeth along the (level) tooth row, or why there is no row to measure."""
    import cv2
    from scipy import ndimage, signal

    if teeth.sum() < MIN_TEETH_PX:
        return f"too few tooth pixels ({int(teeth.sum())}, need {MIN_TEETH_PX})"
    rows = teeth.mean(1)
    band = rows >= 0.5 * rows.max()
    cols = np.nonzero(teeth[band].any(0))[0]
    x0, x1 = int(cols.min()), int(cols.max()) + 1
    row_px = float(x1 - x0)
    if row_px < MIN_ROW * mouth_px:
        return f"the visible tooth row is short ({row_px:.0f} px of a {mouth_px:.0f} px mouth)"
    L = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32) * (100.0 / 255.0)
    sub = L[band, x0:x1]
    keep = ndimage.binary_dilation(teeth[band, x0:x1], iterations=2)  # the dark gaps lie just beside tooth pixels
    prof = np.array([np.median(c[k]) if k.any() else np.nan for c, k in zip(sub.T, keep.T, strict=True)])
    good = np.isfinite(prof)
    if good.mean() < 0.7:
        return "the tooth row is interrupted"
    prof = np.interp(np.arange(len(prof)), np.nonzero(good)[0], prof[good])
    prof = ndimage.gaussian_filter1d(prof, max(0.6, mouth_px / 200.0))
    min_sep = max(3, int(0.025 * mouth_px))  # narrower than the narrowest tooth the cue may report
    dips, _ = signal.find_peaks(-prof, prominence=DIP_DEPTH, distance=min_sep, wlen=max(5, int(0.15 * mouth_px)))
    dips = dips[(dips > 1) & (dips < len(prof) - 2)]
    widths = tuple(float(w) for w in np.diff(dips))
    return ToothRow(float(mouth_px), row_px, tuple(float(d) for d in dips), widths)


def judge_row(row: ToothRow) -> list[str]:
    issues = []
    if not row.boundaries and row.expected_teeth >= SMEAR_TEETH:
        issues.append(f"a tooth row about {row.expected_teeth:.0f} teeth long shows no gap between teeth (smeared)")
    share = row.median_share
    if share is not None and len(row.widths) >= 3 and share < MIN_TOOTH_SHARE:
        issues.append(f"the teeth are far too many and narrow ({len(row.widths) + 1} teeth, each "
                      f"{share:.0%} of the mouth's width; real front teeth are 10-20%)")
    return issues


def _manual(note: str, regions: tuple[Region, ...]) -> tuple[ManualCheck, ...]:
    return (ManualCheck("body.teeth", f"{note} {BY_ID['body.teeth'].guidance}", regions),)


def _cv(widths: tuple[float, ...]) -> float | None:
    return float(np.std(widths) / np.mean(widths)) if len(widths) >= 2 else None


@cue("body.teeth", needs=("faces", "native"), version="1")
def malformed_teeth(a: Analysis) -> Result:
    """A smeared tooth row without boundaries, or a row of far too many narrow teeth."""
    faces = a.get("faces")
    if not faces:
        return Result.not_applicable("no face found")
    native, s = a.get("native"), a.scale
    rows, skipped, bad, mouths = [], [], [], []  # mouths: open mouths not found malformed, for a person to look at
    for i, f in enumerate(faces):
        mesh = f.points[:, :2] / s
        opening = mouth_opening(f.points)
        mouth_px = float(np.linalg.norm(mesh[78] - mesh[308]))
        if opening < MIN_OPEN:
            skipped.append({"face": i, "why": f"mouth closed (lip gap {opening:.0%} of its width)"})
            continue
        if mouth_px < MIN_MOUTH_PX:
            skipped.append({"face": i, "why": f"mouth is {mouth_px:.0f} px wide, too small (need {MIN_MOUTH_PX:.0f})"})
            continue
        poly = mouth_polygon(mesh)
        x0, y0 = poly.min(0) * s
        x1, y1 = poly.max(0) * s
        mouth_box = (float(x0), float(y0), float(x1 - x0), float(y1 - y0))
        crop, inside = level_mouth(native, poly)
        got = tooth_row(crop, teeth_mask(crop, inside), mouth_px)
        if isinstance(got, str):
            skipped.append({"face": i, "why": got})
            mouths.append(mouth_box)
            continue
        issues = judge_row(got)
        rows.append({"face": i, "mouth_px": mouth_px, "row_px": got.row_px, "boundaries": len(got.boundaries),
                     "expected_teeth": got.expected_teeth, "median_tooth_share": got.median_share,
                     "widths_px": list(got.widths), "width_cv": _cv(got.widths), "issues": issues})
        if issues:
            bad.append((mouth_box, issues))
        else:
            mouths.append(mouth_box)
    details = {"faces": rows, "skipped": skipped}
    regions = tuple(Region(a.to_original(b), "open mouth") for b in mouths)
    if not rows:
        why = skipped[0]["why"] if skipped else "no mouth"
        manual = _manual("The teeth could not be measured automatically.", regions) if regions else ()
        return Result.not_applicable(f"no open mouth with visible teeth to examine ({why})", details=details,
                                     manual=manual)
    if bad:
        what = "; ".join(i for _, issues in bad for i in issues)
        return Result.generated(0.5, f"the teeth look malformed: {what}",
                                regions=tuple(Region(a.to_original(b), "; ".join(iss)) for b, iss in bad),
                                details=details)
    return Result.clear(f"{len(rows)} tooth row(s) examined; the gaps between teeth look like real teeth",
                        details=details,
                        manual=_manual("The automatic check catches only smeared rows and far too many teeth.", regions))
