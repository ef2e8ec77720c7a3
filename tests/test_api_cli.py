"""The public API and the CLI: contract fields, clean errors, no network."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest
from click.testing import CliRunner

import telltales
from conftest import encode
from telltales.cli import cli
from telltales.example import KINDS, make_example, picture
from telltales.taxonomy import CATEGORIES, ITEMS

STATUSES = {"generated-evidence", "real-evidence", "clear", "not-applicable", "error"}


def _check_contract(d: dict) -> None:
    assert set(d) >= {"path", "sha256", "verdict", "p_generated", "reasons", "error", "findings", "manual_checks", "version"}
    assert d["verdict"] in ("generated", "real", "unsure", "error")
    assert (d["verdict"] == "error") == (d["error"] is not None) == (d["p_generated"] is None)
    assert d["p_generated"] is None or 0.0 <= d["p_generated"] <= 1.0
    for f in d["findings"]:
        assert set(f) >= {"cue", "category", "status", "strength", "reason", "regions", "details", "seconds"}
        assert f["category"] in CATEGORIES
        assert f["status"] in STATUSES
        assert f["strength"] is None or 0.0 <= f["strength"] <= 1.0
        for r in f["regions"]:
            assert len(r["box"]) == 4 and "label" in r
    for m in d["manual_checks"]:
        assert set(m) >= {"cue", "guidance"}
    assert d["version"]["telltales"] and isinstance(d["version"]["cues"], dict)


@pytest.mark.parametrize("kind", KINDS)
def test_inspect_examples_follow_the_json_contract(kind):
    report = telltales.inspect(make_example(kind))
    d = json.loads(report.to_json(allow_nan=False))
    _check_contract(d)
    covered = {f["cue"] for f in d["findings"] if f["status"] != "error"} | {m["cue"] for m in d["manual_checks"]}
    assert covered >= {item.id for item in ITEMS}
    if d["verdict"] == "unsure":
        assert d["unsure_reason"]


def test_inspect_accepts_path_bytes_pil(tmp_path):
    pil = picture(64, 48)
    p = tmp_path / "x.png"
    pil.save(p)
    by_path = telltales.inspect(p)
    by_bytes = telltales.inspect(p.read_bytes())
    assert by_path.sha256 == by_bytes.sha256
    assert by_path.verdict == by_bytes.verdict and by_path.p_generated == by_bytes.p_generated
    assert telltales.inspect(pil).error is None


def test_inspect_bad_input_raises_or_reports(tmp_path):
    with pytest.raises(telltales.ImageError):
        telltales.inspect(tmp_path / "missing.png")
    r = telltales.inspect(tmp_path / "missing.png", on_error="report")
    assert r.error and r.verdict == "error" and r.p_generated is None
    _check_contract(r.to_dict())
    with pytest.raises(ValueError, match="on_error"):
        telltales.inspect(b"", on_error="ignore")


def test_unknown_cue_is_a_clear_error():
    with pytest.raises(telltales.TelltalesError, match="unknown cue"):
        telltales.inspect(make_example("plain-png"), cues=["body.tail"])


def test_inspect_opens_no_socket(monkeypatch):
    """No cue may touch the network: any socket use during inspect fails the test."""
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise AssertionError("network access attempted during inspect")

    for name in ("connect", "connect_ex", "sendto", "bind"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    audit = []
    sys.addaudithook(lambda event, args: audit.append(event) if event.startswith("socket.") else None)
    for kind in KINDS:
        report = telltales.inspect(make_example(kind))
        assert not any(f.status == "error" and "network" in f.reason for f in report.findings)
    big = encode(picture(1600, 1200), "JPEG", quality=90)
    telltales.inspect(big)
    assert calls == []
    assert [e for e in audit if e in ("socket.connect", "socket.getaddrinfo", "socket.sendto")] == []
    audit.clear()


def test_cli_inspect_text_and_json(tmp_path):
    p = tmp_path / "ex.png"
    p.write_bytes(make_example("sd-png"))
    runner = CliRunner()
    res = runner.invoke(cli, ["inspect", str(p)])
    assert res.exit_code == 0, res.output
    assert "p_generated=" in res.output
    res = runner.invoke(cli, ["inspect", str(p), str(p), "--json"])
    lines = res.output.strip().splitlines()
    assert len(lines) == 2
    _check_contract(json.loads(lines[0]))


def test_cli_inspect_bad_file_exits_nonzero_and_keeps_going(tmp_path):
    good = tmp_path / "ok.png"
    good.write_bytes(make_example("plain-png"))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"nope")
    res = CliRunner().invoke(cli, ["inspect", str(bad), str(good), "--json"])
    assert res.exit_code == 1
    rows = [json.loads(x) for x in res.stdout.strip().splitlines()]
    assert rows[0]["error"] and rows[1]["error"] is None
    assert rows[0]["verdict"] == "error" and rows[0]["p_generated"] is None
    assert res.stderr.count(str(bad)) == 1 and res.stderr.startswith("Error: ")


def test_cli_errors_go_to_stderr_naming_the_file_once(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"nope")
    res = CliRunner().invoke(cli, ["inspect", str(bad), str(tmp_path / "missing.jpg")])
    assert res.exit_code == 1 and res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("Error: ") for line in lines)
    assert lines[0].count(str(bad)) == 1 and lines[1].count("missing.jpg") == 1


def test_cli_reads_stdin_for_dash():
    res = CliRunner().invoke(cli, ["inspect", "-", "--json", "--cues", "provenance"],
                             input=make_example("sd-png"))
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["verdict"] in ("generated", "real", "unsure")
    empty = CliRunner().invoke(cli, ["inspect", "-"], input=b"")
    assert empty.exit_code == 1 and "<stdin>: file is empty" in empty.stderr


def test_no_color_is_respected(monkeypatch):
    from telltales.cli import use_color

    class Tty:
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Tty())


def test_library_warnings_stay_off_stderr(tmp_path):
    # a JPEG whose EXIF block is cut short makes Pillow warn from inside site-packages
    from PIL import Image as PILImage

    exif = PILImage.Exif()
    exif[0x010F] = "Maker"
    exif[0x0110] = "Model"
    raw = exif.tobytes()
    p = tmp_path / "cut-exif.jpg"
    p.write_bytes(encode(picture(32, 24), "JPEG", exif=raw[: len(raw) - 6]))
    cmd = [sys.executable, "-W", "always", "-m", "telltales", "inspect", str(p), "--json", "--cues", "provenance"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "site-packages" not in res.stderr and "Warning" not in res.stderr
    warnings_kept = json.loads(res.stdout)["image"]["warnings"]
    assert any("the decoder warned" in w for w in warnings_kept)


def test_cli_overlay(tmp_path):
    p = tmp_path / "ex.jpg"
    p.write_bytes(make_example("camera-jpeg"))
    res = CliRunner().invoke(cli, ["inspect", str(p), "--overlay", str(tmp_path / "ov")])
    assert res.exit_code == 0, res.output
    from PIL import Image

    w, h = Image.open(tmp_path / "ov" / "ex.jpg.telltales.png").size
    assert w == 640 and h > 480  # the picture, then its legend below it


def test_cli_taxonomy_lists_everything():
    res = CliRunner().invoke(cli, ["taxonomy", "--json"])
    rows = json.loads(res.output)
    assert [r["id"] for r in rows] == [i.id for i in ITEMS]
    assert all(r["check"] for r in rows)


def test_cli_example_and_scan(tmp_path):
    runner = CliRunner()
    for kind in KINDS:
        assert runner.invoke(cli, ["example", str(tmp_path / f"{kind}.img"), "--kind", kind]).exit_code == 0
    res = runner.invoke(cli, ["scan", str(tmp_path), "--out", str(tmp_path / "r.jsonl"), "--csv", str(tmp_path / "r.csv"), "-q"])
    # .img is not an image extension: folder scan finds nothing (exit 4, a warning); glob finds them
    assert json.loads(res.stdout)["analysed"] == 0
    assert res.exit_code == 4 and "matched no image file" in res.stderr
    res = runner.invoke(cli, ["scan", str(tmp_path / "*.img"), "--out", str(tmp_path / "r.jsonl"), "-q"])
    assert json.loads(res.stdout)["analysed"] == 3 and res.exit_code == 0


def test_every_command_has_help_with_an_example():
    runner = CliRunner()
    for name in cli.commands:
        res = runner.invoke(cli, [name, "--help"])
        assert res.exit_code == 0
        assert "Example" in res.output, f"`telltales {name} --help` shows no example"


def test_main_turns_errors_into_clean_exit(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "telltales", "inspect", "x.png", "--cues", "nope"],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert res.returncode == 1
    assert res.stderr.startswith("Error: unknown cue") and "Traceback" not in res.stderr


def test_cli_stderr_stays_clean_when_the_landmark_models_start(tmp_path):
    """The TFLite runtime's native start-up notes (XNNPACK delegate) are not shown to the user."""
    from telltales.example import make_example

    path = tmp_path / "ex.png"
    path.write_bytes(make_example("plain-png"))
    res = subprocess.run([sys.executable, "-m", "telltales", "inspect", str(path), "--cues", "body"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""


def test_cli_base_rate_gives_p_at_that_rate_and_keeps_the_verdict(tmp_path):
    """An SD PNG with its parameters: p near 1 at equal odds; at 1 in 100 its odds scale by 1/99."""
    p = tmp_path / "ex.png"
    p.write_bytes(make_example("sd-png"))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"nope")
    runner = CliRunner()
    plain = json.loads(runner.invoke(cli, ["inspect", str(p), "--json", "--cues", "provenance"]).stdout)
    res = runner.invoke(cli, ["inspect", str(p), str(bad), "--json", "--cues", "provenance", "--base-rate", "0.01"])
    rows = [json.loads(x) for x in res.stdout.strip().splitlines()]
    assert rows[0]["verdict"] == plain["verdict"] and rows[0]["p_generated"] == plain["p_generated"]
    at = rows[0]["p_generated_at_base_rate"]
    assert at["base_rate"] == 0.01
    odds = plain["p_generated"] / (1 - plain["p_generated"])
    assert at["p"] == pytest.approx(odds / 99 / (1 + odds / 99), abs=2e-3)
    assert rows[1]["verdict"] == "error" and rows[1]["p_generated_at_base_rate"] is None
    text = runner.invoke(cli, ["inspect", str(p), "--cues", "provenance", "--base-rate", "0.01"])
    assert text.exit_code == 0 and "where 1% of pictures are generated" in text.output
    for wrong in ("0", "1", "1.5", "often"):
        res = runner.invoke(cli, ["inspect", str(p), "--base-rate", wrong])
        assert res.exit_code == 2 and "--base-rate" in res.stderr
