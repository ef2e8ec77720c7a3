"""Markdown tables for docs/DETECTOR.md from a training report (``train_clip_detector.py --report``).

    python training/detector_tables.py clip_report.json

Prints the summary table (out-of-fold fit part and locked part, per condition)
and the per-family tables (web condition), so the document is made from a run,
not typed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

CONDITIONS = ("asis", "web", "thumbnail")


def summary_table(report: dict) -> str:
    rows = ["| part | condition | AUC | TPR at 2% FPR | real photos with generated evidence "
            "| generated images with generated evidence | ECE |", "|---|---|---|---|---|---|---|"]
    for part, key in (("fit part, out-of-fold", "oof"), ("LOCKED part", "locked")):
        for c in CONDITIONS:
            s = report.get(key, {}).get(c)
            if s:
                rows.append(f"| {part} | {c} | {s['auc']:.3f} | {s['tpr_at_2pct_fpr']:.2f} | "
                            f"{s['real_generated_evidence']:.1%} | {s['ai_generated_evidence']:.1%} | {s['ece']:.3f} |")
    return "\n".join(rows)


def family_table(per_family: dict) -> str:
    rows = ["| family | images | AUC against all real | share with generated evidence |", "|---|---|---|---|"]
    for fam, d in sorted(per_family.items()):
        auc = d.get("auc_vs_all_real")
        rows.append(f"| {fam} | {d['n']} | {'' if auc in (None, '') else f'{auc:.3f}'} | "
                    f"{d['called_generated_evidence']:.1%} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report", type=Path)
    args = ap.parse_args(argv)
    report = json.loads(args.report.read_text())
    print(summary_table(report))
    for part, key in (("out-of-fold (fit part)", "oof"), ("LOCKED part", "locked")):
        if report.get(key, {}).get("web"):
            print(f"\n{part}, per family, web condition\n")
            print(family_table(report[key]["web"]["per_family"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
