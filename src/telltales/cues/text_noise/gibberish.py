"""Text that looks like writing and is not (Borji 2023, "text, noise and details").

Image generators paint letters as shapes: shop signs, labels and book covers
come out as strings that are no word in any language, that mix alphabets
inside one word, or whose glyphs a text recogniser cannot settle on although
the strokes are crisp. A person sees it at once when told where to look; this
cue reads the text (shared OCR, ``telltales.analyses.ocr``) and points at it.

Real photos are full of words a dictionary does not know (brand names, place
names, half-hidden signs, OCR slips), so the cue is conservative:

* only words of at least ``MIN_LETTERS`` letters (not short all-capital
  acronyms), read with high confidence in lines that are tall, contrasted and
  sharp enough, are judged; short strings, numbers, codes, tiny or blurred text
  are left alone;
* an unknown word counts as garbled when it is *unpronounceable* (its letter
  sequences are rare in all the supported languages), mixes alphabets, or is
  one letter away from a common word ("BAAUTY", "TRAYELER"); any other unknown
  word is taken for a name;
* a sharp, contrasted line of Latin letters that the recogniser reads with low
  confidence counts as garbled too: real letters are read with confidence;
* generated-evidence needs several garbled words, or one long badly garbled
  word, or several words of which none is a real word (see ``decide``).
  On the dev set this keeps false evidence on real photos at 1 in 409.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import islice

import numpy as np

from telltales.analysis import Analysis
from telltales.findings import Region, Result
from telltales.registry import cue

LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl")  # every word wordfreq knows
# Further Latin-script languages: their most common words only (memory and load time).
MORE_LANGUAGES = ("pl", "cs", "sk", "sv", "da", "nb", "fi", "hu", "tr", "ro", "ca", "id", "ms", "sl", "lt", "lv", "is")
CORE_WORDS = 100_000  # words per main language: enough for rare words and names
MORE_WORDS = 50_000
LANGUAGE_NAMES = "English, French, German, Spanish, Italian, Portuguese, Dutch or 17 other Latin-script languages"
MIN_LETTERS = 5  # shorter strings are codes, acronyms, fragments: not judged
MAX_ACRONYM = 5  # all-capital strings this short may be acronyms: not judged
MIN_LINE_HEIGHT = 12.0  # working-size pixels; smaller text is too small to judge
MIN_CONTRAST = 0.15  # grey-level spread in a line's box; fainter text is not judged
MIN_SHARPNESS = 0.15  # steepest edge / contrast per pixel; blurred text is not judged
MIN_CONFIDENCE = 0.85  # mean glyph confidence for a word to count as read reliably
# Letter-trigram log-probability per letter below which a word is unpronounceable
# in every supported language. Chosen on the dev set: the lowest unknown word read
# in a real photo scores -3.9 (an OCR misreading, 'CANAOA'); names and brands such
# as 'Wauwinet', 'RECONYX', 'Siasconset' score -3.4 to -2.4; random letter strings
# score -4.85 (median). -4.2 leaves a margin under the real words.
UNPRONOUNCEABLE = -4.2
TRIGRAM_WORDS = 15_000  # also the common words whose misspellings are recognised  # most frequent words per language that the letter model learns from
LONG_WORD = 8  # a single garbled word this long is evidence on its own
UNSETTLED = 0.6  # mean confidence below which a crisp line's glyphs are letter-like shapes
UNSETTLED_LETTERS = 6  # ... when the line has at least this many letters
STRONG_WORD = -5.0  # ... when its letter sequences are this implausible
STRONG_CONFIDENCE = 0.95  # ... and it was read with this confidence


# --- reading words --------------------------------------------------------------
def script_of(ch: str) -> str:
    """The alphabet a letter belongs to (LATIN, GREEK, CYRILLIC, CJK...)."""
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return "OTHER"
    first = name.split()[0]
    if first in ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "HALFWIDTH", "FULLWIDTH"):
        return "CJK"
    return first


def tokens(text: str) -> list[str]:
    """Words of a line: split on spaces and punctuation, keep letters and digits."""
    return [t for t in re.split(r"[^\w]+|_", text) if t]


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float
    line: int  # index of the OCR line it came from


def words_of(lines: tuple) -> list[Word]:
    """Every token with the mean confidence of its glyphs (or of its line)."""
    out = []
    for i, line in enumerate(lines):
        chars = [(g.char, g.score) for g in line.glyphs]
        pos = 0
        for tok in tokens(line.text):
            scores = []
            for ch in tok:  # walk the glyph list in step with the token's letters
                while pos < len(chars) and chars[pos][0] != ch:
                    pos += 1
                if pos < len(chars):
                    scores.append(chars[pos][1])
                    pos += 1
            conf = min(line.score, sum(scores) / len(scores)) if len(scores) == len(tok) else line.score
            out.append(Word(tok, float(conf), i))
    return out


# --- word plausibility -----------------------------------------------------------
def _ranked(lang: str, n: int) -> list[str]:
    """The ``n`` most frequent words wordfreq knows in ``lang``."""
    from wordfreq import get_frequency_list

    read = getattr(get_frequency_list, "__wrapped__", get_frequency_list)  # skip wordfreq's keep-everything cache
    return list(islice((w for bucket in read(lang) for w in bucket), n))


@cache
def _lexicon(lang: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """The words of ``lang`` to look up, and the most common ones for the letter model."""
    words = _ranked(lang, CORE_WORDS if lang in LANGUAGES else MORE_WORDS)
    return frozenset(words), tuple(words[:TRIGRAM_WORDS])


def _vocabulary(lang: str) -> frozenset[str]:
    return _lexicon(lang)[0]


def is_word(token: str) -> bool:
    """A word of some supported language, in any letter case (main languages first)."""
    forms = {token.lower(), token.casefold()}  # wordfreq stores casefolded words ("strasse")
    return any(w in _vocabulary(lang) for lang in LANGUAGES + MORE_LANGUAGES for w in forms)


def plain(word: str) -> str:
    """Lower case without accents: 'Kościół' -> 'koscioł' -> letters a letter model can compare."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _trigrams() -> tuple[dict[str, float], dict[str, float]]:
    """Letter trigram and bigram counts over the common words of every language."""
    tri: Counter[str] = Counter()
    bi: Counter[str] = Counter()
    for lang in LANGUAGES + MORE_LANGUAGES:
        for w in _lexicon(lang)[1]:
            if not w.isalpha():
                continue
            s = f"^^{plain(w)}$"
            for k in range(len(s) - 2):
                tri[s[k:k + 3]] += 1
                bi[s[k:k + 2]] += 1
    return dict(tri), dict(bi)


def pronounceability(token: str) -> float:
    """Mean log-probability of each letter given the two before it (higher = more word-like)."""
    tri, bi = _trigrams()
    s = f"^^{plain(token)}$"
    total = 0.0
    for k in range(len(s) - 2):
        total += math.log((tri.get(s[k:k + 3], 0) + 0.1) / (bi.get(s[k:k + 2], 0) + 3.0))
    return total / (len(s) - 2)


@cache
def _deletions() -> dict[str, str]:
    """Every common word of the main languages, and every way of deleting one letter from it -> the word."""
    index: dict[str, str] = {}
    for lang in LANGUAGES:
        for w in _lexicon(lang)[1]:
            if len(w) < MIN_LETTERS or not w.isalpha():
                continue
            index.setdefault(w, w)
            for k in range(len(w)):
                index.setdefault(w[:k] + w[k + 1:], w)
    return index


def misspelt(token: str) -> str | None:
    """The common word ``token`` misses by one letter (swapped, added, dropped or wrong), if any.

    Symmetric deletion: two strings one edit apart share a string with one letter deleted.
    """
    w = token.lower()
    index = _deletions()
    for key in [w] + [w[:k] + w[k + 1:] for k in range(len(w))]:
        hit = index.get(key)
        if hit and hit != w and len(hit) >= MIN_LETTERS and one_edit(w, hit):
            return hit
    return None


def one_edit(a: str, b: str) -> bool:
    """True when a and b differ by one letter added, dropped, changed, or two neighbours swapped."""
    if abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1:] == b[i + 1:] or (a[i:i + 2] == b[i:i + 2][::-1] and a[i + 2:] == b[i + 2:])
    return a[i + 1:] == b[i:] if len(a) > len(b) else a[i:] == b[i + 1:]


@dataclass(frozen=True)
class Verdict:
    word: Word
    garbled: bool
    why: str
    plausibility: float | None = None
    near_miss: str | None = None  # the common word it misspells, if any
    known: bool = False  # a word of some supported language


def judge(word: Word) -> Verdict | None:
    """Is this token a garbled word? None when it cannot be judged."""
    t = word.text
    letters = [c for c in t if c.isalpha()]
    if len(letters) < MIN_LETTERS or len(letters) != len(t):
        return None  # short, numeric or alphanumeric code
    if t.isupper() and len(t) <= MAX_ACRONYM:
        return None  # an acronym or initials ("USDOT")
    if word.confidence < MIN_CONFIDENCE:
        return None
    scripts = {script_of(c) for c in t}
    if "CJK" in scripts and len(scripts) == 1:
        return None  # Chinese/Japanese words are not checked
    if len(scripts) > 1:
        return Verdict(word, True, f"'{t}' mixes alphabets ({', '.join(sorted(s.title() for s in scripts))})")
    if scripts != {"LATIN"}:
        return None
    if is_word(t):
        return Verdict(word, False, f"'{t}' is a word", known=True)
    p = pronounceability(t)
    if p >= UNPRONOUNCEABLE:
        near = misspelt(t)
        if near:
            return Verdict(word, True, f"'{t}' is no word, but one letter away from '{near}' "
                                       f"(a word half-remembered)", p, near)
        return Verdict(word, False, f"'{t}' is unknown but pronounceable (likely a name)", p)
    return Verdict(word, True, f"'{t}' is not a word in {LANGUAGE_NAMES}, and its letter sequences occur in none of them", p)


# --- legibility -------------------------------------------------------------------
@dataclass(frozen=True)
class Stroke:
    contrast: float  # spread of grey levels in the line's box (0-1)
    sharpness: float  # steepest edge relative to that spread (per pixel); blur lowers it


def strokes(gray: np.ndarray, box: tuple[float, float, float, float]) -> Stroke:
    """How crisp the strokes inside a text box are."""
    x, y, w, h = (int(round(v)) for v in box)
    crop = gray[max(0, y):max(0, y + h), max(0, x):max(0, x + w)]
    if crop.size < 16 or min(crop.shape) < 3:
        return Stroke(0.0, 0.0)
    lo, hi = np.percentile(crop, [5, 95])
    contrast = float(hi - lo)
    if contrast <= 1e-3:
        return Stroke(contrast, 0.0)
    gy, gx = np.gradient(crop.astype(np.float32))
    return Stroke(contrast, float(np.percentile(np.hypot(gx, gy), 99) / contrast))


def legible(line, stroke: Stroke) -> bool:
    """Tall enough, contrasted enough and sharp enough to tell real letters from fake ones."""
    return line.height >= MIN_LINE_HEIGHT and stroke.contrast >= MIN_CONTRAST and stroke.sharpness >= MIN_SHARPNESS


def unsettled(line, index: int) -> Verdict | None:
    """A sharp line of Latin letters that the recogniser cannot read with confidence.

    Real letters in crisp, high-contrast strokes are read with high confidence;
    letter-like shapes are not. (On the dev set, crisp Latin lines of 6+ letters
    read below 0.6 came from 1 real photo and 8 of the generated images with text.)
    """
    letters = [c for c in line.text if c.isalpha()]
    if len(letters) < UNSETTLED_LETTERS or line.score >= UNSETTLED:
        return None
    if sum(script_of(c) == "LATIN" for c in letters) < 0.8 * len(letters):
        return None
    return Verdict(Word(line.text, line.score, index), True,
                   f"the recogniser cannot settle on the letters of '{line.text.strip()}' "
                   f"({line.score:.0%} confidence) although they are sharp and contrasted")


# --- the cue ----------------------------------------------------------------------


def badly_garbled(v: Verdict) -> bool:
    """A long garbled word that is evidence on its own."""
    return (v.garbled and len(v.word.text) >= LONG_WORD and v.word.confidence >= STRONG_CONFIDENCE
            and (v.plausibility is None or v.plausibility < STRONG_WORD))


def decide(verdicts: list[Verdict]) -> tuple[bool, float]:
    """Evidence rule and strength. Generated text shows as any of:

    * several garbled words, at least half of the words judged;
    * one long, badly garbled word read with high confidence;
    * several words of which none is a real word and some are garbled (generators
      write "TIME TRAYER" where a photo shows a title, a sign, a name *and* words).
    """
    garbled = [v for v in verdicts if v.garbled]
    if not garbled:
        return False, 0.0
    share = len(garbled) / len(verdicts)
    strong = [v for v in garbled if badly_garbled(v)]
    if (len(garbled) >= 2 and share >= 0.5) or strong:
        return True, min(0.9, 0.35 + 0.15 * len(garbled) * share + (0.2 if strong else 0.0))
    if len(verdicts) >= 2 and not any(v.known for v in verdicts):
        return True, 0.3
    return False, 0.0


def line_regions(a: Analysis, lines: tuple, garbled: list[Verdict]) -> tuple[Region, ...]:
    """One box per text line holding garbled words: what was read there and why it looks generated."""
    why: dict[int, list[str]] = {}
    for v in garbled:
        why.setdefault(v.word.line, []).append(v.why)
    return tuple(Region(a.to_original(lines[i].box), f"read '{lines[i].text}': {'; '.join(reasons)}")
                 for i, reasons in why.items())


@cue("text.gibberish", needs=("ocr", "gray"), version="1")
def gibberish_text(a: Analysis) -> Result:
    """Letters that form no words, mix alphabets within a word, or cannot be read although sharp."""
    lines = a.get("ocr")
    if not lines:
        return Result.not_applicable("no text found in the image")
    gray = a.get("gray")
    crisp = [legible(ln, strokes(gray, ln.box)) for ln in lines]
    if not any(crisp):
        return Result.not_applicable("the text in the image is too small, faint or blurred to judge")
    words = [w for w in words_of(tuple(lines)) if crisp[w.line]]
    verdicts = [v for v in (judge(w) for w in words) if v is not None]
    verdicts += [v for i, ln in enumerate(lines) if crisp[i] and (v := unsettled(ln, i)) is not None]
    details = {
        "lines": [{"text": ln.text, "score": round(ln.score, 3), "box": [round(v) for v in a.to_original(ln.box)]}
                  for ln in lines],
        "judged": [{"word": v.word.text, "garbled": v.garbled, "confidence": round(v.word.confidence, 3),
                    "plausibility": None if v.plausibility is None else round(v.plausibility, 2),
                    "near_miss": v.near_miss} for v in verdicts],
    }
    if not verdicts:
        return Result.not_applicable("the text holds no word long and clear enough to judge "
                                     "(short strings, numbers or uncertain readings)", details=details)
    evidence, strength = decide(verdicts)
    garbled = [v for v in verdicts if v.garbled]
    regions = line_regions(a, lines, garbled)
    if evidence:
        examples = "; ".join(v.why for v in garbled[:3])
        return Result.generated(strength, f"text that looks like writing but is not: {examples}",
                                regions=regions, details=details)
    if garbled:
        return Result.clear(f"{len(garbled)} of {len(verdicts)} readable words look garbled, too few to "
                            f"tell generated text from names or misreadings", regions=regions, details=details)
    return Result.clear(f"the {len(verdicts)} readable word(s) are real words or plausible names", details=details)
