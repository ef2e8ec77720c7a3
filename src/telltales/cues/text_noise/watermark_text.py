"""Garbled stock-photo watermarks and signatures (Borji 2023, memorisation).

Generators learn from millions of stock photos and paintings and copy what is
printed on them: a "Shutterstock" banner across the middle, a "Getty Images"
tag, an artist's signature in a corner. They copy its look, not its spelling:
the mark reads as nothing, or as a mangled stock-site name ("Shutterstcok",
"gettyimagas"). This cue looks at text the shared OCR read in the corners and
across the centre of the image.

An intact stock-site name is what a real stock photo carries, so it is not
evidence of generation. Handwritten signatures are rarely legible to OCR; the
cue asks a person to look whenever it cannot decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from telltales.analysis import Analysis
from telltales.findings import ManualCheck, Region, Result
from telltales.registry import cue
from telltales.taxonomy import BY_ID

from .gibberish import MIN_LINE_HEIGHT, Word, badly_garbled, judge, tokens

CUE_ID = "details.watermark"
STOCK_SITES = ("shutterstock", "gettyimages", "getty", "istock", "istockphoto", "adobestock", "alamy",
               "dreamstime", "depositphotos", "123rf", "fotolia", "bigstock", "bigstockphoto",
               "vectorstock", "pond5", "freepik", "canstockphoto", "stocksy", "agefotostock",
               "pixabay", "unsplash", "envato", "gograph", "colourbox", "photodune")
MIN_FUZZY = 7  # shorter names ("getty", "alamy") are only matched exactly
NEAR_MISS = 0.8  # similarity to a stock-site name above which a non-exact mark is a mangled copy
CORNER = 0.25  # share of width/height that counts as a corner band
CENTRE = 0.2  # a line crossing within this share of the centre, and wide, is an overlay


@dataclass(frozen=True)
class Mark:
    text: str
    box: tuple[float, float, float, float]
    where: str  # "corner" or "centre"
    score: float  # OCR confidence


def placement(box: tuple[float, float, float, float], width: int, height: int) -> str | None:
    """Where a text box sits: in a corner, across the centre, or elsewhere (None)."""
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    in_x = cx < CORNER * width or cx > (1 - CORNER) * width
    in_y = cy < CORNER * height or cy > (1 - CORNER) * height
    if in_x and in_y:
        return "corner"
    if abs(cx - width / 2) < CENTRE * width and abs(cy - height / 2) < CENTRE * height and w > 0.3 * width:
        return "centre"
    return None


CONFUSABLE = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("i", "l"), ("|", "l"))


def letters(text: str) -> str:
    """Lower-case letters and digits, with shapes OCR confuses (i/l/1, 0/o, rn/m) made equal."""
    s = "".join(c for c in text.lower() if c.isalnum() or c == "|")
    for a, b in CONFUSABLE:
        s = s.replace(a, b)
    return s


def stock_match(text: str) -> tuple[str, float, bool]:
    """The closest stock-site name, its similarity and whether it appears intact.

    Fuzzy matches are only sought for names of at least ``MIN_FUZZY`` letters, against
    pieces of the mark of about the same length ("Pharris Photography" is no "gograph").
    """
    s = letters(text)
    if not s:
        return "", 0.0, False
    for name in STOCK_SITES:
        if letters(name) in s:
            return name, 1.0, True
    pieces = set(tokens(text.lower())) | {s}
    best, score = "", 0.0
    for name in STOCK_SITES:
        if len(name) < MIN_FUZZY:
            continue
        for piece in pieces:
            piece = letters(piece)
            if abs(len(piece) - len(name)) > 2:
                continue
            r = SequenceMatcher(None, letters(name), piece).ratio()
            if r > score:
                best, score = name, r
    return best, score, False


def _manual(regions: tuple[Region, ...] = ()) -> tuple[ManualCheck, ...]:
    return (ManualCheck(CUE_ID, BY_ID[CUE_ID].guidance, regions),)


@cue(CUE_ID, needs=("ocr",), version="1")
def garbled_watermark(a: Analysis) -> Result:
    """Stock-photo watermarks and signatures that read as nothing or as a mangled site name."""
    lines = a.get("ocr")
    h, w = a.get("rgb").shape[:2]
    marks = [Mark(ln.text, ln.box, where, ln.score) for ln in lines
             if ln.height >= MIN_LINE_HEIGHT * 0.75 and (where := placement(ln.box, w, h))]
    if not marks:
        return Result.not_applicable("no legible text in the corners or across the centre", manual=_manual())
    details: dict = {"marks": []}
    mangled, garbled, intact = [], [], []
    for m in marks:
        name, sim, exact = stock_match(m.text)
        verdicts = [v for v in (judge(Word(t, m.score, 0)) for t in tokens(m.text)) if v is not None]
        details["marks"].append({"text": m.text, "where": m.where, "stock_site": name,
                                 "similarity": round(sim, 2), "garbled_words": [v.word.text for v in verdicts
                                                                                if v.garbled]})
        region = Region(a.to_original(m.box), f"{m.where} mark reads '{m.text}'")
        if exact:
            intact.append((m, name, region))
        elif sim >= NEAR_MISS:
            mangled.append((m, name, region))
        elif verdicts and all(v.garbled for v in verdicts) and any(map(badly_garbled, verdicts)):
            garbled.append((m, verdicts, region))
    if mangled:
        m, name, _ = mangled[0]
        return Result.generated(0.7, f"a watermark reads '{m.text}', a mangled copy of the stock-site name "
                                f"'{name}': generators copy watermarks from their training photos",
                                regions=tuple(r for *_, r in mangled), details=details)
    if garbled:
        m, verdicts, _ = garbled[0]
        return Result.generated(0.4, f"a {m.where} mark reads '{m.text}', which forms no words: "
                                f"{verdicts[0].why}", regions=tuple(r for *_, r in garbled), details=details)
    if intact:
        m, name, region = intact[0]
        return Result.clear(f"an intact '{name}' watermark ('{m.text}'), as a real stock photo carries",
                            regions=(region,), details=details)
    return Result.clear("text in the corners or centre reads as ordinary words, names or numbers",
                        details=details, manual=_manual())
