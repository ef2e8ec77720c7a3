"""Fuzz `telltales.inspect` with N mutated small files and count what happened to each.

    python benchmarks/bench_fuzz.py                 # 10,000 cases, the parser-heavy cues
    python benchmarks/bench_fuzz.py -n 2000 --cues all --seed 7

Valid JPEG, PNG, WebP, GIF and TIFF files are made in code and mutated (bit
flips, truncation, inserted and duplicated segments or chunks); each case runs
in a worker process under a time and an address-space limit
(`telltales.fuzz`). Prints the counts of clean reports, error reports, escaped
exceptions, timeouts and crashes, and a few examples of each of the last three.
Exits 1 if any case escaped, timed out or crashed.
"""

from __future__ import annotations

import argparse
import sys

from telltales import fuzz


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=10_000, help="number of cases (default 10000)")
    ap.add_argument("--seed", type=int, default=0, help="the same seed gives the same cases")
    ap.add_argument("--cues", default="default",
                    help=f"'default' ({','.join(fuzz.DEFAULT_CUES)}), 'all', or comma-separated ids")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per case")
    ap.add_argument("--memory-gb", type=float, default=3.0, help="address-space limit per worker")
    ap.add_argument("--batch", type=int, default=1000, help="cases per worker process")
    args = ap.parse_args()
    cues = {"default": fuzz.DEFAULT_CUES, "all": None}.get(args.cues, args.cues.split(","))
    base = fuzz.seeds()
    cases = [fuzz.make_case(i, base, seed=args.seed) for i in range(args.n)]
    result = fuzz.run_cases(
        cases, case_timeout=args.timeout, max_memory=int(args.memory_gb * (1 << 30)), cues=cues,
        batch=args.batch, log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(f"seed {args.seed}, cues {args.cues}: {result.summary()}")
    for outcome in ("escaped", "timeout", "crash"):
        for example in result.examples.get(outcome, []):
            print(f"  {outcome}: {example}")
    return 1 if any(result.counts[o] for o in ("escaped", "timeout", "crash")) else 0


if __name__ == "__main__":
    sys.exit(main())
