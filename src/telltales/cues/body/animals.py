"""Animals with the wrong number of legs, or bodies fused together (Borji 2023, "animals").

Generators draw animals from their look, not from a skeleton: a cat with five
legs or three ears, a dog whose hind legs belong to the dog beside it, two
kittens merged into one body with two heads, a tail growing out of a flank.
Each part looks right on its own; only counting legs, ears, eyes and tails,
and following each body from head to tail, shows the fault.

No model of animal bodies ships with this project, so nothing here is judged
automatically and this cue never claims evidence either way. What is
automated: locating cat faces with OpenCV's packaged frontal cat-face cascade
(``haarcascade_frontalcatface_extended.xml``), so that the report can box the
animal for a person. It finds frontal, fairly large cat faces (at least about
a seventh of the picture's long side); it misses cats seen from the side or from
behind, and even some frontal ones (on the dev set it found 1 of the 4
ImageNet cat photos: it missed a fluffy frontal Persian), and every other
animal, though it does sometimes box a frontal dog's face. The extended
cascade gave fewer false boxes than ``haarcascade_frontalcatface.xml`` at
every setting tried on the dev set. What is left to a person: counting legs, ears, eyes and tails
and checking that bodies do not merge, on every animal, boxed or not.

The cat-face cascade also fires on human faces, so a candidate whose box has
a human face at its centre (OpenCV's frontal-face cascade, run only inside
that box) is dropped. Tuned on the dev set (benchmarks/bench_animals.py):
boxes on 4 of 764 AI images (two cats, a dog, and one false box on a cartoon
baby's face) and 1 of 409 real photos (a cat); 9 AI portraits had a
candidate dropped as a human face.

Cat faces found: "clear" (the cue ran, judged nothing) with the boxes as a
manual check. None found: "not applicable", which leaves the item on the
general manual-check list.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import numpy as np

from telltales.analysis import Analysis
from telltales.findings import ManualCheck, Region, Result
from telltales.registry import cue
from telltales.taxonomy import BY_ID

SIZE = 576  # long side (px) the cascade is run on
MIN_FACE = 0.14  # smallest cat face searched for, as a share of that long side (0.11 found the same dev boxes at 26 ms instead of 17)
MIN_FACE_PX = 24  # the cascade's own window
SCALE_FACTOR = 1.1
MIN_NEIGHBOURS = 6  # overlapping raw hits a face needs (dev set: 4 let through human faces the veto missed)
HUMAN_MARGIN = 0.25  # the human-face check looks this share of the box beyond each side
HUMAN_MIN = 0.5  # a human face counts if at least this share of the cat box's width
HUMAN_NEIGHBOURS = 5
MIN_SIDE = 64  # images with a shorter long side are not searched

CAT_CASCADE = "haarcascade_frontalcatface_extended.xml"
HUMAN_CASCADE = "haarcascade_frontalface_default.xml"

Box = tuple[float, float, float, float]

# OpenCV's CascadeClassifier is not safe to call from two threads at once (telltales serve
# answers requests in threads), so the shared cascades are used under this lock.
_LOCK = threading.Lock()


@cache
def _cascade(name: str) -> Any:
    """OpenCV's packaged cascade ``name``, loaded once per process (None if it cannot be loaded)."""
    import cv2

    c = cv2.CascadeClassifier(cv2.data.haarcascades + name)
    return None if c.empty() else c


def _to_uint8(gray: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(gray, np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _human_face_inside(img: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """Whether OpenCV's frontal human-face cascade finds a face centred inside ``box`` of ``img``."""
    human = _cascade(HUMAN_CASCADE)
    if human is None:
        return False
    x, y, w, h = box
    m = int(HUMAN_MARGIN * w)
    x0, y0 = max(0, x - m), max(0, y - m)
    crop = img[y0:y + h + m, x0:x + w + m]
    side = max(1, int(HUMAN_MIN * w))
    found = human.detectMultiScale(crop, scaleFactor=SCALE_FACTOR, minNeighbors=HUMAN_NEIGHBOURS,
                                   minSize=(side, side))
    for hx, hy, hw, hh in found:
        cx, cy = x0 + hx + hw / 2, y0 + hy + hh / 2
        if x <= cx <= x + w and y <= cy <= y + h:
            return True
    return False


def cat_faces(gray: np.ndarray) -> tuple[list[Box], int]:
    """Cat-face boxes in ``gray`` px (sorted), and how many candidates were dropped as human faces.

    ``gray`` is float 0-1. Raises ``RuntimeError`` if the packaged cascade cannot be loaded.
    """
    import cv2

    cascade = _cascade(CAT_CASCADE)
    if cascade is None:
        raise RuntimeError(f"OpenCV's {CAT_CASCADE} could not be loaded")
    h, w = gray.shape
    s = min(1.0, SIZE / max(h, w))
    img = _to_uint8(gray)
    if s < 1.0:
        img = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    side = max(MIN_FACE_PX, round(MIN_FACE * max(img.shape)))
    equalised = cv2.equalizeHist(img)
    boxes: list[Box] = []
    dropped = 0
    with _LOCK:
        found = cascade.detectMultiScale(equalised, scaleFactor=SCALE_FACTOR,
                                         minNeighbors=MIN_NEIGHBOURS, minSize=(side, side))
        for b in sorted(tuple(int(v) for v in b) for b in found):
            if _human_face_inside(img, b):
                dropped += 1
                continue
            boxes.append(tuple(v / s for v in b))
    return boxes, dropped


@cue("body.animals", needs=("gray",), version="1")
def animals(a: Analysis) -> Result:
    """Cat faces located and boxed for a person to count legs and check bodies (no automatic verdict)."""
    g = a.gray
    h, w = g.shape
    if max(h, w) < MIN_SIDE:
        return Result.not_applicable(f"image too small to look for animals ({w}x{h} px)")
    try:
        found, dropped = cat_faces(g)
    except RuntimeError as e:
        return Result.not_applicable(f"cannot look for animals: {e}")
    if not found:
        return Result.not_applicable("no animal found (only cat faces are detected automatically)",
                                     details={"cat_faces": 0, "human_faces_skipped": dropped})
    regions = tuple(Region(a.to_original(box), "cat face") for box in found)
    n = len(regions)
    what = "a cat's face was found" if n == 1 else f"{n} cat faces were found"
    return Result.clear(
        f"{what}; animals are not judged automatically",
        manual=(ManualCheck("body.animals", BY_ID["body.animals"].guidance, regions),),
        details={"cat_faces": n, "boxes": [list(r.box) for r in regions], "human_faces_skipped": dropped},
    )
