"""Manifests, the cached and resumable runner, and the eval/calibrate commands.

Two fake cues are put into the registry for these tests (under taxonomy ids
that are manual checks today, restored afterwards): one that sees the fixture's
"generator trace" (a red cast), one that always says "clear".
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image as PILImage

from conftest import encode
from telltales import cpu, registry
from telltales.errors import TelltalesError
from telltales.evaluate import manifest, runner
from telltales.evaluate.cli import calibrate_command, eval_command
from telltales.findings import Result
from telltales.fusion import Fusion

CALLS: Counter = Counter()
RED, PLAIN, BOOM = "semantics.function", "semantics.context", "semantics.counting"


def red_cast(a) -> Result:
    """Fake cue: the test's generated images have a red cast."""
    CALLS[RED] += 1
    px = a.rgb.astype(float)
    d = float(px[..., 0].mean() - px[..., 2].mean()) / 40.0
    if d > 0:
        return Result.generated(min(1.0, d), "red cast")
    return Result.real(min(1.0, -d), "no red cast")


def always_clear(a) -> Result:
    """Fake cue: never finds anything."""
    CALLS[PLAIN] += 1
    return Result.clear("nothing")


def explodes(a) -> Result:
    """Fake cue: a bug."""
    raise RuntimeError("cue bug")


@pytest.fixture
def fake_cues(monkeypatch):
    registry.all_cues()  # load the real ones first, so none registers over the fakes
    monkeypatch.setattr(cpu, "START_METHOD", "fork")  # workers see the fakes; they run no native model
    for cid, func in ((RED, red_cast), (PLAIN, always_clear), (BOOM, explodes)):
        monkeypatch.setitem(
            registry._REGISTRY, cid,
            registry.Cue(cid, registry.category_of(cid), func, ("rgb",), "1", func.__doc__),
        )
    CALLS.clear()
    return [RED, PLAIN]


def _image(label: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    px = rng.integers(60, 190, (96, 128, 3)).astype(int)
    shift = rng.integers(5, 40)
    px[..., 0 if label else 2] += shift
    return encode(PILImage.fromarray(np.clip(px, 0, 255).astype(np.uint8)), "PNG" if label else "JPEG")


def make_folder(root: Path, n: int = 6) -> Path:
    for label, sub in ((1, "ai"), (0, "real")):
        (root / sub / ("gen" if label else "cam")).mkdir(parents=True)
        for i in range(n):
            ext = "png" if label else "jpg"
            fam = f"fam{i % 3}" if label else f"src{i % 2}"
            (root / sub / fam).mkdir(exist_ok=True)
            (root / sub / fam / f"{i}.{ext}").write_bytes(_image(label, i + 100 * label))
    return root


def make_manifest(root: Path, extra: str = "") -> Path:
    make_folder(root / "data")
    rows = ["file\tlabel\tgenerator"]
    for p in sorted((root / "data").rglob("*.*")):
        rel = p.relative_to(root).as_posix()
        label = "generated" if "/ai/" in f"/{rel}" else "authentic"
        rows.append(f"{rel}\t{label}\t{p.parent.name if label == 'generated' else 'real'}")
    path = root / "manifest.tsv"
    path.write_text("\n".join(rows) + "\n" + extra)
    return path


# manifests ---------------------------------------------------------------------------
def test_manifest_reports_bad_rows_without_failing(tmp_path):
    path = make_manifest(tmp_path, "data/missing.png\tai\tx\ndata/ai/fam0/0.png\tmaybe\tx\n\tai\tx\n")
    ds = manifest.load(path)
    assert len(ds.items) == 12
    assert len(ds.problems) == 3
    assert any("no such file" in p for p in ds.problems)
    assert any("unknown label 'maybe'" in p for p in ds.problems)
    assert {i.label for i in ds.items} == {0, 1}
    assert all(Path(i.path).is_file() for i in ds.items)


def test_manifest_csv_and_label_synonyms(tmp_path):
    (tmp_path / "a.png").write_bytes(_image(1, 1))
    (tmp_path / "b.jpg").write_bytes(_image(0, 2))
    (tmp_path / "m.csv").write_text("file,label,generator,family\na.png,fake,Kolors v1,mine\nb.jpg,real,,\n")
    ds = manifest.load(tmp_path / "m.csv")
    assert [(i.file, i.label, i.family) for i in ds.items] == [("a.png", 1, "mine"), ("b.jpg", 0, "real:root")]


def test_manifest_needs_file_and_label(tmp_path):
    (tmp_path / "m.tsv").write_text("path\tclass\nx.png\tai\n")
    with pytest.raises(TelltalesError, match="'file' and 'label'"):
        manifest.load(tmp_path / "m.tsv")
    with pytest.raises(TelltalesError, match="ai/"):
        manifest.load(tmp_path)


def test_folder_layout_and_subsample(tmp_path):
    ds = manifest.load(make_folder(tmp_path))
    assert Counter(i.label for i in ds.items) == {0: 6, 1: 6}
    assert {i.family for i in ds.items if i.label == 0} == {"real:src0", "real:src1"}
    assert {i.family for i in ds.items if i.label == 1} == {"ai:fam0", "ai:fam1", "ai:fam2"}
    sub = manifest.load(tmp_path, limit=6, seed=1)
    assert Counter(i.label for i in sub.items) == {0: 3, 1: 3}
    assert sub.items == manifest.load(tmp_path, limit=6, seed=1).items


@pytest.mark.parametrize(
    ("file", "label", "generator", "family"),
    [
        ("ai/kolors/x.png", 1, "SDXL + IP-Adapter (baseline)", "kolors"),
        ("ai/c2/facechain_styles/a.jpg", 1, "FaceChain: SD 1.5 finetune", "facechain"),
        ("ai/c2/gpt4o_awesome/a.png", 1, "OpenAI gpt-image-1", "openai-gpt-image"),
        ("ai/c2/sdnext_previews/a.jpg", 1, "Google Gemini 3 Pro Image (Nano Banana Pro)", "nano-banana"),
        ("ai/c2/sdnext_previews/b.jpg", 1, "Disty0/FLUX.1-dev-SDNQ-uint4-svd-r32", "flux"),
        ("ai/dcsan/x.png", 1, "DALL-E mini (borisdayma)", "dalle-mini"),
        ("ai/dcsan/y.png", 1, "DALL-E 2 (OpenAI Labs, 2022)", "dalle"),
        ("ai/c2/sdnext_previews/c.jpg", 1, "Juggernaut XL XI (SDXL finetune)", "sdxl"),
        ("real/c2/human_samples/z.jpg", 0, "real", "real:human_samples"),
        ("real/kodak24/k.png", 0, "real", "real:kodak24"),
    ],
)
def test_families_for_leave_one_out(file, label, generator, family):
    assert manifest.family_of(file, label, generator) == family


# the runner ---------------------------------------------------------------------------
def test_runner_caches_resumes_and_recomputes_only_a_changed_cue(tmp_path, fake_cues, monkeypatch):
    ds = manifest.load(make_folder(tmp_path / "d"))
    out = tmp_path / "out"
    # a first run that stops early: only half the images
    recs, counts = runner.run(ds.items[:6], out, conditions=("asis", "web"), cues=fake_cues, progress=False)
    assert counts == {"computed": 12} and CALLS == {RED: 12, PLAIN: 12}
    # resuming: only the other half is computed
    recs, counts = runner.run(ds.items, out, conditions=("asis", "web"), cues=fake_cues, progress=False)
    assert counts == {"computed": 12, "cached": 12} and CALLS == {RED: 24, PLAIN: 24}
    assert len(recs) == 24 and [(r["file"], r["condition"]) for r in recs[:2]] == [
        (ds.items[0].file, "asis"), (ds.items[0].file, "web")]
    # a second run computes nothing
    again, counts = runner.run(ds.items, out, conditions=("asis", "web"), cues=fake_cues, progress=False)
    assert counts == {"cached": 24} and CALLS == {RED: 24, PLAIN: 24}
    assert [r["findings"] for r in again] == [r["findings"] for r in recs]
    # a new version of one cue: only that cue runs again
    monkeypatch.setitem(registry._REGISTRY, RED, registry._REGISTRY[RED].__class__(
        RED, registry.category_of(RED), red_cast, ("rgb",), "2", "v2"))
    newer, counts = runner.run(ds.items, out, conditions=("asis", "web"), cues=fake_cues, progress=False)
    assert counts == {"computed": 24} and CALLS == {RED: 48, PLAIN: 24}
    assert all(next(f for f in r["findings"] if f["cue"] == RED)["version"] == "2" for r in newer)


def test_runner_survives_a_failing_cue_and_a_bad_file(tmp_path, fake_cues):
    ds = manifest.load(make_folder(tmp_path / "d", n=2))
    bad = ds.items[0].__class__(str(tmp_path / "bad.png"), "bad.png", 1, "", "", "famx")
    Path(bad.path).write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    items = (*ds.items, bad)
    recs, counts = runner.run(items, tmp_path / "out", conditions=("asis", "stripped"), cues=[*fake_cues, BOOM],
                              progress=False)
    assert counts["errors"] == 2  # the bad file, in both conditions
    bad_rows = [r for r in recs if r["file"] == "bad.png"]
    assert all(r["error"] and not r["findings"] for r in bad_rows)
    good = [r for r in recs if r["file"] != "bad.png"]
    assert all(next(f for f in r["findings"] if f["cue"] == BOOM)["status"] == "error" for r in good)
    # errors are cached: a re-run computes nothing ...
    before = dict(CALLS)
    _, counts = runner.run(items, tmp_path / "out", conditions=("asis", "stripped"), cues=[*fake_cues, BOOM],
                           progress=False)
    assert counts == {"cached": len(recs)} and before == CALLS
    # ... unless asked to retry them: then only the failing cue runs again
    _, counts = runner.run(items, tmp_path / "out", conditions=("asis", "stripped"), cues=[*fake_cues, BOOM],
                           progress=False, retry_errors=True)
    assert counts["computed"] == len(good) and before == CALLS
    scored = runner.score(recs, Fusion.load())
    assert {r["verdict"] for r in scored if r["file"] == "bad.png"} == {"error"}
    assert all(0 <= r["p_generated"] <= 1 for r in scored if r["file"] != "bad.png")


def test_parallel_run_matches_serial(tmp_path, fake_cues):
    ds = manifest.load(make_folder(tmp_path / "d", n=3))
    serial, _ = runner.run(ds.items, tmp_path / "a", conditions=("asis", "thumbnail"), cues=fake_cues, progress=False)
    par, counts = runner.run(ds.items, tmp_path / "b", conditions=("asis", "thumbnail"), cues=fake_cues, jobs=2,
                             progress=False)
    assert counts == {"computed": 12}

    def strip(rs):
        return [[{k: v for k, v in f.items() if k != "seconds"} for f in r["findings"]] for r in rs]

    assert strip(par) == strip(serial)


def reports_threads(a) -> Result:
    """Fake cue: says how many native threads its process may use."""
    return Result.clear(f"threads={cpu.threads()}")


def test_parallel_workers_share_the_cores(tmp_path, fake_cues, monkeypatch):
    """Each of N workers gets cores // N threads, as in `telltales scan`, so N onnxruntime pools do
    not oversubscribe the machine; a serial run keeps this process's own setting."""
    monkeypatch.setitem(registry._REGISTRY, PLAIN,
                        registry.Cue(PLAIN, registry.category_of(PLAIN), reports_threads, ("rgb",), "t", ""))
    monkeypatch.delenv(cpu.ENV, raising=False)
    ds = manifest.load(make_folder(tmp_path / "d", n=2))
    serial, _ = runner.run(ds.items, tmp_path / "a", cues=[PLAIN], progress=False)
    par, _ = runner.run(ds.items, tmp_path / "b", cues=[PLAIN], jobs=2, progress=False)
    assert {r["findings"][0]["reason"] for r in serial} == {f"threads={cpu.threads()}"}
    assert {r["findings"][0]["reason"] for r in par} == {f"threads={cpu.worker_share(2)}"}
    assert cpu.ENV not in os.environ  # the parent process is left as it was


# the commands -----------------------------------------------------------------------
def test_eval_command_on_a_folder_writes_table_json_html(tmp_path, fake_cues):
    data = make_folder(tmp_path / "d")
    out = tmp_path / "report"
    res = CliRunner().invoke(eval_command, [str(data), "--out", str(out), "--cues", ",".join(fake_cues),
                                            "--conditions", "asis,web", "--bootstrap", "20", "-q"])
    assert res.exit_code == 0, res.output
    assert "TPR@1%" in res.output and "report.html" in res.output
    doc = json.loads((out / "report.json").read_text())
    assert set(doc["summary"]["conditions"]) == {"asis", "web"}
    asis = doc["summary"]["conditions"]["asis"]
    assert asis["n"] == 12 and asis["per_cue"][RED]["auc_where_applicable"] == 1.0
    assert asis["per_cue"][PLAIN]["coverage"] == 1.0
    assert (out / "report.html").read_text().count("<img") == 2 and (out / "roc.png").stat().st_size > 1000
    rows = [json.loads(line) for line in (out / "rows.jsonl").read_text().splitlines()]
    assert len(rows) == 24 and all("findings" in r and "verdict" in r for r in rows)


def test_eval_command_json_and_bad_manifest_rows(tmp_path, fake_cues):
    path = make_manifest(tmp_path, "data/nothing.png\tai\tx\n")
    res = CliRunner().invoke(eval_command, [str(path), "--out", str(tmp_path / "o"), "--cues", RED, "--json",
                                            "--bootstrap", "0", "--logo"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["meta"]["bad_rows"] == 1 and "no such file" in doc["problems"][0]
    assert doc["conditions"]["asis"]["n"] == 12
    assert doc["conditions"]["asis"]["auc"] == 1.0  # the red cast separates even out of fold


def test_calibrate_command_writes_a_fusion_that_inspect_can_use(tmp_path, fake_cues):
    from telltales.api import inspect

    path = make_manifest(tmp_path)
    out = tmp_path / "my-fusion.json"
    res = CliRunner().invoke(calibrate_command, [str(path), "--out", str(out), "--cues", ",".join(fake_cues),
                                                 "--conditions", "asis,web", "-q"])
    assert res.exit_code == 0, res.output
    result = json.loads(res.output)
    fusion = Fusion.load(out)
    assert fusion.weights[RED]["w"] > 0
    assert set(result["leave_one_group_out"]) == {"asis", "web"}
    assert fusion.record["conditions"] == ["asis", "web"] and fusion.record["cue_versions"][RED] == "1"
    assert 0.7 <= fusion.thresholds["generated"] <= 0.995 and fusion.thresholds["real"] <= 0.3
    red = inspect(_image(1, 7), cues=[RED], fusion=str(out))
    blue = inspect(_image(0, 8), cues=[RED], fusion=str(out))
    assert red.p_generated > blue.p_generated


def test_eval_command_clean_error_on_unknown_condition(tmp_path, fake_cues):
    data = make_folder(tmp_path / "d", n=1)
    res = CliRunner().invoke(eval_command, [str(data), "--out", str(tmp_path / "o"), "--conditions", "blurry"])
    assert res.exit_code != 0 and isinstance(res.exception, TelltalesError)
    assert "unknown condition" in str(res.exception)
