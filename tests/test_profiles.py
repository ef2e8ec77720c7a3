"""The triage profile: cheap cues first, the full inspection only where triage is not clear-cut."""

from __future__ import annotations

import pytest

import telltales
from telltales import api
from telltales.example import make_example
from telltales.fusion import Fusion
from telltales.registry import all_cues

# only generator metadata counts: a file carrying it is clear-cut, anything else is unsure
METADATA_ONLY = Fusion.from_dict({
    "name": "metadata-only", "default_weight": 0.0,
    "weights": {"provenance.generator-metadata": {"w": 10.0, "w_applicable": 0.0}},
})


def test_generator_metadata_is_cleared_by_triage_alone():
    r = telltales.inspect(make_example("sd-png"), fusion=METADATA_ONLY, profile="triage")
    assert r.verdict == "generated"
    assert r.profile == "triage"
    ran = {f.cue for f in r.findings}
    assert ran and all(api.in_triage(c) for c in ran)
    assert "noise.clip" in ran and "body.hands" not in ran
    assert r.to_dict()["profile"] == "triage"


def test_an_image_triage_leaves_unsure_gets_the_full_inspection():
    r = telltales.inspect(make_example("plain-png"), fusion=METADATA_ONLY, profile="triage")
    assert r.verdict == "unsure"
    assert r.profile == "full"
    assert {f.cue for f in r.findings} == {c.id for c in all_cues()}


def test_escalation_reruns_the_view_dependent_detector_with_every_view():
    src = make_example("plain-png", width=1024, height=768)
    clip = telltales.inspect(src, fusion=METADATA_ONLY, profile="triage").finding("noise.clip")
    if clip is None or clip.status.value in ("not-applicable", "error"):
        pytest.skip(f"noise.clip cannot run here: {clip and clip.reason}")
    full = telltales.inspect(src, fusion=METADATA_ONLY, profile="full").finding("noise.clip")
    assert len(clip.details["views"]) == len(full.details["views"]) > 1
    one = telltales.inspect(src, fusion=METADATA_ONLY, cues=["noise.clip"], profile="triage")
    assert len(one.finding("noise.clip").details["views"]) == 1


def test_triage_with_the_triage_cues_only_never_escalates():
    r = telltales.inspect(make_example("plain-png"), fusion=METADATA_ONLY, cues=["provenance"], profile="triage")
    assert r.profile == "triage" and r.verdict == "unsure"


def test_an_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="profile"):
        telltales.inspect(make_example("plain-png"), profile="fast")


def test_triage_reads_the_mark_strip_without_ocr_and_escalation_reads_the_labels_too():
    src = make_example("plain-png")
    quick = telltales.inspect(src, fusion=METADATA_ONLY, cues=["provenance"], profile="triage")
    assert quick.finding("provenance.visible-mark").details["marks_checked"] == [
        "DALL-E 2 colour strip", "Gemini sparkle"]
    full = telltales.inspect(src, fusion=METADATA_ONLY, profile="triage")
    assert full.profile == "full"
    assert full.finding("provenance.visible-mark").details["marks_checked"] == \
        telltales.inspect(src, fusion=METADATA_ONLY, cues=["provenance.visible-mark"]).finding(
            "provenance.visible-mark").details["marks_checked"]
