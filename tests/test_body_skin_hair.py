"""body.skin-hair: drawn faces with textured vs waxy skin, flat (drawn) brows, clipped skin, small and JPEG'd faces."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image as PILImage

from telltales.analyses.landmarks import Face
from telltales.analyses.pixels import luma
from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.cues.body.skin_hair import (
    MIN_IOD,
    SCALE_IOD,
    SHARP_BROWS,
    SKIN_SPOTS,
    SMOOTH,
    face_texture,
    is_plastic,
)
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import all_cues

SKIN = next(c for c in all_cues() if c.id == "body.skin-hair")
SIZE = 400


def face_mesh(iod: float = 120.0, centre=(200.0, 200.0)) -> np.ndarray:
    """The mesh points the cue uses, for a frontal face whose iris centres are ``iod`` px apart."""
    cx, cy = centre
    s = iod / 120.0
    m = np.zeros((478, 3))
    m[:, :2] = centre
    m[:, 0] += np.linspace(-110, 110, 478) * s  # a spread so the face box spans the face
    m[:, 1] += np.linspace(-140, 140, 478)[::-1] * s
    m[468, :2], m[473, :2] = (cx - 60 * s, cy - 30 * s), (cx + 60 * s, cy - 30 * s)  # iris centres
    m[205, :2], m[425, :2] = (cx - 55 * s, cy + 25 * s), (cx + 55 * s, cy + 25 * s)  # cheeks
    m[151, :2] = (cx, cy - 85 * s)  # forehead
    m[10, :2] = (cx, cy - 130 * s)  # top of the forehead
    for i, dx in ((105, -70), (66, -45), (334, 70), (296, 45)):  # eyebrows
        m[i, :2] = (cx + dx * s, cy - 55 * s)
    m[234, :2], m[454, :2], m[1, :2] = (cx - 100 * s, cy), (cx + 100 * s, cy), (cx, cy + 10 * s)  # yaw 0
    return m


def drawn_face(skin_noise: float, brow_noise: float = 25.0, iod: float = 120.0, clip: bool = False) -> tuple:
    """A skin-coloured face with Gaussian texture of ``skin_noise`` grey levels and textured brow bands."""
    import cv2

    rng = np.random.default_rng(1)
    s = iod / 120.0
    c = SIZE // 2
    img = np.zeros((SIZE, SIZE, 3), np.float32)
    img[:] = (70, 90, 110)
    face = np.zeros((SIZE, SIZE), np.uint8)
    cv2.ellipse(face, (c, c), (int(115 * s), int(150 * s)), 0, 0, 360, 1, -1)
    img[face > 0] = (205, 160, 140)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (SIZE, SIZE)).astype(np.float32), (0, 0), 0.7)
    img += (grain / grain.std() * skin_noise)[..., None] * (face > 0)[..., None]
    brows = np.zeros((SIZE, SIZE), np.uint8)
    for dx in (-57, 57):
        cv2.ellipse(brows, (int(c + dx * s), int(c - 55 * s)), (int(32 * s), int(16 * s)), 0, 0, 360, 1, -1)
    img[brows > 0] = 80
    img += rng.normal(0, brow_noise, (SIZE, SIZE, 1)).astype(np.float32) * (brows > 0)[..., None]
    if clip:
        img[int(c - 110 * s):int(c - 60 * s), int(c - 30 * s):int(c + 30 * s)] = 255  # a blown-out forehead
    return np.clip(img, 0, 255).astype(np.uint8), face_mesh(iod, (float(c), float(c)))


def _analysis(rgb, mesh=None, fmt="PNG", quality=95):
    buf = io.BytesIO()
    PILImage.fromarray(rgb).save(buf, fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    a = Analysis(load_image(buf.getvalue()))
    # the mesh is given directly (the landmark model is tested elsewhere): the cue's own logic is under test
    a._cache.update(faces=() if mesh is None else (Face((80.0, 40.0, 240.0, 320.0), 0.9, mesh),))
    return a


@pytest.mark.parametrize("noise, plastic", [(0.0, True), (0.3, True), (6.0, False), (15.0, False)])
def test_texture_separates_waxy_from_textured_skin(noise, plastic):
    rgb, mesh = drawn_face(noise)
    m = face_texture(luma(rgb), mesh)
    assert not isinstance(m, str)
    assert set(m["spots"]) == set(SKIN_SPOTS)
    assert m["brows"] >= SHARP_BROWS
    assert is_plastic(m) == plastic
    assert (max(m["spots"].values()) < SMOOTH) == plastic


def test_texture_grows_with_grain():
    values = [max(face_texture(luma(drawn_face(n)[0]), face_mesh())["spots"].values()) for n in (1.0, 3.0, 9.0)]
    assert values[0] < values[1] < values[2]


def test_measured_at_one_scale_whatever_the_resolution():
    """The same face drawn at twice the size gives texture of the same order (it is resampled to one iris distance)."""
    import cv2

    rgb, mesh = drawn_face(0.0)
    big = cv2.resize(rgb, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    a, b = face_texture(luma(rgb), mesh), face_texture(luma(big), mesh * 2)
    assert is_plastic(a) and is_plastic(b)


def test_small_and_clipped_faces_are_not_measured():
    rgb, mesh = drawn_face(0.0, iod=MIN_IOD * 0.8)
    assert "too small" in face_texture(luma(rgb), mesh)
    rgb, mesh = drawn_face(0.0, clip=True)
    assert "forehead" in face_texture(luma(rgb), mesh)


def test_cue_flags_plastic_skin_and_boxes_the_spots():
    rgb, mesh = drawn_face(0.0)
    f, manual = run_cue(SKIN, _analysis(rgb, mesh))
    assert f.status == Status.GENERATED and "plastic skin" in f.reason
    assert len(f.regions) == 3
    for r in f.regions:
        x, y, w, h = r.box
        assert min(x, y) >= 0 and x + w <= SIZE and y + h <= SIZE
    assert manual[0].cue == "body.skin-hair" and "Hair" in manual[0].guidance and manual[0].regions


def test_a_large_face_is_judged_through_moderate_compression():
    """Eyes 2 * SCALE_IOD apart: JPEG q60 blocks average out when the face is shrunk to the measuring scale."""
    rgb, mesh = drawn_face(12.0, iod=2 * SCALE_IOD)
    f, _ = run_cue(SKIN, _analysis(rgb, mesh, "JPEG", 60))
    assert f.status == Status.CLEAR


def test_cue_clear_on_textured_skin_still_asks_about_hair():
    rgb, mesh = drawn_face(8.0)
    f, manual = run_cue(SKIN, _analysis(rgb, mesh))
    assert f.status == Status.CLEAR
    assert manual and manual[0].cue == "body.skin-hair"


@pytest.mark.parametrize("case, why", [("none", "no face"), ("drawn", "eyebrows flat"), ("small", "px apart"),
                                       ("jpeg", "JPEG quality about 3"), ("jpeg-small-face", "smooths a face this small")])
def test_not_applicable(case, why):
    mesh = None
    if case == "none":
        rgb = drawn_face(0.0)[0]
    elif case == "drawn":  # a flat cartoon face: smooth skin means nothing
        rgb, mesh = drawn_face(0.0, brow_noise=0.0)
    elif case == "small":
        rgb, mesh = drawn_face(0.0, iod=MIN_IOD * 0.8)
    elif case == "jpeg-small-face":
        rgb, mesh = drawn_face(0.0, iod=1.5 * SCALE_IOD)
    else:
        rgb, mesh = drawn_face(0.0)
    quality = {"jpeg": 30, "jpeg-small-face": 60}.get(case)
    f, _ = run_cue(SKIN, _analysis(rgb, mesh, *(("JPEG", quality) if quality else ())))
    assert f.status == Status.NOT_APPLICABLE and why in f.reason
