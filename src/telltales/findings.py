"""Findings: what one cue says about one image.

A cue returns a :class:`Result` (what it measured); the runner turns it into a
:class:`Finding` by adding the cue's identity, version and timing. Both are frozen.

Coordinates: every region is a box ``(x, y, w, h)`` in pixels of the original
image, after EXIF orientation has been applied (the image as a viewer shows it).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    GENERATED = "generated-evidence"
    REAL = "real-evidence"
    CLEAR = "clear"
    NOT_APPLICABLE = "not-applicable"
    ERROR = "error"


@dataclass(frozen=True)
class Region:
    """A box ``(x, y, w, h)`` in original-image pixels and a short label."""

    box: tuple[int, int, int, int]
    label: str = ""

    def __post_init__(self) -> None:
        if len(self.box) != 4:
            raise ValueError(f"box must be (x, y, w, h), got {self.box!r}")
        object.__setattr__(self, "box", tuple(int(round(v)) for v in self.box))

    def to_dict(self) -> dict[str, Any]:
        return {"box": list(self.box), "label": self.label}


@dataclass(frozen=True)
class ManualCheck:
    """Something a person should look at, with guidance and optional regions."""

    cue: str
    guidance: str
    regions: tuple[Region, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"cue": self.cue, "guidance": self.guidance}
        if self.regions:
            d["regions"] = [r.to_dict() for r in self.regions]
        return d


def json_safe(value: Any) -> Any:
    """Make a value JSON-safe: numpy scalars/arrays to Python, NaN to None, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):
        return json_safe(value.tolist())
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float):
        return None if not math.isfinite(value) else value
    if isinstance(value, bool | int | str) or value is None:
        return value
    return str(value)


@dataclass(frozen=True)
class Result:
    """What a cue function returns. Use the constructors below."""

    status: Status
    reason: str
    strength: float | None = None
    regions: tuple[Region, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    manual: tuple[ManualCheck, ...] = ()
    decisive: bool = False

    def __post_init__(self) -> None:
        status = Status(self.status)
        object.__setattr__(self, "status", status)
        if self.strength is not None:
            s = float(self.strength)
            if not math.isfinite(s):
                raise ValueError("strength must be finite or None")
            object.__setattr__(self, "strength", min(1.0, max(0.0, s)))
        if status in (Status.GENERATED, Status.REAL) and self.strength is None:
            raise ValueError(f"a {status} result needs a strength in [0, 1]")
        if status in (Status.NOT_APPLICABLE, Status.ERROR) and self.strength is not None:
            raise ValueError(f"a {status} result has no strength")
        if not self.reason:
            raise ValueError("every result needs a plain-language reason")
        object.__setattr__(self, "regions", tuple(self.regions))
        object.__setattr__(self, "manual", tuple(self.manual))
        object.__setattr__(self, "details", json_safe(dict(self.details)))

    # constructors -------------------------------------------------------------
    @classmethod
    def generated(cls, strength: float, reason: str, **kw: Any) -> Result:
        return cls(Status.GENERATED, reason, strength, **kw)

    @classmethod
    def real(cls, strength: float, reason: str, **kw: Any) -> Result:
        return cls(Status.REAL, reason, strength, **kw)

    @classmethod
    def clear(cls, reason: str, strength: float | None = None, **kw: Any) -> Result:
        return cls(Status.CLEAR, reason, strength, **kw)

    @classmethod
    def not_applicable(cls, reason: str, **kw: Any) -> Result:
        return cls(Status.NOT_APPLICABLE, reason, None, **kw)

    @classmethod
    def error(cls, reason: str, **kw: Any) -> Result:
        return cls(Status.ERROR, reason, None, **kw)


@dataclass(frozen=True)
class Finding:
    """One cue's verdict on one image, as it appears in the report."""

    cue: str
    category: str
    status: Status
    strength: float | None
    reason: str
    regions: tuple[Region, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    version: str = "1"
    decisive: bool = False

    @property
    def score(self) -> float | None:
        """Signed evidence in [-1, 1]: + towards generated, - towards real, 0 clear, None n/a."""
        if self.status == Status.GENERATED:
            return float(self.strength or 0.0)
        if self.status == Status.REAL:
            return -float(self.strength or 0.0)
        if self.status == Status.CLEAR:
            return 0.0
        return None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = str(self.status)
        d["regions"] = [r.to_dict() for r in self.regions]
        d["seconds"] = round(self.seconds, 4)
        return d
