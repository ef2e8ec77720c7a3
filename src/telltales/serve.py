"""``telltales serve``: the reviewer's web app (FastAPI) on uvicorn.

    telltales serve                      # http://127.0.0.1:8080/, cases in ~/.local/share/telltales
    curl -F file=@photo.jpg http://127.0.0.1:8080/api/inspect
    curl --data-binary @photo.jpg "http://127.0.0.1:8080/api/inspect?filename=photo.jpg"

The app itself is :mod:`telltales.web`; this module only sets uvicorn up: loopback by default,
a large listen backlog, keep-alive and shutdown timeouts, a cap on open connections, and an
access log on stderr.
"""

from __future__ import annotations

import logging
from typing import Any

from .web.settings import Settings

BACKLOG = 2048
MAX_CONNECTIONS = 200
KEEP_ALIVE_S = 5

ACCESS_LOG_FORMAT = "%(asctime)s %(levelprefix)s %(client_addr)s \"%(request_line)s\" %(status_code)s"


def log_config() -> dict[str, Any]:
    """uvicorn's logging, with a time stamp on every access-log line, all on stderr."""
    from uvicorn.config import LOGGING_CONFIG

    cfg = {**LOGGING_CONFIG, "formatters": {**LOGGING_CONFIG["formatters"]}}
    cfg["formatters"]["access"] = {**cfg["formatters"]["access"], "fmt": ACCESS_LOG_FORMAT,
                                   "datefmt": "%Y-%m-%dT%H:%M:%S"}
    cfg["handlers"] = {**cfg["handlers"], "access": {**cfg["handlers"]["access"], "stream": "ext://sys.stderr"}}
    cfg["loggers"] = {**cfg["loggers"], "telltales.web": {"handlers": ["default"], "level": "INFO"}}
    return cfg


def make_server(settings: Settings, host: str = "127.0.0.1", port: int = 8080) -> Any:
    """A uvicorn server for the app; ``server.run()`` serves until interrupted."""
    import uvicorn

    from .web.app import create_app

    config = uvicorn.Config(
        create_app(settings), host=host, port=port, backlog=BACKLOG,
        limit_concurrency=MAX_CONNECTIONS, timeout_keep_alive=KEEP_ALIVE_S,
        timeout_graceful_shutdown=10, access_log=True, log_config=log_config(),
        proxy_headers=False, server_header=False, date_header=True,
        h11_max_incomplete_event_size=64 * 1024,
    )
    return uvicorn.Server(config)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8080) -> None:
    logging.getLogger("telltales.web").setLevel(logging.INFO)
    make_server(settings, host, port).run()
