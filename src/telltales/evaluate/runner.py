"""Running every cue on every labelled image under every condition: cached, resumable, parallel.

The cache is one SQLite file in the output folder with two tables:

* ``conditioned``: (sha256 of the original file, condition, condition version) ->
  sha256 of the condition's bytes, image description, degradation notes, decode
  time, or the error that stopped it;
* ``findings``: (sha256 of the condition's bytes, cue id, cue version) -> the
  finding as a dict.

Each result is committed as soon as it is computed, so a killed run loses only
the images in flight, and running again recomputes only what is missing: after
a cue's version changes, only that cue runs again. Failed cues ("error"
findings) are cached too (a cue that fails on every image must not make each
re-run decode every image again); ``retry_errors=True`` (``--retry-errors``)
runs them again, for instance after installing a missing package. For fitting
they count as not applicable. Fusion is recomputed from the cached findings on every run,
which is cheap.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import cpu
from ..errors import TelltalesError
from ..findings import Finding, Region, Status
from ..fusion import Fusion
from ..limits import DEFAULT_MAX_PIXELS
from ..progress import Progress
from . import conditions as conds
from .manifest import Item

CACHE_NAME = "cache.sqlite"


# cache --------------------------------------------------------------------------------
class Cache:
    """The SQLite cache; only the main process writes to it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS conditioned (src TEXT, condition TEXT, cversion TEXT, "
            "info TEXT, PRIMARY KEY (src, condition, cversion))"
        )
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS findings (sha TEXT, cue TEXT, version TEXT, finding TEXT, "
            "PRIMARY KEY (sha, cue, version))"
        )
        self.db.commit()

    def close(self) -> None:
        self.db.close()

    def get_conditioned(self, src: str, condition: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT info FROM conditioned WHERE src=? AND condition=? AND cversion=?",
            (src, condition, conds.VERSION),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def put_conditioned(self, src: str, condition: str, info: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO conditioned VALUES (?, ?, ?, ?)",
            (src, condition, conds.VERSION, json.dumps(info)),
        )

    def get_findings(
        self, sha: str, versions: dict[str, str], *, errors: bool = True
    ) -> dict[str, dict[str, Any]]:
        """Cached findings for these cue versions; ``errors=False`` leaves failed cues out."""
        rows = self.db.execute("SELECT cue, version, finding FROM findings WHERE sha=?", (sha,)).fetchall()
        found = {cue: json.loads(f) for cue, v, f in rows if versions.get(cue) == v}
        return {c: f for c, f in found.items() if errors or f["status"] != "error"}

    def put_findings(self, sha: str, findings: Sequence[dict[str, Any]]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO findings VALUES (?, ?, ?, ?)",
            [(sha, f["cue"], f["version"], json.dumps(f)) for f in findings],
        )

    def commit(self) -> None:
        self.db.commit()


# workers ------------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _init_worker(options: dict[str, Any]) -> None:
    from ..registry import all_cues

    cpu.share_cores(options.get("threads"))  # before any model session is created
    all_cues()  # import every cue module once per process
    _WORKER.update(options)


def compute(path: str, condition: str, cue_ids: Sequence[str]) -> dict[str, Any]:
    """Apply ``condition`` to the file and run ``cue_ids`` on the result (in a worker)."""
    from ..analysis import Analysis
    from ..api import run_cue
    from ..degradation import degradation_notes
    from ..image import load_image
    from ..registry import get

    t0 = time.perf_counter()
    try:
        data = conds.apply(condition, Path(path).read_bytes())
        image = load_image(data, max_pixels=_WORKER.get("max_pixels", DEFAULT_MAX_PIXELS))
    except (TelltalesError, OSError) as exc:
        return {"error": f"{condition}: {exc}", "cacheable": not isinstance(exc, OSError)}
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop an evaluation
        return {"error": f"{condition}: internal error: {type(exc).__name__}: {exc}", "cacheable": False}
    analysis = Analysis(image, working_size=_WORKER.get("working_size", 1536))
    info = {
        "sha": image.sha256,
        "image": image.describe(),
        "degraded": degradation_notes(image),
        "load_seconds": round(time.perf_counter() - t0, 4),
        "error": None,
    }
    findings = [run_cue(get(c), analysis)[0].to_dict() for c in cue_ids]
    return {"info": info, "findings": findings}


# the run ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    index: int  # into the dataset items
    condition: str
    src: str  # sha256 of the original file
    cues: tuple[str, ...]


def file_sha(path: str) -> str | None:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


def run(
    items: Sequence[Item],
    out: str | Path,
    *,
    conditions: Sequence[str] = ("asis",),
    cues: list[str] | None = None,
    jobs: int = 1,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    working_size: int = 1536,
    progress: bool = True,
    retry_errors: bool = False,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Records (one per item and condition, in that order) with every finding, and run counts.

    Findings already in the cache are reused; the rest are computed with ``jobs`` processes.
    """
    from ..registry import select

    if jobs < 1:
        raise TelltalesError(f"--jobs must be at least 1, got {jobs}")
    selected = select(cues)
    versions = {c.id: c.version for c in selected}
    order = [c.id for c in selected]
    cache = Cache(Path(out) / CACHE_NAME)
    records: dict[tuple[int, str], dict[str, Any]] = {}
    tasks: list[Task] = []
    counts: Counter = Counter()
    try:
        for i, item in enumerate(items):
            src = file_sha(item.path)
            for cond in conditions:
                if src is None:
                    records[i, cond] = _record(item, cond, {"error": f"cannot read {item.file}"}, {}, order)
                    continue
                info = cache.get_conditioned(src, cond)
                if info is not None and info.get("error"):
                    records[i, cond] = _record(item, cond, info, {}, order)
                    counts["cached"] += 1
                    continue
                have = cache.get_findings(info["sha"], versions, errors=not retry_errors) if info else {}
                missing = tuple(c for c in order if c not in have)
                if info is not None and not missing:
                    records[i, cond] = _record(item, cond, info, have, order)
                    counts["cached"] += 1
                else:
                    tasks.append(Task(i, cond, src, missing))

        bar = Progress(progress, len(tasks), noun="computed")

        def done(task: Task, result: dict[str, Any]) -> None:
            item = items[task.index]
            if "info" not in result:
                info = {"error": result["error"]}
                if result.get("cacheable"):
                    cache.put_conditioned(task.src, task.condition, info)
                have: dict[str, dict[str, Any]] = {}
                counts["errors"] += 1
            else:
                info = result["info"]
                cache.put_conditioned(task.src, task.condition, info)
                cache.put_findings(info["sha"], result["findings"])
                have = cache.get_findings(info["sha"], versions)
                have.update({f["cue"]: f for f in result["findings"]})
                counts["computed"] += 1
            cache.commit()
            records[task.index, task.condition] = _record(item, task.condition, info, have, order)
            bar.update()

        options = {"max_pixels": max_pixels, "working_size": working_size}
        _init_worker(options)
        if jobs == 1 or len(tasks) <= 1:
            for t in tasks:
                done(t, compute(items[t.index].path, t.condition, t.cues))
        else:
            # each worker gets its share of the cores, as in `telltales scan`
            _parallel(tasks, items, jobs, {**options, "threads": cpu.worker_share(jobs)}, done)
        bar.close()
    finally:
        cache.close()
    ordered = [records[i, c] for i in range(len(items)) for c in conditions]
    return ordered, dict(counts)


def _parallel(
    tasks: list[Task],
    items: Sequence[Item],
    jobs: int,
    options: dict[str, Any],
    done: Callable[[Task, dict[str, Any]], None],
) -> None:
    """Like ``telltales scan``: a bounded window of work; a crashed worker is replaced and its
    images retried once, then recorded as errors."""
    todo: Iterator[Task] = iter(tasks)
    retry: list[Task] = []
    attempts: Counter = Counter()
    exhausted = False
    while True:
        pool = cpu.process_pool(jobs, _init_worker, (options,))
        inflight: dict[Future, Task] = {}
        try:
            while True:
                while len(inflight) < jobs * 3 and (retry or not exhausted):
                    t = retry.pop() if retry else next(todo, None)
                    if t is None:
                        exhausted = True
                        break
                    inflight[pool.submit(compute, items[t.index].path, t.condition, t.cues)] = t
                if not inflight:
                    pool.shutdown()
                    return
                finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in finished:
                    done(inflight.pop(fut), fut.result())
        except BrokenProcessPool:
            pool.shutdown(wait=False, cancel_futures=True)
            for t in inflight.values():
                attempts[t] += 1
                if attempts[t] >= 2:
                    done(t, {"error": f"{t.condition}: the analysis process crashed on this file (twice)"})
                else:
                    retry.append(t)


def _record(
    item: Item,
    condition: str,
    info: dict[str, Any],
    findings: dict[str, dict[str, Any]],
    order: Sequence[str],
) -> dict[str, Any]:
    fs = [findings[c] for c in order if c in findings]
    return {
        "file": item.file,
        "label": item.label,
        "generator": item.generator,
        "group": item.group,
        "family": item.family,
        "condition": condition,
        "sha256": info.get("sha"),
        "error": info.get("error"),
        "image": info.get("image"),
        "degraded": info.get("degraded", []),
        "seconds": round(info.get("load_seconds", 0.0) + sum(f.get("seconds", 0.0) for f in fs), 4),
        "findings": fs,
    }


# fusion from cached findings -------------------------------------------------------------
def finding_from_dict(d: dict[str, Any]) -> Finding:
    return Finding(
        cue=d["cue"],
        category=d.get("category", ""),
        status=Status(d["status"]),
        strength=d.get("strength"),
        reason=d.get("reason", ""),
        regions=tuple(Region(tuple(r["box"]), r.get("label", "")) for r in d.get("regions", [])),
        details=d.get("details", {}),
        seconds=d.get("seconds", 0.0),
        version=d.get("version", "1"),
        decisive=bool(d.get("decisive", False)),
    )


def score(
    records: Sequence[dict[str, Any]],
    fusion: Fusion | Callable[[dict[str, Any]], Fusion],
) -> list[dict[str, Any]]:
    """Each record with ``p_generated``, ``verdict``, ``unsure_reason``, ``reasons`` added.

    ``fusion`` may be a function of the record (leave-one-group-out: the fusion fitted
    without the record's family).
    """
    out = []
    for r in records:
        if r.get("error"):
            out.append(r | {"p_generated": None, "verdict": "error", "unsure_reason": None, "reasons": []})
            continue
        fus = fusion(r) if callable(fusion) else fusion
        v = fus.combine([finding_from_dict(f) for f in r["findings"]], degraded=r.get("degraded") or [])
        out.append(r | {
            "p_generated": round(v.p_generated, 6),
            "verdict": v.verdict,
            "unsure_reason": v.unsure_reason,
            "reasons": list(v.reasons),
            "fusion": fus.name,
        })
    return out


def write_rows(records: Sequence[dict[str, Any]], path: str | Path) -> None:
    """Every image's row (scores, verdict, findings) as JSON Lines."""
    with open(path, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
