"""Objects that cannot work, where their text makes it checkable (Borji 2023, "semantics").

A generator draws a clock as "a circle with numbers round it" and a keyboard
as "a grid of letters": the numbers need not run 1 to 12, may repeat, and
keys may carry the same letter three times. Where the shared OCR reads such
labels, the cue checks them:

* clock faces: numerals read around a circle must be 1-12 (or I-XII), each
  once, each at its own hour position (30 degrees apart, in order);
* keyboards and keypads: letter keys read in rows must not repeat letters.

Everything else this failure covers (bicycles without chains, chess boards
with wrong squares) and any clock or keyboard that cannot be decided is
left to a person, with a box where one was found.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from telltales.analysis import Analysis
from telltales.findings import ManualCheck, Region, Result
from telltales.registry import cue
from telltales.taxonomy import BY_ID

CUE_ID = "semantics.function"
ROMAN = {"I": 1, "II": 2, "III": 3, "IIII": 4, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8,
         "IX": 9, "X": 10, "XI": 11, "XII": 12}
MIN_NUMERALS = 5  # fewer numerals round a circle do not make a clock face
CIRCLE_FIT = 0.15  # RMS distance from the fitted circle, as a share of its radius
HOUR_TOLERANCE = 20.0  # degrees a numeral may sit away from its hour position
MIN_KEYS = 10  # single-letter labels needed to call a group a keyboard
MIN_REPEATS = 3  # repeated key letters that make a keyboard impossible


# --- clock faces -------------------------------------------------------------------
@dataclass(frozen=True)
class Numeral:
    value: int
    text: str
    x: float  # centre, working-size pixels
    y: float
    h: float
    box: tuple[float, float, float, float]


def numeral_of(text: str) -> int | None:
    """The number a clock label stands for: 1-99 in digits, or I-XII in Roman numerals."""
    t = text.strip().strip(".").upper()
    if t.isdigit() and 1 <= len(t) <= 2:
        return int(t)
    return ROMAN.get(t)


def numerals(lines: tuple) -> list[Numeral]:
    out = []
    for ln in lines:
        v = numeral_of(ln.text)
        if v is not None:
            x, y, w, h = ln.box
            out.append(Numeral(v, ln.text.strip(), x + w / 2, y + h / 2, h, ln.box))
    return out


def fit_circle(xs: np.ndarray, ys: np.ndarray) -> tuple[float, float, float, float]:
    """Least-squares circle (cx, cy, r) and its RMS residual as a share of r."""
    A = np.column_stack([xs, ys, np.ones_like(xs)])
    b = xs**2 + ys**2
    (c0, c1, c2), *_ = np.linalg.lstsq(A, b, rcond=None)
    cx, cy = c0 / 2, c1 / 2
    r = math.sqrt(max(c2 + cx**2 + cy**2, 1e-9))
    resid = np.sqrt(np.mean((np.hypot(xs - cx, ys - cy) - r) ** 2)) / r
    return float(cx), float(cy), float(r), float(resid)


@dataclass(frozen=True)
class Dial:
    numerals: tuple[Numeral, ...]
    centre: tuple[float, float]
    radius: float
    problems: tuple[str, ...]

    @property
    def box(self) -> tuple[float, float, float, float]:
        cx, cy = self.centre
        r = self.radius * 1.3
        return (cx - r, cy - r, 2 * r, 2 * r)


def angle_of(n: Numeral, cx: float, cy: float) -> float:
    """Clockwise angle from 12 o'clock, degrees (image y grows downwards)."""
    return math.degrees(math.atan2(n.x - cx, -(n.y - cy))) % 360.0


def wrap(d: float) -> float:
    return (d + 180.0) % 360.0 - 180.0


def find_dial(nums: list[Numeral]) -> Dial | None:
    """Numerals of similar size arranged on a circle all round a centre."""
    if len(nums) < MIN_NUMERALS:
        return None
    med = float(np.median([n.h for n in nums]))
    ring = [n for n in nums if 0.5 * med <= n.h <= 2.0 * med]
    if len(ring) < MIN_NUMERALS:
        return None
    xs = np.array([n.x for n in ring])
    ys = np.array([n.y for n in ring])
    cx, cy, r, resid = fit_circle(xs, ys)
    if resid > CIRCLE_FIT or r < 1.5 * med:
        return None
    angles = sorted(angle_of(n, cx, cy) for n in ring)
    gaps = np.diff(angles + [angles[0] + 360.0])
    if gaps.max() > 150.0:  # numerals must go all round, not sit on one arc of text
        return None
    return Dial(tuple(ring), (cx, cy), r, dial_problems(ring, cx, cy))


def dial_problems(ring: list[Numeral], cx: float, cy: float) -> tuple[str, ...]:
    """What is wrong with a clock face's numerals: range, repeats, order."""
    problems = []
    hours = [n for n in ring if 1 <= n.value <= 12]
    outside = sorted({n.text for n in ring if not 1 <= n.value <= 12})
    if outside and len(outside) < len(ring) / 2:
        problems.append(f"numerals a 12-hour dial does not have: {', '.join(outside)}")
    counts = Counter(n.value for n in hours)
    repeated = sorted(v for v, c in counts.items() if c > 1)
    if repeated:
        problems.append(f"numerals repeated: {', '.join(str(v) for v in repeated)}")
    if len(hours) >= MIN_NUMERALS - 1:
        offsets = [wrap(angle_of(n, cx, cy) - 30.0 * (n.value % 12)) for n in hours]
        turn = math.degrees(math.atan2(np.mean(np.sin(np.radians(offsets))), np.mean(np.cos(np.radians(offsets)))))
        misplaced = [n.text for n, o in zip(hours, offsets, strict=True) if abs(wrap(o - turn)) > HOUR_TOLERANCE]
        if len(misplaced) >= 2:
            problems.append(f"numerals out of order: {', '.join(misplaced)} are not at their hour positions")
    return tuple(problems)


# --- keyboards -----------------------------------------------------------------------
def key_labels(lines: tuple) -> list:
    """Lines that read as one letter: candidate key caps."""
    return [ln for ln in lines if len(ln.text.strip()) == 1 and ln.text.strip().isalpha()]


def keyboard_groups(keys: list) -> list[list]:
    """Single-letter labels of similar size, several per row: a keyboard or keypad."""
    if len(keys) < MIN_KEYS:
        return []
    med = float(np.median([k.box[3] for k in keys]))
    similar = [k for k in keys if 0.6 * med <= k.box[3] <= 1.6 * med]
    rows = Counter(round((k.box[1] + k.box[3] / 2) / med) for k in similar)
    in_rows = [k for k in similar if rows[round((k.box[1] + k.box[3] / 2) / med)] >= 3]
    return [in_rows] if len(in_rows) >= MIN_KEYS else []


def union_box(boxes: list[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return (x0, y0, x1 - x0, y1 - y0)


# --- the cue ---------------------------------------------------------------------------
def _manual(regions: tuple[Region, ...] = (), extra: str = "") -> tuple[ManualCheck, ...]:
    return (ManualCheck(CUE_ID, (extra + " " if extra else "") + BY_ID[CUE_ID].guidance, regions),)


@cue(CUE_ID, needs=("ocr",), version="1")
def objects_that_work(a: Analysis) -> Result:
    """Clock faces with wrong or repeated numerals; keyboards with impossible keys."""
    lines = a.get("ocr")
    dial = find_dial(numerals(lines))
    keys = keyboard_groups(key_labels(lines))
    details: dict = {}
    regions: list[Region] = []
    problems: list[str] = []
    if dial is not None:
        details["clock"] = {"numerals": [n.text for n in dial.numerals], "problems": list(dial.problems)}
        label = "clock face: " + ("; ".join(dial.problems) if dial.problems else "numerals in order")
        regions.append(Region(a.to_original(dial.box), label))
        problems += [f"clock face with {p}" for p in dial.problems]
    for group in keys:
        letters = Counter(k.text.strip().upper() for k in group)
        repeats = sorted(ch for ch, c in letters.items() if c > 1)
        extra = sum(c - 1 for c in letters.values())
        details["keyboard"] = {"keys": sorted(letters.elements()), "repeated": repeats}
        box = a.to_original(union_box([k.box for k in group]))
        if extra >= MIN_REPEATS:
            problems.append(f"keyboard whose keys repeat letters ({', '.join(repeats)})")
            regions.append(Region(box, f"keyboard: letters on several keys: {', '.join(repeats)}"))
        else:
            regions.append(Region(box, "keyboard or keypad"))
    if problems:
        strength = min(0.9, 0.5 + 0.15 * len(problems))
        return Result.generated(strength, "; ".join(problems) + ": an object that could not work",
                                regions=tuple(regions), details=details)
    if dial is not None and not keys:
        return Result.clear(f"a clock face's {len(dial.numerals)} numerals are in their right places",
                            regions=tuple(regions), details=details,
                            manual=_manual(extra="Clock numerals read correctly; check the hands and other objects."))
    if regions:
        return Result.not_applicable("a keyboard or keypad was found but its keys could not be checked "
                                     "automatically", regions=tuple(regions), details=details,
                                     manual=_manual(tuple(regions), "Read the key labels in the box."))
    return Result.not_applicable("no clock face or keyboard with readable labels", manual=_manual())
