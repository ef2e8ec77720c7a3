"""What the pages show, computed from a case: pure functions, no web framework in here."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from ..fusion import p_at_base_rate
from ..overlay import KIND_COLOURS, KIND_TITLES, Box, evidence_boxes
from ..taxonomy import BY_ID, CATEGORIES
from .store import ANSWER_TITLES, ANSWERS, Answer, Case

STATUS_TITLES = {
    "generated-evidence": "evidence of generation",
    "real-evidence": "evidence of a real photo",
    "clear": "nothing found",
    "not-applicable": "not applicable",
    "error": "failed",
}


@dataclass(frozen=True)
class FindingView:
    cue: str
    status: str
    status_title: str
    strength: float | None
    reason: str
    values: tuple[tuple[str, str], ...]
    boxes: tuple[int, ...]


@dataclass(frozen=True)
class GroupView:
    category: str
    title: str
    findings: tuple[FindingView, ...]
    not_applicable: int


@dataclass(frozen=True)
class CheckView:
    cue: str
    category_title: str
    failure: str
    guidance: str
    boxes: tuple[int, ...]
    answer: str | None
    note: str


@dataclass(frozen=True)
class Review:
    """The reviewer's judgement, counted from the checklist answers."""

    answered: int
    problem_seen: int
    looks_fine: int
    cannot_tell: int

    @property
    def summary(self) -> str:
        if not self.answered:
            return "no checklist answers yet"
        return (f"{self.problem_seen} problem(s) seen, {self.looks_fine} look(s) fine, "
                f"{self.cannot_tell} cannot tell ({self.answered} answered)")


def review_of(answers: tuple[Answer, ...]) -> Review:
    counts = {a: sum(1 for x in answers if x.answer == a) for a in ANSWERS}
    return Review(len(answers), counts["problem-seen"], counts["looks-fine"], counts["cannot-tell"])


def short_value(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def finding_values(details: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), short_value(v)) for k, v in details.items())


def _numbers(boxes: tuple[Box, ...], cue: str, kinds: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(b.number for b in boxes if b.source == cue and b.kind in kinds)


def finding_groups(report: dict[str, Any], boxes: tuple[Box, ...]) -> tuple[GroupView, ...]:
    """Findings under the five categories and provenance; evidence first, then the rest."""
    order = {"generated-evidence": 0, "real-evidence": 1, "error": 2, "clear": 3, "not-applicable": 4}
    groups = []
    for cat, title in CATEGORIES.items():
        fs = sorted((f for f in report.get("findings", []) if f.get("category") == cat),
                    key=lambda f: order.get(f.get("status"), 5))
        views = tuple(
            FindingView(f["cue"], f["status"], STATUS_TITLES.get(f["status"], f["status"]),
                        f.get("strength"), f.get("reason", ""), finding_values(f.get("details") or {}),
                        _numbers(boxes, f["cue"], ("generated", "real", "clear")))
            for f in fs if f.get("status") != "not-applicable")
        groups.append(GroupView(cat, title, views, sum(1 for f in fs if f.get("status") == "not-applicable")))
    return tuple(groups)


def checklist(report: dict[str, Any], boxes: tuple[Box, ...], answers: tuple[Answer, ...]
              ) -> tuple[CheckView, ...]:
    """Every manual check of the report with its guidance, boxes and the stored answer."""
    by_cue = {a.cue: a for a in answers}
    out = []
    for m in report.get("manual_checks", []):
        item = BY_ID.get(m["cue"])
        a = by_cue.get(m["cue"])
        out.append(CheckView(
            m["cue"], CATEGORIES.get(item.category, "") if item else "",
            item.failure if item else "", m.get("guidance", ""),
            _numbers(boxes, m["cue"], ("manual",)), a.answer if a else None, a.note if a else ""))
    return tuple(out)


def metadata_rows(report: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The file's description and what the provenance cues read from its metadata."""
    rows: list[tuple[str, str]] = []
    im = report.get("image") or {}
    for key in ("format", "mode", "width", "height", "bytes", "frames"):
        if key in im:
            rows.append((key, str(im[key])))
    for w in im.get("warnings") or []:
        rows.append(("note", str(w)))
    rows.append(("sha256", str(report.get("sha256") or "")))
    for f in report.get("findings", []):
        if f.get("category") == "provenance":
            for k, v in (f.get("details") or {}).items():
                if v not in (None, "", [], {}):
                    rows.append((f"{f['cue']}: {k}", short_value(v, 300)))
    return tuple(rows)


def svg_geometry(report: dict[str, Any]) -> dict[str, float]:
    """Sizes for the SVG drawn over the picture, in the image's own pixels."""
    im = report.get("image") or {}
    w, h = int(im.get("width") or 1), int(im.get("height") or 1)
    fs = max(12.0, max(w, h) / 50)  # about 15 px when the page shows the picture 750 px wide
    return {"width": w, "height": h, "font": round(fs, 1), "stroke": round(max(2.0, fs / 6), 1),
            "badge": round(fs * 1.6, 1)}


def answers_from_form(form: dict[str, str], known: set[str]) -> list[Answer]:
    """The answers in a submitted checklist form (``answer:<cue>`` and ``note:<cue>``)."""
    out = []
    for key, value in form.items():
        if not key.startswith("answer:"):
            continue
        cue = key.removeprefix("answer:")
        if cue in known and value in ANSWERS:
            out.append(Answer(cue, value, form.get(f"note:{cue}", "")[:4000]))
    return out


CASE_CSV_FIELDS = ["id", "sha256", "filename", "filenames", "created_at", "verdict", "p_generated",
                   "unsure_reason", "error", "reviewer_answered", "reviewer_problem_seen",
                   "reviewer_looks_fine", "reviewer_cannot_tell"]


def cases_csv(cases: list[Case], base_rate: float | None = None) -> str:
    """One row per case; with ``base_rate``, p_generated_at_base_rate follows p_generated."""
    buf = io.StringIO()
    w = csv.writer(buf)
    fields = list(CASE_CSV_FIELDS)
    if base_rate is not None:
        fields.insert(fields.index("p_generated") + 1, "p_generated_at_base_rate")
    w.writerow(fields)
    for c in cases:
        r = review_of(c.answers)
        at_rate = [] if base_rate is None else [p_at_base_rate(c.p_generated, base_rate)]
        w.writerow([c.id, c.sha256, c.filename, "; ".join(c.filenames), c.created_at.isoformat(),
                    c.verdict, c.p_generated, *at_rate, c.report.get("unsure_reason") or "", c.error or "",
                    r.answered, r.problem_seen, r.looks_fine, r.cannot_tell])
    return buf.getvalue()


def case_csv(case: Case) -> str:
    """One case: a row per finding (the model's) and per checklist answer (the reviewer's)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["source", "cue", "category", "status_or_answer", "strength", "reason_or_note"])
    for f in case.report.get("findings", []):
        w.writerow(["model", f["cue"], f["category"], f["status"],
                    "" if f.get("strength") is None else f["strength"], f.get("reason", "")])
    for a in case.answers:
        item = BY_ID.get(a.cue)
        w.writerow(["reviewer", a.cue, item.category if item else "", a.answer, "", a.note])
    return buf.getvalue()


__all__ = ["KIND_COLOURS", "KIND_TITLES", "ANSWER_TITLES", "evidence_boxes"]


@dataclass(frozen=True)
class SvgBox:
    """One box as the case page draws it over the picture, with its numbered badge."""

    number: int
    source: str
    kind: str
    label: str
    x: float
    y: float
    w: float
    h: float
    badge_x: float
    badge_y: float


def svg_boxes(boxes: tuple[Box, ...], geom: dict[str, float]) -> tuple[SvgBox, ...]:
    """Boxes clipped to the picture, badges placed clear of each other (as on the PNG)."""
    from ..overlay import badge_position

    W, H, size = geom["width"], geom["height"], geom["badge"]
    placed: list[tuple[float, float, float, float]] = []
    out = []
    for b in boxes:
        x, y, w, h = b.box
        x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
        if x1 <= x0 or y1 <= y0:
            continue
        bx, by = badge_position((x0, y0, x1, y1), (size, size), (int(W), int(H)), placed)
        placed.append((bx, by, bx + size, by + size))
        out.append(SvgBox(b.number, b.source, b.kind, b.label, x0, y0, x1 - x0, y1 - y0, bx, by))
    return tuple(out)
