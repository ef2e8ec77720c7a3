"""The FastAPI application: :func:`create_app` builds it for one :class:`Settings`.

The store, the image folder, the analysis pool and the settings reach the routes through
FastAPI dependencies (``Depends(get_store)`` ...), so tests can swap any of them.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from concurrent.futures import Future
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import APIKeyHeader, HTTPBasic, HTTPBasicCredentials
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..cpu import worker_share
from .api import get_settings
from .limits import BodyLimitMiddleware, BodyTimeout, BodyTooLarge
from .pool import AnalysisPool, analyse_upload, init_worker
from .schemas import Health
from .settings import Settings
from .store import CaseStore, ImageFolder

log = logging.getLogger("telltales.web")
HERE = Path(__file__).parent


_basic = HTTPBasic(auto_error=False, realm="telltales")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False)


def require_password(
    settings: Annotated[Settings, Depends(get_settings)],
    basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
    key: Annotated[str | None, Depends(_api_key)],
) -> None:
    """With --password set, every page and endpoint but /health wants it: as the password of
    HTTP Basic auth (any user name; the browser asks) or as an ``X-API-Key`` header."""
    if settings.password is None:
        return
    given = key if key is not None else (basic.password if basic else None)
    if given is not None and secrets.compare_digest(given.encode(), settings.password.encode()):
        return
    raise HTTPException(401, "this server wants its password (HTTP Basic auth or X-API-Key)",
                        headers={"WWW-Authenticate": 'Basic realm="telltales"'})


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/inspect", "/health", "/taxonomy")) and \
        "text/html" in request.headers.get("accept", "")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        if _wants_html(request) and exc.status_code != 401:
            return request.app.state.templates.TemplateResponse(
                request, "error.html", {"status": exc.status_code, "message": message},
                status_code=exc.status_code)
        return _error(exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for e in exc.errors()[:5]:
            where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path"))
            parts.append(f"{where}: {e.get('msg', 'invalid')}" if where else str(e.get("msg", "invalid")))
        return _error(400, "malformed request: " + "; ".join(parts))

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, exc: BodyTooLarge) -> Response:
        return _error(413, str(exc), {"Connection": "close"})

    @app.exception_handler(BodyTimeout)
    async def body_timeout(request: Request, exc: BodyTimeout) -> Response:
        return _error(408, str(exc), {"Connection": "close"})

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(500, "internal error; the server log has the details")


def log_warm_up(fut: Future, state: Any = None) -> None:
    """Say in the server log, at startup, what every report would otherwise say one by one:
    a part (the CLIP detector first) that is missing or failed its check; and keep the cues
    in ``state.parts_missing`` for /health."""
    from ..report import missing_parts, part_missing

    try:
        outcome = fut.result()
    except Exception as exc:  # noqa: BLE001 - the warm-up is a courtesy; uploads report their own errors
        log.warning("warm-up analysis failed: %s: %s", type(exc).__name__, exc)
        return
    findings = (outcome.report or {}).get("findings", [])
    for note in missing_parts(findings):
        log.warning("%s (telltales doctor checks every part)", note)
    if state is not None:
        state.parts_missing = sorted(f["cue"] for f in part_missing(findings))


def create_app(settings: Settings, *, pool: AnalysisPool | None = None,
               store: CaseStore | None = None) -> FastAPI:
    """The web app. ``pool`` and ``store`` default to ones built from ``settings``."""
    from fastapi.templating import Jinja2Templates

    from . import api, pages

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store.migrate()
        settings.images_dir.mkdir(parents=True, exist_ok=True)
        if settings.warm_up:  # the first upload then does not wait for the models to load
            from ..example import make_example

            fut = app.state.pool.submit(analyse_upload, make_example("plain-png", width=320, height=240),
                                        settings.cues, settings.max_pixels, settings.time_limit_s)
            if fut is not None:
                fut.add_done_callback(lambda f: log_warm_up(f, app.state))
        try:
            yield
        finally:
            app.state.pool.shutdown()
            app.state.store.close()

    app = FastAPI(
        title="telltales",
        summary="Tell whether an image was made by an AI generator, and show why.",
        description="Upload an image (`POST /api/inspect`), read its report, record the "
                    "reviewer's checklist answers and export cases. The report JSON is the "
                    "library's contract (`telltales.inspect(...).to_dict()`), unchanged.",
        version=__import__("telltales").__version__,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store or CaseStore(settings.db_url)
    app.state.images = ImageFolder(settings.images_dir)
    app.state.pool = pool or AnalysisPool(settings.workers, settings.capacity,
                                          initializer=init_worker,
                                          initargs=(settings.fusion, worker_share(settings.workers)))
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["version"] = app.version
    app.state.templates = templates
    _install_error_handlers(app)
    guarded = [Depends(require_password)]
    app.include_router(api.router, dependencies=guarded)
    app.include_router(pages.router, dependencies=guarded)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes,
                       body_timeout_s=settings.body_timeout_s)

    @app.get("/health", tags=["service"], response_model=Health)
    def health() -> Health:
        """Liveness, how full the analysis pool is, and the cues the startup analysis could not
        run for a missing part (no password needed; cue names only, no paths)."""
        p = app.state.pool
        return Health(status="ok", in_flight=p.in_flight, capacity=p.capacity,
                      parts_missing=getattr(app.state, "parts_missing", []))

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> HTMLResponse:
        return HTMLResponse(status_code=204)

    return app
