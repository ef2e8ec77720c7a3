"""The per-image cache of shared, lazily computed inputs.

Cues name what they read (``needs=("rgb", "faces")``); each input is computed
at most once per image, on first use, by a *provider* registered here::

    @provider("gray")
    def gray(a: Analysis) -> np.ndarray: ...

Providers live in ``telltales.analyses``; a provider that needs a heavy model
imports it inside the function, so images that never need it never pay for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .image import Image

Provider = Callable[["Analysis"], Any]
_PROVIDERS: dict[str, Provider] = {}

DEFAULT_WORKING_SIZE = 1536
# how much of an image a profile looks at: "full" every view, "triage" the cheapest view
# of each input that has a choice (the CLIP detector's global view alone) and no OCR
PROFILES = ("full", "triage")


def provider(name: str) -> Callable[[Provider], Provider]:
    """Register ``func`` as the one way to compute the shared input ``name``."""

    def register(func: Provider) -> Provider:
        if name in _PROVIDERS and _PROVIDERS[name] is not func:
            raise ValueError(f"analysis {name!r} has two providers")
        _PROVIDERS[name] = func
        return func

    return register


def known_inputs() -> set[str]:
    from .registry import _load

    _load()
    return set(_PROVIDERS)


class Analysis:
    """Shared inputs for one image. ``a.get("gray")`` or ``a.gray``."""

    def __init__(self, image: Image, *, working_size: int = DEFAULT_WORKING_SIZE, profile: str = "full") -> None:
        if working_size < 64:
            raise ValueError(f"working_size must be at least 64, got {working_size}")
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
        self.image = image
        self.working_size = working_size
        self.profile = profile
        self._cache: dict[str, Any] = {}
        self.timings: dict[str, float] = {}

    def get(self, name: str) -> Any:
        if name in self._cache:
            return self._cache[name]
        try:
            func = _PROVIDERS[name]
        except KeyError:
            raise KeyError(f"no analysis provider {name!r}; known: {sorted(_PROVIDERS)}") from None
        t0 = time.perf_counter()
        value = func(self)
        self.timings[name] = time.perf_counter() - t0
        self._cache[name] = value
        return value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in _PROVIDERS:
            return self.get(name)
        raise AttributeError(f"Analysis has no input {name!r}")

    # coordinates ----------------------------------------------------------------
    @property
    def scale(self) -> float:
        """Working-size pixels per original pixel (<= 1)."""
        w, h = self.image.size
        return min(1.0, self.working_size / max(w, h))

    def to_original(self, box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
        """A box ``(x, y, w, h)`` in working-size pixels, in original-image pixels, clipped."""
        s = self.scale
        x, y, w, h = (v / s for v in box)
        W, H = self.image.size
        x0, y0 = max(0, int(round(x))), max(0, int(round(y)))
        x1, y1 = min(W, int(round(x + w))), min(H, int(round(y + h)))
        return (x0, y0, max(0, x1 - x0), max(0, y1 - y0))
