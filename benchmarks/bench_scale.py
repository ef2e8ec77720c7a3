"""Speed and memory at scale, in one table: per-size inspect times, where the time goes, scan throughput.

    python benchmarks/bench_scale.py [--sizes 1,4,12] [--runs 7] [--n 200] [--ray]

1. ``inspect`` (full profile) on synthetic JPEGs of each size (a fresh picture per
   run, after one warm-up): median and p95 seconds, peak RSS of that process.
2. Where the time goes in the full profile: mean seconds per cue over those runs
   (a cue's time includes the shared inputs it was first to need).
3. ``scan`` on ``--n`` 1 MP JPEGs: ``--jobs 1``, ``--jobs 2``, ``--profile triage
   --jobs 2`` and, with ``--ray``, Ray on a local cluster of 2 CPUs; images per
   second and the peak RSS of the scan (its workers included).

The machine's load average is printed before and after: numbers from a busy
machine are not numbers of telltales.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

INSPECT = r"""
import io, json, resource, sys, time
import numpy as np
import telltales
from telltales.example import picture
mp, runs = float(sys.argv[1]), int(sys.argv[2])
w = int(round((mp * 1e6 * 4 / 3) ** 0.5)); h = int(round(w * 3 / 4))
def jpeg(seed):
    buf = io.BytesIO(); picture(w, h, seed=seed).save(buf, "JPEG", quality=90); return buf.getvalue()
telltales.inspect(jpeg(999))
times, per_cue = [], {}
for i in range(runs):
    data = jpeg(i)
    t = time.perf_counter(); r = telltales.inspect(data); times.append(time.perf_counter() - t)
    for f in r.findings:
        per_cue.setdefault(f.cue, []).append(f.seconds)
print(json.dumps({"times": times, "per_cue": {k: float(np.mean(v)) for k, v in per_cue.items()},
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def inspect_sizes(sizes: list[float], runs: int) -> dict[float, dict]:
    out = {}
    for mp in sizes:
        done = subprocess.run([sys.executable, "-c", INSPECT, str(mp), str(runs)], capture_output=True,
                              text=True, check=True)
        out[mp] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def make_folder(n: int, folder: Path) -> None:
    from telltales.example import picture

    for i in range(n):
        buf = io.BytesIO()
        picture(1155, 866, seed=i).save(buf, "JPEG", quality=90)
        (folder / f"{i:05d}.jpg").write_bytes(buf.getvalue())


WRAP = r"""
import resource, subprocess, sys, time
t = time.perf_counter()
subprocess.run(sys.argv[1:], check=False, capture_output=True)
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def timed_scan(folder: Path, args: list[str]) -> tuple[float, float]:
    """Images per second and peak RSS (MB, of the largest process of this scan's tree)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.jsonl"
        cmd = [sys.executable, "-m", "telltales", "scan", str(folder), "--out", str(out), "--quiet", *args]
        done = subprocess.run([sys.executable, "-c", WRAP, *cmd], capture_output=True, text=True, check=True)
        dt, peak = map(float, done.stdout.split())
        n = sum(1 for _ in out.open()) if out.exists() else 0
    return n / dt, peak


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1,4,12")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--n", type=int, default=200, help="images for the scan comparison")
    ap.add_argument("--ray", action="store_true", help="also scan on a local Ray with 2 CPUs")
    ap.add_argument("--skip-inspect", action="store_true")
    args = ap.parse_args(argv)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    if not args.skip_inspect:
        res = inspect_sizes([float(s) for s in args.sizes.split(",")], args.runs)
        print("\ninspect, full profile (seconds)")
        print(f"{'MP':>4s} {'median':>7s} {'p95':>6s} {'peak RSS MB':>12s}")
        for mp, r in res.items():
            t = sorted(r["times"])
            p95 = t[min(len(t) - 1, int(round(0.95 * (len(t) - 1))))]
            print(f"{mp:4.0f} {statistics.median(t):7.2f} {p95:6.2f} {r['peak_rss_mb']:12.0f}")
        print("\nwhere the time goes (mean seconds per cue, full profile)")
        cues = sorted(next(iter(res.values()))["per_cue"], key=lambda c: -max(r["per_cue"][c] for r in res.values()))
        print(f"{'cue':34s} " + " ".join(f"{mp:>6.0f}MP" for mp in res))
        for c in cues:
            print(f"{c:34s} " + " ".join(f"{res[mp]['per_cue'][c]:8.3f}" for mp in res))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "imgs"
        folder.mkdir()
        make_folder(args.n, folder)
        runs = [("--jobs 1", ["--jobs", "1"]), ("--jobs 2", ["--jobs", "2"]),
                ("--profile triage --jobs 2", ["--profile", "triage", "--jobs", "2"])]
        if args.ray:
            runs.append(("--ray (local, 2 CPUs)", ["--ray", "local", "--jobs", "2"]))
        print(f"\nscan of {args.n} 1 MP JPEGs")
        print(f"{'run':28s} {'images/s':>9s} {'peak RSS MB':>12s}")
        for name, extra in runs:
            ips, peak = timed_scan(folder, extra)
            print(f"{name:28s} {ips:9.2f} {peak:12.0f}")
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
