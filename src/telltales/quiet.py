"""Warnings on the command line: telltales' own as one plain line, other packages' kept off stderr.

A library's warning (Pillow's "Corrupt EXIF data", numpy's runtime warnings)
prints a site-packages path and a source line a user cannot act on; what
matters about the image is in the report's notes instead.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

PACKAGE_DIR = str(Path(__file__).resolve().parent)


def from_telltales(filename: str) -> bool:
    """Whether a warning was raised by telltales' own code (not by a package it uses)."""
    try:
        return str(Path(filename).resolve()).startswith(PACKAGE_DIR)
    except (OSError, ValueError):
        return False


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """``warnings.showwarning`` for the command line: one line, no path, only telltales' own."""
    if from_telltales(filename):
        print(f"Warning: {message}", file=file or sys.stderr)


def keep_library_warnings_off_stderr() -> None:
    warnings.showwarning = show_warning
