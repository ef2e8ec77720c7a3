"""noise.jpeg: the JPEG history of the file (Farid 2009, "Exposing digital forgeries from JPEG ghosts"; Kee, Johnson, Farid 2011).

Every JPEG carries the quantisation tables its encoder used. Cameras and
phones write their own tables, tuned by the maker; software libraries
(libjpeg, Pillow, browsers, web platforms and the services that deliver
generated images) write the standard IJG table scaled to a quality setting.
So a camera-specific table is (weak, forgeable) evidence that the file came
straight from a camera, while a standard table says only that a library
wrote it: real photos pass through such libraries on every website, so that
alone is no evidence of generation. A PNG or WebP has no JPEG history to read.

The cue also reports two traces of earlier compressions in the pixels: the
8x8 block grid (and whether it lines up with the file's own grid: a shifted
grid means the picture was cropped after an earlier compression) and, for
JPEGs, the comb-like gaps that double quantisation leaves in the histograms
of DCT coefficients. They describe the file's past; neither is evidence of
generation on its own.
"""

from __future__ import annotations

import hashlib

import numpy as np

from telltales.analyses.pixels import luma
from telltales.analysis import Analysis
from telltales.findings import Result
from telltales.formats.jpeg import ZIGZAG, ijg_quality, is_jpeg, quantisation_tables
from telltales.registry import cue

# zig-zag index -> natural index
# On the dev data (all 648 JPEGs as published), non-IJG tables together with an EXIF
# camera make and model: 46 real, 0 generated; non-IJG tables without them: 14 real,
# 37 generated (editors, galleries). Kept weak: both tables and EXIF can be copied.
CAMERA_TABLE_STRENGTH = 0.25
DQ_THRESHOLD = 0.1
GRID_THRESHOLD = 0.15


def _dct_matrix() -> np.ndarray:
    k = np.arange(8)
    d = np.cos(np.pi * (2 * k[None, :] + 1) * k[:, None] / 16) * np.sqrt(2 / 8)
    d[0] /= np.sqrt(2)
    return d


def block_dct(y: np.ndarray) -> np.ndarray:
    """(n, 8, 8) orthonormal DCT (the JPEG DCT) of the 8x8 blocks of ``y`` (level-shifted)."""
    h, w = (y.shape[0] // 8) * 8, (y.shape[1] // 8) * 8
    b = (y[:h, :w] - 128.0).reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3).reshape(-1, 8, 8)
    d = _dct_matrix()
    return np.einsum("ij,njk,lk->nil", d, b, d)


def grid_offset(y: np.ndarray) -> tuple[tuple[int, int], float]:
    """Phase (dy, dx) of the strongest 8-pixel block grid and its strength.

    For every pixel step, how much larger the difference is than the mean of
    its two neighbouring steps (positive only at block boundaries, cancels
    smooth content); folded modulo 8, the largest phase is the grid.
    Strength: log ratio of the boundary phase to the next strongest phase
    (about 0 without a grid, and for 2- or 4-pixel patterns, which are not
    JPEG's).
    """

    def phase(d: np.ndarray) -> tuple[int, float]:
        d = np.abs(d)
        excess = np.maximum(d[:, 1:-1] - 0.5 * (d[:, :-2] + d[:, 2:]), 0).mean(axis=0)
        excess = np.concatenate([[0.0], excess, [0.0]])  # excess[k]: step between pixel k and k+1
        n = (len(excess) // 8) * 8
        per = excess[:n].reshape(-1, 8).mean(axis=0)
        k = int(np.argmax(per))
        runner_up = np.delete(per, k).max()  # a 2- or 4-pixel pattern has several equal phases
        return (k + 1) % 8, float(np.log((per[k] + 1e-3) / (runner_up + 1e-3)))

    (ox, sx) = phase(np.diff(y, axis=1))
    (oy, sy) = phase(np.diff(y, axis=0).T)
    return (oy, ox), (sx + sy) / 2


def double_quantisation(y: np.ndarray, table_zz: list[int]) -> float | None:
    """Share of a coefficient histogram that sits in comb teeth (0 ~ none; > 0.1 recompressed).

    After quantising twice with different steps, the histogram of each
    low-frequency coefficient (in units of the last step) is no longer a
    smooth, decreasing curve from 0 outwards: some bins are empty and others
    over-full, periodically (Popescu and Farid 2004). The score is the share
    of the non-zero coefficients in bins that rise above their inner
    neighbour by more than counting noise, median over the first nine AC
    coefficients. None where too few coefficients are non-zero.
    """
    coefs = block_dct(y).reshape(-1, 64)
    scores = []
    for zz in range(1, 10):
        q = table_zz[zz]
        c = np.abs(np.rint(coefs[:, ZIGZAG[zz]] / q).astype(int))
        c = c[(c > 0) & (c <= 40)]
        if len(c) < 200:
            continue
        h = np.bincount(c, minlength=41)[1:41].astype(float)
        rise = h[1:] - h[:-1] - 2.0 * np.sqrt(h[1:] + h[:-1] + 1.0)
        scores.append(float(np.maximum(rise, 0).sum() / h.sum()))
    return float(np.median(scores)) if scores else None


def _table_id(tables: dict[int, list[int]]) -> str:
    blob = b"".join(bytes(min(255, v) for v in tables[k]) for k in sorted(tables))
    return hashlib.sha1(blob).hexdigest()[:12]


def camera_named(exif: bytes | None) -> str | None:
    """'Make Model' from EXIF when both are present, else None."""
    if not exif:
        return None
    from PIL import Image as PILImage

    try:
        tags = PILImage.Exif()
        tags.load(exif)
    except Exception:  # noqa: BLE001 - unreadable EXIF is simply no camera name
        return None
    make, model = (str(tags.get(t, "")).strip("\x00 ").strip() for t in (0x010F, 0x0110))
    return f"{make} {model}".strip() if make and model else None


def exif_orientation(exif: bytes | None) -> int:
    """The EXIF orientation tag (1-8), 1 when absent or unreadable."""
    if not exif:
        return 1
    from PIL import Image as PILImage

    try:
        tags = PILImage.Exif()
        tags.load(exif)
        value = int(tags.get(0x0112, 1))
    except Exception:  # noqa: BLE001 - unreadable EXIF means no rotation was applied
        return 1
    return value if 1 <= value <= 8 else 1


def as_stored(px: np.ndarray, orientation: int) -> np.ndarray:
    """Undo the EXIF rotation/flip the loader applied, so JPEG blocks line up with (0, 0) again."""
    undo = {
        2: lambda x: x[:, ::-1],
        3: lambda x: x[::-1, ::-1],
        4: lambda x: x[::-1],
        5: lambda x: x.swapaxes(0, 1),
        6: lambda x: np.rot90(x, 1),
        7: lambda x: np.rot90(x, 2).swapaxes(0, 1),
        8: lambda x: np.rot90(x, -1),
    }
    return undo[orientation](px) if orientation in undo else px


def _central_luma(px: np.ndarray, size: int = 512) -> np.ndarray:
    h, w = px.shape[:2]
    y0 = max(0, (h - size) // 2) // 8 * 8
    x0 = max(0, (w - size) // 2) // 8 * 8
    return luma(px[y0 : y0 + size, x0 : x0 + size])


@cue("noise.jpeg", needs=("raw", "native", "metadata"), version="2")
def jpeg_history(a: Analysis) -> Result:
    """Quantisation tables, block grid and double compression: the file's JPEG history."""
    raw = a.raw
    h, w = a.native.shape[:2]
    if min(h, w) < 32:
        return Result.not_applicable(f"image too small to read a JPEG history ({w}x{h} px)")
    orientation = exif_orientation(a.metadata.exif) if is_jpeg(raw) else 1
    y = _central_luma(as_stored(a.native, orientation))
    offset, grid = grid_offset(y)
    grid_details = {"grid_offset": list(offset), "grid_strength": round(grid, 3)}
    if not is_jpeg(raw):
        trace = (
            "its pixels still show an 8x8 JPEG block grid, so it was a JPEG before"
            if grid > GRID_THRESHOLD
            else "its pixels show no JPEG block grid"
        )
        return Result.not_applicable(
            f"The file is {a.image.format}, not JPEG, so it has no JPEG tables to read; {trace}.",
            details=grid_details | {"earlier_jpeg": grid > GRID_THRESHOLD},
        )
    tables = quantisation_tables(raw)
    if not tables or 0 not in tables:
        return Result.not_applicable(
            "JPEG without readable quantisation tables", details=grid_details
        )
    quality = ijg_quality(tables)
    dq = double_quantisation(y, tables[0]) if offset == (0, 0) else None
    details = grid_details | {
        "tables": {str(k): v for k, v in sorted(tables.items())},
        "table_id": _table_id(tables),
        "ijg_quality": quality,
        "double_quantisation": None if dq is None else round(dq, 3),
        "cropped_after_compression": offset != (0, 0) and grid > GRID_THRESHOLD,
    }
    history = []
    if details["cropped_after_compression"]:
        history.append(
            f"its block grid is shifted by {offset[1]} px horizontally and {offset[0]} px "
            "vertically, so it was cropped after an earlier JPEG compression"
        )
    if dq is not None and dq > DQ_THRESHOLD:
        history.append("its DCT histograms show the comb of a second compression")
    past = (" Also, " + "; ".join(history) + ".") if history else ""
    if quality is not None:
        return Result.clear(
            f"Saved with the standard JPEG library table at quality {quality}, as Pillow, browsers, web "
            "platforms and image generators' services write. That says the last save was by software, "
            f"not a camera; it is no evidence of how the picture was made.{past}",
            details=details,
        )
    camera = camera_named(a.metadata.exif)
    details["exif_camera"] = camera
    if camera is None:
        return Result.clear(
            "Saved with non-standard quantisation tables but without a camera named in EXIF: an image "
            "editor, a phone app or a web service wrote it. On the dev data such files were mostly "
            "generated images re-saved by galleries and editors, and some real photos, so the table "
            f"is not counted either way.{past}",
            details=details,
        )
    return Result.real(
        CAMERA_TABLE_STRENGTH,
        f"Saved with non-standard quantisation tables, as cameras and phones write, by a file that names "
        f"its camera ({camera}). Generator services and common libraries write the standard table. Weak "
        f"evidence of a camera origin: tables and EXIF can be copied.{past}",
        details=details,
    )
