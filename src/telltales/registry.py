"""The cue registry: one decorator fills it, everything else reads it.

A cue is one function in one module under ``telltales.cues`` (or a plugin
registered under the ``telltales.cues`` entry-point group)::

    @cue("provenance.c2pa", needs=("raw",), version="1")
    def c2pa_manifest(a: Analysis) -> Result: ...

The registry, the CLI, ``telltales taxonomy``, the JSON and the contract test
pick a new module up without any other change.
"""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

from .taxonomy import BY_ID, category_of

if TYPE_CHECKING:
    from .analysis import Analysis
    from .findings import Result

CueFunction = Callable[["Analysis"], "Result"]


@dataclass(frozen=True)
class Cue:
    id: str
    category: str
    func: CueFunction
    needs: tuple[str, ...]
    version: str
    summary: str

    def __call__(self, analysis: Analysis) -> Result:
        return self.func(analysis)


_REGISTRY: dict[str, Cue] = {}
_loaded = False


MODEL_MISSING = "missing"  # the digest of a model file that is not installed


def model_digest(names: tuple[str, ...], folder: Path | None = None) -> str:
    """The first 12 hex digits of the sha256 of these files of ``telltales/models`` (or of
    ``folder``), in order; :data:`MODEL_MISSING` when one is not there."""
    root = folder if folder is not None else resources.files("telltales.models")
    h = hashlib.sha256()
    for name in names:
        try:
            h.update(root.joinpath(name).read_bytes())
        except OSError:
            return MODEL_MISSING
    return h.hexdigest()[:12]


def cue(
    cue_id: str, *, needs: tuple[str, ...] = (), version: str = "1", models: tuple[str, ...] = ()
) -> Callable[[CueFunction], CueFunction]:
    """Register ``func`` as the automated check for taxonomy id ``cue_id``.

    ``needs`` names the shared analyses the cue reads (see ``telltales.analysis``);
    ``version`` changes whenever the cue's output for the same image may change.
    ``models`` names the files of ``telltales/models`` its output depends on (a trained
    head, its calibration, a template): their digest joins the version (``"1+0a1b2c3d4e5f"``),
    so retraining one changes the version as a code change would, and a fusion fitted on the
    old model's output is refused instead of silently mixing the two.
    """
    if cue_id not in BY_ID:
        raise ValueError(f"cue id {cue_id!r} is not in the taxonomy (telltales.taxonomy.ITEMS)")

    def register(func: CueFunction) -> CueFunction:
        if cue_id in _REGISTRY and _REGISTRY[cue_id].func is not func:
            raise ValueError(f"cue {cue_id!r} is registered twice")
        doc = (func.__doc__ or "").strip().splitlines()
        _REGISTRY[cue_id] = Cue(
            id=cue_id,
            category=category_of(cue_id),
            func=func,
            needs=tuple(needs),
            version=f"{version}+{model_digest(models)}" if models else str(version),
            summary=doc[0] if doc else BY_ID[cue_id].failure,
        )
        return func

    return register


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from . import analyses, cues

    for pkg in (analyses, cues):
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            importlib.import_module(info.name)
    for ep in entry_points(group="telltales.cues"):
        ep.load()


def all_cues() -> list[Cue]:
    """Every registered cue, in taxonomy order."""
    _load()
    order = {item.id: i for i, item in enumerate(BY_ID.values())}
    return sorted(_REGISTRY.values(), key=lambda c: order[c.id])


def get(cue_id: str) -> Cue:
    _load()
    try:
        return _REGISTRY[cue_id]
    except KeyError:
        raise KeyError(f"no registered cue {cue_id!r}; known: {sorted(_REGISTRY)}") from None


def matches(cue_id: str, pattern: str) -> bool:
    """Whether ``cue_id`` is ``pattern`` or lies under it (``provenance`` matches ``provenance.c2pa``)."""
    return cue_id == pattern or cue_id.startswith(pattern + ".")


def select(ids: list[str] | None = None, categories: list[str] | None = None) -> list[Cue]:
    """Cues by id (exact or prefix such as ``provenance``) and/or category."""
    from .errors import TelltalesError

    chosen = all_cues()
    if ids:
        unknown = [i for i in ids if not any(matches(t, i) for t in BY_ID)]
        if unknown:
            raise TelltalesError(f"unknown cue(s) {unknown}; see `telltales taxonomy`")
        chosen = [c for c in chosen if any(matches(c.id, i) for i in ids)]
    if categories:
        chosen = [c for c in chosen if c.category in categories]
    return chosen
