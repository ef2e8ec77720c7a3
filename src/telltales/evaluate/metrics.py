"""Detection metrics, written out so each can be checked by hand.

Convention: ``y`` is 1 for generated, 0 for real; ``p`` is the score (higher
means more likely generated). Ties are handled the standard way: ROC AUC is
the Mann-Whitney probability that a random generated image scores above a
random real one, ties counting one half; the ROC curve and average precision
step over distinct thresholds only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.stats import rankdata

FPR_TARGETS = (0.01, 0.02, 0.05)


def _arrays(y: Sequence[int], p: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    ya = np.asarray(y, dtype=int)
    pa = np.asarray(p, dtype=float)
    if ya.shape != pa.shape:
        raise ValueError("labels and scores differ in length")
    return ya, pa


def roc_auc(y: Sequence[int], p: Sequence[float]) -> float | None:
    """P(score of a generated image > score of a real one), ties 1/2; None with one class only."""
    ya, pa = _arrays(y, p)
    n1, n0 = int(ya.sum()), int((1 - ya).sum())
    if n1 == 0 or n0 == 0:
        return None
    ranks = rankdata(pa)  # average ranks for ties
    return float((ranks[ya == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def roc_curve(y: Sequence[int], p: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds), from (0, 0) at threshold +inf; an image is positive when p >= t."""
    ya, pa = _arrays(y, p)
    order = np.argsort(-pa, kind="mergesort")
    ps, ys = pa[order], ya[order]
    distinct = np.r_[np.nonzero(np.diff(ps))[0], len(ps) - 1] if len(ps) else np.array([], int)
    tps = np.cumsum(ys)[distinct]
    fps = (distinct + 1) - tps
    n1, n0 = max(1, int(ya.sum())), max(1, int((1 - ya).sum()))
    fpr = np.r_[0.0, fps / n0]
    tpr = np.r_[0.0, tps / n1]
    thr = np.r_[np.inf, ps[distinct]]
    return fpr, tpr, thr


def tpr_at_fpr(y: Sequence[int], p: Sequence[float], target: float) -> float | None:
    """The highest true-positive rate of any threshold whose false-positive rate is <= target."""
    ya, _ = _arrays(y, p)
    if ya.sum() == 0 or (1 - ya).sum() == 0:
        return None
    fpr, tpr, _ = roc_curve(y, p)
    ok = fpr <= target + 1e-12
    return float(tpr[ok].max())


def average_precision(y: Sequence[int], p: Sequence[float]) -> float | None:
    """Sum over distinct thresholds of (recall gain) x precision, as scikit-learn computes it."""
    ya, pa = _arrays(y, p)
    if ya.sum() == 0:
        return None
    fpr, tpr, _ = roc_curve(y, p)
    n1, n0 = ya.sum(), (1 - ya).sum()
    tp, fp = tpr[1:] * n1, fpr[1:] * n0
    precision = tp / np.maximum(1e-12, tp + fp)
    return float(np.sum(np.diff(tpr) * precision))


def verdict_metrics(y: Sequence[int], verdicts: Sequence[str]) -> dict[str, float | None]:
    """Balanced accuracy over decided images, and the share left unsure (overall and per class)."""
    ya = np.asarray(y, dtype=int)
    v = np.asarray(verdicts, dtype=object)
    decided = v != "unsure"
    out: dict[str, float | None] = {
        "unsure_share": float(np.mean(~decided)) if len(v) else None,
        "unsure_share_ai": _mean((~decided)[ya == 1]),
        "unsure_share_real": _mean((~decided)[ya == 0]),
        # share of each class called the wrong way (denominator: all images of the class)
        "called_generated_real": _mean((v == "generated")[ya == 0]),
        "called_real_ai": _mean((v == "real")[ya == 1]),
        "called_generated_ai": _mean((v == "generated")[ya == 1]),
    }
    tpr = _mean((v[decided] == "generated")[ya[decided] == 1])
    tnr = _mean((v[decided] == "real")[ya[decided] == 0])
    out["balanced_accuracy_decided"] = None if tpr is None or tnr is None else (tpr + tnr) / 2
    return out


def _class_weights(ya: np.ndarray, balanced: bool) -> np.ndarray:
    """1 per image, or (balanced) weights that make each class count one half."""
    if not balanced:
        return np.ones(len(ya))
    n1, n0 = ya.sum(), (1 - ya).sum()
    return np.where(ya == 1, 0.5 / max(1, n1), 0.5 / max(1, n0)) * len(ya)


def expected_calibration_error(
    y: Sequence[int], p: Sequence[float], bins: int = 10, *, balanced: bool = False
) -> float | None:
    """Sum over equal-width probability bins of (share of images) x |mean p - share generated|.

    ``balanced`` weighs each class one half, which is the prior the fitted fusion is
    calibrated for (p_generated assumes as many generated images as real ones).
    """
    ya, pa = _arrays(y, p)
    if not len(ya):
        return None
    w = _class_weights(ya, balanced)
    idx = np.minimum((pa * bins).astype(int), bins - 1)
    ece = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            wm = w[m]
            ece += wm.sum() / w.sum() * abs(np.average(pa[m], weights=wm) - np.average(ya[m], weights=wm))
    return float(ece)


def bootstrap_interval(
    metric: Callable[[np.ndarray, np.ndarray], float | None],
    y: Sequence[int], p: Sequence[float], *, n: int = 1000, level: float = 0.95, seed: int = 0
) -> tuple[float, float] | None:
    """Percentile interval of ``metric(y, p)`` over ``n`` resamples drawn within each class.

    A locked part of a few hundred images measures ECE (and the rest) with an error
    of its own; this interval says how large, so a target is not judged on noise.
    ECE is biased upwards on few images (chance alone makes bins miss, and
    resampling repeats images), so its interval sits above the point estimate: read
    it as the spread, not as a correction."""
    ya, pa = _arrays(y, p)
    if len(set(ya.tolist())) < 2:
        return None
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(ya == c) for c in (0, 1)]
    values = []
    for _ in range(n):
        idx = np.concatenate([rng.choice(g, size=len(g), replace=True) for g in groups])
        v = metric(ya[idx], pa[idx])
        if v is not None:
            values.append(v)
    lo, hi = np.quantile(values, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def ece_floor(
    y: Sequence[int], p: Sequence[float], bins: int = 10, *, balanced: bool = False, n: int = 200, seed: int = 0
) -> float | None:
    """The mean ECE a perfectly calibrated predictor would show on these images.

    The labels are drawn from the probabilities themselves (with ``balanced``, from
    p_generated read at the images' own class shares, since p assumes as many generated
    images as real ones), so what remains is the error of measuring on this few images."""
    ya, pa = _arrays(y, p)
    if not len(ya):
        return None
    rng = np.random.default_rng(seed)
    q = pa
    if balanced:
        prior = float(ya.mean())
        q = prior * pa / np.maximum(prior * pa + (1 - prior) * (1 - pa), 1e-12)
    values = []
    for _ in range(n):
        ys = (rng.uniform(0, 1, len(q)) < q).astype(int)
        if len(set(ys.tolist())) == 2 or not balanced:
            values.append(expected_calibration_error(ys, pa, bins, balanced=balanced))
    return float(np.mean(values)) if values else None


def reliability(
    y: Sequence[int], p: Sequence[float], bins: int = 10, *, balanced: bool = False
) -> list[dict[str, float]]:
    """Per bin: mean predicted probability, observed share generated, count (for the diagram)."""
    ya, pa = _arrays(y, p)
    w = _class_weights(ya, balanced)
    idx = np.minimum((pa * bins).astype(int), bins - 1)
    return [
        {"bin": b, "p_mean": float(np.average(pa[idx == b], weights=w[idx == b])),
         "observed": float(np.average(ya[idx == b], weights=w[idx == b])), "n": int((idx == b).sum())}
        for b in range(bins) if (idx == b).any()
    ]


def score_metrics(y: Sequence[int], p: Sequence[float]) -> dict[str, float | None]:
    out: dict[str, float | None] = {
        "auc": roc_auc(y, p),
        "average_precision": average_precision(y, p),
    }
    for t in FPR_TARGETS:
        out[f"tpr_at_fpr_{round(t * 100)}pct"] = tpr_at_fpr(y, p, t)
    out["ece"] = expected_calibration_error(y, p)
    out["ece_balanced"] = expected_calibration_error(y, p, balanced=True)
    return out


def bootstrap_ci(
    y: Sequence[int],
    p: Sequence[float],
    metric: Callable[[np.ndarray, np.ndarray], float | None],
    *,
    n: int = 500,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float] | None:
    """Percentile interval of ``metric`` over stratified resamples (each class resampled apart)."""
    ya, pa = _arrays(y, p)
    if n <= 0 or ya.sum() == 0 or (1 - ya).sum() == 0:
        return None
    rng = np.random.default_rng(seed)
    pos, neg = np.nonzero(ya == 1)[0], np.nonzero(ya == 0)[0]
    values = []
    for _ in range(n):
        idx = np.r_[rng.choice(pos, len(pos)), rng.choice(neg, len(neg))]
        v = metric(ya[idx], pa[idx])
        if v is not None:
            values.append(v)
    if not values:
        return None
    lo, hi = np.percentile(values, [(1 - level) / 2 * 100, (1 + level) / 2 * 100])
    return float(lo), float(hi)


def summarise(
    y: Sequence[int],
    p: Sequence[float],
    verdicts: Sequence[str],
    seconds: Sequence[float] | None = None,
    *,
    n_boot: int = 500,
    seed: int = 0,
) -> dict[str, Any]:
    """Every headline number for one set of images, with bootstrap intervals on AUC and TPR@1%/5%."""
    ya = np.asarray(y, dtype=int)
    out: dict[str, Any] = {"n": int(len(ya)), "n_ai": int(ya.sum()), "n_real": int((1 - ya).sum())}
    out.update(score_metrics(y, p))
    out.update(verdict_metrics(y, verdicts))
    if seconds is not None and len(seconds):
        out["seconds_per_image"] = float(np.mean(seconds))
    ci = {
        "auc": bootstrap_ci(y, p, roc_auc, n=n_boot, seed=seed),
        "tpr_at_fpr_1pct": bootstrap_ci(y, p, lambda a, b: tpr_at_fpr(a, b, 0.01), n=n_boot, seed=seed),
        "tpr_at_fpr_5pct": bootstrap_ci(y, p, lambda a, b: tpr_at_fpr(a, b, 0.05), n=n_boot, seed=seed),
    }
    out["ci95"] = {k: list(v) if v else None for k, v in ci.items()}
    return out


def _mean(x: np.ndarray) -> float | None:
    return float(np.mean(x)) if len(x) else None
