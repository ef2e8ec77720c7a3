"""Mismatched corneal highlights (Hu, Li, Lyu 2021, "Exposing GAN-generated faces using inconsistent corneal specular highlights").

The cornea is a small mirror. When a person looks at the camera, each light in
the scene shows up as a bright spot in both eyes, at the same place relative to
the iris and with the same shape, because the two eyes are a few centimetres
apart and the lights are far away. Generators paint the two reflections
independently: different shapes, different places, one eye lit and the other
not. The paper cuts out the highlights of both irises, aligns the eyes and
measures the IoU of the two highlight masks; real faces score high.

Here: each iris (from the face mesh) is resampled onto the same normalised grid
(centre and radius from the iris landmarks), the highlights are the pixels
clearly brighter than the iris, and the IoU of the two masks is reported. A face
is judged only when both irises are large enough, similarly sized (the face is
roughly frontal) and open, and both show a highlight.

On web-sized portraits an iris is 10-30 px across and its highlight a few
pixels, so the landmarks' centring error alone makes the IoU of real eyes 0
about a quarter of the time (dev real photos of people). The decision therefore
needs both: no overlap at all *and* highlights displaced by more than
OFFSET_THRESHOLD iris radii, chosen so that real photos stay clean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from telltales.analyses.landmarks import eye_pairs
from telltales.analyses.pixels import unit_luma
from telltales.analysis import Analysis
from telltales.findings import Region, Result
from telltales.registry import cue

MIN_IRIS_RADIUS = 6.0  # native px
GRID = 48  # normalised iris grid, pixels across the iris diameter
INNER = 0.8  # search highlights within this share of the iris radius: nearer the rim the white of the eye leaks in
MIN_RADIUS_RATIO = 0.8  # smaller / larger iris radius: below, the face is turned too far
MIN_HIGHLIGHT = 0.004  # share of the iris disk a highlight must cover to count
IOU_THRESHOLD = 0.05  # the highlights overlap less than this ...
OFFSET_THRESHOLD = 1.0  # ... and sit this many iris radii apart. Dev real photos of people: at most 0.81 (as
# published) and 0.54 (web copies) among 39 and 32 judged faces; AI portraits up to 1.1 (benchmarks/bench_body.py)


@dataclass(frozen=True)
class HighlightPair:
    iou: float
    area_a: float  # share of the iris disk that is highlight, per eye
    area_b: float
    offset: float  # distance between the two highlights' centres, in iris radii (nan if one is missing)

    @property
    def mismatch(self) -> bool:
        return self.iou < IOU_THRESHOLD and self.offset > OFFSET_THRESHOLD


def normalised_iris(rgb: np.ndarray, centre: tuple[float, float], radius: float,
                    opening: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The iris resampled to a GRID x GRID square (centre at the middle, radius = half the side) and its valid mask."""
    import cv2

    s = 2.0 * radius / GRID
    m = np.array([[s, 0, centre[0] - radius + s / 2], [0, s, centre[1] - radius + s / 2]], np.float32)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    g = cv2.warpAffine(unit_luma(rgb), m, (GRID, GRID), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    yy, xx = np.mgrid[0:GRID, 0:GRID]
    valid = np.hypot(xx - (GRID - 1) / 2, yy - (GRID - 1) / 2) < GRID / 2 * INNER
    if opening is not None:
        op = cv2.warpAffine(opening.astype(np.uint8), m, (GRID, GRID), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP)
        valid &= op.astype(bool)
    return g, valid


def highlight_mask(g: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Specular highlight pixels: much brighter than the iris around them."""
    if valid.sum() < 20:
        return np.zeros_like(valid)
    base = float(np.median(g[valid]))
    return valid & (g > max(base + 0.25, min(0.95, base + 0.5 * (float(g[valid].max()) - base))))


def highlight_iou(mask_a: np.ndarray, mask_b: np.ndarray, valid: np.ndarray) -> HighlightPair:
    """IoU of two aligned highlight masks, over the part of the iris visible in both eyes."""
    a, b = mask_a & valid, mask_b & valid
    union = (a | b).sum()
    n = max(1, valid.sum())
    offset = float("nan")
    if a.any() and b.any():
        ya, xa = np.nonzero(a)
        yb, xb = np.nonzero(b)
        offset = float(np.hypot(xa.mean() - xb.mean(), ya.mean() - yb.mean()) / (a.shape[1] / 2))
    return HighlightPair(iou=float((a & b).sum() / union) if union else 1.0,
                         area_a=float(a.sum() / n), area_b=float(b.sum() / n), offset=offset)


def compare_eyes(rgb_a: np.ndarray, centre_a: tuple[float, float], radius_a: float,
                 rgb_b: np.ndarray, centre_b: tuple[float, float], radius_b: float,
                 opening_a: np.ndarray | None = None, opening_b: np.ndarray | None = None) -> HighlightPair | str:
    """Align two eyes on their irises and compare their highlights; a reason string if they cannot be compared."""
    small = min(radius_a, radius_b)
    if small < MIN_IRIS_RADIUS:
        return f"the irises are {2 * small:.0f} px across, too small (need {2 * MIN_IRIS_RADIUS:.0f})"
    if small / max(radius_a, radius_b) < MIN_RADIUS_RATIO:
        return "the face is turned too far for the two eyes to be compared"
    ga, va = normalised_iris(rgb_a, centre_a, radius_a, opening_a)
    gb, vb = normalised_iris(rgb_b, centre_b, radius_b, opening_b)
    valid = va & vb
    full = np.pi * (GRID / 2 * INNER) ** 2
    if valid.sum() < 0.4 * full:
        return "the eyelids cover too much of the irises"
    pair = highlight_iou(highlight_mask(ga, va), highlight_mask(gb, vb), valid)
    if max(pair.area_a, pair.area_b) < MIN_HIGHLIGHT:
        return "no reflection in either eye"
    if min(pair.area_a, pair.area_b) == 0:
        return "only one eye shows a reflection (the other may be shaded)"
    return pair


@cue("body.eye-highlights", needs=("eyes",), version="2")
def corneal_highlights(a: Analysis) -> Result:
    """The reflections in the two corneas differ in shape or position (IoU of aligned highlights)."""
    eyes = a.get("eyes")
    if not eyes:
        return Result.not_applicable("no face with visible eyes large enough to examine")
    both, skipped = eye_pairs(eyes)
    pairs = []
    for face, ea, eb in both:
        got = compare_eyes(ea.crop, ea.centre, ea.radius, eb.crop, eb.centre, eb.radius, ea.opening, eb.opening)
        if isinstance(got, str):
            skipped.append({"face": face, "why": got})
        else:
            pairs.append((face, ea, eb, got))
    details = {"threshold_iou": IOU_THRESHOLD, "threshold_offset": OFFSET_THRESHOLD, "skipped": skipped,
               "faces": [{"face": f, "iou": p.iou, "offset_radii": p.offset, "highlight_share": [p.area_a, p.area_b]}
                         for f, _, _, p in pairs]}
    if not pairs:
        why = skipped[0]["why"] if skipped else "no pair of eyes"
        return Result.not_applicable(f"no pair of eyes could be compared ({why})", details=details)
    bad = [(f, ea, eb, p) for f, ea, eb, p in pairs if p.mismatch]
    worst = min(p.iou for *_, p in pairs)
    if bad:
        far = max(p.offset for *_, p in bad)
        regions = tuple(Region(a.to_original(e.box), f"reflection differs from the other eye (IoU {p.iou:.2f})")
                        for _, ea, eb, p in bad for e in (ea, eb))
        return Result.generated(
            min(1.0, 0.3 + 0.3 * (far - OFFSET_THRESHOLD)),
            f"the light reflections in the two eyes do not match: after aligning the irises they do not "
            f"overlap at all (IoU {worst:.2f}) and sit {far:.1f} iris radii apart; one light source gives "
            f"the same reflection at the same place in both eyes",
            regions=regions, details=details)
    far = max(p.offset for *_, p in pairs)
    return Result.clear(f"the reflections in the two eyes sit in matching places (at most {far:.1f} iris radii "
                        f"apart; lowest overlap {worst:.0%})", details=details)
