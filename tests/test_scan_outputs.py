"""scan's output never loses data: foreign files refused untouched, one-line write errors, a lock, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import encode
from telltales.errors import TelltalesError
from telltales.example import picture
from telltales.scan import OutputLock, check_output, scan

CUES = ["provenance.c2pa"]


def _folder(tmp_path: Path, n: int = 2, broken: bool = False) -> Path:
    d = tmp_path / "imgs"
    d.mkdir()
    for i in range(n):
        (d / f"img{i}.png").write_bytes(encode(picture(32, 24, seed=i)))
    if broken:
        (d / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    return d


def _cli(*args: str, preexec=None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "telltales", "scan", *args, "--cues", CUES[0], "--quiet"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, preexec_fn=preexec)


@pytest.mark.parametrize("content", [
    encode(picture(16, 16), "JPEG"),
    b"my notes\nline two without newline",
    b'{"path": "a"}\nsome text\n',
    b"one line, no newline",
])
def test_a_foreign_output_is_refused_untouched(tmp_path, content):
    d = _folder(tmp_path)
    out = tmp_path / "precious.jsonl"
    out.write_bytes(content)
    with pytest.raises(TelltalesError, match="not a telltales JSON Lines file"):
        scan([str(d)], out, cues=CUES, progress=False)
    assert out.read_bytes() == content
    assert not (tmp_path / "precious.jsonl.lock").exists()


def test_a_half_written_row_is_still_resumed(tmp_path):
    d = _folder(tmp_path)
    out = tmp_path / "out.jsonl"
    scan([str(d)], out, cues=CUES, progress=False)
    lines = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(lines[0] + lines[1][:20])
    check_output(out)
    s = scan([str(d)], out, cues=CUES, progress=False)
    assert s.skipped == 1 and s.analysed == 1


def test_output_that_is_not_a_regular_file_is_refused(tmp_path):
    d = _folder(tmp_path)
    with pytest.raises(TelltalesError, match="not a regular file"):
        scan([str(d)], "/dev/null", cues=CUES, progress=False)


def test_parent_is_a_file_is_a_one_line_error(tmp_path):
    d = _folder(tmp_path)
    (tmp_path / "afile").write_text("x")
    r = _cli(str(d), "--out", str(tmp_path / "afile" / "out.jsonl"))
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr
    assert "cannot write" in r.stderr and "is a file" in r.stderr


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_folder_is_a_one_line_error(tmp_path):
    d = _folder(tmp_path)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        r = _cli(str(d), "--out", str(ro / "out.jsonl"))
    finally:
        ro.chmod(0o755)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "cannot write" in r.stderr


def _small_file_limit():  # a full disk, as the process sees it
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (300, 300))


@pytest.mark.skipif(os.name != "posix", reason="needs RLIMIT_FSIZE")
def test_disk_full_is_a_one_line_error(tmp_path):
    d = _folder(tmp_path, 3)
    out = tmp_path / "out.jsonl"
    r = _cli(str(d), "--out", str(out), preexec=_small_file_limit)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and r.stderr.strip().count("\n") == 0
    assert f"cannot write {out}" in r.stderr
    assert not (tmp_path / "out.jsonl.lock").exists()


def test_a_second_scan_on_one_output_is_refused(tmp_path):
    d = _folder(tmp_path)
    out = tmp_path / "out.jsonl"
    with OutputLock(out):
        with pytest.raises(TelltalesError, match=f"held by pid {os.getpid()}"):
            scan([str(d)], out, cues=CUES, progress=False)
        r = _cli(str(d), "--out", str(out))
        assert r.returncode == 1 and f"held by pid {os.getpid()}" in r.stderr
    assert not out.exists() or out.read_text() == ""
    s = scan([str(d)], out, cues=CUES, progress=False)  # free again once the holder is done
    assert s.analysed == 2 and not (tmp_path / "out.jsonl.lock").exists()


def test_exit_codes_failed_files_and_empty_input(tmp_path):
    d = _folder(tmp_path, broken=True)
    r = _cli(str(d), "--out", str(tmp_path / "a.jsonl"))
    assert r.returncode == 3 and "1 file(s) could not be analysed" in r.stderr
    assert json.loads(r.stdout)["errors"] == 1
    again = _cli(str(d), "--out", str(tmp_path / "a.jsonl"))  # kept error rows still count
    assert again.returncode == 3 and json.loads(again.stdout)["earlier_errors_kept"] == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    r = _cli(str(empty), "--out", str(tmp_path / "b.jsonl"))
    assert r.returncode == 4 and "matched no image file" in r.stderr
    ok = tmp_path / "ok"
    ok.mkdir()
    (ok / "x.png").write_bytes(encode(picture(32, 24)))
    assert _cli(str(ok), "--out", str(tmp_path / "c.jsonl")).returncode == 0


def test_retry_errors_analyses_failed_files_again(tmp_path):
    d = _folder(tmp_path, broken=True)
    out = tmp_path / "out.jsonl"
    first = scan([str(d)], out, cues=CUES, progress=False)
    assert first.errors == 1
    (d / "broken.jpg").write_bytes(encode(picture(32, 24), "JPEG"))  # fixed since
    plain = scan([str(d)], out, cues=CUES, progress=False)
    assert plain.analysed == 0 and plain.earlier_errors == 1
    retried = scan([str(d)], out, cues=CUES, progress=False, retry_errors=True)
    assert retried.analysed == 1 and retried.errors == 0 and retried.skipped == 2
    from telltales.scan import read_done

    assert read_done(out)[str(d / "broken.jpg")]["error"] is None


def test_exit_codes_are_in_the_help():
    from click.testing import CliRunner

    from telltales.cli import cli

    text = CliRunner().invoke(cli, ["scan", "--help"]).output
    assert "Exit codes:" in text and "some files could not be analysed" in text
    assert "--retry-errors" in text
