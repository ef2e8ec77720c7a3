"""``telltales serve``: the CLI starts uvicorn on the web app; the 0.1 endpoints still answer."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi", reason="the web app's packages are not installed (pip install '.[serve]')")
pytest.importorskip("httpx", reason="httpx (for FastAPI's TestClient) is not installed")

from click.testing import CliRunner  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from telltales.cli import cli  # noqa: E402
from telltales.example import make_example  # noqa: E402
from telltales.web.app import create_app  # noqa: E402
from telltales.web.settings import Settings, database_url  # noqa: E402


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    settings = Settings(db_url=f"sqlite:///{tmp / 'c.sqlite'}", images_dir=tmp / "img", cues=("provenance",))
    with TestClient(create_app(settings)) as c:
        yield c


def test_legacy_inspect_endpoint(client):
    r = client.post("/inspect", content=make_example("sd-png"), params={"cues": "provenance"})
    assert r.status_code == 200
    assert r.json()["verdict"] == "generated"
    assert {f["cue"] for f in r.json()["findings"]} <= {
        "provenance.c2pa", "provenance.generator-metadata", "provenance.watermark", "provenance.camera",
        "provenance.visible-mark",
    }


def test_health_taxonomy_and_404(client):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["capacity"] == 3
    assert any(row["id"] == "body.hands" and row["automated"] for row in client.get("/taxonomy").json())
    missing = client.get("/nope")
    assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}
    page = client.get("/nope", headers={"accept": "text/html"})
    assert page.status_code == 404 and "Sorry: 404" in page.text


def test_database_url_defaults_and_postgres_driver(tmp_path):
    assert database_url(None, tmp_path) == f"sqlite:///{tmp_path / 'cases.sqlite'}"
    assert database_url("postgresql://u@h/db", tmp_path) == "postgresql+psycopg://u@h/db"
    assert database_url("postgres://u@h/db", tmp_path) == "postgresql+psycopg://u@h/db"


def test_serve_cli_refuses_an_unknown_cue_before_starting():
    res = CliRunner().invoke(cli, ["serve", "--cues", "no-such-cue"])
    assert res.exit_code != 0 and "unknown cue" in str(res.exception)


def test_serve_cli_builds_a_loopback_server(tmp_path, monkeypatch):
    seen = {}

    def fake_serve(settings, host, port):
        seen.update(settings=settings, host=host, port=port)

    monkeypatch.setattr("telltales.serve.serve", fake_serve)
    res = CliRunner().invoke(cli, ["serve", "--db", f"sqlite:///{tmp_path}/x.sqlite", "--images",
                                   str(tmp_path / "img"), "--workers", "2", "--password", "pw",
                                   "--base-rate", "0.02"])
    assert res.exit_code == 0, res.output
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8080
    s = seen["settings"]
    assert s.workers == 2 and s.password == "pw" and s.images_dir == tmp_path / "img"
    assert s.base_rate == 0.02
    assert "pw" not in repr(s)
