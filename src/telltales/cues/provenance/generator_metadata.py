"""Generator parameters and tags written into the file.

Image generators and the apps around them often write what they did into
the file they save: the prompt, the model, the seed, the sampler, the number
of steps. AUTOMATIC1111, Forge and SD.Next write a ``parameters`` text (in a
PNG text chunk, or in EXIF UserComment for JPEG and WebP); ComfyUI writes its
whole node graph as JSON; NovelAI, InvokeAI, Fooocus, SwarmUI and Draw Things
have their own keys; DALL-E, Midjourney, Firefly and Google name themselves in
EXIF, XMP or IPTC, and the IPTC "digital source type" can say outright that
the picture was made by a trained algorithm.

Where each writer puts it, as read here:

* AUTOMATIC1111 / Forge / SD.Next / Civitai: the ``parameters`` text in a PNG
  chunk, or in EXIF UserComment (``UNICODE`` UTF-16 of either byte order, or
  ``ASCII``) for JPEG and WebP; Civitai adds ``Civitai resources`` (the
  checkpoint's name) and hires-fix / upscaled outputs add ``Hires upscale`` or
  ``Postprocess upscale by``, reported as ``upscaling``.
* ComfyUI: PNG chunks ``prompt`` / ``workflow``; in JPEG and WebP (its
  SaveAnimatedWEBP node, Save Image Extended, image-saver nodes) ``prompt:{json}``
  / ``Workflow:{json}`` in EXIF Make, Model or ImageDescription, or a JSON
  ``{"prompt": ..., "workflow": ...}`` in UserComment. EXIF text is read in full
  (``exif_text``): a workflow is often longer than ``exif_tags`` keeps.
* NovelAI: PNG chunks (``Comment`` JSON holds the seed); WebP: a JSON object in
  UserComment whose ``Comment`` is that JSON again; and "stealth" metadata in the
  lowest bits of the alpha (or RGB) channel (``formats/stealth.py``), which
  survives stripping of text chunks but not JPEG re-encoding.

Any of these is strong evidence, but not proof: metadata is easy to strip
(so its absence proves nothing) and possible to forge: a parameter block can be
copied onto any picture. When the parameters state an output size, it is
compared with the picture's (``size_agreement``): another shape means a crop
or a copied block, and the reason says so.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from telltales.analysis import Analysis
from telltales.findings import Result
from telltales.formats import stealth
from telltales.registry import cue

PROMPT_CHARS = 300
_KEY = re.compile(r"\s*([\w][\w \-/.()]{0,60}?):\s*")
_CIVITAI_KEYS = ("Civitai resources", "Civitai metadata", "Created Date")
_UPSCALE_KEYS = {
    "Hires upscale": "hires_upscale", "Hires resize": "hires_resize", "Hires upscaler": "hires_upscaler",
    "Hires steps": "hires_steps", "Denoising strength": "denoising_strength",
    "Postprocess upscale by": "upscale_by", "Postprocess upscale to": "upscale_to",
    "Postprocess upscaler": "upscaler",
}
_STEPS = re.compile(r"(?:^|,\s*)Steps:\s*\d+")


@dataclass(frozen=True)
class Claim:
    """One piece of metadata that says the image was generated."""

    field: str  # where it was found, e.g. "PNG text 'parameters'"
    tool: str  # the generator or app it names
    says: str  # plain-language summary
    strength: float
    params: dict[str, Any] = field(default_factory=dict)


# --- generator names -------------------------------------------------------------

GENERATORS: tuple[tuple[str, str], ...] = (
    ("Midjourney", r"midjourney"),
    ("OpenAI DALL-E", r"dall[\s\-·.]?e\b(?![\s\-]?mini)|openai|chatgpt|gpt-?4o|gpt-image"),
    ("Craiyon / DALL-E mini", r"craiyon|dall[\s\-·.]?e[\s\-]?mini"),
    ("Adobe Firefly", r"firefly"),
    ("Stable Diffusion", r"stable[\s_-]?diffusion|\bsdxl\b|dreamstudio|stability\.ai|stability ai"),
    ("NovelAI", r"novel\s?ai"),
    ("Google AI (Imagen / Gemini)", r"google imagen|\bimagen[\s-]?[1-4]\b|imagefx|google ai\b|\bgemini\b|nano[\s-]?banana|synthid"),
    ("Microsoft Designer / Bing Image Creator", r"bing image creator|image creator from (microsoft )?designer|microsoft designer"),
    ("Leonardo.Ai", r"leonardo\.?ai"),
    ("Ideogram", r"ideogram"),
    ("NightCafe", r"nightcafe"),
    ("Dream by WOMBO", r"wombo"),
    ("Playground AI", r"playground\s?ai|playgroundai"),
    ("Runway", r"runway\s?ml|runway gen"),
    ("FLUX", r"\bflux[\s.\-]?[12]\b|\bflux[\s.\-]?(pro|dev|schnell|kontext)"),
    ("Kandinsky", r"kandinsky"),
    ("Meta AI", r"imagine with meta|\bmeta ai\b"),
    ("Grok / Aurora", r"\bgrok\b|\bxai aurora\b"),
    ("Seedream / Jimeng", r"seedream|doubao|jimeng"),
    ("Kolors", r"\bkolors\b|kling ai"),
    ("Hunyuan Image", r"hunyuan"),
    ("Qwen-Image", r"qwen[\s-]?image"),
    ("Recraft", r"recraft"),
    ("Tongyi Wanxiang", r"wanxiang"),
    ("ComfyUI", r"comfyui"),
    ("AUTOMATIC1111 web UI", r"automatic1111|stable-diffusion-webui"),
    ("InvokeAI", r"invoke[\s-]?ai"),
    ("Fooocus", r"fooocus"),
    ("SwarmUI", r"swarmui|stableswarm"),
    ("Draw Things", r"draw things"),
    ("DiffusionBee", r"diffusionbee"),
    ("SD.Next", r"sd\.next"),
    ("Krea", r"\bkrea\b"),
    ("Artbreeder", r"artbreeder"),
)
_GEN_RE = tuple((name, re.compile(rx, re.IGNORECASE)) for name, rx in GENERATORS)
_PHRASE = re.compile(
    r"\b(made|generated|created|produced|rendered|edited|imagined)\s+(with|by|using|in|on)\s+(the\s+)?(.{2,60})",
    re.IGNORECASE,
)

# a whole field that is just a label such as "Contains AI-generated content" (phone editors)
_AI_LABEL = re.compile(r"(contains\s+)?(generative\s+)?ai[\s-]?(generated|edited)(\s+(content|image|picture|photo))?\.?",
                       re.IGNORECASE)

# fields whose whole job is to name the tool or the author
TOOL_FIELDS = {
    "Software", "Make", "Model", "Artist", "HostComputer", "MakerNote", "ProcessingSoftware",
    "xmp:CreatorTool", "tiff:Software", "tiff:Make", "tiff:Model", "photoshop:Credit",
    "dc:creator", "Iptc4xmpCore:CreatorContactInfo", "pdf:Producer", "exif:MakerNote",
    "stEvt:softwareAgent", "Credit", "OriginatingProgram", "By-line", "Source", "Software (PNG)", "Author (PNG)",
}


def generator_named(text: str) -> str | None:
    """The generator a tool field names, if any."""
    for name, rx in _GEN_RE:
        if rx.search(text):
            return name
    return None


def generator_in_phrase(text: str) -> str | None:
    """The generator named in a free-text field by 'made with X', 'generated by X'..."""
    for m in _PHRASE.finditer(text):
        name = generator_named(m.group(4))
        if name:
            return name
    return None


# --- parameter formats -----------------------------------------------------------


def _short(text: Any) -> str:
    s = str(text).strip()
    return s if len(s) <= PROMPT_CHARS else s[: PROMPT_CHARS - 1] + "…"


def _num(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    try:
        f = float(str(value).strip().strip('"'))
    except (TypeError, ValueError):
        return str(value).strip().strip('"') or None
    return int(f) if f.is_integer() and abs(f) < 2**63 else f


def _clean_params(p: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in p.items():
        if v is None or v == "" or v == [] or v == {}:
            continue
        if k in ("prompt", "negative_prompt"):
            out[k] = _short(v)
        elif k in ("seed", "steps", "cfg"):
            out[k] = _num(v)
        else:
            out[k] = _short(v) if isinstance(v, str) else v
    return out


def param_pairs(line: str) -> dict[str, str]:
    """The ``Key: value, Key: value`` line of an A1111-style text, as a dict.

    A value runs to the next comma outside quotes and brackets, so quoted
    values (``Lora hashes: "a: 1, b: 2"``) and Civitai's JSON values
    (``Civitai resources: [{...}, {...}]``) stay whole. Quotes are removed.
    """
    pairs: dict[str, str] = {}
    i, n = 0, len(line)
    while i < n:
        m = _KEY.match(line, i)
        if not m:
            comma = line.find(",", i)
            if comma < 0:
                break
            i = comma + 1
            continue
        start = i = m.end()
        depth, quoted = 0, False
        while i < n:
            c = line[i]
            if quoted:
                if c == "\\":
                    i += 1
                elif c == '"':
                    quoted = False
            elif c == '"':
                quoted = True
            elif c in "[{":
                depth += 1
            elif c in "]}":
                depth = max(0, depth - 1)
            elif c == "," and depth == 0:
                break
            i += 1
        value = line[start:i].strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].replace('\\"', '"')
        pairs.setdefault(m.group(1).strip(), value)
        i += 1
    return pairs


def civitai_checkpoint(resources: str | None) -> str | None:
    """The checkpoint named in Civitai's ``Civitai resources: [{...}]`` JSON, if any."""
    data = _json(resources or "")
    if not isinstance(data, list):
        return None
    for r in data:
        if isinstance(r, dict) and str(r.get("type", "")).lower() == "checkpoint":
            name = " ".join(str(r[k]) for k in ("modelName", "modelVersionName") if r.get(k))
            return name or None
    return None


def upscaling(pairs: dict[str, str]) -> dict[str, Any]:
    """Hires-fix and post-process upscaling, as written by A1111/Forge/Civitai."""
    out = {label: pairs[key] for key, label in _UPSCALE_KEYS.items() if pairs.get(key)}
    return {k: _num(v) if k in ("hires_upscale", "hires_steps", "denoising_strength", "upscale_by") else v
            for k, v in out.items()}


def _tool(pairs: dict[str, str]) -> str:
    if any(k in pairs for k in _CIVITAI_KEYS):
        return "Civitai"
    if pairs.get("App"):
        return pairs["App"]
    return "Forge" if "forge" in pairs.get("Version", "").lower() else "AUTOMATIC1111-style web UI"


def parse_a1111(text: str) -> dict[str, Any] | None:
    """The AUTOMATIC1111 / Forge / SD.Next / Civitai ``parameters`` text, or None.

    Layout: the prompt, an optional line ``Negative prompt: ...``, then one line
    of ``Key: value`` pairs that starts with (or contains) ``Steps: N``. Civitai's
    generator adds ``Civitai resources`` / ``Civitai metadata`` / ``Created Date``;
    hires-fix and upscaled outputs add ``Hires upscale`` / ``Postprocess upscale by``.
    """
    lines = text.strip().replace("\r\n", "\n").split("\n")
    idx = next((i for i in range(len(lines) - 1, -1, -1) if _STEPS.search(lines[i])), None)
    if idx is None or len(lines[idx]) > 200_000:
        return None
    pairs = param_pairs(lines[idx])
    if "Steps" not in pairs or len(pairs) < 2:
        return None
    prompt_lines, neg_lines, in_neg = [], [], False
    for line in lines[:idx]:
        if line.startswith("Negative prompt:"):
            in_neg = True
            line = line[len("Negative prompt:"):]
        elif line.startswith("Template:"):
            break
        (neg_lines if in_neg else prompt_lines).append(line)
    return _clean_params({
        "tool": _tool(pairs),
        "model": pairs.get("Model") or civitai_checkpoint(pairs.get("Civitai resources"))
        or pairs.get("Model hash"),
        "seed": pairs.get("Seed"),
        "sampler": pairs.get("Sampler"),
        "steps": pairs.get("Steps"),
        "cfg": pairs.get("CFG scale"),
        "size": pairs.get("Size"),
        "upscaling": upscaling(pairs),
        "prompt": "\n".join(prompt_lines).strip(),
        "negative_prompt": "\n".join(neg_lines).strip(),
        "version": pairs.get("Version"),
    })


def _json(text: str) -> Any:
    s = text.strip()
    if not s or s[0] not in "{[":
        return None
    try:
        return json.loads(s)
    except (ValueError, RecursionError):
        return None


def _get(d: dict[str, Any], *keys: str) -> Any:
    """The first present key, matched case- and separator-insensitively."""
    norm = {re.sub(r"[\s_\-]", "", str(k)).lower(): v for k, v in d.items()}
    for k in keys:
        v = norm.get(re.sub(r"[\s_\-]", "", k).lower())
        if v not in (None, ""):
            return v
    return None


def _model_name(v: Any) -> Any:
    if isinstance(v, dict):
        return _get(v, "name", "model_name", "model_file_name", "key")
    return v


def _utf8_read_as_latin1(text: str) -> str:
    """Text whose UTF-8 bytes were stored in a Latin-1 field (TensorArt's tEXt), decoded right;
    anything else unchanged."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def parse_comfy_prompt(graph: Any) -> dict[str, Any] | None:
    """ComfyUI's API graph ``{id: {"class_type": ..., "inputs": {...}}}``."""
    if not isinstance(graph, dict):
        return None
    nodes = [n for n in graph.values() if isinstance(n, dict) and "class_type" in n]
    if not nodes:
        return None
    p: dict[str, Any] = {"tool": "ComfyUI"}
    texts: list[str] = []
    for n in nodes:
        ct, inp = str(n.get("class_type")), n.get("inputs") or {}
        if not isinstance(inp, dict):
            continue
        if "ckpt_name" in inp or "unet_name" in inp:
            p.setdefault("model", inp.get("ckpt_name") or inp.get("unet_name"))
        if "KSampler" in ct or "Sampler" in ct:
            for key, src in (("seed", "seed"), ("seed", "noise_seed"), ("steps", "steps"),
                             ("cfg", "cfg"), ("sampler", "sampler_name")):
                if not isinstance(inp.get(src), list):  # a list is a link to another node
                    p.setdefault(key, inp.get(src))
        if "CLIPTextEncode" in ct and isinstance(inp.get("text"), str):
            texts.append(inp["text"])
        if "width" in inp and "height" in inp and not isinstance(inp["width"], list):
            p.setdefault("size", f"{inp['width']}x{inp['height']}")
    if texts:
        p["prompt"] = texts[0]
        if len(texts) > 1:
            p["negative_prompt"] = texts[1]
    p["nodes"] = sorted({str(n.get("class_type")) for n in nodes})[:30]
    return _clean_params(p)


def parse_comfy_workflow(wf: Any) -> dict[str, Any] | None:
    """ComfyUI's UI workflow ``{"nodes": [{"type": ..., "widgets_values": [...]}]}``."""
    if not isinstance(wf, dict) or not isinstance(wf.get("nodes"), list):
        return None
    nodes = [n for n in wf["nodes"] if isinstance(n, dict) and "type" in n]
    if not nodes:
        return None
    p: dict[str, Any] = {"tool": "ComfyUI"}
    texts: list[str] = []
    for n in nodes:
        t, w = str(n["type"]), n.get("widgets_values")
        if not isinstance(w, list) or not w:
            continue
        if t.startswith("CheckpointLoader") or t in ("UNETLoader",):
            p.setdefault("model", w[0])
        elif t == "KSampler" and len(w) >= 5:  # seed, control, steps, cfg, sampler, scheduler, denoise
            p.setdefault("seed", w[0])
            p.setdefault("steps", w[2])
            p.setdefault("cfg", w[3])
            p.setdefault("sampler", w[4])
        elif t.startswith("CLIPTextEncode") and isinstance(w[0], str):
            texts.append(w[0])
    if texts:
        p["prompt"] = texts[0]
    p["nodes"] = sorted({str(n["type"]) for n in nodes})[:30]
    return _clean_params(p)


def parse_generic_json(d: Any, tool: str) -> dict[str, Any] | None:
    """Flat JSON from NovelAI, InvokeAI, Fooocus, SwarmUI, Draw Things, TensorArt..."""
    if not isinstance(d, dict):
        return None
    if isinstance(d.get("sui_image_params"), dict):
        d, tool = d["sui_image_params"], "SwarmUI"
    elif isinstance(d.get("image"), dict) and "app_id" in d:  # InvokeAI sd-metadata
        img = d["image"]
        prompt = img.get("prompt")
        if isinstance(prompt, list):
            prompt = " ".join(str(x.get("prompt", "")) for x in prompt if isinstance(x, dict))
        d = {**img, "prompt": prompt, "model": d.get("model_weights") or d.get("model")}
        tool = "InvokeAI"
    prompt = _get(d, "prompt", "positive_prompt", "c", "Prompt")
    v4 = d.get("v4_prompt")
    if not prompt and isinstance(v4, dict):
        prompt = (v4.get("caption") or {}).get("base_caption")
    w, h = _get(d, "width"), _get(d, "height")
    size = _get(d, "size", "resolution") or (f"{w}x{h}" if w and h else None)
    p = {
        "tool": tool,
        "model": _model_name(_get(d, "model", "base_model", "model_name", "Base Model", "ckpt")),
        "seed": _get(d, "seed"),
        "sampler": _get(d, "sampler", "sampler_name", "scheduler"),
        "steps": _get(d, "steps"),
        "cfg": _get(d, "cfg_scale", "cfgscale", "scale", "guidance_scale", "cfg"),
        "size": size,
        "prompt": prompt if isinstance(prompt, str) else None,
        "negative_prompt": _get(d, "negative_prompt", "negativeprompt", "uc", "Negative Prompt"),
    }
    generation_keys = sum(p[k] is not None for k in ("seed", "sampler", "steps", "cfg"))
    if generation_keys < 2 and not (p["prompt"] and generation_keys):
        return None
    return _clean_params(p)


def parse_dream(text: str) -> dict[str, Any] | None:
    """InvokeAI's old ``Dream`` line: '"a prompt" -s 50 -S 42 -W 512 -H 512 -C 7.5 -A k_lms'."""
    m = re.match(r'\s*"(.*)"\s+(-.*)$', text, re.DOTALL)
    if not m:
        return None
    opts = dict(re.findall(r"-([a-zA-Z])\s*([^\s-][^\s]*)", m.group(2)))
    if "s" not in opts and "S" not in opts:
        return None
    size = f"{opts['W']}x{opts['H']}" if "W" in opts and "H" in opts else None
    return _clean_params({"tool": "InvokeAI (dream)", "prompt": m.group(1), "steps": opts.get("s"),
                          "seed": opts.get("S"), "cfg": opts.get("C"), "sampler": opts.get("A"),
                          "size": size})


# --- reading each kind of field ----------------------------------------------------

_JSON_TOOLS = {
    "invokeai_metadata": "InvokeAI", "sd-metadata": "InvokeAI", "generation_data": "TensorArt",
    "Comment": "NovelAI", "parameters": "Fooocus", "fooocus": "Fooocus",
}


def comfy_claim(field_name: str, p: dict[str, Any]) -> Claim:
    """A ComfyUI graph with a sampler generated pixels; one without may only have processed a photo."""
    nodes = " ".join(p.get("nodes", []))
    if "sampler" in nodes.lower():
        return Claim(field_name, "ComfyUI", "a ComfyUI generation graph", 0.98, p)
    if "LoadImage" in nodes:
        return Claim(field_name, "ComfyUI", "a ComfyUI graph that loads a picture but samples "
                     "nothing (it may only have upscaled or filtered an existing picture)", 0.6, p)
    return Claim(field_name, "ComfyUI", "a ComfyUI graph with no recognisable sampling step", 0.8, p)


def claims_from_text(field_name: str, key: str, text: str) -> list[Claim]:
    """What one text field (PNG chunk, EXIF text, comment) says."""
    claims: list[Claim] = []
    text = text.strip()
    if not text:
        return claims
    if key == "generation_data":
        text = _utf8_read_as_latin1(text)
    data = _json(text)
    if key in ("prompt", "workflow") and (
        p := parse_comfy_prompt(data) if key == "prompt" else parse_comfy_workflow(data)
    ):
        claims.append(comfy_claim(field_name, p))
    elif key == "invokeai_graph" and isinstance(data, dict):
        claims.append(Claim(field_name, "InvokeAI", "an InvokeAI generation graph", 0.97,
                            {"tool": "InvokeAI"}))
    elif key == "Dream" and (p := parse_dream(text)):
        claims.append(Claim(field_name, "InvokeAI", "InvokeAI generation settings", 0.98, p))
    elif key == "fooocus_scheme":
        claims.append(Claim(field_name, "Fooocus", f"Fooocus metadata scheme '{_short(text)}'",
                            0.95, {"tool": "Fooocus"}))
    elif data is not None and (p := parse_generic_json(data, _JSON_TOOLS.get(key, "an image generator"))):
        tool = p.get("tool", "an image generator")
        if tool == "Fooocus" and not re.search(r"fooocus", text, re.IGNORECASE):
            tool = p["tool"] = "an image generator (JSON parameters)"
        claims.append(Claim(field_name, tool, f"{tool} generation settings", 0.98, p))
    elif (p := parse_a1111(text)) is not None:
        claims.append(Claim(field_name, p["tool"], f"{p['tool']} generation settings", 0.98, p))
    elif key == "Description" and re.search(r"\bJob ID:\s*[0-9a-f-]{8,}", text, re.IGNORECASE):
        claims.append(Claim(field_name, "Midjourney", "a Midjourney job ID", 0.97,
                            {"tool": "Midjourney", "prompt": _short(text.split("Job ID")[0])}))
    elif key == "Title" and text.lower() == "ai generated image":
        claims.append(Claim(field_name, "NovelAI", "the title 'AI generated image'", 0.9,
                            {"tool": "NovelAI"}))
    elif _AI_LABEL.fullmatch(text):
        claims.append(Claim(field_name, "an unnamed AI generator", f"the label '{text}'", 0.9, {}))
    if claims:
        return claims
    name = generator_named(text) if key in TOOL_FIELDS else generator_in_phrase(text)
    if key == "MakerNote" and text.startswith("OpenAI--ImageGeneration"):
        name = "OpenAI DALL-E"
    if name:
        params = {"tool": name}
        if key == "Source" and name == "NovelAI":  # NovelAI's Source names its model
            params["model"] = _short(text)
        claims.append(Claim(field_name, name, f"a tag naming {name} ('{_short(text)[:120]}')", 0.95,
                            params))
    return claims


DIGITAL_SOURCE = {
    "trainedalgorithmicmedia": (0.97, "made by a trained algorithm (generative AI)"),
    "compositewithtrainedalgorithmicmedia": (0.85, "partly made by generative AI (a composite)"),
    "compositesynthetic": (0.7, "a composite that includes synthetic (computer-made) elements"),
    "algorithmicmedia": (0.7, "made purely by an algorithm, not captured by a camera"),
}


def claims_from_source_type(field_name: str, value: str) -> list[Claim]:
    """IPTC Digital Source Type: the file says outright how the picture was made."""
    code = value.rstrip("/").rsplit("/", 1)[-1].strip().lower()
    if code in DIGITAL_SOURCE:
        strength, says = DIGITAL_SOURCE[code]
        return [Claim(field_name, "IPTC digital source type",
                      f"an IPTC digital source type saying the image was {says} ({code})",
                      strength, {"digital_source_type": code})]
    return []


# --- fields that wrap other fields --------------------------------------------------

_PREFIXED = re.compile(r"\s*([A-Za-z][\w ]{0,30}):\s*(?=[{\[])")


def _inner_key(name: str) -> str:
    return name.lower() if name.lower() in ("prompt", "workflow") else name


def _is_wrapper(d: dict[str, Any]) -> bool:
    """A JSON object whose values are themselves metadata fields."""
    def graph(v: Any) -> bool:
        return isinstance(v, dict) or isinstance(v, str) and v.lstrip()[:1] == "{" and "class_type" in v

    comfy = graph(d.get("prompt")) or isinstance(d.get("workflow"), dict | str) and "nodes" in str(d["workflow"])[:200_000]
    novelai = isinstance(d.get("Comment"), str) and ("Software" in d or "Source" in d)
    return comfy or novelai


def unwrapped(where: str, key: str, text: str) -> list[tuple[str, str, str]]:
    """The fields a field wraps, or the field itself.

    * ``prompt:{json}`` / ``Workflow:{json}`` in EXIF Make, Model,
      ImageDescription or UserComment: ComfyUI's (animated) WebP and its JPEG/WebP
      save nodes (SaveAnimatedWEBP, Save Image Extended, image-saver nodes);
    * a JSON object of named parts in UserComment: ``{"prompt": {...},
      "workflow": {...}}`` (Save Image Extended) or NovelAI's WebP
      ``{"Software": "NovelAI", "Comment": "{...seed...}"}``.
    """
    m = _PREFIXED.match(text)
    if m and _json(text[m.end():]) is not None:
        inner = m.group(1).strip()
        return [(f"{where} ('{inner}:' JSON)", _inner_key(inner), text[m.end():])]
    data = _json(text) if text.lstrip()[:1] == "{" else None
    if isinstance(data, dict) and _is_wrapper(data):
        return [(f"{where} '{k}'", _inner_key(k), v if isinstance(v, str) else json.dumps(v))
                for k, v in list(data.items())[:40] if isinstance(v, str | dict | list)]
    return [(where, key, text)]


def stealth_fields(a: Analysis) -> tuple[list[tuple[str, str, str]], list[dict[str, Any]]]:
    """NovelAI's stealth metadata in the pixels' lowest bits, as fields, and what was read."""
    image = a.image
    for channel, plane in stealth.planes(a.get("raw"), image.format, image.has_alpha, a.get("native")):
        found = stealth.read_stealth(plane, channel)
        if found:
            kind = f"stealth_{'png' if channel == 'alpha' else 'rgb'}{'comp' if found.compressed else 'info'}"
            where = f"{channel}-channel low bits ({kind})"
            info = {"channel": channel, "magic": kind, "stored_bytes": found.stored_bytes}
            return [(where, "stealth", found.text)], [info]
    return [], []


# --- gathering every field ----------------------------------------------------------


def metadata_fields(md: Any, exif_text: dict[str, str], xmp: dict[str, list[str]],
                    iptc: dict[str, list[str]]) -> list[tuple[str, str, str]]:
    """Every text field as ``(where, key, text)``, wrapped fields opened (see :func:`unwrapped`)."""
    out: list[tuple[str, str, str]] = []
    for k, v in (md.text or {}).items():
        if k == "XML:com.adobe.xmp":  # read as XMP below
            continue
        key = {"Software": "Software (PNG)", "Author": "Author (PNG)"}.get(k, k)
        out.append((f"PNG text '{k}'", key, str(v)))
    for k, v in exif_text.items():
        if v.strip():
            out += unwrapped(f"EXIF {k}", k, v)
    for k, vals in xmp.items():
        for v in vals:
            out.append((f"XMP {k}", k, v))
    for k, vals in iptc.items():
        for v in vals:
            out.append((f"IPTC {k}", k, v))
    for i, c in enumerate(md.comments or ()):
        out.append((f"JPEG comment {i + 1}", "comment", c))
    return out


def all_claims(fields: list[tuple[str, str, str]]) -> list[Claim]:
    claims: list[Claim] = []
    for where, key, text in fields:
        if key.endswith("DigitalSourceType") or key.endswith("DigitalSourceFileType"):
            claims += claims_from_source_type(where, text)
        else:
            claims += claims_from_text(where, key, text)
    return claims


def _summary(params: dict[str, Any]) -> str:
    parts = [f"{label} {params[k]}" for k, label in (("model", "model"), ("seed", "seed"),
                                                     ("steps", "steps"), ("sampler", "sampler"))
             if params.get(k) is not None]
    return f" ({', '.join(parts)})" if parts else ""


def _dims(text: Any) -> tuple[int, int] | None:
    m = re.fullmatch(r"\s*(\d{1,6})\s*[x×]\s*(\d{1,6})\s*", str(text or ""))
    return (int(m.group(1)), int(m.group(2))) if m else None


def stated_size(params: dict[str, Any]) -> tuple[int, int] | None:
    """The output size the parameters imply: ``Size``, then hires fix, then post-process upscaling."""
    size = _dims(params.get("size"))
    if size is None:
        return None
    up = params.get("upscaling") or {}
    if resized := _dims(up.get("hires_resize")):
        size = resized
    for factor in (up.get("hires_upscale"), up.get("upscale_by")):
        if isinstance(factor, int | float) and 0 < factor <= 16:
            size = (int(size[0] * factor), int(size[1] * factor))
    return size


def size_agreement(stated: tuple[int, int], actual: tuple[int, int]) -> str:
    """``"same"``, ``"rescaled"`` (same shape, other size) or ``"different"`` (another shape)."""
    (sw, sh), (w, h) = stated, actual
    if abs(sw - w) <= max(8, 0.01 * w) and abs(sh - h) <= max(8, 0.01 * h):
        return "same"
    if sh and h and abs((sw / sh) / (w / h) - 1) <= 0.02:
        return "rescaled"
    return "different"


SIZE_NOTES = {
    "rescaled": "The parameters describe a {s} picture and this one is {a}, the same shape: it was "
                "probably resized after it was generated (sites do this)",
    "different": "The parameters describe a {s} picture but this one is {a}, another shape: the "
                 "picture was cropped, or the parameters were copied from another file, so they "
                 "do not by themselves show that these pixels were generated",
}


def _best(claims: list[Claim]) -> Claim:
    return max(claims, key=lambda c: (c.strength, len(c.params)))


_UNNAMED = ("an image generator", "an unnamed AI generator", "IPTC digital source type")


def tool_named(best: Claim, claims: list[Claim]) -> str:
    """The tool to report: the best claim's, or, when it names none (JSON parameters
    without a tool key), the tool another field names (Fooocus's Software tag)."""
    if not best.tool.startswith(_UNNAMED):
        return best.tool
    named = [c for c in sorted(claims, key=lambda c: -c.strength) if not c.tool.startswith(_UNNAMED)]
    return named[0].tool if named else best.params.get("tool", best.tool)


@cue("provenance.generator-metadata",
     needs=("metadata", "exif_tags", "exif_text", "xmp_fields", "iptc_fields", "raw", "native"),
     version="2")
def generator_metadata(a: Analysis) -> Result:
    """Generator parameters or a generator's name written into the file's metadata."""
    md, exif = a.metadata, a.exif_tags
    fields = metadata_fields(md, a.exif_text, a.xmp_fields, a.iptc_fields)
    hidden, stealth_found = stealth_fields(a)
    fields += [inner for field in hidden for inner in unwrapped(*field)]
    found = sorted({where for where, _, _ in fields})
    notes = [exif.note] if exif.note else []
    if not fields:
        if exif.present or md.xmp:
            return Result.clear("the file's metadata holds no text fields that name a generator",
                                details={"fields": found, "notes": notes})
        return Result.not_applicable("no metadata to read: absence proves nothing "
                                     "(most sites strip it)")
    claims = all_claims(fields)
    if not claims:
        source = [text for _, key, text in fields if key.endswith("DigitalSourceType")]
        return Result.clear(
            "the file has metadata but none of it names an image generator or holds generation "
            "settings (metadata can be stripped or rewritten, so this proves nothing)",
            details={"fields": found, "notes": notes, "digital_source_type": source[:3]})
    best = _best(claims)
    params = {k: v for c in sorted(claims, key=lambda c: c.strength) for k, v in c.params.items()}
    params.update(best.params)
    tool = tool_named(best, claims)
    if tool != best.tool:
        params["tool"] = tool
    tools = sorted({c.tool for c in claims})
    strength = min(1.0, best.strength + 0.01 * (len({c.field for c in claims}) - 1))
    stated = stated_size(params) if best.tool != "ComfyUI" else None  # a graph may resize anywhere
    agreement = size_agreement(stated, a.image.size) if stated else None
    size_note = ""
    if agreement in SIZE_NOTES:
        size_note = " " + SIZE_NOTES[agreement].format(s="x".join(map(str, stated)),
                                                        a="x".join(map(str, a.image.size))) + "."
    what = best.says + _summary(params)
    reason = (f"the file's metadata says it came from an image generator: {best.field} holds {what}"
              + (f" (also named: {', '.join(t for t in tools if t != best.tool)})" if len(tools) > 1 else "")
              + ". Metadata can be forged, but it is rarely written by hand." + size_note)
    return Result.generated(
        strength, reason,
        details={
            "tool": tool,
            "generators_named": tools,
            "parameters": params,
            "evidence": [{"field": c.field, "tool": c.tool, "says": c.says} for c in claims[:20]],
            "fields": found,
            "notes": notes,
            "stealth": stealth_found,
            "stated_size": list(stated) if stated else None,
            "size_agreement": agreement,
        })
