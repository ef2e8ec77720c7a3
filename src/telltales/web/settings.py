"""What one server runs with: a frozen record, with the defaults ``telltales serve`` uses."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..limits import DEFAULT_MAX_PIXELS

MiB = 1024 * 1024


def default_data_dir() -> Path:
    """Where cases live when no --db / --images is given: $XDG_DATA_HOME/telltales."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "telltales"


def database_url(url: str | None, data_dir: Path) -> str:
    """The SQLAlchemy URL for ``url``: an SQLite file in ``data_dir`` when None, and
    ``postgresql://`` / ``postgres://`` mapped to the psycopg (3) driver."""
    if not url:
        return f"sqlite:///{data_dir / 'cases.sqlite'}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@dataclass(frozen=True)
class Settings:
    """Limits and places for one server. Every limit is enforced before analysis starts,
    except ``time_limit_s``, which stops an analysis that runs too long."""

    db_url: str
    images_dir: Path
    workers: int = 1
    queue: int = 2  # analyses that may wait for a worker; more gets 503 + Retry-After
    max_upload_bytes: int = 50 * MiB
    max_pixels: int = DEFAULT_MAX_PIXELS  # the library's pixel budget (JPEGs over it decode reduced)
    time_limit_s: float = 180.0
    body_timeout_s: float = 30.0  # the longest wait for the next piece of a request body
    retry_after_s: int = 10
    password: str | None = field(default=None, repr=False)
    fusion: str | None = None
    cues: tuple[str, ...] | None = None  # the cues every upload runs (None: all)
    warm_up: bool = False  # analyse a small example at startup so the models are loaded
    base_rate: float | None = None  # also give p_generated where this share of uploads is generated

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if self.queue < 0:
            raise ValueError(f"queue must be 0 or more, got {self.queue}")
        if self.max_upload_bytes < 1 or self.max_pixels < 1:
            raise ValueError("max_upload_bytes and max_pixels must be positive")
        if self.base_rate is not None and not 0 < self.base_rate < 1:
            raise ValueError(f"base_rate is a share strictly between 0 and 1, got {self.base_rate}")

    @property
    def capacity(self) -> int:
        """How many analyses may be running or waiting at once."""
        return self.workers + self.queue

    @classmethod
    def make(cls, db: str | None = None, images: str | os.PathLike | None = None,
             **kw: object) -> Settings:
        """Settings with the default data folder filled in where ``db`` / ``images`` are None."""
        data_dir = default_data_dir()
        images_dir = Path(images) if images else data_dir / "images"
        if not db:
            data_dir.mkdir(parents=True, exist_ok=True)
        return cls(db_url=database_url(db, data_dir), images_dir=images_dir, **kw)  # type: ignore[arg-type]
