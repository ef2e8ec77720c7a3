"""Fit the shipped fusion on out-of-fold evidence, and measure it (and the old one) on the locked part.

    python training/fit_fusion.py --data MANIFEST --clip-scores SCORES.jsonl --work DIR [--jobs 2] [--write]

MANIFEST lists ../shared/data dev + train + train2; SCORES is what
``training/train_clip_detector.py --write`` wrote: the ``noise.clip`` scores of
the fit part out-of-fold (each family scored by heads that never saw it) and of
the locked part by the shipped head. Steps:

1. The cues in ``--cues`` run on every image under every condition (asis,
   stripped, web, thumbnail), cached in ``--work`` (``telltales.evaluate.runner``);
   the locked part also runs ``noise.learned``, for the "before" numbers only.
2. ``noise.clip`` findings come from SCORES, not from the shipped head, so the
   fit part's are out-of-fold; ``stripped`` uses the ``asis`` score (same pixels).
   ``noise.learned`` was trained on dev, so it never enters the fit.
3. ``telltales.evaluate.fit.fit_fusion`` on the fit part: leave-one-family-out
   logits with the same family grouping (``telltales.evaluate.families``),
   Platt calibration and thresholds from them (false alarms counted by image,
   or with the fit's family weights with ``--thresholds families``; the other
   choice is fitted and shown too); for each held-out family, a calibration
   fitted without it (nested).
4. The fitted fusion, and the fusion shipped before it, score the locked part:
   the table printed at the end is what the README reports.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from telltales.cues.text_noise import clip_detector as C
from telltales.evaluate import families, manifest, metrics, runner
from telltales.evaluate import fit as fitting
from telltales.fusion import Fusion
from telltales.registry import get

CONDITIONS = ("asis", "stripped", "web", "thumbnail")
RUN_CUES = ("provenance", "noise.jpeg")


def clip_findings(path: str) -> dict[tuple[str, str], dict]:
    model = C.load_model()
    version = get("noise.clip").version
    out = {}
    for line in Path(path).read_text().splitlines():
        r = json.loads(line)
        status, strength = C.judge(r["p"], model)
        f = {"cue": "noise.clip", "category": "text-noise-details", "status": status,
             "strength": strength, "reason": f"out-of-fold score p={r['p']:.3f}" if r["part"] == "fit"
             else f"shipped head p={r['p']:.3f}", "regions": [],
             "details": {"p": r["p"], "log_odds": C.log_odds(r["p"])}, "version": version,
             "decisive": False, "seconds": 0.0}
        out[r["file"], r["condition"]] = f
        if r["condition"] == "asis":
            out[r["file"], "stripped"] = f
    return out


def inject(records: list[dict], clip: dict[tuple[str, str], dict]) -> int:
    missing = 0
    for r in records:
        r["findings"] = [f for f in r.get("findings", []) if f["cue"] != "noise.clip"]
        f = clip.get((r["file"], r["condition"]))
        if f is not None:
            r["findings"].append(f)
        elif not r.get("error"):
            missing += 1
    return missing


def table(scored: list[dict]) -> dict[str, dict]:
    out = {}
    for c in CONDITIONS:
        rs = [r for r in scored if r["condition"] == c and not r.get("error")]
        if not rs:
            continue
        y = [r["label"] for r in rs]
        p = [r["p_generated"] for r in rs]
        v = np.array([r["verdict"] for r in rs], dtype=object)
        ya = np.array(y)
        w = fitting.sample_weights(ya, [r["family"] for r in rs])
        out[c] = {
            "n": len(rs),
            "auc": metrics.roc_auc(y, p),
            "tpr_at_2pct_fpr": metrics.tpr_at_fpr(y, p, 0.02),
            "real_called_generated": float(np.mean(v[ya == 0] == "generated")),
            # the same share with each real source weighed as the fit weighs it (sqrt of its size)
            "real_called_generated_weighted": float(
                w[ya == 0] @ (v[ya == 0] == "generated") / w[ya == 0].sum()) if (ya == 0).any() else float("nan"),
            "ai_called_generated": float(np.mean(v[ya == 1] == "generated")),
            "ai_called_real": float(np.mean(v[ya == 1] == "real")),
            "real_called_real": float(np.mean(v[ya == 0] == "real")),
            "unsure": float(np.mean(v == "unsure")),
            "ece_balanced": metrics.expected_calibration_error(y, p, balanced=True),
            # how precisely so few images measure it: resampling spread, and the ECE a
            # perfectly calibrated predictor would show on them
            "ece_interval": metrics.bootstrap_interval(
                lambda a, b: metrics.expected_calibration_error(a, b, balanced=True), y, p, n=300),
            "ece_floor": metrics.ece_floor(y, p, balanced=True, n=100),
            "reliability": metrics.reliability(y, p, balanced=True),
        }
    return out


def show(name: str, t: dict[str, dict]) -> None:
    print(f"\n{name}")
    print(f"{'condition':10s} {'n':>5s} {'AUC':>6s} {'TPR@2%':>7s} {'real->gen':>9s} {'weighted':>8s} {'AI->gen':>8s} "
          f"{'AI->real':>8s} {'unsure':>7s} {'ECE':>6s} {'spread':>11s} {'floor':>6s}")
    for c, m in t.items():
        print(f"{c:10s} {m['n']:5d} {m['auc']:6.3f} {m['tpr_at_2pct_fpr']:7.3f} {m['real_called_generated']:9.3f} "
              f"{m['real_called_generated_weighted']:8.3f} "
              f"{m['ai_called_generated']:8.3f} {m['ai_called_real']:8.3f} {m['unsure']:7.3f} "
              f"{m['ece_balanced']:6.3f} {_spread(m['ece_interval']):>11s} "
              f"{'-' if m['ece_floor'] is None else format(m['ece_floor'], '6.3f'):>6s}")


def _spread(interval: tuple[float, float] | None) -> str:
    return "-" if interval is None else f"{interval[0]:5.3f}-{interval[1]:5.3f}"


def measure(rec_fit: list[dict], rec_lock: list[dict], name: str, thresholds_by: str,
            *, quiet: bool = False) -> tuple[dict, dict, dict]:
    """Fit on the fit part; its nested out-of-fold table and its locked-part table."""
    fitted = fitting.fit_fusion(rec_fit, name=name, thresholds_by=thresholds_by)
    full = Fusion.from_dict(fitted.fusion)
    folds = {f: Fusion.from_dict(d) for f, d in fitted.fold_fusions.items()}
    oof = table(runner.score(rec_fit, lambda r: folds.get(r["family"], full)))
    locked = table(runner.score(rec_lock, full))
    if not quiet:
        show("fit part, nested leave-one-family-out (each family scored by a fusion fitted without it):", oof)
        show("LOCKED part, fitted fusion:", locked)
    return fitted.fusion, oof, locked


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--clip-scores", required=True)
    ap.add_argument("--work", default="/tmp/fusion-work")
    ap.add_argument("--cues", default=",".join(RUN_CUES))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--thresholds", choices=("images", "families"), default="images",
                    help="count false alarms by image (default) or with the fit's family weights; "
                         "the other choice is fitted and shown too, for comparison")
    ap.add_argument("--before", default=None, help="the fusion shipped before, for the comparison")
    ap.add_argument("--write", action="store_true", help="install the fitted fusion as models/fusion.json")
    ap.add_argument("--report", default="/tmp/fusion_report.json")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    ds = manifest.load(args.data)
    fit_items = [it for it in ds.items if not families.is_locked(it.family)]
    lock_items = [it for it in ds.items if families.is_locked(it.family)]
    cues = [c for c in args.cues.split(",") if c]
    rec_fit, _ = runner.run(fit_items, args.work, conditions=CONDITIONS, cues=cues, jobs=args.jobs)
    rec_lock, _ = runner.run(lock_items, args.work, conditions=CONDITIONS, cues=[*cues, "noise.learned"],
                             jobs=args.jobs)
    clip = clip_findings(args.clip_scores)
    print(f"noise.clip scores missing: fit {inject(rec_fit, clip)}, locked {inject(rec_lock, clip)}")

    name = f"oof-fit-{time.strftime('%Y%m%d')}"
    other = "images" if args.thresholds == "families" else "families"
    fusion, oof, locked = measure(rec_fit, rec_lock, name, args.thresholds)
    _, oof_other, locked_other = measure(rec_fit, rec_lock, name, other, quiet=True)
    show(f"for comparison, fit part nested, thresholds counted by {other}:", oof_other)
    show(f"for comparison, LOCKED part, thresholds counted by {other}:", locked_other)
    before = None
    if args.before:
        old = Fusion.load(args.before, check=False)
        before = table(runner.score(rec_lock, old))
        show(f"LOCKED part, the fusion shipped before ({old.name}; only the cues run here):", before)
    used = sorted({f["cue"]: f["version"] for r in rec_fit for f in r["findings"]}.items())
    fusion["record"].update({
        "command": "python training/fit_fusion.py " + " ".join(argv or sys.argv[1:]),
        "cues": dict(used),
        "grouping": "telltales.evaluate.families.family; locked families never fitted",
        "split_version": families.SPLIT_VERSION,
        "noise.clip": "out-of-fold scores from training/train_clip_detector.py",
        "not_in_fit": list(fitting.NOT_OUT_OF_FOLD) + [
            "cues not run by this fit (weight 0: shown, not weighed)"],
        "nested_oof": oof, "locked": locked,
    })
    Path(args.report).write_text(json.dumps(
        {"fusion": fusion, "before": before,
         f"thresholds_by_{other}": {"nested_oof": oof_other, "locked": locked_other}},
        indent=1, default=float))
    if args.write:
        dest = Path(__file__).resolve().parents[1] / "src/telltales/models/fusion.json"
        dest.write_text(json.dumps(fusion, indent=1, default=float) + "\n")
        Fusion.from_dict(fusion)
        print("wrote", dest)
    print(f"total {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
