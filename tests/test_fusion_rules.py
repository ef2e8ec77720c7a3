"""What one piece of evidence may do on its own (issue: no single forgeable or weak cue decides)."""

from __future__ import annotations

import hashlib
import io
import json
import math

import numpy as np
import piexif
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image as PILImage

import telltales
from telltales.errors import TelltalesError
from telltales.example import make_example
from telltales.findings import Finding, Status
from telltales.fusion import MAX_SINGLE_LOGIT, Fusion
from telltales.registry import all_cues, model_digest


def _f(cue: str, status: Status, strength: float | None, details: dict | None = None) -> Finding:
    return Finding(cue, "x", status, strength, "because", details=details or {})


STEEP = Fusion.from_dict({
    "name": "steep",
    "calibration": [13.0, 0.0],
    "thresholds": {"generated": 0.7, "real": 0.3},
    "weights": {
        "provenance.camera": {"w": 2.0},
        "noise.learned": {"w": 1.0},
        "noise.clip": {"w": 1.0, "input": "log_odds"},
        "provenance.generator-metadata": {"w": 4.0},
        "provenance.visible-mark": {"w": 3.0},
    },
})


def test_camera_exif_alone_never_makes_real():
    v = STEEP.combine([_f("provenance.camera", Status.REAL, 1.0)])
    assert v.verdict == "unsure"
    assert v.p_generated < 0.5  # it may move p towards real


@given(st.floats(-3, 3), st.floats(0, 1))
def test_camera_exif_never_carries_a_verdict_across_a_threshold(other_log_odds, camera):
    rest = [_f("noise.clip", Status.CLEAR, None, {"log_odds": other_log_odds})]
    without = STEEP.combine(rest)
    with_cam = STEEP.combine(rest + [_f("provenance.camera", Status.REAL, camera)])
    if without.verdict == "unsure":
        assert with_cam.verdict == "unsure"
    if without.verdict == "generated":
        assert with_cam.verdict in ("generated", "unsure")
    assert with_cam.p_generated <= without.p_generated + 1e-9


def test_a_visible_mark_alone_never_makes_generated():
    """A pasted DALL-E 2 strip on a picture nothing else has an opinion on stays unsure."""
    v = STEEP.combine([_f("provenance.visible-mark", Status.GENERATED, 0.9)])
    assert v.verdict == "unsure"
    assert v.p_generated > 0.5  # it still moves p towards generated


def test_a_visible_mark_against_evidence_for_real_leaves_the_image_unsure():
    rest = [_f("noise.clip", Status.REAL, 0.5, {"log_odds": -0.2})]
    assert STEEP.combine(rest).verdict == "real"
    v = STEEP.combine(rest + [_f("provenance.visible-mark", Status.GENERATED, 0.9)])
    assert v.verdict == "unsure"


@given(st.floats(-3, 3), st.floats(0, 1))
def test_a_visible_mark_carries_p_across_only_when_the_rest_leans_generated(other_log_odds, mark):
    rest = [_f("noise.clip", Status.CLEAR, None, {"log_odds": other_log_odds})]
    without = STEEP.combine(rest)
    with_mark = STEEP.combine(rest + [_f("provenance.visible-mark", Status.GENERATED, mark)])
    assert with_mark.p_generated >= without.p_generated - 1e-9  # it never points towards real
    if with_mark.verdict == "generated" and without.verdict != "generated":
        assert without.p_generated > 0.5


def test_a_visible_mark_corroborates_a_detector_that_leans_generated():
    rest = [_f("noise.clip", Status.CLEAR, None, {"log_odds": 0.05})]  # p 0.66 with this fusion
    assert STEEP.combine(rest).verdict == "unsure"
    v = STEEP.combine(rest + [_f("provenance.visible-mark", Status.GENERATED, 0.9)])
    assert v.verdict == "generated"
    assert "provenance.visible-mark" in v.reasons[0]


@pytest.mark.parametrize("finding", [
    _f("noise.learned", Status.GENERATED, 1.0),
    _f("noise.clip", Status.GENERATED, 1.0, {"log_odds": 40.0}),
])
def test_one_pixel_cue_alone_stays_below_p_0_99(finding):
    v = STEEP.combine([finding])
    assert v.p_generated < 0.99
    assert a_logit(v.p_generated) == pytest.approx(MAX_SINGLE_LOGIT, abs=1e-6)


def a_logit(p: float) -> float:
    return math.log(p / (1 - p))


def test_generator_metadata_is_not_capped():
    v = STEEP.combine([_f("provenance.generator-metadata", Status.GENERATED, 1.0)])
    assert v.verdict == "generated" and v.p_generated > 0.999


def test_log_odds_input_reads_the_detector_probability():
    plain = Fusion.from_dict({"name": "p", "weights": {"noise.clip": {"w": 1.0, "input": "log_odds"}}})
    v = plain.combine([_f("noise.clip", Status.CLEAR, None, {"log_odds": 1.0})])
    assert v.p_generated == pytest.approx(1 / (1 + math.exp(-1)))


def test_a_fusion_fitted_on_other_cue_versions_is_refused(tmp_path):
    versions = {c.id: c.version for c in all_cues()}
    doc = {"name": "old", "weights": {"noise.clip": {"w": 1.0}},
           "record": {"cues": {"noise.clip": versions["noise.clip"] + "-old"}}}
    path = tmp_path / "f.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(TelltalesError, match="other cue versions"):
        Fusion.load(path)
    assert Fusion.load(path, check=False).name == "old"


def test_a_retrained_model_changes_its_cue_version(tmp_path):
    (tmp_path / "head.npz").write_bytes(b"weights")
    (tmp_path / "head.json").write_bytes(b'{"thresholds": {}}')
    first = model_digest(("head.npz", "head.json"), tmp_path)
    assert first == hashlib.sha256(b'weights{"thresholds": {}}').hexdigest()[:12]
    (tmp_path / "head.json").write_bytes(b'{"thresholds": {"generated": 0.9}}')  # recalibrated only
    assert model_digest(("head.npz", "head.json"), tmp_path) != first
    assert model_digest(("head.npz", "gone.json"), tmp_path) == "missing"
    # the learned cues carry their installed model's digest, so a fusion fitted on the output of
    # another head (the same code, retrained) is refused like one fitted on older code
    versions = {c.id: c.version for c in all_cues()}
    assert versions["noise.clip"] == "1+" + model_digest(("clip_head.npz", "clip_head.json"))
    assert versions["noise.learned"].endswith("+" + model_digest(("noise_learned.npz", "noise_learned.json")))
    assert versions["provenance.visible-mark"].endswith("+" + model_digest(("gemini_sparkle.npz",)))
    shipped = Fusion.load().to_dict()
    shipped["record"]["cues"]["noise.clip"] = "1+" + first  # fitted on another head's scores
    with pytest.raises(TelltalesError, match="noise.clip"):
        Fusion.from_dict(shipped).check_versions(versions)
    # a head that is not installed cannot contribute (the cue says not-applicable): not refused
    assert Fusion.from_dict(shipped).version_mismatches({**versions, "noise.clip": "1+missing"}) == []


def test_the_shipped_fusion_matches_the_registered_cues():
    fus = Fusion.load()  # raises if not
    assert fus.record.get("cues")


# --- end to end, on files made here ---------------------------------------------------------
def _camera_exif() -> bytes:
    return piexif.dump({
        "0th": {piexif.ImageIFD.Make: b"Canon", piexif.ImageIFD.Model: b"Canon EOS 5D Mark III",
                piexif.ImageIFD.Software: b"Canon EOS 5D Mark III Firmware Version 1.2.1"},
        "Exif": {piexif.ExifIFD.ExposureTime: (1, 125), piexif.ExifIFD.FNumber: (56, 10),
                 piexif.ExifIFD.ISOSpeedRatings: 200, piexif.ExifIFD.FocalLength: (50, 1),
                 piexif.ExifIFD.DateTimeOriginal: b"2019:05:04 10:11:12",
                 piexif.ExifIFD.LensModel: b"EF50mm f/1.8 STM"},
    })


def test_copied_camera_exif_on_a_generated_image_is_not_real():
    """The generated picture's own metadata is removed and a camera's EXIF pasted on."""
    sd = PILImage.open(io.BytesIO(make_example("sd-png"))).convert("RGB")
    buf = io.BytesIO()
    sd.save(buf, "JPEG", quality=92, exif=_camera_exif())
    r = telltales.inspect(buf.getvalue())
    cam = next(f for f in r.findings if f.cue == "provenance.camera")
    assert cam.status == "real-evidence"  # the EXIF is read as a camera's ...
    assert r.verdict != "real"  # ... but it cannot decide on its own


def test_camera_example_is_not_called_real():
    r = telltales.inspect(make_example("camera-jpeg"))
    assert r.verdict != "real"


def test_a_drawn_picture_without_metadata_is_not_generated_with_certainty():
    r = telltales.inspect(make_example("plain-png"))
    assert r.p_generated < 0.99
    noisy = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    r2 = telltales.inspect(PILImage.fromarray(noisy))
    assert r2.p_generated < 0.99


def test_at_base_rate_known_answers():
    from telltales.fusion import at_base_rate

    assert at_base_rate(0.9, 0.01) == pytest.approx(9 / 99 / (1 + 9 / 99))
    assert at_base_rate(0.99, 0.01) == pytest.approx(0.5)
    assert at_base_rate(0.5, 0.2) == pytest.approx(0.2)  # no evidence: the base rate itself
    assert at_base_rate(0.0, 0.3) == 0.0 and at_base_rate(1.0, 0.3) == 1.0
    for rate in (0.0, 1.0, -0.1, 2.0):
        with pytest.raises(ValueError, match="base rate"):
            at_base_rate(0.5, rate)
    with pytest.raises(ValueError, match="p_generated"):
        at_base_rate(1.5, 0.5)


@given(st.floats(0.001, 0.999), st.floats(0.001, 0.999), st.floats(0.001, 0.999))
def test_at_base_rate_is_bayes_rule(p, rate, other):
    """Equal odds is the identity; a higher rate never lowers p; going to a rate and back is p."""
    from telltales.fusion import at_base_rate

    assert at_base_rate(p, 0.5) == pytest.approx(p)
    lo, hi = sorted((rate, other))
    assert at_base_rate(p, lo) <= at_base_rate(p, hi) + 1e-12
    assert at_base_rate(at_base_rate(p, rate), 1 - rate) == pytest.approx(p, abs=1e-9)
