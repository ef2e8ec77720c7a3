"""EXIF, XMP and IPTC fields, parsed once and shared by the provenance cues.

Every parser here reads untrusted bytes: a broken block never raises, it
yields what could be read and a plain note saying what could not.

* ``exif_tags``: :class:`ExifInfo`, the tags of IFD0, the Exif, GPS and
  Interop sub-IFDs by name (``Make``, ``ExposureTime``, ``GPSLatitude``,
  ``UserComment``...), with text decoded and ratios as floats, plus the
  embedded thumbnail's size and whether maker notes are present.
* ``xmp_fields``: ``{"prefix:Name": [values]}`` from the XMP packet.
* ``iptc_fields``: ``{"Credit": [values]}`` from IPTC IIM (JPEG APP13).
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from ..analysis import Analysis, provider

_IFD_EXIF, _IFD_GPS, _IFD_INTEROP, _IFD1 = 0x8769, 0x8825, 0xA005, -1
_USER_COMMENT, _MAKER_NOTE = 0x9286, 0x927C
_XP_TAGS = {0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F}  # Windows XPTitle..XPSubject, UTF-16LE
_MAX_TEXT = 20_000
LONG_TEXT = 4_000_000  # generator graphs in EXIF (ComfyUI workflows) run past _MAX_TEXT


@dataclass(frozen=True)
class Thumbnail:
    width: int
    height: int
    nbytes: int
    pixels: Any = field(default=None, repr=False, compare=False)  # PIL image, or None


@dataclass(frozen=True)
class ExifInfo:
    """The EXIF block as named, decoded tags."""

    present: bool = False
    tags: dict[str, Any] = field(default_factory=dict)
    thumbnail: Thumbnail | None = None
    maker_note: bool = False
    note: str = ""  # why (part of) the block could not be read


# --- EXIF ---------------------------------------------------------------------


def decode_user_comment(value: Any) -> str:
    """UserComment text: an 8-byte charset header (ASCII, UNICODE, JIS) then the text.

    UNICODE is UTF-16 of either byte order; writers disagree (A1111 writes
    big-endian through piexif, others little-endian), so the order is guessed
    from which byte of the first characters is zero.
    """
    if isinstance(value, str):
        return value.strip("\x00 ").strip()
    if not isinstance(value, bytes | bytearray):
        return str(value)
    data = bytes(value)
    head, body = data[:8], data[8:]
    if head.startswith(b"UNICODE"):
        return _utf16(body).strip("\x00 ").strip()
    if head.startswith(b"ASCII") or head == b"\x00" * 8 and len(data) > 8:
        return body.decode("utf-8", "replace").strip("\x00 ").strip()
    if head.startswith(b"JIS"):
        return body.decode("shift_jis", "replace").strip("\x00 ").strip()
    return data.decode("utf-8", "replace").strip("\x00 ").strip()


def _utf16(body: bytes) -> str:
    if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return body.decode("utf-16", "replace")
    sample = body[:200]
    zeros_even = sum(1 for b in sample[0::2] if b == 0)
    zeros_odd = sum(1 for b in sample[1::2] if b == 0)
    return body.decode("utf-16-be" if zeros_even > zeros_odd else "utf-16-le", "replace")


def _plain(tag: int, value: Any, limit: int = _MAX_TEXT) -> Any:
    """A JSON-friendly value: text decoded, ratios as floats, short tuples as lists."""
    if tag == _USER_COMMENT:
        return decode_user_comment(value)[:limit]
    if tag in _XP_TAGS and isinstance(value, bytes | tuple):
        raw = bytes(value) if isinstance(value, tuple) else value
        return raw.decode("utf-16-le", "replace").strip("\x00 ")
    if isinstance(value, bytes):
        if tag == _MAKER_NOTE:
            return value[:200].decode("latin-1").strip("\x00 ")
        text = value.decode("utf-8", "replace").strip("\x00 ")
        return text[:limit] if text.isprintable() else value[:64].hex()
    if isinstance(value, str):
        return _mojibake_fixed(value).strip("\x00 ").strip()[:limit]
    if isinstance(value, tuple):
        return [_plain(0, v, limit) for v in value[:64]]
    if isinstance(value, int | float):
        return value
    try:
        return float(value)  # IFDRational
    except (TypeError, ValueError, ZeroDivisionError):
        return str(value)


def _mojibake_fixed(s: str) -> str:
    """EXIF ASCII fields often hold UTF-8 that Pillow read as Latin-1 ('DALLÂ·E'): undo that."""
    if any("\x80" <= ch <= "\xff" for ch in s):
        try:
            return s.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return s
    return s


def _named(ifd: dict[int, Any], names: dict[int, str], limit: int = _MAX_TEXT) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for tag, value in ifd.items():
        if tag in (_IFD_EXIF, _IFD_GPS, _IFD_INTEROP):
            continue
        name = names.get(tag, f"Tag0x{tag:04X}")
        try:
            out[name] = _plain(tag, value, limit)
        except Exception:  # a single odd value must not lose the rest
            out[name] = repr(value)[:200]
    return out


def _thumbnail(tiff: bytes, ifd1: dict[int, Any]) -> Thumbnail | None:
    offset, length = ifd1.get(0x0201), ifd1.get(0x0202)
    if not isinstance(offset, int) or not isinstance(length, int) or length <= 0:
        return None
    blob = tiff[offset : offset + length]
    if len(blob) < length or not blob.startswith(b"\xff\xd8"):
        return None
    from PIL import Image as PILImage

    try:
        thumb = PILImage.open(io.BytesIO(blob))
        thumb.load()
    except Exception:
        return None
    return Thumbnail(thumb.width, thumb.height, length, thumb.convert("RGB"))


def parse_exif(data: bytes | None, max_text: int = _MAX_TEXT) -> ExifInfo:
    """Parse an EXIF block (with or without the ``Exif\\0\\0`` prefix). Never raises.

    Text values are cut at ``max_text`` characters.
    """
    if not data:
        return ExifInfo()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns on corrupt EXIF; the note below says it
        return _parse_exif(data, max_text)


def _parse_exif(data: bytes, limit: int) -> ExifInfo:
    from PIL import ExifTags
    from PIL import Image as PILImage

    tiff = data[6:] if data.startswith(b"Exif\x00\x00") else data
    exif = PILImage.Exif()
    try:
        exif.load(tiff)
    except Exception as exc:
        return ExifInfo(present=True, note=f"EXIF block unreadable ({type(exc).__name__})")
    notes: list[str] = []
    tags: dict[str, Any] = {}
    try:
        tags.update(_named(dict(exif), ExifTags.TAGS, limit))
    except Exception as exc:
        notes.append(f"main EXIF directory unreadable ({type(exc).__name__})")
    for ifd_id, names, label in (
        (_IFD_EXIF, ExifTags.TAGS, "Exif"),
        (_IFD_GPS, ExifTags.GPSTAGS, "GPS"),
        (_IFD_INTEROP, ExifTags.TAGS, "Interop"),
    ):
        try:
            sub = exif.get_ifd(ifd_id)
        except Exception as exc:
            notes.append(f"{label} directory unreadable ({type(exc).__name__})")
            continue
        if ifd_id == _IFD_EXIF and sub.get(_MAKER_NOTE) is not None:
            tags["MakerNote"] = _plain(_MAKER_NOTE, sub[_MAKER_NOTE], limit)
        tags.update({k: v for k, v in _named(sub, names, limit).items() if k != "MakerNote"})
        if ifd_id == _IFD_GPS and sub:
            tags["GPSInfo"] = True
    thumb = None
    try:
        thumb = _thumbnail(tiff, exif.get_ifd(_IFD1))
    except Exception as exc:
        notes.append(f"thumbnail directory unreadable ({type(exc).__name__})")
    maker = bool(tags.get("MakerNote"))
    return ExifInfo(True, tags, thumb, maker, "; ".join(notes))


@provider("exif_tags")
def exif_tags(a: Analysis) -> ExifInfo:
    """The EXIF block's tags by name, its thumbnail and maker-note presence."""
    return parse_exif(a.get("metadata").exif)


@provider("exif_text")
def exif_text(a: Analysis) -> dict[str, str]:
    """Every EXIF text tag by name, in full (up to LONG_TEXT characters each).

    ``exif_tags`` cuts text at 20,000 characters; a ComfyUI graph stored in EXIF
    is often longer, and a cut JSON text cannot be read.
    """
    info = parse_exif(a.get("metadata").exif, max_text=LONG_TEXT)
    return {k: v for k, v in info.tags.items() if isinstance(v, str) and v}


# --- XMP ----------------------------------------------------------------------

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XMLNS = re.compile(r'xmlns:([\w.-]+)\s*=\s*["\']([^"\']+)["\']')
_ATTR = re.compile(r'\b([A-Za-z][\w.-]*):([A-Za-z][\w.-]*)\s*=\s*"([^"]*)"')
_ELEM = re.compile(r"<([A-Za-z][\w.-]*):([A-Za-z][\w.-]*)(?:\s[^>]*)?>([^<]+)</\1:\2>")
_SKIP_PREFIX = {"xmlns", "rdf", "x", "xml"}


def parse_xmp(xmp: str | None) -> dict[str, list[str]]:
    """``{"prefix:Name": [values]}`` for every simple property and list item. Never raises.

    Parsed as XML when well-formed (prefixes taken from the packet's own
    declarations); otherwise a tolerant scan of attributes and simple elements.
    """
    if not xmp:
        return {}
    text = xmp[: 2_000_000]
    prefixes = {uri: p for p, uri in _XMLNS.findall(text)}
    try:
        return _xmp_tree(text, prefixes)
    except Exception:
        return _xmp_scan(text)


def _qname(tag: str, prefixes: dict[str, str]) -> str:
    if tag.startswith("{"):
        uri, local = tag[1:].split("}", 1)
        return f"{prefixes.get(uri, uri)}:{local}"
    return tag


def _xmp_tree(text: str, prefixes: dict[str, str]) -> dict[str, list[str]]:
    import xml.etree.ElementTree as ET

    starts = [i for i in (text.find("<x:xmpmeta"), text.find("<rdf:RDF")) if i >= 0]
    start = min(starts) if starts else text.find("<")
    body = text[start:]
    for closing in ("</x:xmpmeta>", "</rdf:RDF>"):
        end = body.rfind(closing)
        if end >= 0:
            body = body[: end + len(closing)]
            break
    body = re.sub(r"<\?xpacket[^>]*\?>", "", body)
    root = ET.fromstring(body)
    out: dict[str, list[str]] = {}

    def add(key: str, value: str | None) -> None:
        if value is not None and value.strip():
            out.setdefault(key, []).append(value.strip()[:_MAX_TEXT])

    for el in root.iter():
        name = _qname(el.tag, prefixes)
        for attr, value in el.attrib.items():
            aname = _qname(attr, prefixes)
            if aname.split(":", 1)[0] not in _SKIP_PREFIX and not attr.startswith("{" + _RDF):
                add(aname, value)
        if el.tag.startswith("{" + _RDF) or name.split(":", 1)[0] in _SKIP_PREFIX:
            continue
        if len(el) == 0:
            add(name, el.text)
        else:
            for li in el.iter("{" + _RDF + "}li"):
                if len(li) == 0:
                    add(name, li.text)
    return out


def _xmp_scan(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p, local, value in _ATTR.findall(text):
        if p not in _SKIP_PREFIX and value.strip():
            out.setdefault(f"{p}:{local}", []).append(value.strip()[:_MAX_TEXT])
    for p, local, value in _ELEM.findall(text):
        if p not in _SKIP_PREFIX and value.strip():
            out.setdefault(f"{p}:{local}", []).append(value.strip()[:_MAX_TEXT])
    return out


@provider("xmp_fields")
def xmp_fields(a: Analysis) -> dict[str, list[str]]:
    """XMP properties as ``{"prefix:Name": [values]}``."""
    return parse_xmp(a.get("metadata").xmp)


# --- IPTC IIM -----------------------------------------------------------------

IIM_NAMES = {
    5: "ObjectName", 25: "Keywords", 65: "OriginatingProgram", 80: "By-line",
    85: "By-lineTitle", 110: "Credit", 115: "Source", 116: "CopyrightNotice",
    120: "Caption-Abstract", 122: "Writer-Editor",
}


def parse_iim(data: bytes) -> dict[str, list[str]]:
    """IPTC IIM datasets of record 2 from a JPEG's Photoshop APP13 blocks. Never raises."""
    from ..formats import jpeg

    out: dict[str, list[str]] = {}
    for seg in jpeg.segments(data):
        if seg.marker == 0xED and seg.payload.startswith(b"Photoshop 3.0\x00"):
            for rid, block in _photoshop_blocks(seg.payload[14:]):
                if rid == 0x0404:
                    for k, v in _iim_records(block):
                        out.setdefault(k, []).append(v)
    return out


def _photoshop_blocks(p: bytes) -> list[tuple[int, bytes]]:
    blocks: list[tuple[int, bytes]] = []
    i = 0
    while i + 12 <= len(p) and p[i : i + 4] == b"8BIM":
        rid = int.from_bytes(p[i + 4 : i + 6], "big")
        nlen = p[i + 6]
        j = i + 7 + nlen + ((nlen + 1) % 2)  # name padded to even length with its length byte
        size = int.from_bytes(p[j : j + 4], "big")
        blocks.append((rid, p[j + 4 : j + 4 + size]))
        i = j + 4 + size + (size % 2)
    return blocks


def _iim_records(b: bytes) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    i = 0
    while i + 5 <= len(b) and b[i] == 0x1C:
        record, dataset = b[i + 1], b[i + 2]
        size = int.from_bytes(b[i + 3 : i + 5], "big")
        if size & 0x8000:  # extended length: not used for text datasets
            break
        value = b[i + 5 : i + 5 + size]
        if record == 2 and dataset in IIM_NAMES:
            out.append((IIM_NAMES[dataset], value.decode("utf-8", "replace").strip("\x00 ")))
        i += 5 + size
    return out


@provider("iptc_fields")
def iptc_fields(a: Analysis) -> dict[str, list[str]]:
    """IPTC IIM fields (credit, source, caption...) from a JPEG's APP13 segment."""
    try:
        return parse_iim(a.get("raw"))
    except Exception:
        return {}
