"""Low-level traces a small trained detector recognises (Borji 2023: noise and artifacts).

Generators build pixels differently from cameras: a decoder upsamples a small
latent, a denoiser leaves over-smooth or oddly structured fine noise, colours
are produced together rather than interpolated from a colour-filter mosaic.
None of these is visible, but they change the *statistics of the finest
residuals*: what is left after subtracting each pixel's predicted value from
its neighbours.

This cue cuts the image into 64x64 patches and describes each one by

* co-occurrences of three neighbouring quantised residuals (first and second
  differences and a 3x3 "KB" predictor, as in steganalysis rich models), folded
  over sign and direction;
* the residual noise level at each predictor;
* the residual spectrum (how energy falls with frequency) and periodic peaks
  at periods 2, 4 and 8 pixels that upsampling leaves;
* chroma residual histograms and how strongly the colour channels' residuals
  move together.

A small network (one hidden layer of 64 units, numpy weights in
``telltales/models/noise_learned.npz``) trained by ``training/train_noise_learned.py``
on ../shared/data/dev scores each patch; the image's score is the mean patch
logit, and the patch scores form the heatmap in ``details``. Both classes
went through the same random downscale / JPEG / blur / noise pipeline in
training, so "PNG" or "small" is not what it learned. What it did learn, in
part: grainy camera sensor noise reads as real, very clean fine texture as
generated, so heavily denoised or retouched photos lean towards generated. The
thresholds are fixed on held-out generator families (see the record
``telltales/models/noise_learned.json``): generated-evidence only above a
threshold that at most 2% of held-out real photos reach.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from telltales.analysis import Analysis
from telltales.findings import Region, Result
from telltales.registry import cue

PATCH = 64
MAX_PATCHES = 64
MIN_STD = 1.5  # patches flatter than this (0-255 grey levels) carry no residual to measure
T = 2  # residual codes are clipped to -T..T
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


# --- features ---------------------------------------------------------------------------------
def _orbit_lut() -> tuple[np.ndarray, int]:
    """Map each triplet code (a, b, c) in -T..T to its class under sign flip and reversal."""
    n = 2 * T + 1
    lut = np.full(n**3, -1, dtype=np.int64)
    k = 0
    for a in range(-T, T + 1):
        for b in range(-T, T + 1):
            for c in range(-T, T + 1):
                code = (a + T) * n * n + (b + T) * n + (c + T)
                if lut[code] >= 0:
                    continue
                for x, y, z in ((a, b, c), (-a, -b, -c), (c, b, a), (-c, -b, -a)):
                    lut[(x + T) * n * n + (y + T) * n + (z + T)] = k
                k += 1
    return lut, k


_LUT, _NCLASS = _orbit_lut()


def _triplets(r: np.ndarray, step: float) -> np.ndarray:
    """Folded co-occurrence histogram of 3 neighbouring quantised residuals, per patch (N, classes)."""
    n = 2 * T + 1
    q = (np.clip(np.rint(r / step), -T, T) + T).astype(np.int64)
    hist = np.zeros((r.shape[0], _NCLASS), dtype=np.float64)
    for qq in (q, q.transpose(0, 2, 1)):  # horizontal and vertical neighbours
        code = qq[:, :, :-2] * n * n + qq[:, :, 1:-1] * n + qq[:, :, 2:]
        cls = _LUT[code].reshape(r.shape[0], -1)
        idx = cls + (np.arange(r.shape[0])[:, None] * _NCLASS)
        hist += np.bincount(idx.ravel(), minlength=r.shape[0] * _NCLASS).reshape(r.shape[0], _NCLASS)
    hist /= hist.sum(axis=1, keepdims=True)
    return np.sqrt(hist)


def _residuals(g: np.ndarray) -> dict[str, np.ndarray]:
    """Prediction residuals of grey patches (N, P, P) in 0-255: all cropped to (N, P-2, P-2)."""
    c = g[:, 1:-1, 1:-1]
    d1 = g[:, 1:-1, 2:] - c
    d2 = g[:, 1:-1, 2:] + g[:, 1:-1, :-2] - 2 * c
    kb = (
        -g[:, :-2, :-2] - g[:, :-2, 2:] - g[:, 2:, :-2] - g[:, 2:, 2:]
        + 2 * (g[:, :-2, 1:-1] + g[:, 2:, 1:-1] + g[:, 1:-1, :-2] + g[:, 1:-1, 2:])
        - 4 * c
    ) / 4.0
    return {"d1": d1, "d2": d2, "kb": kb}


def _spectrum(kb: np.ndarray) -> np.ndarray:
    """Log radial power of the residual (8 bands) and peaks at periods 2, 4, 8 (N, 11)."""
    n = kb.shape[1]
    f = np.abs(np.fft.rfft2(kb - kb.mean(axis=(1, 2), keepdims=True))) ** 2
    fy = np.fft.fftfreq(n)[:, None]
    fx = np.fft.rfftfreq(kb.shape[2])[None, :]
    rad = np.sqrt(fx**2 + fy**2) / 0.5
    band = np.minimum((rad * 8).astype(np.int64), 7)
    onehot = (band.reshape(-1, 1) == np.arange(8)[None, :]).astype(f.dtype)
    tot = f.sum(axis=(1, 2)) + 1e-9
    radial = (f.reshape(len(f), -1) @ onehot) / tot[:, None]
    # 1-D spectra along x and y, to look for periodic peaks
    sx = (np.abs(np.fft.rfft(kb, axis=2)) ** 2).mean(axis=1)
    sy = (np.abs(np.fft.rfft(kb, axis=1)) ** 2).mean(axis=2)
    peaks = []
    for period in (2, 4, 8):
        vals = []
        for s in (sx, sy):
            m = s.shape[1] - 1  # index of the Nyquist frequency
            k = int(round(2 * m / period))
            lo, hi = max(1, k - 3), min(m, k + 3)
            neigh = np.concatenate([s[:, lo:k], s[:, k + 1 : hi + 1]], axis=1)
            vals.append(np.log((s[:, k] + 1e-6) / (np.median(neigh, axis=1) + 1e-6)))
        peaks.append((vals[0] + vals[1]) / 2)
    return np.concatenate([np.log(radial + 1e-6), np.stack(peaks, axis=1)], axis=1)


def _chroma(p: np.ndarray) -> np.ndarray:
    """Chroma residual histograms and correlation of the colour channels' residuals (N, 16)."""
    n = len(p)
    rgb = p.astype(np.int16)
    out = []
    for ch in (rgb[..., 2] - rgb[..., 1], rgb[..., 0] - rgb[..., 1]):
        h = np.zeros((n, 7))
        for d in (ch[:, :, 1:] - ch[:, :, :-1], ch[:, 1:, :] - ch[:, :-1, :]):
            q = (np.clip(d, -3, 3) + 3).reshape(n, -1).astype(np.intp) + (np.arange(n) * 7)[:, None]
            h += np.bincount(q.ravel(), minlength=n * 7).reshape(n, 7)
        out.append(np.sqrt(h / h.sum(axis=1, keepdims=True)))
    d = (rgb[:, :, 1:, :] - rgb[:, :, :-1, :]).reshape(n, -1, 3).astype(np.float32)
    m = d.mean(axis=1)
    sq = np.einsum("nkc,nkc->nc", d, d) / d.shape[1]
    sd = np.sqrt(np.maximum(sq - m**2, 0)) + 1e-3
    rg = np.einsum("nk,nk->n", d[..., 0], d[..., 1]) / d.shape[1] - m[:, 0] * m[:, 1]
    bg = np.einsum("nk,nk->n", d[..., 2], d[..., 1]) / d.shape[1] - m[:, 2] * m[:, 1]
    corr_rg = rg / (sd[:, 0] * sd[:, 1])
    corr_bg = bg / (sd[:, 2] * sd[:, 1])
    return np.concatenate(out + [corr_rg[:, None], corr_bg[:, None]], axis=1)


def patch_features(patches: np.ndarray) -> np.ndarray:
    """Feature vectors (N, D) of uint8 RGB patches (N, P, P, 3)."""
    g = patches.astype(np.float32) @ _LUMA
    r = _residuals(g)
    parts = [_triplets(r["d1"], 1.0), _triplets(r["d2"], 2.0), _triplets(r["kb"], 1.0)]
    levels = np.stack([np.log(np.abs(v).mean(axis=(1, 2)) + 0.05) for v in r.values()], axis=1)
    parts += [levels, _spectrum(r["kb"]), _chroma(patches)]
    return np.concatenate(parts, axis=1).astype(np.float32)


def textured(patches: np.ndarray) -> np.ndarray:
    """Which patches have enough texture to measure (grey std >= MIN_STD, not clipped)."""
    g = patches.astype(np.float32) @ _LUMA
    clipped = ((g <= 1) | (g >= 254)).mean(axis=(1, 2))
    return (g.std(axis=(1, 2)) >= MIN_STD) & (clipped < 0.5)


def grid_boxes(h: int, w: int, max_patches: int = MAX_PATCHES) -> list[tuple[int, int]]:
    """Top-left corners (y, x) of up to ``max_patches`` patches spread evenly over the image."""
    ny, nx = h // PATCH, w // PATCH
    if ny == 0 or nx == 0:
        return []
    ys = np.linspace(0, h - PATCH, ny).round().astype(int)
    xs = np.linspace(0, w - PATCH, nx).round().astype(int)
    boxes = [(int(y), int(x)) for y in ys for x in xs]
    if len(boxes) > max_patches:
        keep = np.linspace(0, len(boxes) - 1, max_patches).round().astype(int)
        boxes = [boxes[i] for i in keep]
    return boxes


def crop(rgb: np.ndarray, boxes: list[tuple[int, int]]) -> np.ndarray:
    return np.stack([rgb[y : y + PATCH, x : x + PATCH] for y, x in boxes])


# --- model ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Model:
    """Standardise, optionally one tanh hidden layer, then a logistic output: a patch logit."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    bias: float
    t_generated: float  # image score above which real photos were <= 2% on held-out data
    t_real: float  # image score below which the image is called camera-like (nan: never)
    hidden_w: np.ndarray | None = None
    hidden_b: np.ndarray | None = None

    def patch_logits(self, feats: np.ndarray) -> np.ndarray:
        z = (feats - self.mean) / self.scale
        if self.hidden_w is not None:
            z = np.tanh(z @ self.hidden_w + self.hidden_b)
        return z @ self.coef + self.bias


@cache
def load_model() -> Model:
    """The packaged model (numpy weights + thresholds from its training record)."""
    pkg = resources.files("telltales.models")
    with resources.as_file(pkg / "noise_learned.npz") as path, np.load(path) as z:
        arrays = {k: np.array(z[k]) for k in z.files}
    record = json.loads((pkg / "noise_learned.json").read_text())
    th = record["thresholds"]
    t_real = th.get("real")
    return Model(
        mean=arrays["mean"].astype(np.float64),
        scale=arrays["scale"].astype(np.float64),
        coef=arrays["coef"].astype(np.float64),
        bias=float(arrays["bias"]),
        t_generated=float(th["generated"]),
        t_real=float("nan") if t_real is None else float(t_real),
        hidden_w=arrays["hidden_w"].astype(np.float64) if "hidden_w" in arrays else None,
        hidden_b=arrays["hidden_b"].astype(np.float64) if "hidden_b" in arrays else None,
    )


def score_image(rgb: np.ndarray, model: Model) -> tuple[float, np.ndarray, list[tuple[int, int]]] | None:
    """Image score (mean patch logit), patch logits and patch corners; None if nothing to measure."""
    boxes = grid_boxes(*rgb.shape[:2])
    if not boxes:
        return None
    patches = crop(rgb, boxes)
    ok = textured(patches)
    if not ok.any():
        return None
    boxes = [b for b, k in zip(boxes, ok, strict=True) if k]
    logits = model.patch_logits(patch_features(patches[ok]))
    return float(logits.mean()), logits, boxes


def _strength(score: float, threshold: float) -> float:
    """How far past the threshold, squashed into (0, 1)."""
    return float(1.0 / (1.0 + np.exp(-abs(score - threshold))))


@cue("noise.learned", needs=("rgb",), version="3", models=("noise_learned.npz", "noise_learned.json"))
def learned_noise(a: Analysis) -> Result:
    """Low-level pixel statistics a small trained detector associates with generators."""
    if why := a.image.noise_unreliable:
        return Result.not_applicable(f"cannot judge the noise: {why}")
    rgb = a.rgb
    h, w = rgb.shape[:2]
    if min(h, w) < PATCH:
        return Result.not_applicable(f"image too small for the detector ({w}x{h} px, needs {PATCH} px)")
    model = load_model()
    scored = score_image(rgb, model)
    if scored is None:
        return Result.not_applicable("no textured area: the image is flat or clipped, nothing to measure")
    score, logits, boxes = scored
    order = np.argsort(-logits, kind="stable")[:3]
    details = {
        "score": round(score, 4),
        "threshold_generated": model.t_generated,
        "threshold_real": None if np.isnan(model.t_real) else model.t_real,
        "patches": len(boxes),
        "patch_score_range": [round(float(logits.min()), 4), round(float(logits.max()), 4)],
        # the heatmap: every measured patch, as an original-pixel box and its score
        "heatmap": [
            {"box": list(a.to_original((x, y, PATCH, PATCH))), "score": round(float(v), 3)}
            for (y, x), v in zip(boxes, logits, strict=True)
        ],
    }
    if score >= model.t_generated:
        regions = tuple(
            Region(a.to_original((boxes[i][1], boxes[i][0], PATCH, PATCH)), f"patch score {logits[i]:.2f}")
            for i in order
        )
        return Result.generated(
            _strength(score, model.t_generated),
            "The fine pixel noise looks like what AI generators leave rather than what cameras record "
            f"(detector score {score:.2f}, a level at most 2% of held-out real photos reached in validation). "
            "The boxes show where this is strongest.",
            regions=regions,
            details=details,
        )
    if not np.isnan(model.t_real) and score <= model.t_real:
        return Result.real(
            _strength(score, model.t_real) * 0.5,
            f"The fine pixel noise looks camera-like (detector score {score:.2f}).",
            details=details,
        )
    return Result.clear(
        f"The fine pixel noise does not clearly point either way (detector score {score:.2f}).",
        details=details,
    )
