"""physics.lighting on shaded spheres: one light vs. two lights from opposite sides."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image as PILImage

from telltales.analyses.landmarks import Face
from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.cues.physics.lighting import angle_between, face_light, fit_light, mesh_normals
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import get

W, H, R = 640, 400, 100


def sphere_mesh(cx: float, cy: float, r: float = R, n: int = 478, seed: int = 0) -> np.ndarray:
    """Points on the visible half of a sphere, as a face mesh gives them (x, y px; z smaller = nearer)."""
    rng = np.random.default_rng(seed)
    rho, t = 0.9 * r * np.sqrt(rng.uniform(0, 1, n)), rng.uniform(0, 2 * np.pi, n)
    x, y = cx + rho * np.cos(t), cy + rho * np.sin(t)
    return np.c_[x, y, -np.sqrt(r * r - rho * rho)]


def shaded(spheres: list[tuple[float, float, tuple[float, float, float]]]) -> np.ndarray:
    """Matte spheres of radius R lit by one distant light each (Lambert: 0.15 + 0.75 max(0, n . L))."""
    img = np.full((H, W), 0.5, np.float32)
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    for cx, cy, light in spheres:
        lv = np.asarray(light, float) / np.linalg.norm(light)
        dx, dy = (xs - cx) / R, (ys - cy) / R
        inside = dx * dx + dy * dy < 1
        nz = np.sqrt(np.clip(1 - dx * dx - dy * dy, 0, 1))
        img[inside] = (0.15 + 0.75 * np.clip(dx * lv[0] + dy * lv[1] + nz * lv[2], 0, 1))[inside]
    return np.dstack([(img * 255).astype(np.uint8)] * 3)


@pytest.mark.parametrize("light", [(1, 0, 0.5), (-1, 0, 0.5), (0.6, -0.8, 0.7), (0, 1, 1)])
def test_light_direction_of_one_sphere(light):
    g = shaded([(320, 200, light)])[..., 0].astype(np.float32) / 255
    est = face_light(g, sphere_mesh(320, 200), 2 * R)
    want = np.array(light[:2], float) / np.linalg.norm(light[:2])
    assert np.degrees(np.arccos(np.dot(est.direction, want))) < 8
    assert est.directional > 0.3


def test_mesh_normals_of_a_sphere_point_outwards():
    pts = sphere_mesh(0, 0, r=1.0, n=800)
    xyz = np.c_[pts[:, :2], -pts[:, 2]]
    cos = np.sum(mesh_normals(xyz) * xyz, axis=1) / np.linalg.norm(xyz, axis=1)
    assert np.median(cos) > 0.97


def test_even_light_has_no_direction():
    normals = mesh_normals(np.c_[sphere_mesh(0, 0, r=1.0)[:, :2], -sphere_mesh(0, 0, r=1.0)[:, 2]])
    est = fit_light(np.full(len(normals), 0.6), normals)
    assert est.directional < 0.01


def run_scene(lights: list[tuple[float, float, float]]):
    img = shaded([(160, 200, lights[0]), (480, 200, lights[1])])
    buf = io.BytesIO()
    PILImage.fromarray(img).save(buf, "PNG")
    a = Analysis(load_image(buf.getvalue()))
    # the face mesh of each "face" (a sphere), as the faces provider would report it
    a._cache["faces"] = tuple(
        Face(box=(cx - R, 200 - R, 2 * R, 2 * R), score=0.9, points=sphere_mesh(cx, 200, seed=i))
        for i, cx in enumerate((160, 480))
    )
    finding, _ = run_cue(get("physics.lighting"), a)
    return finding


def test_two_faces_lit_from_one_side_are_consistent():
    f = run_scene([(1, -0.3, 0.6), (1, -0.3, 0.6)])
    assert f.status == Status.CLEAR, f.reason
    assert f.details["max_angle_deg"] < 10


def test_two_faces_lit_from_opposite_sides_are_evidence():
    f = run_scene([(1, 0, 0.6), (-1, 0, 0.6)])
    assert f.status == Status.GENERATED, f.reason
    assert "left" in f.reason and "right" in f.reason
    assert len(f.regions) == 2


def test_one_face_is_not_applicable():
    img = shaded([(320, 200, (1, 0, 0.5))])
    buf = io.BytesIO()
    PILImage.fromarray(img).save(buf, "PNG")
    a = Analysis(load_image(buf.getvalue()))
    a._cache["faces"] = (Face(box=(220, 100, 200, 200), score=0.9, points=sphere_mesh(320, 200)),)
    f, _ = run_cue(get("physics.lighting"), a)
    assert f.status == Status.NOT_APPLICABLE
    assert "one face" in f.reason


def test_angles_between_lights():
    from telltales.cues.physics.lighting import Light

    assert angle_between(Light((1.0, 0.0), 1, 0), Light((-1.0, 0.0), 1, 0)) == pytest.approx(180)
    assert angle_between(Light((1.0, 0.0), 1, 0), Light((0.0, 1.0), 1, 0)) == pytest.approx(90)
