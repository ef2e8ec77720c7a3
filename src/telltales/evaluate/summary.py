"""From scored records to every number: per condition, per family, per cue, and the worst mistakes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import metrics
from .fit import signed_score


def summarise(records: Sequence[dict[str, Any]], *, n_boot: int = 500, seed: int = 0) -> dict[str, Any]:
    """The whole evaluation as one JSON-safe dict."""
    conditions = list(dict.fromkeys(r["condition"] for r in records))
    out: dict[str, Any] = {"conditions": {}, "errors": []}
    for cond in conditions:
        rs = [r for r in records if r["condition"] == cond]
        ok = [r for r in rs if not r.get("error")]
        out["errors"].extend({"file": r["file"], "condition": cond, "error": r["error"]} for r in rs
                             if r.get("error"))
        if not ok:
            out["conditions"][cond] = {"n": 0, "n_errors": len(rs)}
            continue
        y = [r["label"] for r in ok]
        p = [r["p_generated"] for r in ok]
        s = metrics.summarise(y, p, [r["verdict"] for r in ok], [r["seconds"] for r in ok],
                              n_boot=n_boot, seed=seed)
        s["n_errors"] = len(rs) - len(ok)
        s["per_family"] = per_family(ok)
        s["per_group"] = per_key(ok, "group") if len({r.get("group") for r in ok}) > 1 else {}
        s["per_generator"] = per_key(ok, "generator") if len({r.get("generator") for r in ok}) > 1 else {}
        s["per_cue"] = per_cue(ok)
        s["roc"] = _roc_points(y, p)
        s["reliability"] = metrics.reliability(y, p, balanced=True)
        out["conditions"][cond] = s
    return out


def per_family(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per family: verdict shares and, for generator families, AUC against all real images."""
    return per_key(records, "family")


def per_key(records: Sequence[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    real = [r for r in records if r["label"] == 0]
    out: dict[str, dict[str, Any]] = {}
    for name in sorted({r.get(key) or "" for r in records}):
        rs = [r for r in records if (r.get(key) or "") == name]
        labels = {r["label"] for r in rs}
        d: dict[str, Any] = {
            "n": len(rs),
            "label": "ai" if labels == {1} else "real" if labels == {0} else "mixed",
            "mean_p": float(np.mean([r["p_generated"] for r in rs])),
            "called_generated": _share(rs, "generated"),
            "called_real": _share(rs, "real"),
            "unsure": _share(rs, "unsure"),
        }
        if labels == {1} and real:
            both = rs + real
            d["auc_vs_all_real"] = metrics.roc_auc([r["label"] for r in both],
                                                  [r["p_generated"] for r in both])
        out[name] = d
    return out


def per_cue(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per cue: AUC of its signed score where applicable, coverage, false evidence on real images."""
    cues = list(dict.fromkeys(f["cue"] for r in records for f in r["findings"]))
    n_real = sum(r["label"] == 0 for r in records)
    n_ai = len(records) - n_real
    out: dict[str, dict[str, Any]] = {}
    for c in cues:
        ys, ss, errors, gen_real, gen_ai, secs = [], [], 0, 0, 0, []
        for r in records:
            f = next((f for f in r["findings"] if f["cue"] == c), None)
            if f is None:
                continue
            secs.append(f.get("seconds", 0.0))
            errors += f["status"] == "error"
            if f["status"] == "generated-evidence":
                gen_real += r["label"] == 0
                gen_ai += r["label"] == 1
            s = signed_score(f)
            if s is not None:
                ys.append(r["label"])
                ss.append(s)
        out[c] = {
            "auc_where_applicable": metrics.roc_auc(ys, ss) if ys else None,
            "n_applicable": len(ys),
            "coverage": len(ys) / len(records) if records else None,
            "false_evidence_rate_real": gen_real / n_real if n_real else None,
            "generated_evidence_rate_ai": gen_ai / n_ai if n_ai else None,
            "errors": errors,
            "seconds_per_image": float(np.mean(secs)) if secs else None,
        }
    return out


def worst(records: Sequence[dict[str, Any]], n: int = 10) -> dict[str, list[dict[str, Any]]]:
    """The mistakes: real images called generated (highest p_generated first) and generated
    images called real (lowest first). Images left unsure are not mistakes and are not listed."""
    ok = [r for r in records if not r.get("error")]
    alarms = sorted((r for r in ok if r["label"] == 0 and r["verdict"] == "generated"),
                    key=lambda r: -r["p_generated"])[:n]
    misses = sorted((r for r in ok if r["label"] == 1 and r["verdict"] == "real"),
                    key=lambda r: r["p_generated"])[:n]
    return {"false_alarms": [_brief(r) for r in alarms], "misses": [_brief(r) for r in misses]}


def _brief(r: dict[str, Any]) -> dict[str, Any]:
    evidence = [
        f"{f['cue']}: {f['status']} {f['strength'] if f['strength'] is not None else ''} - {f['reason']}"
        for f in r["findings"] if f["status"] in ("generated-evidence", "real-evidence")
    ]
    return {
        "file": r["file"], "condition": r["condition"], "family": r["family"],
        "p_generated": r["p_generated"], "verdict": r["verdict"],
        "unsure_reason": r.get("unsure_reason"), "evidence": evidence,
    }


def _share(rs: Sequence[dict[str, Any]], verdict: str) -> float:
    return sum(r["verdict"] == verdict for r in rs) / len(rs) if rs else 0.0


def _roc_points(y: Sequence[int], p: Sequence[float]) -> dict[str, list[float]]:
    fpr, tpr, _ = metrics.roc_curve(y, p)
    return {"fpr": [round(float(v), 5) for v in fpr], "tpr": [round(float(v), 5) for v in tpr]}


def table(summary: dict[str, Any]) -> str:
    """The headline numbers as a plain-text table for the terminal."""
    head = (f"{'condition':<10} {'n':>5} {'AUC':>6} {'95% CI':>13} {'AP':>6} {'TPR@1%':>7} "
            f"{'TPR@2%':>7} {'TPR@5%':>7} {'bal.acc':>7} {'unsure':>7} {'FP gen':>7} {'ECE':>6} {'ECEbal':>6} {'s/img':>6}")
    lines = [head, "-" * len(head)]
    for cond, s in summary["conditions"].items():
        if not s.get("n"):
            lines.append(f"{cond:<10} no image could be analysed ({s.get('n_errors', 0)} errors)")
            continue
        ci = s["ci95"].get("auc")
        lines.append(
            f"{cond:<10} {s['n']:>5} {_f(s['auc'])} {('[' + _f(ci[0]).strip() + ',' + _f(ci[1]).strip() + ']') if ci else '-':>13} "
            f"{_f(s['average_precision'])} {_f(s['tpr_at_fpr_1pct'], 7)} {_f(s['tpr_at_fpr_2pct'], 7)} "
            f"{_f(s['tpr_at_fpr_5pct'], 7)} {_f(s['balanced_accuracy_decided'], 7)} "
            f"{_f(s['unsure_share'], 7)} {_f(s['called_generated_real'], 7)} {_f(s['ece'])} {_f(s['ece_balanced'])} "
            f"{_f(s.get('seconds_per_image'))}"
        )
    cue_lines = []
    for cond, s in summary["conditions"].items():
        for c, d in (s.get("per_cue") or {}).items():
            cue_lines.append(
                f"{cond:<10} {c:<32} {_f(d['auc_where_applicable'])} {_f(d['coverage'], 8)} "
                f"{_f(d['false_evidence_rate_real'], 8)} {_f(d['generated_evidence_rate_ai'], 8)} "
                f"{d['errors']:>6}"
            )
    if cue_lines:
        lines += ["", f"{'condition':<10} {'cue':<32} {'AUC':>6} {'coverage':>8} {'FE real':>8} "
                  f"{'GE ai':>8} {'errors':>6}"]
        lines += cue_lines
    lines.append("")
    lines.append("FP gen: share of real images called generated; FE real: share of real images where "
                 "the cue reported generated-evidence; GE ai: same on generated images; ECEbal: "
                 "calibration error with each class weighted one half (the prior p_generated assumes).")
    return "\n".join(lines)


def _f(v: float | None, width: int = 6) -> str:
    return f"{'-':>{width}}" if v is None else f"{v:>{width}.3f}"
