"""provenance.generator-metadata on the formats of issue 12: each file is written here, in code.

Civitai JPEGs (A1111 text in EXIF UserComment, UNICODE or ASCII, hires-fix and
upscaled outputs), ComfyUI's JPEG/WebP save nodes and animated WebP (``prompt:``
/ ``workflow:`` JSON in EXIF Make, Model, ImageDescription or UserComment),
NovelAI WebP (the seed inside the Comment JSON inside UserComment) and NovelAI's
stealth metadata in the alpha channel's lowest bits.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib

import numpy as np
import piexif
import piexif.helper
import pytest
from PIL import Image as PILImage

from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.cues.provenance.generator_metadata import param_pairs, parse_a1111, unwrapped
from telltales.findings import Status
from telltales.formats import png, stealth
from telltales.formats.inflate import TooLarge, inflate
from telltales.image import load_image
from telltales.registry import get

CUE = "provenance.generator-metadata"

CIVITAI = (
    "portrait of a knight, best quality\n"
    "Negative prompt: lowres, bad hands\n"
    "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 5, Seed: 2233445566, Size: 64x96, Clip skip: 2, "
    "Created Date: 2024-05-01T10:00:00.0000000Z, Hires upscale: 1.5, Hires steps: 10, "
    "Hires upscaler: 4x-UltraSharp, Denoising strength: 0.4, "
    'Civitai resources: [{"type":"checkpoint","modelVersionId":290640,"modelName":"Pony Diffusion V6 XL",'
    '"modelVersionName":"V6 (start with this one)"},{"type":"lora","weight":0.8,"modelVersionId":11,'
    '"modelName":"detail tweaker"}], Civitai metadata: {"remixOfId":123}'
)
UPSCALED = (
    "a lighthouse in a storm\n"
    "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 777, Size: 48x32, Model: juggernautXL_v9, "
    "Postprocess upscale by: 2, Postprocess upscaler: R-ESRGAN 4x+"
)
GRAPH = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "flux1-dev.safetensors"}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red bicycle", "clip": ["4", 1]}},
    "3": {"class_type": "KSampler", "inputs": {"seed": 918273645, "steps": 28, "cfg": 3.5,
                                               "sampler_name": "dpmpp_2m", "model": ["4", 0]}},
}
WORKFLOW = {"nodes": [
    {"id": 4, "type": "CheckpointLoaderSimple", "widgets_values": ["flux1-dev.safetensors"]},
    {"id": 3, "type": "KSampler", "widgets_values": [918273645, "fixed", 28, 3.5, "dpmpp_2m", "normal", 1]},
]}
NOVELAI_COMMENT = {"prompt": "1girl, garden", "steps": 28, "height": 64, "width": 96, "scale": 5.0,
                   "seed": 3141592, "sampler": "k_euler_ancestral", "uc": "lowres"}
NOVELAI_OUTER = {"Title": "AI generated image", "Description": "1girl, garden", "Software": "NovelAI",
                 "Source": "NovelAI Diffusion V4.5 4BDE2A90", "Generation time": "3.1",
                 "Comment": json.dumps(NOVELAI_COMMENT)}


def picture(w: int = 96, h: int = 64, mode: str = "RGB", seed: int = 3) -> PILImage.Image:
    rng = np.random.default_rng(seed)
    px = rng.integers(0, 256, (h, w, len(mode)), dtype=np.uint8)
    if mode == "RGBA":
        px[..., 3] = 255
    return PILImage.fromarray(px, mode)


def saved(img: PILImage.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def user_comment_exif(raw: bytes) -> bytes:
    return piexif.dump({"Exif": {piexif.ExifIFD.UserComment: raw}})


def run(data: bytes):
    finding, _ = run_cue(get(CUE), Analysis(load_image(data)))
    return finding


# --- Civitai ---------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["unicode", "ascii"])
def test_civitai_jpeg_hires_fix(encoding):
    exif = user_comment_exif(piexif.helper.UserComment.dump(CIVITAI, encoding=encoding))
    f = run(saved(picture(96, 144), "JPEG", exif=exif))
    p = f.details["parameters"]
    assert f.status == Status.GENERATED and f.strength >= 0.95
    assert f.details["tool"] == "Civitai"
    assert p["seed"] == 2233445566 and p["steps"] == 30 and p["sampler"] == "DPM++ 2M Karras"
    assert p["model"] == "Pony Diffusion V6 XL V6 (start with this one)"
    assert p["upscaling"] == {"hires_upscale": 1.5, "hires_upscaler": "4x-UltraSharp", "hires_steps": 10,
                              "denoising_strength": 0.4}
    assert p["negative_prompt"] == "lowres, bad hands"
    assert f.details["stated_size"] == [96, 144] and f.details["size_agreement"] == "same"


def test_civitai_utf16_little_endian_user_comment():
    raw = b"UNICODE\x00" + CIVITAI.encode("utf-16-le")
    f = run(saved(picture(96, 144), "JPEG", exif=user_comment_exif(raw)))
    assert f.details["parameters"]["seed"] == 2233445566
    assert f.details["tool"] == "Civitai"


def test_upscaled_output_states_its_upscaling():
    exif = user_comment_exif(piexif.helper.UserComment.dump(UPSCALED, encoding="unicode"))
    f = run(saved(picture(96, 64), "JPEG", exif=exif))
    p = f.details["parameters"]
    assert p["seed"] == 777 and p["model"] == "juggernautXL_v9"
    assert p["upscaling"] == {"upscale_by": 2, "upscaler": "R-ESRGAN 4x+"}
    assert f.details["size_agreement"] == "same"


def test_param_pairs_keep_quoted_and_json_values_whole():
    pairs = param_pairs('Steps: 20, Lora hashes: "fox: abc, snow: def", Civitai resources: '
                        '[{"a": 1, "b": [2, 3]}], Seed: 5')
    assert pairs == {"Steps": "20", "Lora hashes": "fox: abc, snow: def",
                     "Civitai resources": '[{"a": 1, "b": [2, 3]}]', "Seed": "5"}


def test_a1111_text_is_not_civitai_without_its_keys():
    assert parse_a1111(UPSCALED)["tool"] == "AUTOMATIC1111-style web UI"


# --- ComfyUI save nodes: JPEG and WebP ---------------------------------------------------


def comfy_0th_exif(prefix_prompt: str = "prompt", prefix_workflow: str = "workflow") -> bytes:
    """The image-saver layout: the API graph in Make, the UI workflow in ImageDescription."""
    return piexif.dump({"0th": {
        piexif.ImageIFD.Make: f"{prefix_prompt}:{json.dumps(GRAPH)}".encode(),
        piexif.ImageIFD.ImageDescription: f"{prefix_workflow}:{json.dumps(WORKFLOW)}".encode(),
    }})


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
@pytest.mark.parametrize("prefixes", [("prompt", "workflow"), ("Prompt", "Workflow")])
def test_comfy_save_node_exif_prefixes(fmt, prefixes):
    f = run(saved(picture(), fmt, exif=comfy_0th_exif(*prefixes)))
    p = f.details["parameters"]
    assert f.status == Status.GENERATED and f.details["tool"] == "ComfyUI"
    assert p["seed"] == 918273645 and p["steps"] == 28 and p["model"] == "flux1-dev.safetensors"
    assert any("Make" in e["field"] for e in f.details["evidence"])


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_save_image_extended_user_comment_json(fmt):
    """Save Image Extended: ``{"prompt": graph, "workflow": workflow}`` as plain UserComment text."""
    exif = PILImage.Exif()
    exif[0x9286] = json.dumps({"prompt": GRAPH, "workflow": WORKFLOW})
    f = run(saved(picture(), fmt, exif=exif.tobytes()))
    assert f.details["tool"] == "ComfyUI"
    assert f.details["parameters"]["seed"] == 918273645


def test_a_workflow_longer_than_the_exif_text_cut_is_read_whole():
    big = {"nodes": WORKFLOW["nodes"] + [{"id": 100 + i, "type": "Note", "widgets_values": ["x" * 200]}
                                         for i in range(200)]}
    exif = PILImage.Exif()
    exif[0x010E] = "workflow:" + json.dumps(big)
    assert len(exif[0x010E]) > 40_000
    f = run(saved(picture(), "WEBP", exif=exif.tobytes()))
    assert f.status == Status.GENERATED
    assert f.details["parameters"]["seed"] == 918273645


def test_animated_webp_from_comfy_save_animated_webp():
    """SaveAnimatedWEBP: ``prompt:`` in Model (0x0110), ``workflow:`` in Make (0x010F)."""
    exif = PILImage.Exif()
    exif[0x0110] = "prompt:" + json.dumps(GRAPH)
    exif[0x010F] = "workflow:" + json.dumps(WORKFLOW)
    frames = [picture(seed=i) for i in range(3)]
    data = saved(frames[0], "WEBP", save_all=True, append_images=frames[1:], exif=exif.tobytes())
    image = load_image(data)
    assert image.n_frames == 3
    f = run(data)
    assert f.details["tool"] == "ComfyUI" and f.details["parameters"]["seed"] == 918273645


def test_prefix_that_is_not_json_stays_a_prompt():
    text = "photo: {red|blue} car\nSteps: 20, Sampler: Euler, Seed: 9"
    assert unwrapped("EXIF UserComment", "UserComment", text) == [("EXIF UserComment", "UserComment", text)]


# --- NovelAI ---------------------------------------------------------------------------------


def test_novelai_webp_reads_the_seed_from_the_comment_json():
    exif = PILImage.Exif()
    exif[0x9286] = json.dumps(NOVELAI_OUTER)
    f = run(saved(picture(), "WEBP", exif=exif.tobytes(), lossless=True))
    p = f.details["parameters"]
    assert f.details["tool"] == "NovelAI"
    assert p["seed"] == 3141592 and p["steps"] == 28 and p["sampler"] == "k_euler_ancestral"
    assert p["model"] == "NovelAI Diffusion V4.5 4BDE2A90" and p["prompt"] == "1girl, garden"


def stealth_png(text: str, *, compressed: bool, fmt: str = "PNG", channel: str = "alpha") -> bytes:
    rgba = np.asarray(picture(96, 64, "RGBA")).copy()
    if channel == "alpha":
        rgba[..., 3] = stealth.write_stealth(np.full((64, 96), 255, np.uint8), text, compressed=compressed)
        img = PILImage.fromarray(rgba, "RGBA")
    else:
        img = PILImage.fromarray(stealth.write_stealth(rgba[..., :3], text, compressed=compressed,
                                                       channel="rgb"), "RGB")
    return saved(img, fmt, **({"lossless": True} if fmt == "WEBP" else {}))


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_novelai_stealth_alpha_gzip(fmt):
    f = run(stealth_png(json.dumps(NOVELAI_OUTER), compressed=True, fmt=fmt))
    assert f.status == Status.GENERATED and f.details["tool"] == "NovelAI"
    assert f.details["parameters"]["seed"] == 3141592
    assert f.details["parameters"]["model"] == "NovelAI Diffusion V4.5 4BDE2A90"
    assert f.details["stealth"] == [{"channel": "alpha", "magic": "stealth_pngcomp",
                                     "stored_bytes": f.details["stealth"][0]["stored_bytes"]}]
    assert "alpha-channel low bits" in f.reason


def test_stealth_pnginfo_with_a1111_text_uncompressed():
    f = run(stealth_png(UPSCALED, compressed=False))
    assert f.details["stealth"][0]["magic"] == "stealth_pnginfo"
    assert f.details["parameters"]["seed"] == 777


def test_stealth_rgb_variant():
    f = run(stealth_png(UPSCALED, compressed=True, channel="rgb"))
    assert f.details["stealth"][0]["magic"] == "stealth_rgbcomp"
    assert f.details["parameters"]["seed"] == 777


def test_stealth_does_not_survive_jpeg():
    rgba = PILImage.open(io.BytesIO(stealth_png(UPSCALED, compressed=False, channel="rgb")))
    f = run(saved(rgba.convert("RGB"), "JPEG", quality=95))
    assert f.status == Status.NOT_APPLICABLE


def test_plain_transparent_png_has_no_stealth_claim():
    f = run(saved(picture(96, 64, "RGBA"), "PNG"))
    assert f.status == Status.NOT_APPLICABLE


def test_stealth_gzip_bomb_is_refused():
    bomb = gzip.compress(b"\0" * (stealth.MAX_TEXT_BYTES + 1_000_000))
    side = int(np.ceil(np.sqrt((len(bomb) + 19) * 8)))
    plane = np.full((side, side), 255, np.uint8)
    message = b"stealth_pngcomp" + (len(bomb) * 8).to_bytes(4, "big") + bomb
    bits = np.unpackbits(np.frombuffer(message, np.uint8))
    flat = plane.T.copy().reshape(-1)
    flat[: bits.size] = (flat[: bits.size] & 0xFE) | bits
    assert stealth.read_stealth(np.ascontiguousarray(flat.reshape(side, side).T), "alpha") is None


def test_stealth_length_past_the_picture_is_refused():
    plane = stealth.write_stealth(np.full((40, 40), 255, np.uint8), "abc", compressed=False)
    flat = plane.T.copy().reshape(-1)
    length_bits = np.unpackbits(np.frombuffer((10**6).to_bytes(4, "big"), np.uint8))
    flat[120:152] = (flat[120:152] & 0xFE) | length_bits
    assert stealth.read_stealth(np.ascontiguousarray(flat.reshape(40, 40).T), "alpha") is None


# --- capped inflation ---------------------------------------------------------------------------


def test_inflate_stops_at_its_limit():
    data = zlib.compress(b"a" * 100_000)
    assert inflate(data, 200_000) == b"a" * 100_000
    with pytest.raises(TooLarge):
        inflate(data, 50_000)
    with pytest.raises(zlib.error):
        inflate(data[:-10], 200_000)


def test_png_ztxt_bomb_is_skipped():
    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    base = saved(picture(), "PNG")
    bomb = chunk(b"zTXt", b"parameters\0\0" + zlib.compress(b"a" * 9_000_000, 9))
    ok = chunk(b"tEXt", b"Software\0NovelAI")
    data = base[:33] + bomb + ok + base[33:]
    assert png.text_chunks(data) == {"Software": "NovelAI"}


# --- a copied parameter block: what the cue can and cannot tell ----------------------------------

A1111_768 = ("a fox\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, "
             "Size: 512x768, Model: v1-5-pruned-emaonly")


def a1111_jpeg(img: PILImage.Image, text: str = A1111_768) -> bytes:
    return saved(img, "JPEG", exif=user_comment_exif(piexif.helper.UserComment.dump(text, encoding="unicode")))


def test_parameters_copied_onto_a_picture_of_another_shape_are_reported_as_such():
    f = run(a1111_jpeg(picture(640, 480)))  # a landscape "photo" carrying a portrait's parameters
    assert f.status == Status.GENERATED  # the file still says a generator wrote it...
    assert f.details["stated_size"] == [512, 768] and f.details["size_agreement"] == "different"
    assert "copied from another file" in f.reason  # ...and the reason says it may not be these pixels
    assert "can be forged" in f.reason


def test_parameters_on_a_resized_copy_say_it_was_resized():
    f = run(a1111_jpeg(picture(256, 384)))
    assert f.details["size_agreement"] == "rescaled"
    assert "resized" in f.reason and "copied" not in f.reason


def test_a_copied_block_that_fits_the_size_cannot_be_told_apart():
    """What the cue cannot prove: a block copied onto a picture of the same size reads as genuine."""
    genuine, copied = picture(512, 768, seed=1), picture(512, 768, seed=2)
    a, b = run(a1111_jpeg(genuine)), run(a1111_jpeg(copied))
    assert a.details["size_agreement"] == b.details["size_agreement"] == "same"
    assert (a.status, a.strength, a.details["parameters"]) == (b.status, b.strength, b.details["parameters"])
    assert "can be forged" in b.reason


def test_a_comfy_graph_is_not_size_checked():
    """A graph may upscale or crop anywhere after its latent: its latent size says nothing of the output."""
    graph = {**GRAPH, "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 1024, "height": 1024}}}
    f = run(saved(picture(), "PNG", pnginfo=_png_text(prompt=json.dumps(graph))))
    assert f.details["tool"] == "ComfyUI" and f.details["parameters"]["size"] == "1024x1024"
    assert f.details["size_agreement"] is None


def _png_text(**texts: str):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for k, v in texts.items():
        info.add_text(k, v)
    return info


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_fooocus_jpeg_and_webp_name_fooocus(fmt):
    """Fooocus: its JSON parameters in UserComment (no tool key), its name in Software."""
    meta = {"base_model": "juggernautXL_v8Rundiffusion", "guidance_scale": 4, "prompt": "a cat",
            "resolution": "(96, 64)", "sampler": "dpmpp_2m_sde_gpu", "scheduler": "karras",
            "seed": "12345", "steps": 30, "version": "Fooocus v2.5.5"}
    exif = PILImage.Exif()
    exif[0x9286] = json.dumps(meta)
    exif[0x0131] = "Fooocus v2.5.5"
    exif[0x927C] = "fooocus"
    f = run(saved(picture(), fmt, exif=exif.tobytes()))
    p = f.details["parameters"]
    assert f.details["tool"] == p["tool"] == "Fooocus"
    assert p["seed"] == 12345 and p["model"] == "juggernautXL_v8Rundiffusion" and p["steps"] == 30
