"""Analyses run in a bounded pool of worker processes, never on the event loop.

The pool admits at most ``capacity`` analyses (running plus waiting); :meth:`AnalysisPool.submit`
returns None when it is full, and the server answers 503 with Retry-After. Each worker loads the
fusion once; each analysis is stopped by a timer in the worker after ``time_limit_s``.
"""

from __future__ import annotations

import io
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..cpu import process_pool

PREVIEW_SIDE = 1600

_FUSION: Any = None


class AnalysisTimeout(BaseException):
    """Raised by the worker's timer; a BaseException so that no cue's ``except Exception``
    swallows it and the analysis really stops."""


@dataclass(frozen=True)
class Outcome:
    """What a worker sends back: the report (the library's JSON, unchanged) and a preview."""

    status: str  # "ok", "unreadable" (the report says why) or "timeout"
    report: dict[str, Any] | None
    preview: bytes | None = None  # JPEG the browser can show, oriented as the boxes are
    message: str = ""


def init_worker(fusion: str | None, threads: int | None = None) -> None:
    """Load the fusion once per worker process; take ``threads`` native threads (its share of the cores)."""
    global _FUSION
    from ..cpu import share_cores
    from ..fusion import Fusion

    share_cores(threads)  # before any model session is created

    _FUSION = Fusion.load(fusion)


def preview_jpeg(pixels: Any, max_side: int = PREVIEW_SIDE) -> bytes:
    """A JPEG of the oriented pixels, at most ``max_side`` on its long side."""
    from PIL import Image as PILImage

    img = PILImage.fromarray(pixels)
    scale = min(1.0, max_side / max(img.size))
    if scale < 1.0:
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                         PILImage.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=88)
    return buf.getvalue()


_TIMER_FIRED = threading.Event()


def _raise_timeout(signum: int, frame: Any) -> None:
    # the flag too: an exception raised from a signal handler is lost when it lands in a
    # finaliser (``Exception ignored in ...``), and the analysis then runs on to the end
    _TIMER_FIRED.set()
    raise AnalysisTimeout()


def analyse_upload(data: bytes, cues: tuple[str, ...] | None, max_pixels: int,
                   time_limit_s: float, profile: str = "full") -> Outcome:
    """Analyse one uploaded file in a worker process (module-level, so it pickles).

    ``profile="triage"``: the cheap cues first, the full inspection only where they are not
    clear-cut (:func:`telltales.api.analyse`)."""
    from ..api import analyse, error_report
    from ..errors import ImageError
    from ..fusion import Fusion
    from ..image import load_image
    from ..registry import select

    fusion = _FUSION if _FUSION is not None else Fusion.load(None)
    chosen = select(list(cues) if cues else None)
    use_timer = threading.current_thread() is threading.main_thread() and time_limit_s > 0
    _TIMER_FIRED.clear()
    if use_timer:
        previous = signal.signal(signal.SIGALRM, _raise_timeout)
        signal.setitimer(signal.ITIMER_REAL, time_limit_s)
    try:
        try:
            image = load_image(data, max_pixels=max_pixels, max_bytes=max(len(data), 1))
        except ImageError as exc:
            return Outcome("unreadable", error_report(None, str(exc), chosen, fusion).to_dict())
        report = analyse(image, cues=chosen, fusion=fusion, profile=profile)
        if use_timer and _TIMER_FIRED.is_set():
            raise AnalysisTimeout()
        return Outcome("ok", report.to_dict(), preview_jpeg(image.pixels))
    except AnalysisTimeout:
        return Outcome("timeout", None, message=f"the analysis took longer than {time_limit_s:g} s")
    finally:
        if use_timer:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


class AnalysisPool:
    """A process pool that refuses work beyond ``capacity`` instead of queueing without end."""

    def __init__(self, workers: int, capacity: int, *, initializer: Callable[..., None] | None = None,
                 initargs: tuple[Any, ...] = ()) -> None:
        if capacity < workers:
            raise ValueError("capacity must be at least the number of workers")
        self.workers = workers
        self.capacity = capacity
        self._initializer = initializer
        self._initargs = initargs
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = process_pool(self.workers, self._initializer, self._initargs)
        return self._executor

    def _release(self, _: Future) -> None:
        with self._lock:
            self._in_flight -= 1

    def submit(self, func: Callable[..., Any], *args: Any) -> Future | None:
        """Start ``func(*args)`` in a worker, or return None when the pool is full."""
        with self._lock:
            if self._in_flight >= self.capacity:
                return None
            self._in_flight += 1
            try:
                fut = self._pool().submit(func, *args)
            except BaseException:
                self._in_flight -= 1
                raise
        fut.add_done_callback(self._release)
        return fut

    def shutdown(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
