"""PNG chunks, read from bytes without decoding pixels.

Text is bounded: each compressed chunk inflates to at most ``MAX_CHUNK_TEXT``
bytes, and at most ``MAX_TOTAL_TEXT`` bytes of text are kept per file, so a
small file cannot force gigabytes of inflation or of text scanning.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from .inflate import TooLarge
from .inflate import inflate as _inflate

SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_CHUNK_TEXT = 1 << 20  # bytes one text chunk may inflate to (Pillow's own per-chunk limit)
MAX_TOTAL_TEXT = 4 << 20  # bytes of text kept per file


@dataclass(frozen=True)
class Chunk:
    type: str
    data: bytes


@dataclass(frozen=True)
class Texts:
    """The text chunks kept, and a plain note for each one left out or cut."""

    texts: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def is_png(data: bytes) -> bool:
    return data[:8] == SIGNATURE


def chunks(data: bytes) -> list[Chunk]:
    """All chunks in order; stops quietly at a truncated chunk."""
    if not is_png(data):
        return []
    out: list[Chunk] = []
    i = 8
    while i + 8 <= len(data):
        length = int.from_bytes(data[i : i + 4], "big")
        ctype = data[i + 4 : i + 8].decode("latin-1")
        body = data[i + 8 : i + 8 + length]
        if len(body) < length:
            break
        out.append(Chunk(ctype, body))
        i += 12 + length
        if ctype == "IEND":
            break
    return out


class TextTooLong(TooLarge):
    """A compressed text chunk inflates past the per-chunk limit."""


def inflate(data: bytes, limit: int) -> bytes:
    """zlib-inflate ``data`` to at most ``limit`` bytes; :class:`TextTooLong` beyond it."""
    try:
        return _inflate(data, limit)
    except TooLarge as exc:
        raise TextTooLong(str(exc)) from None


def _parse(ch: Chunk, limit: int) -> tuple[str, str] | None:
    """(keyword, text) of one text chunk; None for another chunk or an unknown compression method."""
    if ch.type == "tEXt":
        key, _, val = ch.data.partition(b"\0")
        return key.decode("latin-1"), val[:limit].decode("latin-1")
    if ch.type == "zTXt":
        key, _, rest = ch.data.partition(b"\0")
        if rest[:1] != b"\0":  # 0 (deflate) is the only method PNG defines
            return None
        return key.decode("latin-1"), inflate(rest[1:], limit).decode("latin-1")
    if ch.type == "iTXt":
        key, _, rest = ch.data.partition(b"\0")
        flag, method, rest = rest[0], rest[1], rest[2:]
        _lang, _, rest = rest.partition(b"\0")
        _tkey, _, val = rest.partition(b"\0")
        if flag:
            if method != 0:
                return None
            val = inflate(val, limit)
        return key.decode("latin-1"), val[:limit].decode("utf-8", "replace")
    return None


def read_texts(
    data: bytes, *, max_chunk: int = MAX_CHUNK_TEXT, max_total: int = MAX_TOTAL_TEXT
) -> Texts:
    """tEXt, zTXt and iTXt chunks as {keyword: text} (later duplicates win), within the limits."""
    texts: dict[str, str] = {}
    notes: list[str] = []
    kept = 0
    for ch in chunks(data):
        if ch.type not in ("tEXt", "zTXt", "iTXt"):
            continue
        if kept >= max_total:
            notes.append(f"PNG text over {max_total} bytes in all: the rest was not read")
            break
        try:
            parsed = _parse(ch, min(max_chunk, max_total - kept))
        except TextTooLong:
            notes.append(f"PNG {ch.type} chunk inflates to over {max_chunk} bytes: not read")
            continue
        except (zlib.error, IndexError, UnicodeDecodeError):
            continue
        if parsed is None:
            if ch.type != "tEXt":
                notes.append(f"PNG {ch.type} chunk with an unknown compression method: not read")
            continue
        key, val = parsed
        texts[key] = val
        kept += len(val)
    return Texts(texts, tuple(dict.fromkeys(notes)))


def text_chunks(data: bytes) -> dict[str, str]:
    """tEXt, zTXt and iTXt chunks as {keyword: text}; later duplicates win; bounded (see module)."""
    return read_texts(data).texts
