"""provenance.watermark: marks embedded in the test with imwatermark's own encoder (tests/reference, no torch)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image as PILImage

from conftest import encode
from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.cues.provenance import watermark as W
from telltales.example import picture
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import get


@pytest.fixture(scope="module")
def maxdct():
    """imwatermark's own encoder and decoder (maxDct.py of invisible-watermark 0.2.0, kept in tests/reference)."""
    from reference import imwatermark_maxdct

    return imwatermark_maxdct


def embed(maxdct, rgb: np.ndarray, bits, style: str) -> np.ndarray:
    """Embed as each reference implementation calls the encoder."""
    enc = maxdct.EmbedMaxDct(list(bits), wmLen=len(bits))
    if style == "scripts":  # SD 1.x/2.x: cv2.cvtColor(RGB2BGR) on uint8, then [:, :, ::-1]
        return np.ascontiguousarray(enc.encode(rgb[..., ::-1].copy())[..., ::-1])
    if style == "sgm":  # generative-models / FLUX: float32 tensor, flipped to BGR
        out = enc.encode(rgb[..., ::-1].astype(np.float32))[..., ::-1]
    else:  # diffusers SDXL: float32 RGB passed as is
        out = enc.encode(rgb.astype(np.float32))
    return np.ascontiguousarray(np.clip(np.round(out), 0, 255).astype(np.uint8))


def run(data: bytes):
    f, _ = run_cue(get("provenance.watermark"), Analysis(load_image(data)))
    assert f.status != Status.ERROR, f.reason
    return f


MARKS = {m.generator: m for m in W.KNOWN_MARKS}


def test_known_messages_are_the_reference_values():
    assert len(MARKS["Stable Diffusion XL"].bits) == 48
    assert MARKS["Stable Diffusion XL"].bits[:8] == (1, 0, 1, 1, 0, 0, 1, 1)  # 0xB3...
    assert len(MARKS["FLUX.1 (Black Forest Labs reference code)"].bits) == 46  # bin() drops "00"
    assert len(MARKS["Stable Diffusion 1.x"].bits) == 8 * len(b"StableDiffusionV1")
    assert np.packbits(MARKS["Stable Diffusion 2.x"].bits).tobytes() == b"SDV2"


def test_approximations_equal_the_full_size_reading_for_every_reading():
    rgb = np.asarray(picture(332, 260, seed=9))
    fast = W.approximations(rgb)
    for r in W.READINGS:
        full = W.haar_approximation(W.u_plane(rgb, r))
        np.testing.assert_allclose(fast[r], full, rtol=0, atol=1e-4)
        np.testing.assert_array_equal(W.block_bits(fast[r]), W.block_bits(full))


@pytest.mark.parametrize("n", [32, 48, 136])
def test_vectorised_reader_equals_the_package_decoder(maxdct, n):
    rgb = np.asarray(picture(320, 256, seed=5))
    reference = maxdct.EmbedMaxDct(watermarks=[], wmLen=n).decode(rgb[..., ::-1].copy())
    reading = W.READINGS[0]  # BGR, 8-bit: what the package sees from cv2.imread
    ours = W.message_bits(W.block_bits(W.haar_approximation(W.u_plane(rgb, reading))), n)
    np.testing.assert_array_equal(ours, reference)


@pytest.mark.parametrize(
    "generator,style",
    [
        ("Stable Diffusion 1.x", "scripts"),
        ("Stable Diffusion 2.x", "scripts"),
        ("Stable Diffusion XL", "diffusers"),
        ("Stable Diffusion XL", "sgm"),
        ("FLUX.1 (Black Forest Labs reference code)", "sgm"),
    ],
)
def test_embedded_watermark_is_found(maxdct, generator, style):
    mark = MARKS[generator]
    marked = embed(maxdct, np.asarray(picture(512, 512, seed=1)), mark.bits, style)
    f = run(encode(PILImage.fromarray(marked)))
    assert f.status == Status.GENERATED, f.reason
    assert f.details["watermark"] == generator
    assert 0.8 <= f.strength <= 0.95
    assert not f.decisive
    best = f.details["matches"][0]
    assert best["generator"] == generator and best["fraction"] >= 0.9 and best["chance"] < 1e-6


def test_survives_high_quality_jpeg(maxdct):
    mark = MARKS["Stable Diffusion XL"]
    marked = embed(maxdct, np.asarray(picture(768, 768, seed=2)), mark.bits, "diffusers")
    f = run(encode(PILImage.fromarray(marked), "JPEG", quality=95))
    assert f.status == Status.GENERATED
    assert f.details["watermark"] == "Stable Diffusion XL"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clean_image_is_clear(seed):
    f = run(encode(picture(640, 480, seed=seed)))
    assert f.status == Status.CLEAR
    assert "absence proves nothing" in f.reason
    assert all(
        m["fraction"] < W.MATCH or m["chance"] >= W.CHANCE_LIMIT for m in f.details["matches"]
    )


def test_other_message_is_not_taken_for_a_known_one(maxdct):
    bits = np.random.default_rng(7).integers(0, 2, 48)
    marked = embed(maxdct, np.asarray(picture(512, 512, seed=3)), bits, "diffusers")
    assert run(encode(PILImage.fromarray(marked))).status == Status.CLEAR


@pytest.mark.parametrize("size", [(200, 200), (300, 200), (8, 8), (20000, 6)])
def test_small_image_is_not_applicable(size):
    f = run(encode(picture(*size)))
    assert f.status == Status.NOT_APPLICABLE
    assert f"{size[0]}x{size[1]}" in f.reason


def test_chance_of_match_is_a_binomial_tail():
    # all 48 bits by chance: 2**-48, times the number of comparisons made
    assert W.chance_of_match(48, 48) == pytest.approx(W.N_TESTS / 2**48)
    assert W.chance_of_match(0, 48) == 1.0
    assert W.chance_of_match(24, 48) == 1.0  # capped


def test_one_megapixel_read_is_fast():
    import time

    rgb = np.asarray(picture(1024, 1024))
    W.best_matches(rgb)
    t0 = time.process_time()  # CPU time: not inflated by other processes on a shared machine
    W.best_matches(rgb)
    assert time.process_time() - t0 < 0.5  # about 50 ms on one core


def test_png_roundtrip_keeps_bytes_exact(maxdct):
    """The cue reads the decoded file, not an array: check the PNG path end to end."""
    mark = MARKS["Stable Diffusion 1.x"]
    marked = embed(maxdct, np.asarray(picture(640, 480, seed=4)), mark.bits, "scripts")
    buf = io.BytesIO()
    PILImage.fromarray(marked).save(buf, "PNG")
    assert np.array_equal(
        np.asarray(PILImage.open(io.BytesIO(buf.getvalue())).convert("RGB")), marked
    )
    assert run(buf.getvalue()).details["watermark"] == "Stable Diffusion 1.x"
