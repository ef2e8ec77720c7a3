"""A detector on the features of a pretrained image model (CLIP ViT-B/16).

Generated images differ from photographs in ways no single hand-written cue
captures: the fine texture a decoder draws, the too-even lighting and colour
of a denoiser's "average photo", the rendering of small details. The middle
blocks of a large pretrained vision model describe exactly this mix of
low-level traces and style (Ojha et al. 2023, "UnivFD"; Cozzolino et al. 2024;
Koutlis and Papadopoulos 2024, "RINE"); its final embedding, tuned to say
*what* is shown, keeps less of it.

The cue takes three 224x224 views of the image without its border
(``telltales.analyses.clip``): the whole scene resized, and two crops of the
full-resolution pixels, never resampled. Each view goes through the CLIP image
tower (cut after block 8; ``telltales.backbone``); small logistic heads on the
residual-stream features of chosen blocks score the global view and each
crop; the image logit is the mean of the global score and the mean crop
score, mapped to a probability by a Platt calibration fitted on scores of
images whose generator family or photo collection the heads never saw.

What it can prove: nothing on its own. It is a statistical judgement, right
most of the time on the kinds of images it was validated on, and it says
nothing about *what* is wrong. New generators, heavy editing, screenshots,
digital art and unusual photos (long exposures, studio product shots) can
fool it either way. It reports generated-evidence only above a probability
that at most 2% of held-out real photos reached in every condition, and
real-evidence only below one at most 2% of held-out generated images reached.
The head and its record (data, grouping, metrics) ship in
``telltales/models/clip_head.{npz,json}`` and are refused if their feature
version or backbone hash differ from the installed backbone's.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from telltales import backbone
from telltales.analysis import Analysis
from telltales.errors import TelltalesError
from telltales.findings import Region, Result
from telltales.registry import cue

MODEL_NPZ = "clip_head.npz"
MODEL_JSON = "clip_head.json"
MIN_SIDE = 64
KIND_INDEX = {"cls": 0, "mean": 1}


class HeadMismatch(TelltalesError):
    """The head was trained on other features than the installed backbone computes."""


@dataclass(frozen=True)
class Head:
    """Standardise, then a logistic output."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    bias: float

    def logits(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.coef + self.bias


@dataclass(frozen=True)
class Model:
    spec: tuple[tuple[int, str], ...]  # (block, "cls" | "mean") per feature group
    global_head: Head
    native_head: Head
    calibration: tuple[float, float]  # Platt (a, b): p = sigmoid(a * logit + b)
    t_generated: float  # calibrated p at and above which: generated-evidence
    t_real: float  # calibrated p at and below which: real-evidence
    feature_version: str
    backbone_sha256: str
    # Platt (a, b) for the global view alone (the one-view mode), fitted on its own logits
    calibration_one_view: tuple[float, float] | None = None
    native_weight: float = 1.0  # weight of the mean native-crop logit against the global view's

    def probability(self, logit: float, *, one_view: bool = False) -> float:
        a, b = self.calibration_one_view if one_view and self.calibration_one_view else self.calibration
        return float(sigmoid(a * logit + b))


def sigmoid(x: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


def select(features: np.ndarray, spec: tuple[tuple[int, str], ...]) -> np.ndarray:
    """(V, blocks, 2, 768) backbone features -> (V, D) with the spec's groups side by side."""
    return np.concatenate([features[:, b, KIND_INDEX[k]] for b, k in spec], axis=1).astype(np.float32)


def view_logits(features: np.ndarray, spec, global_head: Head, native_head: Head) -> np.ndarray:
    """Logit per view: view 0 through the global head, the others through the native head."""
    x = select(features, spec)
    out = np.empty(len(x))
    out[0] = global_head.logits(x[:1])[0]
    if len(x) > 1:
        out[1:] = native_head.logits(x[1:])
    return out


def image_logit(v: np.ndarray, native_weight: float = 1.0) -> float:
    """(global logit + w x mean native-crop logit) / (1 + w); the global view's alone if no crop."""
    if len(v) == 1:
        return float(v[0])
    return float((v[0] + native_weight * v[1:].mean()) / (1 + native_weight))


# --- the packaged head ----------------------------------------------------------------------
def _head_arrays(prefix: str, h: Head) -> dict[str, np.ndarray]:
    return {f"{prefix}_mean": h.mean, f"{prefix}_scale": h.scale, f"{prefix}_coef": h.coef,
            f"{prefix}_bias": np.array(h.bias)}


def save_model(model: Model, record: dict[str, Any], folder: str | Path | None = None) -> None:
    """Write the head (npz) and its record (json), e.g. into src/telltales/models."""
    folder = Path(folder) if folder else Path(__file__).resolve().parents[2] / "models"
    np.savez(folder / MODEL_NPZ, **_head_arrays("global", model.global_head),
             **_head_arrays("native", model.native_head))
    meta = {
        **record,
        "spec": [list(s) for s in model.spec],
        "calibration": list(model.calibration),
        "calibration_one_view": list(model.calibration_one_view) if model.calibration_one_view else None,
        "native_weight": model.native_weight,
        "thresholds": {"generated": model.t_generated, "real": model.t_real},
        "feature_version": model.feature_version,
        "backbone_sha256": model.backbone_sha256,
    }
    (folder / MODEL_JSON).write_text(json.dumps(meta, indent=1, default=float) + "\n")


def model_from(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> Model:
    """Build and check a model; :class:`HeadMismatch` if it was made for other features."""
    if meta.get("feature_version") != backbone.FEATURE_VERSION:
        raise HeadMismatch(
            f"the noise.clip head was trained on features {meta.get('feature_version')!r}, "
            f"but the backbone computes {backbone.FEATURE_VERSION!r}; retrain or reinstall"
        )
    if meta.get("backbone_sha256") != backbone.SOURCE_SHA256:
        raise HeadMismatch("the noise.clip head was trained on another backbone file (sha256 differs)")

    def head(prefix: str) -> Head:
        return Head(arrays[f"{prefix}_mean"].astype(np.float32), arrays[f"{prefix}_scale"].astype(np.float32),
                    arrays[f"{prefix}_coef"].astype(np.float32), float(arrays[f"{prefix}_bias"]))

    spec = tuple((int(b), str(k)) for b, k in meta["spec"])
    dim = len(spec) * backbone.WIDTH
    g, n = head("global"), head("native")
    if any(len(v) != dim for h in (g, n) for v in (h.mean, h.scale, h.coef)):
        raise HeadMismatch(f"the noise.clip head's weights do not have {dim} inputs")
    th = meta["thresholds"]
    one = meta.get("calibration_one_view")
    return Model(spec, g, n, (float(meta["calibration"][0]), float(meta["calibration"][1])),
                 float(th["generated"]), float(th["real"]), meta["feature_version"], meta["backbone_sha256"],
                 (float(one[0]), float(one[1])) if one else None, float(meta.get("native_weight", 1.0)))


@cache
def load_model() -> Model:
    pkg = resources.files("telltales.models")
    with resources.as_file(pkg / MODEL_NPZ) as path, np.load(path) as z:
        arrays = {k: np.array(z[k]) for k in z.files}
    return model_from(arrays, json.loads((pkg / MODEL_JSON).read_text()))


# --- the cue --------------------------------------------------------------------------------
def log_odds(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def judge(p: float, model: Model) -> tuple[str, float | None]:
    """Status and strength for a calibrated probability: strength is 0 at each threshold."""
    if p >= model.t_generated:
        return "generated-evidence", (p - model.t_generated) / max(1e-6, 1 - model.t_generated)
    if p <= model.t_real:
        return "real-evidence", (model.t_real - p) / max(1e-6, model.t_real)
    return "clear", None


@cue("noise.clip", needs=("clip",), version="1", models=(MODEL_NPZ, MODEL_JSON))
def clip_detector(a: Analysis) -> Result:
    """Features of a pretrained image model (CLIP) that a trained head associates with generators."""
    w, h = a.image.size
    if min(w, h) < MIN_SIDE:
        return Result.not_applicable(f"image too small for the detector ({w}x{h} px, needs {MIN_SIDE} px)")
    try:
        feats = a.clip
    except backbone.BackboneMissing as exc:  # not installed, or not computing what it should here
        return Result.not_applicable(str(exc), details={"part_missing": True})
    model = load_model()
    v = view_logits(feats.features, model.spec, model.global_head, model.native_head)
    z = image_logit(v, model.native_weight)
    p = model.probability(z, one_view=len(v) == 1)
    views = [
        {"kind": k, "box": list(b), "logit": round(float(s), 3)}
        for k, b, s in zip(feats.views.kinds, feats.views.boxes, v, strict=True)
    ]
    details = {
        "p": round(p, 4),
        "log_odds": round(log_odds(p), 4),
        "logit": round(z, 4),
        "threshold_generated": round(model.t_generated, 4),
        "threshold_real": round(model.t_real, 4),
        "views": views,
    }
    # the views that lean furthest towards generated, strongest first
    order = sorted(range(len(v)), key=lambda i: -v[i])
    status, strength = judge(p, model)
    if status == "generated-evidence":
        natives = [i for i in order if feats.views.kinds[i] == "native"][:2] or order[:1]
        regions = tuple(Region(feats.views.boxes[i], f"{feats.views.kinds[i]} view, score {v[i]:.2f}")
                        for i in natives)
        return Result.generated(
            strength,
            f"A detector on the features of a pretrained image model (CLIP) rates this image "
            f"generated with probability {p:.2f}; at most 2% of real photos from collections it never "
            f"saw reached {model.t_generated:.2f}. It is a statistical judgement: it does not say what "
            "is wrong, and new generators or unusual photos can fool it. The boxes show the views "
            "that scored highest.",
            regions=regions,
            details=details,
        )
    if status == "real-evidence":
        return Result.real(
            strength,
            f"A detector on the features of a pretrained image model (CLIP) rates this image a "
            f"photograph (probability of generated {p:.2f}; at most 2% of generated images from "
            "generators it never saw scored this low). Generators it has not seen can score low too.",
            details=details,
        )
    return Result.clear(
        f"A detector on the features of a pretrained image model (CLIP) does not clearly point "
        f"either way (probability of generated {p:.2f}).",
        details=details,
    )
