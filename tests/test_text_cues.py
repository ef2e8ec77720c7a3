"""Known-answer tests for the text cues on images drawn here with Pillow's fonts.

text.gibberish, details.watermark and semantics.function share one OCR pass
per image (``telltales.analyses.ocr``); each drawing is analysed once.
"""

from __future__ import annotations

import io
import math
from functools import cache

import numpy as np
import pytest
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFilter, ImageFont

from telltales.analyses.ocr import TextLine
from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.cues.semantics.function import Numeral, dial_problems, numeral_of
from telltales.cues.text_noise.gibberish import Word, decide, judge, pronounceability, unsettled
from telltales.cues.text_noise.watermark_text import placement, stock_match
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import get

INK = (25, 25, 60)
PAPER = (242, 238, 226)


def font(size: int, bold: bool = True) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu where installed, else Pillow's own scalable font."""
    try:
        return ImageFont.truetype("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def sign(lines: list[str], size: int = 40, width: int = 640) -> PILImage.Image:
    im = PILImage.new("RGB", (width, 70 * len(lines) + 40), PAPER)
    d = ImageDraw.Draw(im)
    for i, text in enumerate(lines):
        d.text((30, 30 + 70 * i), text, font=font(size), fill=INK)
    return im


def clock(numbers: list[str], size: int = 400, roman: bool = False) -> PILImage.Image:
    """A dial with ``numbers[k]`` drawn at the (k+1) o'clock position."""
    im = PILImage.new("RGB", (size, size), "white")
    d = ImageDraw.Draw(im)
    c, r = size / 2, size * 0.45
    d.ellipse((c - r, c - r, c + r, c + r), outline="black", width=4)
    f = font(int(size * 0.08))
    for k, n in enumerate(numbers):
        ang = math.radians(30 * (k + 1) - 90)
        d.text((c + 0.78 * r * math.cos(ang), c + 0.78 * r * math.sin(ang)), n, font=f, fill="black", anchor="mm")
    d.line((c, c, c + 0.5 * r, c - 0.2 * r), fill="black", width=6)
    d.line((c, c, c - 0.1 * r, c - 0.7 * r), fill="black", width=4)
    return im


def photo_with_mark(mark: str) -> PILImage.Image:
    """A smooth 'photo' with a mark drawn across its centre, like a stock watermark."""
    y, x = np.mgrid[0:480, 0:720]
    rgb = np.stack([90 + 60 * np.sin(x / 90.0), 120 + 40 * np.cos(y / 70.0), 150 + 0 * x], axis=-1)
    im = PILImage.fromarray(rgb.astype(np.uint8))
    d = ImageDraw.Draw(im)
    d.text((360, 240), mark, font=font(64), fill=(245, 245, 245), anchor="mm")
    return im


HOURS = [str(n) for n in range(1, 13)]
DRAWINGS = {
    "words": lambda: sign(["BAKERY FRESH BREAD", "BOULANGERIE PATISSERIE", "BÄCKEREI KONDITOREI",
                           "PANADERÍA Y PASTELERÍA"]),
    "random-letters": lambda: sign(["GRTPLKSDF VBNQWRT", "ZKXPLMGH QWRTZPLK"]),
    "mixed-alphabets": lambda: sign(["Gαrdεn Mαrkεt", "Bαkεry Stαtion"]),
    "tiny-word": lambda: sign(["GRTPLKSDF VBNQWRT"], size=7, width=640),
    "blurred-word": lambda: sign(["GRTPLKSDF VBNQWRT"]).filter(ImageFilter.GaussianBlur(6)),
    "numbers-only": lambda: sign(["2024 15:30 No 7", "TEL 0123 456 789"]),
    "clock": lambda: clock(HOURS),
    "clock-13": lambda: clock(HOURS[:-1] + ["13"]),
    "clock-repeated": lambda: clock(["1", "2", "3", "4", "4", "6", "7", "8", "9", "9", "11", "12"]),
    "mark-intact": lambda: photo_with_mark("shutterstock"),
    "mark-mangled": lambda: photo_with_mark("shuttrestcok"),
    "blank": lambda: PILImage.new("RGB", (320, 240), PAPER),
}


@cache
def analysis(name: str) -> Analysis:
    buf = io.BytesIO()
    DRAWINGS[name]().save(buf, "PNG")
    return Analysis(load_image(buf.getvalue()))


def verdict(cue_id: str, name: str):
    finding, manual = run_cue(get(cue_id), analysis(name))
    assert finding.status != Status.ERROR, finding.reason
    return finding, manual


# --- text.gibberish -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("words", Status.CLEAR),
        ("random-letters", Status.GENERATED),
        ("mixed-alphabets", Status.GENERATED),
        ("tiny-word", Status.NOT_APPLICABLE),
        ("blurred-word", Status.NOT_APPLICABLE),
        ("numbers-only", Status.NOT_APPLICABLE),
        ("blank", Status.NOT_APPLICABLE),
    ],
)
def test_gibberish_known_answers(name, status):
    finding, _ = verdict("text.gibberish", name)
    assert finding.status == status, finding.reason


def test_gibberish_points_at_and_quotes_the_garbled_words():
    finding, _ = verdict("text.gibberish", "random-letters")
    assert finding.regions, "evidence must come with boxes"
    w, h = analysis("random-letters").image.size
    for r in finding.regions:
        x, y, bw, bh = r.box
        assert x >= 0 and y >= 0 and x + bw <= w and y + bh <= h and bw > 0 and bh > 0
    assert "GRTPLKSDF" in finding.reason or "VBNQWRT" in finding.reason
    assert "not a word" in finding.reason


def test_mixed_alphabets_are_named():
    finding, _ = verdict("text.gibberish", "mixed-alphabets")
    assert "mixes alphabets" in finding.reason and "Greek" in finding.reason


@pytest.mark.parametrize(
    ("token", "garbled"),
    [("restaurant", False), ("Boulangerie", False), ("Straße", False), ("Wauwinet", False),
     ("QWRTZPLK", True), ("ZKXPLMGH", True), ("Cafеs", True),  # Cafеs: Cyrillic e
     ("BAAUTY", True), ("Trayeler", True)],  # one letter from "beauty", "traveler"
)
def test_judge_words(token, garbled):
    v = judge(Word(token, 0.99, 0))
    assert v is not None and v.garbled is garbled, v


@pytest.mark.parametrize("token", ["ab", "A4", "2024", "OK", "XQLW", "USDOT", "B52XQ"])
def test_short_or_numeric_tokens_are_not_judged(token):
    assert judge(Word(token, 0.99, 0)) is None or not judge(Word(token, 0.99, 0)).garbled


def test_low_confidence_readings_are_not_judged():
    assert judge(Word("ZKXPLMGH", 0.5, 0)) is None


def _line(text: str, score: float) -> TextLine:
    return TextLine(((0, 0), (200, 0), (200, 30), (0, 30)), (0, 0, 200, 30), text, score)


@pytest.mark.parametrize(
    ("text", "score", "flagged"),
    [("plentao cusEs ocokamten", 0.45, True), ("plentao cusEs ocokamten", 0.95, False),
     ("浦宫海水浴玛网場百周年", 0.45, False), ("a b c", 0.3, False)],
)
def test_unsettled_lines(text, score, flagged):
    v = unsettled(_line(text, score), 0)
    assert (v is not None and v.garbled) is flagged


def test_evidence_needs_several_garbled_words_or_no_real_word():
    def v(text):
        return judge(Word(text, 0.99, 0))

    one_garbled_among_words = [v("BAAUTY"), v("restaurant"), v("bakery")]
    assert decide(one_garbled_among_words)[0] is False
    assert decide([v("BAAUTY"), v("TRAYELER")])[0] is True
    assert decide([v("BAAUTY")])[0] is False  # one misspelling alone: an OCR slip or a name
    assert decide([v("restaurant"), v("bakery")]) == (False, 0.0)


def test_pronounceable_names_score_above_consonant_strings():
    assert pronounceability("Siasconset") > pronounceability("GRTPLKSDF") + 1.0


# --- semantics.function -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "status", "phrase"),
    [
        ("clock", Status.CLEAR, "right places"),
        ("clock-13", Status.GENERATED, "13"),
        ("clock-repeated", Status.GENERATED, "repeated"),
        ("words", Status.NOT_APPLICABLE, "no clock"),
        ("blank", Status.NOT_APPLICABLE, "no clock"),
    ],
)
def test_clock_faces(name, status, phrase):
    finding, manual = verdict("semantics.function", name)
    assert finding.status == status, finding.reason
    assert phrase in finding.reason
    if status == Status.GENERATED:
        assert finding.regions
    else:
        assert manual and manual[0].cue == "semantics.function"  # bicycles, chess boards: a person looks


def _ring(values: list[int], turn: float = 0.0) -> list[Numeral]:
    out = []
    for k, v in enumerate(values):
        a = math.radians(30 * (k + 1) + turn)
        x, y = 100 + 80 * math.sin(a), 100 - 80 * math.cos(a)
        out.append(Numeral(v, str(v), x, y, 12.0, (x - 6, y - 6, 12, 12)))
    return out


def test_dial_problems_pure():
    assert dial_problems(_ring(list(range(1, 13))), 100, 100) == ()
    assert dial_problems(_ring(list(range(1, 13)), turn=12.0), 100, 100) == ()  # slightly rotated photo
    swapped = list(range(1, 13))
    swapped[2], swapped[8] = swapped[8], swapped[2]
    assert any("out of order" in p for p in dial_problems(_ring(swapped), 100, 100))
    assert any("repeated" in p for p in dial_problems(_ring([1, 2, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12]), 100, 100))


@pytest.mark.parametrize(("text", "value"), [("12", 12), ("XII", 12), ("iv", 4), ("IIII", 4), ("7.", 7),
                                             ("abc", None), ("123", None)])
def test_numeral_of(text, value):
    assert numeral_of(text) == value


# --- details.watermark --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "status"),
    [("mark-intact", Status.CLEAR), ("mark-mangled", Status.GENERATED), ("blank", Status.NOT_APPLICABLE)],
)
def test_watermark_known_answers(name, status):
    finding, _ = verdict("details.watermark", name)
    assert finding.status == status, finding.reason
    if status == Status.GENERATED:
        assert "shutterstock" in finding.reason and finding.regions


@pytest.mark.parametrize(
    ("text", "site", "exact"),
    [("Shutterstock", "shutterstock", True), ("gettyimages", "gettyimages", True),
     ("shuttrestcok", "shutterstock", False), ("dreamstlme.com", "dreamstime", True), ("depositphots", "depositphotos", False)],
)
def test_stock_match(text, site, exact):
    name, sim, is_exact = stock_match(text)
    assert name == site and is_exact is exact and sim > 0.7


def test_placement():
    assert placement((5, 5, 40, 10), 400, 300) == "corner"
    assert placement((100, 140, 200, 30), 400, 300) == "centre"
    assert placement((150, 20, 60, 10), 400, 300) is None


# --- the shared OCR ---------------------------------------------------------------------------
def test_ocr_is_shared_and_in_working_pixels():
    a = analysis("words")
    lines = a.get("ocr")
    assert lines is a.get("ocr")
    assert all(isinstance(ln, TextLine) for ln in lines)
    assert any("BAKERY" in ln.text for ln in lines)
    h, w = a.get("rgb").shape[:2]
    for ln in lines:
        x, y, bw, bh = ln.box
        assert x >= -2 and y >= -2 and x + bw <= w + 2 and y + bh <= h + 2
        assert 0.0 <= ln.score <= 1.0 and ln.glyphs


def test_ocr_gate_skips_blank_images():
    assert analysis("blank").get("ocr") == ()
