"""Metrics against values computed by hand, ties included."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telltales.evaluate import metrics


@pytest.mark.parametrize(
    ("y", "p", "auc"),
    [
        ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.75),  # one of four pairs misordered
        ([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9], 0.875),  # one tied pair counts one half: 3.5 / 4
        ([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3], 0.5),  # all tied
        ([1, 1, 0], [0.9, 0.8, 0.1], 1.0),
        ([1, 1, 0], [0.1, 0.2, 0.9], 0.0),
    ],
)
def test_roc_auc_by_hand(y, p, auc):
    assert metrics.roc_auc(y, p) == pytest.approx(auc)


def test_roc_auc_one_class_is_undefined():
    assert metrics.roc_auc([1, 1], [0.2, 0.3]) is None
    assert metrics.tpr_at_fpr([0, 0], [0.2, 0.3], 0.01) is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])), min_size=2, max_size=30))
def test_roc_auc_equals_pairwise_count(pairs):
    y = [a for a, _ in pairs]
    p = [b for _, b in pairs]
    pos = [s for a, s in pairs if a == 1]
    neg = [s for a, s in pairs if a == 0]
    if not pos or not neg:
        assert metrics.roc_auc(y, p) is None
        return
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a, b in itertools.product(pos, neg))
    assert metrics.roc_auc(y, p) == pytest.approx(wins / (len(pos) * len(neg)))
    # the area under the step ROC curve (ties as diagonal segments) is the same number
    fpr, tpr, _ = metrics.roc_curve(y, p)
    assert np.trapezoid(tpr, fpr) == pytest.approx(wins / (len(pos) * len(neg)))


def test_roc_curve_steps_over_distinct_thresholds():
    fpr, tpr, thr = metrics.roc_curve([1, 0, 1, 0], [0.9, 0.5, 0.5, 0.1])
    assert thr.tolist() == [np.inf, 0.9, 0.5, 0.1]
    assert tpr.tolist() == [0.0, 0.5, 1.0, 1.0]
    assert fpr.tolist() == [0.0, 0.0, 0.5, 1.0]


@pytest.mark.parametrize(
    ("y", "p", "ap"),
    [
        # thresholds 0.9 (P 1, R .5), 0.8 (P .5, R .5), 0.7 (P 2/3, R 1), 0.1: .5*1 + .5*2/3
        ([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1], 0.5 + 0.5 * 2 / 3),
        # a tie at 0.5 is one threshold: (P .5, R .5), then 0.2: (P 2/3, R 1)
        ([1, 0, 1], [0.5, 0.5, 0.2], 0.25 + 0.5 * 2 / 3),
        ([1, 1, 0], [0.9, 0.8, 0.1], 1.0),
    ],
)
def test_average_precision_by_hand(y, p, ap):
    assert metrics.average_precision(y, p) == pytest.approx(ap)


def test_tpr_at_fpr_by_hand():
    real = [0.1] * 98 + [0.6, 0.9]  # 100 real images, two score high
    ai = [0.95, 0.7, 0.5, 0.2]
    y, p = [0] * 100 + [1] * 4, real + ai
    # FPR <= 1%: best threshold 0.7 (one false alarm at 0.9) catches 0.95 and 0.7
    assert metrics.tpr_at_fpr(y, p, 0.01) == pytest.approx(0.5)
    # FPR <= 2%: threshold 0.2 lets in 0.6 and 0.9 only, and catches all four
    assert metrics.tpr_at_fpr(y, p, 0.02) == pytest.approx(1.0)
    assert metrics.tpr_at_fpr(y, p, 0.0) == pytest.approx(0.25)


def test_expected_calibration_error_by_hand():
    # bins 0, 9, 5, 4, one image each: (|.05-0| + |.95-1| + |.55-1| + |.45-0|) / 4
    assert metrics.expected_calibration_error([0, 1, 1, 0], [0.05, 0.95, 0.55, 0.45]) == pytest.approx(0.25)
    assert metrics.expected_calibration_error([0, 1], [0.0, 1.0]) == pytest.approx(0.0)


def test_balanced_calibration_error_weighs_each_class_one_half():
    # three generated, one real, all at 0.5: 75% generated observed, but 50% with even weights
    y, p = [1, 1, 1, 0], [0.5, 0.5, 0.5, 0.5]
    assert metrics.expected_calibration_error(y, p) == pytest.approx(0.25)
    assert metrics.expected_calibration_error(y, p, balanced=True) == pytest.approx(0.0)
    assert metrics.reliability(y, p, balanced=True) == [{"bin": 5, "p_mean": 0.5, "observed": 0.5, "n": 4}]


def test_verdict_metrics_by_hand():
    v = metrics.verdict_metrics([1, 1, 0, 0, 1], ["generated", "unsure", "real", "generated", "real"])
    # decided AI: generated, real -> TPR .5; decided real: real, generated -> TNR .5
    assert v["balanced_accuracy_decided"] == pytest.approx(0.5)
    assert v["unsure_share"] == pytest.approx(0.2)
    assert v["unsure_share_ai"] == pytest.approx(1 / 3)
    assert v["called_generated_real"] == pytest.approx(0.5)
    assert v["called_real_ai"] == pytest.approx(1 / 3)


def test_bootstrap_interval_brackets_the_estimate_and_is_reproducible():
    rng = np.random.default_rng(3)
    y = np.r_[np.ones(60), np.zeros(60)].astype(int)
    p = np.r_[rng.normal(0.65, 0.15, 60), rng.normal(0.4, 0.15, 60)]
    auc = metrics.roc_auc(y, p)
    lo, hi = metrics.bootstrap_ci(y, p, metrics.roc_auc, n=200, seed=1)
    assert 0.0 <= lo < auc < hi <= 1.0
    assert metrics.bootstrap_ci(y, p, metrics.roc_auc, n=200, seed=1) == (lo, hi)


def test_summarise_has_every_headline_number():
    y = [1, 1, 0, 0]
    s = metrics.summarise(y, [0.9, 0.6, 0.4, 0.1], ["generated", "unsure", "real", "real"], [0.1, 0.2, 0.3, 0.4],
                          n_boot=50)
    for k in ("auc", "average_precision", "tpr_at_fpr_1pct", "tpr_at_fpr_2pct", "tpr_at_fpr_5pct",
              "balanced_accuracy_decided", "unsure_share", "ece", "seconds_per_image", "ci95"):
        assert k in s
    assert s["auc"] == 1.0 and s["seconds_per_image"] == pytest.approx(0.25)
    assert s["balanced_accuracy_decided"] == 1.0 and s["unsure_share"] == 0.25


def test_bootstrap_interval_brackets_the_metric_and_narrows_with_more_images():
    rng = np.random.default_rng(1)

    def sample(n):
        p = rng.uniform(0, 1, n)
        return (rng.uniform(0, 1, n) < p).astype(int), p  # calibrated by construction

    y, p = sample(300)
    lo_auc, hi_auc = metrics.bootstrap_interval(metrics.roc_auc, y, p, n=300)
    assert lo_auc <= metrics.roc_auc(y, p) <= hi_auc
    lo, hi = metrics.bootstrap_interval(metrics.expected_calibration_error, y, p, n=300)
    # ECE is biased upwards on few images (noise alone makes bins miss): a perfectly
    # calibrated predictor still shows a few hundredths, and resampling adds more
    assert 0.0 < lo < hi < 0.2
    y2, p2 = sample(3000)
    lo2, hi2 = metrics.bootstrap_interval(metrics.expected_calibration_error, y2, p2, n=300)
    assert hi2 - lo2 < hi - lo
    assert metrics.bootstrap_interval(metrics.roc_auc, [1, 1], [0.2, 0.3]) is None  # one class


def test_ece_floor_is_what_a_calibrated_predictor_shows_and_shrinks_with_more_images():
    rng = np.random.default_rng(2)
    p_small, p_big = rng.uniform(0, 1, 200), rng.uniform(0, 1, 20000)
    y_small = (rng.uniform(0, 1, 200) < p_small).astype(int)
    y_big = (rng.uniform(0, 1, 20000) < p_big).astype(int)
    small = metrics.ece_floor(y_small, p_small, n=50)
    big = metrics.ece_floor(y_big, p_big, n=20)
    assert 0.02 < small < 0.12  # about sqrt(p(1-p)/20) per bin at 200 images
    assert big < 0.01 < small
    # a calibrated sample's own ECE is of the size of its floor
    assert metrics.expected_calibration_error(y_small, p_small) < 3 * small
