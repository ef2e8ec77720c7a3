"""details.texture: surfaces too smooth to have been photographed.

Generated images often render skin, walls, sky and backgrounds as clean,
plastic surfaces: the shading is there, but the fine grain that every real
surface and every camera sensor adds is missing (Borji 2023, "details").
The cue cuts the working-size image into 32-pixel tiles and compares, in
each tile with visible shading, the fine-grain energy (Immerkaer's noise
estimate) with the shading itself. Tiles that have shading but no
grain are "over-smooth"; the cue reports the share of such tiles and where
the largest cluster lies. Heavy JPEG compression and downscaling also smooth
images, so the threshold is set on web-degraded real photos as well.
"""

from __future__ import annotations

import numpy as np

from telltales.analysis import Analysis
from telltales.findings import ManualCheck, Region, Result
from telltales.registry import cue

T = 32
SHADED = 3.0  # tile std (grey levels) above which a tile shows shading or structure
GRAIN = 0.6  # noise estimate (grey levels) below which a shaded tile has no grain
# Share of over-smooth tiles above which the cue reports generated evidence.
# Chosen on the dev data (benchmarks/bench_noise.py): first on 300 real / 441
# generated images, then checked on all 409 real photos, where 0.92 let 2.8-3.7%
# of the 109 photos not used for the choice through; at 0.97, 0.7% of real
# photos as published and 0.5% web-degraded reach it (held-out 1.8% / 0.9%),
# against 0.6% / 2.3% of generated images. The share barely separates the
# classes (AUC ~0.5), so only the extreme counts, and weakly. Between
# MANUAL_SHARE and it the cue asks a person to look at the smoothest area.
SMOOTH_SHARE = 0.97
MANUAL_SHARE = 0.75
MIN_TILES = 12
GUIDANCE = (
    "Look at the marked area at full size: real skin has pores and fine hairs, fabric has "
    "threads, walls and foliage have irregular grain. Waxy, airbrushed surfaces, or patterns "
    "that repeat exactly, point to a generator (or heavy retouching)."
)
STRENGTH_CAP = 0.3


def tile_stats(gray255: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per 32-px tile: mean, std (shading) and grain, as (rows, cols) arrays.

    Grain is Immerkaer's fast noise estimate, sqrt(pi/2)/6 * mean |L|, with L
    the 3x3 filter that cancels planes and ramps; each |L| is clipped at 12
    grey levels so that edges count as little as possible.
    """
    import cv2

    k = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    lap = np.minimum(np.abs(cv2.filter2D(gray255.astype(np.float32), -1, k)), 12.0)
    h, w = (gray255.shape[0] // T) * T, (gray255.shape[1] // T) * T

    def per_tile(x: np.ndarray) -> np.ndarray:
        return (
            x[:h, :w]
            .reshape(h // T, T, w // T, T)
            .transpose(0, 2, 1, 3)
            .reshape(h // T, w // T, -1)
        )

    g = per_tile(gray255)
    grain = np.sqrt(np.pi / 2) / 6 * per_tile(lap).mean(axis=2)
    return g.mean(axis=2), g.std(axis=2), grain


def _largest_cluster(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    import cv2

    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=4)
    if n <= 1:
        return None
    i = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h = (int(v) for v in stats[i, :4])
    return x * T, y * T, w * T, h * T


def _strength(excess: float) -> float:
    """Capped logistic in the share above the threshold (0.2 at it, 0.3 at 100%)."""
    return float(STRENGTH_CAP / (1.0 + np.exp(-(excess + 0.02) / 0.03)))


@cue("details.texture", needs=("gray",), version="2")
def over_smooth_texture(a: Analysis) -> Result:
    """Shaded surfaces without the fine grain real surfaces and sensors add."""
    if why := a.image.noise_unreliable:
        return Result.not_applicable(f"cannot judge the noise: {why}")
    g = a.gray * 255.0
    if min(g.shape) < 2 * T:
        return Result.not_applicable(
            f"image too small to judge texture ({g.shape[1]}x{g.shape[0]} px)"
        )
    mean, shade, grain = tile_stats(g)
    usable = (mean > 15) & (mean < 240) & (shade > SHADED)
    n = int(usable.sum())
    if n < MIN_TILES:
        return Result.not_applicable(
            f"only {n} tiles with visible shading; too few to judge texture"
        )
    smooth = usable & (grain < GRAIN)
    share = float(smooth.sum() / n)
    details = {
        "tiles_shaded": n,
        "tiles_over_smooth": int(smooth.sum()),
        "smooth_share": round(share, 4),
        "median_grain": round(float(np.median(grain[usable])), 3),
        "median_grain_to_shading": round(float(np.median(grain[usable] / shade[usable])), 4),
    }
    box = _largest_cluster(smooth)
    regions = (Region(a.to_original(box), "largest over-smooth area"),) if box else ()
    if share >= SMOOTH_SHARE:
        return Result.generated(
            _strength(share - SMOOTH_SHARE),
            f"{share:.0%} of the shaded surfaces have no fine grain at all (plastic, airbrushed look). "
            "Real surfaces and camera sensors add grain; generators often paint it out. Heavily retouched "
            "or compressed photos can look like this too, so it counts only weakly.",
            regions=regions,
            details=details,
            manual=(ManualCheck("details.texture", GUIDANCE, regions),),
        )
    if share >= MANUAL_SHARE:
        return Result.clear(
            f"{share:.0%} of the shaded surfaces have no fine grain. Many edited, compressed or downscaled "
            "photos look like that too, so this is not evidence; the smoothest area is marked for a look.",
            regions=regions,
            details=details,
            manual=(ManualCheck("details.texture", GUIDANCE, regions),),
        )
    return Result.clear(
        f"Fine grain is present on most shaded surfaces ({share:.0%} over-smooth).",
        regions=regions,
        details=details,
    )
