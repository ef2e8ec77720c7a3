"""Loading: every format quirk, and clear errors for bad input."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image as PILImage

from conftest import encode
from telltales.errors import ImageError
from telltales.example import picture
from telltales.image import load_image


def test_rgb_png_round_trips_pixels():
    arr = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    img = load_image(encode(PILImage.fromarray(arr)))
    assert img.format == "PNG"
    assert img.size == (30, 20)
    assert img.pixels.dtype == np.uint8 and img.pixels.shape == (20, 30, 3)
    np.testing.assert_array_equal(img.pixels, arr)
    assert img.warnings == ()


@pytest.mark.parametrize(
    ("mode", "value", "expected"),
    [
        ("L", 200, (200, 200, 200)),
        ("1", 1, (255, 255, 255)),
        ("I;16", 65535, (255, 255, 255)),
        ("I;16", 257 * 100, (100, 100, 100)),
        ("I", 257 * 10, (10, 10, 10)),
        ("F", 0.5, (128, 128, 128)),
        ("F", 3.0, (255, 255, 255)),
    ],
)
def test_modes_are_converted_by_dtype(mode, value, expected):
    pil = PILImage.new(mode, (4, 3), value)
    img = load_image(pil)
    assert tuple(img.pixels[0, 0]) == expected


def test_16bit_png_file():
    arr = np.full((5, 6), 65535 // 2, dtype=np.uint16)
    data = encode(PILImage.fromarray(arr))
    img = load_image(data)
    assert img.pixels[0, 0, 0] == round(32767 / 257)
    assert any("16-bit" in w for w in img.warnings)


def test_cmyk_jpeg_is_converted():
    data = encode(PILImage.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG", quality=95)
    img = load_image(data)
    r, g, b = img.pixels[8, 8]
    assert r > 200 and g < 60 and b < 60
    assert any("CMYK" in w for w in img.warnings)


def test_alpha_is_flattened_on_white():
    pil = PILImage.new("RGBA", (10, 10), (255, 0, 0, 0))
    img = load_image(encode(pil))
    assert tuple(img.pixels[0, 0]) == (255, 255, 255)
    assert img.has_alpha


def test_palette_with_transparency():
    pil = PILImage.new("P", (8, 8), 0)
    pil.putpalette([10, 20, 30] * 256)
    pil.info["transparency"] = 0
    img = load_image(encode(pil, transparency=0))
    assert tuple(img.pixels[0, 0]) == (255, 255, 255)


def test_animated_gif_first_frame_noted():
    frames = [PILImage.new("RGB", (10, 10), c) for c in [(255, 0, 0), (0, 0, 255)]]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    img = load_image(buf.getvalue())
    assert img.n_frames == 2
    assert img.pixels[0, 0, 0] > 200  # red first frame
    assert any("first" in w for w in img.warnings)


def test_exif_orientation_is_applied():
    pil = PILImage.new("RGB", (40, 20), (0, 0, 0))
    pil.paste((255, 255, 255), (0, 0, 10, 20))  # white strip on the left
    exif = PILImage.Exif()
    exif[0x0112] = 6  # rotate 90 CW to view
    img = load_image(encode(pil, "JPEG", quality=95, exif=exif))
    assert img.size == (20, 40)
    assert img.pixels[2, 10].mean() > 200  # the strip is now on top
    assert any("orientation 6" in w for w in img.warnings)


@pytest.mark.parametrize("fmt", ["WEBP", "TIFF", "BMP", "GIF"])
def test_other_formats(fmt):
    img = load_image(encode(picture(64, 48), fmt))
    assert img.size == (64, 48)
    assert img.format == fmt


def test_progressive_jpeg():
    img = load_image(encode(picture(64, 48), "JPEG", progressive=True))
    assert img.format == "JPEG" and img.size == (64, 48)


def test_heic_if_supported():
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    try:
        data = encode(picture(64, 48), "HEIF")
    except (KeyError, OSError, ValueError):
        pytest.skip("this pillow-heif build cannot encode HEIF")
    img = load_image(data)
    assert img.size == (64, 48)


def test_avif_if_supported():
    try:
        data = encode(picture(64, 48), "AVIF")
    except (KeyError, OSError, ValueError):
        pytest.skip("no AVIF encoder in this Pillow build")
    img = load_image(data)
    assert img.size == (64, 48) and img.format == "AVIF"


def test_path_and_bytes_give_same_hash(tmp_path):
    data = encode(picture(32, 32))
    p = tmp_path / "x.png"
    p.write_bytes(data)
    assert load_image(p).sha256 == load_image(data).sha256
    assert load_image(str(p)).path == str(p)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"this is not an image at all", "not an image"),
        (b"%PDF-1.4\n" + b"x" * 100, "not an image"),
    ],
)
def test_bad_bytes_give_clear_errors(data, message):
    with pytest.raises(ImageError, match=message):
        load_image(data)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_file(fmt):
    data = encode(picture(256, 256), fmt)
    with pytest.raises(ImageError, match="truncated|corrupt"):
        load_image(data[: len(data) // 2])


def test_missing_path_and_folder(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageError, match="folder"):
        load_image(tmp_path)


def test_unreadable_path(tmp_path):
    import os

    p = tmp_path / "locked.png"
    p.write_bytes(encode(picture(8, 8)))
    p.chmod(0)
    try:
        if os.access(p, os.R_OK):
            pytest.skip("running as a user who can read anything")
        with pytest.raises(ImageError, match="permission"):
            load_image(p)
    finally:
        p.chmod(0o644)


def test_pixel_limit_is_a_clear_error():
    data = encode(PILImage.new("RGB", (300, 300)))
    with pytest.raises(ImageError, match="megapixels, over the pixel budget"):
        load_image(data, max_pixels=10_000)


def test_decompression_bomb_is_refused():
    # a PNG header claiming 100000 x 100000 pixels
    import struct
    import zlib

    def chunk(t, body):
        return struct.pack(">I", len(body)) + t + body + struct.pack(">I", zlib.crc32(t + body))

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    with pytest.raises(ImageError, match="over the pixel budget"):
        load_image(data)


def test_wrong_source_type():
    with pytest.raises(ImageError, match="source must be"):
        load_image(12345)


def test_png_text_and_jpeg_comment_are_kept():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "Steps: 20")
    info.add_itxt("Comment", "ünïcode", zip=True)
    img = load_image(encode(picture(16, 16), pnginfo=info))
    assert img.metadata.text == {"parameters": "Steps: 20", "Comment": "ünïcode"}
    img = load_image(encode(picture(16, 16), "JPEG", comment=b"hello"))
    assert img.metadata.comments == ("hello",)
