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
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

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
    thread pool must not be touched in a worker (``cv2.setNumThreads`` there can
    deadlock on a lock the parent's pool held at the fork)."""
    if n:
        os.environ[ENV] = str(n)


# how worker processes start (see process_pool); tests that put a fake cue into the parent's
# registry for the workers to run set "fork", and run no native model in those workers
START_METHOD = "spawn"


def process_pool(workers: int, initializer: Callable[..., Any] | None = None,
                 initargs: tuple = ()) -> ProcessPoolExecutor:
    """``workers`` worker processes started with :data:`START_METHOD` ("spawn"), for every
    pool telltales runs.

    A forked worker inherits the parent's native thread pools (onnxruntime's, OpenCV's)
    with their locks in whatever state they were at the fork, so a parent that has
    already run the OCR or the backbone (a notebook that inspected an image, a server, a
    test session) can hang its workers for good: a scan's worker was seen blocked on a
    mutex in the OCR's onnxruntime session. A spawned worker starts clean, at the cost of
    importing telltales once (about a second)."""
    import multiprocessing

    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(START_METHOD),
                               initializer=initializer, initargs=initargs)
