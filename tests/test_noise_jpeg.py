"""noise.jpeg: known quantisation tables, block grids and double compression, made in the test."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage

from telltales.analysis import Analysis
from telltales.cues.text_noise import jpeg_history as jh
from telltales.findings import Status
from telltales.formats.jpeg import STANDARD_CHROMA, STANDARD_LUMA, ijg_table
from telltales.image import load_image
from telltales.registry import get

CUE = get("noise.jpeg")


def _scene(h: int = 480, w: int = 640, seed: int = 0) -> PILImage.Image:
    rng = np.random.default_rng(seed)
    x = cv2.GaussianBlur(rng.normal(128, 40, (h, w, 3)).clip(0, 255).astype(np.uint8), (0, 0), 1.0)
    return PILImage.fromarray(x)


def _save(im: PILImage.Image, fmt: str = "JPEG", **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _run(data: bytes):
    return CUE.func(Analysis(load_image(data)))


def test_ijg_table_at_quality_50_is_the_annex_k_table():
    # quality 50 is the unscaled standard table; first zig-zag entries of Annex K
    assert ijg_table(STANDARD_LUMA, 50)[:6] == [16, 11, 12, 14, 12, 10]
    assert ijg_table(STANDARD_CHROMA, 50)[:3] == [17, 18, 18]


@pytest.mark.parametrize("quality", [75, 90, 95])
def test_library_jpeg_is_recognised_with_its_quality_and_is_no_evidence(quality):
    r = _run(_save(_scene(), quality=quality))
    assert r.details["ijg_quality"] == quality
    assert r.status == Status.CLEAR
    assert f"quality {quality}" in r.reason
    assert r.details["grid_offset"] == [0, 0]


# a table no IJG quality produces, as a camera maker might tune it
CAMERA_LUMA = [2 + (i // 4) for i in range(64)]
CAMERA_CHROMA = [3 + (i // 3) for i in range(64)]


def _camera_exif() -> bytes:
    exif = PILImage.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS 5D"
    return exif.tobytes()


def test_camera_specific_table_with_a_named_camera_is_weak_real_evidence():
    luma = CAMERA_LUMA
    r = _run(_save(_scene(), qtables=[CAMERA_LUMA, CAMERA_CHROMA], exif=_camera_exif()))
    assert r.status == Status.REAL
    assert r.details["exif_camera"] == "Canon Canon EOS 5D"
    assert r.details["ijg_quality"] is None
    assert 0 < r.strength <= 0.3
    # Pillow takes tables in natural order; the file stores them in zig-zag order
    assert r.details["tables"]["0"] == [luma[jh.ZIGZAG[i]] for i in range(64)]


def test_non_standard_table_without_a_camera_is_no_evidence():
    """Editors and galleries write their own tables too (on the dev data, for generated images)."""
    r = _run(_save(_scene(), qtables=[CAMERA_LUMA, CAMERA_CHROMA]))
    assert r.status == Status.CLEAR
    assert r.details["ijg_quality"] is None and r.details["exif_camera"] is None


def test_png_has_no_jpeg_history_to_read():
    r = _run(_save(_scene(), "PNG"))
    assert r.status == Status.NOT_APPLICABLE
    assert r.details["earlier_jpeg"] is False


def test_png_made_from_a_cropped_jpeg_shows_the_shifted_grid():
    jpeg = PILImage.open(io.BytesIO(_save(_scene(), quality=60)))
    r = _run(_save(jpeg.crop((3, 5, 603, 445)), "PNG"))
    assert r.status == Status.NOT_APPLICABLE
    assert r.details["earlier_jpeg"] is True
    assert r.details["grid_offset"] == [
        3,
        5,
    ]  # (dy, dx): boundaries now at 8k - 5 rows, 8k - 3 cols


def test_jpeg_cropped_after_compression_is_reported():
    first = PILImage.open(io.BytesIO(_save(_scene(), quality=60)))
    r = _run(_save(first.crop((4, 0, 604, 480)), quality=95))
    assert r.details["cropped_after_compression"] is True
    assert "cropped" in r.reason


@pytest.mark.parametrize(("q1", "q2"), [(50, 90), (60, 85)])
def test_double_compression_leaves_a_comb(q1, q2):
    once = _save(_scene(), quality=q2)
    twice = _save(PILImage.open(io.BytesIO(_save(_scene(), quality=q1))), quality=q2)
    single, double = _run(once), _run(twice)
    assert single.details["double_quantisation"] < jh.DQ_THRESHOLD
    assert double.details["double_quantisation"] > jh.DQ_THRESHOLD
    assert "second compression" in double.reason


def test_exif_rotation_does_not_look_like_a_crop():
    """The loader rotates by the EXIF orientation; the block grid must be read in stored order."""
    exif = PILImage.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = _save(_scene(470, 630), quality=70, exif=exif.tobytes())  # sizes not multiples of 8
    assert load_image(data).size == (470, 630)  # displayed rotated
    r = _run(data)
    assert r.details["grid_offset"] == [0, 0]
    assert r.details["cropped_after_compression"] is False


@pytest.mark.parametrize("orientation", range(1, 9))
def test_as_stored_inverts_every_exif_orientation(orientation):
    from PIL import ImageOps

    stored = np.arange(6 * 4 * 3, dtype=np.uint8).reshape(6, 4, 3)
    im = PILImage.fromarray(stored)
    exif = im.getexif()
    exif[0x0112] = orientation
    im.info["exif"] = exif.tobytes()
    shown = np.asarray(
        ImageOps.exif_transpose(PILImage.open(io.BytesIO(_save(im, "PNG", exif=exif.tobytes()))))
    )
    assert np.array_equal(jh.as_stored(shown, orientation), stored)
