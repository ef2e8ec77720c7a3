"""provenance.generator-metadata: files written here with each tool's known metadata layout."""

from __future__ import annotations

import io
import json

import piexif
import piexif.helper
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image as PILImage
from PIL.PngImagePlugin import PngInfo

from telltales.analyses.exif import decode_user_comment, parse_exif, parse_xmp
from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.cues.provenance.generator_metadata import (
    generator_named,
    parse_a1111,
    parse_comfy_prompt,
    parse_comfy_workflow,
)
from telltales.findings import Status
from telltales.formats import png
from telltales.image import load_image
from telltales.registry import get

CUE = "provenance.generator-metadata"

A1111 = (
    "a red fox in the snow, highly detailed\n"
    "Negative prompt: blurry, lowres\n"
    'Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234567, Size: 512x768, '
    'Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Lora hashes: "fox: abc123, snow: def456", '
    "Version: v1.6.0"
)
COMFY_PROMPT = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd_xl_base_1.0.safetensors"}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a lighthouse at dusk", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "text, watermark", "clip": ["4", 1]}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1}},
    "3": {"class_type": "KSampler", "inputs": {"seed": 42, "steps": 25, "cfg": 6.5,
                                               "sampler_name": "euler", "scheduler": "normal",
                                               "model": ["4", 0], "positive": ["6", 0]}},
}
COMFY_WORKFLOW = {"nodes": [
    {"id": 4, "type": "CheckpointLoaderSimple", "widgets_values": ["dreamshaper_8.safetensors"]},
    {"id": 3, "type": "KSampler", "widgets_values": [99, "randomize", 30, 8, "dpmpp_2m", "karras", 1]},
    {"id": 6, "type": "CLIPTextEncode", "widgets_values": ["castle on a hill"]},
]}
NOVELAI_COMMENT = {"prompt": "1girl, masterpiece", "steps": 28, "height": 1216, "width": 832,
                   "scale": 5.0, "seed": 3141592, "sampler": "k_euler_ancestral",
                   "uc": "lowres, bad anatomy"}


def picture() -> PILImage.Image:
    return PILImage.new("RGB", (96, 64), (120, 150, 90))


def png_with(**texts: str) -> bytes:
    info = PngInfo()
    for k, v in texts.items():
        info.add_text(k, v)
    buf = io.BytesIO()
    picture().save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def saved(fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    picture().save(buf, fmt, **kw)
    return buf.getvalue()


def run(data: bytes):
    finding, _ = run_cue(get(CUE), Analysis(load_image(data)))
    return finding


# --- PNG text chunks of each tool ----------------------------------------------------


@pytest.mark.parametrize(
    ("texts", "tool", "expect"),
    [
        ({"parameters": A1111}, "AUTOMATIC1111-style web UI",
         {"seed": 1234567, "steps": 20, "cfg": 7, "sampler": "DPM++ 2M Karras",
          "model": "v1-5-pruned-emaonly", "size": "512x768", "negative_prompt": "blurry, lowres"}),
        ({"prompt": json.dumps(COMFY_PROMPT), "workflow": json.dumps(COMFY_WORKFLOW)}, "ComfyUI",
         {"seed": 42, "steps": 25, "cfg": 6.5, "sampler": "euler", "model": "sd_xl_base_1.0.safetensors",
          "prompt": "a lighthouse at dusk", "negative_prompt": "text, watermark", "size": "1024x1024"}),
        ({"workflow": json.dumps(COMFY_WORKFLOW)}, "ComfyUI",
         {"seed": 99, "steps": 30, "cfg": 8, "sampler": "dpmpp_2m", "model": "dreamshaper_8.safetensors"}),
        ({"Title": "AI generated image", "Description": "1girl, masterpiece", "Software": "NovelAI",
          "Source": "NovelAI Diffusion V4.5 4BDE2A90", "Comment": json.dumps(NOVELAI_COMMENT)}, "NovelAI",
         {"seed": 3141592, "steps": 28, "cfg": 5, "sampler": "k_euler_ancestral", "size": "832x1216",
          "negative_prompt": "lowres, bad anatomy"}),
        ({"invokeai_metadata": json.dumps({
            "generation_mode": "txt2img", "positive_prompt": "a cabin", "negative_prompt": "",
            "width": 768, "height": 512, "seed": 7, "cfg_scale": 7.5, "steps": 30, "scheduler": "euler",
            "model": {"name": "juggernaut-xl", "base": "sdxl"}, "app_version": "4.2.0"})}, "InvokeAI",
         {"seed": 7, "steps": 30, "cfg": 7.5, "model": "juggernaut-xl", "prompt": "a cabin"}),
        ({"sd-metadata": json.dumps({
            "model": "stable diffusion", "model_weights": "stable-diffusion-1.5", "app_id": "invoke-ai/InvokeAI",
            "image": {"prompt": [{"prompt": "a lake", "weight": 1}], "steps": 50, "cfg_scale": 7.5,
                      "seed": 11, "sampler": "k_lms", "width": 512, "height": 512}})}, "InvokeAI",
         {"seed": 11, "steps": 50, "sampler": "k_lms", "prompt": "a lake", "model": "stable-diffusion-1.5"}),
        ({"Dream": '"a quiet harbour" -s 50 -S 2718 -W 512 -H 512 -C 7.5 -A k_lms'}, "InvokeAI",
         {"seed": 2718, "steps": 50, "size": "512x512", "prompt": "a quiet harbour"}),
        ({"fooocus_scheme": "fooocus", "parameters": json.dumps({
            "prompt": "a robot", "negative_prompt": "", "steps": 30, "guidance_scale": 4,
            "base_model": "juggernautXL_v8Rundiffusion", "sampler": "dpmpp_2m_sde_gpu", "seed": "123",
            "resolution": "(1152, 896)", "version": "Fooocus v2.5.0"})}, "Fooocus",
         {"seed": 123, "steps": 30, "model": "juggernautXL_v8Rundiffusion", "cfg": 4}),
        ({"parameters": json.dumps({"sui_image_params": {
            "prompt": "a headshot", "model": "Flux/flux1-dev-fp8", "seed": 305223794, "steps": 25,
            "cfgscale": 1.0, "width": 512, "height": 768, "sampler": "euler", "negativeprompt": "",
            "swarm_version": "0.9.1.1"}})}, "SwarmUI",
         {"seed": 305223794, "steps": 25, "model": "Flux/flux1-dev-fp8", "size": "512x768"}),
        ({"Description": "a cat astronaut --ar 3:2 Job ID: 4f1d7e2a-1b2c-4d5e-8f90-123456789abc",
          "Author": "someone"}, "Midjourney", {"prompt": "a cat astronaut --ar 3:2"}),
        # TensorArt writes its JSON's UTF-8 bytes into a Latin-1 tEXt chunk
        ({"generation_data": json.dumps({
            "prompt": "café au lait, morning light", "negativePrompt": "blurry", "width": 768, "height": 1152,
            "seed": "1873645529", "steps": 25, "cfgScale": 6.5, "clipSkip": 2,
            "baseModel": {"modelFileName": "majicmixRealistic_v7.safetensors", "hash": "7c819b6d13"}},
            ensure_ascii=False).encode("utf-8").decode("latin-1")}, "TensorArt",
         {"seed": 1873645529, "steps": 25, "cfg": 6.5, "model": "majicmixRealistic_v7.safetensors",
          "prompt": "café au lait, morning light", "negative_prompt": "blurry", "size": "768x1152"}),
    ],
    ids=["a1111", "comfyui", "comfyui-workflow-only", "novelai", "invokeai", "invokeai-sd-metadata",
         "invokeai-dream", "fooocus", "swarmui", "midjourney", "tensorart"],
)
def test_png_chunks_of_each_tool(texts, tool, expect):
    f = run(png_with(**texts))
    assert f.status == Status.GENERATED, f.reason
    assert f.strength >= 0.9
    assert tool in f.details["generators_named"] or f.details["tool"] == tool
    params = f.details["parameters"]
    for k, v in expect.items():
        assert params.get(k) == v, (k, params.get(k))
    assert all(w.startswith("PNG text") for w in f.details["fields"])


def test_long_prompt_is_truncated():
    f = run(png_with(parameters=("word " * 400) + "\nSteps: 20, Sampler: Euler a, Seed: 1"))
    assert f.status == Status.GENERATED
    assert len(f.details["parameters"]["prompt"]) <= 300


# --- EXIF UserComment (A1111 / SD.Next JPEG and WebP) --------------------------------


def exif_with_comment(text: str, encoding: str) -> bytes:
    if encoding == "ascii":
        comment = b"ASCII\x00\x00\x00" + text.encode("ascii")
    else:
        comment = b"UNICODE\x00" + text.encode("utf-16-be" if encoding == "utf16be" else "utf-16-le")
    return piexif.dump({"0th": {}, "Exif": {piexif.ExifIFD.UserComment: comment}})


@pytest.mark.parametrize("encoding", ["ascii", "utf16be", "utf16le"])
@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_user_comment_parameters(fmt, encoding):
    f = run(saved(fmt, exif=exif_with_comment(A1111, encoding)))
    assert f.status == Status.GENERATED, f.reason
    assert f.details["parameters"]["seed"] == 1234567
    assert f.details["parameters"]["prompt"].startswith("a red fox")
    assert "EXIF UserComment" in f.details["fields"]


@pytest.mark.parametrize("encoding", ["utf16be", "utf16le"])
def test_decode_user_comment_unicode_endianness(encoding):
    raw = b"UNICODE\x00" + "Steps: 3, Seed: 9 é".encode("utf-16-be" if encoding == "utf16be" else "utf-16-le")
    assert decode_user_comment(raw) == "Steps: 3, Seed: 9 é"
    assert decode_user_comment(piexif.helper.UserComment.dump("hello", encoding="unicode")) == "hello"


@pytest.mark.parametrize(
    ("ifd", "tag", "value", "tool"),
    [
        ("0th", piexif.ImageIFD.Software, b"Adobe Firefly", "Adobe Firefly"),
        ("0th", piexif.ImageIFD.Software, b"Midjourney v6", "Midjourney"),
        ("0th", piexif.ImageIFD.Artist, b"DALL\xc2\xb7E 3", "OpenAI DALL-E"),
        ("0th", piexif.ImageIFD.Make, b"NovelAI", "NovelAI"),
        ("0th", piexif.ImageIFD.ImageDescription, b"Made with Google AI", "Google AI (Imagen / Gemini)"),
        ("Exif", piexif.ExifIFD.MakerNote, b"OpenAI--ImageGeneration--generation-abc", "OpenAI DALL-E"),
        ("0th", piexif.ImageIFD.ImageDescription, b"Imagined with Meta AI", "Meta AI"),
    ],
    ids=["firefly", "midjourney", "dalle", "novelai-make", "google-description", "openai-makernote", "meta"],
)
def test_exif_fields_that_name_a_generator(ifd, tag, value, tool):
    exif = piexif.dump({ifd: {tag: value}} if ifd == "0th" else {"0th": {}, ifd: {tag: value}})
    f = run(saved("JPEG", exif=exif))
    assert f.status == Status.GENERATED, f.reason
    assert tool in f.details["generators_named"]


def test_dalle2_style_user_comment_in_ifd0():
    """DALL-E 2 downloads put UserComment and MakerNote in the main directory."""
    ex = PILImage.Exif()
    ex[0x927C] = "OpenAI--ImageGeneration--generation-xyz"
    ex[0x9286] = "Made with OpenAI Labs"
    f = run(saved("JPEG", exif=ex.tobytes()))
    assert f.status == Status.GENERATED
    assert f.details["tool"] == "OpenAI DALL-E"


# --- XMP ---------------------------------------------------------------------------------

XMP = """<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
 xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"
 Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/{code}"{credit}>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">A harbour</rdf:li></rdf:Alt></dc:title>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"""


def xmp(code: str, credit: str = "") -> str:
    return XMP.replace("{code}", code).replace("{credit}", f' photoshop:Credit="{credit}"' if credit else "")


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "PNG"])
@pytest.mark.parametrize(
    ("code", "status", "min_strength"),
    [
        ("trainedAlgorithmicMedia", Status.GENERATED, 0.95),
        ("compositeWithTrainedAlgorithmicMedia", Status.GENERATED, 0.8),
        ("algorithmicMedia", Status.GENERATED, 0.6),
        ("digitalCapture", Status.CLEAR, None),
    ],
)
def test_xmp_digital_source_type(fmt, code, status, min_strength):
    packet = xmp(code)
    if fmt == "PNG":
        info = PngInfo()
        info.add_itxt("XML:com.adobe.xmp", packet)
        data = saved("PNG", pnginfo=info)
    else:
        data = saved(fmt, xmp=packet.encode())
    f = run(data)
    assert f.status == status, f.reason
    if min_strength:
        assert f.strength >= min_strength
        assert f.details["parameters"]["digital_source_type"] == code.lower()


def test_xmp_credit_made_with_google_ai():
    f = run(saved("JPEG", xmp=xmp("digitalCapture", credit="Made with Google AI").encode()))
    assert f.status == Status.GENERATED
    assert "Google AI (Imagen / Gemini)" in f.details["generators_named"]


def test_draw_things_xmp_user_comment():
    packet = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:exif="http://ns.adobe.com/exif/1.0/" xmp:CreatorTool="Draw Things">'
        '<exif:UserComment><rdf:Alt><rdf:li xml:lang="x-default">'
        '{"c":"a koi pond","uc":"blurry","seed":555,"steps":8,"scale":4.5,"sampler":"DPM++ 2M AYS",'
        '"model":"flux_1_schnell_q5p.ckpt","size":"1024x1024"}'
        "</rdf:li></rdf:Alt></exif:UserComment></rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    fields = parse_xmp(packet)
    assert fields["xmp:CreatorTool"] == ["Draw Things"]
    f = run(saved("JPEG", xmp=packet.encode()))
    assert f.status == Status.GENERATED
    assert "Draw Things" in f.details["generators_named"]
    assert f.details["parameters"]["seed"] == 555
    assert f.details["parameters"]["prompt"] == "a koi pond"


def test_malformed_xmp_is_scanned_not_fatal():
    fields = parse_xmp('<x:xmpmeta><rdf:Description xmp:CreatorTool="Midjourney"><broken')
    assert fields.get("xmp:CreatorTool") == ["Midjourney"]


# --- JPEG comments, IPTC, plain files ------------------------------------------------------


@pytest.mark.parametrize(
    ("comment", "status"),
    [
        (A1111.encode(), Status.GENERATED),
        (b"Generated with Stable Diffusion XL", Status.GENERATED),
        (b"Generated by Snipaste", Status.CLEAR),
        (b"Contains AI-generated content", Status.GENERATED),
        (b"Photo of an AI-generated content moderation meeting", Status.CLEAR),
        (b"Compressed by jpeg-recompress", Status.CLEAR),
    ],
)
def test_jpeg_comment(comment, status):
    f = run(saved("JPEG", comment=comment))
    assert f.status == status, f.reason


def test_iptc_credit_in_app13():
    def dataset(num: int, text: bytes) -> bytes:
        return b"\x1c\x02" + bytes([num]) + len(text).to_bytes(2, "big") + text

    iim = dataset(110, b"Made with Google AI") + dataset(120, b"A harbour at dusk")
    block = b"8BIM\x04\x04\x00\x00" + len(iim).to_bytes(4, "big") + iim + b"\x00" * (len(iim) % 2)
    payload = b"Photoshop 3.0\x00" + block
    jpeg = saved("JPEG")
    app13 = b"\xff\xed" + (len(payload) + 2).to_bytes(2, "big") + payload
    f = run(jpeg[:2] + app13 + jpeg[2:])
    assert f.status == Status.GENERATED, f.reason
    assert "IPTC Credit" in f.details["fields"]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_no_metadata_is_not_applicable(fmt):
    f = run(saved(fmt))
    assert f.status == Status.NOT_APPLICABLE
    assert "absence proves nothing" in f.reason


def test_camera_metadata_without_generator_is_clear():
    exif = piexif.dump({"0th": {piexif.ImageIFD.Make: b"Canon", piexif.ImageIFD.Model: b"Canon EOS 5D",
                                piexif.ImageIFD.Software: b"Adobe Photoshop CC 2017 (Macintosh)"},
                        "Exif": {piexif.ExifIFD.UserComment: b"ASCII\x00\x00\x00Handmade Software, Inc."}})
    f = run(saved("JPEG", exif=exif))
    assert f.status == Status.CLEAR
    assert "EXIF Make" in f.details["fields"]


@pytest.mark.parametrize("text", ["Kodak PCD0992", "a holiday snapshot", "Steps: many, none counted"])
def test_ordinary_png_text_is_clear(text):
    assert run(png_with(Source=text, Comment=text)).status == Status.CLEAR


@pytest.mark.parametrize(
    "blob",
    [b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff", b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x05\x00garbage",
     b"Exif\x00\x00" + b"\x00" * 40, b"not exif at all"],
)
def test_broken_exif_does_not_crash(blob):
    info = parse_exif(blob)
    assert info.present
    jpeg = saved("JPEG")
    app1 = b"\xff\xe1" + (len(blob) + 2).to_bytes(2, "big") + blob
    f = run(jpeg[:2] + app1 + jpeg[2:])
    assert f.status in (Status.CLEAR, Status.NOT_APPLICABLE)


# --- the parsers on their own ---------------------------------------------------------------


def test_a1111_parser_keeps_quoted_values_and_needs_steps():
    p = parse_a1111(A1111)
    assert p["version"] == "v1.6.0" and p["model"] == "v1-5-pruned-emaonly"
    assert parse_a1111("a photo of a cat\nNegative prompt: dog") is None
    assert parse_a1111("Steps: 20") is None  # a lone number is not a parameter line


def test_comfy_parsers_ignore_links_and_other_json():
    assert parse_comfy_prompt({"a": 1}) is None
    assert parse_comfy_workflow({"nodes": "x"}) is None
    graph = {"1": {"class_type": "KSampler", "inputs": {"seed": ["9", 0], "steps": 10, "cfg": 3}}}
    assert "seed" not in parse_comfy_prompt(graph)


@pytest.mark.parametrize(
    ("text", "name"),
    [("Adobe Photoshop 25.0", None), ("Canon EOS R5", None), ("Visor de imagen", None),
     ("paint.net 4.2.13", None), ("Microsoft Designer", "Microsoft Designer / Bing Image Creator"),
     ("FLUX.1 [dev]", "FLUX"), ("ComfyUI", "ComfyUI"), ("DALL-E mini", "Craiyon / DALL-E mini")],
)
def test_generator_names(text, name):
    assert generator_named(text) == name


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_parsers_never_raise_on_random_bytes(blob):
    assert parse_exif(b"Exif\x00\x00II*\x00\x08\x00\x00\x00" + blob).present
    assert parse_exif(b"Exif\x00\x00MM\x00*" + blob).present
    text = blob.decode("latin-1")
    assert isinstance(parse_xmp("<x:xmpmeta>" + text), dict)
    parse_a1111(text + "\nSteps: 1, " + text)
    assert isinstance(decode_user_comment(b"UNICODE\x00" + blob), str)


def test_big_one_line_json_is_quick():
    import time

    # about 0.9 MB on one line: under the 1 MiB that one PNG text chunk may hold (formats/png.py)
    blob = json.dumps({"nodes": [{"type": "Note", "widgets_values": ["x" * 50 + ": y"] * 20}] * 800})
    assert len(blob) < png.MAX_CHUNK_TEXT
    t0 = time.perf_counter()
    f = run(png_with(workflow=blob, Comment=blob))
    assert time.perf_counter() - t0 < 5
    assert f.status == Status.GENERATED  # ComfyUI wrote it, but nothing shows a sampling step
    assert f.strength < 0.9


def test_comfyui_upscale_only_graph_is_weaker():
    graph = {"1": {"class_type": "LoadImage", "inputs": {"image": "holiday.jpg"}},
             "2": {"class_type": "ImageUpscaleWithModel", "inputs": {"image": ["1", 0]}},
             "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0]}}}
    f = run(png_with(prompt=json.dumps(graph)))
    assert f.status == Status.GENERATED
    assert f.strength <= 0.65
    assert "upscaled" in f.reason
