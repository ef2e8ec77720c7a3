"""Measure the geometry and physics cues on the labelled dev set.

    python benchmarks/bench_geometry.py --data ../shared/data/dev [--limit N] [--jobs 2] \
        [--out /tmp/geometry.jsonl]

Runs every registered ``geometry.*`` and ``physics.*`` cue on each file in two
conditions: ``asis`` (the file as published) and ``web`` (long side <= 1024,
JPEG quality 80). Prints, per cue and condition, the coverage (share of images
where the cue applies), the false-evidence rate on real photos, the hit rate on
AI images, and the time the cues and their own inputs (line segments, faces)
add per image (the face mesh, shared with the body cues, is shown apart). ``--out`` keeps every finding's details for fitting thresholds.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import time
from collections import Counter, defaultdict
from multiprocessing import Pool
from pathlib import Path

from PIL import Image as PILImage

CONDITIONS = ("asis", "web")


def web_copy(data: bytes) -> bytes:
    """Long side <= 1024, JPEG quality 80."""
    im = PILImage.open(io.BytesIO(data)).convert("RGB")
    im.thumbnail((1024, 1024))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def measure(job: tuple[str, str, str]) -> list[dict]:
    from telltales.analysis import Analysis
    from telltales.api import run_cue
    from telltales.image import load_image
    from telltales.registry import all_cues

    path, label, condition = job
    data = Path(path).read_bytes()
    if condition == "web":
        data = web_copy(data)
    cues = [c for c in all_cues() if c.id.split(".")[0] in ("geometry", "physics")]
    a = Analysis(load_image(data))
    a.get("gray")  # shared with every pixel cue: not counted
    out = []
    for c in cues:
        t0 = time.perf_counter()
        f, manual = run_cue(c, a)
        out.append({
            "file": path, "label": label, "condition": condition, "cue": c.id,
            "status": str(f.status), "strength": f.strength, "reason": f.reason,
            "seconds": time.perf_counter() - t0, "details": f.details, "manual": len(manual),
        })
    for row in out:  # cue seconds include the inputs they compute first (segments, faces)
        row["faces_seconds"] = a.timings.get("faces", 0.0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/dev")
    ap.add_argument("--limit", type=int, default=0, help="every n-th file only (0: all)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--label", choices=("real", "ai", "both"), default="both")
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    root = Path(args.data)
    with open(root / "manifest.tsv") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    if args.label != "both":
        rows = [r for r in rows if r["label"] == args.label]
    if args.limit:
        rows = rows[:: args.limit]
    jobs = [(str(root / r["file"]), r["label"], c) for r in rows for c in CONDITIONS]
    with Pool(args.jobs) as pool:
        results = [row for rs in pool.imap_unordered(measure, jobs, chunksize=4) for row in rs]
    if args.out:
        with open(args.out, "w") as fh:
            for r in results:
                fh.write(json.dumps(r) + "\n")
    summarise(results)


def summarise(results: list[dict]) -> None:
    counts: dict[tuple, Counter] = defaultdict(Counter)
    per_image: dict[tuple, float] = defaultdict(float)
    faces: dict[tuple, float] = {}
    for r in results:
        counts[(r["cue"], r["condition"], r["label"])][r["status"]] += 1
        per_image[(r["file"], r["condition"])] += r["seconds"]
        faces[(r["file"], r["condition"])] = r["faces_seconds"]
    print(f"{'cue':28} {'cond':5} {'n real':>6} {'cover real':>10} {'FP real':>8} "
          f"{'n ai':>5} {'cover ai':>8} {'hit ai':>7}")
    for cue, cond in sorted({(k[0], k[1]) for k in counts}):
        real, ai = counts[(cue, cond, "real")], counts[(cue, cond, "ai")]
        nr, na = sum(real.values()), sum(ai.values())

        def share(c: Counter, n: int, *keys: str) -> str:
            return f"{100 * sum(c[k] for k in keys) / n:.1f}%" if n else "-"

        applies = ("generated-evidence", "real-evidence", "clear")
        print(f"{cue:28} {cond:5} {nr:6d} {share(real, nr, *applies):>10} "
              f"{share(real, nr, 'generated-evidence'):>8} {na:5d} {share(ai, na, *applies):>8} "
              f"{share(ai, na, 'generated-evidence'):>7}")
        errors = real["error"] + ai["error"]
        if errors:
            print(f"    errors: {errors}")
    for cond in CONDITIONS:
        for what, t in (("cues and line segments", [per_image[k] - faces[k] for k in per_image if k[1] == cond]),
                        ("face mesh (shared input)", [faces[k] for k in per_image if k[1] == cond])):
            t = sorted(t)
            if t:
                print(f"time per image, {what} ({cond}): mean {1000 * sum(t) / len(t):.0f} ms, "
                      f"median {1000 * t[len(t) // 2]:.0f} ms, p95 {1000 * t[int(0.95 * len(t))]:.0f} ms")


if __name__ == "__main__":
    main()
