"""Edges that should be straight wave or kink (Borji 2023, geometry).

A door frame, a row of tiles or the edge of a building is straight in the
world. A camera keeps it straight, or bends it smoothly: lens distortion is a
gentle, global curve that grows towards the corners and that a low-order curve
along the edge absorbs. A generator paints such edges stroke by stroke, and
long ones often wobble: small local waves and kinks that no lens makes.

The cue joins collinear line segments into long edges, traces the exact edge
position across each one (sub-pixel, from the grey-level gradient; samples
where a second parallel edge is close, as in slats or stripes, are dropped),
removes the smooth bend a lens could cause (a quadratic along the edge), and
measures the wobble that remains. It also fits one radial lens,
``p_u = c + (p - c)(1 + k r^2)``, to all edges at once and reports how much of
the bending it explains: most of it for a real lens, almost none for wobble.

Thresholds were set on the dev real photos (at most 0.2% of them get evidence
in either condition). Natural edges that are not straight (bodies, clothes,
branches) are the main false alarms, hence several wavy edges are required.
On the dev AI images, mostly small 2022 art, the cue rarely finds edges long
enough and fires no more often than on real photos.
"""

from __future__ import annotations

import numpy as np

from telltales.analysis import Analysis
from telltales.findings import Region, Result
from telltales.registry import cue

SEED_LENGTH = 40.0  # detector px (long side 1024)
MIN_EDGE = 150.0  # a joined edge must be at least this long to be traced
MAX_EDGES = 30
JOIN_ANGLE = np.deg2rad(4.0)
JOIN_DIST = 2.5  # detector px from the seed line
JOIN_GAP = 40.0  # detector px along the line
HALF_WIDTH = 4.0  # detector px either side of the edge searched
STEP = 2.0  # detector px between samples along the edge
MIN_COVERAGE = 0.8
SMOOTH = 7  # samples in the moving average that removes pixel noise
# Fitted on dev real photos (benchmarks/bench_geometry.py): wobble left after
# removing a lens-like bend, in detector pixels, above which an edge is "wavy"
# (real photos: median 0.13 px, 99th percentile of the second-worst edge ~0.6),
# and how many / what share of the edges must be wavy.
WAVY_PX = 0.5
MIN_WAVY = 3
WAVY_SHARE = 0.3


def join_collinear(lines: np.ndarray, length: np.ndarray, scale: float) -> list[tuple[np.ndarray, np.ndarray, float, float]]:
    """Chains of collinear segments: (point, unit direction, t0, t1) in working px."""
    order = np.flatnonzero(length * scale >= SEED_LENGTH / 3)
    used = np.zeros(len(lines), bool)
    p1, p2 = lines[:, 0:2], lines[:, 2:4]
    d_all = (p2 - p1) / np.maximum(length, 1e-9)[:, None]
    chains = []
    for i in order:
        if used[i] or length[i] * scale < SEED_LENGTH:
            continue
        o, d = (p1[i] + p2[i]) / 2, d_all[i]
        n = np.array([-d[1], d[0]])
        cos = np.abs(d_all[order] @ d)
        dist = np.maximum(np.abs((p1[order] - o) @ n), np.abs((p2[order] - o) @ n)) * scale
        cand = order[(cos > np.cos(JOIN_ANGLE)) & (dist < JOIN_DIST) & ~used[order]]
        ta, tb = (p1[cand] - o) @ d, (p2[cand] - o) @ d
        lo, hi = np.minimum(ta, tb), np.maximum(ta, tb)
        t0, t1 = -length[i] / 2, length[i] / 2
        members = np.zeros(len(cand), bool)
        gap = JOIN_GAP / scale
        while True:  # grow the edge by every piece that overlaps or nearly touches it
            grow = ~members & (lo <= t1 + gap) & (hi >= t0 - gap)
            if not grow.any():
                break
            members |= grow
            t0, t1 = min(t0, lo[grow].min()), max(t1, hi[grow].max())
        members = np.r_[i, cand[members]]
        used[members] = True
        if (t1 - t0) * scale >= MIN_EDGE:
            chains.append((o, d, float(t0), float(t1)))
        if len(chains) >= MAX_EDGES:
            break
    return chains


def trace_edge(gray: np.ndarray, o: np.ndarray, d: np.ndarray, t0: float, t1: float,
               scale: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Sub-pixel offset of the edge from the straight line, sampled along it (working px)."""
    import cv2

    n = np.array([-d[1], d[0]])
    step, half = STEP / scale, HALF_WIDTH / scale
    ts = np.arange(t0 + 2 * step, t1 - 2 * step, step)
    offs = np.linspace(-half, half, 2 * int(HALF_WIDTH * 2) + 1)
    if len(ts) < 20:
        return None
    pts = o[None, None] + ts[:, None, None] * d[None, None] + offs[None, :, None] * n[None, None]
    prof = cv2.remap(gray, pts[..., 0].astype(np.float32), pts[..., 1].astype(np.float32),
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    grad = np.gradient(prof, axis=1)
    polarity = np.sign(np.median(grad[:, len(offs) // 2]))
    if polarity == 0:
        return None
    g = grad * polarity
    k = np.argmax(g, axis=1)
    peak = g[np.arange(len(ts)), k]
    inner = (k > 0) & (k < len(offs) - 1)
    strong = peak > max(0.02, 0.3 * np.median(peak))
    # a second edge inside the window (slats, stripes, text) makes the trace ambiguous
    near = np.abs(np.arange(len(offs))[None] - k[:, None]) <= 2
    rival = np.where(near, -np.inf, g).max(axis=1)
    unique = rival < 0.5 * peak
    ok = inner & strong & unique
    if ok.mean() < MIN_COVERAGE:
        return None
    kk = np.clip(k, 1, len(offs) - 2)
    r = np.arange(len(ts))
    ym, y0, yp = g[r, kk - 1], g[r, kk], g[r, kk + 1]
    den = ym - 2 * y0 + yp
    frac = np.where(np.abs(den) > 1e-9, 0.5 * (ym - yp) / np.where(den == 0, 1, den), 0.0)
    pos = offs[kk] + np.clip(frac, -0.5, 0.5) * (offs[1] - offs[0])
    return ts[ok], pos[ok]


def wobble(ts: np.ndarray, pos: np.ndarray, scale: float) -> tuple[float, float]:
    """(wobble, bend) in detector px: what remains after a lens-like quadratic, and the bend itself."""
    u = (ts - ts.mean()) / max(1e-9, np.ptp(ts))
    quad = np.polyfit(u, pos, 2)
    line = np.polyfit(u, pos, 1)
    resid = pos - np.polyval(quad, u)
    smooth = np.convolve(resid, np.ones(SMOOTH) / SMOOTH, mode="valid")
    bend = float(np.ptp(np.polyval(quad, u) - np.polyval(line, u)))
    return float(np.sqrt(np.mean(smooth**2)) * scale), bend * scale


def fit_lens(edges: list[np.ndarray], shape: tuple[int, int]) -> tuple[float, float]:
    """One-parameter radial lens ``p_u = c + (p - c)(1 + k r^2)`` that best straightens all edges.

    Returns ``(k, explained)``: the coefficient (r in units of half the long side) and the share
    of the edges' total bending (squared distance from their best straight lines) it removes.
    A real lens bends every edge by one ``k``; a generator's wobble does not follow any.
    """
    h, w = shape
    c, half = np.array([w / 2, h / 2]), max(h, w) / 2
    q = (np.concatenate(edges) - c) / half
    ids = np.repeat(np.arange(len(edges)), [len(e) for e in edges])
    count = np.bincount(ids).astype(float)
    r2 = np.sum(q * q, axis=1)

    def total(k: float) -> float:
        p = q * (1 + k * r2)[:, None]
        m = [np.bincount(ids, v) / count for v in (p[:, 0], p[:, 1])]
        x, y = p[:, 0] - m[0][ids], p[:, 1] - m[1][ids]
        sxx, syy, sxy = (np.bincount(ids, v) for v in (x * x, y * y, x * y))
        # smallest eigenvalue of each edge's 2x2 scatter matrix
        return float(np.sum((sxx + syy) / 2 - np.sqrt(((sxx - syy) / 2) ** 2 + sxy**2)))

    ks = np.linspace(-0.3, 0.3, 61)
    costs = np.array([total(k) for k in ks])
    best = int(np.argmin(costs))
    base = costs[len(ks) // 2]
    return float(ks[best]), float(1 - costs[best] / base) if base > 0 else 0.0


def edge_box(o: np.ndarray, d: np.ndarray, t0: float, t1: float, pad: float = 6.0):
    a, b = o + t0 * d, o + t1 * d
    x0, x1 = sorted((a[0], b[0]))
    y0, y1 = sorted((a[1], b[1]))
    return (x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad)


@cue("geometry.straight-lines", needs=("segments", "gray"), version="1")
def straight_lines(a: Analysis) -> Result:
    """Long straight edges that wobble in a way no lens bends them."""
    sg = a.segments
    if min(sg.shape) < 64:
        return Result.not_applicable(f"image too small for line geometry ({sg.shape[1]}x{sg.shape[0]} px)")
    scale = sg.detect_scale
    chains = join_collinear(sg.lines, sg.lengths, scale) if len(sg.lines) else []
    gray = a.gray.astype(np.float32)
    measured = []
    for o, d, t0, t1 in chains:
        tr = trace_edge(gray, o, d, t0, t1, scale)
        if tr is None or len(tr[0]) < 20:
            continue
        w, bend = wobble(*tr, scale)
        pts = o[None] + tr[0][:, None] * d[None] + tr[1][:, None] * np.array([-d[1], d[0]])[None]
        measured.append((w, bend, o, d, t0, t1, pts))
    if not measured:
        return Result.not_applicable(
            "no long, clean straight edges (buildings, frames, tiles) to follow"
        )
    wob = np.array([m[0] for m in measured])
    k, explained = fit_lens([m[6] for m in measured], sg.shape)
    wavy = [m for m in measured if m[0] > WAVY_PX]
    details = {
        "edges": len(measured),
        "wobble_px": np.round(wob, 3).tolist(),
        "bend_px": [round(m[1], 2) for m in measured],
        "wavy": len(wavy),
        "lens_k": round(k, 3),
        "lens_explains": round(explained, 3),
    }
    if len(wavy) >= MIN_WAVY and len(wavy) / len(measured) >= WAVY_SHARE:
        wavy.sort(key=lambda m: -m[0])
        regions = tuple(Region(a.to_original(edge_box(m[2], m[3], m[4], m[5])), "wavy edge")
                        for m in wavy[:10])
        typical = float(np.median([m[0] for m in wavy]))
        strength = min(1.0, 0.3 + 0.1 * (len(wavy) - MIN_WAVY) + 0.2 * (typical / WAVY_PX - 1))
        return Result.generated(
            strength,
            f"{len(wavy)} of {len(measured)} long straight edges wobble locally "
            f"(by about {typical:.1f} px), which a camera lens does not do: "
            "lens distortion bends edges smoothly",
            regions=regions,
            details=details,
        )
    bent = sum(1 for m in measured if m[1] > 1.5)
    lens = (f"; one lens distortion (k = {k:+.2f}) explains {100 * explained:.0f}% of the bending"
            if bent and explained > 0.3 else "")
    return Result.clear(
        f"{len(measured)} long straight edges are straight"
        + (f" or bend smoothly as a lens bends them ({bent} bent{lens})" if bent else ""),
        details=details,
    )
