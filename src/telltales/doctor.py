"""Is this install whole and computing what it should? One check per part, each with the cues
that need it.

    >>> from telltales.doctor import run_checks
    >>> [c.part for c in run_checks()]  # doctest: +SKIP
    ['detector backbone', 'landmark models', 'text reading (OCR)', 'fusion', 'eval extra', ...]

A part is ``ok``, ``missing`` (not installed: its cues report not applicable and say how to
install it) or ``failed`` (installed, but it does not load or does not give its known answer:
the detector's backbone on a CPU whose arithmetic differs, a damaged model file, a fusion
fitted on other cue versions). ``telltales doctor`` prints the table and exits 1 unless every
part is ok.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from .errors import EXTRAS, MissingPart, TelltalesError

Status = Literal["ok", "missing", "failed"]

# which analysis inputs each model part provides (the cues that need one need the part)
PART_PROVIDES: dict[str, tuple[str, ...]] = {
    "detector backbone": ("clip",),
    "landmark models": ("faces", "eyes", "hands", "pose"),
    "text reading (OCR)": ("ocr",),
}
OCR_WORD = "TELLTALES"


@dataclass(frozen=True)
class Check:
    part: str
    status: Status
    detail: str
    cues: tuple[str, ...] = ()  # the cues that need this part

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "cues": list(self.cues)}


def cues_needing(inputs: tuple[str, ...]) -> tuple[str, ...]:
    from .registry import all_cues

    return tuple(c.id for c in all_cues() if set(c.needs) & set(inputs))


def _backbone() -> str:
    from . import backbone

    b = backbone.load()  # checks the file against its record and runs the known answer
    return f"{b.path.name}: known answer within {b.known_answer:.4f} ({backbone.DERIVATION})"


def _landmarks() -> str:
    from . import landmark_models

    return landmark_models.check().removeprefix("landmark models ok: ")


def _ocr() -> str:
    """Read a word drawn here: the OCR models load and recognise it."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    from .analyses.ocr import read_text

    img = Image.new("RGB", (560, 120), "white")
    ImageDraw.Draw(img).text((20, 25), OCR_WORD, fill="black", font=ImageFont.load_default(size=64))
    read = " ".join(line.text for line in read_text(np.asarray(img)[:, :, ::-1].copy()))
    if OCR_WORD not in read.upper().replace(" ", ""):
        raise TelltalesError(f"read {read!r} where {OCR_WORD!r} is drawn")
    return f"read the drawn word {OCR_WORD!r}"


def _fusion() -> str:
    from .fusion import Fusion
    from .registry import all_cues

    fusion = Fusion.load(check=False)
    fusion.check_versions({c.id: c.version for c in all_cues()})
    return f"{fusion.name}: fitted on the cue versions installed"


def _extra(name: str) -> Callable[[], str]:
    def check() -> str:
        for module in EXTRAS[name]:
            try:
                importlib.import_module(module)
            except ImportError:
                raise MissingPart(f"{module} is not installed (pip install 'telltales[{name}]')") from None
        return ", ".join(EXTRAS[name])

    return check


def _run(part: str, check: Callable[[], str], cues: tuple[str, ...] = ()) -> Check:
    try:
        return Check(part, "ok", check(), cues)
    except MissingPart as exc:
        from .backbone import BackboneArithmetic

        status: Status = "failed" if isinstance(exc, BackboneArithmetic) else "missing"
        return Check(part, status, str(exc), cues)
    except ImportError as exc:
        from .errors import missing_part

        return Check(part, "missing", str(missing_part(exc.name)), cues)
    except Exception as exc:  # noqa: BLE001 - a broken part is a finding of the doctor, not a crash
        return Check(part, "failed", f"{type(exc).__name__}: {exc}", cues)


def run_checks() -> list[Check]:
    """Every part, in the order a user would fix them: the detector first."""
    models = {"detector backbone": _backbone, "landmark models": _landmarks, "text reading (OCR)": _ocr}
    out = [_run(part, fn, cues_needing(PART_PROVIDES[part])) for part, fn in models.items()]
    out.append(_run("fusion", _fusion))
    out += [_run(f"{name} extra", _extra(name)) for name in ("eval", "serve", "ray")]
    return out


def render(checks: list[Check]) -> str:
    width = max(len(c.part) for c in checks)
    lines = []
    for c in checks:
        lines.append(f"{c.part:<{width}}  {c.status:<7}  {c.detail}")
        if c.status != "ok" and c.cues:
            lines.append(f"{'':<{width}}           without it: {', '.join(c.cues)} not applicable")
    return "\n".join(lines)
