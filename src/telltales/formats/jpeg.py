"""JPEG marker segments, read from bytes without decoding pixels.

Used by the metadata cues (APPn, COM), the JPEG-history cue (DQT) and the
``stripped`` evaluation condition (drop metadata segments, keep entropy data).
"""

from __future__ import annotations

from dataclasses import dataclass

SOI = b"\xff\xd8"
# markers without a length field
_STANDALONE = {0x01, *range(0xD0, 0xD8)}


@dataclass(frozen=True)
class Segment:
    marker: int  # 0xE1 for APP1, 0xDB for DQT, ...
    offset: int  # offset of the 0xFF marker byte
    payload: bytes  # bytes after the length field

    @property
    def name(self) -> str:
        m = self.marker
        if 0xE0 <= m <= 0xEF:
            return f"APP{m - 0xE0}"
        return {0xDB: "DQT", 0xC4: "DHT", 0xDA: "SOS", 0xFE: "COM", 0xDD: "DRI"}.get(
            m, f"SOF{m - 0xC0}" if 0xC0 <= m <= 0xCF else f"0x{m:02X}"
        )


def is_jpeg(data: bytes) -> bool:
    return data[:2] == SOI


def segments(data: bytes) -> list[Segment]:
    """The header segments of a JPEG up to and including the first SOS.

    Skips extraneous bytes between segments (as libjpeg does) and stops quietly
    at a malformed length: a truncated file yields what could be read.
    """
    if not is_jpeg(data):
        return []
    out: list[Segment] = []
    i = 2
    n = len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            # extraneous bytes before a marker (a segment whose length field is short):
            # skip to the next 0xFF, as libjpeg does
            j = data.find(b"\xff", i)
            if j < 0:
                break
            i = j
            continue
        marker = data[i + 1]
        if marker in (0xFF, 0x00):  # fill byte, or a stuffed 0xFF inside the garbage
            i += 1
            continue
        if marker in _STANDALONE:
            i += 2
            continue
        if marker == 0xD9:
            break
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if length < 2 or i + 2 + length > n:
            break
        out.append(Segment(marker, i, data[i + 4 : i + 2 + length]))
        if marker == 0xDA:
            break
        i += 2 + length
    return out


def quantisation_tables(data: bytes) -> dict[int, list[int]]:
    """DQT tables by id, 64 values each in zig-zag order as stored."""
    tables: dict[int, list[int]] = {}
    for seg in segments(data):
        if seg.marker != 0xDB:
            continue
        p = seg.payload
        j = 0
        while j < len(p):
            pq, tq = p[j] >> 4, p[j] & 0x0F
            j += 1
            size = 128 if pq else 64
            raw = p[j : j + size]
            if len(raw) < size:
                break
            if pq:
                tables[tq] = [int.from_bytes(raw[k : k + 2], "big") for k in range(0, 128, 2)]
            else:
                tables[tq] = list(raw)
            j += size
    return tables


METADATA_MARKERS = frozenset({*range(0xE1, 0xF0), 0xFE})  # APP1..APP15 and COM; APP0 (JFIF) kept


def strip_metadata(data: bytes) -> bytes:
    """The same JPEG with APP1-APP15 and COM segments removed, entropy data untouched."""
    segs = segments(data)
    if not segs or segs[-1].marker != 0xDA:
        raise ValueError("not a complete JPEG header")
    out = bytearray(SOI)
    for seg in segs[:-1]:
        if seg.marker in METADATA_MARKERS:
            continue
        out += data[seg.offset : seg.offset + 4 + len(seg.payload)]
    out += data[segs[-1].offset :]
    return bytes(out)


# The standard (ITU T.81 Annex K) tables libjpeg scales by its quality setting,
# natural (row-major) order, and the zig-zag order DQT segments store them in.
STANDARD_LUMA = (
     16,  11,  10,  16,  24,  40,  51,  61,
     12,  12,  14,  19,  26,  58,  60,  55,
     14,  13,  16,  24,  40,  57,  69,  56,
     14,  17,  22,  29,  51,  87,  80,  62,
     18,  22,  37,  56,  68, 109, 103,  77,
     24,  35,  55,  64,  81, 104, 113,  92,
     49,  64,  78,  87, 103, 121, 120, 101,
     72,  92,  95,  98, 112, 100, 103,  99,
)
STANDARD_CHROMA = (
     17,  18,  24,  47,  99,  99,  99,  99,
     18,  21,  26,  66,  99,  99,  99,  99,
     24,  26,  56,  99,  99,  99,  99,  99,
     47,  66,  99,  99,  99,  99,  99,  99,
     99,  99,  99,  99,  99,  99,  99,  99,
     99,  99,  99,  99,  99,  99,  99,  99,
     99,  99,  99,  99,  99,  99,  99,  99,
     99,  99,  99,  99,  99,  99,  99,  99,
)
ZIGZAG = (
      0,   1,   8,  16,   9,   2,   3,  10,
     17,  24,  32,  25,  18,  11,   4,   5,
     12,  19,  26,  33,  40,  48,  41,  34,
     27,  20,  13,   6,   7,  14,  21,  28,
     35,  42,  49,  56,  57,  50,  43,  36,
     29,  22,  15,  23,  30,  37,  44,  51,
     58,  59,  52,  45,  38,  31,  39,  46,
     53,  60,  61,  54,  47,  55,  62,  63,
)


def ijg_table(base: tuple[int, ...], quality: int) -> list[int]:
    """The table libjpeg writes for ``quality`` (1-100), in stored (zig-zag) order, baseline (<= 255)."""
    q = max(1, min(100, quality))
    scale = 5000 // q if q < 50 else 200 - 2 * q
    nat = [min(255, max(1, (b * scale + 50) // 100)) for b in base]
    return [nat[ZIGZAG[i]] for i in range(64)]


def ijg_quality(tables: dict[int, list[int]]) -> int | None:
    """The libjpeg quality whose standard tables equal the file's exactly, or None."""
    luma_t = tables.get(0)
    if luma_t is None:
        return None
    for q in range(100, 0, -1):
        if ijg_table(STANDARD_LUMA, q) == luma_t and (
            1 not in tables or ijg_table(STANDARD_CHROMA, q) == tables[1]
        ):
            return q
    return None


def estimate_quality(tables: dict[int, list[int]]) -> int | None:
    """The libjpeg quality whose luminance table is closest in total to the file's, or None.

    Encoders with their own tables (cameras, Photoshop) get the nearest libjpeg equivalent.
    """
    luma_t = tables.get(0, next(iter(tables.values()), None))
    if luma_t is None or len(luma_t) != 64:
        return None
    total = sum(luma_t)
    return min(range(1, 101), key=lambda q: abs(sum(ijg_table(STANDARD_LUMA, q)) - total))
