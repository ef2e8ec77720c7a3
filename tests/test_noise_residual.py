"""noise.residual: NPR 2x2 structure, demosaicing trace and sensor noise, on images made in the test."""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image as PILImage

from telltales.analysis import Analysis
from telltales.cues.text_noise import residual as res
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import get

CUE = get("noise.residual")
RNG = np.random.default_rng(0)


def _scene(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(
        rng.normal(128, 40, (h, w, 3)).clip(0, 255).astype(np.uint8), (0, 0), 1.2
    )


def _png(px: np.ndarray) -> bytes:
    buf = io.BytesIO()
    PILImage.fromarray(px).save(buf, "PNG")
    return buf.getvalue()


def _run(px: np.ndarray):
    return CUE.func(Analysis(load_image(_png(px))))


def test_nearest_2x_upsampling_is_generated_evidence():
    up = np.asarray(
        PILImage.fromarray(_scene(256, 256)).resize((512, 512), PILImage.Resampling.NEAREST)
    )
    r = _run(up)
    assert r.details["npr_log_ratio"] > res.NPR_THRESHOLD
    assert r.status == Status.GENERATED
    assert "2x2" in r.reason
    assert "2x2 upsampling structure (NPR)" in r.details["carries"]


def test_npr_is_near_zero_at_native_resolution():
    r = _run(_scene(512, 512))
    assert abs(r.details["npr_log_ratio"]) < 0.05
    assert r.status == Status.CLEAR


def test_bayer_demosaicing_leaves_a_cfa_trace():
    rgb = _scene(512, 512, seed=3)
    bayer = np.zeros(rgb.shape[:2], np.uint8)  # RGGB mosaic
    bayer[0::2, 0::2] = rgb[0::2, 0::2, 0]
    bayer[0::2, 1::2] = rgb[0::2, 1::2, 1]
    bayer[1::2, 0::2] = rgb[1::2, 0::2, 1]
    bayer[1::2, 1::2] = rgb[1::2, 1::2, 2]
    demosaiced = cv2.cvtColor(bayer, cv2.COLOR_BayerRG2RGB)
    assert abs(res.cfa_ratio(demosaiced[..., 1])) > res.CFA_THRESHOLD
    assert abs(res.cfa_ratio(rgb[..., 1])) < 0.05
    r = _run(demosaiced)
    assert "demosaicing (CFA) trace" in r.details["carries"]


def test_shot_noise_grows_with_brightness():
    ramp = np.tile(np.linspace(30, 230, 512, dtype=np.float32), (512, 1))
    noisy = ramp + RNG.normal(0, 1, ramp.shape) * np.sqrt(ramp) * 0.4  # sigma ~ sqrt(signal)
    floor, slope = res.noise_vs_brightness(noisy.astype(np.float32))
    assert floor > 1.0 and slope > 0.3
    clean_floor, _ = res.noise_vs_brightness(ramp)
    assert clean_floor < 0.1


def test_too_small_is_not_applicable():
    assert _run(_scene(100, 100)).status == Status.NOT_APPLICABLE
