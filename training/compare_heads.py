"""Compare two ``noise.clip`` heads out of fold, on the fit-part images both were scored on.

    python training/compare_heads.py OLD_SCORES.jsonl OLD_REPORT.json NEW_SCORES.jsonl NEW_REPORT.json \\
        --data MANIFEST

SCORES and REPORT are what ``training/train_clip_detector.py --write --scores --report``
wrote. Only fit-part rows enter (``part == "fit"``, out-of-fold scores), and only the
images both runs scored, so a head trained on more images is judged on the same images
as the one before it. Each head's share of real photos with generated evidence is taken
at its own threshold (from its report). The locked part is not read here.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from telltales.evaluate import manifest, metrics


def load_scores(path: str) -> dict[tuple[str, str], float]:
    out = {}
    for line in Path(path).read_text().splitlines():
        r = json.loads(line)
        if r["part"] == "fit":
            out[r["file"], r["condition"]] = float(r["p"])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old_scores")
    ap.add_argument("old_report")
    ap.add_argument("new_scores")
    ap.add_argument("new_report")
    ap.add_argument("--data", required=True, help="the manifest the heads were trained from")
    args = ap.parse_args(argv)
    ds = manifest.load(args.data)
    label = {str(it.path): it.label for it in ds.items}
    fam = {str(it.path): it.family for it in ds.items}
    old, new = load_scores(args.old_scores), load_scores(args.new_scores)
    t_old = json.loads(Path(args.old_report).read_text())["thresholds"]["generated"]
    t_new = json.loads(Path(args.new_report).read_text())["thresholds"]["generated"]
    common = sorted(k for k in old.keys() & new.keys() if k[0] in label)
    by_cond = defaultdict(list)
    for k in common:
        by_cond[k[1]].append(k)
    print(f"{'condition':10s} {'n':>5s} {'AUC old':>8s} {'AUC new':>8s} {'TPR2 old':>8s} {'TPR2 new':>8s} "
          f"{'real>=t old':>11s} {'real>=t new':>11s}")
    for cond, keys in sorted(by_cond.items()):
        y = np.array([label[f] for f, _ in keys])
        po = np.array([old[k] for k in keys])
        pn = np.array([new[k] for k in keys])
        print(f"{cond:10s} {len(keys):5d} {metrics.roc_auc(y, po):8.4f} {metrics.roc_auc(y, pn):8.4f} "
              f"{metrics.tpr_at_fpr(y, po, 0.02):8.3f} {metrics.tpr_at_fpr(y, pn, 0.02):8.3f} "
              f"{np.mean(po[y == 0] >= t_old):11.4f} {np.mean(pn[y == 0] >= t_new):11.4f}")
    # real families with a false alarm under either head (web condition)
    web = [k for k in by_cond.get("web", []) if label[k[0]] == 0]
    rows = defaultdict(lambda: [0, 0, 0])
    for k in web:
        r = rows[fam[k[0]]]
        r[0] += 1
        r[1] += old[k] >= t_old
        r[2] += new[k] >= t_new
    print("\nweb, real families with generated evidence under either head: family n old new")
    for f, (n, a, b) in sorted(rows.items(), key=lambda kv: -max(kv[1][1], kv[1][2])):
        if a or b:
            print(f"  {f:60s} {n:4d} {a:3d} {b:3d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
