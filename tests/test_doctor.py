"""telltales doctor: every part checked by loading it and, where one exists, by its known answer."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from telltales import backbone
from telltales.cli import cli
from telltales.doctor import cues_needing, run_checks


@pytest.fixture
def fresh_backbone():
    backbone.load.cache_clear()
    yield
    backbone.load.cache_clear()


def by_part(checks):
    return {c.part: c for c in checks}


def by_part_rows(rows):
    return {r["part"]: r for r in rows}


@pytest.mark.skipif(backbone.installed() is None, reason="the backbone is not installed (install.sh)")
def test_a_whole_install_is_ok_and_exits_0(fresh_backbone):
    res = CliRunner().invoke(cli, ["doctor", "--json"])
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert res.exit_code == 0, res.stdout
    assert {r["part"] for r in rows} >= {"detector backbone", "landmark models", "text reading (OCR)", "fusion"}
    assert all(r["status"] == "ok" for r in rows)
    assert "known answer within" in by_part_rows(rows)["detector backbone"]["detail"]
    assert "TELLTALES" in by_part_rows(rows)["text reading (OCR)"]["detail"]


def test_missing_models_are_named_with_the_cues_they_cost(tmp_path, monkeypatch, fresh_backbone):
    monkeypatch.setenv("TELLTALES_MODEL_DIR", str(tmp_path))
    res = CliRunner().invoke(cli, ["doctor"])
    assert res.exit_code == 1
    checks = by_part(run_checks())
    assert checks["detector backbone"].status == "missing"
    assert "telltales.backbone install" in checks["detector backbone"].detail
    assert checks["detector backbone"].cues == ("noise.clip",)
    assert "noise.clip not applicable" in res.stdout


@pytest.mark.skipif(backbone.installed() is None, reason="the backbone is not installed (install.sh)")
def test_a_backbone_off_its_known_answer_failed(monkeypatch, fresh_backbone):
    monkeypatch.setattr(backbone, "KNOWN_CLS2", tuple(v + 0.5 for v in backbone.KNOWN_CLS2))
    c = by_part(run_checks())["detector backbone"]
    assert c.status == "failed" and "differ from the known answer" in c.detail


def test_a_fusion_fitted_on_other_cue_versions_failed(monkeypatch):
    from importlib import resources

    from telltales.fusion import Fusion

    shipped = json.loads(resources.files("telltales.models").joinpath("fusion.json").read_text())
    shipped["record"]["cues"]["noise.clip"] += "-old"
    monkeypatch.setattr(Fusion, "load", classmethod(lambda cls, path=None, check=True: cls.from_dict(shipped)))
    c = by_part(run_checks())["fusion"]
    assert c.status == "failed" and "noise.clip (fitted on version" in c.detail


def test_each_model_part_costs_the_cues_that_need_it():
    assert cues_needing(("clip",)) == ("noise.clip",)
    body = cues_needing(("faces", "eyes", "hands", "pose"))
    assert "body.hands" in body and "physics.lighting" in body and "noise.clip" not in body
    assert "provenance.visible-mark" in cues_needing(("ocr",))


def test_an_ocr_that_misreads_the_drawn_word_failed(monkeypatch):
    pytest.importorskip("rapidocr", reason="the ocr extra is not installed")
    from telltales.analyses import ocr

    monkeypatch.setattr(ocr, "read_text", lambda bgr: ())
    c = by_part(run_checks())["text reading (OCR)"]
    assert c.status == "failed" and "TELLTALES" in c.detail
    assert "provenance.visible-mark" in c.cues
