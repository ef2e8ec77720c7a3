"""Progress on stderr with tqdm: a count, a rate and, when the total is known, an ETA.

Shown only when stderr is a terminal, so logs and pipes stay clean.
"""

from __future__ import annotations

import sys

from tqdm import tqdm


class Progress:
    """``Progress(enabled, total=None, noun="images")``; ``update(note)`` after each item."""

    def __init__(self, enabled: bool, total: int | None = None, noun: str = "images") -> None:
        self.enabled = enabled and self.shown() and total != 0
        self.bar = tqdm(total=total, unit=f" {noun}", file=sys.stderr, dynamic_ncols=True,
                        disable=not self.enabled, leave=True)

    @staticmethod
    def shown() -> bool:
        """Whether a progress bar would be seen: stderr is a terminal."""
        return sys.stderr.isatty()

    def update(self, note: str = "") -> None:
        if self.enabled:
            if note:
                self.bar.set_postfix_str(note, refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        self.bar.close()
