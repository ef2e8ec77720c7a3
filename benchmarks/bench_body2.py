"""Measure body.limbs, body.teeth, body.face-symmetry (and body.skin-hair if registered) on dev images of people.

    python benchmarks/bench_body2.py --data ../shared/data/dev --out /tmp/body2.jsonl [--cache /tmp/b2cache] [--limit N]
    python benchmarks/bench_body2.py --summary /tmp/body2.jsonl

Same image selection and conditions as bench_body.py (real photos with people
plus COCO, AI images with people; "asis" and "web": long side <= 1024, JPEG
q80). ``--cache DIR`` keeps the landmark providers' output (faces, hands,
pose) per image and condition as pickles, so that re-measuring after a change
to a cue does not re-run mediapipe. One JSON line per image and condition with
each cue's status, strength, reason, details and seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_body import gen, judged, select, web_copy  # noqa: E402

CUES = ("body.limbs", "body.teeth", "body.face-symmetry", "body.skin-hair")
LANDMARKS = ("faces", "hands", "pose")


def analysis_for(blob: bytes, cache: Path | None, key: str):
    from telltales.analysis import Analysis
    from telltales.image import load_image

    a = Analysis(load_image(blob))
    if cache is not None:
        p = cache / (hashlib.md5(key.encode()).hexdigest() + ".pkl")
        if p.exists():
            with open(p, "rb") as fh:
                d = pickle.load(fh)
            for k in LANDMARKS:
                a._cache[k] = d[k]
        else:
            d = {k: a.get(k) for k in LANDMARKS}
            d["t"] = {k: a.timings.get(k) for k in LANDMARKS}
            with open(p, "wb") as fh:
                pickle.dump(d, fh)
    return a


def measure(data: Path, out: Path, limit: int | None, cache: Path | None) -> None:
    from telltales.api import run_cue
    from telltales.registry import all_cues

    cues = [c for c in all_cues() if c.id in CUES]
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    with open(out, "w") as fh:
        for file, label, group in select(data, limit):
            raw = (data / file).read_bytes()
            for cond, blob in (("asis", raw), ("web", web_copy(raw))):
                a = analysis_for(blob, cache, f"{file}|{cond}")
                rec = {"file": file, "label": label, "group": group, "cond": cond, "cues": {}}
                for c in cues:
                    f, _ = run_cue(c, a)
                    rec["cues"][c.id] = {"status": str(f.status), "strength": f.strength, "reason": f.reason,
                                         "details": f.details, "seconds": f.seconds}
                fh.write(json.dumps(rec) + "\n")
                fh.flush()
                print(file, cond, {k[5:]: v["status"][:4] for k, v in rec["cues"].items()}, file=sys.stderr)


def summary(path: Path) -> None:
    with open(path) as fh:
        recs = [json.loads(line) for line in fh]
    cue_ids = sorted({k for r in recs for k in r["cues"]})
    print("| cue | cond | real n | real judged | real false-evidence | AI n | AI judged | AI hits | median ms | p90 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for cid in cue_ids:
        for cond in ("asis", "web"):
            rs = [r for r in recs if r["cond"] == cond and cid in r["cues"]]
            real = [r["cues"][cid] for r in rs if r["label"] == "real"]
            ai = [r["cues"][cid] for r in rs if r["label"] == "ai"]
            t = sorted(r["cues"][cid]["seconds"] for r in rs)
            print(f"| {cid} | {cond} | {len(real)} | {judged(real)} | {gen(real)} ({gen(real) / max(1, len(real)):.1%}) "
                  f"| {len(ai)} | {judged(ai)} | {gen(ai)} ({gen(ai) / max(1, len(ai)):.1%}) "
                  f"| {t[len(t) // 2] * 1e3:.0f} | {t[int(len(t) * 0.9)] * 1e3:.0f} |")
    print("\ngenerated-evidence findings:")
    for r in recs:
        for cid, c in r["cues"].items():
            if c["status"] == "generated-evidence":
                print(f"  {r['label']} {r['cond']} {cid} {r['file']}: {c['reason'][:160]}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, default=Path("../shared/data/dev"))
    p.add_argument("--out", type=Path, default=Path("/tmp/body2.jsonl"))
    p.add_argument("--cache", type=Path, default=None)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--summary", type=Path, default=None)
    args = p.parse_args()
    if args.summary:
        summary(args.summary)
    else:
        measure(args.data, args.out, args.limit, args.cache)
        summary(args.out)


if __name__ == "__main__":
    main()
