"""provenance.camera: camera EXIF written here, consistent and inconsistent."""

from __future__ import annotations

import io

import piexif
import pytest
from PIL import Image as PILImage

from telltales.analyses.exif import parse_exif
from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.example import picture
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import get

CUE = "provenance.camera"
W, H = 480, 320  # 3:2, like most cameras


def jpeg_bytes(img: PILImage.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85, **kw)
    return buf.getvalue()


def camera_exif(photo: PILImage.Image | None, *, thumb: PILImage.Image | None = None,
                dto: bytes = b"2021:06:01 10:00:00", dt: bytes = b"2021:06:01 10:00:00",
                fnumber: tuple[int, int] = (28, 10), software: bytes | None = None,
                make: bytes = b"Canon", orientation: int = 1, full: bool = True,
                maker_note: bytes = b"\x00\x01" * 40) -> bytes:
    zeroth = {piexif.ImageIFD.Make: make, piexif.ImageIFD.Model: b"Canon EOS 80D",
              piexif.ImageIFD.DateTime: dt, piexif.ImageIFD.Orientation: orientation}
    if software:
        zeroth[piexif.ImageIFD.Software] = software
    exif_ifd: dict = {}
    gps: dict = {}
    if full:
        exif_ifd = {
            piexif.ExifIFD.ExposureTime: (1, 125), piexif.ExifIFD.FNumber: fnumber,
            piexif.ExifIFD.ISOSpeedRatings: 200, piexif.ExifIFD.FocalLength: (50, 1),
            piexif.ExifIFD.LensModel: b"EF50mm f/1.8 STM", piexif.ExifIFD.DateTimeOriginal: dto,
            piexif.ExifIFD.MakerNote: maker_note,
            piexif.ExifIFD.PixelXDimension: W, piexif.ExifIFD.PixelYDimension: H,
        }
        gps = {piexif.GPSIFD.GPSLatitudeRef: b"N", piexif.GPSIFD.GPSLatitude: ((48, 1), (51, 1), (0, 1)),
               piexif.GPSIFD.GPSLongitudeRef: b"E", piexif.GPSIFD.GPSLongitude: ((2, 1), (21, 1), (0, 1))}
    d: dict = {"0th": zeroth, "Exif": exif_ifd, "GPS": gps}
    if thumb is None and photo is not None and full:
        thumb = photo.copy()
        thumb.thumbnail((160, 160))
    if thumb is not None:
        d["1st"] = {piexif.ImageIFD.Compression: 6}
        d["thumbnail"] = jpeg_bytes(thumb)
    return piexif.dump(d)


def run(data: bytes):
    finding, _ = run_cue(get(CUE), Analysis(load_image(data)))
    return finding


@pytest.fixture(scope="module")
def photo() -> PILImage.Image:
    return picture(W, H, seed=3)


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_complete_consistent_camera_exif_is_weak_real_evidence(photo, fmt):
    buf = io.BytesIO()
    photo.save(buf, fmt, exif=camera_exif(photo))
    f = run(buf.getvalue())
    assert f.status == Status.REAL, f.reason
    assert 0.5 <= f.strength <= 0.6
    d = f.details
    assert d["make"] == "Canon" and d["model"] == "Canon EOS 80D"
    assert d["exposure_time_s"] == pytest.approx(1 / 125) and d["f_number"] == pytest.approx(2.8)
    assert d["iso"] == 200 and d["focal_length_mm"] == 50 and d["lens"] == "EF50mm f/1.8 STM"
    assert d["gps"] and d["maker_notes"]
    assert d["thumbnail"]["correlation"] > 0.9 and d["issues"] == []
    assert "Weak evidence" in f.reason


def test_make_and_model_alone_is_weaker(photo):
    f = run(jpeg_bytes(photo, exif=camera_exif(photo, full=False)))
    assert f.status == Status.REAL
    assert f.strength <= 0.25


def test_thumbnail_of_another_picture_is_an_inconsistency(photo):
    other = picture(W, H, seed=11).transpose(PILImage.Transpose.ROTATE_180)
    other.thumbnail((160, 160))
    f = run(jpeg_bytes(photo, exif=camera_exif(photo, thumb=other)))
    assert f.status == Status.CLEAR, f.reason
    assert "different picture" in f.reason
    assert f.strength is None


def test_thumbnail_turned_90_degrees_is_a_note_not_an_issue(photo):
    upright = photo.transpose(PILImage.Transpose.ROTATE_90)  # the picture was rotated by an editor
    f = run(jpeg_bytes(upright, exif=camera_exif(photo)))
    assert f.status == Status.REAL, f.reason
    assert f.details["thumbnail"]["turned_90"]
    assert any("turned 90" in n for n in f.details["notes"])


def test_orientation_tag_is_applied_to_the_thumbnail(photo):
    # stored landscape with orientation 6: viewers (and telltales) show it portrait, thumbnail too
    f = run(jpeg_bytes(photo, exif=camera_exif(photo, orientation=6)))
    assert f.status == Status.REAL, f.reason
    assert not f.details["thumbnail"]["turned_90"]
    assert f.details["thumbnail"]["correlation"] > 0.9


def test_cropped_picture_keeps_old_thumbnail_shape(photo):
    crop = photo.crop((0, 0, 320, 320))
    f = run(jpeg_bytes(crop, exif=camera_exif(photo)))
    assert f.status == Status.REAL
    assert any("different shape" in n for n in f.details["notes"])
    assert any("resized or cropped" in n for n in f.details["notes"])


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"dto": b"2021:06:05 10:00:00", "dt": b"2021:06:01 10:00:00"}, "after the file's last-change"),
        ({"dto": b"1971:01:01 00:00:00", "dt": b"1971:01:01 00:00:00"}, "implausible"),
        ({"fnumber": (1, 10)}, "FNumber"),
        ({"maker_note": b"Nikon\x00\x02\x10\x00\x00MM\x00*" + b"\x00" * 40}, "Nikon's format"),
    ],
    ids=["capture-after-change", "pre-digital-date", "impossible-aperture", "maker-note-of-another-brand"],
)
def test_inconsistent_values_are_clear_with_the_reason(photo, kw, words):
    f = run(jpeg_bytes(photo, exif=camera_exif(photo, **kw)))
    assert f.status == Status.CLEAR, f.reason
    assert words in f.reason


def test_editor_software_is_noted_and_lowers_strength(photo):
    plain = run(jpeg_bytes(photo, exif=camera_exif(photo)))
    edited = run(jpeg_bytes(photo, exif=camera_exif(photo, software=b"Adobe Photoshop 25.0 (Windows)")))
    assert edited.status == Status.REAL
    assert edited.strength < plain.strength
    assert any("editing software" in n for n in edited.details["notes"])


def test_generator_named_in_exif_is_left_to_generator_metadata(photo):
    f = run(jpeg_bytes(photo, exif=camera_exif(photo, make=b"Midjourney")))
    assert f.status == Status.CLEAR
    assert "generator-metadata" in f.reason


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_no_exif_is_not_applicable(photo, fmt):
    buf = io.BytesIO()
    photo.save(buf, fmt)
    f = run(buf.getvalue())
    assert f.status == Status.NOT_APPLICABLE
    assert "proves nothing" in f.reason


def test_exif_without_camera_fields_is_not_applicable(photo):
    exif = piexif.dump({"0th": {piexif.ImageIFD.Software: b"GIMP 2.10"}})
    assert run(jpeg_bytes(photo, exif=exif)).status == Status.NOT_APPLICABLE


@pytest.mark.parametrize(
    "blob",
    [b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff", b"Exif\x00\x00II*\x00\xff\xff\xff\x7f",
     b"Exif\x00\x00" + b"\xff" * 64],
)
def test_broken_exif_does_not_crash(photo, blob):
    info = parse_exif(blob)
    assert info.present and isinstance(info.tags, dict)
    jpeg = jpeg_bytes(photo)
    app1 = b"\xff\xe1" + (len(blob) + 2).to_bytes(2, "big") + blob
    f = run(jpeg[:2] + app1 + jpeg[2:])
    assert f.status == Status.NOT_APPLICABLE


def test_truncated_thumbnail_is_ignored(photo):
    exif = camera_exif(photo)
    cut = exif[: len(exif) - 200]  # the thumbnail is stored last: cut into it
    info = parse_exif(cut)
    assert info.thumbnail is None
    assert info.tags.get("Make") == "Canon"
