"""How often body.animals raises a cat-face pointer on the dev set, and what it costs.

    python benchmarks/bench_animals.py --data ../shared/data/dev [--limit N] [--show 40]

Runs the ``body.animals`` cue on every file of ``manifest.tsv`` (as published)
and prints markdown tables: per label, how many images got a cat-face pointer
(status "clear" with boxes), how many candidates were dropped because a human
face sat inside them, errors, and the median and 95th-percentile milliseconds
of the cue itself (the shared grey image is timed apart: other cues use it
too). Then the files that got a pointer, with their boxes in original pixels,
so that a person can check whether each really shows an animal's face.

The cue never claims evidence; a pointer on an image without an animal only
costs a reader a glance, but it should stay rare. Nothing is written anywhere.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections import Counter
from pathlib import Path


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data/dev", help="folder with manifest.tsv and the images")
    ap.add_argument("--limit", type=int, default=0, help="every n-th file only (0: all)")
    ap.add_argument("--show", type=int, default=40, help="list at most this many files with a pointer")
    args = ap.parse_args(argv)

    from telltales.analysis import Analysis
    from telltales.api import run_cue
    from telltales.findings import Status
    from telltales.image import load_image
    from telltales.registry import get

    c = get("body.animals")
    data = Path(args.data)
    with open(data / "manifest.tsv", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    if args.limit:
        rows = rows[:: args.limit]

    images: Counter[str] = Counter()
    pointed: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    evidence: Counter[str] = Counter()
    cue_ms: dict[str, list[float]] = {}
    gray_ms: list[float] = []
    hits: list[tuple[str, str, list]] = []
    for r in rows:
        label = r["label"]
        try:
            a = Analysis(load_image((data / r["file"]).read_bytes()))
            t0 = time.perf_counter()
            a.gray  # noqa: B018 - the shared input, timed apart from the cue
            gray_ms.append((time.perf_counter() - t0) * 1000)
        except Exception as exc:  # noqa: BLE001 - an unreadable file is counted, not fatal
            errors[label] += 1
            print(f"cannot load {r['file']}: {exc}", file=sys.stderr)
            continue
        f, manual = run_cue(c, a)
        images[label] += 1
        cue_ms.setdefault(label, []).append(f.seconds * 1000)
        if f.status == Status.ERROR:
            errors[label] += 1
        if f.status in (Status.GENERATED, Status.REAL):
            evidence[label] += 1
        if f.details.get("human_faces_skipped"):
            skipped[label] += 1
        if f.status == Status.CLEAR and manual and manual[0].regions:
            pointed[label] += 1
            hits.append((label, r["file"], [list(x.box) for x in manual[0].regions]))

    labels = sorted(images)
    print(f"## body.animals on {data} ({sum(images.values())} images)\n")
    print("| label | images | cat-face pointer | share | human face dropped | evidence (must be 0) "
          "| errors | median ms | p95 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for lab in labels:
        n = images[lab]
        ms = cue_ms.get(lab, [])
        print(f"| {lab} | {n} | {pointed[lab]} | {pointed[lab] / max(1, n):.1%} | {skipped[lab]} | "
              f"{evidence[lab]} | {errors[lab]} | {statistics.median(ms):.1f} | {percentile(ms, 0.95):.1f} |")
    all_ms = [m for lab in labels for m in cue_ms[lab]]
    print(f"\nCue alone: median {statistics.median(all_ms):.1f} ms, p95 {percentile(all_ms, 0.95):.1f} ms per image; "
          f"shared grey image (not counted above): median {statistics.median(gray_ms):.1f} ms.\n")
    print(f"### Files with a cat-face pointer ({len(hits)}; check each shows an animal's face)\n")
    print("| label | file | boxes (x, y, w, h; original px) |")
    print("|---|---|---|")
    for lab, file, boxes in hits[: args.show]:
        print(f"| {lab} | {file} | {boxes} |")
    if len(hits) > args.show:
        print(f"\n({len(hits) - args.show} more not shown; raise --show)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
