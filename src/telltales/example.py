"""Example images made by telltales itself, so a fresh install has something to inspect.

They are synthetic pictures (gradients, shapes, noise) carrying the kind of
metadata real tools write: ``sd-png`` has the ``parameters`` text chunk that
AUTOMATIC1111's Stable Diffusion web UI stores; ``camera-jpeg`` has camera
EXIF; ``plain-png`` has none. They demonstrate the report, nothing more.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image as PILImage
from PIL import ImageDraw, PngImagePlugin

KINDS = ("sd-png", "camera-jpeg", "plain-png")

A1111_PARAMETERS = (
    "a lighthouse on a cliff at sunset, highly detailed\n"
    "Negative prompt: blurry, lowres\n"
    "Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234567890, "
    "Size: 640x480, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Version: v1.7.0"
)


def picture(width: int = 640, height: int = 480, seed: int = 0) -> PILImage.Image:
    """A deterministic photo-like scene: sky gradient, sea, a lighthouse, sensor-like noise."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, height)[:, None, None]
    sky = np.array([255, 170, 90]) * (1 - y) + np.array([60, 80, 160]) * y
    img = np.broadcast_to(sky, (height, width, 3)).copy()
    horizon = int(height * 0.62)
    img[horizon:] = np.array([30, 60, 110]) + rng.normal(0, 6, (height - horizon, width, 3))
    pil = PILImage.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(pil)
    cx = int(width * 0.7)
    d.polygon([(cx - 25, horizon), (cx + 25, horizon), (cx + 12, horizon - 180), (cx - 12, horizon - 180)], fill=(235, 235, 225))
    for k in range(3):
        top = horizon - 150 + k * 50
        d.rectangle([cx - 20, top, cx + 20, top + 14], fill=(190, 40, 40))
    d.ellipse([int(width * 0.15), int(height * 0.2), int(width * 0.15) + 60, int(height * 0.2) + 60], fill=(255, 230, 160))
    arr = np.asarray(pil).astype(np.float64) + rng.normal(0, 2.0, (height, width, 3))
    return PILImage.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def make_example(kind: str = "sd-png", *, width: int = 640, height: int = 480) -> bytes:
    """The bytes of an example file of ``kind`` (one of :data:`KINDS`)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    pil = picture(width, height)
    buf = io.BytesIO()
    if kind == "sd-png":
        info = PngImagePlugin.PngInfo()
        info.add_text("parameters", A1111_PARAMETERS)
        pil.save(buf, "PNG", pnginfo=info)
    elif kind == "camera-jpeg":
        exif = PILImage.Exif()
        exif[0x010F] = "Canon"  # Make
        exif[0x0110] = "Canon EOS 5D Mark IV"  # Model
        exif[0x0131] = "Firmware Version 1.3.3"  # Software
        exif[0x0132] = "2024:06:01 18:42:10"  # DateTime
        ifd = exif.get_ifd(0x8769)
        ifd[0x829A] = 1 / 250  # ExposureTime
        ifd[0x829D] = 8.0  # FNumber
        ifd[0x8827] = 200  # ISO
        ifd[0x9003] = "2024:06:01 18:42:10"  # DateTimeOriginal
        ifd[0x920A] = 35.0  # FocalLength
        ifd[0xA434] = "EF24-70mm f/2.8L II USM"  # LensModel
        pil.save(buf, "JPEG", quality=92, exif=exif)
    else:
        pil.save(buf, "PNG")
    return buf.getvalue()
