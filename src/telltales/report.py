"""The report for one image: a frozen record, its JSON form and its terminal form."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .findings import Finding, ManualCheck, Status
from .taxonomy import CATEGORIES, HARD_OBJECTS


@dataclass(frozen=True)
class Report:
    path: str | None
    sha256: str | None
    verdict: str  # "generated", "real", "unsure"; "error" when the file could not be analysed
    p_generated: float | None  # None exactly when verdict is "error"
    reasons: tuple[str, ...]
    error: str | None
    findings: tuple[Finding, ...] = ()
    manual_checks: tuple[ManualCheck, ...] = ()
    unsure_reason: str | None = None
    image: dict[str, Any] = field(default_factory=dict)
    version: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    profile: str = "full"  # "triage" when the triage profile's result stood without the full inspection

    def finding(self, cue_id: str) -> Finding | None:
        return next((f for f in self.findings if f.cue == cue_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "verdict": self.verdict,
            "p_generated": None if self.p_generated is None else round(self.p_generated, 4),
            "unsure_reason": self.unsure_reason,
            "reasons": list(self.reasons),
            "error": self.error,
            "image": self.image,
            "findings": [f.to_dict() for f in self.findings],
            "manual_checks": [m.to_dict() for m in self.manual_checks],
            "version": self.version,
            "seconds": round(self.seconds, 4),
            "profile": self.profile,
        }

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kw)


_MARK = {
    Status.GENERATED: "!!",
    Status.REAL: "ok",
    Status.CLEAR: "--",
    Status.NOT_APPLICABLE: "  ",
    Status.ERROR: "ER",
}


def part_missing(findings: list[Finding] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings (as JSON) of cues that could not run because a part is not installed or
    failed its check (``details["part_missing"]``). Findings as objects or as JSON."""
    rows = [f if isinstance(f, dict) else f.to_dict() for f in findings]
    return [f for f in rows if f["status"] == Status.NOT_APPLICABLE and (f.get("details") or {}).get("part_missing")]


def missing_parts(findings: list[Finding] | list[dict[str, Any]]) -> list[str]:
    """Notes on the cues of :func:`part_missing`: the CLIP detector by itself, since without
    metadata most of the verdict rests on it, and the others in one line."""
    gone = part_missing(findings)
    notes = [f"the CLIP detector did not run, so without metadata this verdict rests on weaker cues: {f['reason']}"
             for f in gone if f["cue"] == "noise.clip"]
    others = [f["cue"] for f in gone if f["cue"] != "noise.clip"]
    if others:
        notes.append(f"{len(others)} cue(s) could not run here (a part is not installed): "
                     f"{', '.join(others)} (each one's finding says why)")
    return notes


def render_text(report: Report, *, verbose: bool = False, color: bool = False,
                base_rate: float | None = None) -> str:
    """A readable summary for the terminal; with ``base_rate``, p_generated also at that rate
    (:func:`telltales.fusion.at_base_rate`)."""

    def paint(s: str, code: str) -> str:
        return f"\033[{code}m{s}\033[0m" if color else s

    lines: list[str] = []
    name = report.path or "<image>"
    if report.error:
        said = report.error if report.error.startswith(name) else f"{name}: {report.error}"
        lines.append(f"ERROR {said}")
        return "\n".join(lines)
    vcode = {"generated": "1;31", "real": "1;32", "unsure": "1;33"}[report.verdict]
    at_rate = ""
    if base_rate is not None and report.p_generated is not None:
        from .fusion import at_base_rate

        at_rate = (f" ({at_base_rate(report.p_generated, base_rate):.2f} where {100 * base_rate:g}% of "
                   "pictures are generated)")
    lines.append(
        f"{name}: {paint(report.verdict.upper(), vcode)}  p_generated={report.p_generated:.2f}{at_rate}"
    )
    im = report.image
    if im:
        lines.append(f"  {im.get('format')} {im.get('width')}x{im.get('height')}, {im.get('bytes')} bytes")
        for w in im.get("warnings", []):
            lines.append(f"  note: {w}")
    lines.extend(f"  note: {n}" for n in missing_parts(report.findings))
    if report.unsure_reason:
        lines.append(f"  unsure because {report.unsure_reason}")
    if report.reasons:
        lines.append("  why:")
        lines.extend(f"   - {r}" for r in report.reasons[:8])
    by_cat: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_cat.setdefault(f.category, []).append(f)
    lines.append("  evidence by category:")
    for cat, title in CATEGORIES.items():
        fs = by_cat.get(cat, [])
        if not fs:
            continue
        shown = [f for f in fs if verbose or f.status not in (Status.NOT_APPLICABLE,)]
        n_na = len(fs) - len(shown)
        lines.append(f"   {title}" + (f" ({n_na} not applicable)" if n_na else ""))
        for f in shown:
            strength = "" if f.strength is None else f" {f.strength:.2f}"
            where = f" at {len(f.regions)} region(s)" if f.regions else ""
            lines.append(f"    [{_MARK[f.status]}] {f.cue}{strength}: {f.reason}{where}")
    if report.manual_checks:
        lines.append(f"  for a person to check ({len(report.manual_checks)}):")
        limit = None if verbose else 6
        for m in report.manual_checks[:limit]:
            lines.append(f"   - {m.cue}: {m.guidance}")
        if limit and len(report.manual_checks) > limit:
            lines.append(f"   ... and {len(report.manual_checks) - limit} more (--verbose or --json)")
        lines.append("  generators find these hard, look closely where they appear: " + ", ".join(HARD_OBJECTS))
    return "\n".join(lines)
