"""Palette and bilevel images: their fine noise is quantisation, so noise cues step aside."""

from __future__ import annotations

import pytest

from conftest import encode
from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.example import picture
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import get

NOISE_CUES = ["noise.spectrum", "noise.residual", "noise.learned", "details.texture"]


@pytest.mark.parametrize(
    ("make", "applies"),
    [
        (lambda: encode(picture(512, 384).quantize(256)), False),  # PNG-8
        (lambda: encode(picture(512, 384), "GIF"), False),
        (lambda: encode(picture(512, 384).convert("1")), False),
        (lambda: encode(picture(512, 384)), True),
        (lambda: encode(picture(512, 384).convert("L")), True),
    ],
    ids=["png8", "gif", "bilevel", "rgb", "grey"],
)
def test_noise_unreliable_is_decided_by_mode(make, applies):
    image = load_image(make())
    assert (image.noise_unreliable is None) == applies


@pytest.mark.parametrize("cue_id", NOISE_CUES)
def test_noise_cues_do_not_judge_palette_images(cue_id):
    image = load_image(encode(picture(512, 384).quantize(256)))
    finding, _ = run_cue(get(cue_id), Analysis(image))
    assert finding.status == Status.NOT_APPLICABLE
    assert "palette" in finding.reason


def test_rgba_png_is_still_judged():
    image = load_image(encode(picture(256, 192).convert("RGBA")))
    assert image.noise_unreliable is None
    finding, _ = run_cue(get("noise.learned"), Analysis(image))
    assert "palette" not in finding.reason
