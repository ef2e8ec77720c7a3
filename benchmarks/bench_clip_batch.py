"""How much ``noise.clip`` depends on what else is in the backbone's batch.

    python benchmarks/bench_clip_batch.py --data MANIFEST [--n 40] [--seed 0]

The backbone is INT8 with dynamic quantisation: each layer's activations are
quantised with one scale for the whole input tensor, so a view's features
depend on the other views run with it. The cue runs one image's views together
(``telltales.analyses.clip.clip_features``); ``training/clip_features.py``, which
made the head's training features and the locked part's scores, runs the
image's views under all its conditions (as published, web, thumbnail and the
augmented copy) together. For ``--n`` images drawn from MANIFEST (``--seed``)
this computes the as-published image logit of the shipped head three ways:

* ``cue``: the image's own views in one batch, as the cue does;
* ``training``: batched with the image's other conditions, as the features were;
* ``one view``: each view alone (what no batch can change).

and prints the median and largest difference from ``training``, how many
images' status (``clip_detector.judge``) differs, the AUC and TPR at 2% FPR of
each (when the images hold both classes), the spread of the logit over the
images for scale, and the backbone's time per view batched and one at a time.
Nothing here is fitted or tuned.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
import clip_features  # noqa: E402  (the training path's pixels, conditions and batching)

CONDITIONS = ("asis", "web", "thumbnail", "aug")


def logits(path: str) -> dict[str, float]:
    from telltales import backbone
    from telltales.analyses.clip import views
    from telltales.cues.text_noise import clip_detector as C

    model, net = C.load_model(), backbone.load()
    data = Path(path).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    crops = {c: views(clip_features.pixels_for(data, sha, c)).crops for c in CONDITIONS}
    n = len(crops["asis"])
    t0 = time.perf_counter()
    batch = net.run(backbone.normalise(crops["asis"]))
    t1 = time.perf_counter()
    one = np.concatenate([net.run(backbone.normalise(v[None])) for v in crops["asis"]])
    t2 = time.perf_counter()
    feats = {
        "cue": batch,
        "training": net.run(backbone.normalise(np.concatenate([crops[c] for c in CONDITIONS])))[:n],
        "one view": one,
    }
    out = {k: C.image_logit(C.view_logits(f, model.spec, model.global_head, model.native_head),
                            model.native_weight) for k, f in feats.items()}
    return out | {"views": n, "s cue": t1 - t0, "s one view": t2 - t1}


def main(argv: list[str] | None = None) -> int:
    from telltales.cues.text_noise import clip_detector as C
    from telltales.evaluate import manifest, metrics

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="a manifest (training/all_manifest.py) or a folder")
    ap.add_argument("--n", type=int, default=40, help="how many images (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    items = list(manifest.load(args.data).items)
    random.Random(args.seed).shuffle(items)
    model = C.load_model()
    items = items[: args.n] if args.n else items
    rows = [logits(it.path) | {"label": it.label} for it in items]
    ref = np.array([r["training"] for r in rows])

    def status(z: float) -> str:
        return C.judge(model.probability(z), model)[0]

    print(f"{len(rows)} images; image logit, spread over them (sd) {ref.std():.2f}")
    y = [r["label"] for r in rows]
    print(f"{'features':10s} {'median |d|':>11s} {'max |d|':>8s} {'status differs':>15s} {'AUC':>6s} {'TPR@2%':>7s}")
    for k in ("training", "cue", "one view"):
        z = np.array([r[k] for r in rows])
        d = np.abs(z - ref)
        flips = sum(status(a) != status(b) for a, b in zip(z, ref, strict=True))
        auc, tpr = metrics.roc_auc(y, z), metrics.tpr_at_fpr(y, z, 0.02)
        print(f"{k:10s} {np.median(d):11.3f} {d.max():8.3f} {flips:9d} / {len(rows):<3d} "
              f"{'' if auc is None else f'{auc:6.3f}'} {'' if tpr is None else f'{tpr:7.2f}'}")
    views = sum(r["views"] for r in rows)
    print(f"backbone time per view: the image's views in one batch {1000 * sum(r['s cue'] for r in rows) / views:.0f} ms, "
          f"one view per run {1000 * sum(r['s one view'] for r in rows) / views:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
