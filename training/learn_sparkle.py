"""Learn the shape of Gemini's visible sparkle from fit-part Gemini images (models/gemini_sparkle.npz).

    python training/learn_sparkle.py --data MANIFEST [--write]

Gemini's apps draw a translucent white four-pointed sparkle near the bottom-right
corner of the pictures they let you download. Its exact alpha mask is not
published, so it is measured here:

1. every image of the ``gemini`` family in the fit part (never a locked one) is
   searched for a bright four-pointed star (|x|^0.6 + |y|^0.6 <= 1) on a grid of
   sizes and distances from the bottom-right corner;
2. where the star fits almost exactly (correlation >= 0.9 with the residual
   after a plane fit of the surroundings, background wobble < 6 grey levels),
   the window around it is resampled to 128 x 128 and turned into alpha,
   ``(observed - background) / (255 - background)``;
3. the mean of those alphas is the template the cue matches (a 2L x 2L window,
   the sparkle in its middle), written with the list of files it came from.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from telltales.evaluate import families, manifest

SIDE = 128
MODEL = Path(__file__).resolve().parents[1] / "src/telltales/models/gemini_sparkle"


def star(n: int, q: float = 0.6) -> np.ndarray:
    c = (n - 1) / 2
    y, x = np.mgrid[0:n, 0:n]
    f = (np.abs(x - c) / (n / 2)) ** q + (np.abs(y - c) / (n / 2)) ** q
    return np.clip((1 - f) * n / 4 + 0.5, 0, 1)


def fit_star(gray: np.ndarray, cx: float, cy: float, size: float) -> tuple[float, float] | None:
    """(correlation, background wobble) of a star of ``size`` px centred at (cx, cy)."""
    t = star(int(round(size)))
    n = t.shape[0]
    pad = max(2, n // 4)
    x0, y0 = int(round(cx - n / 2)) - pad, int(round(cy - n / 2)) - pad
    if x0 < 0 or y0 < 0 or x0 + n + 2 * pad > gray.shape[1] or y0 + n + 2 * pad > gray.shape[0]:
        return None
    p = gray[y0:y0 + n + 2 * pad, x0:x0 + n + 2 * pad]
    tf = np.zeros_like(p)
    tf[pad:pad + n, pad:pad + n] = t
    out = tf < 0.02
    yy, xx = np.mgrid[0:p.shape[0], 0:p.shape[1]]
    coef, *_ = np.linalg.lstsq(np.c_[xx[out], yy[out], np.ones(out.sum())], p[out], rcond=None)
    d = p - (coef[0] * xx + coef[1] * yy + coef[2])
    tc, dc = tf - tf.mean(), d - d.mean()
    corr = float((tc * dc).sum() / np.sqrt((tc**2).sum() * (dc**2).sum() + 1e-9))
    return corr, float(d[out].std())


def alpha_window(gray: np.ndarray, cx: float, cy: float, half: float) -> np.ndarray:
    ys, xs = np.linspace(cy - half, cy + half, SIDE), np.linspace(cx - half, cx + half, SIDE)
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    p = ndimage.map_coordinates(gray, [yy - 0.5, xx - 0.5], order=1, mode="nearest")
    ring = np.ones_like(p, bool)
    ring[SIDE // 4:-SIDE // 4, SIDE // 4:-SIDE // 4] = False
    gy, gx = np.mgrid[0:SIDE, 0:SIDE]
    coef, *_ = np.linalg.lstsq(np.c_[gx[ring], gy[ring], np.ones(ring.sum())], p[ring], rcond=None)
    b = coef[0] * gx + coef[1] * gy + coef[2]
    return (p - b) / np.maximum(255 - b, 20)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args(argv)
    ds = manifest.load(args.data)
    items = [it for it in ds.items if it.family == "gemini" and not families.is_locked(it.family)]
    with open(args.data, newline="", encoding="utf-8") as fh:
        repo_of = {row["file"]: row.get("source_repo", "") for row in csv.DictReader(fh, delimiter="\t")}
    used, acc = [], np.zeros((SIDE, SIDE))
    t0 = time.perf_counter()
    for it in items:
        gray = np.asarray(Image.open(it.path).convert("L"), float)
        h, w = gray.shape
        best = None
        for size in np.geomspace(12, 140, 32):
            for dist in np.arange(0.7, 2.01, 0.1):
                r = fit_star(gray, w - dist * size, h - dist * size, size)
                if r and (best is None or r[0] > best[0]):
                    best = (*r, size, dist)
        if best and best[0] >= 0.9 and best[1] < 6:
            corr, _, size, dist = best
            acc += alpha_window(gray, w - dist * size, h - dist * size, size)
            used.append({"file": Path(it.path).name, "source_repo": repo_of.get(it.file, ""),
                         "sha256": hashlib.sha256(Path(it.path).read_bytes()).hexdigest(),
                         "correlation": round(corr, 3)})
    template = np.clip(acc / max(1, len(used)), 0, 1)
    print(f"{len(items)} fit-part Gemini images searched, {len(used)} clear sparkles averaged, "
          f"peak alpha {template.max():.2f}, {time.perf_counter() - t0:.0f} s")
    if args.write and used:
        np.savez_compressed(MODEL.with_suffix(".npz"), alpha=template.astype(np.float16))
        MODEL.with_suffix(".json").write_text(json.dumps({
            "what": "mean alpha of Gemini's visible sparkle, a 2L x 2L window with the sparkle in its middle",
            "command": "python training/learn_sparkle.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "family": "gemini (fit part of split v2)",
            "npz_sha256": hashlib.sha256(MODEL.with_suffix(".npz").read_bytes()).hexdigest(), "sources": used,
        }, indent=1) + "\n")
        print("wrote", MODEL.with_suffix(".npz"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
