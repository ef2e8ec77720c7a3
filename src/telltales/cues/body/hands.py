"""Malformed hands: extra, missing or fused fingers, joints bent the wrong way (Borji 2023, 2.1 "hands").

Generators famously get hands wrong: six fingers, two fingers grown together,
a finger bending backwards. A hand-landmark model cannot count fingers for us
(it always returns five), so this cue looks at the hand's *silhouette*:

1. The landmark model tells where the hand is and which pixels are surely on
   it (the palm and finger bones); their colour gives a skin model.
2. The silhouette is the skin-coloured region connected to those pixels. Its
   outline's convex hull has a deep notch (convexity defect) between every two
   fingers, so N spread fingers make N protrusions. Six or more protrusions on
   one hand is anatomically impossible.
3. The landmarks' 3-D joint angles are measured (finger joints bent against
   the hand's flexion) and reported in the details, but they do not count as
   evidence: on the dev real photos of people the landmark model's depth is
   noisy enough to put real fingers 100 degrees "backwards", and it regularises
   generated hands towards plausible poses, so the angles did not separate.

The silhouette is trusted only when it is clean: every landmark lies on it,
it does not run out of the frame or merge with another skin region (a face, an
arm, another hand), and its size fits the landmarks. Otherwise the hand is
skipped. A hand is judged only when it is at least MIN_HAND_PX pixels tall.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from telltales.analysis import Analysis
from telltales.findings import Region, Result
from telltales.registry import cue

MIN_HAND_PX = 80  # working px, the hand's landmark box: smaller hands have fingers a few px wide
MIN_SCORE = 0.8  # hand detector confidence
MAX_PROTRUSIONS = 5  # more than this: an extra finger
DEFECT_DEPTH = 0.25  # notch depth between fingers, as a share of the palm length
BACKWARD_DEG = 60.0  # a finger joint bent backwards further than this is impossible
FINGERS = {"thumb": (1, 2, 3, 4), "index": (5, 6, 7, 8), "middle": (9, 10, 11, 12),
           "ring": (13, 14, 15, 16), "little": (17, 18, 19, 20)}


@dataclass(frozen=True)
class Silhouette:
    protrusions: int
    tips: tuple[tuple[float, float], ...]  # protrusion tips, mask px
    palm: float  # palm length, mask px


# --- 1-2: the silhouette and its protrusions ----------------------------------------------
def count_protrusions(mask: np.ndarray, palm_centre: tuple[float, float], palm_length: float) -> Silhouette | str:
    """Count finger-like protrusions on a binary hand mask (convexity defects of its outline).

    Protrusions that touch the mask's border (the forearm, a finger cut by the frame) are not counted.
    """
    import cv2

    m = mask.astype(np.uint8)
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return "no hand outline"
    c = max(contours, key=cv2.contourArea)
    if len(c) < 20:
        return "hand outline too small"
    hull = cv2.convexHull(c, returnPoints=False)
    hull = np.sort(hull[:, 0])
    try:
        defects = cv2.convexityDefects(c, hull.reshape(-1, 1))
    except cv2.error:
        return "hand outline self-intersects"
    pts = c[:, 0, :].astype(float)
    h, w = m.shape
    deep = [] if defects is None else sorted(int(d[0][2]) for d in defects if d[0][3] / 256.0 > DEFECT_DEPTH * palm_length)
    if not deep:
        return Silhouette(protrusions=0 if _on_border(pts, w, h).all() else 1, tips=(), palm=palm_length)
    # the outline between consecutive deep notches is one protrusion; its tip is the point farthest from the palm
    centre = np.asarray(palm_centre)
    tips: list[tuple[float, float]] = []
    n = len(pts)
    for i, start in enumerate(deep):
        end = deep[(i + 1) % len(deep)]
        idx = np.arange(start, end if end > start else end + n) % n
        seg = pts[idx]
        border = _on_border(seg, w, h)
        if border.any():
            continue  # leaves the frame: forearm or cut finger
        far = seg[np.argmax(np.linalg.norm(seg - centre, axis=1))]
        if np.linalg.norm(far - centre) > 0.8 * palm_length:
            tips.append((float(far[0]), float(far[1])))
    return Silhouette(protrusions=len(tips), tips=tuple(tips), palm=palm_length)


def _on_border(p: np.ndarray, w: int, h: int) -> np.ndarray:
    return (p[:, 0] <= 1) | (p[:, 1] <= 1) | (p[:, 0] >= w - 2) | (p[:, 1] >= h - 2)


def skin_mask(rgb: np.ndarray, samples: np.ndarray, k: float = 3.0) -> np.ndarray:
    """Pixels whose colour (Lab a, b and lightness) is within ``k`` standard deviations of the sampled skin."""
    import cv2

    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    s = lab[samples[:, 1], samples[:, 0]]
    mu = s.mean(axis=0)
    sd = np.maximum(s.std(axis=0), (12.0, 4.0, 4.0))
    z = np.abs((lab - mu) / sd)
    return (z[..., 0] < k * 1.5) & (z[..., 1] < k) & (z[..., 2] < k)


def hand_silhouette(rgb: np.ndarray, points: np.ndarray,
                    others: np.ndarray | None = None) -> tuple[np.ndarray, tuple[int, int]] | str:
    """The hand's silhouette in a crop around its landmarks (bool mask, crop origin), or why it is unclean.

    ``others``: landmarks (x, y) of the other hands and faces; a silhouette that swallows them is rejected.
    """
    import cv2
    from scipy import ndimage

    H, W = rgb.shape[:2]
    box_lo, box_hi = points[:, :2].min(0), points[:, :2].max(0)
    pad = 0.45 * (box_hi - box_lo).max()  # room for a finger the landmarks do not cover
    x0, y0 = (np.maximum(0, box_lo - pad)).astype(int)
    x1, y1 = (np.minimum((W, H), box_hi + pad)).astype(int)
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    if min(crop.shape[:2]) < 20:
        return "hand too small"
    local = np.round(points[:, :2] - (x0, y0)).astype(int)
    local = np.clip(local, 0, (crop.shape[1] - 1, crop.shape[0] - 1))
    # skin samples: along every bone, between consecutive landmarks, and across the palm
    bones = [(0, 1), (0, 5), (0, 17), (5, 9), (9, 13), (13, 17), (0, 9), (0, 13)]
    bones += [(f[i], f[i + 1]) for f in FINGERS.values() for i in range(3)]
    samp = np.array([local[a] + t * (local[b] - local[a]) for a, b in bones for t in (0.3, 0.5, 0.7)])
    samp = np.round(samp).astype(int)
    mask = skin_mask(crop, samp)
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
    labels, n = ndimage.label(mask)
    hit = labels[samp[:, 1], samp[:, 0]]
    if (hit > 0).mean() < 0.8:
        return "the hand's colour is not uniform enough to trace its outline"
    hand = labels == np.bincount(hit[hit > 0]).argmax()
    hand = ndimage.binary_fill_holes(hand)
    tips_on = hand[local[[4, 8, 12, 16, 20], 1], local[[4, 8, 12, 16, 20], 0]].mean()
    if tips_on < 0.8:
        return "the traced outline misses fingertips"
    hull_area = cv2.contourArea(cv2.convexHull(local.astype(np.int32)))
    if hand.sum() > 3.0 * max(hull_area, 1.0):
        return "the hand merges with other skin or a skin-coloured background"
    if others is not None and len(others):
        o = np.round(np.asarray(others)[:, :2] - (x0, y0)).astype(int)
        inside = (o[:, 0] >= 0) & (o[:, 1] >= 0) & (o[:, 0] < hand.shape[1]) & (o[:, 1] < hand.shape[0])
        if hand[o[inside, 1], o[inside, 0]].sum() >= 3:
            return "the hand touches another hand or a face"
    return hand, (int(x0), int(y0))


# --- 3: joints bent the wrong way ------------------------------------------------------
def backward_bends(world: np.ndarray) -> list[tuple[str, float]]:
    """Finger joints bent against the direction the rest of the hand flexes, in degrees, with the finger's name."""
    if not np.any(world):
        return []
    n = np.cross(world[5] - world[0], world[17] - world[0])
    if np.linalg.norm(n) == 0:
        return []
    n = n / np.linalg.norm(n)
    bends: list[tuple[str, float, float]] = []
    for name, (a, b, c, d) in FINGERS.items():
        if name == "thumb":
            continue
        chain = [0, a, b, c, d]
        for i in range(1, 4):
            u, v = world[chain[i]] - world[chain[i - 1]], world[chain[i + 1]] - world[chain[i]]
            nu, nv = np.linalg.norm(u), np.linalg.norm(v)
            if nu == 0 or nv == 0:
                continue
            ang = float(np.degrees(np.arccos(np.clip(np.dot(u, v) / (nu * nv), -1, 1))))
            side = float(np.dot(np.cross(u, v), np.cross(u, n)))  # which way the joint turns w.r.t. the palm
            bends.append((name, ang, side))
    if not bends:
        return []
    forward = np.sign(sum(a * np.sign(s) for _, a, s in bends)) or 1.0
    return [(name, ang) for name, ang, s in bends if np.sign(s) == -forward and ang > BACKWARD_DEG]


# --- the cue -------------------------------------------------------------------------
def judge_hand(rgb: np.ndarray, points: np.ndarray, world: np.ndarray,
               others: np.ndarray | None = None) -> tuple[list[str], dict] | str:
    """What is wrong with one hand (plain-language list, possibly empty) and the measurements."""
    issues: list[str] = []
    details: dict = {"landmark_backward_bends": [f"{n} {ang:.0f} deg" for n, ang in backward_bends(world)]}
    sil = hand_silhouette(rgb, points, others)
    if isinstance(sil, str):
        details["silhouette"] = sil
    else:
        mask, (x0, y0) = sil
        ys, xs = np.nonzero(mask)
        details["silhouette_box"] = [int(x0 + xs.min()), int(y0 + ys.min()),
                                     int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]
        palm_centre = points[[0, 5, 9, 13, 17], :2].mean(0) - (x0, y0)
        palm = float(np.linalg.norm(points[9, :2] - points[0, :2]))
        got = count_protrusions(mask, tuple(palm_centre), palm)
        if isinstance(got, str):
            details["silhouette"] = got
        else:
            details["protrusions"] = got.protrusions
            if got.protrusions > MAX_PROTRUSIONS:
                issues.append(f"{_words(got.protrusions)} finger-like protrusions on one hand")
    if "protrusions" not in details:
        return f"hand outline unusable: {details['silhouette']}"
    return issues, details


def _union(a: tuple[float, ...], b: list[int]) -> tuple[float, float, float, float]:
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    return (x0, y0, max(a[0] + a[2], b[0] + b[2]) - x0, max(a[1] + a[3], b[1] + b[3]) - y0)


def _words(n: int) -> str:
    return {6: "six", 7: "seven", 8: "eight"}.get(n, str(n))


@cue("body.hands", needs=("rgb", "hands", "faces"), version="1")
def malformed_hands(a: Analysis) -> Result:
    """Extra fingers: more than five finger-like protrusions on a hand's silhouette."""
    hands = a.get("hands")
    if not hands:
        return Result.not_applicable("no hand found")
    rgb = a.get("rgb")
    judged, skipped, bad = [], [], []  # bad: (box, issues)
    for i, h in enumerate(hands):
        if h.size < MIN_HAND_PX:
            skipped.append({"hand": i, "why": f"hand is {h.size:.0f} px, too small (need {MIN_HAND_PX})"})
            continue
        if h.score < MIN_SCORE:
            skipped.append({"hand": i, "why": f"hand detected with low confidence ({h.score:.2f})"})
            continue
        others = [o.points[:, :2] for j, o in enumerate(hands) if j != i]
        others += [f.points[::8, :2] for f in a.get("faces")]
        got = judge_hand(rgb, h.points, h.world, np.concatenate(others) if others else None)
        if isinstance(got, str):
            skipped.append({"hand": i, "why": got})
            continue
        issues, d = got
        judged.append({"hand": i, "issues": issues, **d})
        if issues:
            bad.append((_union(h.box, d["silhouette_box"]), issues))
    details = {"hands": judged, "skipped": skipped}
    if not judged:
        why = skipped[0]["why"] if skipped else "no hand"
        return Result.not_applicable(f"no hand could be examined ({why})", details=details)
    if bad:
        regions = tuple(Region(a.to_original(box), "; ".join(issues)) for box, issues in bad)
        what = "; ".join(i for _, issues in bad for i in issues)
        most = max(d.get("protrusions", 0) for d in judged)
        return Result.generated(min(0.8, 0.6 + 0.1 * (most - MAX_PROTRUSIONS - 1)),
                                f"a hand looks anatomically impossible: {what}", regions=regions, details=details)
    return Result.clear(f"{len(judged)} hand(s) examined; no hand outline shows more than five fingers "
                        "(fingers held together count as one, so this cannot prove a hand is right)",
                        details=details)
