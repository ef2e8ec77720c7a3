"""geometry.straight-lines on grids: straight, bent by a lens, and wobbled locally."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage

from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import get


def grid(k: float = 0.0, wobble: float = 0.0, w: int = 800, h: int = 600, period: int = 60) -> bytes:
    """Dark 5-px bars every ``period`` px, seen through a radial lens ``1 + k r^2`` and/or
    pushed around by a smooth random field of ``wobble`` px (what a generator's strokes do)."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    r = max(w, h) / 2
    u, v = (xs - w / 2) / r, (ys - h / 2) / r
    f = 1 + k * (u * u + v * v)
    sx, sy = w / 2 + u * f * r, h / 2 + v * f * r
    rng = np.random.default_rng(0)
    for arr in (sx, sy):
        if wobble:
            n = cv2.resize(rng.standard_normal((h // 20 + 2, w // 20 + 2)).astype(np.float32), (w, h),
                           interpolation=cv2.INTER_CUBIC)
            arr += wobble * n / n.std()
    img = np.full((h, w), 225.0, np.float32)
    for s in (sx, sy):
        dist = np.abs(((s + period / 2) % period) - period / 2)
        img = np.minimum(img, 40 + 185 * np.clip(dist - 2.0, 0, 1))
    buf = io.BytesIO()
    PILImage.fromarray(img.astype(np.uint8)).convert("RGB").save(buf, "PNG")
    return buf.getvalue()


def check(data: bytes):
    finding, _ = run_cue(get("geometry.straight-lines"), Analysis(load_image(data)))
    return finding


@pytest.mark.parametrize("k", [0.0, 0.08, -0.06], ids=["straight", "barrel", "pincushion"])
def test_straight_or_lens_bent_grid_is_clear(k):
    f = check(grid(k=k))
    assert f.status == Status.CLEAR, f.reason
    assert f.details["edges"] >= 10
    assert max(f.details["wobble_px"]) < 0.3
    if k:
        assert max(f.details["bend_px"]) > 1.0  # the lens bend was seen (wobble floor 0.3), and forgiven
        assert f.details["lens_k"] == pytest.approx(k, abs=0.01)  # one radial lens explains it
        assert f.details["lens_explains"] > 0.8


def test_lens_bend_survives_web_compression():
    pil = PILImage.open(io.BytesIO(grid(k=0.08)))
    buf = io.BytesIO()
    pil.save(buf, "JPEG", quality=80)
    assert check(buf.getvalue()).status == Status.CLEAR


@pytest.mark.parametrize("amount", [1.0, 1.5])
def test_locally_wobbling_grid_is_evidence(amount):
    f = check(grid(wobble=amount))
    assert f.status == Status.GENERATED, f.reason
    assert "wobble" in f.reason
    assert f.regions and all(r.label == "wavy edge" for r in f.regions)
    assert f.details["lens_explains"] < 0.2  # no single lens explains a wobble


def test_no_straight_edges_is_not_applicable():
    yy, xx = np.mgrid[0:480, 0:640]
    img = (128 + 90 * np.sin(np.hypot(xx - 320, yy - 240) / 9.0)).astype(np.uint8)  # rings only
    buf = io.BytesIO()
    PILImage.fromarray(img).convert("RGB").save(buf, "PNG")
    f = check(buf.getvalue())
    assert f.status == Status.NOT_APPLICABLE, f.reason
