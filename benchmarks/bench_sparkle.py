"""How often Gemini's sparkle is found, and on what else its closest matches fall, per part and condition.

    python benchmarks/bench_sparkle.py --data all.tsv [--conditions asis,web,thumbnail] [--jobs 2]

``--data`` is a manifest over dev + train + train2 (``training/all_manifest.py``).
Every image is put through each condition (``telltales.evaluate.conditions``) and
the sparkle search of ``provenance.visible-mark`` is run on the picture the cue
reads (``Analysis.rgb``), without OCR or the rest of the cue. Prints, per part
(fit / locked, ``telltales.evaluate.families``), group (Gemini, other generators,
real photos) and condition, how many images the search accepts, and the closest
matches on images that are not Gemini's (correlation, gain, round-blob
correlation), so the thresholds in the cue can be judged against what nearly
passed. Nothing is tuned here: the thresholds are fixed in the cue.
"""

from __future__ import annotations

import argparse
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def read(job: tuple[str, str]) -> tuple[str, str, tuple[float, float, float] | None, bool, str]:
    from telltales.analyses.pixels import luma
    from telltales.analysis import Analysis
    from telltales.cues.provenance import visible_mark as vm
    from telltales.evaluate import conditions
    from telltales.image import load_image
    from telltales.registry import get

    get("provenance.visible-mark")  # registers the inputs the cue reads
    path, condition = job
    try:
        rgb = Analysis(load_image(conditions.apply(condition, Path(path).read_bytes()))).rgb
        m = vm.find_sparkle(luma(rgb))
    except Exception as exc:  # a file this cannot read is counted and named, not fatal
        return path, condition, None, False, f"{type(exc).__name__}: {exc}"
    scores = (m.correlation, m.gain, m.round_correlation) if m else None
    return path, condition, scores, bool(m and vm.is_sparkle(m)), ""


def shortfall(corr: float, gain: float, round_corr: float) -> float:
    """How far a match is from passing every threshold of the cue (0: it passes)."""
    from telltales.cues.provenance import visible_mark as vm

    return max(0.0, vm.SPARKLE_MIN_CORRELATION - corr, vm.SPARKLE_SHAPE_MARGIN - (corr - round_corr),
               vm.SPARKLE_GAIN[0] - gain, gain - vm.SPARKLE_GAIN[1])


def main(argv: list[str] | None = None) -> int:
    from telltales.evaluate import families, manifest

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="manifest (training/all_manifest.py)")
    ap.add_argument("--conditions", default="asis,web,thumbnail")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--closest", type=int, default=8, help="how many of the closest non-Gemini matches to list")
    args = ap.parse_args(argv)
    items = {it.path: it for it in manifest.load(args.data).items}
    jobs = [(p, c) for p in items for c in args.conditions.split(",")]
    seen, found, errors, closest = Counter(), Counter(), [], []
    with ProcessPoolExecutor(args.jobs) as pool:
        for path, condition, scores, hit, error in pool.map(read, jobs, chunksize=8):
            it = items[path]
            part = "locked" if families.is_locked(it.family) else "fit"
            group = "gemini" if it.family == "gemini" else ("generated, other" if it.label == 1 else "real")
            key = (part, group, condition)
            seen[key] += 1
            found[key] += hit
            if error:
                errors.append(f"{it.file} ({condition}): {error}")
            elif group != "gemini" and scores:
                closest.append((scores, hit, part, condition, it.file))
    print(f"{'part':7s} {'group':17s} {'condition':10s} {'found':>12s}")
    for key in sorted(seen):
        print(f"{key[0]:7s} {key[1]:17s} {key[2]:10s} {found[key]:5d} / {seen[key]:5d}")
    print("\nclosest to passing on images that are not Gemini's: how far from every threshold, "
          "correlation, gain, round-blob correlation")
    for (corr, gain, rnd), hit, part, condition, file in sorted(closest, key=lambda c: shortfall(*c[0]))[:args.closest]:
        print(f"  {shortfall(corr, gain, rnd):.3f}  {corr:.3f} {gain:4.2f} {rnd:.3f} {'FOUND' if hit else '     '} "
              f"{part:6s} {condition:9s} {file}")
    for e in errors:
        print("could not read:", e)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
