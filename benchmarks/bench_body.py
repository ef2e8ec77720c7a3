"""Measure the body cues on the dev images that show people.

    python benchmarks/bench_body.py --data ../shared/data/dev --out /tmp/body.jsonl [--limit N]
    python benchmarks/bench_body.py --summary /tmp/body.jsonl

Images: real photos with people (manifest ``people=yes`` plus the COCO photos
under ``real/openpose-coco``) and AI images with people (``people=yes``, which
includes ``ai/c2/facechain_styles``). Each image is measured as published
("asis") and web-degraded ("web": long side <= 1024, JPEG quality 80). One JSON
line per image and condition: every body cue's status, strength, key measurement
and seconds, plus the landmark providers' seconds.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
import time
from pathlib import Path

BODY = ("body.hands", "body.pupils", "body.eye-highlights", "body.eye-colour", "body.face-symmetry",
        "body.teeth", "body.limbs", "body.skin-hair")


def web_copy(data: bytes) -> bytes:
    from PIL import Image, ImageOps

    im = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    im.thumbnail((1024, 1024), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def key_value(cue_id: str, details: dict) -> float | None:
    """The one number each cue thresholds (for fitting): lower = more suspicious."""
    if cue_id == "body.pupils" and details.get("eyes"):
        return min(e["biou"] for e in details["eyes"])
    if cue_id == "body.eye-highlights" and details.get("faces"):
        return -max((f["offset_radii"] or 0.0) for f in details["faces"])
    if cue_id == "body.hands" and details.get("hands"):
        return -max(h.get("protrusions", 0) for h in details["hands"])
    if cue_id == "body.eye-colour" and details.get("faces"):
        return -max(f["distance"] for f in details["faces"])
    return None


def select(data: Path, limit: int | None, seed: int = 0) -> list[tuple[str, str, str]]:
    with open(data / "manifest.tsv") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    chosen = [(r["file"], r["label"], r["file"].split("/")[2] if r["file"].startswith("ai/c2") else r["file"].split("/")[1])
              for r in rows
              if r.get("people") == "yes" or r["file"].startswith("real/openpose-coco")]
    if limit:
        random.Random(seed).shuffle(chosen)
        chosen = sorted(chosen[:limit])
    return chosen


def measure(data: Path, out: Path, limit: int | None) -> None:
    from telltales.analysis import Analysis
    from telltales.api import run_cue
    from telltales.image import load_image
    from telltales.registry import all_cues

    cues = [c for c in all_cues() if c.id in BODY]
    with open(out, "w") as fh:
        for file, label, group in select(data, limit):
            raw = (data / file).read_bytes()
            for cond, blob in (("asis", raw), ("web", web_copy(raw))):
                a = Analysis(load_image(blob))
                t0 = time.perf_counter()
                rec = {"file": file, "label": label, "group": group, "cond": cond, "cues": {}}
                for c in cues:
                    f, _ = run_cue(c, a)
                    rec["cues"][c.id] = {"status": str(f.status), "strength": f.strength,
                                         "value": key_value(c.id, f.details), "reason": f.reason}
                rec["seconds"] = time.perf_counter() - t0
                rec["providers"] = {k: v for k, v in a.timings.items() if k in ("faces", "hands", "pose", "eyes")}
                rec["n_faces"], rec["n_hands"] = len(a.get("faces")), len(a.get("hands"))
                fh.write(json.dumps(rec) + "\n")
                fh.flush()
                print(file, cond, {k: v["status"][:4] for k, v in rec["cues"].items()}, f"{rec['seconds']:.2f}s",
                      file=sys.stderr)


def judged(xs: list[dict]) -> int:
    """How many of these cue results could judge (evidence either way, or clear)."""
    return sum(x["status"] in ("generated-evidence", "clear", "real-evidence") for x in xs)


def gen(xs: list[dict]) -> int:
    """How many of these cue results are generated-evidence."""
    return sum(x["status"] == "generated-evidence" for x in xs)


def summary(path: Path) -> None:
    with open(path) as fh:
        recs = [json.loads(line) for line in fh]
    cue_ids = sorted({k for r in recs for k in r["cues"]})
    print("| cue | cond | real n | real judged | real false-evidence | AI n | AI judged | AI hits | facechain hits |")
    print("|---|---|---|---|---|---|---|---|---|")
    for cid in cue_ids:
        for cond in ("asis", "web"):
            rs = [r for r in recs if r["cond"] == cond and cid in r["cues"]]
            real = [r["cues"][cid] for r in rs if r["label"] == "real"]
            ai = [r["cues"][cid] for r in rs if r["label"] == "ai"]
            fc = [r["cues"][cid] for r in rs if r["group"] == "facechain_styles"]
            print(f"| {cid} | {cond} | {len(real)} | {judged(real)} | {gen(real)} ({gen(real) / max(1, len(real)):.1%}) "
                  f"| {len(ai)} | {judged(ai)} | {gen(ai)} ({gen(ai) / max(1, len(ai)):.1%}) "
                  f"| {gen(fc)}/{len(fc)} |")
    for cond in ("asis", "web"):
        rs = [r for r in recs if r["cond"] == cond]
        with_people = sorted(r["seconds"] for r in rs if r["n_faces"] or r["n_hands"])
        without = sorted(r["seconds"] for r in rs if not (r["n_faces"] or r["n_hands"]))
        for name, xs in (("with face/hand", with_people), ("without", without)):
            if xs:
                print(f"time {cond} {name}: n={len(xs)} median {xs[len(xs) // 2] * 1e3:.0f} ms, "
                      f"p90 {xs[int(len(xs) * 0.9)] * 1e3:.0f} ms")
    print("\nthreshold fitting (key value, lower = more suspicious): real quantiles / AI quantiles")
    for cid in cue_ids:
        for cond in ("asis", "web"):
            for label in ("real", "ai"):
                v = sorted(r["cues"][cid]["value"] for r in recs
                           if r["cond"] == cond and r["label"] == label and r["cues"][cid]["value"] is not None)
                if v:
                    q = [v[min(len(v) - 1, int(p * len(v)))] for p in (0.0, 0.02, 0.05, 0.1, 0.25, 0.5)]
                    print(f"{cid} {cond} {label} n={len(v)} min/2/5/10/25/50%: " + " ".join(f"{x:.3f}" for x in q))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, default=Path("../shared/data/dev"))
    p.add_argument("--out", type=Path, default=Path("/tmp/body.jsonl"))
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--summary", type=Path, default=None)
    args = p.parse_args()
    if args.summary:
        summary(args.summary)
    else:
        measure(args.data, args.out, args.limit)
        summary(args.out)


if __name__ == "__main__":
    main()
