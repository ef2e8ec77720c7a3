"""Median seconds of `telltales.inspect` on one synthetic 12-megapixel JPEG (after one warm-up).

    python benchmarks/inspect_time.py [--megapixels 12] [--runs 7] [--cues provenance]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

import telltales
from telltales.example import picture


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--megapixels", type=float, default=12.0)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--cues", default=None, help="comma-separated cue ids or prefixes (default: all)")
    args = ap.parse_args()
    w = int(round((args.megapixels * 1e6 * 4 / 3) ** 0.5))
    h = int(round(w * 3 / 4))
    buf = io.BytesIO()
    picture(w, h).save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    cues = args.cues.split(",") if args.cues else None
    telltales.inspect(data, cues=cues)  # warm-up: loads the models
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        telltales.inspect(data, cues=cues)
        times.append(time.perf_counter() - t0)
    print(f"{w}x{h} JPEG ({len(data)} bytes), cues={args.cues or 'all'}: median {statistics.median(times):.3f} s, "
          f"min {min(times):.3f} s, max {max(times):.3f} s over {args.runs} runs")


if __name__ == "__main__":
    main()
