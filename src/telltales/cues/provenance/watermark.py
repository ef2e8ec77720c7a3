"""Invisible watermarks that open image generators embed by default.

The reference code of Stable Diffusion 1.x/2.x, SDXL (Stability AI's
``generative-models`` and Hugging Face ``diffusers``) and FLUX.1 (Black Forest
Labs) hides a fixed message in every image it saves, with the DWT-DCT method of
the ``invisible-watermark`` package (``imwatermark``, ``method='dwtDct'``):

1. convert the picture to YUV and take the U (blue-difference) plane;
2. one level of the Haar wavelet transform; keep the approximation band;
3. cut it into 4x4 blocks; in each block, take the largest coefficient (the DC
   corner excepted) and quantise its magnitude on a grid of 36 so that its
   remainder says one bit (below half a step: 0, above: 1);
4. block k carries bit ``k mod n`` of the n-bit message, so every bit is
   repeated over the whole image and read back by majority.

This module reads the blocks the same way (vectorised; the package's decoder is
a Python loop and importing the package pulls in torch), for each way the
reference code calls the encoder (8-bit or float pixels, BGR or RGB taken for
BGR), with the package's fixed majority threshold and with an adaptive one
(see :func:`message_bits`), and compares the bits with every known message. A
match must be one that an unmarked image reaches with odds below 1 in 10,000,
all comparisons counted. The mark lives on the exact pixel grid, so it is read
at the file's own size: any resizing or cropping destroys it, and JPEG
re-encoding usually does (see benchmarks/bench_watermark.py). Most generators
never add it: absence proves nothing. Anyone can also embed it in any picture
with the public code, so a match is strong but not signed evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from telltales.analysis import Analysis
from telltales.findings import Result
from telltales.registry import cue

CUE_ID = "provenance.watermark"

SCALE = 36.0  # imwatermark EmbedMaxDct default scales=[0, 36, 36]: only U is used
BLOCK = 4
MIN_PIXELS = 256 * 256  # imwatermark refuses to encode or decode smaller images
MIN_VOTES = 2  # blocks per message bit, for the longest message

# A match needs both: the chance that an unmarked image agrees this well (binomial
# tail, times the number of comparisons made) below CHANCE_LIMIT, and at least
# MATCH of the bits. On the dev set (as published) the best chance value of 346
# real photos large enough to read was 0.0075 and of 763 AI images without the
# mark 0.004 (as the binomial model expects), against 1e-13 for the one SDXL
# image that carries it: see benchmarks/bench_watermark.py.
MATCH = 0.75
CHANCE_LIMIT = 1e-4


def bits_of_bytes(message: bytes) -> tuple[int, ...]:
    """Bits as ``WatermarkEncoder().set_watermark('bytes', message)`` stores them."""
    return tuple(int(b) for b in np.unpackbits(np.frombuffer(message, dtype=np.uint8)))


def bits_of_int(message: int) -> tuple[int, ...]:
    """Bits as the reference code builds them: ``[int(b) for b in bin(message)[2:]]``.

    ``bin`` drops leading zeros, so a "48-bit" message starting with 00 is 46 bits long.
    """
    return tuple(int(b) for b in bin(message)[2:])


@dataclass(frozen=True)
class Mark:
    generator: str
    bits: tuple[int, ...]
    source: str


KNOWN_MARKS = (
    Mark(
        "Stable Diffusion 1.x",
        bits_of_bytes(b"StableDiffusionV1"),
        "CompVis/stable-diffusion scripts/txt2img.py and img2img.py",
    ),
    Mark(
        "Stable Diffusion 1.x inpainting",
        bits_of_bytes(b"StableDiffusionV1-Inpainting"),
        "runwayml/stable-diffusion inpainting scripts",
    ),
    Mark(
        "Stable Diffusion 2.x",
        bits_of_bytes(b"SDV2"),
        "Stability-AI/stablediffusion scripts/txt2img.py",
    ),
    Mark(
        "Stable Diffusion XL",
        bits_of_int(0b101100111110110010010000011110111011000110011110),
        "Stability-AI/generative-models sgm/inference/helpers.py; diffusers StableDiffusionXLWatermarker",
    ),
    Mark(
        "FLUX.1 (Black Forest Labs reference code)",
        bits_of_int(0b001010101111111010000111100111001111010100101110),
        "black-forest-labs/flux src/flux/util.py",
    ),
)


@dataclass(frozen=True)
class Reading:
    """How the encoder may have been called: channel order and pixel type."""

    name: str
    rgb_as_bgr: bool  # the caller passed RGB where the library expects OpenCV's BGR
    as_float: bool  # float32 pixels: OpenCV then centres U on 0.5 instead of 128


THRESHOLDS = ("fixed", "adaptive")

READINGS = (
    Reading("BGR, 8-bit (SD 1.x/2.x scripts)", rgb_as_bgr=False, as_float=False),
    Reading("BGR, float (generative-models, FLUX)", rgb_as_bgr=False, as_float=True),
    Reading("RGB passed as BGR, float (diffusers SDXL)", rgb_as_bgr=True, as_float=True),
    Reading("RGB passed as BGR, 8-bit", rgb_as_bgr=True, as_float=False),
)

N_TESTS = len(KNOWN_MARKS) * len(READINGS) * len(THRESHOLDS)


# 1. Read one bit from every 4x4 block of the U plane's Haar approximation -----------


# OpenCV's float conversion: U = 0.492 (B - Y) + 0.5 with Y = 0.299 R + 0.587 G + 0.114 B
U_WEIGHTS_RGB = np.array([-0.299 * 0.492, -0.587 * 0.492, 0.886 * 0.492], dtype=np.float32)


def u_plane(rgb: np.ndarray, reading: Reading) -> np.ndarray:
    """The U plane exactly as ``cv2.cvtColor(bgr, COLOR_BGR2YUV)`` gave it to the encoder."""
    import cv2

    if not reading.as_float:  # 8-bit: OpenCV's own fixed-point conversion, bit-exact
        code = cv2.COLOR_BGR2YUV if reading.rgb_as_bgr else cv2.COLOR_RGB2YUV
        return cv2.cvtColor(np.ascontiguousarray(rgb), code)[..., 1]
    weights = U_WEIGHTS_RGB[::-1] if reading.rgb_as_bgr else U_WEIGHTS_RGB
    return rgb.astype(np.float32) @ np.ascontiguousarray(weights) + np.float32(0.5)


def haar_approximation(plane: np.ndarray) -> np.ndarray:
    """``pywt.dwt2(x, 'haar')[0]`` on the plane cropped to a multiple of 4: (a+b+c+d)/2."""
    h, w = plane.shape[0] // 4 * 4, plane.shape[1] // 4 * 4
    x = plane[:h, :w].astype(np.float32)  # exact for 8-bit planes: sums of integers
    return (x[0::2, 0::2] + x[0::2, 1::2] + x[1::2, 0::2] + x[1::2, 1::2]) * np.float32(0.5)


def approximations(rgb: np.ndarray) -> dict[Reading, np.ndarray]:
    """``haar_approximation(u_plane(rgb, r))`` for every reading, without a full-size float image.

    The 8-bit readings need OpenCV's per-pixel rounding, so their U planes are converted
    at full size (8-bit, fast). A float reading's U is linear in the pixels, so its
    approximation is the same weights applied to the 2x2 sums of R, G and B, plus 2 x 0.5 / 2;
    this equals the full-size computation up to float32 rounding.
    """
    h, w = rgb.shape[0] // 4 * 4, rgb.shape[1] // 4 * 4
    x = rgb[:h, :w]
    sums = np.empty((h // 2, w // 2, 3), np.float32)  # exact: at most 4 x 255
    np.add(x[0::2, 0::2], x[0::2, 1::2], out=sums, dtype=np.float32)
    sums += x[1::2, 0::2]
    sums += x[1::2, 1::2]
    out = {}
    for r in READINGS:
        if r.as_float:
            weights = U_WEIGHTS_RGB[::-1] if r.rgb_as_bgr else U_WEIGHTS_RGB
            out[r] = sums @ np.ascontiguousarray(weights * np.float32(0.5)) + np.float32(1.0)
        else:
            out[r] = haar_approximation(u_plane(rgb, r))
    return out


def block_count(h: int, w: int) -> int:
    """How many 4x4 blocks of the half-size approximation an h x w image has."""
    return (h // 4 * 2 // BLOCK) * (w // 4 * 2 // BLOCK)


def block_bits(approx: np.ndarray) -> np.ndarray:
    """One 0/1 per 4x4 block in raster order (``EmbedMaxDct.infer_dct_matrix``)."""
    rows, cols = approx.shape[0] // BLOCK, approx.shape[1] // BLOCK
    blocks = approx[: rows * BLOCK, : cols * BLOCK].reshape(rows, BLOCK, cols, BLOCK)
    blocks = blocks.transpose(0, 2, 1, 3).reshape(rows * cols, BLOCK * BLOCK)
    pos = np.argmax(np.abs(blocks[:, 1:]), axis=1) + 1
    val = np.abs(blocks[np.arange(len(blocks)), pos])
    return np.mod(val, np.float32(SCALE)) > np.float32(0.5 * SCALE)


def bit_averages(blocks: np.ndarray, n: int) -> np.ndarray:
    """For each of the n bits, the share of its blocks that read 1 (block k carries bit k mod n)."""
    index = np.arange(len(blocks)) % n
    ones = np.bincount(index, weights=blocks.astype(np.float64), minlength=n)
    return ones / np.maximum(np.bincount(index, minlength=n), 1)


def message_bits(blocks: np.ndarray, n: int, adaptive: bool = False) -> np.ndarray:
    """The n bits by majority vote, as ``EmbedMaxDct.decode`` does (share of ones above 127/255).

    ``adaptive`` thresholds at the image's own mean share instead. The encoder
    can only raise the largest coefficient reliably: in blocks of flat colour a
    0 bit lowers it below its neighbours, and the reader then picks a neighbour
    and reads noise, mostly 1. Every bit's share of ones then sits above one
    half, the 0 bits a little less so; the fixed threshold reads them all as 1,
    the image's own mean still separates them.
    """
    avg = bit_averages(blocks, n)
    if adaptive:
        return avg > avg.mean()
    return avg * 255 > 127


# 2. Compare with every known message ---------------------------------------------------


def chance_of_match(agree: int, n: int) -> float:
    """P(at least ``agree`` of n random bits match), times the number of comparisons made."""
    tail = sum(math.comb(n, k) for k in range(agree, n + 1)) / 2.0**n
    return min(1.0, tail * N_TESTS)


@dataclass(frozen=True)
class Match:
    mark: Mark
    reading: Reading
    threshold: str
    agree: int

    @property
    def n(self) -> int:
        return len(self.mark.bits)

    @property
    def fraction(self) -> float:
        return self.agree / self.n

    @property
    def chance(self) -> float:
        return chance_of_match(self.agree, self.n)


def best_matches(rgb: np.ndarray) -> list[Match]:
    """For each known message, its best agreement over the ways the encoder may have been called."""
    per_reading = {r: block_bits(approx) for r, approx in approximations(rgb).items()}
    out = []
    for mark in KNOWN_MARKS:
        target = np.array(mark.bits, dtype=bool)
        scored = [
            Match(
                mark,
                r,
                t,
                int(np.sum(message_bits(blocks, len(target), t == "adaptive") == target)),
            )
            for r, blocks in per_reading.items()
            for t in THRESHOLDS
        ]
        out.append(max(scored, key=lambda m: m.fraction))
    return sorted(out, key=lambda m: (m.chance, -m.fraction))


def strength_of(match: Match) -> float:
    """0.8 at the threshold (chance 1e-4) up to 0.95 (chance 1e-12 or less): strong, but forgeable."""
    decades = -math.log10(max(match.chance, 1e-300)) - 4.0
    return round(0.8 + 0.15 * min(1.0, max(0.0, decades / 8.0)), 3)


@cue(CUE_ID, needs=("native",), version="1")
def generator_watermark(a: Analysis) -> Result:
    """The invisible DWT-DCT watermark that Stable Diffusion, SDXL and FLUX reference code embed."""
    rgb: np.ndarray = a.native
    h, w = rgb.shape[:2]
    if h * w < MIN_PIXELS:
        return Result.not_applicable(
            f"image too small to carry the generators' invisible watermark ({w}x{h} px; the "
            f"watermarking library refuses images under 256x256 = 65,536 pixels)"
        )
    if block_count(h, w) < MIN_VOTES * max(len(m.bits) for m in KNOWN_MARKS):
        return Result.not_applicable(
            f"image too thin to read the generators' invisible watermark ({w}x{h} px: too few "
            f"8x8-pixel blocks to vote on every bit of the message)"
        )
    matches = best_matches(rgb)
    details = {
        "matches": [
            {
                "generator": m.mark.generator,
                "bits": m.n,
                "agree": m.agree,
                "fraction": round(m.fraction, 4),
                "chance": m.chance,
                "reading": m.reading.name,
                "threshold": m.threshold,
            }
            for m in matches
        ],
        "read_at": [w, h],
    }
    best = matches[0]
    if best.fraction >= MATCH and best.chance < CHANCE_LIMIT:
        return Result.generated(
            strength_of(best),
            f"The invisible watermark of {best.mark.generator} is in the pixels: {best.agree} of "
            f"its {best.n} bits read back (an unmarked image matches this well with odds of about "
            f"{best.chance:.0e}). "
            f"Its public reference code adds this mark to every image it makes; anyone could "
            f"also add it to any picture, so it is strong but not signed evidence.",
            details=details | {"watermark": best.mark.generator, "source": best.mark.source},
        )
    return Result.clear(
        "no known generator watermark found (Stable Diffusion 1.x/2.x, SDXL, FLUX reference code); "
        "most generators never add it, and resizing or JPEG re-encoding usually destroys it, "
        "so absence proves nothing",
        details=details,
    )
