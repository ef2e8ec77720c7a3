"""Shadows that point the wrong way (Kee, O'Brien & Farid 2013).

Under one light (the sun), the line from any point of an object's shadow
through the matching point of the object passes through the light's position
in the image; all such lines meet at one point. Generators paint shadows that
look plausible one by one but often fall in different directions, or are
missing under objects that stand in sunlight.

Pairing a shadow point with the object point that casts it cannot be done
reliably without understanding the scene, so this cue does not decide: it
finds strong cast-shadow candidates (regions much darker than their
surroundings, with sharp edges, as sunlight makes them) and asks a person to
draw the object-to-shadow lines through them. It never claims evidence.
"""

from __future__ import annotations

import numpy as np

from telltales.analysis import Analysis
from telltales.findings import ManualCheck, Region, Result
from telltales.registry import cue
from telltales.taxonomy import BY_ID

SIZE = 256  # long side of the map the candidates are searched on
DARKER = 0.45  # a shadow is at most this share of the brightness around it
MIN_AREA = 0.004  # of the image
MAX_AREA = 0.25
MIN_EDGE = 0.12  # mean gradient along the outline (0-1 grey per px): sharp, as in sunlight
GROUND = 0.4  # cast shadows on the ground: the candidate's centre lies below this share of the height
MAX_CANDIDATES = 6

GUIDANCE = (
    "Strong shadows are boxed. For each, pick a point on the shadow and the point of the object "
    "that casts it, and draw a line through both: with one sun, all these lines meet in one point "
    "(the light, possibly outside the picture). Shadows pointing different ways, or objects in "
    "sunlight without a shadow, are signs of generation."
)


def shadow_candidates(gray: np.ndarray) -> list[tuple[tuple[float, float, float, float], float, float]]:
    """Boxes (in ``gray`` px), darkness ratio and edge sharpness of strong cast-shadow candidates."""
    import cv2

    h, w = gray.shape
    s = min(1.0, SIZE / max(h, w))
    g = cv2.resize(gray, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    surround = cv2.GaussianBlur(g, (0, 0), max(g.shape) / 12)
    mask = ((g < DARKER * surround) & (g < 0.35)).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    gy, gx = np.gradient(g)
    grad = np.hypot(gx, gy)
    area_all = g.size
    out = []
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if not (MIN_AREA * area_all <= area <= MAX_AREA * area_all) or y + bh / 2 < GROUND * g.shape[0]:
            continue
        comp = (labels == i).astype(np.uint8)
        edge = cv2.morphologyEx(comp, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).astype(bool)
        sharp = float(grad[edge].mean()) if edge.any() else 0.0
        if sharp < MIN_EDGE:
            continue
        ratio = float(g[comp.astype(bool)].mean() / max(1e-6, surround[comp.astype(bool)].mean()))
        out.append(((x / s, y / s, bw / s, bh / s), ratio, sharp))
    out.sort(key=lambda c: -c[0][2] * c[0][3])
    return out[:MAX_CANDIDATES]


@cue("physics.shadows", needs=("gray",), version="1")
def shadows(a: Analysis) -> Result:
    """Candidate cast shadows boxed for a person to check against one light (no automatic verdict)."""
    g = a.gray
    if min(g.shape) < 64:
        return Result.not_applicable(f"image too small to look for shadows ({g.shape[1]}x{g.shape[0]} px)",
                                     manual=(ManualCheck("physics.shadows", BY_ID["physics.shadows"].guidance),))
    found = shadow_candidates(g.astype(np.float32))
    if not found:
        return Result.not_applicable(
            "no strong, sharp cast shadows found to check automatically",
            manual=(ManualCheck("physics.shadows", BY_ID["physics.shadows"].guidance),),
        )
    regions = tuple(Region(a.to_original(box), "shadow candidate") for box, _, _ in found)
    return Result.not_applicable(
        f"{len(found)} strong shadow candidates found; their direction needs a person to pair each "
        "shadow with the object casting it",
        manual=(ManualCheck("physics.shadows", GUIDANCE, regions),),
        details={"candidates": [{"darkness": round(r, 3), "sharpness": round(sh, 3)} for _, r, sh in found]},
    )
