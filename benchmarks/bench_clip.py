"""Speed of the noise.clip detector: the backbone per view, and the whole cue per image size.

    python benchmarks/bench_clip.py [--repeat 7] [--threads 2]

Prints, for JPEG photos made here (noise-textured drawings at 1, 4 and 12 MP):
the backbone's time per 224 view, and the median / p95 time of the cue with
all its views (global + 2 native crops) and with the global view alone (the
one-view mode meant for triage). The machine's load average is printed with
the table: numbers from a loaded machine are upper bounds.
"""

from __future__ import annotations

import argparse
import io
import os
import time

import numpy as np
from PIL import Image as PILImage

from telltales import backbone
from telltales.analyses.clip import clip_features
from telltales.cues.text_noise import clip_detector as C


def photo(mp: float, seed: int = 0) -> np.ndarray:
    w = int((mp * 1e6 * 4 / 3) ** 0.5)
    h = int(w * 3 / 4)
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 / w, y * 255 / h, (x + y) * 127 / (w + h) + 60], axis=-1)
    px = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    PILImage.fromarray(px).save(buf, "JPEG", quality=90)
    return np.asarray(PILImage.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(1000 * (time.perf_counter() - t))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    b = backbone.load(args.threads)
    model = C.load_model()
    x = backbone.normalise(np.zeros((1, 224, 224, 3), np.uint8))
    per_view = timed(lambda: b.run(x), args.repeat)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; backbone threads {args.threads}")
    print(f"backbone (blocks 0-{backbone.LAST_BLOCK}) one 224 view: median {np.median(per_view):.0f} ms\n")
    print(f"{'image':>8s} {'views':>6s} {'median ms':>10s} {'p95 ms':>8s}")
    for mp in (1, 4, 12):
        rgb = photo(mp)
        for crops, label in ((2, "3"), (0, "1")):
            def run(rgb=rgb, crops=crops):
                cf = clip_features(rgb, crops)
                C.image_logit(C.view_logits(cf.features, model.spec, model.global_head, model.native_head),
                              model.native_weight)
            t = timed(run, args.repeat)
            print(f"{mp:>6d}MP {label:>6s} {np.median(t):10.0f} {np.percentile(t, 95):8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
