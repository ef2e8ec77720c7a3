"""Evidence drawn on the image: one PNG a person can read.

Each box gets a numbered badge on the picture; the legend below the picture says, per number,
which cue or manual check named the box and why. Labels therefore never cover each other or
the picture, and they are sized to the image. Boxes a cue marks only as "analysed here" are
not evidence and are not drawn. :func:`evidence_boxes` is shared with the web app.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .image import load_image
from .report import Report

KIND_COLOURS: dict[str, tuple[int, int, int]] = {
    "generated": (220, 38, 38),
    "real": (22, 163, 74),
    "manual": (234, 140, 0),
    "clear": (37, 99, 235),
}
KIND_TITLES = {
    "generated": "evidence of generation",
    "real": "evidence of a real photo",
    "manual": "for a person to check",
    "clear": "looked at, nothing found",
}
_STATUS_KIND = {"generated-evidence": "generated", "real-evidence": "real", "clear": "clear"}
NOT_EVIDENCE_LABELS = frozenset({"tile analysed"})


@dataclass(frozen=True)
class Box:
    number: int
    source: str  # the cue id of the finding or manual check that named the box
    kind: str  # a key of KIND_COLOURS
    box: tuple[int, int, int, int]  # (x, y, w, h) in oriented original pixels
    label: str


def evidence_boxes(report: dict[str, Any]) -> tuple[Box, ...]:
    """The boxes worth drawing from a report's JSON: findings' regions (generated, real, then
    clear) and the manual checks' regions, numbered from 1, without "tile analysed" boxes."""
    found: list[tuple[str, str, tuple[int, int, int, int], str]] = []
    for kind in ("generated", "real", "clear"):
        for f in report.get("findings", []):
            if _STATUS_KIND.get(f.get("status")) != kind:
                continue
            for r in f.get("regions") or []:
                if r.get("label", "") not in NOT_EVIDENCE_LABELS:
                    found.append((f["cue"], kind, tuple(r["box"]), r.get("label", "")))
    for m in report.get("manual_checks", []):
        for r in m.get("regions") or []:
            found.append((m["cue"], "manual", tuple(r["box"]), r.get("label", "")))
    # manual boxes read after the automated evidence but before the "nothing found" context
    order = {"generated": 0, "real": 1, "manual": 2, "clear": 3}
    found.sort(key=lambda t: order[t[1]])
    return tuple(Box(i + 1, cue, kind, box, label) for i, (cue, kind, box, label) in enumerate(found))


def font_size_for(width: int, height: int) -> int:
    """A label size readable at the image's own scale."""
    return int(min(40, max(12, round(max(width, height) / 55))))


def _font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: fixed-size bitmap font
        return ImageFont.load_default()


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def badge_position(box: tuple[float, float, float, float], size: tuple[float, float],
                   image: tuple[int, int], placed: list[tuple[float, float, float, float]]
                   ) -> tuple[float, float]:
    """Where a badge of ``size`` goes for ``box`` (x0, y0, x1, y1): at a corner of the box,
    inside the image, clear of badges already ``placed`` when any corner allows it."""
    bw, bh = size
    x0, y0, x1, y1 = box
    candidates = [(x0, y0 - bh), (x0, y0), (x1 - bw, y0), (x0, y1), (x1 - bw, y1 - bh), (x0, y1 - bh)]
    clamped = [(min(max(0.0, x), image[0] - bw), min(max(0.0, y), image[1] - bh)) for x, y in candidates]
    for x, y in clamped:
        if not any(_overlaps((x, y, x + bw, y + bh), p) for p in placed):
            return x, y
    x, y = clamped[0]
    while any(_overlaps((x, y, x + bw, y + bh), p) for p in placed) and x + 2 * bw <= image[0]:
        x += bw
    return x, y


def legend_lines(boxes: tuple[Box, ...], width_chars: int) -> list[tuple[str, str]]:
    """(kind, text) lines of the legend, wrapped to ``width_chars``."""
    lines: list[tuple[str, str]] = []
    for b in boxes:
        text = f"{b.number}. {b.source}" + (f": {b.label}" if b.label else "")
        for i, part in enumerate(textwrap.wrap(text, max(20, width_chars)) or [text]):
            lines.append((b.kind, part if i == 0 else "    " + part))
    return lines


def draw_overlay(pixels: Any, report: Report, *, max_side: int = 1600) -> Any:
    """The image with numbered evidence boxes, and below it a legend saying what each is."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    img = PILImage.fromarray(pixels).convert("RGB")
    s = min(1.0, max_side / max(img.size))
    if s < 1.0:
        img = img.resize((round(img.width * s), round(img.height * s)), PILImage.Resampling.BILINEAR)
    W, H = img.size
    fs = font_size_for(W, H)
    font = _font(fs)
    line_w = max(2, fs // 6)
    pad = max(3, fs // 4)
    boxes = evidence_boxes(report.to_dict())

    d = ImageDraw.Draw(img)
    placed: list[tuple[float, float, float, float]] = []
    for b in boxes:
        x, y, w, h = (v * s for v in b.box)
        x0, y0 = max(0.0, x), max(0.0, y)
        x1, y1 = min(W - 1.0, x + w), min(H - 1.0, y + h)
        if x1 <= x0 or y1 <= y0:
            continue
        colour = KIND_COLOURS[b.kind]
        d.rectangle([x0, y0, x1, y1], outline=colour, width=line_w)
        t = str(b.number)
        tb = d.textbbox((0, 0), t, font=font)
        size = (tb[2] - tb[0] + 2 * pad, tb[3] - tb[1] + 2 * pad)
        bx, by = badge_position((x0, y0, x1, y1), size, (W, H), placed)
        placed.append((bx, by, bx + size[0], by + size[1]))
        d.rectangle([bx, by, bx + size[0], by + size[1]], fill=colour)
        d.text((bx + pad - tb[0], by + pad - tb[1]), t, fill=(255, 255, 255), font=font)

    title = f"{report.verdict.upper()}  p_generated={report.p_generated:.2f}"
    if report.unsure_reason:
        title += f"  (unsure because {report.unsure_reason})"
    char_w = max(1.0, d.textlength("abcdefghij", font=font) / 10)
    chars = int((W - 2 * pad) / char_w) - 4
    title_lines = textwrap.wrap(title, max(20, chars))
    lines = legend_lines(boxes, chars)
    if not boxes:
        lines = [("clear", "no regions to draw: the findings name no place in the picture")]
    lh = round(fs * 1.35)
    legend_h = pad * 3 + lh * (len(title_lines) + len(lines))
    out = PILImage.new("RGB", (W, H + legend_h), (250, 250, 250))
    out.paste(img, (0, 0))
    d = ImageDraw.Draw(out)
    y = H + pad
    for tl in title_lines:
        d.text((pad, y), tl, fill=(0, 0, 0), font=font)
        y += lh
    y += pad
    for kind, text in lines:
        d.rectangle([pad, y + lh * 0.15, pad + fs * 0.8, y + lh * 0.15 + fs * 0.8], fill=KIND_COLOURS[kind])
        d.text((pad + fs * 1.2, y), text, fill=(20, 20, 20), font=font)
        y += lh
    return out


def write_overlay(path: str, report: Report, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / (Path(path).name + ".telltales.png")
    draw_overlay(load_image(path).pixels, report).save(out)
    return out
