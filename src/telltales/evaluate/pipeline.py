"""``telltales eval`` and ``telltales calibrate`` as functions: data in, numbers and files out."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..findings import json_safe
from ..fusion import Fusion
from ..limits import DEFAULT_MAX_PIXELS
from . import fit as fitting
from . import html, manifest, runner, summary


@dataclass(frozen=True)
class Evaluation:
    summary: dict[str, Any]
    records: list[dict[str, Any]]  # scored, one per image and condition
    problems: tuple[str, ...]
    counts: dict[str, int]
    meta: dict[str, Any]
    fitted: fitting.FitResult | None = None
    files: dict[str, str] = field(default_factory=dict)


def collect(
    source: str | Path,
    work: str | Path,
    *,
    conditions: Sequence[str],
    cues: list[str] | None = None,
    jobs: int = 1,
    limit: int | None = None,
    seed: int = 0,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    progress: bool = True,
    retry_errors: bool = False,
) -> tuple[manifest.Dataset, list[dict[str, Any]], dict[str, int]]:
    """Load the labelled set and run (or fetch from the cache) every cue under every condition."""
    ds = manifest.load(source, limit=limit, seed=seed)
    if not ds.items:
        from ..errors import TelltalesError

        raise TelltalesError(f"{source}: no usable labelled images ({len(ds.problems)} bad rows)")
    records, counts = runner.run(
        ds.items, work, conditions=conditions, cues=cues, jobs=jobs, max_pixels=max_pixels,
        progress=progress, retry_errors=retry_errors,
    )
    return ds, records, counts


def cue_versions(records: Sequence[dict[str, Any]]) -> dict[str, str]:
    return {f["cue"]: f["version"] for r in records for f in r.get("findings", [])}


def evaluate(
    source: str | Path,
    out: str | Path,
    *,
    conditions: Sequence[str] = ("asis",),
    cues: list[str] | None = None,
    fusion: str | Path | None = None,
    logo: bool = False,
    jobs: int = 1,
    limit: int | None = None,
    seed: int = 0,
    n_boot: int = 500,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    progress: bool = True,
    write_files: bool = True,
    cache: str | Path | None = None,
    retry_errors: bool = False,
) -> Evaluation:
    """Measure telltales on labelled images; with ``logo`` measure a fusion fitted on them,
    each family scored by the fit made without it (leave-one-generator-out).

    Files go to ``out``; the cache too, unless ``cache`` names another folder.
    """
    out = Path(out)
    ds, records, counts = collect(source, cache or out, conditions=conditions, cues=cues, jobs=jobs,
                                  limit=limit, seed=seed, max_pixels=max_pixels, progress=progress,
                                  retry_errors=retry_errors)
    fitted = None
    if logo:
        fitted = fitting.fit_fusion(records, name="logo")
        full = Fusion.from_dict(fitted.fusion)
        folds = {f: Fusion.from_dict(d) for f, d in fitted.fold_fusions.items()}
        scored = runner.score(records, lambda r: folds.get(r["family"], full))
        fusion_name = "leave-one-group-out fits (each family scored without itself)"
    else:
        fus = Fusion.load(fusion)
        scored = runner.score(records, fus)
        fusion_name = fus.name
    s = summary.summarise(scored, n_boot=n_boot, seed=seed)
    meta = {
        "data": str(source),
        "images": len(ds.items),
        "bad_rows": len(ds.problems),
        "conditions": list(conditions),
        "fusion": fusion_name,
        "cues": cue_versions(records),
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "limit": limit,
        "computed": counts.get("computed", 0),
        "from_cache": counts.get("cached", 0),
    }
    if fitted is not None and fitted.fusion["record"].get("families_not_validated"):
        meta["families_not_held_out"] = fitted.fusion["record"]["families_not_validated"]
    ev = Evaluation(s, scored, ds.problems, counts, meta, fitted)
    if write_files:
        ev = write(ev, out, {i.file: i.path for i in ds.items})
    return ev


def write(ev: Evaluation, out: Path, paths: dict[str, str] | None = None) -> Evaluation:
    """Write the rows, the JSON and the HTML page; ``paths`` (manifest file -> path on disk)
    lets the page show thumbnails of the worst mistakes."""
    out.mkdir(parents=True, exist_ok=True)
    worst = summary.worst(ev.records)
    runner.write_rows(ev.records, out / "rows.jsonl")
    doc = {"meta": ev.meta, "summary": ev.summary, "problems": list(ev.problems), "worst": worst}
    if ev.fitted is not None:
        doc["fitted_fusion"] = ev.fitted.fusion
    (out / "report.json").write_text(json.dumps(json_safe(doc), indent=1, allow_nan=False), encoding="utf-8")
    page = html.write(ev.summary, worst, out, ev.meta, paths=paths)
    files = {"rows": str(out / "rows.jsonl"), "json": str(out / "report.json"), "html": str(page)}
    return Evaluation(ev.summary, ev.records, ev.problems, ev.counts, ev.meta, ev.fitted, files)


def logo_record(ev: Evaluation) -> dict[str, Any]:
    """The numbers a fitted fusion keeps about itself: LOGO metrics per condition."""
    keys = ("n", "auc", "average_precision", "tpr_at_fpr_1pct", "tpr_at_fpr_2pct", "tpr_at_fpr_5pct",
            "balanced_accuracy_decided", "unsure_share", "called_generated_real", "called_real_ai", "ece", "ece_balanced",
            "seconds_per_image")
    return {
        c: {k: (round(s[k], 4) if isinstance(s.get(k), float) else s.get(k)) for k in keys}
        for c, s in ev.summary["conditions"].items()
    }


def calibrate(
    source: str | Path,
    out: str | Path,
    *,
    work: str | Path | None = None,
    conditions: Sequence[str] = ("asis", "stripped", "web", "thumbnail"),
    cues: list[str] | None = None,
    jobs: int = 1,
    limit: int | None = None,
    seed: int = 0,
    l2: float = 1.0,
    max_false_generated: float = 0.02,
    max_false_real: float = 0.05,
    name: str | None = None,
    progress: bool = True,
    retry_errors: bool = False,
) -> tuple[dict[str, Any], Evaluation]:
    """Fit a fusion on labelled images and write it to ``out`` (JSON), with a record of
    what it was fitted on and its leave-one-group-out metrics."""
    out = Path(out)
    work = Path(work) if work else out.with_suffix(".work")
    ds, records, counts = collect(source, work, conditions=conditions, cues=cues, jobs=jobs,
                                  limit=limit, seed=seed, progress=progress, retry_errors=retry_errors)
    fitted = fitting.fit_fusion(
        records, name=name or out.stem, l2=l2, max_false_generated=max_false_generated,
        max_false_real=max_false_real,
    )
    full = Fusion.from_dict(fitted.fusion)
    folds = {f: Fusion.from_dict(d) for f, d in fitted.fold_fusions.items()}
    scored = runner.score(records, lambda r: folds.get(r["family"], full))
    s = summary.summarise(scored, n_boot=200, seed=seed)
    meta = {"data": str(source), "images": len(ds.items), "bad_rows": len(ds.problems),
            "conditions": list(conditions), "fusion": "leave-one-group-out", "cues": cue_versions(records),
            "limit": limit}
    ev = write(Evaluation(s, scored, ds.problems, counts, meta, fitted), work)
    fusion = dict(fitted.fusion)
    fusion["record"] = {
        **fusion["record"],
        "data": str(source),
        "limit": limit,
        "cue_versions": cue_versions(records),
        "logo_metrics": logo_record(ev),
        "evaluation": str(work / "report.html"),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(fusion, indent=2) + "\n", encoding="utf-8")
    Fusion.from_dict(fusion)  # what we wrote must load
    return fusion, ev
