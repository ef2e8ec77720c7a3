"""A one-line progress counter on stderr, shown only on a terminal."""

from __future__ import annotations

import sys
import time


class Progress:
    """``Progress(enabled, total=None, noun="images")``; ``update(note)`` after each item."""

    def __init__(self, enabled: bool, total: int | None = None, noun: str = "images") -> None:
        self.enabled = enabled and sys.stderr.isatty() and total != 0
        self.total, self.noun = total, noun
        self.n, self.t0 = 0, time.perf_counter()

    def update(self, note: str = "") -> None:
        self.n += 1
        if self.enabled:
            rate = self.n / max(1e-9, time.perf_counter() - self.t0)
            count = f"{self.n}/{self.total}" if self.total else str(self.n)
            sys.stderr.write(f"\r{count} {self.noun}, {rate:.2f}/s" + (f", {note}" if note else ""))
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.n:
            sys.stderr.write("\n")
