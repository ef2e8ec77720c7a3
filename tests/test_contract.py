"""One contract over every registered cue, and the taxonomy's coverage."""

from __future__ import annotations

import json

import pytest

from conftest import contract_images
from telltales.analysis import Analysis, known_inputs
from telltales.api import run_cue
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import all_cues
from telltales.taxonomy import BY_ID, ITEMS

CUES = all_cues()
IMAGES = contract_images()


def test_every_taxonomy_item_is_a_cue_or_a_manual_check():
    from telltales.api import manual_checks_for

    findings = []
    manual = manual_checks_for(CUES, findings, [])
    covered = {c.id for c in CUES} | {m.cue for m in manual}
    assert covered == {item.id for item in ITEMS}
    assert all(m.guidance for m in manual)


@pytest.mark.parametrize("c", CUES, ids=[c.id for c in CUES])
def test_cue_declares_known_inputs(c):
    assert c.id in BY_ID
    assert set(c.needs) <= known_inputs(), f"{c.id} needs unknown inputs"
    assert c.version and c.summary


@pytest.mark.parametrize("name", sorted(IMAGES))
@pytest.mark.parametrize("c", CUES, ids=[c.id for c in CUES])
def test_cue_contract(c, name):
    image = load_image(IMAGES[name])
    first, _ = run_cue(c, Analysis(image))
    assert first.status != Status.ERROR, first.reason
    assert isinstance(first.status, Status)
    assert first.reason
    if first.strength is not None:
        assert 0.0 <= first.strength <= 1.0
    if first.status == Status.NOT_APPLICABLE:
        assert first.strength is None
    for r in first.regions:
        x, y, w, h = r.box
        assert x >= 0 and y >= 0 and x + w <= image.width and y + h <= image.height
    d = first.to_dict()
    json.dumps(d, allow_nan=False)
    second, _ = run_cue(c, Analysis(image))
    assert second.to_dict() | {"seconds": 0} == d | {"seconds": 0}, "cue is not deterministic"
    if name in ("tiny-8x8", "grey-1px", "blank"):
        assert first.status in (Status.NOT_APPLICABLE, Status.CLEAR, Status.REAL), (
            f"{c.id} claims {first.status} on a {name} image"
        )
