"""noise.learned: the packaged patch detector loads, is deterministic and handles any shape."""

from __future__ import annotations

import io
import json
from importlib import resources

import numpy as np
import pytest
from PIL import Image as PILImage

from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.cues.text_noise import learned as L
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import all_cues

CUE = next(c for c in all_cues() if c.id == "noise.learned")


def _png(px: np.ndarray) -> bytes:
    buf = io.BytesIO()
    PILImage.fromarray(px).save(buf, "PNG")
    return buf.getvalue()


def _jpeg(px: np.ndarray, q: int = 85) -> bytes:
    buf = io.BytesIO()
    PILImage.fromarray(px).save(buf, "JPEG", quality=q)
    return buf.getvalue()


def _scene(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A textured, photo-like scene: smooth shapes plus sensor-like noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 120 + 60 * np.sin(xx / 37.0) * np.cos(yy / 23.0)
    rgb = np.stack([base, base * 0.8 + 30, 200 - base * 0.5], axis=-1)
    rgb += rng.normal(0, 4.0, rgb.shape)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def _run(data: bytes):
    finding, _ = run_cue(CUE, Analysis(load_image(data)))
    return finding


def test_model_loads_and_matches_the_features():
    model = L.load_model()
    d = L.patch_features(_scene(64, 64)[None]).shape[1]
    assert model.mean.shape == (d,) and model.scale.shape == (d,)
    width = d if model.hidden_w is None else model.hidden_w.shape[1]
    if model.hidden_w is not None:
        assert model.hidden_w.shape == (d, width) and model.hidden_b.shape == (width,)
    assert model.coef.shape == (width,)
    assert np.isfinite(model.t_generated)
    record = json.loads((resources.files("telltales.models") / "noise_learned.json").read_text())
    assert record["seed"] == json.loads(json.dumps(record["seed"]))
    assert record["thresholds"]["generated"] == pytest.approx(model.t_generated)
    assert "metrics_out_of_fold" in record and "web" in record["metrics_out_of_fold"]


def test_weights_are_small():
    path = resources.files("telltales.models") / "noise_learned.npz"
    assert len(path.read_bytes()) < 20 * 1024 * 1024


def test_orbit_classes_fold_sign_and_direction():
    assert L._NCLASS == 39  # Burnside: (125 + 1 + 25 + 5) / 4
    n = 2 * L.T + 1

    def code(a: int, b: int, c: int) -> int:
        return (a + L.T) * n * n + (b + L.T) * n + (c + L.T)

    assert L._LUT[code(1, -2, 0)] == L._LUT[code(-1, 2, 0)] == L._LUT[code(0, -2, 1)]
    assert L._LUT[code(1, 0, 0)] != L._LUT[code(0, 1, 0)]


def test_triplet_histograms_are_distributions():
    g = _scene(64, 64).astype(np.float32) @ L._LUMA
    h = L._triplets(L._residuals(g[None])["d1"], 1.0)
    assert h.shape == (1, L._NCLASS)
    assert (h**2).sum() == pytest.approx(1.0)


@pytest.mark.parametrize("size", [(40, 40), (63, 500), (500, 30)])
def test_too_small_is_not_applicable(size):
    h, w = size
    f = _run(_png(_scene(h, w)))
    assert f.status == Status.NOT_APPLICABLE
    assert "too small" in f.reason


def test_flat_image_is_not_applicable():
    f = _run(_png(np.full((200, 300, 3), 128, np.uint8)))
    assert f.status == Status.NOT_APPLICABLE


@pytest.mark.parametrize("size", [(64, 64), (65, 700), (700, 65), (300, 200), (2000, 1500)])
def test_any_shape_gives_a_valid_result(size):
    h, w = size
    data = _jpeg(_scene(h, w, seed=h + w))
    f = _run(data)
    assert f.status in (Status.GENERATED, Status.CLEAR, Status.REAL)
    assert isinstance(f.details["score"], float)
    assert 1 <= f.details["patches"] <= L.MAX_PATCHES
    for r in f.regions:
        x, y, bw, bh = r.box
        assert x >= 0 and y >= 0 and x + bw <= w and y + bh <= h


def test_deterministic():
    data = _jpeg(_scene(480, 640, seed=3))
    a, b = _run(data), _run(data)
    assert a.to_dict() | {"seconds": 0} == b.to_dict() | {"seconds": 0}


def test_regions_point_at_the_top_patches_in_original_pixels():
    """Whatever the verdict, the patch scores are per patch and the image score is their mean."""
    rgb = _scene(256, 384, seed=5)
    model = L.load_model()
    score, logits, boxes = L.score_image(rgb, model)
    assert len(logits) == len(boxes) == (256 // 64) * (384 // 64)
    assert score == pytest.approx(float(logits.mean()))


def test_grid_is_capped_and_inside():
    boxes = L.grid_boxes(1536, 1024)
    assert len(boxes) == L.MAX_PATCHES
    assert all(0 <= y <= 1536 - L.PATCH and 0 <= x <= 1024 - L.PATCH for y, x in boxes)
    assert L.grid_boxes(63, 1000) == []


def _smooth_scene(h: int, w: int, seed: int, noise: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ph = rng.uniform(0, 6, 3)
    base = (120 + 50 * np.sin(xx / (17 + seed) + ph[0]) * np.cos(yy / (23 + seed) + ph[1])
            + 30 * np.sin((xx + yy) / 11 + ph[2]))
    rgb = np.stack([base, base * 0.8 + 30, 200 - base * 0.5], axis=-1) + rng.normal(0, noise, (h, w, 3))
    return np.clip(rgb, 0, 255).astype(np.uint8)


def _as_jpeg(px: np.ndarray) -> np.ndarray:
    return np.asarray(PILImage.open(io.BytesIO(_jpeg(px, 90))).convert("RGB"))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_camera_like_sensor_noise_scores_lower_than_noise_free_or_upsampled(seed):
    """What the model learned (measured, not imposed): grainy sensor noise reads as camera-like,
    while the same scene without noise, or upsampled 4x from a small render, reads as less so."""
    model = L.load_model()
    camera = _as_jpeg(_smooth_scene(512, 512, seed, 4.0))
    clean = _as_jpeg(_smooth_scene(512, 512, seed, 0.0))
    small = PILImage.fromarray(_smooth_scene(128, 128, seed, 4.0))
    upsampled = _as_jpeg(np.asarray(small.resize((512, 512), PILImage.Resampling.BICUBIC)))
    s_camera, s_clean, s_up = (L.score_image(x, model)[0] for x in (camera, clean, upsampled))
    assert s_camera + 0.5 < s_up
    assert s_camera + 0.5 < s_clean
