"""body.animals: cat faces are boxed for a person; the cue never claims evidence."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage

from telltales.analysis import Analysis
from telltales.api import manual_checks_for, run_cue
from telltales.cues.body import animals
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import get
from telltales.taxonomy import BY_ID

EVIDENCE = (Status.GENERATED, Status.REAL)


def png(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    PILImage.fromarray(img).convert("RGB").save(buf, "PNG")
    return buf.getvalue()


def drawn_cat(size: int = 320, seed: int = 1) -> np.ndarray:
    """A flat grey cartoon cat's face (ears, slit-pupil eyes, light muzzle, dark nose) that the cascade finds."""
    img = np.full((size, size), 111, np.uint8)
    cx, cy, r = size // 2, int(size * 0.55), int(size * 0.65 / 2)
    for sgn in (-1, 1):
        ear = [[cx + sgn * int(r * 0.9), cy - int(r * 0.1)], [cx + sgn * int(r * 0.75), cy - int(r * 1.3 * 1.11)],
               [cx + sgn * int(r * 0.15), cy - int(r * 0.75)]]
        cv2.fillConvexPoly(img, np.array(ear), 131)
    cv2.ellipse(img, (cx, cy), (r, int(r * 0.85)), 0, 0, 360, 131, -1)
    e = 0.237 * r
    for sgn in (-1, 1):
        ex, ey = cx + sgn * int(r * 0.437), cy - int(r * 0.338)
        cv2.ellipse(img, (ex, ey), (int(e * 1.5), int(e * 1.3)), 0, 0, 360, 136, -1)
        cv2.ellipse(img, (ex, ey), (int(e), int(e * 0.85)), 0, 0, 360, 90, -1)
        cv2.ellipse(img, (ex, ey), (max(1, int(e * 0.146)), int(e * 0.8)), 0, 0, 360, 15, -1)
    cv2.ellipse(img, (cx, cy + int(r * 0.35)), (int(r * 0.35), int(r * 0.25)), 0, 0, 360, 143, -1)
    cv2.fillConvexPoly(img, np.array([[cx - r // 8, cy + r // 8], [cx + r // 8, cy + r // 8], [cx, cy + r // 4]]), 40)
    noise = np.random.default_rng(seed).normal(0, 5, img.shape)
    img = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    return cv2.GaussianBlur(img, (0, 0), 1.2)


def run(data: bytes):
    return run_cue(get("body.animals"), Analysis(load_image(data)))


def in_image(box, width, height):
    x, y, w, h = box
    return x >= 0 and y >= 0 and w > 0 and h > 0 and x + w <= width and y + h <= height


def test_a_drawn_cat_face_is_boxed_for_a_person():
    f, manual = run(png(drawn_cat()))
    assert f.status == Status.CLEAR and f.strength is None
    assert "cat" in f.reason and "not judged automatically" in f.reason
    assert len(manual) == 1 and manual[0].cue == "body.animals"
    assert manual[0].guidance == BY_ID["body.animals"].guidance
    assert len(manual[0].regions) == 1 and manual[0].regions[0].label == "cat face"
    x, y, w, h = manual[0].regions[0].box
    assert in_image((x, y, w, h), 320, 320)
    assert x < 160 < x + w and y < 176 < y + h  # around the face's centre
    assert f.details["cat_faces"] == 1 and f.details["boxes"] == [[x, y, w, h]]


def test_boxes_are_in_original_pixels_when_the_image_is_downscaled():
    # 2400x1800: working size 1536, searched at 576. The face (drawn at 288 px, enlarged 1200x1200)
    # lies at x 1000..2200, y 600..1800, its centre near (1600, 1260).
    canvas = np.full((1800, 2400), 111, np.uint8)
    canvas[600:1800, 1000:2200] = cv2.resize(drawn_cat(288, seed=1), (1200, 1200), interpolation=cv2.INTER_LINEAR)
    f, manual = run(png(canvas))
    assert f.status == Status.CLEAR
    (region,) = manual[0].regions
    x, y, w, h = region.box
    assert in_image(region.box, 2400, 1800)
    assert x >= 1000 and y >= 600 and x + w <= 2200 and y + h <= 1800 and w >= 400
    assert x < 1600 < x + w and y < 1260 < y + h


@pytest.mark.parametrize("name,img", [
    ("blank", np.full((300, 400), 255, np.uint8)),
    ("noise", np.random.default_rng(0).integers(0, 256, (300, 400), dtype=np.uint8)),
    ("gradient", np.tile(np.linspace(0, 255, 400, dtype=np.uint8), (300, 1))),
])
def test_nothing_found_is_not_applicable_and_left_to_a_person(name, img):
    f, manual = run(png(img))
    assert f.status == Status.NOT_APPLICABLE, name
    assert f.reason == "no animal found (only cat faces are detected automatically)"
    assert manual == ()
    checks = manual_checks_for([get("body.animals")], [f], list(manual))
    assert [m.cue for m in checks if m.cue == "body.animals"] == ["body.animals"]


def test_too_small_says_its_size():
    f, _ = run(png(np.full((40, 50), 128, np.uint8)))
    assert f.status == Status.NOT_APPLICABLE and "50x40" in f.reason


def test_a_candidate_with_a_human_face_is_dropped(monkeypatch):
    monkeypatch.setattr(animals, "_human_face_inside", lambda img, box: True)
    f, manual = run(png(drawn_cat()))
    assert f.status == Status.NOT_APPLICABLE and manual == ()
    assert f.details["human_faces_skipped"] == 1


def test_result_building_with_a_known_box(monkeypatch):
    # 3000x2000 image: working size 1536 (scale 0.512); a box in working px maps back to original px
    monkeypatch.setattr(animals, "cat_faces", lambda gray: ([(512.0, 256.0, 102.4, 51.2)], 0))
    f, manual = run(png(np.zeros((2000, 3000), np.uint8)))
    assert f.status == Status.CLEAR
    assert manual[0].regions[0].box == (1000, 500, 200, 100)
    monkeypatch.setattr(animals, "cat_faces", lambda gray: ([(0.0, 0.0, 10.0, 10.0), (1500.0, 1000.0, 90.0, 90.0)], 0))
    f, manual = run(png(np.zeros((2000, 3000), np.uint8)))
    assert f.reason.startswith("2 cat faces were found")
    assert all(in_image(r.box, 3000, 2000) for r in manual[0].regions)  # clipped to the picture


def test_the_cascade_failing_to_load_is_not_applicable(monkeypatch):
    monkeypatch.setattr(animals, "_cascade", lambda name: None)
    f, _ = run(png(drawn_cat()))
    assert f.status == Status.NOT_APPLICABLE and "could not be loaded" in f.reason


@pytest.mark.parametrize("size,seed", [(200, 1), (320, 1), (480, 4), (320, 5)])
def test_never_evidence(size, seed):
    for img in (drawn_cat(size, seed), 255 - drawn_cat(size, seed)):
        f, _ = run(png(img))
        assert f.status not in EVIDENCE and f.strength is None
