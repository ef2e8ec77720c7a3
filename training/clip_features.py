"""Cache CLIP backbone features of labelled images under several conditions (resumable).

    python training/clip_features.py --data MANIFEST_OR_FOLDER [--data ...] --cache DIR

For every image and condition it stores one float16 array (views, blocks, 2, 768):
the global view and the native crops of ``telltales.analyses.clip.views``, each
through ``telltales.backbone``. One image's views under all its conditions go
through the backbone in one run, and the backbone's dynamic quantisation makes
a view's features depend on the others in its run, so these are not exactly
what the ``noise.clip`` cue computes at run time (``docs/DETECTOR.md``,
"Batch-dependent features"). Conditions:

* ``asis``: the file as published (``stripped`` has the same pixels);
* ``web``: long side <= 1024 px, JPEG q80; ``thumbnail``: <= 512 px, JPEG q60
  (``telltales.evaluate.conditions``);
* ``aug``: one random degradation (``training/augment.py``) seeded by the file's
  sha256 - the training condition.

Files are keyed by the sha256 of the original bytes, so a re-run only computes
what is missing, and a killed run loses only the image in flight.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from augment import VERSION as AUG_VERSION  # noqa: E402
from augment import augment  # noqa: E402

from telltales import backbone  # noqa: E402
from telltales.analyses.clip import views  # noqa: E402
from telltales.evaluate import conditions, manifest  # noqa: E402
from telltales.image import load_image  # noqa: E402

CONDITIONS = ("asis", "web", "thumbnail", "aug")
MAX_PIXELS = 150_000_000


def cache_path(cache: Path, sha: str, condition: str) -> Path:
    tag = f"aug{AUG_VERSION}" if condition == "aug" else condition
    return cache / backbone.FEATURE_VERSION.replace(":", "_") / tag / sha[:2] / f"{sha}.npy"


def pixels_for(data: bytes, sha: str, condition: str) -> np.ndarray:
    if condition == "aug":
        rng = np.random.default_rng(int(sha[:16], 16))
        src = load_image(data, max_pixels=MAX_PIXELS).pixels
        out = augment(src, rng)
        return np.asarray(PILImage.open(io.BytesIO(out)).convert("RGB"))
    return load_image(conditions.apply(condition, data), max_pixels=MAX_PIXELS).pixels


def prepare(path: str, cache: Path, conds: tuple[str, ...]):
    data = Path(path).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    todo = [c for c in conds if not cache_path(cache, sha, c).exists()]
    batches = []
    for c in todo:
        try:
            v = views(pixels_for(data, sha, c))
        except Exception as exc:  # noqa: BLE001 - a bad file is reported, never fatal
            print(f"skip {path} [{c}]: {exc}", file=sys.stderr)
            continue
        batches.append((c, v.crops))
    return sha, batches


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", action="append", required=True, help="manifest or folder (repeatable)")
    p.add_argument("--cache", default="/tmp/clip_cache")
    p.add_argument("--conditions", default=",".join(CONDITIONS))
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--reverse", action="store_true",
                   help="walk the list from its end (a second process can share the work; cached files are skipped)")
    args = p.parse_args(argv)
    cache = Path(args.cache)
    conds = tuple(c for c in args.conditions.split(",") if c)
    items = [it for d in args.data for it in manifest.load(d).items]
    # a fixed shuffle, so a partial cache covers every family
    order = np.random.default_rng(0).permutation(len(items))
    items = [items[i] for i in order][: args.limit]
    if args.reverse:
        items.reverse()
    model = backbone.load()
    t0, n_views = time.perf_counter(), 0
    with ThreadPoolExecutor(1) as pool:
        nxt = pool.submit(prepare, items[0].path, cache, conds) if items else None
        for i in range(len(items)):
            sha, batches = nxt.result()
            nxt = pool.submit(prepare, items[i + 1].path, cache, conds) if i + 1 < len(items) else None
            if batches:
                crops = np.concatenate([b for _, b in batches])
                feats = model.run(backbone.normalise(crops)).astype(np.float16)
                k = 0
                for c, b in batches:
                    out = cache_path(cache, sha, c)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    tmp = out.with_suffix(".part.npy")
                    np.save(tmp, feats[k : k + len(b)])
                    tmp.rename(out)
                    k += len(b)
                n_views += len(crops)
            if (i + 1) % 50 == 0:
                dt = time.perf_counter() - t0
                print(f"{i + 1}/{len(items)} images, {n_views} views, {dt:.0f} s, "
                      f"{1000 * dt / max(1, n_views):.0f} ms/view", flush=True)
    print(f"done: {len(items)} images, {n_views} new views in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
