"""Evidence drawn on the image: one PNG a person can look at."""

from __future__ import annotations

from pathlib import Path

from PIL import Image as PILImage
from PIL import ImageDraw

from .findings import Status
from .image import load_image
from .report import Report

_COLOURS = {Status.GENERATED: (230, 30, 30), Status.REAL: (30, 180, 60), Status.CLEAR: (80, 140, 230)}


def draw_overlay(pixels, report: Report, *, max_side: int = 1600) -> PILImage.Image:
    """The image with each finding's regions boxed and labelled (red: generated evidence)."""
    img = PILImage.fromarray(pixels)
    s = min(1.0, max_side / max(img.size))
    if s < 1.0:
        img = img.resize((round(img.width * s), round(img.height * s)), PILImage.Resampling.BILINEAR)
    d = ImageDraw.Draw(img)
    for f in report.findings:
        colour = _COLOURS.get(f.status)
        if colour is None:
            continue
        for r in f.regions:
            x, y, w, h = (v * s for v in r.box)
            d.rectangle([x, y, x + w, y + h], outline=colour, width=3)
            d.text((x + 4, y + 4), f"{f.cue} {r.label}".strip(), fill=colour)
    d.text((8, 8), f"{report.verdict} p={report.p_generated:.2f}", fill=(255, 255, 0))
    return img


def write_overlay(path: str, report: Report, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / (Path(path).name + ".telltales.png")
    draw_overlay(load_image(path).pixels, report).save(out)
    return out
