"""Write one manifest over dev + train + train2 (absolute paths), for the training and fit scripts.

    python training/all_manifest.py --out /work/data/all.tsv \\
        ../shared/data/dev/manifest.tsv /work/data/train/manifest.tsv /work/data/train2/manifest.tsv

Each row keeps what ``telltales.evaluate.manifest`` reads: file (made absolute), label,
generator, family, source_repo and group. The family of every image is decided later, by
``telltales.evaluate.families`` alone, so the grouping is the same in every script.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

COLUMNS = ("file", "label", "generator", "family", "source_repo", "group")


def rows(manifest: Path):
    with manifest.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
            path = Path(row["file"])
            row["file"] = str(path if path.is_absolute() else (manifest.parent / path).resolve())
            yield {c: row.get(c, "") for c in COLUMNS}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifests", nargs="+", type=Path)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args(argv)
    seen: set[str] = set()
    n = 0
    with args.out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, delimiter="\t", lineterminator="\n")
        w.writeheader()
        for m in args.manifests:
            for row in rows(m):
                if row["file"] not in seen:
                    seen.add(row["file"])
                    w.writerow(row)
                    n += 1
    print(f"{n} images -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
