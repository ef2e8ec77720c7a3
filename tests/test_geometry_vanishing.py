"""geometry.vanishing-points on rooms drawn with a true perspective camera."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage

from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.cues.geometry.vanishing import FOCAL_RATIO
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import get

W, H, FOCAL = 800, 600, 0.9  # focal length in image widths


def camera(eye=(3.6, 1.7, 3.6), target=(0.2, 0.8, 0.2)) -> tuple[np.ndarray, np.ndarray]:
    eye_ = np.asarray(eye, float)
    f = np.asarray(target, float) - eye_
    f /= np.linalg.norm(f)
    r = np.cross(f, (0.0, 1.0, 0.0))
    r /= np.linalg.norm(r)
    return np.stack([r, -np.cross(r, f), f]), eye_


def room_edges(step: float = 0.5, size: float = 4.0, height: float = 3.0) -> list[tuple[tuple, tuple, str]]:
    """Tile and panel edges of a room corner (floor y=0, walls x=0 and z=0), by world direction."""
    lines = []
    for t in np.arange(0, size + 1e-9, step):
        lines += [((0, 0, t), (size, 0, t), "x"), ((t, 0, 0), (t, 0, size), "z"),
                  ((0, 0, t), (0, height, t), "y"), ((t, 0, 0), (t, height, 0), "y")]
    for y in np.arange(0, height + 1e-9, step):
        lines += [((0, y, 0), (0, y, size), "z"), ((0, y, 0), (size, y, 0), "x")]
    return lines


def project(p: tuple, rot: np.ndarray, eye: np.ndarray) -> np.ndarray:
    k = np.array([[FOCAL * W, 0, W / 2], [0, FOCAL * W, H / 2], [0, 0, 1]])
    q = k @ (rot @ (np.asarray(p, float) - eye))
    return q[:2] / q[2]


def rotate(pts: np.ndarray, centre: np.ndarray, degrees: float) -> np.ndarray:
    t = np.deg2rad(degrees)
    m = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    return (pts - centre) @ m.T + centre


def room(family: str | None = None, *, block: float = 0.0, jitter: float = 0.0, step: float = 0.5) -> bytes:
    """The room as a PNG; ``family``'s edges are turned as a block about the image centre
    (``block`` degrees) or each about its own middle (random ``jitter`` degrees)."""
    rot, eye = camera()
    rng = np.random.default_rng(3)
    img = np.full((H, W), 235, np.uint8)
    for a, b, fam in room_edges(step):
        pts = np.array([project(a, rot, eye), project(b, rot, eye)])
        if fam == family:
            if block:
                pts = rotate(pts, np.array([W / 2, H / 2]), block)
            if jitter:
                pts = rotate(pts, pts.mean(axis=0), rng.choice([-1, 1]) * rng.uniform(0.6, 1.0) * jitter)
        p, q = (np.round(pts * 16).astype(int))
        cv2.line(img, tuple(map(int, p)), tuple(map(int, q)), 40, 2, cv2.LINE_AA, 4)
    buf = io.BytesIO()
    PILImage.fromarray(img).convert("RGB").save(buf, "PNG")
    return buf.getvalue()


def check(data: bytes):
    finding, _ = run_cue(get("geometry.vanishing-points"), Analysis(load_image(data)))
    return finding


def test_true_perspective_is_consistent_and_recovers_the_focal_length():
    f = check(room())
    assert f.status == Status.CLEAR, f.reason
    assert len(f.details["families"]) == 3
    assert f.details["camera_disagreement"] == pytest.approx(1.0, abs=0.05)
    assert np.allclose(f.details["implied_focal_long_sides"], FOCAL, atol=0.03)


@pytest.mark.parametrize(("family", "degrees"), [("x", 45.0), ("z", -45.0)])
def test_one_family_turned_as_a_block_breaks_the_camera(family, degrees):
    """The turned family still meets in one point, but no camera explains all three points."""
    assert check(room(family, block=degrees / 3)).status == Status.CLEAR  # a small turn stays below the bar
    f = check(room(family, block=degrees))
    assert f.status == Status.GENERATED, f.reason
    assert "focal length" in f.reason
    assert f.details["camera_disagreement"] > FOCAL_RATIO
    assert f.regions


def test_directions_that_cannot_be_perpendicular_claim_nothing():
    """Turned the other way, one pair cannot be perpendicular at all: not a box, so no camera check."""
    f = check(room("y", block=20.0))
    assert f.details["camera_disagreement"] is None
    assert any(v is not None and v < 0 for v in f.details["implied_focal_long_sides"])


@pytest.mark.parametrize("family", ["y", "z"])
def test_edges_of_one_family_that_miss_their_point(family):
    """Each edge of one family turned a little about its own middle: they meet nowhere."""
    f = check(room(family, jitter=2.5, step=1.0))
    assert f.status == Status.GENERATED, f.reason
    assert "vanishing point" in f.reason
    assert len(f.regions) >= 4
    assert check(room(step=1.0)).status == Status.CLEAR


def test_implied_focal_of_known_points():
    """Perpendicular directions seen by a centred camera with focal f: v1 . v2 = -f^2."""
    from telltales.cues.geometry.vanishing import Family, camera_disagreement, implied_focal

    f = 0.8
    rot = camera()[0]
    pts = [rot @ d for d in np.eye(3)]
    fams = [Family(np.array([p[0] * f, p[1] * f, p[2]]) / np.linalg.norm([p[0] * f, p[1] * f, p[2]]),
                   np.arange(20), np.zeros(20), np.arange(0), 20) for p in pts]
    assert np.allclose(implied_focal(fams), f)
    assert camera_disagreement(fams) == pytest.approx(1.0)


def test_no_structure_is_not_applicable():
    rng = np.random.default_rng(0)
    cloud = cv2.GaussianBlur(rng.random((480, 640)).astype(np.float32), (0, 0), 6)
    img = (255 * (cloud - cloud.min()) / np.ptp(cloud)).astype(np.uint8)
    buf = io.BytesIO()
    PILImage.fromarray(img).convert("RGB").save(buf, "PNG")
    f = check(buf.getvalue())
    assert f.status == Status.NOT_APPLICABLE
    assert "edges" in f.reason
