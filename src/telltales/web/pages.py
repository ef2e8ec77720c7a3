"""The HTML pages: upload, case list, case (verdict, evidence on the picture, findings,
metadata, checklist). Plain forms; a few lines of JS add drag and drop and highlighting."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from ..analysis import PROFILES
from ..fusion import p_at_base_rate
from ..report import missing_parts
from .api import (
    BaseRateDep,
    FilterDep,
    ImagesDep,
    PoolDep,
    SettingsDep,
    StoreDep,
    _case_or_404,
    accept_upload,
    clean_filename,
)
from .store import ANSWER_TITLES, ANSWERS
from .views import (
    KIND_COLOURS,
    KIND_TITLES,
    answers_from_form,
    checklist,
    evidence_boxes,
    finding_groups,
    metadata_rows,
    review_of,
    svg_boxes,
    svg_geometry,
)

router = APIRouter(include_in_schema=False)
MAX_FILES = 20


def same_origin(request: Request) -> None:
    """Forms may only be posted from this server's own pages: a browser sends Origin (or at
    least Referer) with a form post, and another site's page must not write into the cases."""
    from urllib.parse import urlsplit

    source = request.headers.get("origin") or request.headers.get("referer")
    if source and source != "null" and urlsplit(source).netloc != request.headers.get("host", ""):
        raise HTTPException(403, "this form must be posted from the telltales page itself")


def _render(request: Request, name: str, context: dict, status: int = 200) -> Response:
    return request.app.state.templates.TemplateResponse(request, name, context, status_code=status)


@router.get("/")
def upload_page(request: Request, settings: SettingsDep) -> Response:
    return _render(request, "upload.html", {"max_mb": settings.max_upload_bytes // (1024 * 1024),
                                            "max_files": MAX_FILES})


@router.post("/upload", dependencies=[Depends(same_origin)])
async def upload_form(request: Request, settings: SettingsDep, store: StoreDep, images: ImagesDep,
                      pool: PoolDep) -> Response:
    """The form without JavaScript: one file goes to its case, several to a list of results."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise HTTPException(400, "send the files as multipart/form-data")
    form = await request.form(max_files=MAX_FILES, max_fields=10)
    files = [f for f in form.getlist("file") if hasattr(f, "read")]
    if not files:
        raise HTTPException(400, "choose at least one image")
    profile = form.get("profile") or "full"
    if profile not in PROFILES:
        raise HTTPException(400, f"profile must be one of {', '.join(PROFILES)}")
    results = []
    for f in files:
        data = await f.read()  # type: ignore[union-attr]
        name = clean_filename(f.filename)  # type: ignore[union-attr]
        up = await accept_upload(data, name, None, settings=settings, store=store, images=images, pool=pool,
                                 profile=str(profile))
        results.append((name, up))
    if len(results) == 1 and results[0][1].case_id is not None:
        return RedirectResponse(f"/cases/{results[0][1].case_id}", status_code=303)
    return _render(request, "uploaded.html", {"results": results},
                   status=200 if any(u.case_id for _, u in results) else results[0][1].status)


@router.get("/cases")
def cases_page(request: Request, store: StoreDep, flt: FilterDep, base_rate: BaseRateDep) -> Response:
    cases, total = store.list(flt)
    query = {k: v for k, v in request.query_params.items() if k not in ("offset",)}
    return _render(request, "cases.html", {
        "cases": cases, "total": total, "flt": flt, "query": query, "base_rate": base_rate,
        "at_rate": {c.id: p_at_base_rate(c.p_generated, base_rate) for c in cases},
        "reviews": {c.id: review_of(c.answers) for c in cases},
        "next_offset": flt.offset + flt.limit if flt.offset + flt.limit < total else None,
        "prev_offset": max(0, flt.offset - flt.limit) if flt.offset else None,
    })


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: int, store: StoreDep, base_rate: BaseRateDep,
              saved: bool = False) -> Response:
    case = _case_or_404(store, case_id)
    boxes = evidence_boxes(case.report)
    geom = svg_geometry(case.report)
    return _render(request, "case.html", {
        "case": case, "report": case.report, "base_rate": base_rate,
        "notes": missing_parts(case.report.get("findings", [])),
        "at_rate": p_at_base_rate(case.report.get("p_generated"), base_rate), "svgboxes": svg_boxes(boxes, geom), "geom": geom,
        "groups": finding_groups(case.report, boxes), "meta": metadata_rows(case.report),
        "checks": checklist(case.report, boxes, case.answers), "review": review_of(case.answers),
        "answers": ANSWERS, "answer_titles": ANSWER_TITLES, "colours": KIND_COLOURS,
        "kind_titles": KIND_TITLES, "kinds_shown": sorted({b.kind for b in boxes},
                                                          key=list(KIND_COLOURS).index),
        "saved": saved,
    })


@router.post("/cases/{case_id}/checklist", dependencies=[Depends(same_origin)])
async def checklist_form(request: Request, case_id: int, store: StoreDep) -> Response:
    case = _case_or_404(store, case_id)
    form = await request.form(max_files=0, max_fields=500)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    known = {m["cue"] for m in case.report.get("manual_checks", [])}
    store.save_answers(case_id, answers_from_form(fields, known))
    return RedirectResponse(f"/cases/{case_id}?saved=1#checklist", status_code=303)


def _image_file(store: StoreDep, images: ImagesDep, case_id: int, preview: bool) -> Response:
    case = _case_or_404(store, case_id)
    path = images.preview(case.sha256) if preview else images.original(case.sha256)
    if not path.exists():
        raise HTTPException(404, "the image of this case is not in the image folder")
    if preview:
        return FileResponse(path, media_type="image/jpeg",
                            headers={"Cache-Control": "private, max-age=86400"})
    return FileResponse(path, media_type="application/octet-stream",
                        filename=case.filename or f"{case.sha256}.bin")


@router.get("/cases/{case_id}/image")
def case_image(case_id: int, store: StoreDep, images: ImagesDep) -> Response:
    return _image_file(store, images, case_id, preview=True)


@router.get("/cases/{case_id}/original")
def case_original(case_id: int, store: StoreDep, images: ImagesDep) -> Response:
    return _image_file(store, images, case_id, preview=False)

