"""scan: survives bad files, resumes after a kill without losing or duplicating rows."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import encode
from telltales.example import picture
from telltales.scan import iter_inputs, read_done, scan, write_csv


def _folder(tmp_path: Path, n: int, size=(96, 64)) -> Path:
    d = tmp_path / "imgs"
    (d / "sub").mkdir(parents=True)
    for i in range(n):
        sub = d / "sub" if i % 3 == 0 else d
        (sub / f"img{i:03d}.png").write_bytes(encode(picture(*size, seed=i)))
    (d / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    (d / "notes.txt").write_text("not an image, and not picked up by extension")
    return d


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_iter_inputs_folders_globs_files(tmp_path):
    d = _folder(tmp_path, 4)
    found = list(iter_inputs([str(d)]))
    assert len(found) == 5 and all(not p.endswith(".txt") for p in found)
    assert list(iter_inputs([str(d)], recursive=False)) == [p for p in found if "/sub/" not in p]
    assert len(list(iter_inputs([str(d / "**" / "*.png")]))) == 4
    assert list(iter_inputs([str(d / "notes.txt")])) == [str(d / "notes.txt")]


@pytest.mark.parametrize("jobs", [1, 2])
def test_scan_survives_bad_files_and_summarises(tmp_path, jobs):
    d = _folder(tmp_path, 6)
    out = tmp_path / "out.jsonl"
    s = scan([str(d)], out, jobs=jobs, cues=["provenance"], progress=False)
    rows = _rows(out)
    assert len(rows) == 7 == s.analysed
    assert s.errors == 1
    bad = [r for r in rows if r["error"]]
    assert bad[0]["path"].endswith("broken.jpg") and bad[0]["verdict"] == "error" and bad[0]["p_generated"] is None
    assert sum(s.verdicts.values()) == 7
    again = scan([str(d)], out, jobs=jobs, cues=["provenance"], progress=False)
    assert again.analysed == 0 and again.skipped == 7
    assert len(_rows(out)) == 7


def test_partial_last_line_is_cut_and_redone(tmp_path):
    d = _folder(tmp_path, 3)
    out = tmp_path / "out.jsonl"
    scan([str(d)], out, cues=["provenance"], progress=False)
    rows = _rows(out)
    # simulate a kill in the middle of writing the last row
    text = out.read_text().splitlines(keepends=True)
    out.write_text("".join(text[:-1]) + text[-1][:25])
    assert len(read_done(out)) == len(rows) - 1
    scan([str(d)], out, cues=["provenance"], progress=False)
    again = _rows(out)
    assert sorted(r["path"] for r in again) == sorted(r["path"] for r in rows)


def test_killed_scan_resumes_without_loss_or_duplicates(tmp_path):
    d = _folder(tmp_path, 60, size=(640, 480))
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "telltales", "scan", str(d), "--out", str(out), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if out.exists() and out.read_text().count("\n") >= 3:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait()
    before = out.read_text().count("\n")
    assert proc.returncode == -signal.SIGKILL, "the scan finished before it could be killed"
    assert 3 <= before < 61
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 3, done.stderr  # broken.jpg could not be analysed
    summary = json.loads(done.stdout)
    rows = _rows(out)
    paths = [r["path"] for r in rows]
    assert len(paths) == len(set(paths)) == 61
    assert summary["skipped_already_done"] == len(read_done(out)) - summary["analysed"]


def test_csv_from_scan(tmp_path):
    d = _folder(tmp_path, 2)
    out = tmp_path / "out.jsonl"
    scan([str(d)], out, cues=["provenance"], progress=False)
    n = write_csv(out, tmp_path / "out.csv")
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert n == 3 and len(lines) == 4
    assert lines[0].startswith("path,sha256,verdict,p_generated,error,top_reason")


def test_csv_at_a_base_rate_adds_the_column_and_keeps_the_rest(tmp_path):
    """Known answer on written rows: p 0.9 at 1% is odds 9/99, p 0.5 at 2% is 0.02; an error row is empty."""
    import csv

    jsonl = tmp_path / "x.jsonl"
    rows = [{"path": "a.jpg", "verdict": "generated", "p_generated": 0.9, "findings": []},
            {"path": "b.jpg", "verdict": "unsure", "p_generated": 0.5, "findings": []},
            {"path": "c.jpg", "verdict": "error", "p_generated": None, "error": "boom", "findings": []}]
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    write_csv(jsonl, tmp_path / "plain.csv")
    write_csv(jsonl, tmp_path / "one.csv", base_rate=0.01)
    with (tmp_path / "one.csv").open() as fh:
        got = list(csv.DictReader(fh))
    assert [r["p_generated_at_base_rate"] for r in got] == [str(round(9 / 108, 4)), "0.01", ""]
    with (tmp_path / "plain.csv").open() as fh:
        plain = list(csv.DictReader(fh))
    assert "p_generated_at_base_rate" not in plain[0]
    for a, b in zip(plain, got, strict=True):
        assert a == {k: v for k, v in b.items() if k != "p_generated_at_base_rate"}
    write_csv(jsonl, tmp_path / "two.csv", base_rate=0.02)
    with (tmp_path / "two.csv").open() as fh:
        assert next(csv.DictReader(fh))["p_generated_at_base_rate"] == str(round(0.9 * 0.02 / (0.9 * 0.02 + 0.1 * 0.98), 4))


def test_scan_cli_base_rate_goes_to_the_tables_and_needs_one(tmp_path):
    from click.testing import CliRunner

    from telltales.cli import cli

    d = _folder(tmp_path, 2)
    out, table = tmp_path / "out.jsonl", tmp_path / "out.csv"
    runner = CliRunner()
    res = runner.invoke(cli, ["scan", str(d), "--out", str(out), "--cues", "provenance", "-q", "--base-rate", "0.05"])
    assert res.exit_code == 2 and "--csv or --parquet" in res.stderr
    assert not out.exists()  # refused before anything was analysed
    res = runner.invoke(cli, ["scan", str(d), "--out", str(out), "--cues", "provenance", "-q",
                              "--csv", str(table), "--base-rate", "0.05"])
    assert res.exit_code == 3, res.stderr  # broken.jpg
    assert json.loads(res.stdout)["base_rate"] == 0.05
    assert "base_rate" not in _rows(out)[0]  # the JSON Lines stay at equal odds
    header = table.read_text().splitlines()[0].split(",")
    assert header[3:5] == ["p_generated", "p_generated_at_base_rate"]
    for wrong in ("0", "1", "-0.1", "half"):
        res = runner.invoke(cli, ["scan", str(d), "--out", str(out), "--csv", str(table), "--base-rate", wrong])
        assert res.exit_code == 2 and "--base-rate" in res.stderr


def test_scan_counts_and_warns_when_the_detector_could_not_run(tmp_path, monkeypatch):
    """A scan of a million images must not quietly run without its detector."""
    from click.testing import CliRunner

    from telltales import backbone
    from telltales.cli import cli

    d = _folder(tmp_path, 3, size=(300, 260))
    monkeypatch.setenv("TELLTALES_MODEL_DIR", str(tmp_path / "no-models"))
    backbone.load.cache_clear()
    try:
        res = CliRunner().invoke(cli, ["scan", str(d), "--out", str(tmp_path / "o.jsonl"), "-q",
                                       "--cues", "noise.clip,noise.jpeg"])
    finally:
        backbone.load.cache_clear()
    assert res.exit_code == 3, res.stderr  # broken.jpg
    assert json.loads(res.stdout)["parts_missing"] == {"noise.clip": 3}
    assert "the CLIP detector did not run on 3 image(s)" in res.stderr and "telltales doctor" in res.stderr


def test_a_worker_that_dies_costs_only_its_own_file(tmp_path, monkeypatch):
    """A native crash in one file: the pool is replaced, the file retried once, then an error row."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("the crashing cue is registered in this process only; workers must be forked")
    from telltales import cpu, registry

    monkeypatch.setattr(cpu, "START_METHOD", "fork")  # the worker runs only the fake cue, no native model
    from telltales.findings import Result

    def crash_on_13px(a):
        if a.image.width == 13:
            os._exit(3)  # what a segfault in native code looks like to the pool
        return Result.not_applicable("test cue")

    fake = registry.Cue("semantics.context", "semantics", crash_on_13px, (), "test", "crashes on 13 px")
    monkeypatch.setitem(registry._REGISTRY, "semantics.context", fake)
    d = tmp_path / "imgs"
    d.mkdir()
    for i in range(5):
        (d / f"ok{i}.png").write_bytes(encode(picture(40, 30, seed=i)))
    (d / "crash.png").write_bytes(encode(picture(13, 10)))
    out = tmp_path / "out.jsonl"
    s = scan([str(d)], out, jobs=2, cues=["semantics.context"], progress=False)
    rows = {Path(r["path"]).name: r for r in _rows(out)}
    assert len(rows) == 6 == s.analysed
    assert "crashed" in rows["crash.png"]["error"]
    assert all(rows[f"ok{i}.png"]["error"] is None for i in range(5))


def test_parallel_scan_after_the_parent_ran_the_ocr(tmp_path):
    """Workers are spawned, not forked: a parent whose OCR (onnxruntime) session already ran,
    like a notebook that inspected an image first, once hung a forked worker on a lock."""
    import threading

    import telltales

    telltales.inspect(picture(320, 240, seed=1), cues=["provenance.visible-mark"])  # the OCR runs here
    d = _folder(tmp_path, 4)
    out = tmp_path / "out.jsonl"
    done: list = []
    t = threading.Thread(target=lambda: done.append(
        scan([str(d)], out, jobs=2, cues=["provenance.visible-mark"], progress=False)), daemon=True)
    t.start()
    t.join(timeout=300)
    assert done and done[0].analysed == 5, "the parallel scan did not finish"
