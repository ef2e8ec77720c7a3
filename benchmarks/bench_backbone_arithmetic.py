"""noise.clip with the installed backbone and with its INT8-weight form, on this machine's CPU.

    python benchmarks/bench_backbone_arithmetic.py --data all.tsv [--part locked] [--conditions web,asis] [--whole 25]

The installed backbone stores its weights as UINT8 (``telltales.backbone.unsigned_weights``);
this rebuilds the form installs made before (INT8 weights, the same numbers) from it and
runs ``noise.clip`` alone (``telltales.inspect(..., cues=["noise.clip"])``) with each, on
every image of ``--part`` (``telltales.evaluate.families``) under each condition. On a CPU
with VNNI the two agree; on an AVX2 CPU without VNNI the INT8 form saturates. Prints, per
backbone form and condition: AUC, TPR at 2% FPR, the share of real photos and of generated
pictures with generated evidence, the share with real evidence, ECE, and the known-answer
deviation of each form (``telltales.backbone.self_test``). ``--whole N`` also runs the
whole report (every cue, the shipped fusion) on the web copies of N real photos and N
generated pictures of the part, drawn at random (seed 0), and counts the verdicts per
form. Nothing is tuned here.
"""

from __future__ import annotations

import argparse
import io
import random
import tempfile
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import numpy as np


def int8_form(path: Path, out: Path) -> Path:
    """The installed file with its UINT8 weights (and zero points) moved back to INT8."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    inits = {i.name: i for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "MatMulInteger":
            for name in {node.input[1], node.input[3]}:
                a = numpy_helper.to_array(inits[name])
                if a.dtype == np.uint8:
                    inits[name].CopyFrom(numpy_helper.from_array((a.astype(np.int16) - 128).astype(np.int8), name))
    onnx.save(model, str(out))
    return out


def session(path: Path):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


@contextmanager
def using(b):
    """Analyses read the backbone through ``telltales.backbone.load``: this one meanwhile."""
    from telltales import backbone

    backbone.load.cache_clear()
    original = backbone.load
    backbone.load = lambda threads=None: b
    try:
        yield
    finally:
        backbone.load = original


def report(it, condition: str, cues: list[str] | None = None):
    import telltales
    from telltales.evaluate.conditions import apply

    return telltales.inspect(io.BytesIO(apply(condition, Path(it.path).read_bytes())), cues=cues, on_error="report")


def scores(items, conditions: list[str], b) -> dict[str, list[tuple[int, float]]]:
    out: dict[str, list[tuple[int, float]]] = {c: [] for c in conditions}
    with using(b):
        for c in conditions:
            for it in items:
                f = next((f for f in report(it, c, ["noise.clip"]).findings if f.cue == "noise.clip"), None)
                if f is not None and f.details and "p" in f.details:
                    out[c].append((int(it.label), float(f.details["p"])))
    return out


def verdicts(items, b) -> dict[int, Counter]:
    """Verdict counts per label of the whole report on each item's web copy."""
    out: dict[int, Counter] = {0: Counter(), 1: Counter()}
    with using(b):
        for it in items:
            out[int(it.label)][report(it, "web").verdict] += 1
    return out


def row(name: str, condition: str, pairs: list[tuple[int, float]], model) -> str:
    from telltales.evaluate import metrics

    y = np.array([a for a, _ in pairs])
    p = np.array([b for _, b in pairs])
    real, ai = p[y == 0], p[y == 1]
    return (f"| {name} | {condition} | {len(p)} | {metrics.roc_auc(y, p):.3f} | {metrics.tpr_at_fpr(y, p, 0.02):.2f} "
            f"| {np.mean(real >= model.t_generated):.1%} | {np.mean(ai >= model.t_generated):.1%} "
            f"| {np.mean(real <= model.t_real):.1%} | {metrics.expected_calibration_error(y, p):.3f} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="a manifest over dev + train + train2 (training/all_manifest.py)")
    ap.add_argument("--part", choices=("locked", "fit", "all"), default="locked")
    ap.add_argument("--conditions", default="web,asis", help="for the noise.clip table; empty for none")
    ap.add_argument("--whole", type=int, default=0, metavar="N",
                    help="also the whole report on N real and N generated pictures (web copies)")
    args = ap.parse_args(argv)

    from telltales import backbone
    from telltales.cues.text_noise import clip_detector as C
    from telltales.evaluate import families, manifest

    items = [it for it in manifest.load(args.data).items
             if args.part == "all" or families.is_locked(it.family) == (args.part == "locked")]
    conditions = [c for c in args.conditions.split(",") if c]
    installed = backbone.installed()
    if installed is None:
        raise SystemExit("the backbone is not installed: python -m telltales.backbone install")
    model = C.load_model()
    if conditions:
        print("| backbone weights | condition | images | AUC | TPR at 2% FPR | real with generated evidence "
              "| generated with generated evidence | real with real evidence | ECE |")
        print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        forms = {"UINT8 (installed)": installed, "INT8 (before)": int8_form(installed, Path(tmp) / "int8.onnx")}
        rng = random.Random(0)
        sample = [x for label in (0, 1) for x in rng.sample([it for it in items if it.label == label], args.whole)]
        deviations, counts = {}, {}
        for name, path in forms.items():
            b = backbone.Backbone(path, "", session(path))
            try:
                deviations[name] = f"{backbone.self_test(b):.4f}"
            except backbone.BackboneArithmetic as exc:
                deviations[name] = str(exc).split(" (")[0].removeprefix("the backbone's features on this machine ")
            for c, pairs in scores(items, conditions, b).items():
                print(row(name, c, pairs, model), flush=True)
            if args.whole:
                counts[name] = verdicts(sample, b)
    for name, dev in deviations.items():
        print(f"known answer, {name}: {dev}")
    for name, by_label in counts.items():
        for label, kind in ((0, "real photos"), (1, "generated pictures")):
            print(f"whole report, {name}, {args.whole} {kind}: {dict(sorted(by_label[label].items()))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
