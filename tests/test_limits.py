"""What a small or strange input can cost: bounded text, one pixel budget, regular files only."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import threading
import time
import zlib

import numpy as np
import pytest
from PIL import Image as PILImage

from conftest import encode
from telltales.errors import ImageError
from telltales.example import picture
from telltales.formats import png
from telltales.image import draft_scale, load_image
from telltales.limits import DEFAULT_MAX_PIXELS


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def _png_with(*extra: bytes) -> bytes:
    data = encode(picture(16, 16))
    i = data.index(b"IDAT") - 4
    return data[:i] + b"".join(extra) + data[i:]


def _png_header(w: int, h: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return png.SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"")) + _chunk(b"IEND", b"")


def _itxt(key: bytes, method: int, payload: bytes) -> bytes:
    return _chunk(b"iTXt", key + b"\0\x01" + bytes([method]) + b"\0\0" + payload)


# text ---------------------------------------------------------------------------------


def test_itxt_with_an_unknown_method_is_not_inflated():
    bomb = zlib.compress(b"a" * (8 << 20), 9)
    t0 = time.perf_counter()
    texts = png.read_texts(_png_with(_itxt(b"parameters", 7, bomb)))
    assert "parameters" not in texts.texts
    assert any("unknown compression method" in n for n in texts.notes)
    assert time.perf_counter() - t0 < 1.0


def test_ztxt_inflation_is_capped_per_chunk():
    big = zlib.compress(b"b" * (png.MAX_CHUNK_TEXT + 10), 9)
    data = _png_with(_chunk(b"zTXt", b"big\0\0" + big), _chunk(b"tEXt", b"small\0ok"))
    texts = png.read_texts(data)
    assert texts.texts == {"small": "ok"}
    assert any("zTXt chunk inflates to over" in n for n in texts.notes)


def test_total_text_kept_per_file_is_bounded():
    body = b"c" * (1 << 20)
    data = _png_with(*(_chunk(b"tEXt", b"k%d\0" % i + body) for i in range(8)))
    texts = png.read_texts(data)
    assert sum(len(v) for v in texts.texts.values()) <= png.MAX_TOTAL_TEXT
    assert any("the rest was not read" in n for n in texts.notes)


def test_inflate_stops_at_the_limit():
    with pytest.raises(png.TextTooLong):
        png.inflate(zlib.compress(b"x" * 1000), 999)
    assert png.inflate(zlib.compress(b"x" * 1000), 1000) == b"x" * 1000


def test_text_notes_reach_the_image_warnings():
    img = load_image(_png_with(_itxt(b"parameters", 3, zlib.compress(b"Steps: 20"))))
    assert "parameters" not in img.metadata.text
    assert any("unknown compression method" in w for w in img.warnings)


# the pixel budget ---------------------------------------------------------------------


def test_pillow_limit_follows_the_budget():
    # 10000 x 9000 = 90 MP is over Pillow's own default limit (89.5 MP): a raised budget must
    # let it through to the decoder (which then finds no pixel data) instead of refusing it
    with pytest.raises(ImageError) as exc:
        load_image(_png_header(10_000, 9_000), max_pixels=100_000_000)
    assert "budget" not in str(exc.value) and "too many" not in str(exc.value)
    assert PILImage.MAX_IMAGE_PIXELS == 100_000_000


def test_default_budget_refuses_a_large_png_before_decoding():
    assert DEFAULT_MAX_PIXELS < 9000 * 9000
    t0 = time.perf_counter()
    with pytest.raises(ImageError, match=f"over the pixel budget of {DEFAULT_MAX_PIXELS / 1e6:g} megapixels"):
        load_image(_png_header(9000, 9000))
    assert time.perf_counter() - t0 < 1.0


def test_a_jpeg_over_the_budget_is_decoded_reduced():
    data = encode(picture(400, 300), "JPEG", quality=90)
    img = load_image(data, max_pixels=40_000)
    assert img.reduced and img.size == (200, 150) and img.pixels.shape == (150, 200, 3)
    assert any("decoded at 200x150 (1/2 scale)" in w for w in img.warnings)
    full = load_image(data)
    assert not full.reduced and full.size == (400, 300)


def test_a_tiny_9000_square_jpeg_is_decoded_within_the_budget():
    data = encode(PILImage.new("RGB", (9000, 9000), (128, 120, 110)), "JPEG", quality=50, progressive=True)
    cut = data[: data.index(b"\xff\xda") + 50] + b"\xff\xd9"  # a few hundred bytes
    img = load_image(cut)
    assert img.reduced and img.width * img.height <= DEFAULT_MAX_PIXELS


def test_a_jpeg_too_big_even_at_one_eighth_is_refused():
    data = encode(picture(400, 300), "JPEG")
    with pytest.raises(ImageError, match="over the pixel budget"):
        load_image(data, max_pixels=1000)


def test_draft_scale():
    assert draft_scale((100, 100), 10_000) == 1
    assert draft_scale((101, 100), 10_000) == 2
    assert draft_scale((800, 800), 10_000) == 8
    assert draft_scale((801, 801), 10_000) is None


def test_native_cues_are_not_applicable_on_a_reduced_image():
    import telltales

    data = encode(picture(400, 300), "JPEG", quality=90)
    r = telltales.inspect(data, cues=["noise.jpeg"], max_pixels=40_000)
    f = r.finding("noise.jpeg")
    assert f.status.value == "not-applicable" and "native resolution" in f.reason


# regular files only -------------------------------------------------------------------


def _finishes(func, timeout: float = 5.0):
    box: dict = {}

    def run():
        try:
            box["value"] = func()
        except Exception as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), "did not finish"
    return box


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    box = _finishes(lambda: load_image(fifo))
    assert isinstance(box.get("error"), ImageError)
    assert "named pipe" in str(box["error"]) and "not a regular file" in str(box["error"])


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_dev_zero_is_refused_without_reading_it():
    code = (
        "import resource; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from telltales.image import load_image\n"
        "load_image('/dev/zero')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "character device, not a regular file" in proc.stderr


def test_a_file_is_read_to_the_byte_limit_plus_one(tmp_path):
    p = tmp_path / "a.png"
    p.write_bytes(encode(picture(16, 16)))
    with pytest.raises(ImageError, match="over the limit of 100"):
        load_image(p, max_bytes=100)
    assert load_image(p).size == (16, 16)


# file objects -------------------------------------------------------------------------


def test_text_mode_file_object_is_an_image_error(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("hello")
    with open(p, encoding="utf-8") as fh, pytest.raises(ImageError, match="text mode"):
        load_image(fh)
    with pytest.raises(ImageError, match="text mode"):
        load_image(io.StringIO("hello"))


def test_closed_file_object_is_an_image_error():
    buf = io.BytesIO(encode(picture(8, 8)))
    buf.close()
    with pytest.raises(ImageError, match="closed"):
        load_image(buf)


def test_text_mode_file_object_gives_an_error_report():
    import telltales

    r = telltales.inspect(io.StringIO("x"), cues=["provenance"], on_error="report")
    assert r.verdict == "error" and "text mode" in r.error


# conversions ---------------------------------------------------------------------------


def _jpeg_with_orientation(value: int) -> bytes:
    exif = PILImage.Exif()
    exif[0x0112] = value
    return encode(picture(40, 20), "JPEG", exif=exif.tobytes())


def test_orientation_note_says_what_was_applied():
    img = load_image(_jpeg_with_orientation(6))
    assert img.size == (20, 40)
    assert "EXIF orientation 6 applied: rotated 90 degrees clockwise" in img.warnings


@pytest.mark.parametrize("value", [9, 65535, 0])
def test_invalid_orientation_is_ignored_and_said(value):
    img = load_image(_jpeg_with_orientation(value))
    assert img.size == (40, 20)
    assert f"EXIF orientation {value} is not a valid value (1-8): ignored" in img.warnings
    assert not any("applied" in w for w in img.warnings)


def test_32bit_integer_tiff_is_scaled_not_clipped():
    arr = np.array([[0, 2**20, 2**30, 2**31 - 1]], dtype=np.int32)
    img = load_image(encode(PILImage.fromarray(arr), "TIFF"))
    assert list(img.pixels[0, :, 0]) == [0, 0, 128, 255]
    assert not any("16-bit" in w for w in img.warnings)
    assert any("signed 32-bit integer" in w for w in img.warnings)


def test_cues_as_one_string_is_one_prefix():
    import telltales

    r = telltales.inspect(encode(picture(32, 32)), cues="provenance")
    assert r.findings and all(f.cue.startswith("provenance.") for f in r.findings)
