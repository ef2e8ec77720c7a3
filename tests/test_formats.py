"""Byte-level JPEG and PNG readers on files written in the test."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import encode
from telltales.example import picture
from telltales.formats import jpeg, png
from telltales.image import load_image


def _with_short_segment_length(data: bytes) -> bytes:
    """Insert an APP1 segment whose length field is two bytes short (as some files have)."""
    payload = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>...</x:xmpmeta>?>"
    seg = b"\xff\xe1" + (len(payload)).to_bytes(2, "big") + payload  # should be len + 2
    return data[:2] + seg + data[2:]


def test_segments_and_tables_of_a_plain_jpeg():
    data = encode(picture(64, 48), "JPEG", quality=75)
    names = [s.name for s in jpeg.segments(data)]
    assert names[0] == "APP0" and names[-1] == "SOS" and "DQT" in names
    assert jpeg.ijg_quality(jpeg.quantisation_tables(data)) == 75


def test_extraneous_bytes_before_a_marker_are_skipped():
    data = _with_short_segment_length(encode(picture(64, 48), "JPEG", quality=90))
    names = [s.name for s in jpeg.segments(data)]
    assert names[-1] == "SOS" and "DQT" in names
    assert jpeg.ijg_quality(jpeg.quantisation_tables(data)) == 90


@pytest.mark.parametrize("broken", [False, True])
def test_strip_metadata_keeps_pixels_and_drops_app_segments(broken):
    data = encode(picture(64, 48), "JPEG", quality=90, exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00", comment=b"hi")
    if broken:
        data = _with_short_segment_length(data)
    stripped = jpeg.strip_metadata(data)
    assert not any(s.marker in jpeg.METADATA_MARKERS for s in jpeg.segments(stripped))
    np.testing.assert_array_equal(load_image(stripped).pixels, load_image(data).pixels)


def test_png_text_chunks():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("a", "1")
    info.add_text("b", "zipped", zip=True)
    info.add_itxt("c", "ünï", zip=False)
    data = encode(picture(8, 8), pnginfo=info)
    assert png.text_chunks(data) == {"a": "1", "b": "zipped", "c": "ünï"}
    assert [c.type for c in png.chunks(data)][0] == "IHDR"
    assert png.chunks(b"not a png") == []
