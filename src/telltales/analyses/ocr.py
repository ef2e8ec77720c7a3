"""Text in the image, read once per image and shared by the text cues.

Two passes of the PP-OCR models that ship inside ``rapidocr`` (offline, no
download):

1. a cheap gate: the text *detector* alone on a copy whose long side is at most
   384 px. Most photos have no legible text; they stop here (tens of ms).
2. where the gate finds text: detection at up to 768 px and recognition of
   every line, with a box and a confidence for each character.

Boxes are in working-size pixels (those of ``a.rgb``); cues convert them with
``a.to_original``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from .. import cpu
from ..analysis import Analysis, provider

GATE_SIDE = 384  # long side of the text-presence gate (about 30 ms; 53 of 54 AI images with text pass)
DETECT_SIDE = 768  # long side of the full detection pass (recognition reads the working-size crops)
MIN_SIDE = 32  # smaller images hold no legible text

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Glyph:
    """One recognised character: its column span in the line (full line height)."""

    char: str
    score: float
    box: Box  # (x, y, w, h), working-size pixels


@dataclass(frozen=True)
class TextLine:
    """One detected line of text and what the recogniser read in it."""

    quad: tuple[tuple[float, float], ...]  # four corners, working-size pixels
    box: Box  # axis-aligned (x, y, w, h)
    text: str
    score: float  # mean character confidence, 0-1
    glyphs: tuple[Glyph, ...] = ()

    @property
    def height(self) -> float:
        """Line height measured across the text (robust to slight rotation)."""
        q = np.asarray(self.quad, dtype=float)
        return float((np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2)


def _params(**extra: Any) -> dict[str, Any]:
    return {
        "Global.log_level": "error",
        "Global.use_cls": False,  # generated text is upright; the classifier costs time
        "Global.text_score": 0.0,  # keep low-confidence lines: they are part of the evidence
        # this process's share of the cores (telltales.cpu), not onnxruntime's default of all of them
        "EngineConfig.onnxruntime.intra_op_num_threads": cpu.threads(),
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        **extra,
    }


@lru_cache(maxsize=1)
def _gate_engine() -> Any:
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    from rapidocr import RapidOCR

    return RapidOCR(params=_params(**{"Global.use_rec": False, "Det.limit_type": "max",
                                      "Det.limit_side_len": GATE_SIDE}))


@lru_cache(maxsize=1)
def _read_engine() -> Any:
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    from rapidocr import RapidOCR

    return RapidOCR(params=_params(**{"Det.limit_type": "max", "Det.limit_side_len": DETECT_SIDE,
                                      "Global.return_word_box": True,
                                      "Global.return_single_char_box": True}))


def _quad_box(quad: np.ndarray) -> Box:
    x0, y0 = quad.min(axis=0)
    x1, y1 = quad.max(axis=0)
    return (float(x0), float(y0), float(x1 - x0), float(y1 - y0))


def _glyphs(word_result: Any) -> tuple[Glyph, ...]:
    out = []
    for item in word_result or ():
        try:
            char, score, quad = item
        except (TypeError, ValueError):
            continue
        if quad is None:
            continue
        out.append(Glyph(str(char), float(score), _quad_box(np.asarray(quad, dtype=float))))
    return tuple(out)


def _matching_glyphs(text: str, words: list[tuple[Glyph, ...]]) -> tuple[Glyph, ...]:
    """The glyphs of ``text``: rapidocr drops empty glyph lists, so match by content."""
    want = "".join(text.split())
    for i, glyphs in enumerate(words):
        if "".join(g.char for g in glyphs) == want:
            return words.pop(i)
    return ()


def has_text(bgr: np.ndarray) -> bool:
    """The gate: does the detector see any text at low resolution?"""
    found = _gate_engine()(bgr, use_det=True, use_cls=False, use_rec=False)
    boxes = getattr(found, "boxes", None)
    return boxes is not None and len(boxes) > 0


def read_text(bgr: np.ndarray) -> tuple[TextLine, ...]:
    """Detect and recognise every text line (no gate)."""
    out = _read_engine()(bgr, use_det=True, use_cls=False, use_rec=True,
                         return_word_box=True, return_single_char_box=True)
    boxes, txts, scores = (getattr(out, k, None) for k in ("boxes", "txts", "scores"))
    if boxes is None or txts is None or len(boxes) == 0:
        return ()
    words = [_glyphs(w) for w in (getattr(out, "word_results", ()) or ())]
    lines = []
    for quad, text, score in zip(boxes, txts, scores, strict=False):
        q = np.asarray(quad, dtype=float).reshape(-1, 2)
        if q.shape != (4, 2) or not str(text).strip():
            continue
        glyphs = _matching_glyphs(str(text), words)
        lines.append(TextLine(tuple(map(tuple, q.tolist())), _quad_box(q), str(text), float(score), glyphs))
    return tuple(lines)


@provider("ocr")
def ocr(a: Analysis) -> tuple[TextLine, ...]:
    """Text lines read in the working-size image; empty when there is none."""
    rgb = a.get("rgb")
    if min(rgb.shape[:2]) < MIN_SIDE:
        return ()
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    if not has_text(bgr):
        return ()
    return read_text(bgr)
