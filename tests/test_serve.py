"""The HTTP service, on loopback only."""

from __future__ import annotations

import json
import threading
import urllib.request
from urllib.error import HTTPError

import pytest

from telltales.example import make_example
from telltales.serve import make_server


@pytest.fixture(scope="module")
def base_url():
    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _post(url: str, data: bytes) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=data, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except HTTPError as err:
        return err.code, json.loads(err.read())


def test_inspect_endpoint(base_url):
    status, body = _post(base_url + "/inspect?cues=provenance", make_example("sd-png"))
    assert status == 200
    assert body["verdict"] == "generated"
    assert {f["cue"] for f in body["findings"]} <= {
        "provenance.c2pa", "provenance.generator-metadata", "provenance.watermark", "provenance.camera",
        "provenance.visible-mark",
    }


def test_bad_upload_is_422_with_message(base_url):
    status, body = _post(base_url + "/inspect", b"not an image")
    assert status == 422 and "not an image" in body["error"]


def test_unknown_cue_is_400(base_url):
    status, body = _post(base_url + "/inspect?cues=nope", make_example("plain-png"))
    assert status == 400 and "unknown cue" in body["error"]


def test_health_taxonomy_and_404(base_url):
    with urllib.request.urlopen(base_url + "/health", timeout=10) as r:
        assert json.loads(r.read()) == {"status": "ok"}
    with urllib.request.urlopen(base_url + "/taxonomy", timeout=10) as r:
        assert any(row["id"] == "body.hands" for row in json.loads(r.read()))
    with pytest.raises(HTTPError) as err:
        urllib.request.urlopen(base_url + "/nope", timeout=10)
    assert err.value.code == 404
