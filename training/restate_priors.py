"""Record the registered version of the fusion's prior-weighted cues, without a refit.

    python training/restate_priors.py [--fusion src/telltales/models/fusion.json] [--write]

A cue weighed by a stated prior (``telltales.evaluate.fit.PRIOR_WEIGHTS``: the
generator's visible mark) never enters the fit, so a new version of it changes
no weight, calibration or threshold; it only makes the shipped fusion refuse to
load. This prints what would change and, with ``--write``, writes it
(``telltales.evaluate.fit.restate_prior_versions``). Any other cue whose
version changed still needs the refit (``training/fit_fusion.py``): it is named
and nothing is written. Before writing, check whether the cue's findings on the
locked part changed (for the sparkle: ``benchmarks/bench_sparkle.py`` on the
locked part): the record's locked numbers were scored with the old ones, so if
any changed, measure the locked part again (``training/README.md`` says how).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

from telltales.evaluate import fit
from telltales.fusion import Fusion
from telltales.registry import all_cues

SHIPPED = Path(__file__).resolve().parents[1] / "src/telltales/models/fusion.json"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fusion", type=Path, default=SHIPPED)
    ap.add_argument("--write", action="store_true", help="write the restated fusion back to --fusion")
    args = ap.parse_args(argv)
    versions = {c.id: c.version for c in all_cues()}
    fusion = json.loads(args.fusion.read_text(encoding="utf-8"))
    new = fit.restate_prior_versions(fusion, versions, dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    for r in new["record"].get("restated", [])[len(fusion["record"].get("restated", [])):]:
        print(f"{r['cue']}: {r['from']} -> {r['to']}")
    still = Fusion.from_dict(new).version_mismatches(versions)
    if still:
        print("still fitted on other versions (refit with training/fit_fusion.py):", ", ".join(still))
        return 1
    if args.write and new != fusion:
        args.fusion.write_text(json.dumps(new, indent=1, default=float) + "\n", encoding="utf-8")
        print("wrote", args.fusion)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
