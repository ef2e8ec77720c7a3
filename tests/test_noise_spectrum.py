"""noise.spectrum: upsampled images made in the test must show their periodic peaks."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage

from telltales.analysis import Analysis
from telltales.cues.text_noise import spectrum
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import get

CUE = get("noise.spectrum")


def _scene(n: int, seed: int = 0) -> PILImage.Image:
    """Random texture with some spatial correlation: a stand-in for image content."""
    rng = np.random.default_rng(seed)
    return PILImage.fromarray(
        cv2.GaussianBlur(rng.normal(128, 40, (n, n, 3)).clip(0, 255).astype(np.uint8), (0, 0), 1.2)
    )


def _png(im: PILImage.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _run(data: bytes):
    return CUE.func(Analysis(load_image(data)))


@pytest.mark.parametrize("method", [PILImage.Resampling.NEAREST, PILImage.Resampling.BILINEAR])
def test_2x_upsampling_shows_peaks_at_half_the_sampling_rate(method):
    r = _run(_png(_scene(256).resize((512, 512), method)))
    top = r.details["lattice_peaks"][0]
    assert {abs(top["fx"]), abs(top["fy"])} == {0.0, 0.5}  # period 2, horizontal or vertical
    assert top["prominence_db"] > spectrum.LATTICE_DB
    assert r.status == Status.GENERATED
    assert "every 2 pixels" in r.reason
    assert r.regions[0].label == "strongest periodic pattern"


def test_image_at_its_own_resolution_has_no_peaks():
    r = _run(_png(_scene(512)))
    assert r.status == Status.CLEAR
    assert r.details["max_lattice_db"] < spectrum.LATTICE_DB
    assert r.details["max_off_lattice_db"] < spectrum.OFF_LATTICE_DB


def test_upsampling_by_one_and_a_half_puts_a_peak_at_one_third():
    r = _run(_png(_scene(342).resize((512, 512), PILImage.Resampling.BILINEAR)))
    peak = r.details["off_lattice_peaks"][0]
    assert abs(max(abs(peak["fx"]), abs(peak["fy"])) - 1 / 3) < 0.02
    assert peak["prominence_db"] > 6.0


def test_lattice_peaks_in_a_jpeg_are_not_counted():
    """The 8x8 JPEG grid makes peaks on the same k/8 lattice; they must not become evidence."""
    buf = io.BytesIO()
    _scene(512).save(buf, "JPEG", quality=60)
    r = _run(buf.getvalue())
    assert r.details["jpeg_file"] is True
    assert r.status == Status.CLEAR


def test_spectrum_picture_for_the_report():
    r = _run(_png(_scene(300)))
    pic = r.details["log_spectrum_32"]
    assert len(pic) == 32 and all(len(row) == 32 for row in pic)
    assert min(map(min, pic)) >= 0 and max(map(max, pic)) <= 255


def test_too_small_is_not_applicable():
    r = _run(_png(_scene(100)))
    assert r.status == Status.NOT_APPLICABLE


def test_a_pattern_in_one_part_only_is_not_evidence():
    """Upsampling is global; a periodic pattern in half the picture (a texture, banding) is not it."""
    left = np.asarray(_scene(512, seed=1))[:, :256]
    right = np.asarray(_scene(256, seed=2).resize((512, 512), PILImage.Resampling.NEAREST))[:, 256:]
    r = _run(_png(PILImage.fromarray(np.concatenate([left, right], axis=1))))
    assert r.details["max_lattice_db"] > spectrum.LATTICE_DB  # the peak is there...
    assert r.status == Status.CLEAR  # ...but only in part of the image
    assert "only part" in r.reason
    assert sum(v >= spectrum.TILE_DB for v in r.details["peak_db_per_tile"]) == 2
