"""noise.spectrum: the periodic fingerprint of upsampling layers.

Generators draw a small grid (a latent of 1/8 the size, or a low-resolution
image) and blow it up with upsampling layers. Upsampling repeats the same
arithmetic every 2, 4 or 8 pixels, so the noise residual of a generated
image carries a faint periodic pattern: sharp peaks in its Fourier spectrum
at frequencies k/8 cycles per pixel (Durall et al. 2020; Frank et al. 2020;
Corvi et al. 2023). Cameras do not work on such a grid, but JPEG does: its
8x8 blocks put peaks at the very same frequencies. So peaks on that lattice
count only in images that were never JPEG-compressed; in a JPEG only peaks
the JPEG grid cannot make count (and those are rare).

The cue works on up to four 256-pixel tiles of the full-resolution image
(the pixel grid where the pattern lives), averages their power spectra and
measures how far each candidate frequency stands above its neighbours
(prominence, in dB). It also reports the spectral decay (the slope of the
power spectrum at high frequencies) for the record; that slope mostly tells
how an image was resized and compressed, so it is not used as evidence.
"""

from __future__ import annotations

import numpy as np

from telltales.analysis import Analysis
from telltales.cues.text_noise.jpeg_history import GRID_THRESHOLD, grid_offset
from telltales.findings import Region, Result
from telltales.registry import cue

SEG = 64
# Thresholds on the prominence (dB above the ring of frequencies around it):
# the strongest k/8-lattice peak of a never-JPEG image, and the strongest peak
# off that lattice in any image. Chosen on 300 real and 441 generated dev
# images, as published and web-degraded, then checked on all 409 real photos
# (benchmarks/bench_noise.py): 1.2% of real photos reach them in either
# condition (1.8% of the 109 photos not used for the choice), against 2.8%
# (as published) and 2.0% (web) of generated images. Periodic peaks are rare on
# both sides, and enlarged photos show them too, so the strength stays small.
LATTICE_DB = 15.0
OFF_LATTICE_DB = 17.0
STRENGTH_CAP = 0.35
TILE_DB = 6.0  # a tile "shows" the peak when it stands this far above its own surroundings


def _difference_magnitudes(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|horizontal| and |vertical| neighbour differences: the simplest noise residual.

    A one-sided difference is needed: symmetric filters (Laplacian, median)
    are blind to a factor-2 upsampling, whose copied or interpolated pixels
    differ from their right/lower neighbour in a 2-periodic way.
    """
    dx = np.abs(np.diff(t, axis=1))[:-1, :]
    dy = np.abs(np.diff(t, axis=0))[:, :-1]
    return dx, dy


def _power_spectrum(tiles: list[np.ndarray]) -> np.ndarray:
    """Welch-averaged power spectrum (DC at [0, 0]) of the residual's magnitude.

    Upsampling makes the *strength* of the residual vary periodically (some
    pixels are copied or interpolated, others are not), so the periodicity is
    in ``|residual|``, not in the residual itself (Popescu and Farid 2005;
    Kirchner 2008). Averaging many 64-pixel segments keeps random peaks small;
    segments start at multiples of 8 so JPEG blocks keep their phase.
    """
    win = np.outer(np.hanning(SEG), np.hanning(SEG)).astype(np.float32)
    acc = np.zeros((SEG, SEG), np.float64)
    count = 0
    for t in tiles:
        for r in _difference_magnitudes(t):
            n = min(r.shape) // SEG
            segs = (
                r[: n * SEG, : n * SEG]
                .reshape(n, SEG, n, SEG)
                .transpose(0, 2, 1, 3)
                .reshape(-1, SEG, SEG)
            )
            segs = (segs - segs.mean(axis=(1, 2), keepdims=True)) * win
            acc += (np.abs(np.fft.fft2(segs)) ** 2).sum(axis=0)
            count += len(segs)
    return acc / max(count, 1)


def _prominence(power: np.ndarray) -> np.ndarray:
    """dB above the median of the ring 3 bins away (spectrum treated as periodic)."""
    logp = 10.0 * np.log10(power + 1e-12)
    ring = [
        np.roll(logp, (dy, dx), axis=(0, 1))
        for dy in range(-3, 4)
        for dx in range(-3, 4)
        if max(abs(dy), abs(dx)) == 3
    ]
    return logp - np.median(np.stack(ring), axis=0)


def _lattice_points(n: int) -> list[tuple[int, int]]:
    """(ky, kx) in eighths, one of each conjugate pair, DC excluded."""
    pts = []
    for ky in range(8):
        for kx in range(8):
            if (ky, kx) == (0, 0):
                continue
            conj = ((8 - ky) % 8, (8 - kx) % 8)
            if conj in pts:
                continue
            pts.append((ky, kx))
    return pts


def _lattice_peaks(prom: np.ndarray) -> list[dict]:
    n = prom.shape[0]
    out = []
    for ky, kx in _lattice_points(n):
        iy, ix = ky * n // 8, kx * n // 8
        p = float(prom[iy % n, ix % n])
        out.append(
            {
                "fx": kx / 8 if kx <= 4 else kx / 8 - 1,
                "fy": ky / 8 if ky <= 4 else ky / 8 - 1,
                "prominence_db": round(p, 2),
            }
        )
    return sorted(out, key=lambda d: -d["prominence_db"])


def _off_lattice_peaks(prom: np.ndarray, k: int = 5) -> list[dict]:
    """The strongest peaks away from DC and from the k/8 lattice."""
    n = prom.shape[0]
    f = np.fft.fftfreq(n)
    fy, fx = np.meshgrid(f, f, indexing="ij")
    mask = np.hypot(fx, fy) > 0.08
    step = n / 8
    near = lambda idx: np.minimum(idx % step, step - idx % step) <= 1  # noqa: E731
    iy, ix = np.indices(prom.shape)
    mask &= ~(near(iy) & near(ix))
    mask &= (
        (fx > 0) | ((fx == 0) & (fy > 0)) | ((np.abs(fx) == 0.5) & (fy >= 0))
    )  # one of each pair
    vals = np.where(mask, prom, -np.inf).ravel()
    order = np.argsort(vals)[::-1]
    out: list[dict] = []
    for i in order:
        if len(out) >= k or not np.isfinite(vals[i]):
            break
        y, x = divmod(int(i), n)
        if any(abs(o["_y"] - y) <= 2 and abs(o["_x"] - x) <= 2 for o in out):
            continue
        out.append(
            {
                "_y": y,
                "_x": x,
                "fx": round(float(fx[y, x]), 4),
                "fy": round(float(fy[y, x]), 4),
                "prominence_db": round(float(prom[y, x]), 2),
            }
        )
    return [{k2: v for k2, v in o.items() if not k2.startswith("_")} for o in out]


def _decay_slope(tiles: list[np.ndarray]) -> float:
    """Slope of log power vs log frequency of the image (not residual) over 0.1-0.45 cycles/px."""
    n = tiles[0].shape[0]
    win = np.outer(np.hanning(n), np.hanning(n))
    acc = np.zeros((n, n))
    for t in tiles:
        acc += np.abs(np.fft.fft2((t - t.mean()) * win)) ** 2
    f = np.fft.fftfreq(n)
    r = np.hypot(*np.meshgrid(f, f, indexing="ij"))
    bins = np.linspace(0.1, 0.45, 15)
    idx = np.digitize(r, bins)
    radial = np.array([acc[idx == i].mean() for i in range(1, len(bins))])
    centres = (bins[:-1] + bins[1:]) / 2
    return float(np.polyfit(np.log(centres), np.log(radial + 1e-12), 1)[0])


def _thumbnail(power: np.ndarray, size: int = 32) -> list[list[int]]:
    """A small log-spectrum picture (DC in the centre, 0-255) for the report."""
    logp = np.log10(np.fft.fftshift(power) + 1e-12)
    n = logp.shape[0]
    b = n // size
    small = logp[: b * size, : b * size].reshape(size, b, size, b).mean(axis=(1, 3))
    lo, hi = np.percentile(small, [1, 99.5])
    return np.clip((small - lo) / max(hi - lo, 1e-6) * 255, 0, 255).astype(int).tolist()


def _strength(excess_db: float) -> float:
    """Capped logistic in the dB above threshold: about 0.2 at the threshold, 0.35 well above.

    At the threshold, flagged images were about twice as often generated as real
    on the dev data (likelihood ratio ~2, i.e. P ~ 0.67 at equal priors).
    """
    return float(STRENGTH_CAP / (1.0 + np.exp(-(excess_db + 1.0) / 3.0)))


@cue("noise.spectrum", needs=("noise_tiles",), version="3")
def spectral_peaks(a: Analysis) -> Result:
    """Periodic peaks that upsampling layers leave in the noise spectrum."""
    if why := a.image.noise_unreliable:
        return Result.not_applicable(f"cannot judge the noise: {why}")
    nt = a.get("noise_tiles")
    if why := nt.unmeasurable(a.image.size, "its spectrum"):
        return Result.not_applicable(why)
    size, corners, tiles = nt.size, nt.corners, nt.lumas
    # tiles have equal segment counts, so the mean of their spectra is the Welch mean
    per_tile = [_power_spectrum([t]) for t in tiles]
    power = np.mean(per_tile, axis=0)
    prom = _prominence(power)
    lattice = _lattice_peaks(prom)
    off = _off_lattice_peaks(prom)
    grid = grid_offset(tiles[0])[1]
    was_jpeg = a.image.format == "JPEG" or grid > GRID_THRESHOLD
    best_lattice = lattice[0]["prominence_db"]
    best_off = off[0]["prominence_db"] if off else 0.0
    details = {
        "tiles": len(tiles),
        "tile_px": size,
        "jpeg_file": a.image.format == "JPEG",
        "jpeg_grid_strength": round(grid, 3),
        "lattice_peaks": lattice,
        "off_lattice_peaks": off,
        "max_lattice_db": best_lattice,
        "max_off_lattice_db": best_off,
        "max_half_db": max(
            p["prominence_db"] for p in lattice if {abs(p["fx"]), abs(p["fy"])} <= {0.0, 0.5}
        ),
        "max_lattice_offaxis_db": max(p["prominence_db"] for p in lattice if p["fx"] and p["fy"]),
        "decay_slope": round(_decay_slope(tiles), 3),
        "log_spectrum_32": _thumbnail(power),
    }
    regions = tuple(
        Region(a.to_original(_box_at_working(a, y, x, size)), "tile analysed") for y, x in corners
    )
    candidates = []
    if not was_jpeg and best_lattice >= LATTICE_DB:
        candidates.append((lattice[0], best_lattice - LATTICE_DB, True))
    if best_off >= OFF_LATTICE_DB:
        candidates.append((off[0], best_off - OFF_LATTICE_DB, False))
    local = None
    for p, excess, on_lattice in candidates:
        proms = tile_prominence(per_tile, p)
        details["peak_db_per_tile"] = [round(v, 2) for v in proms]
        if not _consistent(proms):
            local = p
            continue
        if on_lattice:
            reason = (
                f"The fine noise of this image repeats every {_lattice_period(p)} pixels: its spectrum "
                f"has a sharp peak {p['prominence_db']:.0f} dB above its surroundings at {_freq(p)}, "
                "across the image. Upsampling layers in image generators leave such a grid; camera "
                "photos rarely do, unless someone enlarged them."
            )
        else:
            reason = (
                f"The fine noise of this image has a strong periodic component at {_freq(p)} "
                f"({p['prominence_db']:.0f} dB above its surroundings, period {_period(p)} pixels), "
                "across the image: a regular pattern that upsampling leaves (in a generator, or when "
                "someone enlarges a photo) and cameras do not."
            )
        return Result.generated(
            _strength(excess), reason, regions=_regions(a, corners, size, proms), details=details
        )
    if local is not None:
        return Result.clear(
            f"A periodic pattern at {_freq(local)} stands out in only part of the image (a regular "
            "texture or the banding of a smooth gradient, say), not across it as upsampling would "
            "leave it.",
            regions=regions,
            details=details,
        )
    if was_jpeg:
        history = (
            "a JPEG file" if a.image.format == "JPEG"
            else "an image whose pixels show an 8x8 block grid (likely an earlier JPEG compression)"
        )
        reason = (
            "No periodic pattern beyond what JPEG compression itself makes. Peaks every 8 pixels are "
            f"ignored in {history}, because 8x8 blocks make them too."
        )
    else:
        reason = (
            "The noise spectrum has no sharp periodic peaks of the kind upsampling layers leave."
        )
    return Result.clear(reason, regions=regions, details=details)


def tile_prominence(per_tile: list[np.ndarray], p: dict) -> list[float]:
    """Prominence of the peak at ``p`` in each tile's own power spectrum."""
    iy, ix = round(p["fy"] * SEG) % SEG, round(p["fx"] * SEG) % SEG
    return [float(_prominence(power)[iy, ix]) for power in per_tile]


def _consistent(proms: list[float]) -> bool:
    """Upsampling is global: the peak must stand out in at least three quarters of the tiles."""
    return sum(v >= TILE_DB for v in proms) * 4 >= 3 * len(proms)


def _regions(
    a: Analysis, corners: list[tuple[int, int]], size: int, proms: list[float]
) -> tuple[Region, ...]:
    """The tile where the peak is most prominent (labelled), then the others."""
    order = sorted(range(len(corners)), key=lambda i: -proms[i])
    return tuple(
        Region(
            a.to_original(_box_at_working(a, *corners[i], size)),
            "strongest periodic pattern" if rank == 0 else "tile analysed",
        )
        for rank, i in enumerate(order)
    )


def _lattice_period(p: dict) -> int:
    """Pixels after which a pattern at (kx/8, ky/8) repeats: 8 / gcd(8, kx, ky)."""
    from math import gcd

    return 8 // gcd(8, round(abs(p["fx"]) * 8), round(abs(p["fy"]) * 8))


def _period(p: dict) -> str:
    f = float(np.hypot(p["fx"], p["fy"]))
    return f"{1 / f:.1f}" if f else "?"


def _freq(p: dict) -> str:
    return f"{p['fx']:+.3f}, {p['fy']:+.3f} cycles per pixel (horizontal, vertical)"


def _box_at_working(a: Analysis, y: int, x: int, size: int) -> tuple[float, float, float, float]:
    s = a.scale
    return (x * s, y * s, size * s, size * s)
