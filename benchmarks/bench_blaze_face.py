"""Compare telltales.analyses.blaze_face with the mediapipe face solutions it replaces.

    PYTHONPATH=src python benchmarks/bench_blaze_face.py --data ../shared/data/dev [--people 80 --others 20]

Needs the real ``mediapipe`` package (the reference) and the landmark models
(``python -m telltales.landmark_models install``). Images: a seeded sample of
dev images with ``people=yes`` and of images without, each resized to long
side 1024 (the working size). For each image: the face detector (short- and
full-range models; mediapipe asked for
``min_detection_confidence=0.6``, which it ignores: ours runs with the default, the
graphs' own thresholds 0.5 short / 0.6 full) and the refined 478-point mesh, both ways.

Printed: per detector, faces found by each and the share of images with the
same count, median box IoU of matched faces; for the mesh, the share of images
where both or neither find a face, the median and p90 of the mean point
distance divided by the face size (long side of the mediapipe mesh's box), the
same for the two iris centres; and the median seconds per call.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from pathlib import Path

import numpy as np

WORK_SIDE = 1024


def select(data: Path, people: int, others: int, seed: int = 0) -> list[str]:
    with open(data / "manifest.tsv") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    rng = random.Random(seed)
    yes = sorted(r["file"] for r in rows if r.get("people") == "yes")
    no = sorted(r["file"] for r in rows if r.get("people") not in ("yes", ""))
    return rng.sample(yes, min(people, len(yes))) + rng.sample(no, min(others, len(no)))


def load(path: Path) -> np.ndarray:
    import cv2
    from PIL import Image, ImageOps

    im = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    rgb = np.asarray(im)
    s = WORK_SIDE / max(rgb.shape[:2])
    if s < 1:
        rgb = cv2.resize(rgb, (round(rgb.shape[1] * s), round(rgb.shape[0] * s)), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb)


def box_iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


class Reference:
    """The mediapipe solutions, returning what blaze_face returns."""

    def __init__(self) -> None:
        import mediapipe as mp

        s = mp.solutions
        self.det = {m: s.face_detection.FaceDetection(model_selection=i, min_detection_confidence=0.6)
                    for i, m in enumerate(("short", "full"))}
        self.mesh_model = s.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=True,
                                               min_detection_confidence=0.5)

    def detect(self, rgb: np.ndarray, model: str) -> list[tuple[tuple[float, ...], float]]:
        h, w = rgb.shape[:2]
        out = []
        for d in self.det[model].process(rgb).detections or []:
            b = d.location_data.relative_bounding_box
            out.append(((b.xmin * w, b.ymin * h, b.width * w, b.height * h), float(d.score[0])))
        return out

    def mesh(self, rgb: np.ndarray) -> np.ndarray | None:
        h, w = rgb.shape[:2]
        res = self.mesh_model.process(rgb)
        if not res.multi_face_landmarks:
            return None
        return np.array([[p.x * w, p.y * h, p.z * w] for p in res.multi_face_landmarks[0].landmark])


def timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t


def pct(x: list[float], q: float) -> str:
    return f"{np.percentile(x, q):.4f}" if x else "-"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="../shared/data/dev")
    p.add_argument("--people", type=int, default=80)
    p.add_argument("--others", type=int, default=20)
    args = p.parse_args(argv)

    from telltales.analyses import blaze_face

    data = Path(args.data)
    files = select(data, args.people, args.others)
    try:
        ref = Reference()
    except ImportError:
        from bench_blaze_body import MEDIAPIPE_HINT

        print(f"error: {MEDIAPIPE_HINT}", file=sys.stderr)
        return 2
    stats: dict[str, dict[str, list]] = {m: {"n_ref": [], "n_ours": [], "iou": [], "score": [], "t_ref": [],
                                             "t_ours": []} for m in ("short", "full")}
    mesh_err, iris_err, mesh_agree, t_mesh_ref, t_mesh_ours = [], [], [], [], []
    mesh_found = [0, 0]
    worst: list[tuple[float, str]] = []
    for i, f in enumerate(files):
        rgb = load(data / f)
        for m in ("short", "full"):
            r, tr = timed(ref.detect, rgb, m)
            o, to = timed(blaze_face.detect, rgb, m)
            s = stats[m]
            s["n_ref"].append(len(r))
            s["n_ours"].append(len(o))
            s["t_ref"].append(tr)
            s["t_ours"].append(to)
            for box, score in r:
                best = max(o, key=lambda d, box=box: box_iou(box, d[0]), default=None)
                if best is not None and box_iou(box, best[0]) > 0:
                    s["iou"].append(box_iou(box, best[0]))
                    s["score"].append(abs(score - best[1]))
        mr, tr = timed(ref.mesh, rgb)
        mo, to = timed(blaze_face.mesh, rgb)
        t_mesh_ref.append(tr)
        t_mesh_ours.append(to)
        mesh_agree.append((mr is None) == (mo is None))
        mesh_found[0] += mr is not None
        mesh_found[1] += mo is not None
        if mr is not None and mo is not None:
            size = float(np.ptp(mr[:468, :2], axis=0).max())
            e = float(np.linalg.norm(mr[:, :2] - mo[:, :2], axis=1).mean()) / size
            mesh_err.append(e)
            iris_err.append(float(np.mean([np.linalg.norm(mr[k, :2] - mo[k, :2]) for k in (468, 473)])) / size)
            worst.append((e, f))
        print(f"{i + 1}/{len(files)} {f}", file=sys.stderr)

    print(f"images: {len(files)} ({args.people} with people requested, {args.others} without)")
    print("| detector | faces mediapipe | faces ours | same count | box IoU median | box IoU p10 |"
          " score diff median | s/call mediapipe | s/call ours |")
    print("|---|---|---|---|---|---|---|---|---|")
    for m, s in stats.items():
        same = np.mean([a == b for a, b in zip(s["n_ref"], s["n_ours"], strict=True)])
        print(f"| {m} | {sum(s['n_ref'])} | {sum(s['n_ours'])} | {same:.1%} | {pct(s['iou'], 50)} |"
              f" {pct(s['iou'], 10)} | {pct(s['score'], 50)} | {np.median(s['t_ref']):.4f} |"
              f" {np.median(s['t_ours']):.4f} |")
    print()
    print("| mesh | faces mediapipe | faces ours | same presence | point error median | p90 |"
          " iris centre error median | p90 | s/call mediapipe | s/call ours |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(f"| 478 refined | {mesh_found[0]} | {mesh_found[1]} |"
          f" {np.mean(mesh_agree):.1%} | {pct(mesh_err, 50)} | {pct(mesh_err, 90)} |"
          f" {pct(iris_err, 50)} | {pct(iris_err, 90)} | {np.median(t_mesh_ref):.4f} |"
          f" {np.median(t_mesh_ours):.4f} |")
    print(f"(errors over the {len(mesh_err)} images where both found a face: mean point distance"
          " / face size, the long side of mediapipe's mesh box)")
    print("worst mesh:", ", ".join(f"{f} {e:.3f}" for e, f in sorted(worst)[-3:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
