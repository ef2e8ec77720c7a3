"""Impossible limbs: joints bent the wrong way, limbs of impossible length, extra hands (Borji 2023, 2.1 "limbs").

Generators draw bodies from appearance, not from a skeleton, so they sometimes
give a person an arm far too long, two legs of very different length, a knee
bent backwards, or a third hand. The pose model (33 body landmarks) gives the
skeleton; this cue measures it, and only where the model is sure it sees the
joint (landmark visibility >= MIN_VISIBILITY).

What a flat photograph allows, and so what counts as evidence:

1. Length against the head. A limb seen end-on looks *shorter* than it is
   (foreshortening), never longer, so only a limb that is too *long* can be
   judged: its length in the picture is compared with the size of the face
   (chin to forehead, or cheek to cheek / 0.75, whichever is larger).
   Perspective can still enlarge a limb close to the camera, so only an
   extreme ratio counts: on the dev real photos of people no limb segment
   exceeded 2.8 face heights (74 bodies as published, 73 web copies), the
   threshold is 4.
2. Extra hands: when exactly one face is in the picture, more than two
   separate hands within arm's reach of that person's shoulders (dev real
   photos: at most 2, over 91 bodies).

Measured and reported but *not* evidence, because the pose model's own errors
make real bodies look just as impossible (dev real photos, benchmarks/bench_body2.py):
left vs right length of the same segment (real up to 15x: one landmark put on
the wrong leg), upper vs lower segment of one limb (real up to 27x: a forearm
pointing at the camera), and knees bent backwards in the model's 3-D body
coordinates (real up to 133 degrees: the model's depth guess flips). Elbows are
not judged at all: from one picture the direction an elbow may bend cannot be
told.

Generated bodies that the pose model cannot fit are simply not found, so this
cue mostly answers "clear" or "not applicable"; it catches only grossly
stretched limbs and third hands.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from telltales.analysis import Analysis
from telltales.findings import ManualCheck, Region, Result
from telltales.registry import cue
from telltales.taxonomy import BY_ID

MIN_VISIBILITY = 0.9
MIN_BODY_PX = 120.0  # the visible skeleton's box (working px, longer side) must be at least this tall
SEGMENTS = {"left upper arm": (11, 13), "left forearm": (13, 15), "right upper arm": (12, 14),
            "right forearm": (14, 16), "left thigh": (23, 25), "left shin": (25, 27),
            "right thigh": (24, 26), "right shin": (26, 28)}
LIMBS = {"left arm": ("left upper arm", "left forearm"), "right arm": ("right upper arm", "right forearm"),
         "left leg": ("left thigh", "left shin"), "right leg": ("right thigh", "right shin")}
PAIRS = (("left upper arm", "right upper arm"), ("left forearm", "right forearm"),
         ("left thigh", "right thigh"), ("left shin", "right shin"))
KNEES = {"left knee": (23, 25, 27, 29, 31), "right knee": (24, 26, 28, 30, 32)}  # hip, knee, ankle, heel, toe
# thresholds: beyond the worst dev real photo of people (see the module docstring)
MAX_SEGMENT_PER_FACE = 4.0  # a segment longer than this many face heights (real max 2.8)
MAX_HANDS = 2  # separate hands within reach of one person (real max 2)


@dataclass(frozen=True)
class LimbMeasures:
    lengths: dict[str, float]  # visible segments, 2-D length in px
    per_face: dict[str, float]  # segment length / face height (when a face belongs to the body)
    left_right: dict[str, float]  # longer / shorter of the same segment on both sides
    upper_lower: dict[str, float]  # longer / shorter of the two segments of one limb
    knees_backwards: dict[str, float]  # degrees a knee is bent backwards (0: bent normally or straight)


# --- 1-2: lengths ------------------------------------------------------------------------
def segment_lengths(points: np.ndarray, visibility: np.ndarray, min_vis: float = MIN_VISIBILITY) -> dict[str, float]:
    """2-D lengths (px) of the limb segments whose two end joints are both confidently visible."""
    out = {}
    for name, (i, j) in SEGMENTS.items():
        if visibility[i] >= min_vis and visibility[j] >= min_vis:
            out[name] = float(np.linalg.norm(points[i, :2] - points[j, :2]))
    return out


def _ratio(x: float, y: float) -> float:
    lo, hi = min(x, y), max(x, y)
    return float("inf") if lo <= 0 else hi / lo


def length_ratios(lengths: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """(left vs right of the same segment, upper vs lower segment of the same limb): longer / shorter."""
    lr = {f"{a.split(' ', 1)[1]}": _ratio(lengths[a], lengths[b]) for a, b in PAIRS if a in lengths and b in lengths}
    ul = {limb: _ratio(lengths[u], lengths[lo]) for limb, (u, lo) in LIMBS.items() if u in lengths and lo in lengths}
    return lr, ul


def face_height(mesh: np.ndarray) -> float:
    """The face's size in px: the larger of chin-forehead height and cheek-to-cheek width / 0.75."""
    height = float(np.linalg.norm(mesh[10, :2] - mesh[152, :2]))
    width = float(np.linalg.norm(mesh[234, :2] - mesh[454, :2]))
    return max(height, width / 0.75)


# --- 3: knees bent backwards --------------------------------------------------------------
def knee_backwards(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray, heel: np.ndarray, toe: np.ndarray) -> float:
    """Degrees the knee is bent backwards (against the toes' direction); 0 when bent forwards or straight."""
    thigh, shin = knee - hip, ankle - knee
    nt, ns = np.linalg.norm(thigh), np.linalg.norm(shin)
    if nt == 0 or ns == 0:
        return 0.0
    bend = float(np.degrees(np.arccos(np.clip(np.dot(thigh, shin) / (nt * ns), -1.0, 1.0))))
    line = ankle - hip
    t = np.dot(knee - hip, line) / max(np.dot(line, line), 1e-12)
    off = knee - (hip + t * line)  # the knee's offset from the hip-ankle line
    forward = toe - heel
    return bend if np.dot(off, forward) < 0 else 0.0


def knee_angles(world: np.ndarray, visibility: np.ndarray, min_vis: float = MIN_VISIBILITY) -> dict[str, float]:
    if not np.any(world):
        return {}
    out = {}
    for name, idx in KNEES.items():
        if all(visibility[i] >= min_vis for i in idx):
            out[name] = knee_backwards(*(world[i] for i in idx))
    return out


# --- 4: extra hands -----------------------------------------------------------------------
def hands_within_reach(hand_centres: list[np.ndarray], shoulders: np.ndarray, reach: float) -> int:
    """How many of the hands (centres, px) lie within ``reach`` px of either shoulder, counting overlapping ones once."""
    near = [c for c in hand_centres if min(np.linalg.norm(c - s) for s in shoulders) <= reach]
    distinct: list[np.ndarray] = []
    for c in near:
        if all(np.linalg.norm(c - d) > 0.15 * reach for d in distinct):
            distinct.append(c)
    return len(distinct)


def measure(points: np.ndarray, visibility: np.ndarray, world: np.ndarray, face: float | None) -> LimbMeasures:
    lengths = segment_lengths(points, visibility)
    lr, ul = length_ratios(lengths)
    per_face = {k: v / face for k, v in lengths.items()} if face else {}
    return LimbMeasures(lengths, per_face, lr, ul, knee_angles(world, visibility))


def problems(m: LimbMeasures) -> list[str]:
    """Plain-language list of what no human body does, from the measurements that count as evidence."""
    return [f"the {k} is {v:.1f} times as long as the face is high (real limbs stay under 3)"
            for k, v in m.per_face.items() if v > MAX_SEGMENT_PER_FACE]


def _manual(note: str, regions: tuple[Region, ...] = ()) -> tuple[ManualCheck, ...]:
    """Keep a person looking: this cue judges only gross errors, or could not judge at all."""
    return (ManualCheck("body.limbs", f"{note} {BY_ID['body.limbs'].guidance}", regions),)


def _face_of(faces, nose: np.ndarray):
    for f in faces:
        x, y, w, h = f.box
        if x - 0.2 * w <= nose[0] <= x + 1.2 * w and y - 0.2 * h <= nose[1] <= y + 1.2 * h:
            return f
    return None


@cue("body.limbs", needs=("pose", "faces", "hands"), version="2")
def impossible_limbs(a: Analysis) -> Result:
    """A limb impossibly long for the head, or more hands than one person has."""
    poses = a.get("pose")
    faces, hands = a.get("faces"), a.get("hands")
    unjudged = "The pose model could not measure the body."
    if not poses:
        return Result.not_applicable("no person's body found",
                                     manual=_manual(unjudged) if (faces or hands) else ())
    p = poses[0]
    seen = p.visibility >= MIN_VISIBILITY
    if seen.sum() < 4:
        return Result.not_applicable("the body's joints are not visible clearly enough", manual=_manual(unjudged))
    pts = p.points[seen, :2]
    box = (float(pts[:, 0].min()), float(pts[:, 1].min()), float(np.ptp(pts[:, 0])), float(np.ptp(pts[:, 1])))
    body = (Region(a.to_original(box), "body"),)
    body_px = float(np.ptp(pts, axis=0).max())
    if body_px < MIN_BODY_PX:
        return Result.not_applicable(f"the person is {body_px:.0f} px tall in the picture, too small (need {MIN_BODY_PX:.0f})",
                                     manual=_manual(unjudged, body))
    f = _face_of(faces, p.points[0]) if p.visibility[0] >= MIN_VISIBILITY else None
    m = measure(p.points, p.visibility, p.world, face_height(f.points) if f is not None else None)
    issues = problems(m)
    details: dict = {"segments_px": m.lengths, "per_face_height": m.per_face, "left_right": m.left_right,
                     "upper_lower": m.upper_lower, "knees_backwards_deg": m.knees_backwards}
    if len(faces) == 1 and {11, 12} <= set(np.nonzero(seen)[0]):
        upper = [m.lengths[k] for k in ("left upper arm", "right upper arm") if k in m.lengths]
        shoulder_w = float(np.linalg.norm(p.points[11, :2] - p.points[12, :2]))
        reach = 2.6 * max(upper + [shoulder_w * 0.8])
        n = hands_within_reach([h.points[:, :2].mean(0) for h in hands if h.score >= 0.8],
                               p.points[[11, 12], :2], reach)
        details["hands_within_reach"] = n
        if n > MAX_HANDS:
            issues.append(f"{n} separate hands within arm's reach of the only person in the picture")
    judged = bool(m.lengths or m.knees_backwards or "hands_within_reach" in details)
    if not judged:
        return Result.not_applicable("no limb is visible clearly enough to measure", details=details,
                                     manual=_manual(unjudged, body))
    details["issues"] = issues
    if issues:
        return Result.generated(0.5, "the body is anatomically impossible: " + "; ".join(issues),
                                regions=(Region(a.to_original(box), "; ".join(issues)),), details=details)
    what = (f"{len(m.lengths)} limb segment(s) measured, none impossibly long" if m.lengths
            else "no limb segment was measurable")
    if "hands_within_reach" in details:
        what += f"; {details['hands_within_reach']} hand(s) within reach of the only person, no more than two"
    if m.knees_backwards:
        what += f"; {len(m.knees_backwards)} knee(s) measured, none bent backwards impossibly far"
    return Result.clear(f"{what} (only gross errors are judged; the pose model may itself smooth over a malformed "
                        "limb)",
                        details=details,
                        manual=_manual("The automatic check catches only grossly stretched limbs and third hands.", body))
