"""provenance.visible-mark: the DALL-E 2 colour strip, drawn here on pictures made in code."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from telltales.analyses.pixels import luma
from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.cues.provenance.visible_mark import (
    STRIP_COLOURS,
    find_sparkle,
    find_strip,
    is_sparkle,
    is_strip,
    label_in,
    read_strip,
    square_sizes,
)
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import get

CUE = "provenance.visible-mark"


def scene(w: int = 1024, h: int = 1024, seed: int = 0) -> np.ndarray:
    """A smooth, photo-like picture: low-frequency colour fields plus fine noise."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(30, 220, (6, 6, 3), dtype=np.uint8)
    base = np.asarray(PILImage.fromarray(coarse).resize((w, h), PILImage.Resampling.BICUBIC), np.float32)
    return np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)


def with_strip(px: np.ndarray, square: int = 16, x: int | None = None, y: int | None = None,
               order: tuple[int, ...] = (0, 1, 2, 3, 4)) -> np.ndarray:
    out = px.copy()
    h, w = out.shape[:2]
    x = w - 5 * square if x is None else x
    y = h - square if y is None else y
    for i, k in enumerate(order):
        out[y : y + square, x + i * square : x + (i + 1) * square] = STRIP_COLOURS[k][1]
    return out


def encode(px: np.ndarray, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    PILImage.fromarray(px).save(buf, fmt, **kw)
    return buf.getvalue()


def run(data: bytes):
    finding, _ = run_cue(get(CUE), Analysis(load_image(data)))
    return finding


def test_strip_at_native_size_is_found_with_its_box():
    f = run(encode(with_strip(scene())))
    assert f.status == Status.GENERATED
    assert 0.5 <= f.strength < 1.0 and not f.decisive  # strong evidence, never proof
    assert [r.box for r in f.regions] == [(944, 1008, 80, 16)]
    assert "paste" in f.reason
    assert f.details["tool"] == "OpenAI DALL-E 2"


def test_no_strip_is_clear_and_says_absence_proves_nothing():
    f = run(encode(scene()))
    assert f.status == Status.CLEAR
    assert "proves nothing" in f.reason
    assert min(f.details["closest_strip"]["colour_distances"]) > 60


def test_cropped_away_strip_is_not_found():
    px = with_strip(scene())[:, :-60]  # the right 60 px (most of the strip) cut off
    assert run(encode(px)).status == Status.CLEAR


def test_strip_cropped_a_few_pixels_in_from_the_corner_is_found():
    px = with_strip(scene(1040, 1030), x=1040 - 80 - 6, y=1030 - 16 - 5)
    f = run(encode(px))
    assert f.status == Status.GENERATED
    x, y, w, h = f.regions[0].box
    assert abs(x - (1040 - 86)) <= 4 and abs(y - (1030 - 21)) <= 4 and (w, h) == (80, 16)


@pytest.mark.parametrize("quality", [95, 75, 50])
def test_strip_survives_jpeg(quality):
    f = run(encode(with_strip(scene()), "JPEG", quality=quality))
    assert f.status == Status.GENERATED, f.details


@pytest.mark.parametrize("side", [512, 700, 1536])
def test_strip_scales_with_the_picture(side):
    big = PILImage.fromarray(with_strip(scene()))
    px = np.asarray(big.resize((side, side), PILImage.Resampling.LANCZOS))
    f = run(encode(px, "JPEG", quality=85))
    assert f.status == Status.GENERATED, f.details
    assert abs(f.regions[0].box[2] - 80 * side / 1024) <= 2


def test_strip_pasted_on_a_wide_picture_is_found():
    f = run(encode(with_strip(scene(1600, 900))))
    assert f.status == Status.GENERATED
    assert f.regions[0].box == (1600 - 80, 900 - 16, 80, 16)


def test_same_colours_in_another_order_are_not_the_strip():
    assert run(encode(with_strip(scene(), order=(4, 3, 2, 1, 0)))).status == Status.CLEAR


def test_strip_away_from_the_corner_is_not_read():
    assert run(encode(with_strip(scene(), x=400, y=500))).status == Status.CLEAR


def test_textured_corner_with_the_right_average_colour_is_not_the_strip():
    px = with_strip(scene())
    rng = np.random.default_rng(5)
    corner = px[1008:, 944:].astype(np.int16) + rng.integers(-90, 90, (16, 80, 3))
    px[1008:, 944:] = np.clip(corner, 0, 255).astype(np.uint8)
    m = find_strip(px)
    assert m is not None and not is_strip(m)


def exhaustive_find_strip(rgb: np.ndarray):
    """find_strip as first written: every placement read square by square."""
    h, w = rgb.shape[:2]
    best = None
    for q in square_sizes(w, h):
        step = max(1.0, q / 8)
        shifts = [k * step for k in range(int(q / step) + 1)]
        for dx in shifts:
            for dy in shifts:
                x, y = w - 5 * q - dx, h - q - dy
                if x < 0 or y < 0:
                    continue
                m = read_strip(rgb, x, y, q)
                if best is None or (is_strip(m), -m.fit) > (is_strip(best), -best.fit):
                    best = m
    return best


@pytest.mark.parametrize("case", ["strip", "scaled strip", "noisy strip", "no strip", "near colours"])
def test_the_pruned_search_finds_what_reading_every_placement_finds(case):
    rng = np.random.default_rng(len(case))
    if case == "strip":
        px = with_strip(scene())
    elif case == "scaled strip":
        px = np.asarray(PILImage.fromarray(with_strip(scene())).resize((700, 700)))
    elif case == "noisy strip":
        px = np.clip(with_strip(scene()).astype(np.int16) + rng.integers(-20, 20, (1024, 1024, 3)),
                     0, 255).astype(np.uint8)
    elif case == "no strip":
        px = scene(900, 600)
    else:  # the strip's colours, shuffled within the corner: every square is near some colour
        px = with_strip(scene(), order=(4, 3, 2, 1, 0))
    fast, slow = find_strip(px), exhaustive_find_strip(px)
    assert (fast.box, fast.square, is_strip(fast)) == (slow.box, slow.square, is_strip(slow))
    assert fast.fit == pytest.approx(slow.fit, rel=1e-4)


def test_too_small_a_picture_is_not_applicable():
    assert square_sizes(12, 12) == []
    assert run(encode(scene(12, 12))).status == Status.NOT_APPLICABLE


# --- AI labels read by the shared OCR -----------------------------------------------------------


def with_text(px: np.ndarray, text: str, xy: tuple[int, int], size: int = 26) -> np.ndarray:
    im = PILImage.fromarray(px)
    ImageDraw.Draw(im).text(xy, text, fill=(255, 255, 255), font=ImageFont.load_default(size=size),
                            stroke_width=1, stroke_fill=(0, 0, 0))
    return np.asarray(im)


@pytest.mark.parametrize("text, who", [
    ("豆包AI生成", "a Chinese AI service (mandatory AI label)"),
    ("内容由 AI 生成", "a Chinese AI service (mandatory AI label)"),
    ("Al生成", "a Chinese AI service (mandatory AI label)"),  # OCR reads I as l
    ("Imagined with Al", "Meta AI"),
    ("MADE WITH AI", "an unnamed AI generator"),
    ("Madewith Al", "an unnamed AI generator"),
    ("Generative AI by Getty Images", "Getty Images' generator"),
    ("Shutterstock AI-generated", "Shutterstock's generator"),
    ("人工智能合成", "a Chinese AI service (mandatory AI label)"),
    ("Getty Images", None),
    ("Maid with a dog", None),
    ("Handmade with airbrush", None),
    ("Shanghai generated power", None),
    ("generated", None),
])
def test_label_text(text, who):
    assert label_in(text) == who


def test_meta_label_in_the_bottom_left_corner_is_found():
    f = run(encode(with_text(scene(), "Imagined with AI", (20, 980)), "JPEG", quality=85))
    assert f.status == Status.GENERATED and f.details["tool"] == "Meta AI"
    x, y, w, h = f.regions[0].box
    assert x < 60 and y > 950 and 100 < w < 300 and h < 60
    assert "not proof" in f.reason


def test_label_in_the_middle_of_the_picture_is_not_a_mark():
    f = run(encode(with_text(scene(), "Generated by AI", (400, 500))))
    assert f.status == Status.CLEAR


def test_a_big_headline_in_a_corner_is_not_a_label():
    f = run(encode(with_text(scene(), "Made with AI", (10, 880), size=110)))
    assert f.status == Status.CLEAR


def test_strip_and_label_are_both_reported():
    px = with_text(with_strip(scene()), "Made with AI", (20, 980))
    f = run(encode(px))
    assert f.details["tool"] == "OpenAI DALL-E 2"
    assert {m["tool"] for m in f.details["marks"]} == {"OpenAI DALL-E 2", "an unnamed AI generator"}
    assert len(f.regions) == 2


def test_without_ocr_the_strip_is_still_read(monkeypatch):
    from telltales import analysis

    def no_ocr(a):
        raise ModuleNotFoundError("No module named 'rapidocr'", name="rapidocr")

    analysis.known_inputs()  # load the real providers first, then replace one
    monkeypatch.setitem(analysis._PROVIDERS, "ocr", no_ocr)
    f = run(encode(with_strip(scene())))
    assert f.status == Status.GENERATED and f.details["marks_checked"][0] == "DALL-E 2 colour strip"
    assert "pip install 'telltales[ocr]'" in f.details["marks_checked"][-1]  # says what was not read


# --- Gemini's sparkle -----------------------------------------------------------------------


def learnt_alpha() -> np.ndarray:
    from importlib import resources

    with resources.files("telltales.models").joinpath("gemini_sparkle.npz").open("rb") as fh:
        return np.load(fh)["alpha"].astype(np.float32)


def with_sparkle(px: np.ndarray, half: float, dist: float, opacity: float = 1.0,
                 dist_y: float | None = None) -> np.ndarray:
    """Blend white through the learnt alpha (resized by PIL, not by the cue's own resampling)
    into the window of half-side ``half`` centred ``dist * half`` from the right edge and
    ``dist_y * half`` (default: the same) from the bottom; the window may run past the edges."""
    h, w = px.shape[:2]
    side = int(round(2 * half))
    a = np.asarray(PILImage.fromarray(learnt_alpha()).resize((side, side), PILImage.Resampling.BILINEAR))
    a = np.clip(a, 0, 1)[..., None] * opacity
    x0 = int(round(w - dist * half - half))
    y0 = int(round(h - (dist if dist_y is None else dist_y) * half - half))
    a = a[:h - y0, :w - x0]  # the part of the window inside the picture
    out = px.astype(np.float32)
    region = out[y0:y0 + a.shape[0], x0:x0 + a.shape[1]]
    out[y0:y0 + a.shape[0], x0:x0 + a.shape[1]] = a * 255 + (1 - a) * region
    return np.clip(out, 0, 255).astype(np.uint8)


def grey(px: np.ndarray) -> np.ndarray:
    return luma(px)


@pytest.mark.parametrize(("side", "half_share", "dist", "dist_y"), [
    (1024, 0.05, 1.0, 1.0), (1200, 0.055, 1.1, 1.1), (800, 0.04, 1.4, 1.4),
    (900, 0.05, 0.7, 0.8),  # closer to the corner than its window's half-side: the window runs past the edges
    (1500, 0.02, 1.2, 0.9),  # small, and further from the right edge than from the bottom
])
def test_sparkle_is_found_where_it_was_drawn(side, half_share, dist, dist_y):
    half = half_share * side
    m = find_sparkle(grey(with_sparkle(scene(side, side, seed=1), half, dist, dist_y=dist_y)))
    assert is_sparkle(m), m
    x, y, bw, bh = m.box
    cx, cy = x + bw / 2, y + bh / 2
    assert abs(cx - (side - dist * half)) < 0.1 * half and abs(cy - (side - dist_y * half)) < 0.1 * half
    assert 0.8 < m.gain < 1.25  # drawn at the learnt opacity
    assert m.correlation - m.round_correlation > 0.02  # and with its four points


def test_no_sparkle_no_match():
    for seed in range(4):
        assert not is_sparkle(find_sparkle(grey(scene(900, 700, seed=seed))))


def test_a_faint_star_of_another_opacity_is_not_the_sparkle():
    m = find_sparkle(grey(with_sparkle(scene(1024, 1024, seed=2), 50, 1.0, opacity=0.3)))
    assert m.correlation > 0.7  # the shape fits ...
    assert not is_sparkle(m)  # ... but it brightens far less than Gemini's sparkle does


def test_a_brightened_copy_of_the_sparkle_is_still_the_sparkle():
    """Edited copies (contrast or exposure raised after download) brighten it up to about twice the
    learnt alpha; a few fit-part Gemini pictures do (gain 1.5-1.9), so the gain may reach 2."""
    m = find_sparkle(grey(with_sparkle(scene(1024, 1024, seed=2), 50, 1.0, opacity=1.7)))
    assert 1.5 < m.gain < 2.0
    assert is_sparkle(m)


def test_sparkle_survives_a_web_copy_and_the_cue_reports_it_with_its_box():
    px = with_sparkle(scene(1600, 1200, seed=3), 0.05 * (1600 * 1200) ** 0.5, 1.0)
    small = np.asarray(PILImage.fromarray(px).resize((800, 600), PILImage.Resampling.LANCZOS))
    f = run(encode(small, "JPEG", quality=80))
    assert f.status == Status.GENERATED and f.details["tool"] == "Google Gemini"
    assert 0.5 <= f.strength < 1.0 and not f.decisive and "paste" in f.reason
    (x, y, bw, bh), = [r.box for r in f.regions]
    assert x + bw <= 800 and y + bh <= 600 and x > 600 and y > 400


def test_sparkle_away_from_the_corner_is_not_read():
    px = with_sparkle(scene(1024, 1024, seed=4), 50, 6.0)  # well inside the picture
    assert not is_sparkle(find_sparkle(grey(px)))


@pytest.mark.parametrize("sigma", [2, 3, 4, 6, 8])
def test_a_round_highlight_where_the_sparkle_would_be_is_not_one(sigma):
    """A bright round spot of the right brightness correlates with the sparkle nearly as well
    as the sparkle does (0.7-0.8); it fits a round blob better, and that tells them apart."""
    px = scene(256, 256, seed=5).astype(np.float32)
    yy, xx = np.mgrid[0:256, 0:256]
    c = 256 - 3 * sigma - 4
    px += (80 * np.exp(-((xx - c) ** 2 + (yy - c) ** 2) / (2 * sigma**2)))[..., None]
    m = find_sparkle(grey(np.clip(px, 0, 255).astype(np.uint8)))
    assert m is None or not is_sparkle(m)


def test_sparkle_template_is_the_one_its_record_names(tmp_path):
    import hashlib
    import json
    from importlib import resources

    from telltales.cues.provenance.visible_mark import load_sparkle_alpha
    from telltales.errors import TelltalesError

    models = resources.files("telltales.models")
    record = json.loads(models.joinpath("gemini_sparkle.json").read_text(encoding="utf-8"))
    data = models.joinpath("gemini_sparkle.npz").read_bytes()
    assert hashlib.sha256(data).hexdigest() == record["npz_sha256"]
    assert all(src["source_repo"] and src["sha256"] for src in record["sources"])  # the record says what it was learnt from
    np.testing.assert_array_equal(load_sparkle_alpha(), learnt_alpha())

    (tmp_path / "gemini_sparkle.json").write_text(json.dumps(record))
    altered = learnt_alpha().copy()
    altered[0, 0] += 0.5
    np.savez(tmp_path / "gemini_sparkle.npz", alpha=altered)
    with pytest.raises(TelltalesError, match="sha256"):
        load_sparkle_alpha(tmp_path)


def test_sparkle_beside_an_object_is_still_found():
    """Only the sparkle and a ring around it are read: a dark object elsewhere in its window
    (a shoe, a sleeve) does not spoil the background fit."""
    side, half = 1000, 50.0
    px = scene(side, side, seed=6).copy()
    c = side - 1.3 * half
    px[int(c - half):int(c - 0.6 * half), int(c - half):int(c - 0.55 * half)] = 20  # in the window's corner
    m = find_sparkle(grey(with_sparkle(px, half, 1.3)))
    assert is_sparkle(m), m


@pytest.mark.parametrize("seed", range(4))
def test_sparkle_over_an_edge_running_under_it_is_still_found(seed):
    """An edge under the sparkle (a deck's rim, a horizon) is no plane: the background is
    inpainted from the pixels around the sparkle, which continues the edge across it."""
    side, half, dist = 1000, 40.0, 1.2
    px = scene(side, side, seed=seed).astype(np.float32)
    px[int(side - dist * half + 0.3 * half):] *= 0.6  # darker below a line just under the centre
    px = np.clip(px, 0, 255).astype(np.uint8)
    m = find_sparkle(grey(with_sparkle(px, half, dist)))
    assert is_sparkle(m), m
    assert not is_sparkle(find_sparkle(grey(px)))  # the edge alone is not a sparkle


def test_a_white_crosshair_overlay_is_not_the_sparkle():
    """A camera's crosshair (four thin white arms around a ring) has four points too."""
    px = np.full((640, 480, 3), (10, 10, 200), np.uint8)
    img = PILImage.fromarray(px)
    d = ImageDraw.Draw(img)
    cx, cy = 480 - 100, 640 - 30
    d.line([(cx - 16, cy), (cx + 16, cy)], fill="white", width=2)
    d.line([(cx, cy - 16), (cx, cy + 16)], fill="white", width=2)
    d.ellipse([cx - 8, cy - 8, cx + 8, cy + 8], outline="white", width=2, fill=(40, 120, 230))
    m = find_sparkle(grey(np.asarray(img)))
    assert m is None or not is_sparkle(m)


@given(st.integers(8, 700), st.integers(8, 700), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_sparkle_search_on_any_picture_returns_a_box_inside_it_or_nothing(w, h, seed):
    rng = np.random.default_rng(seed)
    gray = rng.uniform(0, 255, (h, w)).astype(np.float32)
    gray[rng.random((h, w)) < 0.5] = rng.uniform(0, 255)  # flat patches, where correlation divides by 0
    m = find_sparkle(gray)
    if m is not None:
        x, y, bw, bh = m.box
        assert x >= 0 and y >= 0 and x + bw <= w + 1 and y + bh <= h + 1
        assert all(np.isfinite(v) for v in (m.correlation, m.gain, m.round_correlation))
