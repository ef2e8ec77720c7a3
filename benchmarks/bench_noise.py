"""Measure the text_noise pixel cues (noise.spectrum, noise.residual, noise.jpeg, details.texture).

For a stratified subsample of the dev set, runs each cue on the file as
published ("asis") and on a web-degraded copy ("web": long side <= 1024,
JPEG quality 80, for both classes alike) and reports per cue and condition:
AUC of the signed score, false generated-evidence on real photos, hit rate
on AI images, per-family hit rates, and the AUC / real 98th percentile of
the raw statistics the thresholds are set on. Also times each cue on a
12 MP JPEG.

    python benchmarks/bench_noise.py --data ../shared/data/dev --per-family 25 --real 200
    python benchmarks/bench_noise.py --summary /tmp/bench_noise.jsonl   # re-summarise saved rows
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.image import load_image
from telltales.registry import get

CUES = ("noise.spectrum", "noise.residual", "noise.jpeg", "details.texture")
STATS = {
    "noise.spectrum": ("max_lattice_db", "max_half_db", "max_off_lattice_db", "decay_slope"),
    "noise.residual": ("npr_log_ratio", "cfa_log_ratio", "noise_floor", "noise_slope"),
    "noise.jpeg": ("ijg_quality", "double_quantisation", "grid_strength"),
    "details.texture": ("smooth_share", "median_grain", "median_grain_to_shading"),
}


def family(row: dict) -> str:
    parts = row["file"].split("/")
    if row["label"] == "real":
        return "real/" + parts[1] + ("/" + parts[2] if parts[1] == "c2" else "")
    if parts[1] == "dcsan_imagen_2022":
        return row["generator"].split("(")[0].strip().strip('"')
    return parts[1] + ("/" + parts[2] if parts[1] == "c2" else "")


def web_degrade(data: bytes) -> bytes:
    im = PILImage.open(io.BytesIO(data))
    im = im.convert("RGB")
    w, h = im.size
    s = 1024 / max(w, h)
    if s < 1:
        im = im.resize((max(1, round(w * s)), max(1, round(h * s))), PILImage.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def sample(manifest: Path, per_family: int, n_real: int, seed: int) -> list[dict]:
    rows = list(csv.DictReader(manifest.open(), delimiter="\t"))
    rng = random.Random(seed)
    by_fam: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_fam[family(r)].append(r)
    out = []
    reals = [r for r in rows if r["label"] == "real"]
    # real: proportional over families, n_real in all
    for fam, rs in sorted(by_fam.items()):
        rng.shuffle(rs)
        k = max(1, round(n_real * len(rs) / len(reals))) if fam.startswith("real") else per_family
        out += rs[:k]
    return out


def run(rows: list[dict], data: Path, out: Path) -> None:
    cues = [get(c) for c in CUES]
    with out.open("w") as f:
        for i, r in enumerate(rows):
            raw = (data / r["file"]).read_bytes()
            for cond, payload in (("asis", raw), ("web", None)):
                try:
                    if payload is None:
                        payload = web_degrade(raw)
                    image = load_image(payload)
                except Exception as exc:  # noqa: BLE001
                    print("skip", r["file"], exc)
                    continue
                a = Analysis(image)
                for c in cues:
                    fnd, _ = run_cue(c, a)
                    rec = {
                        "file": r["file"],
                        "label": r["label"],
                        "family": family(r),
                        "cond": cond,
                        "cue": c.id,
                        "status": str(fnd.status),
                        "score": fnd.score,
                        "stats": {k: fnd.details.get(k) for k in STATS[c.id]},
                    }
                    f.write(json.dumps(rec) + "\n")
            if i % 25 == 0:
                print(f"{i}/{len(rows)}", flush=True)


def auc(pos: list[float], neg: list[float]) -> float | None:
    if not pos or not neg:
        return None
    x = np.array(pos + neg)
    ranks = np.argsort(np.argsort(x, kind="mergesort"), kind="mergesort").astype(float)
    # average ranks for ties
    for v in np.unique(x):
        m = x == v
        ranks[m] = ranks[m].mean()
    rp = ranks[: len(pos)].sum()
    return float((rp - len(pos) * (len(pos) - 1) / 2) / (len(pos) * len(neg)))


def summarise(path: Path) -> None:
    recs = [json.loads(line) for line in path.open()]
    for cue in CUES:
        print(f"\n=== {cue}")
        for cond in ("asis", "web"):
            rs = [r for r in recs if r["cue"] == cue and r["cond"] == cond]
            ai = [r for r in rs if r["label"] == "ai"]
            real = [r for r in rs if r["label"] == "real"]
            gen = "generated-evidence"
            fp = sum(r["status"] == gen for r in real) / max(1, len(real))
            hit = sum(r["status"] == gen for r in ai) / max(1, len(ai))
            realev_ai = sum(r["status"] == "real-evidence" for r in ai) / max(1, len(ai))
            realev_real = sum(r["status"] == "real-evidence" for r in real) / max(1, len(real))
            na = sum(r["score"] is None for r in rs) / max(1, len(rs))
            a = auc(
                [r["score"] for r in ai if r["score"] is not None],
                [r["score"] for r in real if r["score"] is not None],
            )
            print(
                f"[{cond}] n_ai={len(ai)} n_real={len(real)} AUC(signed score)={a if a is None else round(a, 3)} "
                f"false-gen-on-real={fp:.3f} hit-on-ai={hit:.3f} real-ev: real={realev_real:.3f} "
                f"ai={realev_ai:.3f} n/a={na:.2f}"
            )
            fams = defaultdict(list)
            for r in ai:
                fams[r["family"]].append(r["status"] == gen)
            print(
                "   hits per AI family: "
                + ", ".join(f"{k}={np.mean(v):.2f}(n={len(v)})" for k, v in sorted(fams.items()))
            )
            for st in STATS[cue]:
                pa = [r["stats"][st] for r in ai if isinstance(r["stats"].get(st), int | float)]
                pr = [r["stats"][st] for r in real if isinstance(r["stats"].get(st), int | float)]
                if not pa or not pr:
                    continue
                au = auc(pa, pr)
                q = np.percentile(pr, [2, 50, 98])
                qa = np.percentile(pa, [2, 50, 98])
                print(
                    f"   {st}: AUC={au:.3f} real p2/p50/p98={q.round(3).tolist()} "
                    f"ai p2/p50/p98={qa.round(3).tolist()} (n={len(pa)}/{len(pr)})"
                )


def timing(data: Path | None) -> None:
    """Seconds per cue on a 12 MP JPEG (providers timed separately)."""
    from telltales.example import picture

    rng = np.random.default_rng(0)
    px = np.asarray(picture(4000, 3000)).astype(np.int16) + rng.normal(
        0, 3, (3000, 4000, 3)
    ).astype(np.int16)
    buf = io.BytesIO()
    PILImage.fromarray(np.clip(px, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=90)
    image = load_image(buf.getvalue())
    for c in CUES:
        runs = []
        for _ in range(3):
            a = Analysis(image)
            for need in get(c).needs:
                a.get(need)
            t0 = time.perf_counter()
            get(c).func(a)
            runs.append(time.perf_counter() - t0)
        print(
            f"time {c}: {min(runs) * 1000:.0f} ms (best of 3, 4000x3000 JPEG, inputs precomputed: "
            f"{', '.join(f'{k}={v * 1000:.0f}ms' for k, v in a.timings.items())})"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/dev"))
    ap.add_argument("--per-family", type=int, default=25)
    ap.add_argument("--real", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench_noise.jsonl"))
    ap.add_argument("--summary", type=Path, help="only summarise saved rows")
    ap.add_argument("--timing", action="store_true", help="only time the cues on a 12 MP JPEG")
    args = ap.parse_args()
    if args.timing:
        timing(args.data)
        return
    if args.summary:
        summarise(args.summary)
        return
    rows = sample(args.data / "manifest.tsv", args.per_family, args.real, args.seed)
    print(f"{len(rows)} images ({sum(r['label'] == 'real' for r in rows)} real)")
    run(rows, args.data, args.out)
    summarise(args.out)


if __name__ == "__main__":
    main()
