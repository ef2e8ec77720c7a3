"""Fuzzing inspect: mutated small JPEG, PNG, WebP, GIF and TIFF files, each in a worker with limits.

No case may escape as an exception, hang or crash the process: each is a clean
report or an error report. ``benchmarks/bench_fuzz.py`` runs the same harness
on 10,000 cases.
"""

from __future__ import annotations

import sys
import textwrap

import pytest

from telltales import fuzz
from telltales.image import load_image

N_CASES = 300


@pytest.fixture(scope="module")
def base() -> dict[str, bytes]:
    return fuzz.seeds()


def test_seeds_are_valid_files_of_each_format(base):
    assert sorted(base) == ["gif", "jpg", "png", "tif", "webp"]
    for fmt, data in base.items():
        img = load_image(data)
        assert img.size in ((48, 32), (32, 48)), fmt  # the JPEG carries orientation 6


def test_cases_are_mutated_and_reproducible(base):
    cases = [fuzz.make_case(i, base) for i in range(50)]
    assert all(c.data != base[c.fmt] for c in cases if c.data)
    assert {m for c in cases for m in c.mutations} == set(fuzz.MUTATIONS)
    assert {c.fmt for c in cases} == set(base)
    again = fuzz.make_case(17, base)
    assert again == cases[17]
    assert fuzz.make_case(17, base, seed=1).data != again.data


def test_png_and_jpeg_mutations_work_on_segments_and_chunks(base):
    import random

    rng = random.Random(3)
    png = base["png"]
    assert len(fuzz._png_chunks(fuzz.insert_part(png, rng))) == len(fuzz._png_chunks(png)) + 1
    assert len(fuzz._png_chunks(fuzz.duplicate_part(png, rng))) == len(fuzz._png_chunks(png)) + 1
    jpg = base["jpg"]
    assert len(fuzz._jpeg_segments(fuzz.duplicate_part(jpg, rng))) >= len(fuzz._jpeg_segments(jpg))


def test_no_mutated_file_escapes_hangs_or_crashes(base):
    cases = [fuzz.make_case(i, base) for i in range(N_CASES)]
    result = fuzz.run_cases(cases, case_timeout=10.0, batch=N_CASES)
    assert sum(result.counts.values()) == N_CASES
    bad = {o: result.examples.get(o) for o in ("escaped", "timeout", "crash") if result.counts[o]}
    assert not bad, bad
    assert result.counts["clean"] > 0 and result.counts["error"] > 0


FAKE_WORKER = textwrap.dedent('''
    import json, os, signal, sys, time
    job = json.load(open(sys.argv[1]))
    print("ready", flush=True)
    for path, i in zip(job["files"], job["indices"]):
        print(f"S {i}", flush=True)
        data = open(path, "rb").read()
        if data == b"crash":
            os.kill(os.getpid(), signal.SIGSEGV)
        if data == b"hang":
            time.sleep(600)
        print(f"R {i} {data.decode()} detail", flush=True)
''')


def test_the_harness_counts_crashes_and_hangs_and_carries_on(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(FAKE_WORKER)
    kinds = ["clean", "crash", "error", "hang", "clean", "escaped"]
    cases = [fuzz.Case(i, "bin", ("flip",), k.encode()) for i, k in enumerate(kinds)]
    result = fuzz.run_cases(cases, case_timeout=5.0, worker=(sys.executable, str(script)))  # generous: CI machines are busy
    assert dict(result.counts) == {"clean": 2, "crash": 1, "error": 1, "timeout": 1, "escaped": 1}
    assert "case 1" in result.examples["crash"][0] and "case 3" in result.examples["timeout"][0]


# cases the 10,000-case benchmark found (seed 0): an animated GIF and a two-page TIFF whose
# later frames make Pillow raise IndexError / TypeError while counting frames
FOUND = (10, 6563, 9565)


@pytest.mark.parametrize("index", FOUND)
def test_cases_the_benchmark_found_stay_fixed(base, index):
    import time

    import telltales

    case = fuzz.make_case(index, base)
    t0 = time.perf_counter()
    report = telltales.inspect(case.data, cues=list(fuzz.DEFAULT_CUES), on_error="report")
    assert report.verdict in ("generated", "real", "unsure", "error")
    assert time.perf_counter() - t0 < 60.0  # a hang guard, not a speed target (bench_fuzz measures speed)
