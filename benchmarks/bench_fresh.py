"""The fresh check: telltales as shipped on generated pictures and real photos that no fit has seen.

    python benchmarks/bench_fresh.py --ai FRESH_AI --real PEOPLE2 --work WORK [--jobs 2]

FRESH_AI and PEOPLE2 are ``benchmarks/fresh/fresh_ai.tsv`` and
``training/extra/real_people2.tsv`` materialised (``benchmarks/fresh/README.md``
says how). Both are joined into one manifest in WORK, analysed under the four
conditions with the cues the shipped fusion weighs (cached in WORK), and
scored with the shipped fusion. Prints one row per condition: AUC, TPR at 2%
FPR, the shares called generated / real, and the class-balanced ECE beside the
ECE a calibrated model would show on these few images.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from telltales.evaluate import metrics, pipeline
from telltales.fusion import Fusion

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
import all_manifest  # noqa: E402  (one manifest over several, absolute paths)

CONDITIONS = ("asis", "stripped", "web", "thumbnail")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ai", required=True, type=Path, help="benchmarks/fresh/fresh_ai.tsv, materialised")
    ap.add_argument("--real", required=True, type=Path, help="training/extra/real_people2.tsv, materialised")
    ap.add_argument("--work", required=True, type=Path)
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args(argv)
    data = args.work / "manifest.tsv"
    data.parent.mkdir(parents=True, exist_ok=True)
    all_manifest.main([str(args.ai / "manifest.tsv"), str(args.real / "manifest.tsv"), "--out", str(data)])
    cues = [c for c, w in Fusion.load().weights.items() if w["w"] or w["w_applicable"]]
    ev = pipeline.evaluate(data, args.work, conditions=CONDITIONS, cues=cues, jobs=args.jobs,
                           n_boot=0, progress=False, write_files=False)
    print(f"fusion {ev.meta['fusion']}; {ev.meta['images']} images; cues {', '.join(sorted(cues))}")
    print(f"{'condition':10s} {'AUC':>6s} {'TPR@2%':>7s} {'real->gen':>9s} {'gen->gen':>8s} {'gen->real':>9s} "
          f"{'ECE':>6s} {'floor':>6s}")
    for c in CONDITIONS:
        s = ev.summary["conditions"][c]
        mine = [r for r in ev.records if r["condition"] == c and r.get("p_generated") is not None]
        floor = metrics.ece_floor([r["label"] for r in mine], [r["p_generated"] for r in mine], balanced=True)
        print(f"{c:10s} {s['auc']:6.3f} {s['tpr_at_fpr_2pct']:7.2f} {s['called_generated_real']:9.1%} "
              f"{s['called_generated_ai']:8.1%} {s['called_real_ai']:9.1%} {s['ece_balanced']:6.3f} {floor:6.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
