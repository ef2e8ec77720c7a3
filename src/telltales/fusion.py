"""The one place where evidence becomes a verdict.

A fusion model is a small JSON file (``telltales/models/fusion.json`` ships
with the package; ``--fusion FILE`` swaps it). For each cue it holds two
weights: ``w`` multiplies the cue's signed score (+strength for generated
evidence, -strength for real evidence, 0 for clear) and ``w_applicable`` is
added when the cue could decide at all. "Not applicable" contributes nothing:
it is absence of information, never a 0 score. The sum of contributions plus
an intercept is a logit; an optional Platt calibration ``(a, b)`` maps it to
``p_generated = sigmoid(a * logit + b)``.

A learned cue that publishes a calibrated ``details["log_odds"]`` can be
weighed on it instead of its strength (``"input": "log_odds"`` in its weight
entry): the fusion then sees the detector's whole range, not only the tail
past its display threshold.

What one piece of evidence may do on its own is bounded by what it can prove:

* **Decisive** findings (a valid C2PA signature that declares generation) set
  the verdict to generated on their own.
* **Forgeable** evidence (:data:`FORGEABLE`: camera EXIF, which anyone can
  copy onto any file) moves p_generated but never carries it across a verdict
  threshold: an image the other evidence leaves unsure stays unsure.
* **Pastable** marks (:data:`CORROBORATING`: a generator's visible mark, which
  anyone can paste onto a photo) carry p_generated across the "generated"
  threshold only when the rest of the evidence already leans generated
  (p above 0.5 without the mark). On their own, or against evidence that leans
  real, they leave the image unsure: a pasted DALL-E 2 strip cannot make a
  photo "generated".
* Any other **single cue** except the provenance that names a generator
  (:data:`STRONG`) moves the calibrated logit by at most
  :data:`MAX_SINGLE_LOGIT` (p between 0.02 and 0.98 on its own): one detector
  or one pixel statistic never claims certainty alone.

Everything else is weighed: the verdict is "generated" above
``thresholds.generated``, "real" below ``thresholds.real``, and "unsure" in
between, with the reason it is unsure.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import TelltalesError
from .findings import Finding, Status
from .registry import MODEL_MISSING

DEFAULT_FUSION = "fusion.json"
FORGEABLE = frozenset({"provenance.camera"})
CORROBORATING = frozenset({"provenance.visible-mark"})
STRONG = frozenset({"provenance.c2pa", "provenance.generator-metadata", "provenance.watermark"})
MAX_SINGLE_LOGIT = math.log(0.98 / 0.02)  # calibrated logit one ordinary cue may add on its own
LOG_ODDS_LIMIT = 6.0  # a detector's log-odds input is clipped to this


def finding_input(status: str, strength: float | None, details: dict[str, Any] | None, kind: str) -> float | None:
    """The number a cue feeds the fusion: its signed strength, or its clipped calibrated log-odds."""
    if status in ("not-applicable", "error"):
        return None
    if kind == "log_odds":
        lo = (details or {}).get("log_odds")
        if lo is not None:
            return max(-LOG_ODDS_LIMIT, min(LOG_ODDS_LIMIT, float(lo)))
    if status == "generated-evidence":
        return float(strength or 0.0)
    if status == "real-evidence":
        return -float(strength or 0.0)
    return 0.0


def at_base_rate(p: float, rate: float) -> float:
    """p_generated for a collection in which a share ``rate`` of pictures is generated.

    The fusion weighs generated and real pictures equally, so its p_generated holds where
    the two are equally common; elsewhere the odds scale by rate / (1 - rate) (Bayes' rule:
    the evidence's likelihood ratio is unchanged, the prior is not).

    >>> round(at_base_rate(0.9, 0.01), 3)
    0.083
    >>> at_base_rate(0.7, 0.5)
    0.7
    """
    if not 0.0 < rate < 1.0:
        raise ValueError(f"a base rate is a share strictly between 0 and 1, got {rate}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p_generated must be in [0, 1], got {p}")
    if p in (0.0, 1.0) or rate == 0.5:
        return p
    return _sigmoid(math.log(p / (1.0 - p)) + math.log(rate / (1.0 - rate)))


def p_at_base_rate(p: float | None, rate: float | None) -> float | None:
    """:func:`at_base_rate` as every output gives it (inspect's JSON, scan's tables, the web
    app): rounded to 4 places, and None without a p (an error row) or without a rate."""
    return None if p is None or rate is None else round(at_base_rate(float(p), rate), 4)


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@dataclass(frozen=True)
class Verdict:
    verdict: str  # generated | real | unsure
    p_generated: float
    reasons: tuple[str, ...]
    unsure_reason: str | None
    contributions: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Fusion:
    name: str
    weights: dict[str, dict[str, float]]
    intercept: float = 0.0
    default_weight: float = 1.0
    calibration: tuple[float, float] = (1.0, 0.0)
    thresholds: dict[str, float] = field(
        default_factory=lambda: {"generated": 0.8, "real": 0.2}
    )
    record: dict[str, Any] = field(default_factory=dict)

    # loading ----------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Fusion:
        try:
            thresholds = {k: float(v) for k, v in d.get("thresholds", {}).items()} or {
                "generated": 0.8,
                "real": 0.2,
            }
            if not 0 <= thresholds["real"] <= thresholds["generated"] <= 1:
                raise ValueError("thresholds must satisfy 0 <= real <= generated <= 1")
            cal = d.get("calibration", [1.0, 0.0])
            return cls(
                name=str(d["name"]),
                weights={
                    k: {"w": float(v.get("w", 0.0)), "w_applicable": float(v.get("w_applicable", 0.0)),
                        **({"input": str(v["input"])} if v.get("input") else {})}
                    for k, v in d.get("weights", {}).items()
                },
                intercept=float(d.get("intercept", 0.0)),
                default_weight=float(d.get("default_weight", 1.0)),
                calibration=(float(cal[0]), float(cal[1])),
                thresholds=thresholds,
                record=dict(d.get("record", {})),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise TelltalesError(f"fusion file is malformed: {exc}") from None

    @classmethod
    def load(cls, path: str | Path | None = None, *, check: bool = True) -> Fusion:
        """The fusion in ``path``, or the one shipped with telltales.

        With ``check`` (the default), a fusion fitted on other versions of the cues it
        weighs is refused (:meth:`check_versions`)."""
        try:
            if path is None:
                text = resources.files("telltales.models").joinpath(DEFAULT_FUSION).read_text()
            else:
                text = Path(path).read_text()
            fusion = cls.from_dict(json.loads(text))
        except OSError as exc:
            raise TelltalesError(f"cannot read fusion file {path}: {exc}") from None
        except json.JSONDecodeError as exc:
            raise TelltalesError(f"fusion file {path} is not JSON: {exc}") from None
        if check:
            from .registry import all_cues

            fusion.check_versions({c.id: c.version for c in all_cues()})
        return fusion

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "intercept": self.intercept,
            "default_weight": self.default_weight,
            "calibration": list(self.calibration),
            "thresholds": self.thresholds,
            "weights": self.weights,
            "record": self.record,
        }

    def version_mismatches(self, versions: dict[str, str]) -> list[str]:
        """Weighted cues whose version now differs from the one this fusion was fitted on.

        A cue whose trained file is not installed (version ``...+missing``) is not counted:
        it can only say not-applicable, which adds nothing, and ``telltales doctor`` names it."""
        fitted = self.record.get("cues") or {}
        return [
            f"{cue} (fitted on version {fitted[cue]}, registered {versions[cue]})"
            for cue, w in sorted(self.weights.items())
            if (w["w"] or w["w_applicable"]) and cue in fitted and cue in versions
            and str(fitted[cue]) != str(versions[cue]) and not str(versions[cue]).endswith("+" + MODEL_MISSING)
        ]

    def check_versions(self, versions: dict[str, str]) -> None:
        """Refuse a fusion whose weighted cues have changed since it was fitted."""
        bad = self.version_mismatches(versions)
        if bad:
            raise TelltalesError(
                f"fusion {self.name!r} was fitted on other cue versions: {', '.join(bad)}; "
                "refit it (telltales calibrate) or pass a matching --fusion file"
            )

    # combining --------------------------------------------------------------------
    def contribution(self, f: Finding) -> float:
        """This finding's additive share of the logit (0 when not applicable or an error).

        Bounded for ordinary cues: alone it moves the calibrated logit by at most
        MAX_SINGLE_LOGIT (see the module docstring)."""
        w = self.weights.get(f.cue, {"w": self.default_weight, "w_applicable": 0.0})
        x = finding_input(str(f.status), f.strength, f.details, str(w.get("input", "strength")))
        if x is None:
            return 0.0
        c = w["w"] * x + w["w_applicable"]
        if f.cue not in STRONG:
            limit = MAX_SINGLE_LOGIT / max(1e-9, abs(self.calibration[0]))
            c = max(-limit, min(limit, c))
        return c

    def _verdict_of(self, p: float) -> str:
        if p >= self.thresholds["generated"]:
            return "generated"
        if p <= self.thresholds["real"]:
            return "real"
        return "unsure"

    def combine(self, findings: list[Finding], *, degraded: list[str] | None = None) -> Verdict:
        degraded = degraded or []
        decisive = [f for f in findings if f.decisive and f.status == Status.GENERATED]
        contributions = {f.cue: self.contribution(f) for f in findings}
        logit = self.intercept + sum(contributions.values())
        a, b = self.calibration
        p = _sigmoid(a * logit + b)
        lo, hi = self.thresholds["real"] + 1e-4, self.thresholds["generated"] - 1e-4
        # forgeable evidence never carries p across a threshold the rest had not crossed:
        # from unsure it stays unsure; from a verdict it may only fall back to unsure
        forged = sum(c for cue, c in contributions.items() if cue in FORGEABLE)
        if forged:
            rest = self._verdict_of(_sigmoid(a * (logit - forged) + b))
            if rest != "real":
                p = max(p, lo)
            if rest != "generated":
                p = min(p, hi)
        # a pastable mark only corroborates: it may carry p to "generated" when the rest of
        # the evidence (forgeable included) already leans generated, never on its own
        pasted = sum(c for cue, c in contributions.items() if cue in CORROBORATING)
        if pasted > 0 and _sigmoid(a * (logit - pasted) + b) <= 0.5:
            p = min(p, hi)

        # the reasons are the evidence that moved p: a finding this fusion does not weigh is
        # still listed under its category, but it is not why the verdict is what it is
        evidence = sorted(
            (f for f in findings if f.status in (Status.GENERATED, Status.REAL) and contributions.get(f.cue)),
            key=lambda f: -abs(contributions.get(f.cue, 0.0)),
        )
        reasons = tuple(f"{f.cue}: {f.reason}" for f in decisive) + tuple(
            f"{f.cue}: {f.reason}" for f in evidence if f not in decisive
        )
        if decisive:
            return Verdict("generated", max(p, 0.99), reasons, None, contributions)

        verdict = self._verdict_of(p)
        unsure_reason = self._why_unsure(p, findings, contributions, degraded) if verdict == "unsure" else None
        return Verdict(verdict, p, reasons, unsure_reason, contributions)

    def _why_unsure(
        self,
        p: float,
        findings: list[Finding],
        contributions: dict[str, float],
        degraded: list[str],
    ) -> str:
        towards_gen = [f for f in findings if contributions.get(f.cue, 0) > 0.5 and f.status == Status.GENERATED]
        towards_real = [f for f in findings if contributions.get(f.cue, 0) < -0.5 and f.status == Status.REAL]
        applicable = [f for f in findings if f.status not in (Status.NOT_APPLICABLE, Status.ERROR)]
        parts: list[str] = []
        if towards_gen and towards_real:
            parts.append(
                "conflicting evidence: "
                + ", ".join(f.cue for f in towards_gen)
                + " point to generated, "
                + ", ".join(f.cue for f in towards_real)
                + " to a real photo"
            )
        elif not any(f.status in (Status.GENERATED, Status.REAL) for f in findings):
            if applicable:
                parts.append(
                    f"no cue found evidence either way ({len(applicable)} of {len(findings)} "
                    "cues could check this image)"
                )
            else:
                parts.append("no cue could check this image")
        else:
            parts.append(f"evidence too weak to decide (p_generated {p:.2f})")
        if degraded:
            parts.append("input is degraded: " + "; ".join(degraded))
        return "; ".join(parts)
