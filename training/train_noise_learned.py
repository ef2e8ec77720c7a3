"""Train the ``noise.learned`` patch detector on ../shared/data/dev (one command, reproducible).

    python training/train_noise_learned.py [--data ../shared/data/dev] [--seed 20260] [--jobs 2]

What it does:

1. Every image (both classes alike) goes through the same random pipeline twice:
   downscale 0.5-1.0x (never upscale), sometimes light blur or noise, usually
   JPEG quality 60-100, then the working-size step the cue uses. Eight random
   textured 64x64 patches per copy become training rows. So neither "PNG" nor
   "small" can be the answer.
2. For evaluation each image is also scored exactly as the cue scores it, in three
   conditions: as published, web (long side <= 1024, JPEG q80) and thumbnail
   (long side <= 512, JPEG q75).
3. Leave-one-family-out: AI images are grouped into generator families and real
   photos into their sources; each fold holds out one AI family and one real
   source, trains on the rest and scores the held-out images. Every image thus
   gets one out-of-fold score from a model that never saw its family or source.
4. Thresholds are fixed on those out-of-fold scores: generated-evidence above the
   score that at most 2% of held-out real photos reach in *every* condition.
5. The final model is fitted on everything and written, with this record (data,
   seed, features, per-family metrics), to src/telltales/models/noise_learned.{npz,json}.

Features are cached under --cache (default /tmp/noise_learned_cache) keyed by the
feature version, so a re-run only refits.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from PIL import ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import telltales.analyses.pixels  # noqa: E402,F401  (registers the rgb provider)
from telltales.analysis import Analysis  # noqa: E402
from telltales.cues.text_noise import learned as L  # noqa: E402
from telltales.image import load_image  # noqa: E402

FEATURE_VERSION = "1"
CONDITIONS = ("published", "web", "thumb")
TRAIN_COPIES = 2
TRAIN_PATCHES = 8
FILTERS = (PILImage.Resampling.BOX, PILImage.Resampling.BILINEAR,
           PILImage.Resampling.BICUBIC, PILImage.Resampling.LANCZOS)


# --- data -------------------------------------------------------------------------------------
def family(row: dict[str, str]) -> str:
    """Generator family (AI) or source (real): the unit held out together."""
    f, gen = row["file"], row["generator"].lower()
    if row["label"] == "real":
        parts = f.split("/")
        return "real:" + (parts[2] if parts[1] == "c2" else parts[1])
    if "/c2/sdnext_previews" in f:
        return "sdnext-previews"
    if "/c2/facechain" in f:
        return "facechain"
    if "/c2/gpt4o" in f or "gpt-4o" in gen or "gpt-image" in gen:
        return "gpt4o"
    if "/c2/nanobanana" in f or "nano banana" in gen:
        return "nanobanana"
    if f.startswith("ai/kolors") or f.startswith("ai/stylegan"):
        return "kolors-sdxl-stylegan"
    for key, name in (("dall-e 2", "dalle2"), ("dall-e mini", "dalle-mini"), ("latent majesty", "majesty"),
                      ("majesty", "majesty"), ("latent diffusion", "ldm"), ("glid", "glid3"),
                      ("disco", "disco"), ("stable diffusion", "sd-beta")):
        if key in gen:
            return name
    return "other-ai"


def read_manifest(data: Path) -> list[dict[str, str]]:
    with open(data / "manifest.tsv", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    for r in rows:
        r["family"] = family(r)
    return rows


# --- the shared degradation pipeline ----------------------------------------------------------
def working(px: np.ndarray) -> np.ndarray:
    """The cue's own working-size step (long side <= 1536, area-averaged)."""
    return Analysis(load_image(PILImage.fromarray(px))).rgb


def jpeg(px: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    PILImage.fromarray(px).save(buf, "JPEG", quality=int(quality))
    return np.asarray(PILImage.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def shrink(px: np.ndarray, long_side: int, resample=PILImage.Resampling.LANCZOS) -> np.ndarray:
    h, w = px.shape[:2]
    s = long_side / max(h, w)
    if s >= 1:
        return px
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return np.asarray(PILImage.fromarray(px).resize(size, resample))


def augment(px: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random downscale (0.5-1.0x, never up), light blur / noise, JPEG 60-100: same for both classes."""
    h, w = px.shape[:2]
    s = rng.uniform(0.5, 1.0)
    s = min(1.0, max(s, L.PATCH / min(h, w)))
    img = PILImage.fromarray(px)
    if s < 0.999:
        size = (max(1, round(w * s)), max(1, round(h * s)))
        img = img.resize(size, FILTERS[int(rng.integers(len(FILTERS)))])
    if rng.random() < 0.2:
        img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 0.8))))
    out = np.asarray(img)
    if rng.random() < 0.2:
        noise = rng.normal(0, rng.uniform(0.5, 2.0), out.shape)
        out = np.clip(np.rint(out + noise), 0, 255).astype(np.uint8)
    if rng.random() < 0.85:
        out = jpeg(out, int(rng.integers(60, 101)))
    return working(out)


def condition(px: np.ndarray, name: str) -> np.ndarray:
    if name == "published":
        return working(px)
    if name == "web":
        return working(jpeg(shrink(px, 1024), 80))
    if name == "thumb":
        return working(jpeg(shrink(px, 512), 75))
    raise ValueError(name)


def random_patches(rgb: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray | None:
    h, w = rgb.shape[:2]
    if min(h, w) < L.PATCH:
        return None
    ys = rng.integers(0, h - L.PATCH + 1, 4 * n)
    xs = rng.integers(0, w - L.PATCH + 1, 4 * n)
    p = L.crop(rgb, list(zip(ys.tolist(), xs.tolist(), strict=True)))
    p = p[L.textured(p)][:n]
    return p if len(p) else None


def grid_features(rgb: np.ndarray) -> np.ndarray:
    boxes = L.grid_boxes(*rgb.shape[:2])
    if not boxes:
        return np.zeros((0, 0), np.float32)
    p = L.crop(rgb, boxes)
    p = p[L.textured(p)]
    return L.patch_features(p) if len(p) else np.zeros((0, 0), np.float32)


def extract(job: tuple[int, str, str, int, str]) -> tuple[int, str]:
    """Cache training rows and per-condition patch features of one image."""
    idx, path, cache_dir, seed, key = job
    out = Path(cache_dir) / f"{key}.npz"
    if out.exists():
        return idx, str(out)
    px = load_image(path).pixels
    rng = np.random.default_rng([seed, idx])
    train = []
    for _ in range(TRAIN_COPIES):
        p = random_patches(augment(px, rng), rng, TRAIN_PATCHES)
        if p is not None:
            train.append(L.patch_features(p))
    arrays = {"train": np.concatenate(train) if train else np.zeros((0, 0), np.float32)}
    for c in CONDITIONS:
        arrays[c] = grid_features(condition(px, c))
    tmp = out.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.rename(out)
    return idx, str(out)


# --- model ------------------------------------------------------------------------------------
def fit_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """Weighted L2 logistic regression (L-BFGS) on standardised features."""
    from scipy.optimize import minimize

    w = w / w.sum()

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ theta[:-1] + theta[-1]
        p = 1 / (1 + np.exp(-z))
        ll = np.logaddexp(0, z) - y * z
        g = w * (p - y)
        f = float((w * ll).sum() + 0.5 * l2 * theta[:-1] @ theta[:-1])
        grad = np.concatenate([x.T @ g + l2 * theta[:-1], [g.sum()]])
        return f, grad

    res = minimize(loss, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return res.x[:-1], float(res.x[-1])


def fit_mlp(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float, hidden: int, seed: int,
            iters: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Weighted logistic loss through one tanh hidden layer, L2 on the weights (L-BFGS)."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(seed)
    d = x.shape[1]
    w = w / w.sum()
    shapes = [(d, hidden), (hidden,), (hidden,), (1,)]
    sizes = [int(np.prod(s)) for s in shapes]

    def unpack(t: np.ndarray) -> list[np.ndarray]:
        out, o = [], 0
        for shape, n in zip(shapes, sizes, strict=True):
            out.append(t[o : o + n].reshape(shape))
            o += n
        return out

    def loss(t: np.ndarray) -> tuple[float, np.ndarray]:
        w1, b1, w2, b2 = unpack(t)
        h = np.tanh(x @ w1 + b1)
        z = h @ w2 + b2[0]
        g = w * (1 / (1 + np.exp(-z)) - y)
        f = float((w * (np.logaddexp(0, z) - y * z)).sum() + 0.5 * l2 * ((w1**2).sum() + (w2**2).sum()))
        gh = np.outer(g, w2) * (1 - h**2)
        grad = [x.T @ gh + l2 * w1, gh.sum(0), h.T @ g + l2 * w2, np.array([g.sum()])]
        return f, np.concatenate([v.ravel() for v in grad])

    t0 = np.concatenate([rng.normal(0, 1 / np.sqrt(d), d * hidden), np.zeros(hidden),
                         rng.normal(0, 1 / np.sqrt(hidden), hidden), [0.0]])
    res = minimize(loss, t0, jac=True, method="L-BFGS-B", options={"maxiter": iters})
    w1, b1, w2, b2 = unpack(res.x)
    return w1, b1, w2, float(b2[0])


def weights(fams: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each class half the weight; within a class each family/source an equal share."""
    w = np.zeros(len(fams))
    for cls in (0, 1):
        names = np.unique(fams[y == cls])
        for f in names:
            m = (fams == f) & (y == cls)
            w[m] = 0.5 / len(names) / m.sum()
    return w


def train(rows_x: list[np.ndarray], rows_y: np.ndarray, rows_f: np.ndarray, l2: float,
          hidden: int = 0, seed: int = 0) -> L.Model:
    """Fit on patch rows; hidden=0 is plain logistic regression, else a one-hidden-layer MLP."""
    x = np.concatenate(rows_x).astype(np.float64)
    counts = [len(r) for r in rows_x]
    y = np.repeat(rows_y, counts).astype(np.float64)
    f = np.repeat(rows_f, counts)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    xs, w = (x - mean) / scale, weights(f, y)
    if hidden:
        w1, b1, coef, bias = fit_mlp(xs, y, w, l2, hidden, seed)
        return L.Model(mean=mean, scale=scale, coef=coef, bias=bias, t_generated=np.inf, t_real=np.nan,
                       hidden_w=w1, hidden_b=b1)
    coef, bias = fit_logistic(xs, y, w, l2)
    return L.Model(mean=mean, scale=scale, coef=coef, bias=bias, t_generated=np.inf, t_real=np.nan)


def image_score(model: L.Model, feats: np.ndarray) -> float:
    return float(model.patch_logits(feats).mean()) if len(feats) else float("nan")


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    pos, neg = pos[np.isfinite(pos)], neg[np.isfinite(neg)]
    if not len(pos) or not len(neg):
        return float("nan")
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([pos, neg]))  # ties get their average rank
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def tail_threshold(scores: np.ndarray, rate: float, upper: bool) -> float:
    """The least extreme threshold with at most ``rate`` of ``scores`` at or beyond it (>= if upper)."""
    s = np.sort(scores[np.isfinite(scores)])
    k = int(np.floor(rate * len(s)))  # how many may pass
    if upper:
        return float(np.nextafter(s[len(s) - 1 - k], np.inf))
    return float(np.nextafter(s[k], -np.inf))


def _json_safe(v):
    if isinstance(v, dict):
        return {k: _json_safe(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_json_safe(x) for x in v]
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "dev")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/noise_learned_cache"))
    ap.add_argument("--seed", type=int, default=20260)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--l2", type=float, default=1e-2)
    ap.add_argument("--hidden", type=int, default=64, help="hidden units (0: logistic regression)")
    ap.add_argument("--limit", type=int, default=0, help="use every n-th image only (exploring)")
    ap.add_argument("--out", type=Path, default=ROOT / "src" / "telltales" / "models")
    ap.add_argument("--extract-only", action="store_true")
    args = ap.parse_args(argv)

    t0 = time.time()
    rows = read_manifest(args.data)
    if args.limit:
        rows = rows[:: args.limit]
    args.cache.mkdir(parents=True, exist_ok=True)
    jobs = []
    for i, r in enumerate(rows):
        key = hashlib.sha256(f"{FEATURE_VERSION}|{args.seed}|{r['file']}".encode()).hexdigest()[:20]
        jobs.append((i, str(args.data / r["file"]), str(args.cache), args.seed, key))
    paths: dict[int, str] = {}
    with Pool(args.jobs) as pool:
        for n, (i, p) in enumerate(pool.imap_unordered(extract, jobs, chunksize=4)):
            paths[i] = p
            if n % 100 == 0:
                print(f"features {n}/{len(jobs)} {time.time() - t0:.0f}s", flush=True)
    if args.extract_only:
        return 0
    data = [dict(np.load(paths[i])) for i in range(len(rows))]
    y = np.array([r["label"] == "ai" for r in rows], dtype=np.int64)
    fam = np.array([r["family"] for r in rows])
    ok = np.array([d["train"].shape[0] > 0 for d in data])

    # leave-one-family-out: fold k holds out AI family k and real source k (cycled)
    ai_f = sorted(set(fam[y == 1]))
    real_f = sorted(set(fam[y == 0]))
    folds = [({a} | ({real_f[k]} if k < len(real_f) else set())) for k, a in enumerate(ai_f)]
    for k in range(len(ai_f), len(real_f)):
        folds.append({real_f[k]})
    oof = {c: np.full(len(rows), np.nan) for c in CONDITIONS}
    for held in folds:
        tr = ok & ~np.isin(fam, list(held))
        model = train([data[i]["train"] for i in np.flatnonzero(tr)], y[tr], fam[tr], args.l2,
                      args.hidden, args.seed)
        for i in np.flatnonzero(np.isin(fam, list(held))):
            for c in CONDITIONS:
                oof[c][i] = image_score(model, data[i][c])
        print(f"fold {sorted(held)} done {time.time() - t0:.0f}s", flush=True)

    # thresholds on out-of-fold scores
    t_gen = max(tail_threshold(oof[c][y == 0], 0.02, upper=True) for c in CONDITIONS)
    t_real = min(tail_threshold(oof[c][y == 1], 0.02, upper=False) for c in CONDITIONS)
    metrics: dict[str, dict] = {}
    for c in CONDITIONS:
        s = oof[c]
        neg = s[y == 0]
        m = {
            "auc_pooled": auc(s[y == 1], neg),
            "real_false_generated": float(np.mean(neg[np.isfinite(neg)] >= t_gen)),
            "real_called_real": float(np.mean(neg[np.isfinite(neg)] <= t_real)),
            "ai_called_real": float(np.mean(s[(y == 1) & np.isfinite(s)] <= t_real)),
            "not_applicable": int(np.isnan(s).sum()),
            "per_family": {},
        }
        for f in ai_f:
            pos = s[fam == f]
            m["per_family"][f] = {
                "n": int(len(pos)),
                "auc_vs_all_real": auc(pos, neg),
                "hit_rate": float(np.mean(pos[np.isfinite(pos)] >= t_gen)) if np.isfinite(pos).any() else None,
            }
        for f in real_f:
            r_ = s[fam == f]
            m["per_family"][f] = {"n": int(len(r_)),
                                  "false_generated": float(np.mean(r_[np.isfinite(r_)] >= t_gen))}
        fam_aucs = [m["per_family"][f]["auc_vs_all_real"] for f in ai_f]
        m["auc_mean_over_families"] = float(np.nanmean(fam_aucs))
        m["hit_rate"] = float(np.mean(s[(y == 1) & np.isfinite(s)] >= t_gen))
        metrics[c] = m
        print(f"{c}: pooled AUC {m['auc_pooled']:.3f}, mean family AUC {m['auc_mean_over_families']:.3f}, "
              f"hit {m['hit_rate']:.3f}, real false-gen {m['real_false_generated']:.3f}")
        for f in ai_f:
            pf = m["per_family"][f]
            print(f"   {f:22s} n={pf['n']:4d} AUC {pf['auc_vs_all_real']:.3f} hit {pf['hit_rate']}")

    # real-evidence only if it is useful: it must catch >= 10% of real photos in every condition
    use_real = all(metrics[c]["real_called_real"] >= 0.10 for c in CONDITIONS)

    final = train([data[i]["train"] for i in np.flatnonzero(ok)], y[ok], fam[ok], args.l2,
                  args.hidden, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    arrays = {"mean": final.mean, "scale": final.scale, "coef": final.coef, "bias": np.array(final.bias)}
    if final.hidden_w is not None:
        arrays |= {"hidden_w": final.hidden_w, "hidden_b": final.hidden_b}
    np.savez_compressed(args.out / "noise_learned.npz", **{k: v.astype(np.float32) for k, v in arrays.items()})
    record = {
        "cue": "noise.learned",
        "model": (f"one-hidden-layer MLP ({args.hidden} tanh units)" if args.hidden else "logistic regression")
        + f" with L2 {args.l2} on {final.mean.shape[0]} residual-statistics features of 64x64 patches; "
        "image score = mean patch logit",
        "command": "python training/train_noise_learned.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "seed": args.seed,
        "l2": args.l2,
        "hidden": args.hidden,
        "feature_version": FEATURE_VERSION,
        "data": {"path": str(args.data), "images": len(rows), "ai": int(y.sum()), "real": int((1 - y).sum()),
                 "manifest_sha256": hashlib.sha256((args.data / "manifest.tsv").read_bytes()).hexdigest(),
                 "families": {f: int((fam == f).sum()) for f in sorted(set(fam))},
                 "train_rows": int(sum(d["train"].shape[0] for d in data))},
        "augmentation": "both classes: downscale 0.5-1.0x with a random filter (never up), blur p=0.2, "
                        "noise p=0.2, JPEG q60-100 p=0.85, then the working-size step; "
                        f"{TRAIN_COPIES} copies x {TRAIN_PATCHES} textured patches per image",
        "validation": "leave-one-family-out: each fold holds out one AI family and one real source; "
                      "conditions: published, web (<=1024 px, JPEG q80), thumb (<=512 px, JPEG q75)",
        "thresholds": {
            "generated": t_gen,
            "generated_rule": "lowest score that at most 2% of out-of-fold real-photo scores reach, in every condition",
            "real": t_real if use_real else None,
            "real_rule": "highest score that at most 2% of out-of-fold AI scores are at or below, in every "
                         "condition; "
                         "used only if it catches >= 10% of real photos in every condition",
        },
        "metrics_out_of_fold": metrics,
        "seconds": round(time.time() - t0, 1),
    }
    (args.out / "noise_learned.json").write_text(json.dumps(_json_safe(record), indent=1, allow_nan=False) + "\n")
    print(f"wrote {args.out / 'noise_learned.npz'} ({time.time() - t0:.0f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
