"""A small HTTP service: POST an image, get the JSON report back.

    telltales serve --port 8080
    curl --data-binary @photo.jpg http://127.0.0.1:8080/inspect

Endpoints: ``POST /inspect`` (body: the image bytes; query ``cues=`` as in the
CLI), ``GET /taxonomy``, ``GET /health``, ``GET /`` (an upload page). Standard
library only; one thread per request; the models load once per process.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from .errors import TelltalesError

MAX_UPLOAD = 100 * 1024 * 1024

_PAGE = """<!doctype html><meta charset="utf-8"><title>telltales</title>
<h1>telltales</h1><p>Choose an image; the JSON report appears below.</p>
<input type="file" id="f" accept="image/*"><pre id="out"></pre>
<script>
document.getElementById('f').onchange = async (e) => {
  const r = await fetch('/inspect', {method: 'POST', body: e.target.files[0]});
  document.getElementById('out').textContent = JSON.stringify(await r.json(), null, 2);
};
</script>"""


def make_handler(fusion: Any, max_pixels: int) -> type[BaseHTTPRequestHandler]:
    from .api import inspect

    class Handler(BaseHTTPRequestHandler):
        server_version = "telltales"

        def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, obj: Any) -> None:
            self._send(status, json.dumps(obj, ensure_ascii=False).encode())

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = urlparse(self.path).path
            if path == "/health":
                self._json(HTTPStatus.OK, {"status": "ok"})
            elif path == "/taxonomy":
                from .registry import all_cues
                from .taxonomy import ITEMS

                auto = {c.id: c.version for c in all_cues()}
                self._json(HTTPStatus.OK, [
                    {"id": i.id, "category": i.category, "automated": i.id in auto, "failure": i.failure}
                    for i in ITEMS
                ])
            elif path == "/":
                self._send(HTTPStatus.OK, _PAGE.encode(), "text/html; charset=utf-8")
            else:
                self._json(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint {path}"})

        def do_POST(self) -> None:  # noqa: N802
            url = urlparse(self.path)
            if url.path != "/inspect":
                self._json(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint {url.path}"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0:
                self._json(HTTPStatus.BAD_REQUEST, {"error": "send the image bytes as the request body"})
                return
            if length > MAX_UPLOAD:
                self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": f"upload over {MAX_UPLOAD} bytes"})
                return
            data = self.rfile.read(length)
            query = parse_qs(url.query)
            cues = [c for v in query.get("cues", []) for c in v.split(",") if c] or None
            try:
                report = inspect(data, cues=cues, fusion=fusion, max_pixels=max_pixels, on_error="report")
            except TelltalesError as exc:
                self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
                return
            status = HTTPStatus.UNPROCESSABLE_ENTITY if report.error else HTTPStatus.OK
            self._json(status, report.to_dict())

        def log_message(self, format: str, *args: Any) -> None:  # quiet by default
            pass

    return Handler


def make_server(host: str = "127.0.0.1", port: int = 8080, *, fusion: Any = None,
                max_pixels: int = 150_000_000) -> ThreadingHTTPServer:
    from .fusion import Fusion

    fus = fusion if isinstance(fusion, Fusion) else Fusion.load(fusion)
    return ThreadingHTTPServer((host, port), make_handler(fus, max_pixels))
