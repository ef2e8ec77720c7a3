"""Parallel lines that meet nowhere (Sarkar et al. 2023; Farid 2022).

In a photograph, edges that are parallel in the world (building edges, tiles,
window rows, table sides) are drawn by the lens as lines through one common
vanishing point, and the vanishing points of three perpendicular directions
fit a single camera: seen from the image centre, each pair of them implies the
same focal length. A generator paints each edge so that it looks right nearby;
globally, a family of "parallel" edges often misses any common point, and the
main vanishing points disagree about the camera.

The cue finds straight segments, groups them into families that share a
vanishing point (sequential RANSAC on the Gaussian sphere), refits each point,
and measures how far the edges of each family miss it, in pixels at the ends of
each edge. With three strong families whose points are all finite, it also asks
whether one camera centred on the image explains them: each pair of
perpendicular directions implies a focal length, and the three must agree. A
pair that cannot be perpendicular at all is taken as "not the corner of a box"
(most scenes have non-perpendicular edges too) and nothing is claimed. It only
speaks when there are enough long straight edges.

Thresholds were set on the dev real photos so that at most ~1% of them get
evidence in either condition; on the dev AI images the cue fires no more often
(they rarely show clean architecture), so the strengths are deliberately low.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from telltales.analysis import Analysis
from telltales.findings import Region, Result
from telltales.registry import cue

MIN_LENGTH = 30.0  # detector pixels (long side 1024): shorter edges are too noisy
MAX_SEGMENTS = 400
MIN_SEGMENTS = 12  # long edges needed before the cue has anything to say
FAMILY_ANGLE = np.deg2rad(3.0)  # loose: who belongs to a family
MIN_FAMILY = 6
# A scene has "structure" to check when one family has at least this many edges,
# this many of them long: windows, tiles, building edges. Fewer (nature, a portrait
# against a blur) and the cue says not applicable instead of guessing.
STRUCTURE_MEMBERS = 15
STRUCTURE_LONG = 6
MISS_PX = 1.5  # an edge whose ends miss the family's point by more than this (detector px)
OFFENDER_LENGTH = 40.0  # only long edges are shown as offenders
# Fitted on dev real photos (benchmarks/bench_geometry.py): a family of at least
# BROKEN_MEMBERS edges whose median edge misses the refitted point by more than
# BROKEN_MEDIAN_PX (detector px) is "broken". In real photos the median is
# mostly 0.05-0.9 px; 1 of 818 real (file, condition) pairs is above 1.0.
BROKEN_MEMBERS = 20
BROKEN_MEDIAN_PX = 1.0
# Camera check: three strong families with finite vanishing points must imply
# one focal length. Fitted on dev real photos: a ratio above 3 between the
# largest and smallest implied focal length occurs in ~1% of them (automatic
# families are not always perpendicular in the world).
CAMERA_MIN_LONG = 10
FOCAL_RATIO = 3.0


@dataclass(frozen=True)
class Family:
    """Segments that share one vanishing point."""

    point: np.ndarray  # unit 3-vector in normalised image coordinates
    members: np.ndarray  # indices into the segment array
    miss_px: np.ndarray  # per member: how far its ends miss the point (detector px)
    offenders: np.ndarray  # indices of long members that miss by more than MISS_PX

    long_count: int = 0

    @property
    def median_miss(self) -> float:
        return float(np.median(self.miss_px))


def normalise(lines: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Segment ends in coordinates centred on the image, in units of its long side."""
    h, w = shape
    c = np.array([w / 2, h / 2, w / 2, h / 2])
    return (lines - c) / max(h, w)


def homogeneous_lines(seg: np.ndarray) -> np.ndarray:
    """Unit 3-vectors of the lines through each segment (the Gaussian sphere)."""
    p = np.c_[seg[:, 0:2], np.ones(len(seg))]
    q = np.c_[seg[:, 2:4], np.ones(len(seg))]
    lines = np.cross(p, q)
    return lines / np.linalg.norm(lines, axis=1, keepdims=True)


def angle_errors(seg: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Angle between each segment and the direction from its midpoint to each point.

    ``points`` is (K, 3) homogeneous; returns (K, N) radians in [0, pi/2].
    """
    mid = (seg[:, 0:2] + seg[:, 2:4]) / 2
    d = seg[:, 2:4] - seg[:, 0:2]
    d = d / np.hypot(d[:, 0], d[:, 1])[:, None]
    to_v = points[:, None, 0:2] - mid[None] * points[:, None, 2:3]
    norm = np.hypot(to_v[..., 0], to_v[..., 1])
    cross = np.abs(d[None, :, 0] * to_v[..., 1] - d[None, :, 1] * to_v[..., 0])
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(norm > 1e-12, cross / norm, 1.0)
    return np.arcsin(np.clip(s, 0.0, 1.0))


def refine_point(lines: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Least-squares point nearest to all lines on the sphere: smallest eigenvector."""
    m = (lines * weights[:, None]).T @ lines
    _, vecs = np.linalg.eigh(m)
    v = vecs[:, 0]
    return v if v[2] >= 0 else -v


def ransac_point(seg: np.ndarray, lines: np.ndarray, length: np.ndarray, active: np.ndarray,
                 rng: np.random.Generator, tries: int = 300) -> np.ndarray | None:
    """The vanishing point most long active segments agree with (within FAMILY_ANGLE)."""
    idx = np.flatnonzero(active)
    if len(idx) < MIN_FAMILY:
        return None
    p = length[idx] / length[idx].sum()
    a = rng.choice(idx, size=tries, p=p)
    b = rng.choice(idx, size=tries, p=p)
    keep = a != b
    cand = np.cross(lines[a[keep]], lines[b[keep]])
    norm = np.linalg.norm(cand, axis=1)
    cand = cand[norm > 1e-9] / norm[norm > 1e-9, None]
    if len(cand) == 0:
        return None
    err = angle_errors(seg[idx], cand)
    score = ((err < FAMILY_ANGLE) * length[idx][None]).sum(axis=1)
    return cand[int(np.argmax(score))]


def find_families(seg: np.ndarray, lines: np.ndarray, length_det: np.ndarray,
                  max_families: int = 3) -> list[Family]:
    """Sequential RANSAC: the strongest vanishing point, its family, then the next."""
    rng = np.random.default_rng(0)
    active = np.ones(len(seg), bool)
    families: list[Family] = []
    for _ in range(max_families):
        v = ransac_point(seg, lines, length_det, active, rng)
        if v is None:
            break
        members = np.flatnonzero(active & (angle_errors(seg, v[None])[0] < FAMILY_ANGLE))
        if len(members) < MIN_FAMILY:
            break
        # refit with the members, then take the family again around the refined point
        for _ in range(2):
            v = refine_point(lines[members], length_det[members] ** 2)
            members = np.flatnonzero(active & (angle_errors(seg, v[None])[0] < FAMILY_ANGLE))
            if len(members) < MIN_FAMILY:
                break
        if len(members) < MIN_FAMILY:
            break
        err = angle_errors(seg[members], v[None])[0]
        miss = np.sin(err) * length_det[members] / 2  # distance of the ends from the line to v
        long_ = length_det[members] >= OFFENDER_LENGTH
        offenders = members[long_ & (miss > MISS_PX)]
        families.append(Family(v, members, miss, offenders, int(long_.sum())))
        active[members] = False
    return families


def implied_focal(families: list[Family]) -> list[float | None]:
    """Focal length (in long sides) implied by each pair of vanishing points.

    With the principal point at the image centre, perpendicular directions
    satisfy v1 . v2 + f^2 = 0 for finite points; a negative f^2 means the two
    directions cannot be perpendicular for any camera centred there.
    """
    out: list[float | None] = []
    pts = [f.point for f in families]
    for i in range(len(pts)):
        for j in range(i + 1, len(pts)):
            a, b = pts[i], pts[j]
            if abs(a[2]) < 1e-3 or abs(b[2]) < 1e-3:
                out.append(None)
                continue
            a2, b2 = a[:2] / a[2], b[:2] / b[2]
            f2 = -float(a2 @ b2)
            out.append(float(np.sign(f2) * np.sqrt(abs(f2))))
    return out


def camera_disagreement(families: list[Family]) -> float | None:
    """How much three strong families disagree about the camera (1 = one camera).

    The ratio of the largest to the smallest focal length implied by the three
    pairs of vanishing points. None when there are not three strong families
    with finite points, or when some pair cannot be perpendicular at all (then
    the three directions are simply not the corner of a box, and nothing is
    claimed).
    """
    strong = [f for f in families if f.long_count >= CAMERA_MIN_LONG]
    if len(strong) < 3:
        return None
    focal = implied_focal(strong[:3])
    if any(v is None for v in focal):
        return None
    vals = np.array(focal, float)
    if np.any(vals <= 0.05):
        return None
    return float(vals.max() / vals.min())


def segment_box(s: np.ndarray, pad: float = 4.0) -> tuple[float, float, float, float]:
    x0, x1 = sorted((s[0], s[2]))
    y0, y1 = sorted((s[1], s[3]))
    return (x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad)


@cue("geometry.vanishing-points", needs=("segments",), version="2")
def vanishing_points(a: Analysis) -> Result:
    """Families of parallel edges that do not meet in one vanishing point."""
    sg = a.segments
    if min(sg.shape) < 64:
        return Result.not_applicable(f"image too small for line geometry ({sg.shape[1]}x{sg.shape[0]} px)")
    length_det = sg.lengths * sg.detect_scale
    keep = np.flatnonzero(length_det >= MIN_LENGTH)[:MAX_SEGMENTS]
    if len(keep) < MIN_SEGMENTS:
        return Result.not_applicable(
            f"only {len(keep)} long straight edges: not enough man-made structure "
            "(buildings, rooms, tiles) to check perspective"
        )
    raw = sg.lines[keep]
    seg = normalise(raw, sg.shape)
    lines = homogeneous_lines(seg)
    fams = find_families(seg, lines, length_det[keep])
    if not any(len(f.members) >= STRUCTURE_MEMBERS and f.long_count >= STRUCTURE_LONG for f in fams):
        return Result.not_applicable(
            "the straight edges are too few or too scattered to form families of parallel lines "
            "(no clear architecture, tiles or furniture) to check perspective"
        )
    focal = implied_focal(fams)
    disagreement = camera_disagreement(fams)
    details = {
        "segments": int(len(keep)),
        "families": [
            {
                "vanishing_point": f.point.tolist(),
                "members": int(len(f.members)),
                "long_members": f.long_count,
                "missing": int(len(f.offenders)),
                "median_miss_px": float(np.median(f.miss_px)),
            }
            for f in fams
        ],
        "implied_focal_long_sides": focal,
        "camera_disagreement": disagreement,
    }
    broken = [f for f in fams if len(f.members) >= BROKEN_MEMBERS and f.median_miss > BROKEN_MEDIAN_PX]
    if broken:
        worst = max(broken, key=lambda f: f.median_miss)
        shown = worst.offenders if len(worst.offenders) else worst.members[np.argsort(-worst.miss_px)]
        regions = tuple(
            Region(a.to_original(segment_box(sg.lines[keep[i]])), "edge misses the vanishing point")
            for i in shown[:12]
        )
        strength = min(1.0, 0.3 + 0.3 * (worst.median_miss - BROKEN_MEDIAN_PX))
        n = int((worst.miss_px > MISS_PX).sum())
        return Result.generated(
            strength,
            f"{n} of {len(worst.members)} edges that run in the same direction miss their common "
            f"vanishing point (typically by {worst.median_miss:.1f} px at their ends): parallel edges "
            "photographed by a camera meet in one point",
            regions=regions,
            details=details,
        )
    if disagreement is not None and disagreement > FOCAL_RATIO:
        strong = [f for f in fams if f.long_count >= CAMERA_MIN_LONG][:3]
        regions = tuple(
            Region(a.to_original(segment_box(sg.lines[keep[i]])), f"edge of direction {k + 1}")
            for k, f in enumerate(strong)
            for i in f.members[:4]
        )
        strength = min(0.6, 0.3 + 0.1 * (disagreement - FOCAL_RATIO))
        return Result.generated(
            strength,
            "the three main directions of straight edges vanish at points that no single camera "
            f"could produce: each pair implies a different lens focal length (up to {disagreement:.1f} "
            "times apart)",
            regions=regions,
            details=details,
        )
    return Result.clear(
        f"{len(fams)} families of parallel edges each meet in a common vanishing point"
        + (" and agree on one camera" if disagreement is not None else ""),
        details=details,
    )
