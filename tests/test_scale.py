"""Big runs: scan on Ray writes what a local scan writes; the Parquet table mirrors the JSON Lines."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from telltales.example import make_example
from telltales.scan import scan

CUES = ["provenance"]  # quick, and enough to tell rows apart (generator metadata or not)


def folder(tmp_path: Path) -> Path:
    d = tmp_path / "imgs"
    d.mkdir()
    for i, kind in enumerate(("sd-png", "plain-png", "camera-jpeg", "sd-png")):
        ext = ".jpg" if kind == "camera-jpeg" else ".png"
        (d / f"{i}-{kind}{ext}").write_bytes(make_example(kind, width=320 + 16 * i, height=240))
    (d / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a JPEG")
    return d


def rows(path: Path) -> dict[str, dict]:
    out = {}
    for line in path.read_text().splitlines():
        r = json.loads(line)
        r.pop("seconds", None)
        for f in r.get("findings", []):
            f.pop("seconds", None)
        out[r["path"]] = r
    return out


# --- Parquet ---------------------------------------------------------------------------------
def test_parquet_has_one_row_per_image_with_each_cue_as_columns(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed")
    from telltales.tables import write_parquet

    d = folder(tmp_path)
    out = tmp_path / "out.jsonl"
    scan([str(d)], out, cues=CUES, progress=False)
    n = write_parquet(out, tmp_path / "out.parquet")
    table = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert n == len(table) == 5
    by_path = {r["path"]: r for r in table}
    js = rows(out)
    assert by_path.keys() == js.keys()
    for path, r in by_path.items():
        assert r["verdict"] == js[path]["verdict"]
        assert r["p_generated"] == js[path]["p_generated"]
    sd = next(r for p, r in by_path.items() if p.endswith("0-sd-png.png"))
    assert sd["provenance.generator-metadata:status"] == "generated-evidence"
    assert sd["provenance.generator-metadata:strength"] > 0
    broken = next(r for p, r in by_path.items() if p.endswith("broken.jpg"))
    assert broken["verdict"] == "error" and broken["error"]
    assert broken["provenance.generator-metadata:strength"] is None


def test_parquet_keeps_the_last_row_of_a_path_written_twice(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed")
    from telltales.tables import write_parquet

    first = {"path": "a.jpg", "verdict": "error", "p_generated": None, "error": "boom", "findings": []}
    second = {"path": "a.jpg", "verdict": "unsure", "p_generated": 0.5, "error": None, "findings": []}
    other = {"path": "b.jpg", "verdict": "real", "p_generated": 0.1, "error": None, "findings": []}
    jsonl = tmp_path / "x.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in (first, other, second)) + "\n")
    table = pq.read_table(write_parquet(jsonl, tmp_path / "x.parquet") and tmp_path / "x.parquet").to_pylist()
    assert [(r["path"], r["verdict"]) for r in table] == [("b.jpg", "real"), ("a.jpg", "unsure")]


def test_parquet_at_a_base_rate_has_the_column_and_records_the_rate(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed")
    from telltales.fusion import at_base_rate
    from telltales.tables import write_parquet

    d = folder(tmp_path)
    out = tmp_path / "out.jsonl"
    scan([str(d)], out, cues=CUES, progress=False)
    write_parquet(out, tmp_path / "x.parquet", base_rate=0.03)
    t = pq.read_table(tmp_path / "x.parquet")
    assert t.schema.metadata[b"telltales.base_rate"] == b"0.03"
    assert t.column_names[3:5] == ["p_generated", "p_generated_at_base_rate"]
    for r in t.to_pylist():
        if r["verdict"] == "error":
            assert r["p_generated_at_base_rate"] is None
        else:
            assert r["p_generated_at_base_rate"] == pytest.approx(at_base_rate(r["p_generated"], 0.03), abs=1e-4)
    write_parquet(out, tmp_path / "plain.parquet")
    plain = pq.read_table(tmp_path / "plain.parquet")
    assert "p_generated_at_base_rate" not in plain.column_names and not plain.schema.metadata


# --- Ray -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def local_ray():
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'telltales[ray]')")
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=100 * 1024**2)
    except Exception as exc:  # noqa: BLE001 - whatever stops Ray here is the skip reason
        pytest.skip(f"Ray cannot start on this machine: {exc}")
    yield ray
    ray.shutdown()


def test_a_ray_scan_writes_the_rows_a_local_scan_writes(tmp_path, local_ray):
    d = folder(tmp_path)
    local, on_ray = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    scan([str(d)], local, cues=CUES, progress=False)
    summary = scan([str(d)], on_ray, cues=CUES, progress=False, ray="local")
    assert summary.analysed == 5 and summary.errors == 1
    a, b = rows(local), rows(on_ray)
    assert a == b
    assert next(r for p, r in b.items() if p.endswith("broken.jpg"))["verdict"] == "error"


def test_a_ray_scan_resumes_a_partial_output(tmp_path, local_ray):
    d = folder(tmp_path)
    out = tmp_path / "out.jsonl"
    scan([str(sorted(d.iterdir())[0])], out, cues=CUES, progress=False)
    summary = scan([str(d)], out, cues=CUES, progress=False, ray="local")
    assert summary.skipped == 1 and summary.analysed == 4
    assert len(out.read_text().splitlines()) == 5 == len(rows(out))


def test_resume_state_is_a_flag_per_path_last_row_wins_and_a_partial_line_is_cut(tmp_path):
    from telltales.scan import read_status

    rows = [{"path": "a.jpg", "verdict": "error", "error": "boom"}, {"path": "b.jpg", "verdict": "real", "error": None},
            {"path": "a.jpg", "verdict": "unsure", "error": None}]
    out = tmp_path / "out.jsonl"
    text = "".join(json.dumps(r) + "\n" for r in rows) + '{"path": "c.jpg", "verd'
    out.write_text(text)
    assert read_status(out) == {"a.jpg": False, "b.jpg": False}
    assert out.read_text() == text[: text.rindex("\n") + 1]
