"""Camera EXIF and its internal consistency.

A camera writes what it did: its make and model, the exposure (shutter time,
aperture, ISO, focal length), the lens, the time of capture, often GPS, its
own undocumented "maker notes" and a small preview (thumbnail) of the picture.
A generator writes none of this. So a complete and self-consistent set is
weak evidence of a real photograph: weak, because EXIF can be copied from a
real photo onto any picture. Copying tends to leave seams, which this cue
checks: a thumbnail that shows another picture (or another shape), a capture
time after the file's modification time, exposure values no camera can take.
Inconsistencies are reported as notes, not as evidence of generation; a
generator named in the EXIF is left to ``provenance.generator-metadata``.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np

from telltales.analysis import Analysis
from telltales.cues.provenance.generator_metadata import generator_named
from telltales.findings import Result
from telltales.registry import cue

EDITORS = ("photoshop", "lightroom", "gimp", "paint.net", "snapseed", "picasa", "affinity",
           "capture one", "darktable", "rawtherapee", "pixelmator", "acdsee", "acd systems",
           "photoscape", "luminar", "facetune", "canva", "photos", "irfanview", "bridge")
# physically possible ranges (generous): shutter, aperture, ISO, focal length in mm
RANGES = {
    "ExposureTime": (1 / 100_000, 3600.0),
    "FNumber": (0.7, 128.0),
    "ISOSpeedRatings": (1.0, 10_000_000.0),
    "FocalLength": (0.5, 5000.0),
}
THUMB_MIN_CORR = 0.5  # thumbnails of the same picture correlate > 0.8 at 32x32 (see tests, dev set)
ASPECT_TOL = 0.08  # |log(aspect ratio)| difference allowed between thumbnail and picture


def _first(v: Any) -> Any:
    return v[0] if isinstance(v, list) and v else v


def _number(v: Any) -> float | None:
    v = _first(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _text(v: Any) -> str:
    return str(v).strip() if isinstance(v, str) else ""


def parse_date(v: Any) -> datetime | None:
    s = _text(v)[:19]
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y:%m:%d"):
        try:
            return datetime.strptime(s if fmt != "%Y:%m:%d" else s[:10], fmt)
        except ValueError:
            continue
    return None


def camera_fields(tags: dict[str, Any]) -> dict[str, Any]:
    """The camera-related fields, plainly named."""
    return {
        "make": _text(tags.get("Make")),
        "model": _text(tags.get("Model")),
        "exposure_time_s": _number(tags.get("ExposureTime")),
        "f_number": _number(tags.get("FNumber")),
        "iso": _number(tags.get("ISOSpeedRatings") or tags.get("PhotographicSensitivity")),
        "focal_length_mm": _number(tags.get("FocalLength")),
        "lens": _text(tags.get("LensModel")) or _text(tags.get("LensMake")),
        "datetime_original": _text(tags.get("DateTimeOriginal")),
        "datetime": _text(tags.get("DateTime")),
        "software": _text(tags.get("Software")),
        "gps": bool(tags.get("GPSLatitude") or tags.get("GPSLongitude")),
        "exif_size": [_number(tags.get("ExifImageWidth")), _number(tags.get("ExifImageHeight"))],
    }


def camera_name(make: str, model: str) -> str:
    """'Canon PowerShot A70', not 'Canon Canon PowerShot A70'."""
    brand = make.split()[0].lower() if make else ""
    if model and brand and model.lower().startswith(brand):
        return model
    return " ".join(x for x in (make, model) if x) or "a camera"


def has_camera(f: dict[str, Any]) -> bool:
    exposure = f["exposure_time_s"] is not None and f["f_number"] is not None
    return bool(f["make"] or f["model"]) or exposure


# --- consistency checks: each returns a plain sentence or None ---------------------------


def exposure_issues(tags: dict[str, Any]) -> list[str]:
    out = []
    for name, (lo, hi) in RANGES.items():
        v = _number(tags.get(name))
        if v is not None and v != 0 and not lo <= v <= hi:
            out.append(f"{name} {v:g} is outside what a camera can record ({lo:g}-{hi:g})")
    return out


def date_issues(f: dict[str, Any], now: datetime) -> list[str]:
    out = []
    dto, dt = parse_date(f["datetime_original"]), parse_date(f["datetime"])
    if dto is not None and not datetime(1990, 1, 1) <= dto < datetime(now.year + 2, 1, 1):
        out.append(f"capture date {dto:%Y-%m-%d} is implausible for a digital camera")
    if dto is not None and dt is not None and (dto - dt).total_seconds() > 86_400:
        out.append(f"capture time {dto} is after the file's last-change time {dt}")
    return out


# maker-note headers that name their maker, and the Make values they belong with
MAKER_NOTE_HEADERS = (
    ("Nikon", ("nikon",)), ("OLYMP", ("olympus", "om digital")), ("FUJIFILM", ("fuji", "leica")),
    ("Panasonic", ("panasonic", "leica")), ("SONY", ("sony",)), ("SANYO", ("sanyo",)),
    ("KDK", ("kodak",)), ("RECONYX", ("reconyx",)), ("PENTAX", ("pentax", "asahi", "ricoh")),
    ("AOC\x00", ("pentax", "asahi", "ricoh")), ("Apple iOS", ("apple",)), ("LEICA", ("leica",)),
    ("SIGMA", ("sigma",)), ("QVC", ("casio",)),
)


def maker_note_issue(make: str, maker_note: Any) -> str | None:
    """A maker note written by one brand under another brand's Make: EXIF pieced together."""
    note = maker_note if isinstance(maker_note, str) else ""
    if not make or not note:
        return None
    for header, brands in MAKER_NOTE_HEADERS:
        if note.startswith(header):
            if not any(b in make.lower() for b in brands):
                return f"the maker notes are in {header.strip(chr(0))}'s format but the Make says {make}"
            return None
    return None


_TRANSPOSE = {2: 0, 3: 3, 4: 1, 5: 5, 6: 4, 7: 6, 8: 2}  # EXIF orientation -> PIL Transpose


def _content_span(profile: np.ndarray) -> tuple[int, int]:
    """First and last+1 index of a row/column profile that is not a black or white bar."""
    bar = (profile < 0.03) | (profile > 0.985)
    lo, hi = 0, len(profile)
    while lo < hi - 1 and bar[lo]:
        lo += 1
    while hi > lo + 1 and bar[hi - 1]:
        hi -= 1
    return lo, hi


def _trim_bars(g: np.ndarray) -> np.ndarray:
    """Drop black (or white) letterbox bars some cameras add to fit a 4:3 thumbnail."""
    (r0, r1), (c0, c1) = _content_span(g.mean(axis=1)), _content_span(g.mean(axis=0))
    return g[r0:r1, c0:c1]


def _gray(img: Any, size: tuple[int, int] | None = None) -> np.ndarray:
    from PIL import Image as PILImage

    im = img.convert("L")
    if size:
        im = im.resize(size, PILImage.Resampling.BOX)
    return np.asarray(im, dtype=np.float32) / 255.0


def thumbnail_check(thumb: Any, orientation: Any, picture: np.ndarray) -> dict[str, Any]:
    """Compare the EXIF thumbnail with the picture: shape and content."""
    from PIL import Image as PILImage

    img = thumb.pixels
    o = int(_number(orientation) or 1)
    if o in _TRANSPOSE:
        img = img.transpose(PILImage.Transpose(_TRANSPOSE[o]))
    ph, pw = picture.shape[:2]
    raw = _gray(img)
    options = []  # (aspect difference, turned, thumbnail plane) for as-is / bars trimmed, straight / turned
    for g in (raw, _trim_bars(raw)):
        th, tw = g.shape
        if th >= 8 and tw >= 8:
            options.append((abs(math.log((tw / th) / (pw / ph))), False, g))
            options.append((abs(math.log((th / tw) / (pw / ph))), True, g))
    if not options:
        return {"usable": False}
    aspect_diff, turned, g = min(options, key=lambda o: (round(o[0], 2), o[1]))
    pic = _gray(PILImage.fromarray(picture), (32, 32))
    candidates = (np.rot90(g, 1), np.rot90(g, -1)) if turned else (g,)
    corrs = [c for c in (_correlation(_resized(c), pic) for c in candidates) if c is not None]
    corr = max(corrs) if corrs else None
    return {"usable": True, "size": [thumb.width, thumb.height],
            "aspect_difference": round(aspect_diff, 3), "turned_90": turned,
            "correlation": None if corr is None else round(corr, 3)}


def _resized(g: np.ndarray) -> np.ndarray:
    from PIL import Image as PILImage

    return np.asarray(PILImage.fromarray(np.ascontiguousarray(g)).resize((32, 32), PILImage.Resampling.BOX))


def _correlation(x: np.ndarray, y: np.ndarray) -> float | None:
    a, b = x - x.mean(), y - y.mean()
    denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denom) if denom > 1e-9 else None


def strength_of(f: dict[str, Any], maker_note: bool, thumb_ok: bool, edited: bool) -> float:
    """More complete camera records are harder to fake by accident; never above 0.6."""
    s = 0.2 if (f["make"] or f["model"]) else 0.1
    if all(f[k] is not None for k in ("exposure_time_s", "f_number", "iso")):
        s += 0.1
    s += 0.05 * (f["focal_length_mm"] is not None) + 0.05 * bool(f["lens"])
    s += 0.05 * bool(f["datetime_original"]) + 0.1 * maker_note + 0.1 * thumb_ok
    return round(max(0.1, min(0.6, s) - 0.05 * edited), 2)


@cue("provenance.camera", needs=("exif_tags", "rgb"), version="1")
def camera_exif(a: Analysis) -> Result:
    """Camera EXIF (make, model, exposure, lens, maker notes, thumbnail) and its consistency."""
    exif = a.exif_tags
    tags = exif.tags
    f = camera_fields(tags)
    if not has_camera(f):
        reason = "no camera metadata; most web images have none, so this proves nothing"
        if exif.note:
            reason += f" ({exif.note})"
        return Result.not_applicable(reason)
    details: dict[str, Any] = {**f, "maker_notes": exif.maker_note, "thumbnail": None}
    named = generator_named(" ".join((f["make"], f["model"], f["software"], _text(tags.get("Artist")))))
    if named:
        return Result.clear(f"the EXIF names a generator ({named}), not a camera; "
                            "see provenance.generator-metadata", details=details)
    issues = exposure_issues(tags) + date_issues(f, datetime.now())
    if issue := maker_note_issue(f["make"], tags.get("MakerNote")):
        issues.append(issue)
    notes: list[str] = [exif.note] if exif.note else []
    thumb_ok = False
    if exif.thumbnail is not None:
        t = thumbnail_check(exif.thumbnail, tags.get("Orientation"), a.rgb)
        details["thumbnail"] = t
        if t.get("usable"):
            if t["aspect_difference"] > ASPECT_TOL:
                notes.append("the thumbnail has a different shape from the picture: "
                             "the picture was cropped after capture, or the EXIF came from another one")
            elif t["correlation"] is not None and t["correlation"] < THUMB_MIN_CORR:
                issues.append("the embedded thumbnail shows a different picture (another scene or "
                              "framing): the picture was altered after capture, or the EXIF was "
                              "copied from another photo")
            else:
                thumb_ok = True
                if t["turned_90"]:
                    notes.append("the thumbnail is turned 90 degrees from the picture: "
                                 "rotated after capture without updating it")
    w, h = a.image.size
    ew, eh = f["exif_size"]
    if ew and eh and sorted((int(ew), int(eh))) != sorted((w, h)):
        notes.append(f"the EXIF says {int(ew)}x{int(eh)} but the picture is {w}x{h}: resized or cropped since")
    editor = next((e for e in EDITORS if e in f["software"].lower()), None)
    if editor:
        notes.append(f"saved by editing software ({f['software']})")
    details.update(issues=issues, notes=notes)
    camera = camera_name(f["make"], f["model"])
    if issues:
        return Result.clear(f"camera EXIF ({camera}) is present but inconsistent: " + "; ".join(issues),
                            details=details)
    strength = strength_of(f, exif.maker_note, thumb_ok, bool(editor))
    have = [k for k, ok in (("exposure settings", f["exposure_time_s"] is not None),
                            ("lens", bool(f["lens"])), ("capture time", bool(f["datetime_original"])),
                            ("GPS", f["gps"]), ("maker notes", exif.maker_note),
                            ("a matching thumbnail", thumb_ok)) if ok]
    return Result.real(
        strength,
        f"camera EXIF from {camera}" + (f" with {', '.join(have)}" if have else "")
        + ", consistent with itself. Weak evidence: EXIF can be copied onto any picture.",
        details=details)
