"""Fuzzing ``inspect``: small valid files made in code, mutated, each run under a time and memory limit.

Used by ``tests/test_fuzz.py`` (a few hundred cases in CI) and
``benchmarks/bench_fuzz.py`` (10,000 by default). Every case is one of

* ``clean``   a report without error;
* ``error``   a report whose ``error`` says why the file could not be analysed;
* ``escaped`` an exception other than :class:`ImageError` left ``inspect``;
* ``timeout`` the case took longer than its time limit;
* ``crash``   the process analysing it died (a native crash, the memory limit).

Cases run in batches in worker processes (``python -m telltales.fuzz WORKDIR``)
with an address-space limit; each case's start is reported before it runs, so
when a worker dies or hangs the parent knows which case did it, records it, and
starts a new worker on the rest.
"""

from __future__ import annotations

import io
import json
import os
import random
import select
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

OUTCOMES = ("clean", "error", "escaped", "timeout", "crash")
DEFAULT_CUES = ("provenance", "noise.jpeg", "noise.spectrum")  # the parsers, and pixels; no model loads
WORKER = (sys.executable, "-m", "telltales.fuzz")


# seeds: small valid files ----------------------------------------------------------------


def seeds() -> dict[str, bytes]:
    """One small valid file per format, with the metadata parsers have to walk."""
    from PIL import Image as PILImage
    from PIL import PngImagePlugin

    from .example import picture

    pic = picture(48, 32)

    def save(img, fmt: str, **kw) -> bytes:
        buf = io.BytesIO()
        img.save(buf, fmt, **kw)
        return buf.getvalue()

    exif = PILImage.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "EOS 5D"
    exif[0x0112] = 6
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a cat\nSteps: 20, Sampler: Euler a, Seed: 1")
    info.add_text("Comment", "zipped", zip=True)
    info.add_itxt("Description", "ünïcode", zip=True)
    frames = [pic.convert("P"), picture(48, 32, seed=2).convert("P")]
    return {
        "jpg": save(pic, "JPEG", quality=85, exif=exif.tobytes(), comment=b"hello"),
        "png": save(pic, "PNG", pnginfo=info),
        "webp": save(pic, "WEBP", quality=80),
        "gif": save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50),
        "tif": save(pic, "TIFF", compression="tiff_lzw"),
    }


# mutations ------------------------------------------------------------------------------


def jpeg_declaring(width: int, height: int) -> bytes:
    """A tiny valid JPEG whose header declares ``width`` x ``height`` (a pixel bomb)."""
    from PIL import Image as PILImage

    buf = io.BytesIO()
    PILImage.new("RGB", (16, 16), (120, 130, 140)).save(buf, "JPEG", quality=50)
    data = bytearray(buf.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 7] = height.to_bytes(2, "big")
    data[sof + 7:sof + 9] = width.to_bytes(2, "big")
    return bytes(data)


def flip_bits(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(1, len(data))]


def _jpeg_segments(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each marker segment before the scan data."""
    out, i = [], 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        out.append((i, i + 2 + length))
        if marker == 0xDA:
            break
        i += 2 + length
    return out


def _png_chunks(data: bytes) -> list[tuple[int, int]]:
    out, i = [], 8
    while i + 12 <= len(data):
        length = struct.unpack(">I", data[i : i + 4])[0]
        out.append((i, i + 12 + length))
        i += 12 + length
    return out


def _png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def _random_png_chunk(rng: random.Random) -> bytes:
    kind = rng.choice([b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"IHDR", b"IDAT", b"acTL", b"fcTL", b"caBX"])
    payload = rng.randbytes(rng.randint(0, 64))
    if kind == b"zTXt":
        payload = b"k\0" + bytes([rng.choice([0, 0, 1, 255])]) + zlib.compress(payload * rng.randint(1, 500))
    elif kind == b"iTXt":
        method = rng.choice([0, 0, 7])
        payload = b"parameters\0\1" + bytes([method]) + b"\0\0" + zlib.compress(payload * rng.randint(1, 500))
    return _png_chunk(kind, payload)


def _random_jpeg_segment(rng: random.Random) -> bytes:
    marker = rng.choice([0xE0, 0xE1, 0xE2, 0xEB, 0xED, 0xFE, 0xDB, 0xC4, 0xC0, 0xDD])
    payload = rng.randbytes(rng.randint(0, 80))
    if marker == 0xE1 and rng.random() < 0.5:
        payload = b"Exif\0\0" + payload
    if marker == 0xE1 and rng.random() < 0.3:
        payload = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>" + payload
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _parts(data: bytes) -> list[tuple[int, int]]:
    if data[:2] == b"\xff\xd8":
        return _jpeg_segments(data)
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return _png_chunks(data)
    return []


def insert_part(data: bytes, rng: random.Random) -> bytes:
    """A random segment (JPEG) or chunk (PNG) at a boundary; random bytes anywhere in other formats."""
    parts = _parts(data)
    if parts:
        at = rng.choice(parts)[rng.randint(0, 1)]
        new = _random_jpeg_segment(rng) if data[:2] == b"\xff\xd8" else _random_png_chunk(rng)
        return data[:at] + new + data[at:]
    at = rng.randrange(len(data))
    return data[:at] + rng.randbytes(rng.randint(1, 64)) + data[at:]


def duplicate_part(data: bytes, rng: random.Random) -> bytes:
    """A copy of one segment or chunk (or, in other formats, of a random slice) right after it."""
    parts = _parts(data)
    if parts:
        start, end = rng.choice(parts)
    else:
        start = rng.randrange(len(data))
        end = min(len(data), start + rng.randint(1, 256))
    return data[:end] + data[start:end] + data[end:]


MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "flip": flip_bits,
    "truncate": truncate,
    "insert": insert_part,
    "duplicate": duplicate_part,
}


@dataclass(frozen=True)
class Case:
    index: int
    fmt: str
    mutations: tuple[str, ...]
    data: bytes


def make_case(index: int, base: dict[str, bytes], seed: int = 0) -> Case:
    """Case ``index``: a format and one to three mutations, the same for the same seed, always."""
    rng = random.Random(seed * 1_000_003 + index)
    fmt = sorted(base)[index % len(base)]
    names = tuple(rng.choice(sorted(MUTATIONS)) for _ in range(rng.choice([1, 1, 2, 3])))
    data = base[fmt]
    for name in names:
        if data:
            data = MUTATIONS[name](data, rng)
    return Case(index, fmt, names, data)


# running --------------------------------------------------------------------------------


@dataclass
class FuzzResult:
    counts: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)  # outcome -> a few "case: detail"
    seconds: float = 0.0

    def add(self, case: Case, outcome: str, detail: str = "") -> None:
        self.counts[outcome] += 1
        if outcome not in ("clean", "error"):
            self.examples.setdefault(outcome, [])
            if len(self.examples[outcome]) < 10:
                self.examples[outcome].append(f"case {case.index} ({case.fmt}, {'+'.join(case.mutations)}): {detail}")

    def summary(self) -> str:
        total = sum(self.counts.values())
        line = ", ".join(f"{o} {self.counts.get(o, 0)}" for o in OUTCOMES)
        return f"{total} files in {self.seconds:.1f} s: {line}"


def _limit_memory(max_bytes: int) -> Callable[[], None]:
    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))

    return limit


def _read_lines(proc: subprocess.Popen, timeout: Callable[[], float]) -> Iterable[str]:
    """Lines from the worker's stdout; stops when none comes within ``timeout()`` seconds."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buf = b""
    while True:
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield line.decode("utf-8", "replace")
        ready, _, _ = select.select([fd], [], [], timeout())
        if not ready:
            return
        chunk = os.read(fd, 65536)
        if not chunk:
            return
        buf += chunk


def run_cases(
    cases: list[Case],
    *,
    case_timeout: float = 10.0,
    max_memory: int = 3 << 30,
    cues: Iterable[str] | None = DEFAULT_CUES,
    batch: int = 500,
    log: Callable[[str], None] | None = None,
    worker: tuple[str, ...] = WORKER,
) -> FuzzResult:
    """Run every case in worker processes, ``batch`` per worker; a dead or hung worker costs its case."""
    result = FuzzResult()
    t0 = time.perf_counter()
    by_index = {c.index: c for c in cases}
    with tempfile.TemporaryDirectory(prefix="telltales-fuzz-") as tmp:
        work = Path(tmp)
        for c in cases:
            (work / f"{c.index}.{c.fmt}").write_bytes(c.data)
        todo = [c.index for c in cases]
        while todo:
            chunk, todo = todo[:batch], todo[batch:]
            rest = _run_worker(worker, work, chunk, by_index, result, case_timeout, max_memory, cues)
            todo = rest + todo
            result.seconds = time.perf_counter() - t0
            if log:
                log(result.summary())
    result.seconds = time.perf_counter() - t0
    return result


def _run_worker(worker: tuple[str, ...], work: Path, chunk: list[int], by_index: dict[int, Case], result: FuzzResult,
                case_timeout: float, max_memory: int, cues: Iterable[str] | None) -> list[int]:
    """One worker on ``chunk``; returns the indices it did not reach (after a crash or a hang)."""
    job = {"files": [str(work / f"{i}.{by_index[i].fmt}") for i in chunk], "indices": chunk,
           "timeout": case_timeout, "cues": list(cues) if cues is not None else None}
    (work / "job.json").write_text(json.dumps(job))
    env = dict(os.environ, PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1")
    proc = subprocess.Popen([*worker, str(work / "job.json")],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                            preexec_fn=_limit_memory(max_memory))
    done: set[int] = set()
    current: int | None = None
    started = False

    def wait() -> float:  # the first line waits for the imports and the warm-up; then per case
        return case_timeout * 2 + 1 if started else 180.0

    for line in _read_lines(proc, wait):
        started = True
        kind, _, rest = line.partition(" ")
        if kind == "S":
            current = int(rest)
        elif kind == "R":
            idx, _, payload = rest.partition(" ")
            outcome, _, detail = payload.partition(" ")
            result.add(by_index[int(idx)], outcome, detail)
            done.add(int(idx))
            current = None
    try:  # output ended: either the worker is exiting (a crash: give it a moment) or it hangs
        proc.wait(timeout=5.0)
        hung = False
    except subprocess.TimeoutExpired:
        hung = True
        proc.kill()
        proc.wait()
    if current is not None:
        outcome = "timeout" if hung else "crash"
        result.add(by_index[current], outcome, "no answer in time" if hung else f"exit status {proc.returncode}")
        done.add(current)
    left = [i for i in chunk if i not in done]
    if left and current is None and not done:  # the worker died before its first case: do not loop
        for i in left:
            result.add(by_index[i], "crash", f"worker failed to start (exit status {proc.returncode})")
        return []
    return left


def _worker(job_file: str) -> None:
    """Analyse each file of the job; print ``S i`` before and ``R i outcome detail`` after each."""
    import signal

    import telltales
    from telltales.errors import ImageError

    job = json.loads(Path(job_file).read_text())

    class Timeout(Exception):
        pass

    def on_alarm(signum, frame):  # noqa: ANN001
        raise Timeout

    signal.signal(signal.SIGALRM, on_alarm)
    out = sys.stdout
    buf = io.BytesIO()
    from .example import picture

    picture(64, 48).save(buf, "JPEG")
    telltales.inspect(buf.getvalue(), cues=job["cues"])  # warm-up: models load outside any case's time
    out.write("ready\n")
    out.flush()
    for path, idx in zip(job["files"], job["indices"], strict=True):
        out.write(f"S {idx}\n")
        out.flush()
        signal.setitimer(signal.ITIMER_REAL, job["timeout"])
        try:
            report = telltales.inspect(path, cues=job["cues"], on_error="report")
            outcome, detail = ("clean", "") if report.error is None else ("error", report.error[-200:])
        except Timeout:
            outcome, detail = "timeout", f"over {job['timeout']} s"
        except ImageError as exc:  # on_error="report" should have caught it
            outcome, detail = "escaped", f"ImageError: {exc}"
        except BaseException as exc:  # noqa: BLE001 - what the harness exists to find
            outcome, detail = "escaped", f"{type(exc).__name__}: {str(exc)[:200]}"
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        out.write(f"R {idx} {outcome} {' '.join(detail.split())}\n")
        out.flush()


if __name__ == "__main__":
    _worker(sys.argv[1])
