"""Findings validate themselves; fusion is transparent and honest about doubt."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from telltales.errors import TelltalesError
from telltales.findings import Finding, Region, Result, Status
from telltales.fusion import Fusion


def test_result_constructors_validate():
    with pytest.raises(ValueError):
        Result(Status.GENERATED, "x")  # evidence needs a strength
    with pytest.raises(ValueError):
        Result(Status.NOT_APPLICABLE, "x", 0.3)  # n/a has no number
    with pytest.raises(ValueError):
        Result.clear("")  # a reason is required
    assert Result.generated(1.7, "x").strength == 1.0
    assert Result.real(-2, "x").strength == 0.0


def test_details_are_json_safe():
    r = Result.clear("ok", details={"a": np.float32(0.5), "b": np.arange(3), "c": float("nan"), "d": (1, 2)})
    assert json.dumps(r.details, allow_nan=False)
    assert r.details == {"a": 0.5, "b": [0, 1, 2], "c": None, "d": [1, 2]}


def test_region_box_is_ints():
    assert Region((1.4, 2.6, 3, 4)).box == (1, 3, 3, 4)
    with pytest.raises(ValueError):
        Region((1, 2, 3))


def _finding(cue: str, status: Status, strength: float | None, decisive: bool = False) -> Finding:
    return Finding(cue, "provenance", status, strength, "because", decisive=decisive)


FUSION = Fusion.from_dict({
    "name": "test",
    "weights": {"provenance.camera": {"w": 1.0}, "provenance.generator-metadata": {"w": 5.0}},
})


def test_no_evidence_is_unsure_with_reason():
    v = FUSION.combine([_finding("provenance.camera", Status.NOT_APPLICABLE, None)])
    assert v.verdict == "unsure" and v.p_generated == 0.5
    assert "no cue could check" in v.unsure_reason


def test_strong_metadata_decides_generated():
    v = FUSION.combine([_finding("provenance.generator-metadata", Status.GENERATED, 1.0)])
    assert v.verdict == "generated"
    assert v.p_generated == pytest.approx(1 / (1 + math.exp(-5)))
    assert v.reasons == ("provenance.generator-metadata: because",)


def test_weak_camera_evidence_alone_stays_unsure():
    v = FUSION.combine([_finding("provenance.camera", Status.REAL, 0.6)])
    assert v.verdict == "unsure"
    assert "too weak" in v.unsure_reason


def test_conflict_is_named():
    v = FUSION.combine([
        _finding("provenance.generator-metadata", Status.GENERATED, 0.3),
        _finding("provenance.camera", Status.REAL, 0.9),
    ])
    assert v.verdict == "unsure"
    assert "conflicting" in v.unsure_reason and "provenance.camera" in v.unsure_reason


def test_decisive_finding_overrides():
    v = FUSION.combine([
        _finding("provenance.c2pa", Status.GENERATED, 1.0, decisive=True),
        _finding("provenance.camera", Status.REAL, 1.0),
    ])
    assert v.verdict == "generated" and v.p_generated >= 0.99


def test_not_applicable_contributes_nothing():
    f = _finding("provenance.camera", Status.NOT_APPLICABLE, None)
    fus = Fusion.from_dict({"name": "t", "weights": {"provenance.camera": {"w": 2, "w_applicable": 3}}})
    assert fus.contribution(f) == 0.0
    assert fus.contribution(_finding("provenance.camera", Status.CLEAR, None)) == 3.0


@given(st.lists(st.tuples(st.sampled_from(list(Status)), st.floats(0, 1)), max_size=8))
def test_probability_is_always_a_probability(items):
    findings = [
        _finding(f"provenance.c{i}", s, None if s in (Status.NOT_APPLICABLE, Status.ERROR) else x)
        for i, (s, x) in enumerate(items)
    ]
    v = FUSION.combine(findings)
    assert 0.0 <= v.p_generated <= 1.0
    assert v.verdict in ("generated", "real", "unsure")
    assert (v.verdict == "unsure") == (v.unsure_reason is not None)


def test_shipped_fusion_loads_and_malformed_is_clear(tmp_path):
    assert Fusion.load().name
    bad = tmp_path / "f.json"
    bad.write_text('{"weights": {}}')
    with pytest.raises(TelltalesError, match="malformed"):
        Fusion.load(bad)
    bad.write_text("not json")
    with pytest.raises(TelltalesError, match="not JSON"):
        Fusion.load(bad)
    with pytest.raises(TelltalesError, match="cannot read"):
        Fusion.load(tmp_path / "missing.json")
