"""Decompression with a ceiling: untrusted zlib/gzip data never inflates past a limit."""

from __future__ import annotations

import zlib

DEFAULT_LIMIT = 8_000_000  # bytes of output; generator metadata is rarely over 1 MB


class TooLarge(ValueError):
    """The data would inflate past the limit (a decompression bomb, or just too much)."""


def inflate(data: bytes, limit: int = DEFAULT_LIMIT, *, container: str = "zlib") -> bytes:
    """``data`` decompressed, at most ``limit`` bytes of it.

    ``container`` is ``"zlib"`` (PNG zTXt/iTXt), ``"gzip"`` (NovelAI stealth) or
    ``"auto"`` (either). Raises :class:`TooLarge` past the limit and
    :class:`zlib.error` on corrupt data.
    """
    wbits = {"zlib": zlib.MAX_WBITS, "gzip": 16 + zlib.MAX_WBITS, "auto": 32 + zlib.MAX_WBITS}[container]
    d = zlib.decompressobj(wbits)
    out = d.decompress(data, limit)
    if d.eof:
        return out
    if d.unconsumed_tail or len(out) >= limit:
        raise TooLarge(f"compressed data inflates past {limit} bytes")
    raise zlib.error("incomplete or truncated compressed data")
