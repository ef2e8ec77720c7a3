"""The web app's API through FastAPI's TestClient: uploads, limits, cases, reviewer answers."""

from __future__ import annotations

import base64
import io
import time

import pytest

pytest.importorskip("fastapi", reason="the web app's packages are not installed (pip install '.[serve]')")
pytest.importorskip("httpx", reason="httpx (for FastAPI's TestClient) is not installed")

from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image as PILImage  # noqa: E402

from telltales import cpu  # noqa: E402
from telltales.example import make_example  # noqa: E402
from telltales.fuzz import jpeg_declaring  # noqa: E402
from telltales.web.api import get_pool, get_store  # noqa: E402
from telltales.web.app import create_app  # noqa: E402
from telltales.web.pool import AnalysisPool, analyse_upload, init_worker  # noqa: E402
from telltales.web.settings import Settings  # noqa: E402

FAST = ("provenance",)  # the cues these tests' server runs: quick, and decisive on sd-png


def settings_for(tmp_path, **kw) -> Settings:
    base = {"db_url": f"sqlite:///{tmp_path / 'cases.sqlite'}", "images_dir": tmp_path / "images",
            "cues": FAST, "max_upload_bytes": 2_000_000}
    return Settings(**{**base, **kw})


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = create_app(settings_for(tmp_path_factory.mktemp("web")))
    with TestClient(app) as c:
        yield c


def upload(client, data: bytes, name: str = "a.png", **params):
    return client.post("/api/inspect", files={"file": (name, data, "image/png")}, params=params)


def test_multipart_and_raw_body_of_one_image_are_one_case(client):
    data = make_example("sd-png", width=320, height=240)
    first = upload(client, data, "first.png")
    assert first.status_code == 200, first.text
    assert first.json()["verdict"] == "generated"
    case_id = first.headers["X-Telltales-Case"]
    assert first.headers["Location"] == f"/api/cases/{case_id}"

    second = client.post("/api/inspect", content=data, params={"filename": "again.png"},
                         headers={"Content-Type": "application/x-www-form-urlencoded"})  # curl --data-binary
    assert second.status_code == 200
    assert second.headers["X-Telltales-Case"] == case_id
    assert second.headers["X-Telltales-Case-New"] == "false"
    assert second.json() == first.json()

    case = client.get(f"/api/cases/{case_id}").json()
    assert case["filenames"] == ["first.png", "again.png"]
    assert case["report"] == first.json()  # the library's JSON, unchanged
    assert client.get("/api/cases", params={"q": case["sha256"][:10]}).json()["total"] == 1


def test_triage_profile_clears_a_generator_file_and_refuses_unknown_profiles(tmp_path):
    app = create_app(settings_for(tmp_path, cues=None))
    with TestClient(app) as c:
        r = upload(c, make_example("sd-png", width=336, height=240), profile="triage")
        assert r.status_code == 200, r.text
        assert r.json()["verdict"] == "generated" and r.json()["profile"] == "triage"
        ran = {f["cue"] for f in r.json()["findings"]}
        assert "body.hands" not in ran and "provenance.generator-metadata" in ran  # the cheap cues alone
        assert upload(c, make_example("plain-png", width=320, height=240), profile="fast").status_code == 400


def test_report_is_the_library_contract(client):
    import telltales

    data = make_example("camera-jpeg", width=300, height=200)
    body = upload(client, data, "cam.jpg").json()
    direct = telltales.inspect(data, cues=list(FAST)).to_dict()
    assert body.keys() == direct.keys()
    for key in ("verdict", "p_generated", "reasons", "manual_checks", "image", "sha256"):
        assert body[key] == direct[key], key
    assert [f["cue"] for f in body["findings"]] == [f["cue"] for f in direct["findings"]]


def test_preview_and_original_are_served(client):
    data = make_example("plain-png", width=200, height=150)
    r = upload(client, data, "plain.png")
    cid = r.headers["X-Telltales-Case"]
    preview = client.get(f"/cases/{cid}/image")
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/jpeg"
    assert PILImage.open(io.BytesIO(preview.content)).size == (200, 150)
    assert client.get(f"/cases/{cid}/original").content == data


def test_over_the_upload_limit_is_413_from_content_length(client):
    r = client.post("/api/inspect", content=b"\0" * 2_000_001)
    assert r.status_code == 413 and "over the limit" in r.json()["error"]


def test_over_the_upload_limit_is_413_while_streaming(client):
    def chunks():
        for _ in range(40):
            yield b"\0" * 100_000  # 4 MB without a Content-Length

    r = client.post("/api/inspect", content=chunks())
    assert r.status_code == 413 and "over the limit" in r.json()["error"]


def test_declared_pixels_over_the_budget_are_refused_before_decoding(client):
    bomb = jpeg_declaring(65000, 65000)  # over the budget even at the 1/8-scale JPEG draft
    assert len(bomb) < 1000
    t0 = time.perf_counter()
    r = upload(client, bomb, "bomb.jpg")
    assert r.status_code == 413
    assert "65000x65000" in r.json()["error"]
    assert time.perf_counter() - t0 < 5


def test_the_budget_follows_the_library(tmp_path):
    from telltales.web.api import over_budget

    budget = 36_000_000
    assert not over_budget((9000, 9000, "JPEG"), budget)  # decoded at 1/2 scale by the library
    assert over_budget((65000, 65000, "JPEG"), budget)
    assert over_budget((9000, 9000, "PNG"), budget)
    assert not over_budget((6000, 6000, "PNG"), budget)
    assert not over_budget(None, budget)


def test_unreadable_image_is_422_with_the_report_saying_why(client):
    r = client.post("/api/inspect", content=b"certainly not an image")
    assert r.status_code == 422
    assert r.json()["error"].endswith("not an image, or a format telltales cannot read")
    assert r.json()["verdict"] == "error" and r.json()["p_generated"] is None


@pytest.mark.parametrize("request_kw, fragment", [
    ({"content": b""}, "empty"),
    ({"files": {"other": ("a.png", b"x", "image/png")}}, "field 'file'"),
    ({"content": b"x", "params": {"cues": "no-such-cue"}}, "unknown cue"),
])
def test_malformed_uploads_are_400(client, request_kw, fragment):
    r = client.post("/api/inspect", **request_kw)
    assert r.status_code == 400, r.text
    assert fragment in r.json()["error"]


def test_malformed_content_length_is_400_before_the_app():
    import asyncio

    from telltales.web.limits import BodyLimitMiddleware

    sent: list[dict] = []

    async def app(scope, receive, send):  # pragma: no cover - must not be reached
        raise AssertionError("the app was called")

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "headers": [(b"content-length", b"abc")]}
    asyncio.run(BodyLimitMiddleware(app, 10, 5)(scope, receive, send))
    assert sent[0]["status"] == 400 and b"not a number" in sent[1]["body"]


def test_bad_queries_and_bodies_are_400_without_internals(client):
    r = client.get("/api/cases", params={"verdict": "maybe"})
    assert r.status_code == 400 and r.json()["error"].startswith("malformed request")
    r = client.put("/api/cases/1/checklist", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert "Traceback" not in r.text and "/telltales/" not in r.text


def test_pool_full_is_503_with_retry_after(tmp_path):
    full = AnalysisPool(1, 1)
    busy = full.submit(time.sleep, 3)
    assert busy is not None and full.submit(time.sleep, 0) is None
    app = create_app(settings_for(tmp_path, retry_after_s=7))
    app.dependency_overrides[get_pool] = lambda: full
    try:
        with TestClient(app) as c:
            r = upload(c, make_example("plain-png", width=64, height=48))
        assert r.status_code == 503
        assert r.headers["Retry-After"] == "7"
        assert "busy" in r.json()["error"]
    finally:
        full.shutdown()


def test_pool_admits_again_once_work_is_done():
    pool = AnalysisPool(1, 1)
    try:
        fut = pool.submit(time.sleep, 0.1)
        assert fut is not None and pool.in_flight == 1
        fut.result(timeout=60)
        for _ in range(100):  # the done-callback runs just after result() returns
            if pool.in_flight == 0:
                break
            time.sleep(0.01)
        assert pool.in_flight == 0
        assert pool.submit(time.sleep, 0) is not None
    finally:
        pool.shutdown()


def test_each_analysis_worker_takes_its_share_of_the_cores(tmp_path):
    """N web workers get cores // N native threads each (telltales.cpu), as `scan --jobs N` does."""
    app = create_app(settings_for(tmp_path, workers=2))
    assert app.state.pool._initargs == (None, cpu.worker_share(2))
    pool = AnalysisPool(1, 1, initializer=init_worker, initargs=(None, 1))
    try:
        fut = pool.submit(cpu.threads)
        assert fut is not None and fut.result(timeout=120) == 1
    finally:
        pool.shutdown()


def test_the_worker_timer_stops_a_long_analysis():
    out = analyse_upload(make_example("plain-png", width=1200, height=900), None, 40_000_000, 0.05)
    assert out.status == "timeout" and out.report is None
    assert "longer than 0.05 s" in out.message


def test_internal_errors_answer_without_traceback_or_paths(tmp_path):
    class Broken:
        def get(self, case_id):
            raise RuntimeError("/very/secret/path/db.sqlite is locked")

    app = create_app(settings_for(tmp_path))
    app.dependency_overrides[get_store] = lambda: Broken()
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/cases/1")
    assert r.status_code == 500
    assert r.json() == {"error": "internal error; the server log has the details"}


def test_checklist_answers_round_trip(client):
    r = upload(client, make_example("sd-png", width=330, height=250), "review.png")
    cid = r.headers["X-Telltales-Case"]
    manual = [m["cue"] for m in r.json()["manual_checks"]]
    assert "body.hands" in manual
    put = client.put(f"/api/cases/{cid}/checklist", json={"answers": [
        {"cue": "body.hands", "answer": "problem-seen", "note": "six fingers on the left hand"},
        {"cue": "text.gibberish", "answer": "cannot-tell"}]})
    assert put.status_code == 200, put.text
    post = client.post(f"/api/cases/{cid}/checklist", json={"answers": [
        {"cue": "body.hands", "answer": "looks-fine", "note": "five after all"}]})
    assert post.status_code == 200
    case = client.get(f"/api/cases/{cid}").json()
    got = {a["cue"]: (a["answer"], a["note"]) for a in case["checklist"]}
    assert got == {"body.hands": ("looks-fine", "five after all"), "text.gibberish": ("cannot-tell", "")}
    assert case["review"] == {"answered": 2, "problem_seen": 0, "looks_fine": 1, "cannot_tell": 1}
    assert case["verdict"] == case["report"]["verdict"]  # answers never change the model's verdict

    bad = client.put(f"/api/cases/{cid}/checklist", json={"answers": [{"cue": "nope", "answer": "looks-fine"}]})
    assert bad.status_code == 400 and "nope" in bad.json()["error"]
    assert client.put("/api/cases/999999/checklist", json={"answers": []}).status_code == 404


def test_checklist_form_on_the_case_page(client):
    r = upload(client, make_example("sd-png", width=340, height=260), "form.png")
    cid = r.headers["X-Telltales-Case"]
    page = client.get(f"/cases/{cid}")
    assert page.status_code == 200
    assert 'name="answer:body.teeth"' in page.text and "GENERATED" in page.text
    saved = client.post(f"/cases/{cid}/checklist", data={"answer:body.teeth": "problem-seen",
                                                          "note:body.teeth": "smeared incisors"},
                        follow_redirects=False)
    assert saved.status_code == 303
    again = client.get(saved.headers["location"])
    assert "Reviewer's answer: <strong>problem seen</strong>: smeared incisors" in again.text
    assert "The reviewer's judgement" in again.text and "1 problem(s) seen" in again.text


def test_case_list_filters_and_exports(client):
    upload(client, make_example("sd-png", width=350, height=270), "holiday-snap.png")
    gen = client.get("/api/cases", params={"verdict": "generated"}).json()
    assert gen["total"] >= 1 and all(c["verdict"] == "generated" for c in gen["cases"])
    named = client.get("/api/cases", params={"q": "holiday"}).json()
    assert [c["filename"] for c in named["cases"]] == ["holiday-snap.png"]
    assert client.get("/api/cases", params={"since": "2999-01-01"}).json()["total"] == 0
    today = named["cases"][0]["created_at"][:10]
    assert client.get("/api/cases", params={"until": today, "q": "holiday"}).json()["total"] == 1
    csv_text = client.get("/api/cases/export", params={"format": "csv", "q": "holiday"}).text
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("id,sha256,filename") and "holiday-snap.png" in lines[1] and len(lines) == 2
    js = client.get("/api/cases/export", params={"format": "json", "q": "holiday"}).json()
    assert js[0]["report"]["verdict"] == "generated"
    one = client.get(f"/api/cases/{js[0]['id']}/export", params={"format": "csv"}).text
    assert one.splitlines()[0] == "source,cue,category,status_or_answer,strength,reason_or_note"
    page = client.get("/cases", params={"q": "holiday"})
    assert page.status_code == 200 and "holiday-snap.png" in page.text


def test_password_guards_everything_but_health(tmp_path):
    app = create_app(settings_for(tmp_path, password="s3cret"))
    with TestClient(app) as c:
        assert c.get("/health").status_code == 200
        denied = c.get("/api/cases")
        assert denied.status_code == 401 and denied.headers["WWW-Authenticate"].startswith("Basic")
        assert c.get("/").status_code == 401
        assert c.get("/api/cases", headers={"X-API-Key": "wrong"}).status_code == 401
        assert c.get("/api/cases", headers={"X-API-Key": "s3cret"}).status_code == 200
        basic = base64.b64encode(b"anyone:s3cret").decode()
        assert c.get("/", headers={"Authorization": f"Basic {basic}"}).status_code == 200


def test_openapi_documents_the_api(client):
    spec = client.get("/openapi.json").json()
    assert {"/api/inspect", "/api/cases", "/api/cases/{case_id}", "/api/cases/{case_id}/checklist",
            "/api/cases/export"} <= set(spec["paths"])
    body = spec["paths"]["/api/inspect"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in body and "application/octet-stream" in body
    assert client.get("/docs").status_code == 200


def test_upload_form_without_javascript(client):
    one = client.post("/upload", files=[("file", ("solo.png", make_example("sd-png", width=360, height=280), "image/png"))],
                      follow_redirects=False)
    assert one.status_code == 303 and one.headers["location"].startswith("/cases/")
    two = client.post("/upload", files=[
        ("file", ("left.png", make_example("sd-png", width=370, height=280), "image/png")),
        ("file", ("broken.png", b"not an image at all", "image/png"))])
    assert two.status_code == 200
    assert "left.png" in two.text and "not an image, or a format telltales cannot read" in two.text
    assert client.post("/upload", data={"x": "y"}).status_code == 400


def test_upload_form_chooses_the_triage_profile(tmp_path):
    with TestClient(create_app(settings_for(tmp_path, cues=None))) as c:
        page = c.get("/")
        assert 'name="profile"' in page.text and 'value="triage"' in page.text
        sent = c.post("/upload", data={"profile": "triage"}, follow_redirects=False, files=[
            ("file", ("t.png", make_example("sd-png", width=352, height=264), "image/png"))])
        assert sent.status_code == 303, sent.text
        case = c.get(sent.headers["location"].replace("/cases/", "/api/cases/")).json()
        assert case["report"]["profile"] == "triage"
        bad = c.post("/upload", data={"profile": "fast"}, files=[
            ("file", ("u.png", make_example("sd-png", width=344, height=264), "image/png"))])
        assert bad.status_code == 400


def test_a_body_that_stops_arriving_times_out():
    import asyncio

    from telltales.web.limits import BodyLimitMiddleware, BodyTimeout

    async def app(scope, receive, send):
        await receive()  # the first piece
        await receive()  # the client never sends the rest

    pieces = iter([{"type": "http.request", "body": b"abc", "more_body": True}])

    async def receive():
        try:
            return next(pieces)
        except StopIteration:
            await asyncio.sleep(60)

    async def send(message):  # pragma: no cover - nothing is sent
        raise AssertionError(message)

    scope = {"type": "http", "headers": [(b"content-length", b"100")]}
    with pytest.raises(BodyTimeout, match="stopped arriving for 0.2 s"):
        asyncio.run(BodyLimitMiddleware(app, 1000, 0.2)(scope, receive, send))


def test_forms_posted_from_another_site_are_refused(client):
    r = upload(client, make_example("sd-png", width=380, height=290), "csrf.png")
    cid = r.headers["X-Telltales-Case"]
    evil = client.post(f"/cases/{cid}/checklist", data={"answer:body.hands": "looks-fine"},
                       headers={"Origin": "http://evil.example"}, follow_redirects=False)
    assert evil.status_code == 403
    assert client.get(f"/api/cases/{cid}").json()["checklist"] == []
    own = client.post(f"/cases/{cid}/checklist", data={"answer:body.hands": "looks-fine"},
                      headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert own.status_code == 303


def test_base_rate_from_the_server_or_the_query(tmp_path):
    """p at another share of generated uploads: the server's --base-rate, overridden per request;
    the report, the verdict and p_generated stay as analysed."""
    from telltales.fusion import at_base_rate

    with TestClient(create_app(settings_for(tmp_path, base_rate=0.01))) as c:
        first = upload(c, make_example("plain-png", width=320, height=240), "plain.png")
        assert first.status_code == 200, first.text
        case_id = first.headers["X-Telltales-Case"]
        case = c.get(f"/api/cases/{case_id}").json()
        p = case["p_generated"]
        assert case["report"] == first.json() and case["verdict"] == first.json()["verdict"]
        assert case["p_generated_at_base_rate"] == {"base_rate": 0.01, "p": pytest.approx(at_base_rate(p, 0.01), abs=1e-4)}
        half = c.get(f"/api/cases/{case_id}", params={"base_rate": 0.5}).json()["p_generated_at_base_rate"]
        assert half["p"] == pytest.approx(p, abs=1e-4)  # at equal odds p is itself
        listed = c.get("/api/cases", params={"base_rate": 0.2}).json()["cases"][0]
        assert listed["p_generated_at_base_rate"]["base_rate"] == 0.2
        for wrong in ("0", "1", "-1", "often"):
            assert c.get(f"/api/cases/{case_id}", params={"base_rate": wrong}).status_code == 400
        header = c.get("/api/cases/export", params={"format": "csv"}).text.splitlines()[0].split(",")
        assert header[header.index("p_generated") + 1] == "p_generated_at_base_rate"
        page = c.get(f"/cases/{case_id}").text
        assert f"{at_base_rate(p, 0.01):.2f} where 1% of pictures are generated" in page
        assert "at 1%" in c.get("/cases").text
    with TestClient(create_app(settings_for(tmp_path))) as c:  # no server rate: null, and no column
        assert c.get(f"/api/cases/{case_id}").json()["p_generated_at_base_rate"] is None
        assert "p_generated_at_base_rate" not in c.get("/api/cases/export", params={"format": "csv"}).text
        assert "pictures are generated" not in c.get(f"/cases/{case_id}").text
    with pytest.raises(ValueError, match="base_rate"):
        settings_for(tmp_path, base_rate=1.0)


def test_case_page_notes_a_detector_that_did_not_run(tmp_path, monkeypatch):
    """The banner says when the CLIP detector could not run (here: no backbone installed)."""
    from telltales import backbone

    monkeypatch.setenv("TELLTALES_MODEL_DIR", str(tmp_path / "no-models"))
    backbone.load.cache_clear()
    try:
        with TestClient(create_app(settings_for(tmp_path, cues=("noise.clip",), workers=1))) as c:
            r = upload(c, make_example("plain-png", width=320, height=240))
            assert r.status_code == 200, r.text
            page = c.get(f"/cases/{r.headers['X-Telltales-Case']}").text
    finally:
        backbone.load.cache_clear()
    assert "the CLIP detector did not run" in page and "telltales.backbone install" in page


def test_the_warm_up_logs_a_detector_that_cannot_run(caplog):
    """At startup the server log names a part that every report would otherwise name."""
    import logging
    from concurrent.futures import Future

    from telltales.web.app import log_warm_up
    from telltales.web.pool import Outcome

    fut: Future = Future()
    fut.set_result(Outcome("ok", {"findings": [
        {"cue": "noise.clip", "status": "not-applicable", "reason": "the CLIP backbone is not installed",
         "details": {"part_missing": True}},
        {"cue": "noise.jpeg", "status": "clear", "reason": "fine", "details": {}}]}))
    with caplog.at_level(logging.WARNING, logger="telltales.web"):
        log_warm_up(fut)
    assert [r.getMessage() for r in caplog.records] == [
        "the CLIP detector did not run, so without metadata this verdict rests on weaker cues: "
        "the CLIP backbone is not installed (telltales doctor checks every part)"]
    state = type("State", (), {})()
    log_warm_up(fut, state)
    assert state.parts_missing == ["noise.clip"]  # what /health reports
    broken: Future = Future()
    broken.set_exception(RuntimeError("boom"))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="telltales.web"):
        log_warm_up(broken)
    assert "warm-up analysis failed: RuntimeError: boom" in caplog.text


def test_health_names_the_cues_the_warm_up_could_not_run(tmp_path, monkeypatch):
    import time

    from telltales import backbone

    monkeypatch.setenv("TELLTALES_MODEL_DIR", str(tmp_path / "no-models"))
    backbone.load.cache_clear()
    try:
        with TestClient(create_app(settings_for(tmp_path, cues=("noise.clip", "noise.jpeg"), warm_up=True))) as c:
            deadline = time.monotonic() + 60
            while not (health := c.get("/health").json())["parts_missing"] and time.monotonic() < deadline:
                time.sleep(0.2)
    finally:
        backbone.load.cache_clear()
    assert health["status"] == "ok" and health["parts_missing"] == ["noise.clip"]
