"""Fitting the fusion on cue outputs, and validating it on generators the fit never saw.

The model is exactly the form :mod:`telltales.fusion` evaluates: per cue a
weight ``w`` on its signed score (+strength generated, -strength real, 0 clear)
and a weight ``w_applicable`` added when the cue could decide at all; a
not-applicable (or failed) cue contributes nothing. It is an L2-regularised
logistic regression, fitted with scipy's L-BFGS-B under bounds that keep it
sane:

* ``w >= 0`` for every cue: evidence for "generated" can never push towards
  "real" (a negative weight would be the fit exploiting a quirk of the data);
* the provenance cues that name a generator (C2PA, generator metadata,
  watermark) keep ``w`` in [4, 10]: strong when present, however rare they are
  in the training data;
* ``w_applicable = 0`` (``W_APPLICABLE_BOUND``), ``intercept = 0`` and, in the
  calibration, ``b = 0``: an image on which no cue found evidence either way
  gets exactly p = 0.5 ("unsure"), from every fit. So it is never called
  generated (or real) because cues merely could run, and in leave-one-out the
  many no-evidence images tie instead of being ranked by the accidental
  intercept of whichever fold scored them (with a free intercept the pooled
  out-of-fold AUC fell below 0.1 on web copies for exactly that reason). Whether a cue applies says what the picture
  shows (people, buildings, text) and how it is stored (format, size), not how
  it was made: with ``w_applicable`` free down to -1.5 ("checked and found
  nothing leans real"), the leave-one-generator-out AUC of held-out photoreal
  portrait families fell to 0.02, because "has a measurable body" had become
  "real". The bound stays a parameter so the form can be revisited.
* cues in :data:`PRIOR_WEIGHTS` (a generator's visible mark) are not fitted at
  all: DALL-E 2, which carries the commonest mark, is locked, and the Gemini
  sparkle's template was learnt from the fit part's Gemini pictures, so a fitted
  weight would be the regulariser's 0 or an in-sample one. They get a stated
  prior weight, written with its reason into the fusion's record.

Images are weighted so each class counts half and, within a class, each family
(generator family, or real source folder) counts in proportion to the square
root of its size, so one big generator does not dominate.

Validation is leave-one-group-out: every family (an AI generator family or a
real source folder) is held out in turn, in all conditions at once, and scored
by a fusion fitted on the rest. The pooled out-of-fold logits then fit the
shipped Platt calibration and choose its thresholds (see
:func:`choose_thresholds`); for the held-out scores themselves, each family's
calibration and thresholds come from the other families' out-of-fold logits
only, so the reported false-alarm rate is measured, not imposed. The false-alarm
shares are counted by image; ``thresholds_by="families"`` counts them with the
fit's family weights instead, so a small source of real photos that the detector
finds hard (photos of people) weighs as a new source would.
"""

from __future__ import annotations

import copy
import datetime as _dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize

from ..fusion import finding_input

STRONG_PROVENANCE = ("provenance.c2pa", "provenance.generator-metadata", "provenance.watermark")
# learned cues weighed on their calibrated log-odds (their scores here must be out-of-fold)
LOG_ODDS_INPUT = ("noise.clip",)
# learned cues whose shipped model saw the evaluation images: they never enter a fit
NOT_OUT_OF_FOLD = ("noise.learned",)
# cues weighed by a stated prior instead of a fit, and why (written into the fusion's record)
PRIOR_WEIGHTS: dict[str, tuple[float, str]] = {
    "provenance.visible-mark": (3.0, (
        "not fitted: DALL-E 2, whose strip is the commonest mark, is locked, and Gemini's sparkle "
        "template was learnt from the fit part's Gemini pictures, so a weight fitted there would be "
        "fitted in-sample. w = 3 makes DALL-E 2's strip (strength 0.9) a likelihood ratio of about 15, "
        "Gemini's sparkle (0.85) about 13 and a typed label (0.7-0.8) about 8-11. Whatever the weight, "
        "the fusion lets a mark decide only with other evidence that leans generated "
        "(telltales.fusion.CORROBORATING)")),
}
W_BOUNDS = (0.0, 10.0)
STRONG_BOUNDS = (4.0, 10.0)
W_APPLICABLE_BOUND = 0.0  # see the module docstring: applicability is content, not provenance
APPLICABLE_PENALTY = 4.0
MIN_CONFIDENCE = 0.7  # no verdict below this calibrated probability, whatever the error rates allow


@dataclass(frozen=True)
class Design:
    """The feature matrix: per cue its signed score (0 if not applicable) and an applicable flag."""

    cues: tuple[str, ...]
    score: np.ndarray  # (n, k)
    applicable: np.ndarray  # (n, k) 0/1
    decisive: np.ndarray  # (n,) bool: a decisive generated finding (C2PA) is present


def design(records: Sequence[dict[str, Any]], cues: Sequence[str] | None = None) -> Design:
    """Features from evaluation records (each with a ``findings`` list of finding dicts)."""
    if cues is None:
        cues = sorted({f["cue"] for r in records for f in r.get("findings", [])}
                      - set(NOT_OUT_OF_FOLD) - set(PRIOR_WEIGHTS))
    col = {c: j for j, c in enumerate(cues)}
    n, k = len(records), len(cues)
    score = np.zeros((n, k))
    applicable = np.zeros((n, k))
    decisive = np.zeros(n, dtype=bool)
    for i, r in enumerate(records):
        for f in r.get("findings", []):
            j = col.get(f["cue"])
            s = finding_input(f["status"], f.get("strength"), f.get("details"),
                              "log_odds" if f["cue"] in LOG_ODDS_INPUT else "strength")
            if j is None or s is None:
                continue
            score[i, j] = s
            applicable[i, j] = 1.0
            decisive[i] |= bool(f.get("decisive")) and f["status"] == "generated-evidence"
    return Design(tuple(cues), score, applicable, decisive)


def signed_score(f: dict[str, Any]) -> float | None:
    status = f.get("status")
    if status == "generated-evidence":
        return float(f.get("strength") or 0.0)
    if status == "real-evidence":
        return -float(f.get("strength") or 0.0)
    if status == "clear":
        return 0.0
    return None  # not-applicable, error


def sample_weights(y: np.ndarray, families: Sequence[str]) -> np.ndarray:
    """Each class sums to 1/2; within a class each family weighs sqrt(its size)."""
    fam = np.asarray(families, dtype=object)
    w = np.zeros(len(y))
    for label in (0, 1):
        m = y == label
        if not m.any():
            continue
        names, counts = np.unique(fam[m], return_counts=True)
        size = dict(zip(names, counts, strict=True))
        wm = np.array([1.0 / np.sqrt(size[f]) for f in fam[m]])
        w[m] = 0.5 * wm / wm.sum()
    return w * len(y)


@dataclass(frozen=True)
class Model:
    cues: tuple[str, ...]
    intercept: float
    w: np.ndarray
    w_applicable: np.ndarray

    def logit(self, d: Design) -> np.ndarray:
        idx = [self.cues.index(c) for c in d.cues]
        return self.intercept + d.score @ self.w[idx] + d.applicable @ self.w_applicable[idx]


def pooled(families: Sequence[str], keys: Sequence[str | None], pools: dict[str, set[str]]) -> list[str]:
    """Weight units for :func:`sample_weights`: each item's family, or ``pool:NAME`` when its key
    (a sha256, say) is in that pool.

    :func:`sample_weights` gives every family sqrt(its size). A collection gathered a few images
    at a time from many sources would otherwise weigh as many families and outweigh the rest of
    its class; pooled, it weighs as one family of its size. Only the weights change: whatever
    holds out families (folds, leave-one-family-out) still goes by ``families``."""
    owner = {key: name for name, members in pools.items() for key in members}
    return [f"pool:{owner[k]}" if k in owner else f for f, k in zip(families, keys, strict=True)]


def _bounds(cues: Sequence[str]) -> list[tuple[float | None, float | None]]:
    b: list[tuple[float | None, float | None]] = [(0.0, 0.0)]  # intercept: see the docstring
    b += [STRONG_BOUNDS if c in STRONG_PROVENANCE else W_BOUNDS for c in cues]
    b += [(-W_APPLICABLE_BOUND, 0.0)] * len(cues)
    return b


def fit_logistic(d: Design, y: np.ndarray, weights: np.ndarray, *, l2: float = 1.0) -> Model:
    """Minimise mean weighted log-loss + l2/200 (|w|^2 + 4 |w_applicable|^2) under the bounds."""
    k = len(d.cues)
    X = np.hstack([np.ones((len(y), 1)), d.score, d.applicable])
    lam = l2 / 100.0  # on the mean log-loss
    penalty = np.r_[0.0, np.full(k, lam), np.full(k, lam * APPLICABLE_PENALTY)]
    total = weights.sum()

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = X @ theta
        # log(1 + e^z) - y z, stable
        nll = np.logaddexp(0.0, z) - y * z
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))
        value = (weights @ nll) / total + 0.5 * penalty @ theta**2
        grad = X.T @ (weights * (p - y)) / total + penalty * theta
        return float(value), grad

    bounds = _bounds(d.cues)
    theta0 = np.array([min(max(0.0, lo if lo is not None else 0.0), hi if hi is not None else 0.0)
                       for lo, hi in bounds])
    res = minimize(loss, theta0, jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": 2000})
    t = res.x
    return Model(tuple(d.cues), float(t[0]), t[1 : k + 1].copy(), t[k + 1 :].copy())


def fit_platt(z: np.ndarray, y: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """(a, b) so that sigmoid(a z + b) is calibrated on out-of-fold logits ``z``."""

    def loss(ab: np.ndarray) -> tuple[float, np.ndarray]:
        s = ab[0] * z + ab[1]
        nll = np.logaddexp(0.0, s) - y * s
        p = 1.0 / (1.0 + np.exp(-np.clip(s, -50, 50)))
        g = weights * (p - y)
        return float(weights @ nll), np.array([g @ z, g.sum()])

    res = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B",
                   bounds=[(0.05, 20.0), (0.0, 0.0)])  # b = 0: no evidence, p = 0.5
    return float(res.x[0]), float(res.x[1])


def calibrated(z: np.ndarray, ab: tuple[float, float], decisive: np.ndarray) -> np.ndarray:
    p = 1.0 / (1.0 + np.exp(-np.clip(ab[0] * z + ab[1], -50, 50)))
    return np.where(decisive, np.maximum(p, 0.99), p)


def logo_logits(
    d: Design, y: np.ndarray, families: Sequence[str], *, l2: float = 1.0
) -> tuple[np.ndarray, dict[str, Model], list[str]]:
    """Out-of-fold logits: each family scored by a fit on every other family (all conditions).

    Returns the logits, the model that scored each family, and the families that could
    not be held out (their removal left one class only).
    """
    fam = np.asarray(families, dtype=object)
    z = np.full(len(y), np.nan)
    models: dict[str, Model] = {}
    skipped: list[str] = []
    for f in sorted(set(fam)):
        test = fam == f
        train = ~test
        if len(set(y[train])) < 2:
            skipped.append(f)
            continue
        m = fit_logistic(_rows(d, train), y[train], sample_weights(y[train], fam[train]), l2=l2)
        models[f] = m
        z[test] = m.logit(_rows(d, test))
    return z, models, skipped


def _rows(d: Design, mask: np.ndarray) -> Design:
    return Design(d.cues, d.score[mask], d.applicable[mask], d.decisive[mask])


def _cut_above(scores: np.ndarray, weights: np.ndarray, max_share: float) -> float | None:
    """The lowest cut such that the images scoring at or above it carry at most ``max_share``
    of ``weights``: just above the first score (from the top) whose inclusion would exceed it.
    None when every image may be above it."""
    order = np.argsort(-scores, kind="stable")
    s, share = scores[order], np.cumsum(weights[order]) / weights.sum()
    over = np.flatnonzero(share > max_share + 1e-12)
    return None if not len(over) else float(np.nextafter(s[over[0]], 1.0))


def choose_thresholds(
    p: np.ndarray,
    y: np.ndarray,
    conditions: Sequence[str],
    *,
    max_false_generated: float = 0.02,
    max_false_real: float = 0.05,
    min_confidence: float = MIN_CONFIDENCE,
    weights: np.ndarray | None = None,
) -> dict[str, float]:
    """The lowest "generated" threshold that calls at most ``max_false_generated`` of real
    images generated in *every* condition, and the highest "real" threshold that calls at
    most ``max_false_real`` of generated images real in every condition. A verdict also
    needs ``min_confidence``: "generated" is kept in [0.7, 0.995] and "real" in
    [0.005, 0.3] (a calibrated 0.6 is nearly a coin flip); between them an image is "unsure".

    With ``weights`` (the fit's :func:`sample_weights`), the shares are of weight, not of
    images: a small source of real photos then counts as much as the fit counts it, and a
    big easy one cannot hide its false alarms.
    """
    cond = np.asarray(conditions, dtype=object)
    w = np.ones(len(p)) if weights is None else np.asarray(weights, dtype=float)
    t_gen, t_real = 0.5, 0.5
    for c in sorted(set(cond)):
        real, ai = (cond == c) & (y == 0), (cond == c) & (y == 1)
        if real.any():
            cut = _cut_above(p[real], w[real], max_false_generated)
            t_gen = max(t_gen, 0.5 if cut is None else cut)
        if ai.any():
            cut = _cut_above(-p[ai], w[ai], max_false_real)  # the same, from the bottom
            t_real = min(t_real, 0.5 if cut is None else -cut)
    return {
        "generated": float(np.clip(t_gen, min_confidence, 0.995)),
        "real": float(np.clip(t_real, 0.005, 1.0 - min_confidence)),
    }


@dataclass(frozen=True)
class FitResult:
    fusion: dict[str, Any]  # a fusion JSON, ready for telltales.fusion.Fusion.from_dict
    # leave-one-group-out probabilities, one per record (NaN: not scored); each family's
    # calibration fitted on the other families' out-of-fold logits
    oof_p: np.ndarray
    oof_logit: np.ndarray
    fold_fusions: dict[str, dict[str, Any]]  # family -> the fusion that scored it (fitted without it)


def fit_fusion(
    records: Sequence[dict[str, Any]],
    *,
    name: str = "fitted",
    l2: float = 1.0,
    max_false_generated: float = 0.02,
    max_false_real: float = 0.05,
    record: dict[str, Any] | None = None,
    thresholds_by: str = "images",
) -> FitResult:
    """Fit on ``records`` (error rows excluded), validate LOGO, calibrate, choose thresholds.

    ``thresholds_by``: "images" counts the false-alarm shares by image (the shipped
    fusion's choice); "families" counts them with the fit's own weights (each family by
    the square root of its size, :func:`sample_weights`), which holds small hard sources of
    real photos to the 2% too, at a cost in generated images called generated."""
    if thresholds_by not in ("families", "images"):
        raise ValueError(f"thresholds_by must be 'families' or 'images', not {thresholds_by!r}")
    rows = [r for r in records if not r.get("error")]
    if len({r["label"] for r in rows}) < 2:
        from ..errors import TelltalesError

        raise TelltalesError("fitting needs both generated and real images that could be analysed")
    d = design(rows)
    y = np.array([r["label"] for r in rows], dtype=float)
    fams = [r["family"] for r in rows]
    conds = [r["condition"] for r in rows]
    z_oof, fold_models, skipped = logo_logits(d, y, fams, l2=l2)
    ok = ~np.isnan(z_oof)
    w_all = sample_weights(y, fams)
    ab = fit_platt(z_oof[ok], y[ok], w_all[ok])
    p_oof = np.full(len(y), np.nan)
    p_oof[ok] = calibrated(z_oof[ok], ab, d.decisive[ok])
    by_family = thresholds_by == "families"
    thresholds = choose_thresholds(
        p_oof[ok], y[ok], [c for c, o in zip(conds, ok, strict=True) if o],
        max_false_generated=max_false_generated, max_false_real=max_false_real,
        weights=w_all[ok] if by_family else None,
    )
    # Each held-out family is also calibrated and thresholded without its own predictions,
    # so the verdict metrics of the leave-one-out evaluation are not true by construction.
    fam_arr, cond_arr = np.asarray(fams, dtype=object), np.asarray(conds, dtype=object)
    fold_cal: dict[str, tuple[tuple[float, float], dict[str, float]]] = {}
    for f in fold_models:
        other = ok & (fam_arr != f)
        ab_f = fit_platt(z_oof[other], y[other], w_all[other])
        t_f = choose_thresholds(
            calibrated(z_oof[other], ab_f, d.decisive[other]), y[other], cond_arr[other],
            max_false_generated=max_false_generated, max_false_real=max_false_real,
            weights=w_all[other] if by_family else None,
        )
        fold_cal[f] = (ab_f, t_f)
        mine = fam_arr == f
        p_oof[mine] = calibrated(z_oof[mine], ab_f, d.decisive[mine])
    model = fit_logistic(d, y, w_all, l2=l2)
    rec = {
        "how": (
            "L2-regularised logistic regression over per-cue signed score and applicable flag "
            f"(l2={l2}; w >= 0; strong provenance w in {list(STRONG_BOUNDS)}; "
            f"-{W_APPLICABLE_BOUND} <= w_applicable <= 0, intercept = 0, Platt b = 0: no "
            "evidence gives p = 0.5), classes weighted equally, families by "
            "sqrt(size); Platt calibration and thresholds chosen on leave-one-group-out "
            f"out-of-fold predictions (at most {max_false_generated:.0%} of real images called "
            f"generated and at most {max_false_real:.0%} of generated images called real, "
            f"in every condition, counted {'with the fit weights' if by_family else 'by image'}; "
            f"and p >= {MIN_CONFIDENCE} for 'generated', "
            f"p <= {1 - MIN_CONFIDENCE:.1f} for 'real')"
        ),
        "fitted_at": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "thresholds_by": thresholds_by,
        "n_records": len(rows),
        "n_images": len({r.get("file") for r in rows}),
        "conditions": sorted(set(conds)),
        "families": sorted(set(fams)),
        "families_not_validated": skipped,
        # no data on these: their weights are the regulariser's (0, or the provenance floor)
        "cues_never_applicable": [c for j, c in enumerate(d.cues) if not d.applicable[:, j].any()],
        "coverage": {c: round(float(d.applicable[:, j].mean()), 4) for j, c in enumerate(d.cues)},
        "prior_weights": {c: {"w": w, "why": why} for c, (w, why) in PRIOR_WEIGHTS.items()},
        **(record or {}),
    }
    fusion = to_fusion_dict(model, name, ab, thresholds, rec)
    folds = {
        f: to_fusion_dict(m, f"{name}-without-{f}", *fold_cal[f], {"held_out": f})
        for f, m in fold_models.items()
    }
    full_p = np.full(len(records), np.nan)
    full_z = np.full(len(records), np.nan)
    j = 0
    for i, r in enumerate(records):
        if not r.get("error"):
            full_p[i], full_z[i] = p_oof[j], z_oof[j]
            j += 1
    return FitResult(fusion, full_p, full_z, folds)


def to_fusion_dict(
    model: Model,
    name: str,
    ab: tuple[float, float],
    thresholds: dict[str, float],
    record: dict[str, Any],
) -> dict[str, Any]:
    """A fusion JSON (the form telltales.fusion.Fusion.from_dict reads)."""
    return {
        "name": name,
        "intercept": round(model.intercept, 4),
        # a cue the fit never saw has no measured reliability: it is reported but does not move p
        "default_weight": 0.0,
        "calibration": [round(ab[0], 4), round(ab[1], 4)],
        # rounded outwards, so rounding never lets in a false alarm the choice excluded
        "thresholds": {"generated": math.ceil(thresholds["generated"] * 1e4) / 1e4,
                       "real": math.floor(thresholds["real"] * 1e4) / 1e4},
        "weights": {
            c: {"w": round(float(model.w[j]), 4), "w_applicable": round(float(model.w_applicable[j]), 4),
                **({"input": "log_odds"} if c in LOG_ODDS_INPUT else {})}
            for j, c in enumerate(model.cues)
        } | {c: {"w": w, "w_applicable": 0.0} for c, (w, _) in PRIOR_WEIGHTS.items() if c not in model.cues},
        "record": record,
    }


def restate_prior_versions(fusion: dict[str, Any], versions: dict[str, str], when: str) -> dict[str, Any]:
    """``fusion`` with the recorded version of each prior-weighted cue (:data:`PRIOR_WEIGHTS`)
    set to its registered one in ``versions``, and the change listed under ``record.restated``.

    :func:`design` leaves those cues out, so no weight, calibration or threshold of a fit
    depends on their findings (``tests/test_eval_fit.py`` checks it): a refit after such a cue
    changes would record the new version and nothing else. Every other cue is left as it is,
    so a fitted cue that changed still makes the fusion refuse to load until it is refitted.
    The locked part's numbers in the record were scored with the old version's findings:
    whoever restates checks whether its findings there changed (for the visible mark:
    ``benchmarks/bench_sparkle.py``) and, if they did, measures the locked part again."""
    out = copy.deepcopy(fusion)
    cues = out["record"].setdefault("cues", {})
    for cue in sorted(PRIOR_WEIGHTS):
        new = versions.get(cue)
        if new is None or str(cues.get(cue)) == str(new):
            continue
        out["record"].setdefault("restated", []).append(
            {"cue": cue, "from": cues.get(cue), "to": new, "at": when,
             "why": "prior-weighted: not in the fit's design, so the fit does not depend on its findings; "
                    "record.locked was scored with the previous version's findings"})
        cues[cue] = new
    return out
