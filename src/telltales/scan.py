"""Batch analysis of folders of any size: parallel, resumable, crash-safe.

Each result is appended to a JSON Lines file and flushed as soon as it is
computed, so a killed run loses at most the images in flight. Running again on
the same output skips every path already there. A partial last line (the run
was killed while writing it) is cut off before appending. A bad file becomes
an error row, never a crash; a worker that dies (a native crash) is replaced
and its images retried once, then recorded as errors.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import TelltalesError
from .limits import DEFAULT_MAX_PIXELS
from .progress import Progress

IMAGE_EXTENSIONS = frozenset(
    [".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif", ".heic", ".heif", ".avif", ".mpo", ".jp2", ".ppm", ".pgm", ".pnm"]
)


def iter_inputs(inputs: Iterable[str], *, recursive: bool = True) -> Iterator[str]:
    """Image paths from files, folders and glob patterns, lazily, each once, in a stable order.

    Folders contribute files with an image extension; files named explicitly are
    always included (a bad one becomes an error row).
    """
    seen: set[str] = set()
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            walker = os.walk(p) if recursive else [(str(p), [], [e.name for e in os.scandir(p) if e.is_file()])]
            for root, dirs, files in walker:
                dirs.sort()
                for name in sorted(files):
                    if Path(name).suffix.lower() in IMAGE_EXTENSIONS:
                        path = os.path.join(root, name)
                        if path not in seen:
                            seen.add(path)
                            yield path
        elif p.exists() or not glob.has_magic(item):
            if item not in seen:
                seen.add(item)
                yield item
        else:
            for path in sorted(glob.iglob(item, recursive=True)):
                if os.path.isfile(path) and path not in seen:
                    seen.add(path)
                    yield path


def read_done(out: Path) -> dict[str, dict[str, Any]]:
    """Rows already in ``out`` by path; cuts off a partial last line left by a killed run."""
    done: dict[str, dict[str, Any]] = {}
    if not out.exists():
        return done
    with open(out, "rb+") as fh:
        data = fh.read()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            fh.truncate(end)
    for line in data[:end].splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and "path" in row:
            done[row["path"]] = row
    return done


# workers ----------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _init_worker(options: dict[str, Any]) -> None:
    from .fusion import Fusion
    from .registry import select

    _WORKER["cues"] = select(options.get("cues"))
    _WORKER["fusion"] = Fusion.load(options.get("fusion"))
    _WORKER["options"] = options


def _analyse_path(path: str) -> dict[str, Any]:
    from .api import analyse, error_report
    from .errors import ImageError
    from .image import load_image

    cues, fusion, opt = _WORKER["cues"], _WORKER["fusion"], _WORKER["options"]
    try:
        image = load_image(path, max_pixels=opt.get("max_pixels", DEFAULT_MAX_PIXELS))
        report = analyse(image, cues=cues, fusion=fusion, working_size=opt.get("working_size", 1536))
    except ImageError as exc:
        report = error_report(path, str(exc), cues, fusion)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop a batch
        report = error_report(path, f"internal error: {type(exc).__name__}: {exc}", cues, fusion)
    return report.to_dict()


@dataclass
class ScanSummary:
    total: int = 0
    analysed: int = 0
    skipped: int = 0
    errors: int = 0
    verdicts: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "analysed": self.analysed,
            "skipped_already_done": self.skipped,
            "errors": self.errors,
            "verdicts": dict(self.verdicts),
            "seconds": round(self.seconds, 2),
            "images_per_second": round(self.analysed / self.seconds, 3) if self.seconds else None,
        }


def _crash_row(path: str, message: str) -> dict[str, Any]:
    return {
        "path": path, "sha256": None, "verdict": "error", "p_generated": None,
        "unsure_reason": None, "reasons": [], "error": message,
        "findings": [], "manual_checks": [], "version": {},
    }


def scan(
    inputs: Iterable[str],
    out: str | Path,
    *,
    jobs: int = 1,
    cues: list[str] | None = None,
    fusion: str | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    working_size: int = 1536,
    progress: bool = True,
    recursive: bool = True,
) -> ScanSummary:
    """Analyse every image in ``inputs`` into the JSON Lines file ``out``, resuming if it exists."""
    if jobs < 1:
        raise TelltalesError(f"--jobs must be at least 1, got {jobs}")
    out = Path(out)
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    options = {"cues": cues, "fusion": fusion, "max_pixels": max_pixels, "working_size": working_size}
    _init_worker(options)  # validates cue ids and the fusion file before any work starts
    done = read_done(out)
    summary = ScanSummary()
    t0 = time.perf_counter()

    def pending() -> Iterator[str]:
        for path in iter_inputs(inputs, recursive=recursive):
            if path in done:
                summary.skipped += 1
            else:
                yield path

    todo = pending()
    bar = Progress(progress)
    with open(out, "a", encoding="utf-8") as fh:

        def write(row: dict[str, Any]) -> None:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()
            summary.analysed += 1
            summary.errors += row.get("error") is not None
            summary.verdicts[row["verdict"]] += 1
            bar.update(f"last: {row['verdict']:<9}")

        if jobs == 1:
            for path in todo:
                write(_analyse_path(path))
        else:
            _run_parallel(todo, jobs, options, write)
    bar.close()
    summary.seconds = time.perf_counter() - t0
    summary.total = summary.analysed + summary.skipped
    return summary


def _run_parallel(todo: Iterator[str], jobs: int, options: dict[str, Any], write) -> None:
    window = jobs * 4
    attempts: Counter = Counter()
    retry: list[str] = []
    exhausted = False
    while True:
        pool = ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(options,))
        inflight: dict[Future, str] = {}
        try:
            while True:
                while len(inflight) < window and (retry or not exhausted):
                    if retry:
                        path = retry.pop()
                    else:
                        path = next(todo, None)
                        if path is None:
                            exhausted = True
                            break
                    inflight[pool.submit(_analyse_path, path)] = path
                if not inflight:
                    pool.shutdown()
                    return
                finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in finished:
                    row = fut.result()  # raises BrokenProcessPool if the worker died: path stays in flight
                    del inflight[fut]
                    write(row)
        except BrokenProcessPool:
            pool.shutdown(wait=False, cancel_futures=True)
            for path in inflight.values():
                attempts[path] += 1
                if attempts[path] >= 2:
                    write(_crash_row(path, "the analysis process crashed on this file (twice)"))
                else:
                    retry.append(path)


def write_csv(jsonl: str | Path, csv_path: str | Path) -> int:
    """One row per image from a scan's JSON Lines: verdict, probability, top reason, each cue's score."""
    rows = list(read_done(Path(jsonl)).values())
    cue_ids = sorted({f["cue"] for r in rows for f in r.get("findings", [])})
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "sha256", "verdict", "p_generated", "error", "top_reason", *cue_ids])
        for r in rows:
            status = {f["cue"]: f for f in r.get("findings", [])}
            cells = []
            for c in cue_ids:
                f = status.get(c)
                if f is None or f["status"] in ("not-applicable", "error"):
                    cells.append("" if f is None else f["status"])
                else:
                    sign = {"generated-evidence": 1, "real-evidence": -1}.get(f["status"], 0)
                    cells.append(f"{sign * (f['strength'] or 0):.3f}")
            w.writerow([
                r["path"], r.get("sha256"), r["verdict"], r["p_generated"], r.get("error") or "",
                (r.get("reasons") or [""])[0], *cells,
            ])
    return len(rows)
