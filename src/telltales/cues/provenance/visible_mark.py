"""A generator's visible mark: the DALL-E 2 colour strip.

DALL-E 2 (OpenAI's web app, 2022-2023) put a signature on every picture it let
you download: five adjacent squares, 16 px each on its native 1024 px output,
in the bottom-right corner, left to right yellow, cyan, green, red and blue
(exact RGB values below). Sites that resize the picture scale the strip with
it, so the square size is tried at the native 16 px and at 16/1024 of the
picture's width and height, and the strip is allowed a few pixels from the
corner.

Each square is read by the median colour of its middle half (JPEG chroma
subsampling smears the edges), and all five must be near their colours, in
order, and even in tone. Colours that exact in that order, against a corner,
do not happen by chance in a photograph.

What a match can prove, and what it cannot:

* it shows the picture carries DALL-E 2's signature: strong evidence that it
  is (or contains) a DALL-E 2 download;
* the strip is trivially pasted onto any picture, and a DALL-E 2 picture whose
  corner was cropped (or that came from the API, which added no strip) has
  none, so a match is not proof and absence proves nothing;
* it does not say which part of a composite was generated.

Other visible marks (Gemini's sparkle, Meta's "Imagined with AI", the Chinese
"AI生成" labels) are not read yet: they need a template or OCR.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from telltales.analysis import Analysis
from telltales.findings import Region, Result
from telltales.registry import cue

# left to right, as DALL-E 2 drew them
STRIP_COLOURS: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("yellow", (255, 255, 102)),
    ("cyan", (66, 255, 255)),
    ("green", (81, 218, 76)),
    ("red", (255, 110, 60)),
    ("blue", (60, 70, 255)),
)
NATIVE_SIDE = 1024
NATIVE_SQUARE = 16
MIN_SQUARE = 3.0  # px: below this the squares' middles are one or two pixels
COLOUR_TOLERANCE = 60.0  # RGB distance of a square's median from its colour
SPREAD_LIMIT = 24.0  # median absolute deviation within a square's middle, grey levels
STRENGTH = 0.9  # strong, never decisive: the strip can be pasted


@dataclass(frozen=True)
class StripMatch:
    box: tuple[int, int, int, int]  # (x, y, w, h) in original pixels
    square: float  # px
    distances: tuple[float, ...]  # each square's median colour from its expected colour
    spreads: tuple[float, ...]
    fit: float  # mean colour distance over nearly the whole of each square: lower is better placed

    @property
    def worst(self) -> float:
        return max(self.distances)


def square_sizes(width: int, height: int) -> list[float]:
    """Square sizes to try: native, and scaled with the picture's width or height."""
    sizes = {float(NATIVE_SQUARE), NATIVE_SQUARE * width / NATIVE_SIDE, NATIVE_SQUARE * height / NATIVE_SIDE}
    return sorted(q for q in sizes if q >= MIN_SQUARE and 5 * q <= width and q <= height)


def square_pixels(rgb: np.ndarray, x: float, y: float, q: float, inset: float) -> np.ndarray:
    """The pixels of the square at (x, y), side q, less ``inset`` (a fraction of q) on each side."""
    x0, x1 = int(math.floor(x + inset * q)), int(math.ceil(x + (1 - inset) * q))
    y0, y1 = int(math.floor(y + inset * q)), int(math.ceil(y + (1 - inset) * q))
    return rgb[y0:y1, x0:x1].reshape(-1, 3).astype(np.float32)


def read_strip(rgb: np.ndarray, x: float, y: float, q: float) -> StripMatch:
    """The five squares read at (x, y) with side q, whatever they hold.

    Colour and spread come from each square's middle half (JPEG smears the
    edges); the fit, which places the strip, from all but its outer eighth.
    """
    distances, spreads, fit = [], [], 0.0
    for i, (_, colour) in enumerate(STRIP_COLOURS):
        expected = np.asarray(colour, np.float32)
        middle = square_pixels(rgb, x + i * q, y, q, 0.25)
        median = np.median(middle, axis=0)
        distances.append(float(np.linalg.norm(median - expected)))
        spreads.append(float(np.max(np.median(np.abs(middle - median), axis=0))))
        fit += float(np.mean(np.linalg.norm(square_pixels(rgb, x + i * q, y, q, 0.125) - expected, axis=1)))
    box = (int(round(x)), int(round(y)), int(round(5 * q)), int(round(q)))
    return StripMatch(box, q, tuple(distances), tuple(spreads), fit / len(STRIP_COLOURS))


def is_strip(m: StripMatch) -> bool:
    return m.worst <= COLOUR_TOLERANCE and max(m.spreads) <= SPREAD_LIMIT


def find_strip(rgb: np.ndarray) -> StripMatch | None:
    """The best-placed strip near the bottom-right corner, whether or not it matches.

    A strip that matches beats one that does not; among those, the lower fit wins.
    """
    h, w = rgb.shape[:2]
    best: StripMatch | None = None
    for q in square_sizes(w, h):
        step = max(1.0, q / 8)
        shifts = [k * step for k in range(int(q / step) + 1)]  # up to one square from the corner
        for dx in shifts:
            for dy in shifts:
                x, y = w - 5 * q - dx, h - q - dy
                if x < 0 or y < 0:
                    continue
                m = read_strip(rgb, x, y, q)
                if best is None or (is_strip(m), -m.fit) > (is_strip(best), -best.fit):
                    best = m
    return best


def _clipped(box: tuple[int, int, int, int], w: int, h: int) -> tuple[int, int, int, int]:
    x, y, bw, bh = box
    x, y = max(0, min(x, w - 1)), max(0, min(y, h - 1))
    return (x, y, max(1, min(bw, w - x)), max(1, min(bh, h - y)))


@cue("provenance.visible-mark", needs=("native",), version="1")
def visible_mark(a: Analysis) -> Result:
    """A generator's visible mark in the picture: DALL-E 2's five-colour strip."""
    rgb = a.native
    h, w = rgb.shape[:2]
    if not square_sizes(w, h):
        return Result.not_applicable(f"too small to hold a readable DALL-E 2 strip ({w}x{h} px)")
    m = find_strip(rgb)
    details = {
        "marks_checked": ["DALL-E 2 colour strip"],
        "closest": {"square_px": round(m.square, 2), "box": list(m.box),
                    "colour_distances": [round(d, 1) for d in m.distances],
                    "spreads": [round(s, 1) for s in m.spreads]} if m else None,
    }
    if m is None or not is_strip(m):
        return Result.clear(
            "no DALL-E 2 colour strip in the bottom-right corner (cropping removes it and most "
            "generators never draw one, so its absence proves nothing)", details=details)
    box = _clipped(m.box, w, h)
    return Result.generated(
        STRENGTH,
        f"the bottom-right corner carries DALL-E 2's signature, five {m.square:.0f} px squares in "
        "yellow, cyan, green, red and blue: strong evidence of a DALL-E 2 download, but not proof, "
        "since anyone can paste the strip onto a picture",
        regions=(Region(box, "DALL-E 2 colour strip"),),
        details={**details, "mark": "DALL-E 2 colour strip", "tool": "OpenAI DALL-E 2"})
