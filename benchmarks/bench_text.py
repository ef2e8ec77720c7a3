"""Measure the text cues (text.gibberish, details.watermark, semantics.function) on the dev set.

    python benchmarks/bench_text.py                      # real photos + AI images with text, asis and web
    python benchmarks/bench_text.py --real-limit 100     # a quick look on a random subsample of real photos
    python benchmarks/bench_text.py --ocr-cache /tmp/ocr # reuse OCR between runs while fitting thresholds

Reports, per condition (asis = as published; web = long side <= 1024, JPEG q80):
* the share of real photos where each text cue gives generated-evidence (target <= 2%),
  with the files and what was read, so each false alarm can be looked at;
* the share of AI images listed in benchmarks/ai_with_text.txt (images that show
  text, marked by looking at them) where text.gibberish gives generated-evidence;
* time for OCR plus the three cues per image, apart for images with text (the gate
  found some) and without, after one warm-up image (loading models and word
  lists is a one-time cost per process, reported apart).

The dev data is read from --data (default ../shared/data/dev) and never copied.
"""

from __future__ import annotations

import argparse
import csv
import pickle
import random
import statistics
import time
from collections import defaultdict
from pathlib import Path

from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.evaluate.conditions import apply
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import all_cues, get

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "dev"
CUES = ("text.gibberish", "details.watermark", "semantics.function")


def manifest(data: Path) -> list[dict[str, str]]:
    with open(data / "manifest.tsv", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def ai_with_text() -> list[str]:
    path = ROOT / "benchmarks" / "ai_with_text.txt"
    return [ln.split("#")[0].strip() for ln in path.read_text().splitlines() if ln.split("#")[0].strip()]


def run_one(data: bytes, cache: dict | None, key: tuple[str, str]) -> dict:
    a = Analysis(load_image(data))
    a.get("gray")  # shared pixel planes every cue family uses: not the text cues' cost
    live = cache is None or key not in cache
    if not live:
        a._cache["ocr"], a.timings["ocr"] = cache[key]
    c0 = time.process_time()
    lines = a.get("ocr")
    c1 = time.process_time()
    ocr_s = a.timings["ocr"]
    if cache is not None:
        cache[key] = (lines, ocr_s)
    out = {"text": [ln.text for ln in lines], "ocr_s": ocr_s, "cue_s": 0.0, "live": live}
    for cid in CUES:
        f, _ = run_cue(get(cid), a)
        out[cid] = (str(f.status), f.reason)
        out["cue_s"] += f.seconds  # OCR is already computed above, so this is the cue's own time
    out["cpu_s"] = time.process_time() - c0 - (0.0 if live else c1 - c0)  # all threads' CPU time
    return out


def warm_up() -> float:
    """Load the OCR models and word lists once, so per-image times are what a scan pays."""
    import io

    from PIL import Image as PILImage
    from PIL import ImageDraw

    im = PILImage.new("RGB", (400, 120), "white")
    ImageDraw.Draw(im).text((10, 40), "WARM UP XQLWEMBRZ", fill="black", font_size=36)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    t0 = time.perf_counter()
    run_one(buf.getvalue(), None, ("", ""))
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--conditions", default="asis,web")
    ap.add_argument("--real-limit", type=int, default=0, help="random subsample of real photos (0 = all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ocr-cache", default="", help="pickle file to keep OCR results in between runs")
    args = ap.parse_args()
    all_cues()  # load every provider and cue
    data = Path(args.data)
    rows = manifest(data)
    real = [r["file"] for r in rows if r["label"] == "real"]
    if args.real_limit:
        real = sorted(random.Random(args.seed).sample(real, min(args.real_limit, len(real))))
    ai = ai_with_text()
    cache_path = Path(args.ocr_cache) if args.ocr_cache else None
    cache = pickle.loads(cache_path.read_bytes()) if cache_path and cache_path.exists() else ({} if cache_path else None)
    print(f"warm-up (models and word lists, once per process): {warm_up():.2f} s")

    results: dict[tuple[str, str], dict] = {}
    for cond in args.conditions.split(","):
        for f in real + ai:
            results[(f, cond)] = run_one(apply(cond, (data / f).read_bytes()), cache, (f, cond))
    if cache_path:
        cache_path.write_bytes(pickle.dumps(cache))

    for cond in args.conditions.split(","):
        print(f"\n== condition {cond} ==")
        rr = [results[(f, cond)] for f in real]
        with_text = sum(1 for r in rr if r["text"])
        print(f"real photos: {len(rr)}, with text found: {with_text}")
        for cid in CUES:
            hits = [(f, results[(f, cond)]) for f in real if results[(f, cond)][cid][0] == str(Status.GENERATED)]
            print(f"  {cid:20s} false generated-evidence {len(hits)}/{len(rr)} = {len(hits) / max(1, len(rr)):.1%}")
            for f, r in hits:
                print(f"      {f}: {r[cid][1][:160]}")
        ar = [results[(f, cond)] for f in ai]
        statuses = defaultdict(int)
        for r in ar:
            statuses[r["text.gibberish"][0]] += 1
        hit = statuses[str(Status.GENERATED)]
        print(f"AI images with text (benchmarks/ai_with_text.txt): {len(ar)}; text.gibberish generated-evidence "
              f"{hit}/{len(ar)} = {hit / max(1, len(ar)):.1%}; statuses {dict(statuses)}")
        groups: dict[str, list[bool]] = defaultdict(list)
        for f in ai:
            groups["2022 generators" if "dcsan_imagen_2022" in f else "2025 generators"].append(
                results[(f, cond)]["text.gibberish"][0] == str(Status.GENERATED))
        for g, hits in sorted(groups.items()):
            print(f"  {g}: {sum(hits)}/{len(hits)} = {sum(hits) / len(hits):.1%}")
        for f in ai:
            r = results[(f, cond)]
            if r["text.gibberish"][0] == str(Status.GENERATED):
                print(f"      hit {f}: {r['text.gibberish'][1][:140]}")
        for cid in CUES[1:]:
            n = sum(1 for r in ar if r[cid][0] == str(Status.GENERATED))
            print(f"  {cid}: generated-evidence on {n}/{len(ar)}")
        both = [r for r in rr + ar if r["live"]]  # times only where OCR ran in this process
        if both:
            for name, has in (("with text", True), ("without text", False)):
                for what, ts in (("wall", [r["ocr_s"] + r["cue_s"] for r in both if bool(r["text"]) == has]),
                                 ("CPU (all threads)", [r["cpu_s"] for r in both if bool(r["text"]) == has])):
                    if ts:
                        q = statistics.quantiles(ts, n=10) if len(ts) > 1 else ts * 9
                        print(f"  {what} time OCR + text cues, {name}: n={len(ts)} "
                              f"median {statistics.median(ts) * 1000:.0f} ms, p90 {q[-1] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
