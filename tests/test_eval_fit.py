"""The fitted fusion: the form fusion.py evaluates, sane weights, honest out-of-fold validation."""

from __future__ import annotations

import numpy as np
import pytest

from telltales.evaluate import fit
from telltales.findings import Finding, Status
from telltales.fusion import Fusion


def _f(cue: str, status: str, strength: float | None = None, decisive: bool = False) -> dict:
    return {"cue": cue, "status": status, "strength": strength, "version": "1", "decisive": decisive,
            "seconds": 0.0, "reason": "r"}


def synthetic(n_per_family: int = 30, seed: int = 0) -> list[dict]:
    """Four AI families, three real folders, two conditions. 'good' separates the classes,
    'noise' is random, 'meta' (generator metadata) fires on a few AI images only, and 'na'
    applies only to real images (a format stand-in the fit must not lean on)."""
    rng = np.random.default_rng(seed)
    recs = []
    fams = [(1, f"gen{i}") for i in range(4)] + [(0, f"real:src{i}") for i in range(3)]
    for label, fam in fams:
        for i in range(n_per_family):
            for cond in ("asis", "web"):
                g = rng.normal(0.45 if label else -0.45, 0.3)
                fs = [
                    _f("good", "generated-evidence" if g > 0 else "real-evidence", min(1, abs(g))),
                    _f("noise", "generated-evidence" if rng.random() < 0.5 else "real-evidence", rng.random()),
                    _f("provenance.generator-metadata",
                       "generated-evidence" if (label and i < 3 and cond == "asis") else "not-applicable",
                       1.0 if (label and i < 3 and cond == "asis") else None),
                    _f("na", "clear" if not label and cond == "asis" else "not-applicable"),
                ]
                recs.append({"file": f"{fam}/{i}", "label": label, "family": fam, "condition": cond,
                             "findings": fs, "error": None})
    return recs


def test_design_separates_score_and_applicability():
    recs = [{"findings": [_f("a", "generated-evidence", 0.7), _f("b", "not-applicable")]},
            {"findings": [_f("a", "real-evidence", 0.2), _f("b", "clear")]},
            {"findings": [_f("a", "error"), _f("b", "generated-evidence", 1.0, decisive=True)]}]
    d = fit.design(recs)
    assert d.cues == ("a", "b")
    assert d.score.tolist() == [[0.7, 0.0], [-0.2, 0.0], [0.0, 1.0]]
    assert d.applicable.tolist() == [[1, 0], [1, 1], [0, 1]]  # an error is not applicable, clear is
    assert d.decisive.tolist() == [False, False, True]


def test_sample_weights_balance_classes():
    y = np.array([1, 1, 1, 0])
    w = fit.sample_weights(y, ["a", "a", "b", "r"])
    assert w[y == 1].sum() == pytest.approx(w[y == 0].sum())
    assert w[2] > w[0]  # the smaller family weighs more per image


def test_fit_is_sane_and_loads_as_a_fusion():
    result = fit.fit_fusion(synthetic(), name="test")
    fus = Fusion.from_dict(result.fusion)
    w = fus.weights
    assert w["good"]["w"] > 1.0 > w["noise"]["w"] >= 0.0
    assert 4.0 <= w["provenance.generator-metadata"]["w"] <= 10.0  # strong when present
    assert all(abs(v["w_applicable"]) <= fit.W_APPLICABLE_BOUND for v in w.values())
    assert result.fusion["record"]["families"] and result.fusion["record"]["conditions"] == ["asis", "web"]
    assert set(result.fold_fusions) == {f"gen{i}" for i in range(4)} | {f"real:src{i}" for i in range(3)}
    # every image got an out-of-fold probability
    assert not np.isnan(result.oof_p).any()


def test_a_cue_the_fit_never_saw_does_not_move_p():
    fus = Fusion.from_dict(fit.fit_fusion(synthetic(), name="test").fusion)
    unseen = Finding("body.brand-new", "body", Status.GENERATED, 1.0, "a cue added after the fit")
    assert fus.combine([unseen]).p_generated == pytest.approx(0.5)


def test_a_prior_weighted_cue_is_not_fitted_but_weighed_by_its_prior():
    """A visible mark that fires only on real images here must not be learnt as "real":
    it stays out of the design and gets its stated prior weight, in every fold too."""
    recs = synthetic()
    for r in recs:
        fires = r["label"] == 0 and r["file"].endswith("/1")
        r["findings"].append(_f("provenance.visible-mark", "generated-evidence" if fires else "clear",
                                0.9 if fires else None))
    result = fit.fit_fusion(recs, name="test")
    prior, why = fit.PRIOR_WEIGHTS["provenance.visible-mark"]
    assert "provenance.visible-mark" not in fit.design(recs, None).cues
    assert result.fusion["weights"]["provenance.visible-mark"] == {"w": prior, "w_applicable": 0.0}
    assert result.fusion["record"]["prior_weights"]["provenance.visible-mark"]["why"] == why
    assert all(f["weights"]["provenance.visible-mark"]["w"] == prior for f in result.fold_fusions.values())


def test_the_fit_does_not_depend_on_a_prior_weighted_cues_findings():
    """Whatever the visible mark finds, every weight, calibration, threshold and out-of-fold
    probability is the same: that is what lets restate_prior_versions skip the refit."""
    runs = []
    for seed in (1, 2):
        rng = np.random.default_rng(seed)
        recs = synthetic()
        for r in recs:
            fires = rng.random() < 0.3
            r["findings"].append(_f("provenance.visible-mark", "generated-evidence" if fires else "clear",
                                    0.85 if fires else None))
        runs.append(fit.fit_fusion(recs, name="test"))
    a, b = runs
    for key in ("weights", "calibration", "thresholds", "intercept"):
        assert a.fusion[key] == b.fusion[key]
    np.testing.assert_array_equal(a.oof_p, b.oof_p)


def test_restating_a_prior_weighted_cues_version_leaves_the_rest_to_a_refit():
    fused = fit.fit_fusion(synthetic(), name="test").fusion
    fused["record"]["cues"] = {"good": "1", "noise": "1", "provenance.visible-mark": "4"}
    registered = {"good": "2", "noise": "1", "provenance.visible-mark": "5"}
    new = fit.restate_prior_versions(fused, registered, "2026-12-03T00:00:00Z")
    assert new["record"]["cues"] == {"good": "1", "noise": "1", "provenance.visible-mark": "5"}
    assert new["record"]["restated"] == [{"cue": "provenance.visible-mark", "from": "4", "to": "5",
                                          "at": "2026-12-03T00:00:00Z", "why": new["record"]["restated"][0]["why"]}]
    assert {k: v for k, v in new.items() if k != "record"} == {k: v for k, v in fused.items() if k != "record"}
    assert fused["record"]["cues"]["provenance.visible-mark"] == "4"  # the input is not changed
    # the fitted cue that changed still refuses
    assert Fusion.from_dict(new).version_mismatches(registered) == ["good (fitted on version 1, registered 2)"]
    assert fit.restate_prior_versions(new, registered, "later") == new  # nothing more to restate


def test_out_of_fold_thresholds_keep_false_alarms_at_two_percent():
    """By construction on the pooled out-of-fold predictions, in every condition."""
    recs = synthetic(n_per_family=60, seed=2)
    result = fit.fit_fusion(recs)
    t = result.fusion["thresholds"]
    y = np.array([r["label"] for r in recs])
    cond = np.array([r["condition"] for r in recs])
    # the shipped calibration is fitted on the pooled out-of-fold logits, thresholds on top of it
    w = fit.sample_weights(y, [r["family"] for r in recs])
    ab = fit.fit_platt(result.oof_logit, y, w)
    assert ab == pytest.approx(tuple(result.fusion["calibration"]), abs=1e-4)
    p = fit.calibrated(result.oof_logit, ab, np.zeros(len(y), bool))
    for c in ("asis", "web"):
        real = p[(y == 0) & (cond == c)]
        ai = p[(y == 1) & (cond == c)]
        assert np.mean(real >= t["generated"]) <= 0.02
        assert np.mean(ai <= t["real"]) <= 0.05


def test_choose_thresholds_by_hand():
    real = np.r_[np.linspace(0.0, 0.8, 98), 0.85, 0.9]  # 100 real images
    ai = np.r_[0.05, np.linspace(0.2, 1.0, 19)]  # 20 AI images
    p, y = np.r_[real, ai], np.r_[np.zeros(100), np.ones(20)]
    t = fit.choose_thresholds(p, y, ["x"] * 120, max_false_generated=0.02, max_false_real=0.05)
    # two real images may be above: the 3rd highest real score (0.8) must not be
    assert 0.8 < t["generated"] < 0.8001
    # one AI image (5% of 20) may be below: the 2nd lowest AI score (0.2) must not be
    assert 0.1999 < t["real"] < 0.2
    # the strictest condition sets the threshold
    t2 = fit.choose_thresholds(np.r_[p, 0.95, 0.97, 0.99], np.r_[y, 0, 0, 0], ["x"] * 120 + ["y"] * 3)
    assert t2["generated"] > 0.99
    # weak data cannot make a verdict out of a coin flip
    weak = fit.choose_thresholds(np.r_[np.full(50, 0.45), np.full(50, 0.55)], np.r_[np.zeros(50), np.ones(50)],
                                 ["x"] * 100)
    assert weak == {"generated": fit.MIN_CONFIDENCE, "real": pytest.approx(1 - fit.MIN_CONFIDENCE)}


def test_thresholds_count_false_alarms_with_the_fit_weights():
    """Two real photos of a small source at 0.9 and 0.95 among 98 easy ones: 2% of the images,
    but with the fit's weights (sqrt of each family's size) 12.5% of the real side, so the
    weighted choice puts "generated" above both, the count by image just below them."""
    real = np.r_[np.linspace(0.0, 0.6, 98), 0.9, 0.95]
    fams = ["real:easy"] * 98 + ["real:people"] * 2
    ai = np.linspace(0.3, 1.0, 20)
    p, y = np.r_[real, ai], np.r_[np.zeros(100), np.ones(20)]
    w = fit.sample_weights(y, fams + ["gen"] * 20)
    cond = ["x"] * 120
    assert w[98:100].sum() / w[:100].sum() == pytest.approx(np.sqrt(2) / (np.sqrt(2) + np.sqrt(98)))
    by_image = fit.choose_thresholds(p, y, cond)
    assert 0.6 < by_image["generated"] < 0.7 + 1e-9  # the floor of a verdict: 0.7
    by_family = fit.choose_thresholds(p, y, cond, weights=w)
    assert 0.95 < by_family["generated"] < 0.9501
    # equal weights are the count by image
    assert fit.choose_thresholds(p, y, cond, weights=np.full(120, 3.0)) == by_image


def test_fit_records_how_it_counted_false_alarms():
    recs = synthetic()
    assert fit.fit_fusion(recs).fusion["record"]["thresholds_by"] == "images"  # the default
    for by in ("families", "images"):
        assert fit.fit_fusion(recs, thresholds_by=by).fusion["record"]["thresholds_by"] == by
    with pytest.raises(ValueError, match="thresholds_by"):
        fit.fit_fusion(recs, thresholds_by="pixels")


def test_a_pooled_collection_weighs_as_one_family_of_its_size():
    # real: a big collection of 16 and 12 small sources of 3 images (36), pooled as one
    fams = ["big"] * 16 + [f"small{i // 3}" for i in range(36)]
    keys = [f"k{i}" for i in range(len(fams))]
    y = np.zeros(len(fams))
    unpooled = fit.sample_weights(y, fams)
    groups = fit.pooled(fams, keys, {"recipe": set(keys[16:])})
    assert groups[:16] == ["big"] * 16 and set(groups[16:]) == {"pool:recipe"}
    w = fit.sample_weights(y, groups)
    # each unit weighs sqrt(its size): 4 : 6 pooled, against 4 : 12 x sqrt(3) unpooled
    assert w[16:].sum() / w[:16].sum() == pytest.approx(6 / 4)
    assert unpooled[16:].sum() / unpooled[:16].sum() == pytest.approx(12 * np.sqrt(3) / 4)
    assert w.sum() == pytest.approx(unpooled.sum())  # the class still sums to the same total
    assert fit.pooled(fams, keys, {}) == fams  # no pool: the families themselves
    assert fit.pooled(["a"], [None], {"p": {"x"}}) == ["a"]  # an item without a key stays in its family


def test_fusion_with_fitted_weights_reproduces_fit_logits():
    recs = synthetic()
    result = fit.fit_fusion(recs)
    fus = Fusion.from_dict(result.fusion)
    r = recs[0]
    findings = [Finding(f["cue"], "x", Status(f["status"]), f["strength"], "r") for f in r["findings"]]
    d = fit.design([r], cues=list(fus.weights))
    model = fit.Model(tuple(fus.weights), fus.intercept,
                      np.array([fus.weights[c]["w"] for c in fus.weights]),
                      np.array([fus.weights[c]["w_applicable"] for c in fus.weights]))
    a, b = fus.calibration
    expected = 1 / (1 + np.exp(-(a * model.logit(d)[0] + b)))
    assert fus.combine(findings).p_generated == pytest.approx(expected)


def test_restate_priors_script_writes_only_the_prior_weighted_version(tmp_path, capsys):
    import importlib.util
    import json
    from importlib import resources
    from pathlib import Path

    from telltales.registry import get

    spec = importlib.util.spec_from_file_location(
        "restate_priors", Path(__file__).resolve().parents[1] / "training/restate_priors.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    shipped = json.loads(resources.files("telltales.models").joinpath("fusion.json").read_text(encoding="utf-8"))
    old = json.loads(json.dumps(shipped))
    old["record"]["cues"]["provenance.visible-mark"] = "0+0"
    path = tmp_path / "fusion.json"
    path.write_text(json.dumps(old))
    assert script.main(["--fusion", str(path)]) == 0 and json.loads(path.read_text()) == old  # no --write
    assert script.main(["--fusion", str(path), "--write"]) == 0
    new = json.loads(path.read_text())
    assert new["record"]["cues"] == old["record"]["cues"] | {
        "provenance.visible-mark": get("provenance.visible-mark").version}
    assert new["record"]["restated"][-1]["from"] == "0+0"
    assert "provenance.visible-mark: 0+0 ->" in capsys.readouterr().out
    old["record"]["cues"]["noise.jpeg"] = "0"  # a fitted cue: only a refit may change it
    path.write_text(json.dumps(old))
    assert script.main(["--fusion", str(path), "--write"]) == 1 and json.loads(path.read_text()) == old
