"""A real browser on the real server: Playwright drives Debian's chromium (Playwright's own
browser download cannot work offline). Upload a generated image through the page, see the
verdict banner, answer a checklist item, reload, and find the answer stored.

Skipped, with the reason printed (pytest -rs), where there is no chromium or no Playwright.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the web app's packages are not installed (pip install '.[serve]')")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")

from telltales.example import make_example  # noqa: E402


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "telltales", "serve", "--port", str(port), "--db",
         f"sqlite:///{tmp / 'cases.sqlite'}", "--images", str(tmp / "images")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                pytest.fail("the server stopped: " + proc.stdout.read().decode()[-2000:])
            try:
                with urllib.request.urlopen(url + "/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        yield url, tmp
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    exe = chromium_path()
    if exe is None:
        pytest.skip("no chromium on PATH (apt-get install chromium); .ci/run installs it")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


def test_upload_see_the_banner_answer_the_checklist_and_find_it_stored(server, browser, tmp_path):
    url, _ = server
    image = tmp_path / "made-by-sd.png"
    image.write_bytes(make_example("sd-png", width=640, height=480))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(180_000)  # one full analysis on a busy CPU
    page.goto(url + "/")
    assert "Drag and drop" in page.inner_text("#upload")
    page.set_input_files("#file", str(image))
    page.wait_for_url("**/cases/*")
    banner = page.locator("#verdict")
    banner.wait_for()
    assert "GENERATED" in banner.inner_text()
    assert "p_generated" in banner.inner_text()
    assert page.locator(".finding.s-generated-evidence").count() >= 1

    hands = page.locator('fieldset[data-ref="body.hands"]')
    hands.locator('input[value="problem-seen"]').check()
    hands.locator('input[name="note:body.hands"]').fill("six fingers on the left hand")
    page.click("button.save")
    page.wait_for_url("**/cases/*?saved=1*")
    page.reload()
    hands = page.locator('fieldset[data-ref="body.hands"]')
    assert hands.locator('input[value="problem-seen"]').is_checked()
    assert hands.locator('input[name="note:body.hands"]').input_value() == "six fingers on the left hand"
    assert "Reviewer's answer: problem seen" in hands.inner_text()
    assert "1 problem(s) seen" in page.inner_text("#review")
    assert "GENERATED" in page.inner_text("#verdict")  # the model's verdict is the model's

    case_id = page.url.split("/cases/")[1].split("?")[0]
    with urllib.request.urlopen(f"{url}/api/cases/{case_id}", timeout=10) as r:
        import json

        stored = json.loads(r.read())
    assert {(a["cue"], a["answer"]) for a in stored["checklist"]} == {("body.hands", "problem-seen")}
    page.close()


def test_the_case_list_finds_the_upload(server, browser):
    url, _ = server
    page = browser.new_page()
    page.goto(url + "/cases?q=made-by")
    assert "made-by-sd.png" in page.inner_text("table.cases")
    page.goto(url + "/cases?q=nothing-like-this")
    assert "No cases match" in page.inner_text("main")
    page.close()


def test_several_files_at_once_are_each_linked_to_their_case(server, browser, tmp_path):
    url, _ = server
    again = tmp_path / "made-by-sd-again.png"
    again.write_bytes(make_example("sd-png", width=640, height=480))  # the same bytes: one case
    other = tmp_path / "tiny.png"
    other.write_bytes(make_example("plain-png", width=160, height=120))
    page = browser.new_page()
    page.set_default_timeout(180_000)
    page.goto(url + "/")
    page.set_input_files("#file", [str(again), str(other)])
    page.wait_for_function("document.querySelectorAll('#results li a').length === 2")
    links = page.locator("#results li a")
    assert links.nth(0).inner_text() == "made-by-sd-again.png"
    assert links.nth(1).inner_text() == "tiny.png"
    assert page.url == url + "/"  # several files: the page stays on the list of results
    page.goto(url + "/cases?q=made-by")
    assert page.locator("table.cases tbody tr").count() == 1  # one case for both names
    page.close()


def test_highlight_links_a_finding_to_its_boxes(server, browser):
    url, _ = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url + "/cases?q=made-by-sd.png")
    page.click("table.cases a")
    assert page.locator("g.box").count() >= 1  # noise.learned marks its strongest patches
    box = page.locator("g.box").first
    ref = box.get_attribute("data-ref")
    page.locator(f'.legend li[data-ref="{ref}"]').first.click()
    assert "pinned" in (box.get_attribute("class") or "")
    assert "focus" in (page.get_attribute("#stage", "class") or "")
    page.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([str(Path(__file__))]))
