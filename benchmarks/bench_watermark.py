"""Measure the provenance.watermark cue (and count C2PA manifests).

python benchmarks/bench_watermark.py robustness [--images N] [--dev N] [--fixed-only]
    Embed each known watermark with imwatermark's own encoder (the copy in
    tests/reference) in N synthetic photo-like pictures and in real dev photos if given
    --dev, then re-read it after JPEG quality 95/90/80/70 and resizing
    0.9x/0.75x/0.5x. Prints the detection rate per condition. --fixed-only reads
    with the package's own fixed threshold alone, for comparison.

python benchmarks/bench_watermark.py dev [--web] [--limit N]
    Run provenance.watermark and provenance.c2pa on the labelled dev set
    (/work/shared/data/dev, never copied into the repo): files flagged per
    generator, real photos flagged, manifests found, time per image.
    --web first degrades every file (long side <= 1024, JPEG quality 80).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.cues.provenance import watermark as W
from telltales.example import picture
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import get

DEV = Path("/work/shared/data/dev")


def manifest() -> list[dict[str, str]]:
    with open(DEV / "manifest.tsv", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def load_encoder():
    """imwatermark's EmbedMaxDct (maxDct.py of invisible-watermark 0.2.0, kept in tests/reference)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from reference.imwatermark_maxdct import EmbedMaxDct

    return EmbedMaxDct


def embed(rgb: np.ndarray, mark: W.Mark, style: str) -> np.ndarray:
    """Embed as the reference code does: 'scripts' (uint8 BGR), 'sgm' (float BGR), 'diffusers' (float RGB)."""
    enc = load_encoder()(list(mark.bits), wmLen=len(mark.bits))
    if style == "scripts":
        return np.ascontiguousarray(enc.encode(rgb[..., ::-1].copy())[..., ::-1])
    if style == "sgm":
        out = enc.encode(rgb[..., ::-1].astype(np.float32))[..., ::-1]
    else:
        out = enc.encode(rgb.astype(np.float32))
    return np.ascontiguousarray(np.clip(np.round(out), 0, 255).astype(np.uint8))


STYLE = {
    "Stable Diffusion 1.x": "scripts",
    "Stable Diffusion 1.x inpainting": "scripts",
    "Stable Diffusion 2.x": "scripts",
    "Stable Diffusion XL": "diffusers",
    "FLUX.1 (Black Forest Labs reference code)": "sgm",
}


def degrade(rgb: np.ndarray, condition: str) -> np.ndarray:
    pil = PILImage.fromarray(rgb)
    if condition.startswith("jpeg"):
        buf = io.BytesIO()
        pil.save(buf, "JPEG", quality=int(condition[4:]))
        return np.asarray(PILImage.open(buf).convert("RGB"))
    if condition.startswith("resize"):
        f = float(condition[6:])
        size = (round(pil.width * f), round(pil.height * f))
        return np.asarray(pil.resize(size, PILImage.Resampling.LANCZOS))
    return rgb


CONDITIONS = (
    "none",
    "jpeg95",
    "jpeg90",
    "jpeg80",
    "jpeg70",
    "resize0.9",
    "resize0.75",
    "resize0.5",
)


def detected(rgb: np.ndarray, mark: W.Mark) -> bool:
    h, w = rgb.shape[:2]
    if h * w < W.MIN_PIXELS:
        return False
    best = W.best_matches(rgb)[0]
    return best.mark == mark and best.fraction >= W.MATCH and best.chance < W.CHANCE_LIMIT


def robustness(n_images: int, dev_real: int) -> None:
    hosts = [np.asarray(picture(768, 768, seed=s)) for s in range(n_images)]
    if dev_real:
        rows = [r for r in manifest() if r["label"] == "real"]
        for r in rows[:: max(1, len(rows) // dev_real)][:dev_real]:
            pil = PILImage.open(DEV / r["file"]).convert("RGB")
            pil.thumbnail((1024, 1024))
            if pil.width * pil.height >= W.MIN_PIXELS:
                hosts.append(np.asarray(pil))
    hits: dict[tuple[str, str], int] = Counter()
    for host in hosts:
        for mark in W.KNOWN_MARKS:
            marked = embed(host, mark, STYLE[mark.generator])
            for cond in CONDITIONS:
                hits[mark.generator, cond] += detected(degrade(marked, cond), mark)
    print(
        f"{len(hosts)} host images ({n_images} synthetic, {len(hosts) - n_images} real dev photos)"
    )
    print("| watermark | " + " | ".join(CONDITIONS) + " |")
    print("|---" * (len(CONDITIONS) + 1) + "|")
    for mark in W.KNOWN_MARKS:
        cells = [f"{hits[mark.generator, c]}/{len(hosts)}" for c in CONDITIONS]
        print(f"| {mark.generator} | " + " | ".join(cells) + " |")


def web_copy(data: bytes) -> bytes:
    pil = PILImage.open(io.BytesIO(data)).convert("RGB")
    pil.thumbnail((1024, 1024))
    buf = io.BytesIO()
    pil.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def dev(web: bool, limit: int | None) -> None:
    rows = manifest()[:limit]
    cues = {name: get(name) for name in ("provenance.watermark", "provenance.c2pa")}
    flagged: dict[str, Counter] = defaultdict(Counter)
    seconds: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        data = (DEV / r["file"]).read_bytes()
        if web:
            data = web_copy(data)
        image = load_image(data)
        group = "real" if r["label"] == "real" else r["generator"]
        for name, c in cues.items():
            analysis = Analysis(image)
            t0 = time.perf_counter()
            f, _ = run_cue(c, analysis)
            seconds[name].append(time.perf_counter() - t0)
            flagged[name][group, str(f.status)] += 1
            flagged[name][group, "files"] += 1 if name == "provenance.watermark" else 0
            if f.status in (Status.GENERATED, Status.REAL) or f.status == Status.ERROR:
                print(
                    f"{name}\t{r['label']}\t{r['file']}\t{f.status}\t{f.strength}\t{f.reason[:120]}"
                )
            elif name == "provenance.c2pa" and f.status != Status.NOT_APPLICABLE:
                print(f"{name}\t{r['label']}\t{r['file']}\t{f.status}\t{f.reason[:120]}")
    print(f"\ncondition: {'web-degraded (long side <= 1024, JPEG q80)' if web else 'as published'}")
    for name in cues:
        t = np.array(seconds[name]) * 1000
        print(
            f"{name}: {len(t)} files, median {np.median(t):.1f} ms, mean {t.mean():.1f} ms, max {t.max():.0f} ms"
        )
        groups = sorted({g for g, _ in flagged[name]})
        for g in groups:
            counts = {
                s: flagged[name][g, s]
                for s in ("generated-evidence", "real-evidence", "clear", "not-applicable", "error")
            }
            total = sum(counts.values())
            if (
                counts["generated-evidence"]
                or counts["real-evidence"]
                or g == "real"
                or counts["error"]
            ):
                print(f"  {g[:60]:60s} {total:4d} files: {counts}")
        total_gen = sum(v for (g, s), v in flagged[name].items() if s == "generated-evidence")
        print(f"  all generated-evidence: {total_gen}")


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    rb = sub.add_parser("robustness")
    rb.add_argument("--images", type=int, default=4)
    rb.add_argument("--dev", type=int, default=0, help="also use N real dev photos as hosts")
    rb.add_argument(
        "--fixed-only",
        action="store_true",
        help="read bits only with imwatermark's own fixed threshold (no adaptive threshold)",
    )
    dv = sub.add_parser("dev")
    dv.add_argument("--web", action="store_true")
    dv.add_argument("--limit", type=int, default=None)
    args = p.parse_args(argv)
    if args.cmd == "robustness":
        if args.fixed_only:
            W.THRESHOLDS = ("fixed",)
            W.N_TESTS = len(W.KNOWN_MARKS) * len(W.READINGS)
        robustness(args.images, args.dev)
    else:
        dev(args.web, args.limit)


if __name__ == "__main__":
    main(sys.argv[1:])
