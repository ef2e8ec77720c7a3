"""The benchmarks in one command: accuracy (leave-one-generator-out) and speed/memory.

    python benchmarks/run.py                                   # both, dev set, all four conditions
    python benchmarks/run.py --limit 150 --conditions asis,web # a quick look
    python benchmarks/run.py --fit-fusion --jobs 2             # also fit a fusion on dev (not installed)
    python benchmarks/run.py --only speed --sizes 1,4,12

Accuracy: `telltales eval` on the dev manifest, each image under each
condition, with the fusion fitted on the dev data itself but every generator
family (and real source folder) scored by a fit that never saw it; then the
same images with the currently shipped fusion. Cue results are cached in
--out/cache, so a second run (or one after one cue changed) is cheap.

--fit-fusion also writes a fusion fitted on the dev data to
--out/fitted-fusion.json with its record. It is never installed: the shipped
fusion is fitted by training/fit_fusion.py on out-of-fold detector scores,
with the locked part kept out (a fit here would see noise.clip and
noise.learned in-sample).

Speed: `inspect` with every cue on synthetic photo-like JPEGs (telltales.example.picture)
of 1, 4 and 12 megapixels, each in a fresh process (peak memory = that process's
max RSS; the first image also pays for loading models, reported apart); images
per second of `scan --jobs 2` on 8 one-megapixel images; and how time grows
with image size (the exponent k in seconds ~ megapixels^k). Synthetic pictures
have no faces, hands or text, so cues that need them stop early: time on
real photos of people is higher (see the accuracy table's s/image).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "dev"

SPEED_CHILD = r"""
import io, json, resource, sys, time
from telltales.example import picture
from telltales.api import analyse
from telltales.fusion import Fusion
from telltales.image import load_image
from telltales.registry import select
w, h = int(sys.argv[1]), int(sys.argv[2])
cues = select([c for c in sys.argv[3].split(",") if c] or None)
fus = Fusion.load()
buf = io.BytesIO(); picture(w, h, seed=1).save(buf, "JPEG", quality=90); data = buf.getvalue()
t0 = time.perf_counter(); first = analyse(load_image(data), cues=cues, fusion=fus); cold = time.perf_counter() - t0
buf = io.BytesIO(); picture(w, h, seed=2).save(buf, "JPEG", quality=90); data = buf.getvalue()
t0 = time.perf_counter(); rep = analyse(load_image(data), cues=cues, fusion=fus); warm = time.perf_counter() - t0
print(json.dumps({"cold": cold, "warm": warm, "per_cue": {f.cue: f.seconds for f in rep.findings},
                  "errors": [f.cue for f in rep.findings if f.status == "error"],
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def accuracy(args: argparse.Namespace) -> dict:
    from telltales.evaluate import pipeline
    from telltales.evaluate.summary import table

    manifest = Path(args.data) / "manifest.tsv"
    out = Path(args.out)
    cache = out / "cache"
    conditions = tuple(args.conditions.split(","))
    cues = args.cues.split(",") if args.cues else None
    t0 = time.perf_counter()
    if args.fit_fusion:
        fusion, ev = pipeline.calibrate(
            manifest, out / "fitted-fusion.json", work=cache, conditions=conditions, cues=cues,
            jobs=args.jobs, limit=args.limit, seed=args.seed, name=f"fitted-dev-{time.strftime('%Y%m%d')}",
        )
        print(f"fitted on dev: {out / 'fitted-fusion.json'} (not installed; training/fit_fusion.py fits the shipped one)")
        logo = ev
    else:
        logo = pipeline.evaluate(manifest, out / "logo", cache=cache, conditions=conditions, cues=cues,
                                 logo=True, jobs=args.jobs, limit=args.limit, seed=args.seed)
    print("\n== accuracy: fusion fitted on dev, leave-one-generator-out (generators never seen by the fit) ==")
    print(table(logo.summary))
    shipped = pipeline.evaluate(manifest, out / "shipped", cache=cache, conditions=conditions, cues=cues,
                                jobs=args.jobs, limit=args.limit, seed=args.seed)
    print("\n== accuracy: the shipped fusion as it is now (fitted on this data if it is the dev fit: optimistic) ==")
    print(table(shipped.summary))
    fam = logo.summary["conditions"][conditions[-1]]["per_family"]
    print(f"\n== per family, condition {conditions[-1]}, leave-one-generator-out ==")
    print(f"{'family':<34} {'n':>4} {'AUC vs real':>11} {'called gen':>10} {'called real':>11} {'unsure':>7}")
    for name, d in fam.items():
        auc = d.get("auc_vs_all_real")
        print(f"{name:<34} {d['n']:>4} {f'{auc:.3f}' if auc is not None else '-':>11} "
              f"{d['called_generated']:>10.3f} {d['called_real']:>11.3f} {d['unsure']:>7.3f}")
    print(f"\nreports: {logo.files.get('html')}  {shipped.files.get('html')}")
    print(f"accuracy wall time {time.perf_counter() - t0:.0f} s; computed {logo.counts.get('computed', 0)}, "
          f"cached {logo.counts.get('cached', 0)}")
    return {"logo": logo.summary, "shipped": shipped.summary}


def speed(args: argparse.Namespace) -> dict:
    cues = args.cues or ""
    rows = []
    for mp in [float(s) for s in args.sizes.split(",")]:
        w = int(round(math.sqrt(mp * 1e6 * 4 / 3)))
        h = int(round(w * 3 / 4))
        res = subprocess.run([sys.executable, "-c", SPEED_CHILD, str(w), str(h), cues],
                             capture_output=True, text=True, timeout=1800)
        if res.returncode != 0:
            print(f"{mp} MP: failed: {res.stderr[-500:]}")
            continue
        d = json.loads(res.stdout.strip().splitlines()[-1])
        d.update(mp=mp, size=f"{w}x{h}")
        rows.append(d)
    print("\n== speed: inspect, every cue, synthetic photo-like JPEG q90 ==")
    print(f"{'size':>11} {'MP':>5} {'first s':>8} {'s/image':>8} {'peak MB':>8}")
    for d in rows:
        print(f"{d['size']:>11} {d['mp']:>5.1f} {d['cold']:>8.2f} {d['warm']:>8.2f} {d['max_rss_mb']:>8.0f}")
    if rows:
        cue_ids = list(rows[0]["per_cue"])
        print("\nseconds per cue (warm):")
        print(f"{'cue':<32}" + "".join(f"{d['size']:>11}" for d in rows))
        for c in cue_ids:
            print(f"{c:<32}" + "".join(f"{d['per_cue'].get(c, float('nan')):>11.3f}" for d in rows))
        errs = sorted({c for d in rows for c in d["errors"]})
        if errs:
            print(f"cues that errored: {errs}")
    if len(rows) >= 2:
        import numpy as np

        k = np.polyfit(np.log([d["mp"] for d in rows]), np.log([d["warm"] for d in rows]), 1)[0]
        print(f"time grows as megapixels^{k:.2f} (1 = linear)")
    scan_rate = scan_speed(args)
    print(f"scan --jobs {args.jobs}: {scan_rate:.2f} images/s on 8 one-megapixel JPEGs (including worker start-up)")
    return {"inspect": rows, "scan_images_per_second": scan_rate}


def scan_speed(args: argparse.Namespace) -> float:
    from telltales.example import picture
    from telltales.scan import scan

    with tempfile.TemporaryDirectory() as tmp:
        for i in range(8):
            picture(1155, 866, seed=10 + i).save(Path(tmp) / f"{i}.jpg", "JPEG", quality=90)
        t0 = time.perf_counter()
        scan([tmp], Path(tmp) / "out.jsonl", jobs=args.jobs, cues=args.cues.split(",") if args.cues else None,
             progress=False)
        return 8 / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="folder with manifest.tsv (default ../shared/data/dev)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out"), help="reports and the cue cache")
    ap.add_argument("--conditions", default="asis,stripped,web,thumbnail")
    ap.add_argument("--cues", default=None, help="comma-separated cue ids or prefixes (default: all)")
    ap.add_argument("--limit", type=int, default=None, help="stratified subsample of this many images")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", choices=("accuracy", "speed"), default=None)
    ap.add_argument("--sizes", default="1,4,12", help="megapixels for the speed benchmark")
    ap.add_argument("--fit-fusion", action="store_true",
                    help="also fit a fusion on the dev data into --out/fitted-fusion.json (never installed)")
    args = ap.parse_args()
    results = {}
    if args.only in (None, "accuracy"):
        results["accuracy"] = accuracy(args)
    if args.only in (None, "speed"):
        results["speed"] = speed(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from telltales.evaluate.pipeline import json_safe

    (out / "benchmarks.json").write_text(json.dumps(json_safe(results), indent=1))
    print(f"\nall numbers: {out / 'benchmarks.json'}")


if __name__ == "__main__":
    main()
