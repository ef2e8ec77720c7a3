"""PNG chunks, read from bytes without decoding pixels."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from .inflate import TooLarge, inflate

SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Chunk:
    type: str
    data: bytes


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


def text_chunks(data: bytes) -> dict[str, str]:
    """tEXt, zTXt and iTXt chunks as {keyword: text}; later duplicates win.

    A compressed chunk that would inflate past :data:`inflate.DEFAULT_LIMIT` is skipped.
    """
    texts: dict[str, str] = {}
    for ch in chunks(data):
        try:
            if ch.type == "tEXt":
                key, _, val = ch.data.partition(b"\0")
                texts[key.decode("latin-1")] = val.decode("latin-1")
            elif ch.type == "zTXt":
                key, _, rest = ch.data.partition(b"\0")
                texts[key.decode("latin-1")] = inflate(rest[1:]).decode("latin-1")
            elif ch.type == "iTXt":
                key, _, rest = ch.data.partition(b"\0")
                flag, _method, rest = rest[0], rest[1], rest[2:]
                _lang, _, rest = rest.partition(b"\0")
                _tkey, _, val = rest.partition(b"\0")
                if flag:
                    val = inflate(val)
                texts[key.decode("latin-1")] = val.decode("utf-8", "replace")
        except (zlib.error, TooLarge, IndexError, UnicodeDecodeError):
            continue
    return texts
