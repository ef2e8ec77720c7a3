"""The one exception type a user can cause, and its subclasses."""

from __future__ import annotations


class TelltalesError(Exception):
    """An error the user can fix: bad input, bad option. The message says what to do."""


class ImageError(TelltalesError):
    """The file could not be read as an image (missing, empty, truncated, not an image, too big)."""
