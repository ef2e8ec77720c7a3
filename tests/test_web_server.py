"""The real server (uvicorn on a socket, the spawn pool): concurrent clients are all answered,
a stalled body is cut off with 408, pixel bombs are refused or bounded and the server stays up."""

from __future__ import annotations

import http.client
import io
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("uvicorn", reason="the web app's packages are not installed (pip install '.[serve]')")

from PIL import Image as PILImage  # noqa: E402

from telltales.fuzz import jpeg_declaring  # noqa: E402
from telltales.serve import make_server  # noqa: E402
from telltales.web.settings import Settings  # noqa: E402


def png(seed: int) -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", (96, 64), (seed % 256, (seed * 5) % 256, 90)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def port(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("server")
    settings = Settings(db_url=f"sqlite:///{tmp / 'c.sqlite'}", images_dir=tmp / "img",
                        cues=("provenance",), body_timeout_s=1.0)
    server = make_server(settings, "127.0.0.1", 0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(300):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield server.servers[0].sockets[0].getsockname()[1]
    server.should_exit = True
    thread.join(timeout=30)


def post(port: int, body: bytes, name: str) -> tuple[int | str, dict[str, str]]:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request("POST", f"/api/inspect?filename={name}", body=body, headers={"Content-Type": "image/png"})
        resp = conn.getresponse()
        resp.read()
        conn.close()
        return resp.status, dict(resp.getheaders())
    except (OSError, http.client.HTTPException) as exc:
        return type(exc).__name__, {}


def test_twenty_concurrent_uploads_are_all_answered(port):
    with ThreadPoolExecutor(20) as ex:
        results = list(ex.map(lambda i: post(port, png(i), f"c{i}.png"), range(20)))
    statuses = [s for s, _ in results]
    assert all(s in (200, 503) for s in statuses), statuses  # no reset, no error
    assert 200 in statuses
    assert all(h.get("retry-after") for s, h in results if s == 503)


def test_pixel_bombs_six_at_once_are_refused_or_bounded_and_the_server_stays_up(port):
    refused = jpeg_declaring(65000, 65000)  # over the budget even at 1/8 scale: 413 from the header
    with ThreadPoolExecutor(6) as ex:
        results = list(ex.map(lambda i: post(port, refused, f"big{i}.jpg"), range(6)))
    assert [s for s, _ in results] == [413] * 6
    bounded = jpeg_declaring(9000, 9000)  # the library decodes it at 1/2 scale, in a worker
    with ThreadPoolExecutor(6) as ex:
        results = list(ex.map(lambda i: post(port, bounded, f"bomb{i}.jpg"), range(6)))
    statuses = [s for s, _ in results]
    assert set(statuses) <= {200, 422, 503}, statuses
    assert any(s != 503 for s in statuses)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/health")
    assert conn.getresponse().status == 200


def test_a_stalled_body_gets_408_and_the_connection_is_freed(port):
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(b"POST /api/inspect HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                  b"Content-Length: 1000\r\n\r\n" + b"\x89PNG" * 4)
        t0 = time.perf_counter()
        reply = s.recv(4096)
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    assert time.perf_counter() - t0 < 15


def test_malformed_content_length_is_400_on_the_wire(port):
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(b"POST /api/inspect HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
        reply = s.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400"), reply[:200]
    assert b"Traceback" not in reply
