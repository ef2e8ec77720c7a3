"""Count one cue's generated evidence per part, label, family and condition, from a fit's cache.

    python benchmarks/tally_findings.py --data all.tsv --work FUSION_WORK [--cue provenance.visible-mark]

``training/fit_fusion.py`` caches every finding of every image and condition in
its ``--work`` folder (``telltales.evaluate.runner``); this reads that cache (and
computes what is missing) and prints, for the cue, how many images of each part
(fit / locked), label and condition it found generated evidence on, split by
what the finding names (``details.marks[].tool`` for visible marks, else
``details.tool``), per AI family, and every real photo it flagged.
"""

from __future__ import annotations

import argparse
from collections import Counter

from telltales.evaluate import families, manifest, runner


def named(finding: dict) -> str:
    d = finding.get("details") or {}
    marks = d.get("marks") or []
    return " + ".join(sorted({m["tool"] for m in marks})) or str(d.get("tool", "?"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--cue", default="provenance.visible-mark")
    ap.add_argument("--conditions", default="asis,web,thumbnail")
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args(argv)
    ds = manifest.load(args.data)
    records, _ = runner.run(ds.items, args.work, conditions=tuple(args.conditions.split(",")),
                            cues=[args.cue], jobs=args.jobs, progress=False)
    totals, hits, by_family, real = Counter(), Counter(), Counter(), []
    for r in records:
        part = "locked" if families.is_locked(r["family"]) else "fit"
        label = "generated" if r["label"] else "real"
        totals[part, label, r["condition"]] += 1
        for f in r.get("findings", []):
            if f["cue"] == args.cue and f["status"] == "generated-evidence":
                hits[part, label, r["condition"], named(f)] += 1
                if r["label"]:
                    by_family[part, r["family"], r["condition"], named(f)] += 1
                else:
                    real.append((part, r["condition"], r["file"], named(f)))
    print(f"{args.cue}: generated evidence")
    for (part, label, cond), n in sorted(totals.items()):
        found = {k[3]: v for k, v in hits.items() if k[:3] == (part, label, cond)}
        print(f"  {part:6s} {label:9s} {cond:9s} {sum(found.values()):5d} of {n:5d}  {found or ''}")
    print("per generated family:")
    for (part, fam, cond, what), n in sorted(by_family.items()):
        size = sum(1 for r in records if r["family"] == fam and r["condition"] == cond)
        print(f"  {part:6s} {fam:24s} {cond:9s} {n:4d} of {size:4d}  {what}")
    print(f"real photos flagged: {len(real)}")
    for row in real:
        print("  ", *row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
