"""The evaluation conditions really do what they say, and degraded inputs are recognised."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image as PILImage
from PIL import ImageCms, PngImagePlugin

from conftest import encode
from telltales.degradation import degradation_notes, jpeg_quality
from telltales.errors import TelltalesError
from telltales.evaluate import conditions as conds
from telltales.example import make_example, picture
from telltales.formats import jpeg, png
from telltales.image import load_image


def _raster(data: bytes) -> np.ndarray:
    """The stored pixels, without applying EXIF orientation."""
    return np.asarray(PILImage.open(io.BytesIO(data)))


def _camera_jpeg_with_comment() -> bytes:
    data = make_example("camera-jpeg")
    segs = jpeg.segments(data)
    com = b"\xff\xfe" + (2 + 11).to_bytes(2, "big") + b"hello there"
    cut = segs[1].offset
    return data[:cut] + com + data[cut:]


def test_stripped_jpeg_has_no_metadata_and_the_same_entropy_data():
    data = _camera_jpeg_with_comment()
    assert conds.has_metadata(data)
    out = conds.apply("stripped", data)
    assert not conds.has_metadata(out)
    assert load_image(out).metadata.empty
    assert np.array_equal(_raster(out), _raster(data))
    sos = jpeg.segments(data)[-1].offset
    assert out.endswith(data[sos:])  # not re-encoded: scan data byte for byte
    assert jpeg.quantisation_tables(out) == jpeg.quantisation_tables(data)


def test_stripped_png_drops_text_and_icc_keeps_pixels():
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "Steps: 20, Sampler: Euler")
    info.add_itxt("Description", "made by a generator")
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = PILImage.Exif()
    exif[0x0131] = "Generator 1.0"
    data = encode(picture(200, 150), "PNG", pnginfo=info, icc_profile=icc, exif=exif)
    assert png.text_chunks(data)
    assert {"iCCP", "eXIf"} <= {c.type for c in png.chunks(data)}
    out = conds.apply("stripped", data)
    assert png.is_png(out)
    assert not conds.has_metadata(out)
    assert png.text_chunks(out) == {}
    assert {c.type for c in png.chunks(out)} <= {"IHDR", "IDAT", "IEND", "PLTE", "tRNS"}
    assert np.array_equal(_raster(out), _raster(data))


def test_stripped_palette_png_keeps_palette_and_transparency():
    pil = picture(64, 48).quantize(16)
    pil.info["transparency"] = 0
    data = encode(pil, "PNG", transparency=0)
    out = conds.apply("stripped", data)
    a, b = PILImage.open(io.BytesIO(data)), PILImage.open(io.BytesIO(out))
    assert b.mode == "P" and np.array_equal(np.asarray(a.convert("RGBA")), np.asarray(b.convert("RGBA")))


def test_stripped_webp_is_lossless_and_clean():
    pil = picture(120, 90)
    exif = PILImage.Exif()
    exif[0x010F] = "Canon"
    data = encode(pil, "WEBP", lossless=True, exif=exif.tobytes())
    assert PILImage.open(io.BytesIO(data)).info.get("exif")
    out = conds.apply("stripped", data)
    img = PILImage.open(io.BytesIO(out))
    assert img.format == "WEBP" and not img.info.get("exif")
    assert np.array_equal(np.asarray(img.convert("RGB")), np.asarray(pil))


@pytest.mark.parametrize(("condition", "side", "quality"), [("web", 1024, 80), ("thumbnail", 512, 60)])
def test_web_and_thumbnail_are_small_jpegs_without_metadata(condition, side, quality):
    data = encode(picture(2000, 1200), "PNG")
    out = conds.apply(condition, data)
    img = PILImage.open(io.BytesIO(out))
    assert img.format == "JPEG"
    assert max(img.size) == side and img.size == (side, round(1200 * side / 2000))
    assert not conds.has_metadata(out)
    assert jpeg_quality(out) == quality  # read back from the quantisation tables


def test_web_keeps_small_images_at_their_size_and_strips_camera_jpegs():
    data = make_example("camera-jpeg", width=300, height=200)
    out = conds.apply("web", data)
    img = PILImage.open(io.BytesIO(out))
    assert img.size == (300, 200) and img.format == "JPEG"
    assert not conds.has_metadata(out)
    assert load_image(out).metadata.empty


def test_asis_is_identity():
    data = make_example("sd-png")
    assert conds.apply("asis", data) is data


def test_condition_names_are_checked():
    assert conds.parse("asis, web") == ("asis", "web")
    assert conds.parse("all") == conds.CONDITIONS
    assert conds.parse(None) == ("asis",)
    with pytest.raises(TelltalesError, match="unknown condition"):
        conds.parse("asis,blurry")
    with pytest.raises(TelltalesError):
        conds.apply("blurry", b"")


@pytest.mark.parametrize("condition", ["stripped", "web", "thumbnail"])
def test_unreadable_input_is_a_condition_error(condition):
    with pytest.raises(conds.ConditionError):
        conds.apply(condition, b"\xff\xd8\xff\xe1\x00")  # a JPEG that stops inside its first segment


@pytest.mark.parametrize("quality", [30, 50, 75, 95])
def test_jpeg_quality_is_read_from_the_tables(quality):
    assert jpeg_quality(encode(picture(64, 64), "JPEG", quality=quality)) == quality
    assert jpeg_quality(encode(picture(64, 64), "PNG")) is None


def test_degradation_notes():
    tiny = load_image(encode(picture(200, 150), "PNG"))
    assert any("tiny" in n for n in degradation_notes(tiny))
    rough = load_image(encode(picture(640, 480), "JPEG", quality=20))
    assert any("quality about 20" in n for n in degradation_notes(rough))
    flat = np.full((600, 800, 3), 240, np.uint8)
    flat[100:140, 50:700] = 20  # a toolbar on a blank page
    shot = load_image(encode(PILImage.fromarray(flat), "PNG"))
    assert any("screenshot-like" in n for n in degradation_notes(shot))
    fine = load_image(encode(picture(640, 480), "JPEG", quality=90))
    assert degradation_notes(fine) == []
