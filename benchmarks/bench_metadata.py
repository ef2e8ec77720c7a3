"""Measure the metadata cues (generator-metadata, camera) on the labelled dev set.

    python benchmarks/bench_metadata.py --data ../shared/data/dev [--condition web] [--limit N]

Conditions: ``published`` (files as stored), ``web`` (long side <= 1024,
re-saved as JPEG q80 by Pillow with the EXIF carried over; PNG text, XMP and
IPTC are dropped, as many editors do) and ``stripped`` (re-saved with no
metadata at all, as most social sites serve images). Prints, per cue, status counts for real and AI
files, the AI hit rate per generator family, and the mean time per image.
"""

from __future__ import annotations

import argparse
import csv
import io
import time
from collections import Counter, defaultdict
from pathlib import Path

from PIL import Image as PILImage

from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.image import load_image
from telltales.registry import get

CUES = ("provenance.generator-metadata", "provenance.camera")


def web_copy(data: bytes) -> bytes:
    """Long side <= 1024, JPEG quality 80, EXIF carried over (as a careless re-save does)."""
    im = PILImage.open(io.BytesIO(data))
    exif = im.info.get("exif")
    im = im.convert("RGB")
    im.info = {}  # Pillow would otherwise carry comments and XMP over
    im.thumbnail((1024, 1024))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=80, **({"exif": exif} if exif else {}))
    return buf.getvalue()


def stripped_copy(data: bytes) -> bytes:
    """Same size, JPEG quality 80, no metadata at all (as most social sites serve images)."""
    im = PILImage.open(io.BytesIO(data)).convert("RGB")
    im.info = {}
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def family(generator: str) -> str:
    g = generator.split("(")[0].split(":")[0].split("+")[0].strip()
    return g.split("/")[0] if "/" in g else g


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/dev")
    ap.add_argument("--condition", choices=("published", "web", "stripped"), default="published")
    ap.add_argument("--limit", type=int, default=0, help="every n-th file only (0: all)")
    ap.add_argument("--show", action="store_true", help="print each non-n/a finding")
    args = ap.parse_args()
    root = Path(args.data)
    with open(root / "manifest.tsv") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    if args.limit:
        rows = rows[:: args.limit]
    cues = [get(c) for c in CUES]
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    per_gen: dict[str, Counter] = defaultdict(Counter)
    seconds: Counter = Counter()
    for r in rows:
        data = (root / r["file"]).read_bytes()
        if args.condition == "web":
            data = web_copy(data)
        elif args.condition == "stripped":
            data = stripped_copy(data)
        a = Analysis(load_image(data))
        for c in cues:
            t0 = time.perf_counter()
            f, _ = run_cue(c, a)
            seconds[c.id] += time.perf_counter() - t0
            counts[(c.id, r["label"])][str(f.status)] += 1
            if r["label"] == "ai":
                per_gen[family(r["generator"])][f"{c.id}:{f.status}"] += 1
                per_gen[family(r["generator"])]["n"] += 1 if c is cues[0] else 0
            if args.show and str(f.status) != "not-applicable":
                print(r["label"], c.id, f.status, f.strength, r["file"], "|", f.reason[:160])
    print(f"condition={args.condition} files={len(rows)}")
    for c in CUES:
        for label in ("real", "ai"):
            n = sum(counts[(c, label)].values())
            print(f"{c:32s} {label:4s} n={n:4d}", dict(counts[(c, label)]))
        print(f"{c:32s} mean {1000 * seconds[c] / max(1, len(rows)):.2f} ms/image")
    print("AI files per generator family: n, generator-metadata generated, camera real")
    for g, cnt in sorted(per_gen.items(), key=lambda kv: -kv[1]["n"]):
        print(f"  {g[:60]:60s} {cnt['n']:4d} {cnt[CUES[0] + ':generated-evidence']:4d} "
              f"{cnt[CUES[1] + ':real-evidence']:4d}")


if __name__ == "__main__":
    main()
