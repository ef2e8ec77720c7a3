"""Batch analysis of folders of any size: parallel, resumable, crash-safe.

Each result is appended to a JSON Lines file and flushed as soon as it is
computed, so a killed run loses at most the images in flight. Running again on
the same output skips every path already there. A partial last line (the run
was killed while writing it) is cut off before appending. A bad file becomes
an error row, never a crash; a worker that dies (a native crash) is replaced
and its images retried once, then recorded as errors.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import json
import os
import stat
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cpu import process_pool, share_cores, worker_share
from .errors import TelltalesError
from .limits import DEFAULT_MAX_PIXELS
from .progress import Progress
from .report import part_missing

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


ROW_START = b'{"path": '  # every row starts so (Report.to_dict and the crash row put "path" first)


def check_output(out: Path) -> None:
    """Refuse an output that is not a regular file or not a telltales JSON Lines file, touching nothing.

    Every line, the partial last one included, must start like a result row, and
    every complete line must be a JSON object with a "path".
    """
    try:
        st = out.stat()
    except FileNotFoundError:
        return
    except NotADirectoryError:
        raise TelltalesError(f"cannot write {out}: a part of its folder path is a file") from None
    except OSError as exc:
        raise TelltalesError(f"cannot write {out}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise TelltalesError(f"{out} is not a regular file: refusing to write results into it")
    with open(out, "rb") as fh:
        for n, line in enumerate(fh, 1):
            if not line.startswith(ROW_START) or (line.endswith(b"\n") and not _is_row(line)):
                raise TelltalesError(
                    f"{out} exists and is not a telltales JSON Lines file (line {n} is not a result "
                    "row): refusing to touch it; choose another --out"
                )


def _is_row(line: bytes) -> bool:
    try:
        row = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return isinstance(row, dict) and "path" in row


def cut_partial_line(out: Path) -> None:
    """Cut off a partial last line left by a killed run (reads only the file's tail)."""
    with open(out, "rb+") as fh:
        size = fh.seek(0, os.SEEK_END)
        pos = size
        while pos > 0:
            step = min(1 << 16, pos)
            fh.seek(pos - step)
            chunk = fh.read(step)
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                end = pos - step + nl + 1
                break
            pos -= step
        else:
            end = 0
        if end < size:
            fh.truncate(end)


def read_status(out: Path) -> dict[str, bool]:
    """Whether each path already in ``out`` has an error row (its last row wins), streamed.

    A path and a flag per row, never the rows themselves: resuming a million-row
    output costs memory for the paths alone. Cuts off a partial last line first;
    ``out`` is checked before (:func:`check_output`), so a file that is not ours is never cut.
    """
    check_output(out)
    status: dict[str, bool] = {}
    if not out.exists():
        return status
    cut_partial_line(out)
    with open(out, "rb") as fh:
        for line in fh:
            row = json.loads(line)
            status[row["path"]] = row.get("error") is not None
    return status


def last_rows(jsonl: Path) -> Iterator[dict[str, Any]]:
    """Each path's last complete row, streamed (one pass for offsets, one to read them)."""
    last: dict[str, int] = {}
    with open(jsonl, "rb") as fh:
        offset = 0
        for line in fh:
            if line.endswith(b"\n"):
                try:
                    path = json.loads(line).get("path")
                except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
                    path = None
                if isinstance(path, str):
                    last[path] = offset
            offset += len(line)
        for start in sorted(last.values()):
            fh.seek(start)
            yield json.loads(fh.readline())


def cue_ids(jsonl: Path) -> list[str]:
    """Every cue id in a scan's JSON Lines, sorted (one streamed pass)."""
    ids: set[str] = set()
    with open(jsonl, "rb") as fh:
        for line in fh:
            try:
                ids.update(f["cue"] for f in json.loads(line).get("findings", []))
            except (json.JSONDecodeError, UnicodeDecodeError, AttributeError, KeyError, TypeError):
                continue
    return sorted(ids)


SIGN = {"generated-evidence": 1.0, "real-evidence": -1.0, "clear": 0.0}


def signed_strength(finding: dict[str, Any]) -> float | None:
    """+strength for generated evidence, -strength for real, 0 when clear; None when the cue could not judge."""
    sign = SIGN.get(finding.get("status") or "")
    return None if sign is None else sign * float(finding.get("strength") or 0.0)


def read_done(out: Path) -> dict[str, dict[str, Any]]:
    """Rows already in ``out`` by path (the last row of a path wins); cuts off a partial last line.

    Holds every row in memory: for small outputs and tests; scans use :func:`read_status`.
    """
    check_output(out)
    if not out.exists():
        return {}
    cut_partial_line(out)
    return {row["path"]: row for row in last_rows(out)}


class OutputLock:
    """An exclusive lock on ``<out>.lock`` for the length of one scan; another scan is refused.

    The lock is an ``flock`` (released by the kernel when the holder dies, so a
    killed scan leaves no stale lock); the file says which pid holds it.
    """

    def __init__(self, out: Path) -> None:
        self.path = out.with_name(out.name + ".lock")
        self.fh: Any = None

    def __enter__(self) -> OutputLock:
        import fcntl

        while True:
            fh = _open_output(self.path, "a+")
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                holder = fh.read().strip() or "unknown"
                fh.close()
                raise TelltalesError(
                    f"{self.path.name[:-5]} is being written by another scan (lock {self.path} "
                    f"held by pid {holder}); wait for it or choose another --out"
                ) from None
            try:  # the holder before us may have removed the file we locked: lock the new one
                same = os.fstat(fh.fileno()).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            fh.close()
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self.fh = fh
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()
        self.fh.close()


def _open_output(path: Path, mode: str, newline: str | None = None) -> Any:
    """``open(path, mode)`` with an OSError turned into a one-line :class:`TelltalesError`."""
    try:
        return open(path, mode, encoding="utf-8", newline=newline)
    except OSError as exc:
        raise TelltalesError(f"cannot write {path}: {exc.strerror or exc}") from None


def _make_parent(out: Path) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise TelltalesError(f"cannot write {out}: a part of its folder path is a file") from None
    except OSError as exc:
        raise TelltalesError(f"cannot write {out}: cannot create {out.parent} ({exc.strerror or exc})") from None


# workers ----------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _init_pool_worker(options: dict[str, Any]) -> None:
    from .quiet import keep_library_warnings_off_stderr

    keep_library_warnings_off_stderr()  # a worker's stderr is the command line's
    share_cores(options.get("threads"))
    _init_worker(options)


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
        report = analyse(image, cues=cues, fusion=fusion, working_size=opt.get("working_size", 1536),
                         profile=opt.get("profile", "full"))
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
    earlier_errors: int = 0  # error rows already in the output, skipped (see --retry-errors)
    verdicts: Counter = field(default_factory=Counter)
    parts_missing: Counter = field(default_factory=Counter)  # cue -> images it could not run on (a part missing)
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        """Files of this input whose row in the output is an error, now or from an earlier run."""
        return self.errors + self.earlier_errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "analysed": self.analysed,
            "skipped_already_done": self.skipped,
            "errors": self.errors,
            "earlier_errors_kept": self.earlier_errors,
            "verdicts": dict(self.verdicts),
            "parts_missing": dict(sorted(self.parts_missing.items())),
            "seconds": round(self.seconds, 2),
            "images_per_second": round(self.analysed / self.seconds, 3) if self.seconds else None,
        }


def _crash_row(path: str, message: str) -> dict[str, Any]:
    return {
        "path": path, "sha256": None, "verdict": "error", "p_generated": None,
        "unsure_reason": None, "reasons": [], "error": message,
        "findings": [], "manual_checks": [], "version": {},
    }


def is_done(failed: bool | None, retry_errors: bool) -> bool:
    """Whether a path is skipped, given whether its row in the output is an error (None: no row).

    Any row counts as done; with ``retry_errors`` only a clean one."""
    return failed is not None and not (retry_errors and failed)


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
    retry_errors: bool = False,
    profile: str = "full",
    ray: str | None = None,
) -> ScanSummary:
    """Analyse every image in ``inputs`` into the JSON Lines file ``out``, resuming if it exists.

    ``retry_errors`` analyses again the paths whose row is an error (the new row
    is appended and wins). ``profile="triage"`` settles clear-cut images with the
    cheap cues (see :func:`telltales.api.analyse`). ``ray``: run the analysis as Ray
    tasks, ``"local"`` on a Ray started here with ``jobs`` CPUs, ``"auto"`` or
    ``"ray://host:port"`` on a cluster (see :mod:`telltales.distributed`).
    Raises :class:`TelltalesError` with a one-line message
    when the output is not ours, cannot be written, or another scan holds it.
    """
    if jobs < 1:
        raise TelltalesError(f"--jobs must be at least 1, got {jobs}")
    inputs = list(inputs)
    out = Path(out)
    from .analysis import PROFILES

    if profile not in PROFILES:
        raise TelltalesError(f"--profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    options = {"cues": cues, "fusion": fusion, "max_pixels": max_pixels, "working_size": working_size,
               "profile": profile, "ray": ray,
               # each of N workers gets its share of the cores (Ray: one CPU per task)
               "threads": 1 if ray else worker_share(jobs)}
    _init_worker(options)  # validates cue ids and the fusion file before any work starts
    check_output(out)
    _make_parent(out)
    with OutputLock(out):
        return _scan_locked(inputs, out, jobs, options, progress, recursive, retry_errors)


def _scan_locked(inputs: list[str], out: Path, jobs: int, options: dict[str, Any], progress: bool,
                 recursive: bool, retry_errors: bool) -> ScanSummary:
    done = read_status(out)
    summary = ScanSummary()
    t0 = time.perf_counter()

    def pending() -> Iterator[str]:
        for path in iter_inputs(inputs, recursive=recursive):
            failed = done.get(path)
            if is_done(failed, retry_errors):
                summary.skipped += 1
                summary.earlier_errors += bool(failed)
            else:
                yield path

    total = None
    if progress and Progress.shown():  # one extra walk, for a total and an ETA
        total = sum(1 for p in iter_inputs(inputs, recursive=recursive) if not is_done(done.get(p), retry_errors))
    bar = Progress(progress, total=total)
    fh = _open_output(out, "a")
    try:

        def write(row: dict[str, Any]) -> None:
            try:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                fh.flush()
            except OSError as exc:
                raise TelltalesError(f"cannot write {out}: {exc.strerror or exc}") from None
            summary.analysed += 1
            summary.errors += row.get("error") is not None
            summary.verdicts[row["verdict"]] += 1
            summary.parts_missing.update(f["cue"] for f in part_missing(row.get("findings") or []))
            bar.update(f"last: {row['verdict']}")

        if options.get("ray"):
            from . import distributed

            distributed.run(pending(), options, write, _crash_row, address=options["ray"], num_cpus=jobs)
        elif jobs == 1:
            for path in pending():
                write(_analyse_path(path))
        else:
            _run_parallel(pending(), jobs, options, write)
    finally:
        bar.close()
        with contextlib.suppress(OSError):  # a write that failed already said why
            fh.close()
    summary.seconds = time.perf_counter() - t0
    summary.total = summary.analysed + summary.skipped
    return summary


def _run_parallel(todo: Iterator[str], jobs: int, options: dict[str, Any], write) -> None:
    window = jobs * 4
    attempts: Counter = Counter()
    retry: list[str] = []
    exhausted = False
    while True:
        pool = process_pool(jobs, _init_pool_worker, (options,))
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
        except BaseException:  # an output error or Ctrl-C: stop the workers, keep what was written
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def write_csv(jsonl: str | Path, csv_path: str | Path, *, base_rate: float | None = None) -> int:
    """One row per image from a scan's JSON Lines: verdict, probability, top reason, each cue's score.

    With ``base_rate``, a ``p_generated_at_base_rate`` column follows ``p_generated``: the
    JSON Lines keep p at equal odds, so one scan can be read at several rates."""
    from .fusion import p_at_base_rate

    ids = cue_ids(Path(jsonl))
    rated = [] if base_rate is None else ["p_generated_at_base_rate"]
    n = 0
    with _open_output(Path(csv_path), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "sha256", "verdict", "p_generated", *rated, "error", "top_reason", *ids])
        for r in last_rows(Path(jsonl)):
            n += 1
            status = {f["cue"]: f for f in r.get("findings", [])}
            cells = []
            for c in ids:
                f = status.get(c)
                value = None if f is None else signed_strength(f)
                cells.append(("" if f is None else f["status"]) if value is None else f"{value:.3f}")
            at_rate = [] if base_rate is None else [p_at_base_rate(r["p_generated"], base_rate)]
            w.writerow([
                r["path"], r.get("sha256"), r["verdict"], r["p_generated"], *at_rate, r.get("error") or "",
                (r.get("reasons") or [""])[0], *cells,
            ])
        try:
            fh.flush()
        except OSError as exc:
            raise TelltalesError(f"cannot write {csv_path}: {exc.strerror or exc}") from None
    return n
