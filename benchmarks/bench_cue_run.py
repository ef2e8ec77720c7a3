"""How fast the evaluation runner computes the fusion's cues, with 1 and 2 worker processes.

    python benchmarks/bench_cue_run.py --data all.tsv [--n 40] [--jobs 1,2] [--cues provenance,noise.jpeg]

Takes ``--n`` images of a manifest (a fixed shuffle), runs ``--cues`` on each in
the four conditions with ``telltales.evaluate.runner.run`` (what
``training/fit_fusion.py`` and ``telltales eval`` do) into a fresh cache for
every ``--jobs`` value, and prints records per second and whether the
findings of every run equal the first run's (times left out). Run it on an
otherwise idle machine: it measures the machine as much as the code.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time

from telltales.evaluate import manifest, runner

CONDITIONS = ("asis", "stripped", "web", "thumbnail")


def findings_of(records: list[dict]) -> list[list[dict]]:
    return [[{k: v for k, v in f.items() if k != "seconds"} for f in r["findings"]] for r in records]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="a manifest (training/all_manifest.py) or folder")
    ap.add_argument("--n", type=int, default=40, help="images (times four conditions)")
    ap.add_argument("--jobs", default="1,2", help="worker counts to time, comma-separated")
    ap.add_argument("--cues", default="provenance,noise.jpeg", help="cue ids or categories (the fusion's by default)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    items = list(manifest.load(args.data).items)
    random.Random(args.seed).shuffle(items)
    items = items[: args.n]
    cues = [c for c in args.cues.split(",") if c]
    first = None
    print(f"{len(items)} images x {len(CONDITIONS)} conditions, cues {args.cues}")
    print(f"{'jobs':>4s} {'seconds':>8s} {'records/s':>9s}  same findings")
    for jobs in (int(j) for j in args.jobs.split(",")):
        with tempfile.TemporaryDirectory() as out:
            t = time.perf_counter()
            records, _ = runner.run(items, out, conditions=CONDITIONS, cues=cues, jobs=jobs, progress=False)
            dt = time.perf_counter() - t
        got = findings_of(records)
        first = first if first is not None else got
        print(f"{jobs:4d} {dt:8.1f} {len(records) / dt:9.2f}  {'yes' if got == first else 'NO'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
