"""The README's screenshots of the web app, taken with headless chromium (Debian's).

    python benchmarks/web_screenshots.py [--out docs]

Starts `telltales serve` on a temporary database, uploads the generated example image through
the upload page, answers one checklist item, and writes web-upload.png, web-case.png and
web-checklist.png (palette PNGs, to keep them small).
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image as PILImage

from telltales.example import make_example


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shrink(path: Path, width: int = 1000) -> None:
    img = PILImage.open(path).convert("RGB")
    if img.width > width:
        img = img.resize((width, round(img.height * width / img.width)), PILImage.Resampling.LANCZOS)
    img.quantize(colors=128, method=PILImage.Quantize.MEDIANCUT, dither=PILImage.Dither.NONE).save(
        path, optimize=True)


def main() -> None:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="docs")
    ap.add_argument("--skip", default="", help="comma-separated cue ids to leave out (one whose model "
                                               "is not installed here, say)")
    args = ap.parse_args()
    skip = {c for c in args.skip.split(",") if c}
    cue_args = []
    if skip:
        from telltales.registry import all_cues

        cue_args = ["--cues", ",".join(c.id for c in all_cues() if c.id not in skip)]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="shots-"))
    image = tmp / "harbour-sunset.png"
    image.write_bytes(make_example("sd-png", width=1200, height=800))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "telltales", "serve", "--port", str(port), "--db",
                             f"sqlite:///{tmp / 'c.sqlite'}", "--images", str(tmp / "img"), *cue_args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/health", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        exe = shutil.which("chromium") or "/usr/bin/chromium"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1200, "height": 760})
            page.set_default_timeout(300_000)
            page.goto(url + "/")
            page.screenshot(path=str(out / "web-upload.png"))
            page.set_input_files("#file", str(image))
            page.wait_for_url("**/cases/*")
            page.locator('fieldset[data-ref="body.hands"] input[value="cannot-tell"]').check()
            page.locator('input[name="note:body.hands"]').fill("no people in the picture")
            page.locator('fieldset[data-ref="text.gibberish"] input[value="looks-fine"]').check()
            page.click("button.save")
            page.wait_for_url("**saved=1*")
            page.goto(page.url.split("?")[0])
            page.set_viewport_size({"width": 1200, "height": 1180})
            page.locator(".legend li").first.dispatch_event("mouseenter")  # highlight, no scrolling
            page.screenshot(path=str(out / "web-case.png"))
            page.set_viewport_size({"width": 1200, "height": 760})
            page.locator("#checklist").scroll_into_view_if_needed()
            page.evaluate("document.getElementById('checklist').scrollIntoView()")
            page.screenshot(path=str(out / "web-checklist.png"))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    for name in ("web-upload.png", "web-case.png", "web-checklist.png"):
        shrink(out / name)
        print(out / name, (out / name).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
