"""Irises of different colour (Borji 2023, "eyes": heterochromia that generators produce by accident).

A person's two irises almost always have the same colour (true heterochromia
is rare, under 1% of people). Generators paint each eye separately and
sometimes give them different hues: one brown and one green, one grey and one
blue. Lighting changes how bright an iris looks far more than its hue, so the
comparison uses the colour (chroma) alone, not the brightness.

Here: in each iris (from the face mesh) the ring between the pupil and the
iris edge is sampled, leaving out reflections, the dark pupil and what the
eyelids cover; the median colour in CIE Lab is compared between the two eyes
as the distance in the a*/b* plane (Delta E ab without lightness).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from telltales.analyses.landmarks import eye_pairs
from telltales.analysis import Analysis
from telltales.findings import Region, Result
from telltales.registry import cue

MIN_IRIS_RADIUS = 6.0  # native px
MIN_RING_PIXELS = 30
MIN_RADIUS_RATIO = 0.8  # smaller / larger iris: below, the face is turned too far
MIN_CHROMA = 4.0  # an iris greyer than this in both eyes has no hue to compare (a*b* units)
DISTANCE_THRESHOLD = 25.0  # a*b* distance above which the irises differ; dev real photos of people reach 24.7 (bench_body.py)


@dataclass(frozen=True)
class IrisColour:
    lab: tuple[float, float, float]  # median L* (0-100), a*, b*
    pixels: int


def iris_colour(rgb: np.ndarray, centre: tuple[float, float], radius: float,
                opening: np.ndarray | None = None) -> IrisColour | str:
    """Median Lab colour of the iris ring (pupil, reflections and eyelids excluded), or why it cannot be sampled."""
    import cv2

    if radius < MIN_IRIS_RADIUS:
        return f"the iris is {2 * radius:.0f} px across, too small (need {2 * MIN_IRIS_RADIUS:.0f})"
    lab = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2LAB).astype(np.float32)
    L, A, B = lab[..., 0] * (100.0 / 255.0), lab[..., 1] - 128.0, lab[..., 2] - 128.0
    h, w = L.shape
    yy, xx = np.mgrid[0:h, 0:w]
    d = np.hypot(xx - centre[0], yy - centre[1]) / radius
    ring = (d > 0.45) & (d < 0.85)
    if opening is not None:
        ring &= opening
    if ring.sum() < MIN_RING_PIXELS:
        return "the eyelids cover the iris"
    base = np.median(L[ring])
    ring &= np.abs(L - base + 2.5) < 22.5  # drop reflections (brighter) and lash shadows (darker)
    if ring.sum() < MIN_RING_PIXELS:
        return "too little clean iris to sample"
    return IrisColour((float(np.median(L[ring])), float(np.median(A[ring])), float(np.median(B[ring]))), int(ring.sum()))


def colour_distance(a: IrisColour, b: IrisColour) -> float:
    """Distance between two iris colours in the a*b* (hue and saturation) plane."""
    return float(np.hypot(a.lab[1] - b.lab[1], a.lab[2] - b.lab[2]))


def _chroma(c: IrisColour) -> float:
    return float(np.hypot(c.lab[1], c.lab[2]))


@cue("body.eye-colour", needs=("eyes",), version="1")
def iris_colour_mismatch(a: Analysis) -> Result:
    """Left and right irises of clearly different colour."""
    eyes = a.get("eyes")
    if not eyes:
        return Result.not_applicable("no face with visible eyes large enough to examine")
    both, skipped = eye_pairs(eyes)
    measured = []
    for face, ea, eb in both:
        if min(ea.radius, eb.radius) / max(ea.radius, eb.radius) < MIN_RADIUS_RATIO:
            skipped.append({"face": face, "why": "the face is turned too far to compare the eyes"})
            continue
        ca = iris_colour(ea.crop, ea.centre, ea.radius, ea.opening)
        cb = iris_colour(eb.crop, eb.centre, eb.radius, eb.opening)
        if isinstance(ca, str) or isinstance(cb, str):
            skipped.append({"face": face, "why": ca if isinstance(ca, str) else cb})
            continue
        if max(_chroma(ca), _chroma(cb)) < MIN_CHROMA:
            skipped.append({"face": face, "why": "both irises are colourless (grey or black-and-white image)"})
            continue
        measured.append((face, ea, eb, ca, cb, colour_distance(ca, cb)))
    details = {"threshold": DISTANCE_THRESHOLD, "skipped": skipped,
               "faces": [{"face": f, "lab": [ca.lab, cb.lab], "distance": dist} for f, _, _, ca, cb, dist in measured]}
    if not measured:
        why = skipped[0]["why"] if skipped else "no pair of eyes"
        return Result.not_applicable(f"no pair of irises could be compared ({why})", details=details)
    worst = max(m[-1] for m in measured)
    bad = [m for m in measured if m[-1] > DISTANCE_THRESHOLD]
    if bad:
        regions = tuple(Region(a.to_original(e.box), f"iris colour differs (distance {m[-1]:.0f})")
                        for m in bad for e in (m[1], m[2]))
        return Result.generated(
            min(1.0, 0.3 + (worst - DISTANCE_THRESHOLD) / 40.0),
            f"the two irises have clearly different colours (colour distance {worst:.0f}, real pairs of eyes "
            f"stay below {DISTANCE_THRESHOLD:.0f}); true heterochromia is rare in people, while generators sometimes colour the two eyes differently",
            regions=regions, details=details)
    return Result.clear(f"both irises have the same colour (largest colour distance {worst:.0f})", details=details)
