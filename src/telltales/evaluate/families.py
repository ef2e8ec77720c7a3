"""One family definition and one locked split, shared by every script that fits or validates.

A *family* is the unit held out together: for AI images the generator family
(all Stable Diffusion 1.x/2.x finetunes together, since they share one VAE and
its traces; both Gemini image models together; ...), for real photos the
collection they come from (its source repository, else its folder). The
learned detector's out-of-fold scores, the fusion's fit and its nested
validation all group by :func:`family` so no score is ever produced by a
model that saw the family it scores.

The *locked* part (:data:`LOCKED`) is about a fifth of the labelled images of
``../shared/data`` (dev + train + train2), in whole families, chosen by hand
before any result was looked at, for variety: old and new generators, open
and commercial, and real people, streets, text and film scans. No fit,
calibration or threshold ever sees it; the README's accuracy numbers come
from it alone.

Split v2 (2026-12-02). Split v1 had put five of the eight collections of real
photos of people in the locked part, so the fit part held 19 real people photos
against hundreds of generated portraits; the detector learnt "a person, so
generated" (out of fold on the fit part, 3 of those 19 reached the generated
threshold against 1.3% of other real photos). v2 moves three of those
collections to the fit part (:data:`MOVED_TO_FIT`: mmpose, face_recognition,
Ultra-Light, 119 images) and keeps in the locked part the two on which the v1
detector did worst (vladmandic/human, U-2-Net) and sam2, so that the locked
numbers measure the very failure the move is meant to fix. The AI side is
unchanged. Moving data out of the locked part after seeing it scored is a
choice informed by the test: the README says so, and keeps the v1 numbers.
"""

from __future__ import annotations

import re
from pathlib import Path

FOLDER_LABELS = {"ai": 1, "generated": 1, "fake": 1, "real": 0, "authentic": 0}

# generator names -> families -------------------------------------------------------------------------
# (pattern over "path | generator" lower-cased, family). First match wins; the
# order matters (FaceChain names "SD 1.5"; "DALL-E mini" before "DALL-E 2").
_FAMILY_RULES: tuple[tuple[str, str], ...] = (
    (r"facechain", "facechain"),
    (r"gpt-4o|gpt-image|\bsora\b", "openai-gpt-image"),
    (r"nano banana|gemini", "nano-banana"),
    (r"kolors", "kolors"),
    (r"dall-?e mini|craiyon", "dalle-mini"),
    (r"dall-?e", "dalle"),
    (r"majesty", "majesty-diffusion"),
    (r"latent diffusion|\bldm\b", "latent-diffusion"),
    (r"glid", "glid-3"),
    (r"disco diffusion", "disco-diffusion"),
    (r"stylegan", "stylegan"),
    (r"flux", "flux"),
    (r"pixart", "pixart"),
    (r"kandinsky", "kandinsky"),
    (r"playground", "playground"),
    (r"cascade|wuerstchen", "stable-cascade"),
    (r"stable-diffusion-3|\bsd3", "sd3"),
    (r"sd ?1\.5|sd_1_5|stable diffusion 1\.5|stable-diffusion-2|tiny-sd|sdxs|juggernaut reborn", "sd1-2"),
    (r"xl|pony|illustrious|noobai|tempest|ssd-1b|vega|segmoe|koala|juggernaut", "sdxl"),
    (r"amused|unidiffuser|blipdiffusion", "other-research"),
    (r"stable diffusion|stabai", "stable-diffusion-2022"),
)


def source_folder(file: str) -> str:
    """The source folder of a file: the first folder under ``real/``/``ai/`` (and ``c2/``)."""
    parts = [p for p in Path(file).parts[:-1] if p not in (".",)]
    while parts and parts[0].lower() in (*FOLDER_LABELS, "c2"):
        parts = parts[1:]
    return parts[0] if parts else "root"


def family_of(file: str, label: int, generator: str = "") -> str:
    """The leave-one-out unit: a generator family for AI images, a source folder for real ones."""
    if label == 0:
        return "real:" + source_folder(file)
    text = f"{file} | {generator}".lower()
    for pattern, family in _FAMILY_RULES:
        if re.search(pattern, text):
            return family
    g = re.sub(r"[^a-z0-9]+", "-", generator.lower()).strip("-")
    return g or "ai:" + source_folder(file)



# AI family names, as written in manifests or derived by manifest.family_of, -> the held-out unit
CANONICAL: dict[str, str] = {
    # Stable Diffusion 1.x/2.x and their finetunes and distillations share the SD VAE
    "facechain": "sd1-2",
    "stable-diffusion-2022": "sd1-2",
    "sd15": "sd1-2",
    "sd2": "sd1-2",
    # RPG-DiffusionMaster demos: SD/SDXL checkpoints
    "sd-family": "sdxl",
    # Gemini image models (2.5 Flash "Nano Banana", 3 Pro "Nano Banana Pro", 3.1)
    "nano-banana": "gemini",
    "nano-banana-pro": "gemini",
    "gpt-image": "openai-gpt-image",
    "majesty-diffusion": "majesty-diffusion",
}

LOCKED_AI = frozenset({
    "midjourney", "qwen-image", "seedream", "grok", "infinity", "kandinsky",
    "glid-3", "disco-diffusion", "dalle",
})
SPLIT_VERSION = 2
MOVED_TO_FIT = frozenset({  # locked in split v1 (see the module docstring)
    "real:open-mmlab/mmpose", "real:Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB",
    "real:ageitgey/face_recognition",
})
LOCKED_REAL = frozenset({
    "real:vladmandic/human", "real:MohamedBakrAli/Kodak-Lossless-True-Color-Image-Suite",
    "real:PaddlePaddle/PaddleDetection", "real:open-mmlab/mmocr", "real:xuebinqin/U-2-Net",
    "real:facebookresearch/sam2", "real:cszn/FFDNet",
})
LOCKED = LOCKED_AI | LOCKED_REAL


def family(file: str, label: int, generator: str = "", family_column: str = "", source_repo: str = "") -> str:
    """The held-out unit of one labelled image (see the module docstring)."""
    if label == 0:
        return f"real:{source_repo}" if source_repo else family_of(file, 0)
    name = family_column or family_of(file, 1, generator)
    return CANONICAL.get(name, name)


def is_locked(fam: str) -> bool:
    return fam in LOCKED
