"""noise.residual: the camera's fingerprints in the noise, and the generator's.

A camera photo is built by a sensor: every pixel carries shot noise that
grows with brightness, and a colour filter array (CFA) makes the camera
interpolate two of the three colours at every pixel (demosaicing), which
leaves a 2-pixel periodic correlation between neighbours. A generator
draws pixels with neither. It instead upsamples a coarse grid, which ties
each pixel to its neighbours in an aligned 2x2 pattern; Tan et al. 2024
(NPR) expose it as the residual ``x - up(down(x))``.

The cue measures on up to four full-resolution tiles:

* ``npr``: how much more alike the pixels inside aligned 2x2 blocks are than
  in blocks shifted by one pixel (log ratio of the NPR residual energy);
* ``cfa``: the 2x2 periodicity of the green channel's prediction error
  (demosaicing trace);
* ``noise_floor`` and ``noise_slope``: the smallest local noise level per
  brightness band, and how it grows with brightness (shot noise).

Resizing and recompression (what the web does to every photo) erase the CFA
trace and most sensor noise; the details say which of these the image still
carries. Only measured separations count as evidence (see the thresholds).
"""

from __future__ import annotations

import numpy as np

from telltales.analyses.residual import highpass
from telltales.analysis import Analysis
from telltales.findings import Region, Result
from telltales.registry import cue

# |NPR log ratio| above which the aligned 2x2 structure counts as generated
# evidence. On the dev data (benchmarks/bench_noise.py: 409 real, 351
# generated, as published and web-degraded) no real photo reached 0.35 (0.7%
# of a first 300 reached 0.3, all small photos that had been enlarged), and
# only 0.6% of generated ones did, after web degradation: the trace of a
# plain 2x upsampling is rare in modern generators, whose last layers are
# convolutions. So it is weak evidence, kept for the blatant case
# (pixel-doubled or naively upscaled output).
NPR_THRESHOLD = 0.35
CFA_THRESHOLD = 0.35  # |green quincunx log ratio| above which a demosaicing trace is reported
STRENGTH_CAP = 0.2


def npr_ratio(t: np.ndarray) -> float:
    """log(E_shifted / E_aligned) of the NPR residual ``x - up(down(x))`` (nearest, factor 2).

    E is the mean |x - top-left pixel of its 2x2 block|; 'aligned' blocks
    start at even rows/columns, 'shifted' ones at odd. Positive: pixels inside
    the image's own 2x2 grid are more alike than across it, as after a 2x
    upsampling.
    """

    def energy(x: np.ndarray) -> float:
        h, w = (x.shape[0] // 2) * 2, (x.shape[1] // 2) * 2
        x = x[:h, :w]
        anchor = x[0::2, 0::2].repeat(2, axis=0).repeat(2, axis=1)
        return float(np.abs(x - anchor).mean())

    e0 = energy(t)
    e1 = energy(t[1:-1, 1:-1])
    return float(np.log((e1 + 1e-6) / (e0 + 1e-6)))


def cfa_ratio(green: np.ndarray) -> float:
    """log ratio of the green prediction error on the two quincunx lattices (x + y even vs odd).

    Bayer sensors measure green on one quincunx lattice and interpolate the
    other, so a demosaiced green channel is predicted much better by its four
    neighbours on one lattice than on the other.
    """
    g = green.astype(np.float32)
    pred = (g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:]) / 4
    err = np.abs(g[1:-1, 1:-1] - pred)
    yy, xx = np.indices(err.shape)
    even = (yy + xx) % 2 == 0
    return float(np.log((err[even].mean() + 1e-6) / (err[~even].mean() + 1e-6)))


def noise_vs_brightness(t: np.ndarray) -> tuple[float | None, float | None]:
    """(noise floor in grey levels, slope of log noise vs log brightness) from 8x8 blocks.

    The floor per brightness band is the 10th percentile of the blocks' robust
    noise (MAD of the median residual): the flattest blocks, where texture
    does not hide the noise. None where too few bands have enough blocks.
    """
    r = highpass(t)
    n = (min(t.shape) // 8) * 8
    blocks_r = r[:n, :n].reshape(n // 8, 8, n // 8, 8).transpose(0, 2, 1, 3).reshape(-1, 64)
    blocks_t = t[:n, :n].reshape(n // 8, 8, n // 8, 8).transpose(0, 2, 1, 3).reshape(-1, 64)
    sigma = 1.4826 * np.median(
        np.abs(blocks_r - np.median(blocks_r, axis=1, keepdims=True)), axis=1
    )
    mu = blocks_t.mean(axis=1)
    edges = np.array([20, 60, 100, 140, 180, 235])
    floors, centres = [], []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = sigma[(mu >= lo) & (mu < hi)]
        if len(sel) >= 20:
            floors.append(float(np.percentile(sel, 10)))
            centres.append((lo + hi) / 2)
    if len(floors) < 2:
        return (float(np.median(floors)) if floors else None), None
    slope = float(np.polyfit(np.log(centres), np.log(np.maximum(floors, 0.05)), 1)[0])
    return float(np.median(floors)), slope


def _strength(excess: float) -> float:
    """Capped logistic in the excess over the threshold (0.1 at it, 0.2 far above)."""
    return float(STRENGTH_CAP / (1.0 + np.exp(-excess / 0.1)))


@cue("noise.residual", needs=("noise_tiles",), version="2")
def noise_residual(a: Analysis) -> Result:
    """Camera sensor noise and demosaicing traces, or a generator's 2x2 upsampling structure."""
    if why := a.image.noise_unreliable:
        return Result.not_applicable(f"cannot judge the noise: {why}")
    nt = a.get("noise_tiles")
    if why := nt.unmeasurable(a.image.size, "its noise"):
        return Result.not_applicable(why)
    size, corners, crops, tiles = nt.size, nt.corners, nt.crops, nt.lumas
    npr = float(np.median([npr_ratio(t) for t in tiles]))
    cfa = float(np.median([cfa_ratio(c[..., 1]) for c in crops]))
    nb = [noise_vs_brightness(t) for t in tiles]
    floors = [f for f, _ in nb if f is not None]
    slopes = [s for _, s in nb if s is not None]
    floor = float(np.median(floors)) if floors else None
    slope = float(np.median(slopes)) if slopes else None
    carries = {
        "demosaicing (CFA) trace": abs(cfa) >= CFA_THRESHOLD,
        "sensor-like noise (floor >= 1 grey level, rising with brightness)": floor is not None
        and slope is not None
        and floor >= 1.0
        and slope > 0.1,
        "2x2 upsampling structure (NPR)": abs(npr) >= NPR_THRESHOLD,
    }
    details = {
        "tiles": len(tiles),
        "tile_px": size,
        "npr_log_ratio": round(npr, 4),
        "cfa_log_ratio": round(cfa, 4),
        "noise_floor": None if floor is None else round(floor, 3),
        "noise_slope": None if slope is None else round(slope, 3),
        "carries": [k for k, v in carries.items() if v],
        "lost_or_absent": [k for k, v in carries.items() if not v],
    }
    s = a.scale
    regions = tuple(
        Region(a.to_original((x * s, y * s, size * s, size * s)), "tile analysed")
        for y, x in corners
    )
    if abs(npr) >= NPR_THRESHOLD:
        how = "more" if npr > 0 else "less"
        return Result.generated(
            _strength(abs(npr) - NPR_THRESHOLD),
            f"Neighbouring pixels are {how} alike inside the image's own 2x2 pixel grid than across it "
            f"(NPR ratio {npr:+.2f}): the mark of a step that doubled the resolution, as some image "
            "generators' upsampling layers do. An enlarged photo shows it too, so it is weak evidence.",
            regions=regions,
            details=details,
        )
    if details["carries"]:
        kept = "Camera traces still present: " + ", ".join(details["carries"]) + "."
    else:
        kept = "No camera trace measured here (demosaicing pattern, sensor-like noise) is present."
    return Result.clear(
        f"The fine noise shows no generator-like 2x2 pixel structure. {kept} Resizing and "
        "recompression erase camera traces, so their absence alone proves nothing.",
        regions=regions,
        details=details,
    )
