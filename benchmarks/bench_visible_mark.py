"""Measure provenance.visible-mark (DALL-E 2 colour strip, Gemini sparkle, AI labels) on labelled data.

    python benchmarks/bench_visible_mark.py --data ../shared/data/dev [--data DIR ...] [--web]

Each ``--data`` folder holds a ``manifest.tsv`` with ``file``, ``label`` and
``generator`` columns. Prints, per generator, how many files carry a mark (and
which); the real photos flagged (false positives, listed); and the mean time per
image (the OCR the labels need included).
``--web`` first degrades every file (long side <= 1024, JPEG quality 80).
Nothing is tuned here: the cue's colours, template and thresholds are fixed in the cue.
"""

from __future__ import annotations

import argparse
import csv
import io
import time
from collections import Counter
from pathlib import Path

from PIL import Image as PILImage

from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import get

CUE = "provenance.visible-mark"


def web_copy(data: bytes) -> bytes:
    im = PILImage.open(io.BytesIO(data)).convert("RGB")
    im.thumbnail((1024, 1024))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def rows(folder: Path) -> list[dict[str, str]]:
    with open(folder / "manifest.tsv", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", action="append", required=True, help="folder with manifest.tsv (repeatable)")
    ap.add_argument("--web", action="store_true", help="degrade each file first (<= 1024 px, JPEG q80)")
    args = ap.parse_args()
    cue = get(CUE)
    seen: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    kinds: dict[str, Counter[str]] = {}
    false_positives: list[str] = []
    seconds = 0.0
    for folder in map(Path, args.data):
        for r in rows(folder):
            data = (folder / r["file"]).read_bytes()
            if args.web:
                data = web_copy(data)
            t0 = time.perf_counter()
            finding, _ = run_cue(cue, Analysis(load_image(data)))
            seconds += time.perf_counter() - t0
            key = "real" if r["label"] == "real" else r["generator"]
            seen[key] += 1
            if finding.status == Status.GENERATED:
                hits[key] += 1
                kinds.setdefault(key, Counter()).update(m["tool"] for m in finding.details["marks"])
                if r["label"] == "real":
                    false_positives.append(f"{folder}/{r['file']}")
            elif finding.status == Status.ERROR:
                print(f"error on {folder}/{r['file']}: {finding.reason}")
    print(f"{'generator':70s} {'marked':>6s} / {'files':>5s}  marks")
    for key in sorted(seen, key=lambda k: (-hits[k], k)):
        if hits[key] or key == "real" or key.startswith("DALL-E"):
            print(f"{key[:70]:70s} {hits[key]:6d} / {seen[key]:5d}  {dict(kinds.get(key, {}))}")
    print(f"real photos flagged: {len(false_positives)} of {seen['real']}")
    for path in false_positives:
        print(f"  {path}")
    total = sum(seen.values())
    print(f"mean {1000 * seconds / max(1, total):.1f} ms per image over {total} images")


if __name__ == "__main__":
    main()
