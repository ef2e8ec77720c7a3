"""The JSON API and the upload pipeline the pages share with it."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
import re
import warnings
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ..errors import TelltalesError
from ..fusion import p_at_base_rate
from .pool import AnalysisPool, analyse_upload
from .schemas import (
    AnswerOut,
    AtBaseRate,
    CaseDetail,
    CaseList,
    CaseSummary,
    ChecklistIn,
    ErrorModel,
    ReportModel,
    ReviewSummary,
    TaxonomyItem,
)
from .settings import Settings
from .store import Answer, Case, CaseFilter, CaseStore, ImageFolder
from .views import case_csv, cases_csv, review_of

router = APIRouter()
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorModel} for code in (400, 401, 404, 408, 413, 503, 504)
}


@dataclass(frozen=True)
class Upload:
    """What one upload came to: an HTTP status, the report (or an error message) and the case."""

    status: int
    report: dict[str, Any] | None = None
    case_id: int | None = None
    created: bool = False
    message: str = ""
    retry_after: int | None = None

    def headers(self) -> dict[str, str]:
        h: dict[str, str] = {}
        if self.case_id is not None:
            h["X-Telltales-Case"] = str(self.case_id)
            h["Location"] = f"/api/cases/{self.case_id}"
            h["X-Telltales-Case-New"] = "true" if self.created else "false"
        if self.retry_after is not None:
            h["Retry-After"] = str(self.retry_after)
        return h

    def response(self) -> JSONResponse:
        body = self.report if self.report is not None else {"error": self.message}
        return JSONResponse(body, status_code=self.status, headers=self.headers())


def clean_filename(name: str | None) -> str:
    """The last path part of an uploaded file's name, without control characters, at most 200."""
    if not name:
        return ""
    base = re.split(r"[\\/]", name)[-1]
    return "".join(ch for ch in base if ch.isprintable())[:200]


def parse_cues(value: str | None) -> tuple[str, ...] | None:
    """``?cues=a,b``: validated against the registry, or None for all cues."""
    if not value:
        return None
    from ..registry import select

    ids = tuple(v.strip() for v in value.split(",") if v.strip())
    select(list(ids))  # raises TelltalesError naming an unknown cue
    return ids or None


def declared_size(data: bytes) -> tuple[int, int, str] | None:
    """The width, height and format a file's header declares, without decoding its pixels."""
    from PIL import Image as PILImage

    # The server process only reads headers here; pixels are decoded in the workers, under the
    # library's pixel budget. Pillow's own bomb check would hide the size of the very largest.
    PILImage.MAX_IMAGE_PIXELS = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with PILImage.open(io.BytesIO(data)) as img:
                return img.size[0], img.size[1], img.format or ""
    except Exception:  # noqa: BLE001 - not readable here: the worker says why in the report
        return None


def over_budget(declared: tuple[int, int, str] | None, max_pixels: int) -> bool:
    """Whether the library would refuse this size: a JPEG only when even its 1/8-scale
    draft is over the pixel budget, anything else when it is over the budget."""
    from ..image import draft_scale

    if declared is None:
        return False
    w, h, fmt = declared
    if fmt in ("JPEG", "MPO"):
        return draft_scale((w, h), max_pixels) is None
    return w * h > max_pixels


async def accept_upload(data: bytes, filename: str, cues: tuple[str, ...] | None, *,
                        settings: Settings, store: CaseStore, images: ImageFolder,
                        pool: AnalysisPool, profile: str = "full") -> Upload:
    """Analyse one upload in the pool and keep it as a case; the same bytes again are the
    same case and are not analysed twice. ``cues`` (a partial analysis) is not kept.
    ``profile="triage"`` is kept: its report is a verdict, and says which profile made it."""
    if not data:
        return Upload(400, message="the upload is empty: send the image as a multipart field "
                                   "'file' or as the request body")
    sha = hashlib.sha256(data).hexdigest()
    if cues is None:
        known = await run_in_threadpool(store.find, sha)
        if known is not None:
            case, _ = await run_in_threadpool(store.add, sha, filename, known.report)
            return Upload(200, known.report, case.id, False)
    size = await run_in_threadpool(declared_size, data)
    if size and over_budget(size, settings.max_pixels):
        return Upload(413, message=f"the image declares {size[0]}x{size[1]} pixels, over this "
                                   f"server's pixel budget of {settings.max_pixels} (--max-pixels)")
    run = cues if cues is not None else settings.cues
    fut = pool.submit(analyse_upload, data, run, settings.max_pixels, settings.time_limit_s, profile)
    if fut is None:
        return Upload(503, message="all analysis workers are busy; try again shortly",
                      retry_after=settings.retry_after_s)
    try:
        outcome = await asyncio.wait_for(asyncio.wrap_future(fut), settings.time_limit_s + 30)
    except TimeoutError:
        return Upload(504, message=f"the analysis took longer than {settings.time_limit_s:g} s")
    except TelltalesError as exc:
        return Upload(400, message=str(exc))
    except BrokenProcessPool:
        pool.shutdown()  # a worker died (out of memory?): the next upload starts a fresh pool
        return Upload(503, message="an analysis worker stopped; try again",
                      retry_after=settings.retry_after_s)
    if outcome.status == "timeout":
        return Upload(504, message=outcome.message)
    report = outcome.report or {}
    if outcome.status != "ok":
        return Upload(422, report)
    if cues is not None:
        return Upload(200, report)
    await run_in_threadpool(images.save, sha, data, outcome.preview)
    case, created = await run_in_threadpool(store.add, sha, filename, report)
    return Upload(200, report, case.id, created)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> CaseStore:
    return request.app.state.store


def get_images(request: Request) -> ImageFolder:
    return request.app.state.images


def get_pool(request: Request) -> AnalysisPool:
    return request.app.state.pool


def get_base_rate(
    settings: Annotated[Settings, Depends(get_settings)],
    base_rate: Annotated[float | None, Query(gt=0, lt=1, description=(
        "also give p_generated where this share of pictures is generated (default: the "
        "server's --base-rate); the verdict does not change"))] = None,
) -> float | None:
    return settings.base_rate if base_rate is None else base_rate


SettingsDep = Annotated[Settings, Depends(get_settings)]
BaseRateDep = Annotated[float | None, Depends(get_base_rate)]
StoreDep = Annotated[CaseStore, Depends(get_store)]
ImagesDep = Annotated[ImageFolder, Depends(get_images)]
PoolDep = Annotated[AnalysisPool, Depends(get_pool)]

_RAW_BODY_DOC = {
    "requestBody": {"content": {
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary"}}}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "image/*": {"schema": {"type": "string", "format": "binary"}},
    }, "required": True},
}


async def read_upload(request: Request) -> tuple[bytes, str | None]:
    """The uploaded bytes and the client's file name: the multipart field ``file``, or else
    the raw body whatever its Content-Type (``curl --data-binary`` says form-urlencoded)."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        file = form.get("file")
        if file is None or isinstance(file, str):
            raise HTTPException(400, "multipart upload without a file in the field 'file'")
        return await file.read(), file.filename
    return await request.body(), None


@router.post("/api/inspect", tags=["analysis"], status_code=200,
             responses={200: {"model": ReportModel, "description": "the report; X-Telltales-Case names its case"},
                        422: {"model": ReportModel, "description": "not a readable image: the report says why"},
                        **_ERRORS},
             openapi_extra=_RAW_BODY_DOC)
async def inspect(
    request: Request, settings: SettingsDep, store: StoreDep, images: ImagesDep, pool: PoolDep,
    filename: Annotated[str | None, Query(max_length=255, description="the file name, for a raw-body upload")] = None,
    cues: Annotated[str | None, Query(max_length=2000, description="only these cue ids or prefixes (not kept as a case)")] = None,
    profile: Annotated[Literal["full", "triage"], Query(
        description="triage: provenance and the learned detector at one view first, the full "
                    "inspection only where they are not clear-cut")] = "full",
) -> Response:
    """Analyse one image: a multipart field ``file`` or the raw request body.

    The body of the answer is the report JSON (the library's contract, unchanged). The case it
    is kept as is in the ``X-Telltales-Case`` and ``Location`` headers.
    """
    try:
        chosen = parse_cues(cues)
    except TelltalesError as exc:
        raise HTTPException(400, str(exc)) from None
    data, client_name = await read_upload(request)
    name = clean_filename(client_name or filename)
    result = await accept_upload(data, name, chosen, settings=settings, store=store, images=images, pool=pool,
                                 profile=profile)
    return result.response()


@router.post("/inspect", include_in_schema=False)
async def inspect_legacy(
    request: Request, settings: SettingsDep, store: StoreDep, images: ImagesDep, pool: PoolDep,
    filename: Annotated[str | None, Query(max_length=255)] = None,
    cues: Annotated[str | None, Query(max_length=2000)] = None,
    profile: Annotated[Literal["full", "triage"], Query()] = "full",
) -> Response:
    """The 0.1 endpoint, kept: same as /api/inspect."""
    return await inspect(request, settings, store, images, pool, filename, cues, profile)


def summary_of(case: Case, base_rate: float | None = None) -> CaseSummary:
    r = review_of(case.answers)
    at_rate = p_at_base_rate(case.p_generated, base_rate)
    return CaseSummary(
        id=case.id, sha256=case.sha256, filename=case.filename, filenames=list(case.filenames),
        created_at=case.created_at, verdict=case.verdict, p_generated=case.p_generated,
        p_generated_at_base_rate=None if at_rate is None else AtBaseRate(base_rate=base_rate, p=at_rate),
        error=case.error, width=case.width, height=case.height,
        review=ReviewSummary(answered=r.answered, problem_seen=r.problem_seen,
                             looks_fine=r.looks_fine, cannot_tell=r.cannot_tell),
        url=f"/cases/{case.id}")


def detail_of(case: Case, base_rate: float | None = None) -> CaseDetail:
    return CaseDetail(
        **summary_of(case, base_rate).model_dump(), report=ReportModel.model_validate(case.report),
        checklist=[AnswerOut(cue=a.cue, answer=a.answer, note=a.note, updated_at=a.updated_at)  # type: ignore[arg-type]
                   for a in case.answers])


def case_filter(
    verdict: Annotated[Literal["generated", "real", "unsure"] | None, Query()] = None,
    since: Annotated[dt.date | None, Query(description="uploaded on or after (YYYY-MM-DD)")] = None,
    until: Annotated[dt.date | None, Query(description="uploaded on or before (YYYY-MM-DD)")] = None,
    q: Annotated[str | None, Query(max_length=255, description="part of a file name, or the start of a sha256")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CaseFilter:
    return CaseFilter(verdict=verdict, since=since, until=until, q=q or None, limit=limit, offset=offset)


FilterDep = Annotated[CaseFilter, Depends(case_filter)]


@router.get("/api/cases", tags=["cases"], response_model=CaseList, responses=_ERRORS)
def list_cases(store: StoreDep, flt: FilterDep, base_rate: BaseRateDep) -> CaseList:
    """Cases, newest first, filtered by verdict, upload date, file name or sha256."""
    cases, total = store.list(flt)
    return CaseList(total=total, cases=[summary_of(c, base_rate) for c in cases])


@router.get("/api/cases/export", tags=["cases"], responses=_ERRORS)
def export_cases(store: StoreDep, flt: FilterDep, base_rate: BaseRateDep,
                 format: Annotated[Literal["json", "csv"], Query()] = "csv") -> Response:
    """The filtered cases as CSV (one row each, with the reviewer's counts) or JSON (full)."""
    cases, _ = store.list(flt)
    if format == "csv":
        return Response(cases_csv(cases, base_rate), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="telltales-cases.csv"'})
    body = json.dumps([detail_of(c, base_rate).model_dump(mode="json", exclude_unset=True) for c in cases], ensure_ascii=False)
    return Response(body, media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="telltales-cases.json"'})


def _case_or_404(store: CaseStore, case_id: int) -> Case:
    case = store.get(case_id)
    if case is None:
        raise HTTPException(404, f"no case {case_id}")
    return case


@router.get("/api/cases/{case_id}", tags=["cases"], response_model=CaseDetail, responses=_ERRORS,
            response_model_exclude_unset=True)
def get_case(case_id: int, store: StoreDep, base_rate: BaseRateDep) -> CaseDetail:
    """One case: its report (unchanged) and the reviewer's checklist answers."""
    return detail_of(_case_or_404(store, case_id), base_rate)


@router.get("/api/cases/{case_id}/export", tags=["cases"], responses=_ERRORS)
def export_case(case_id: int, store: StoreDep, base_rate: BaseRateDep,
                format: Annotated[Literal["json", "csv"], Query()] = "json") -> Response:
    """One case to download: JSON (report and answers) or CSV (a row per finding and answer)."""
    case = _case_or_404(store, case_id)
    if format == "csv":
        return Response(case_csv(case), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="telltales-case-{case.id}.csv"'})
    return Response(detail_of(case, base_rate).model_dump_json(exclude_unset=True), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="telltales-case-{case.id}.json"'})


def save_checklist(case_id: int, body: ChecklistIn, store: CaseStore, base_rate: float | None = None) -> CaseDetail:
    case = _case_or_404(store, case_id)
    known = {m["cue"] for m in case.report.get("manual_checks", [])}
    unknown = sorted({a.cue for a in body.answers} - known)
    if unknown:
        raise HTTPException(400, f"not a manual check of this case: {', '.join(unknown)}")
    saved = store.save_answers(case_id, [Answer(a.cue, a.answer, a.note) for a in body.answers])
    if saved is None:  # deleted in between
        raise HTTPException(404, f"no case {case_id}")
    return detail_of(saved, base_rate)


@router.put("/api/cases/{case_id}/checklist", tags=["cases"], response_model=CaseDetail, responses=_ERRORS,
            response_model_exclude_unset=True)
def put_checklist(case_id: int, body: ChecklistIn, store: StoreDep, base_rate: BaseRateDep) -> CaseDetail:
    """Record the reviewer's answers ("problem-seen", "looks-fine", "cannot-tell" and a note)
    for manual checks of this case. Answers for other checks stay as they were."""
    return save_checklist(case_id, body, store, base_rate)


@router.post("/api/cases/{case_id}/checklist", tags=["cases"], response_model=CaseDetail, responses=_ERRORS,
            response_model_exclude_unset=True)
def post_checklist(case_id: int, body: ChecklistIn, store: StoreDep, base_rate: BaseRateDep) -> CaseDetail:
    """Same as PUT."""
    return save_checklist(case_id, body, store, base_rate)


@router.get("/api/taxonomy", tags=["service"], response_model=list[TaxonomyItem])
def taxonomy() -> list[TaxonomyItem]:
    """Every failure the checklist covers, and whether a cue automates it."""
    from ..registry import all_cues
    from ..taxonomy import ITEMS

    auto = {c.id for c in all_cues()}
    return [TaxonomyItem(id=i.id, category=i.category, automated=i.id in auto, failure=i.failure,
                         guidance=i.guidance) for i in ITEMS]


@router.get("/taxonomy", include_in_schema=False, response_model=list[TaxonomyItem])
def taxonomy_legacy() -> list[TaxonomyItem]:
    return taxonomy()
