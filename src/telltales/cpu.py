"""How many threads one process's native runtimes may use, in one place.

The CLIP backbone and the OCR (onnxruntime) and the landmark models (TFLite) each
run a thread pool. One process uses ``$TELLTALES_THREADS`` threads, or the
machine's cores up to 2 when it is unset. ``telltales scan --jobs N`` and the
evaluation runner give each of their N worker processes its share of the cores
(:func:`share_cores`), so N workers do not run N full-size pools that fight over
the same cores: onnxruntime's threads spin while they wait, and oversubscribed
they spend the machine spinning.
"""

from __future__ import annotations

import os

ENV = "TELLTALES_THREADS"


def threads() -> int:
    """Threads this process's native runtimes may use (``$TELLTALES_THREADS``, else min(2, cores))."""
    try:
        n = int(os.environ.get(ENV) or 0)
    except ValueError:
        n = 0
    return n if n > 0 else min(2, os.cpu_count() or 1)


def worker_share(jobs: int) -> int | None:
    """Each of ``jobs`` worker processes' share of the cores (None for one process: keep the default)."""
    return max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None


def share_cores(n: int | None) -> None:
    """Limit this worker process's native threads to ``n`` (None: leave the default).

    Only through the environment, read when a model session is created: OpenCV's
    thread pool must not be touched in a forked worker (``cv2.setNumThreads`` there can
    deadlock on a lock the parent's pool held at the fork)."""
    if n:
        os.environ[ENV] = str(n)
