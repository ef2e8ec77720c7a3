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

from telltales.analyses.residual import highpass, luma, native_crops
from telltales.analysis import Analysis
from telltales.findings import Region, Result
from telltales.registry import cue

TILE = 256
MIN_TILE = 128
# Prominence (dB above the local median of the spectrum) of the strongest peak
# on the k/8 lattice in a never-JPEG image; chosen on the dev data so that at
# most 2% of real photos (as published and web-degraded) reach it, see
# benchmarks/bench_noise.py and the report.
LATTICE_DB = 12.0
# Same for peaks off the k/8 lattice (any image).
OFF_LATTICE_DB = 14.0
STRENGTH_CAP = 0.6


def _power_spectrum(tiles: list[np.ndarray]) -> np.ndarray:
    """Mean power spectrum (not shifted: DC at [0, 0]) of the tiles' noise residuals."""
    n = tiles[0].shape[0]
    win = np.outer(np.hanning(n), np.hanning(n)).astype(np.float32)
    acc = np.zeros((n, n), np.float64)
    for t in tiles:
        r = highpass(t)
        r = (r - r.mean()) * win
        acc += np.abs(np.fft.fft2(r)) ** 2
    return acc / len(tiles)


def _prominence(power: np.ndarray) -> np.ndarray:
    """dB above the 5x5 median around each frequency (spectrum treated as periodic)."""
    import cv2

    logp = (10.0 * np.log10(power + 1e-12)).astype(np.float32)
    pad = np.pad(logp, 2, mode="wrap")
    background = cv2.medianBlur(pad, 5)[2:-2, 2:-2]
    return logp - background


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
        # a peak may spread over the neighbouring bin (window); take the best of 3x3
        ys = [(iy + d) % n for d in (-1, 0, 1)]
        xs = [(ix + d) % n for d in (-1, 0, 1)]
        p = float(prom[np.ix_(ys, xs)].max())
        out.append({"fx": kx / 8 if kx <= 4 else kx / 8 - 1, "fy": ky / 8 if ky <= 4 else ky / 8 - 1,
                    "prominence_db": round(p, 2)})
    return sorted(out, key=lambda d: -d["prominence_db"])


def _off_lattice_peaks(prom: np.ndarray, k: int = 5) -> list[dict]:
    """The strongest peaks away from DC and from the k/8 lattice."""
    n = prom.shape[0]
    f = np.fft.fftfreq(n)
    fy, fx = np.meshgrid(f, f, indexing="ij")
    mask = np.hypot(fx, fy) > 0.06
    step = n / 8
    near = lambda idx: np.minimum(idx % step, step - idx % step) <= 2  # noqa: E731
    iy, ix = np.indices(prom.shape)
    mask &= ~(near(iy) & near(ix))
    mask &= fx >= 0  # one of each conjugate pair (roughly)
    vals = np.where(mask, prom, -np.inf).ravel()
    order = np.argsort(vals)[::-1]
    out: list[dict] = []
    for i in order:
        if len(out) >= k or not np.isfinite(vals[i]):
            break
        y, x = divmod(int(i), n)
        if any(abs(o["_y"] - y) <= 2 and abs(o["_x"] - x) <= 2 for o in out):
            continue
        out.append({"_y": y, "_x": x, "fx": round(float(fx[y, x]), 4), "fy": round(float(fy[y, x]), 4),
                    "prominence_db": round(float(prom[y, x]), 2)})
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
    """Capped logistic in the dB above threshold."""
    return float(STRENGTH_CAP / (1.0 + np.exp(-(excess_db + 2.0) / 2.0)))


@cue("noise.spectrum", needs=("native",), version="1")
def spectral_peaks(a: Analysis) -> Result:
    """Periodic peaks that upsampling layers leave in the noise spectrum."""
    px = a.native
    h, w = px.shape[:2]
    size = TILE if min(h, w) >= TILE else MIN_TILE
    corners = native_crops((h, w), size)
    if not corners:
        return Result.not_applicable(f"image too small to measure its spectrum ({w}x{h} px)")
    tiles = [luma(px[y : y + size, x : x + size]) for y, x in corners]
    if max(float(t.std()) for t in tiles) < 1.0:
        return Result.not_applicable("the image is flat: there is no noise to measure")
    power = _power_spectrum(tiles)
    prom = _prominence(power)
    lattice = _lattice_peaks(prom)
    off = _off_lattice_peaks(prom)
    was_jpeg = a.image.format == "JPEG"
    best_lattice = lattice[0]["prominence_db"]
    best_off = off[0]["prominence_db"] if off else 0.0
    details = {
        "tiles": len(tiles), "tile_px": size, "jpeg_file": was_jpeg,
        "lattice_peaks": lattice[:6], "off_lattice_peaks": off,
        "max_lattice_db": best_lattice, "max_off_lattice_db": best_off,
        "max_lattice_offaxis_db": max(p["prominence_db"] for p in lattice if p["fx"] and p["fy"]),
        "decay_slope": round(_decay_slope(tiles), 3),
        "log_spectrum_32": _thumbnail(power),
    }
    regions = tuple(Region(a.to_original(_box_at_working(a, y, x, size)), "tile analysed") for y, x in corners)
    if not was_jpeg and best_lattice >= LATTICE_DB:
        p = lattice[0]
        return Result.generated(
            _strength(best_lattice - LATTICE_DB),
            f"The fine noise of this image repeats every {_period(p)} pixels: its spectrum has a sharp peak "
            f"{best_lattice:.0f} dB above its surroundings at {_freq(p)}. Upsampling layers in image "
            "generators leave such a grid; camera photos that were never JPEG-compressed rarely do.",
            regions=regions, details=details,
        )
    if best_off >= OFF_LATTICE_DB:
        p = off[0]
        return Result.generated(
            _strength(best_off - OFF_LATTICE_DB),
            f"The fine noise of this image has a strong periodic component at {_freq(p)} "
            f"({best_off:.0f} dB above its surroundings), a pattern that resizing by a generator's "
            "upsampling (or by an editor) leaves and cameras do not.",
            regions=regions, details=details,
        )
    if was_jpeg:
        reason = ("No periodic pattern beyond what JPEG compression itself makes. Peaks every 8 pixels are "
                  "ignored in a JPEG, because its 8x8 blocks make them too.")
    else:
        reason = "The noise spectrum has no sharp periodic peaks of the kind upsampling layers leave."
    return Result.clear(reason, regions=regions, details=details)


def _period(p: dict) -> str:
    f = max(abs(p["fx"]), abs(p["fy"]))
    return f"{1 / f:.0f}" if f else "?"


def _freq(p: dict) -> str:
    return f"{p['fx']:+.3f}, {p['fy']:+.3f} cycles per pixel (horizontal, vertical)"


def _box_at_working(a: Analysis, y: int, x: int, size: int) -> tuple[float, float, float, float]:
    s = a.scale
    return (x * s, y * s, size * s, size * s)
