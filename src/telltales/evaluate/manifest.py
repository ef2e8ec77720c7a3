"""Labelled images in: a folder with ``ai/`` and ``real/`` sub-folders, or a manifest.

A manifest is a TSV or CSV file with at least the columns ``file`` and
``label``; ``generator``, ``group`` and ``family`` are optional. Paths are
relative to the manifest. Labels accept ``ai``/``generated``/``fake``/``1`` and
``real``/``authentic``/``0``. A bad row (missing file, unknown label) is
reported as a problem, never fatal.

Every row also gets a *family*: the unit held out together in
leave-one-generator-out validation, defined once in
:mod:`telltales.evaluate.families` (generator family for AI images, source
collection for real photos).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ..errors import TelltalesError
from ..scan import IMAGE_EXTENSIONS
from .families import FOLDER_LABELS, family, family_of, source_folder  # noqa: F401 (re-exported)

AI_LABELS = frozenset({"ai", "generated", "fake", "synthetic", "1", "true"})
REAL_LABELS = frozenset({"real", "authentic", "camera", "0", "false"})


@dataclass(frozen=True)
class Item:
    """One labelled image: ``label`` is 1 for generated, 0 for real."""

    path: str  # absolute or relative to the working directory, as opened
    file: str  # as written in the manifest (relative), used in reports
    label: int
    generator: str
    group: str
    family: str


@dataclass(frozen=True)
class Dataset:
    items: tuple[Item, ...]
    problems: tuple[str, ...]  # bad rows, reported and skipped
    source: str


def parse_label(value: str) -> int | None:
    v = (value or "").strip().lower()
    if v in AI_LABELS:
        return 1
    if v in REAL_LABELS:
        return 0
    return None


# reading --------------------------------------------------------------------------
def load(source: str | Path, *, limit: int | None = None, seed: int = 0) -> Dataset:
    """A folder (``ai/`` and ``real/`` inside) or a manifest file, as a :class:`Dataset`.

    ``limit`` keeps a stratified random subsample of that many items (same
    share of each label), reproducible with ``seed``.
    """
    p = Path(source)
    if p.is_dir():
        ds = from_folder(p)
    elif p.is_file():
        ds = from_manifest(p)
    else:
        raise TelltalesError(f"{source}: no such folder or manifest file")
    if limit is not None and limit < len(ds.items):
        ds = Dataset(subsample(ds.items, limit, seed), ds.problems, ds.source)
    return ds


def from_folder(folder: Path) -> Dataset:
    items: list[Item] = []
    found = False
    for sub in sorted(folder.iterdir()):
        label = FOLDER_LABELS.get(sub.name.lower())
        if label is None or not sub.is_dir():
            continue
        found = True
        for path in sorted(sub.rglob("*")):
            if path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS:
                rel = path.relative_to(folder).as_posix()
                items.append(Item(str(path), rel, label, "", "", family(rel, label)))
    if not found:
        raise TelltalesError(
            f"{folder}: expected sub-folders ai/ (or generated/, fake/) and real/ (or authentic/)"
        )
    return Dataset(tuple(items), (), str(folder))


def from_manifest(manifest: Path) -> Dataset:
    try:
        text = manifest.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TelltalesError(f"cannot read manifest {manifest}: {exc}") from None
    first = text.splitlines()[0] if text else ""
    delimiter = "\t" if "\t" in first else ","
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
    columns = {c.strip().lower() for c in (reader.fieldnames or [])}
    if not {"file", "label"} <= columns:
        raise TelltalesError(
            f"manifest {manifest} needs the columns 'file' and 'label' (found: {sorted(columns)})"
        )
    base = manifest.parent
    items: list[Item] = []
    problems: list[str] = []
    for lineno, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        file = row.get("file", "")
        label = parse_label(row.get("label", ""))
        if not file:
            problems.append(f"line {lineno}: empty 'file'")
            continue
        if label is None:
            problems.append(f"line {lineno}: {file}: unknown label {row.get('label')!r} (use ai or real)")
            continue
        path = Path(file) if Path(file).is_absolute() else base / file
        if not path.is_file():
            problems.append(f"line {lineno}: {file}: no such file")
            continue
        generator = row.get("generator", "")
        fam = family(file, label, generator, row.get("family", ""), row.get("source_repo", ""))
        items.append(Item(str(path), file, label, generator, row.get("group", ""), fam))
    return Dataset(tuple(items), tuple(problems), str(manifest))


def subsample(items: tuple[Item, ...], n: int, seed: int = 0) -> tuple[Item, ...]:
    """``n`` items keeping the label shares, in the original order."""
    import numpy as np

    rng = np.random.default_rng(seed)
    keep: list[int] = []
    for label in (0, 1):
        idx = [i for i, it in enumerate(items) if it.label == label]
        k = round(n * len(idx) / max(1, len(items)))
        keep.extend(rng.choice(idx, size=min(k, len(idx)), replace=False).tolist())
    return tuple(items[i] for i in sorted(keep))
