"""Reflections that do not match the object (Borji 2023, physics).

A reflection in still water or a mirror repeats the scene, flipped, with the
same objects in the same order. Generators paint convincing water but often
reflect things that are not there, leave things out, or shift them.

Comparing an object with its reflection needs understanding of the scene, so
this cue does not decide. It looks for a horizontal line about which the
picture roughly repeats itself upside down (a lake, a wet street, a floor
mirror) and boxes both halves for a person to compare. It never claims
evidence.
"""

from __future__ import annotations

import numpy as np

from telltales.analysis import Analysis
from telltales.findings import ManualCheck, Region, Result
from telltales.registry import cue
from telltales.taxonomy import BY_ID

SIZE = 160  # long side of the map searched
MIN_BAND = 0.12  # of the height: thinner mirrored bands are not reported
MIN_SIMILARITY = 0.55  # correlation of the edge maps of a band and the flipped band below it

GUIDANCE = (
    "The boxed parts look like a scene and its reflection (water, a mirror, a shiny floor). "
    "Compare them object by object: everything above should appear below, flipped, in the same "
    "order and at the same horizontal position; reflections of lights and people should match."
)


def mirror_axis(gray: np.ndarray) -> tuple[int, int, float] | None:
    """(axis row, band height, similarity) of the best horizontal mirror line in ``gray``, or None."""
    import cv2

    h, w = gray.shape
    s = min(1.0, SIZE / max(h, w))
    g = cv2.resize(gray, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    gh = g.shape[0]
    edges = np.abs(cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3))  # vertical structure survives reflection
    best = None
    band_min = max(4, int(MIN_BAND * gh))
    for y0 in range(int(0.25 * gh), int(0.85 * gh)):
        b = min(y0, gh - y0, int(0.3 * gh))
        if b < band_min:
            continue
        above = edges[y0 - b:y0][::-1].ravel()
        below = edges[y0:y0 + b].ravel()
        if above.std() < 1e-3 or below.std() < 1e-3:
            continue
        c = float(np.corrcoef(above, below)[0, 1])
        if best is None or c > best[2]:
            best = (y0, b, c)
    if best is None or best[2] < MIN_SIMILARITY:
        return None
    return round(best[0] / s), round(best[1] / s), best[2]


@cue("physics.reflections", needs=("gray",), version="1")
def reflections(a: Analysis) -> Result:
    """Points at a likely reflection (water, mirror) for a person to compare (no automatic verdict)."""
    default = (ManualCheck("physics.reflections", BY_ID["physics.reflections"].guidance),)
    g = a.gray
    if min(g.shape) < 64:
        return Result.not_applicable(f"image too small to look for reflections ({g.shape[1]}x{g.shape[0]} px)",
                                     manual=default)
    found = mirror_axis(g.astype(np.float32))
    if found is None:
        return Result.not_applicable("no large mirrored region (water, mirror) found to compare automatically",
                                     manual=default)
    y0, b, sim = found
    w = g.shape[1]
    regions = (Region(a.to_original((0, y0 - b, w, b)), "scene"),
               Region(a.to_original((0, y0, w, b)), "its reflection?"))
    return Result.not_applicable(
        "part of the picture repeats itself upside down, like a reflection; whether the reflection "
        "matches needs a person to compare",
        manual=(ManualCheck("physics.reflections", GUIDANCE, regions),),
        details={"axis_row": y0, "band_height": b, "similarity": round(sim, 3)},
    )
