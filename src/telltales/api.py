"""``inspect``: one image in, one :class:`~telltales.report.Report` out."""

from __future__ import annotations

import time
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from typing import Any

from .analysis import DEFAULT_WORKING_SIZE, PROFILES, Analysis
from .degradation import degradation_notes
from .errors import ImageError, MissingPart, extra_for, missing_part
from .findings import Finding, ManualCheck, Result, Status
from .fusion import Fusion
from .image import DEFAULT_MAX_PIXELS, Image, load_image
from .registry import Cue, matches, select
from .report import Report
from .taxonomy import ITEMS

try:
    __version__ = _dist_version("telltales")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0+unknown"


REDUCED_REASON = (
    "the image was decoded below its native resolution to stay within the pixel budget "
    "(--max-pixels), and this cue reads native pixels"
)


def run_cue(c: Cue, analysis: Analysis) -> tuple[Finding, tuple[ManualCheck, ...]]:
    """Run one cue, never letting it crash the report: a failure becomes an error finding.

    A cue that reads native pixels is not applicable to an image decoded reduced.
    """
    t0 = time.perf_counter()
    try:
        if analysis.image.reduced and "native" in c.needs:
            result = Result.not_applicable(REDUCED_REASON)
        else:
            result = c.func(analysis)
        if not isinstance(result, Result):
            raise TypeError(f"cue returned {type(result).__name__}, not Result")
    except MissingPart as exc:
        result = Result.not_applicable(f"not checked: {exc}", details={"part_missing": True})
    except ImportError as exc:
        if extra_for(exc.name):  # an optional part the user chose not to install
            result = Result.not_applicable(f"not checked: {missing_part(exc.name)}", details={"part_missing": True})
        else:
            result = Result.error(f"a package this cue needs is missing ({exc.name or exc}); run install.sh")
    except Exception as exc:  # noqa: BLE001 - a cue bug must not lose the image
        result = Result.error(f"cue failed: {type(exc).__name__}: {exc}")
    finding = Finding(
        cue=c.id,
        category=c.category,
        status=result.status,
        strength=result.strength,
        reason=result.reason,
        regions=result.regions,
        details=result.details,
        seconds=time.perf_counter() - t0,
        version=c.version,
        decisive=result.decisive,
    )
    return finding, result.manual


def manual_checks_for(
    cues: list[Cue], findings: list[Finding], raised: list[ManualCheck]
) -> tuple[ManualCheck, ...]:
    """What cues raised, then every taxonomy item no cue could judge on this image.

    A cue that was not applicable (or failed) leaves its item to a person.
    """
    automated = {f.cue for f in findings if f.status not in (Status.ERROR, Status.NOT_APPLICABLE)}
    out = list(raised)
    seen = {m.cue for m in raised}
    for item in ITEMS:
        if item.id not in automated and item.id not in seen:
            out.append(ManualCheck(item.id, item.guidance))
    return tuple(out)


def version_info(cues: list[Cue], fusion: Fusion) -> dict[str, Any]:
    return {
        "telltales": __version__,
        "fusion": fusion.name,
        "cues": {c.id: c.version for c in cues},
    }


# The triage profile: the cheap cues that settle most images (provenance, including the
# visible-mark strip without OCR, and the CLIP detector on its global view alone). Its
# result stands when the fusion calls it generated or real; an image it leaves unsure
# gets the full inspection.
TRIAGE_CUES = ("provenance", "noise.clip")
# inputs a profile changes (triage: one CLIP view, no OCR): findings that need them are not reused
PROFILE_NEEDS = frozenset({"clip", "ocr"})


def in_triage(cue_id: str) -> bool:
    return any(matches(cue_id, t) for t in TRIAGE_CUES)


def run_cues(
    analysis: Analysis, cues: list[Cue], done: dict[str, Finding] | None = None
) -> tuple[list[Finding], list[ManualCheck]]:
    """Every cue's finding (``done`` ones reused) and the manual checks the cues raised."""
    findings: list[Finding] = []
    raised: list[ManualCheck] = []
    for c in cues:
        if done and c.id in done:
            findings.append(done[c.id])
            continue
        finding, manual = run_cue(c, analysis)
        findings.append(finding)
        raised.extend(manual)
    return findings, raised


def analyse(
    image: Image,
    *,
    cues: list[Cue],
    fusion: Fusion,
    working_size: int = DEFAULT_WORKING_SIZE,
    profile: str = "full",
) -> Report:
    """Run ``cues`` on a loaded image and fuse their findings.

    ``profile="triage"``: first the triage cues (:data:`TRIAGE_CUES`) at one view; if the
    fusion calls that generated or real, that is the report (``profile: "triage"``), else
    the full inspection runs, reusing the triage findings that do not depend on the view.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    t0 = time.perf_counter()
    degraded = degradation_notes(image)
    done: dict[str, Finding] = {}
    raised: list[ManualCheck] = []
    if profile == "triage":
        quick = [c for c in cues if in_triage(c.id)]
        findings, raised = run_cues(Analysis(image, working_size=working_size, profile="triage"), quick)
        v = fusion.combine(findings, degraded=degraded)
        if v.verdict != "unsure" or len(quick) == len(cues):
            return _report(image, quick, fusion, findings, raised, v, t0, "triage")
        done = {f.cue: f for f, c in zip(findings, quick, strict=True) if not PROFILE_NEEDS & set(c.needs)}
    findings, more = run_cues(Analysis(image, working_size=working_size), cues, done)
    v = fusion.combine(findings, degraded=degraded)
    return _report(image, cues, fusion, findings, raised + more, v, t0, "full")


def _report(image: Image, cues: list[Cue], fusion: Fusion, findings: list[Finding],
            raised: list[ManualCheck], v: Any, t0: float, profile: str) -> Report:
    return Report(
        path=image.path,
        sha256=image.sha256,
        verdict=v.verdict,
        p_generated=v.p_generated,
        reasons=v.reasons,
        error=None,
        findings=tuple(findings),
        manual_checks=manual_checks_for(cues, findings, raised),
        unsure_reason=v.unsure_reason,
        image=image.describe(),
        version=version_info(cues, fusion),
        seconds=time.perf_counter() - t0,
        profile=profile,
    )


def error_report(path: str | None, message: str, cues: list[Cue], fusion: Fusion, sha256: str | None = None) -> Report:
    """The report of a file that could not be analysed: verdict "error", no probability."""
    return Report(
        path=path,
        sha256=sha256,
        verdict="error",
        p_generated=None,
        reasons=(),
        error=message,
        unsure_reason=None,
        version=version_info(cues, fusion),
    )


def inspect(
    source: Any,
    *,
    cues: list[str] | str | None = None,
    fusion: Fusion | str | None = None,
    working_size: int = DEFAULT_WORKING_SIZE,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    on_error: str = "raise",
    profile: str = "full",
) -> Report:
    """Tell whether ``source`` (a path, bytes, file object or PIL image) was generated, and why.

    ``cues`` limits the checks to these ids or prefixes (``["provenance", "noise.jpeg"]``);
    one string is one id or prefix (``"provenance"``).
    ``fusion`` is a :class:`Fusion` or the path of a fusion JSON file.
    ``profile="triage"`` settles clear-cut images with the cheap cues alone and gives
    the rest the full inspection (see :func:`analyse`).
    ``on_error="report"`` returns a report with ``error`` set and ``verdict``
    ``"error"`` (``p_generated`` None) instead of raising
    :class:`~telltales.errors.ImageError` for unreadable input (missing, not a
    regular file, not an image, a text-mode or closed file object, ...).

    >>> import telltales
    >>> r = telltales.inspect("photo.jpg")          # doctest: +SKIP
    >>> r.verdict, round(r.p_generated, 2)           # doctest: +SKIP
    ('unsure', 0.5)
    """
    if on_error not in ("raise", "report"):
        raise ValueError(f"on_error must be 'raise' or 'report', got {on_error!r}")
    chosen = select([cues] if isinstance(cues, str) else cues)
    fus = fusion if isinstance(fusion, Fusion) else Fusion.load(fusion)
    try:
        image = load_image(source, max_pixels=max_pixels)
    except ImageError as exc:
        if on_error == "raise":
            raise
        path = str(source) if isinstance(source, str) or hasattr(source, "__fspath__") else None
        return error_report(path, str(exc), chosen, fus)
    return analyse(image, cues=chosen, fusion=fus, working_size=working_size, profile=profile)


__all__ = ["inspect", "analyse"]
