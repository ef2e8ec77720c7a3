"""body.limbs: segment lengths and ratios, knees bent backwards, hands within reach, on synthetic skeletons."""

from __future__ import annotations

import io

import numpy as np
import pytest

from telltales.analyses.landmarks import Face, Hand, Pose
from telltales.analysis import Analysis
from telltales.api import run_cue
from telltales.cues.body.limbs import (
    MAX_SEGMENT_PER_FACE,
    face_height,
    hands_within_reach,
    knee_backwards,
    length_ratios,
    measure,
    problems,
    segment_lengths,
)
from telltales.example import picture
from telltales.findings import Status
from telltales.image import load_image
from telltales.registry import all_cues

LIMBS = next(c for c in all_cues() if c.id == "body.limbs")


def skeleton(forearm: float = 60.0, shin: float = 90.0) -> np.ndarray:
    """A person standing, arms hanging, in a 400x600 picture: 33 pose points (x, y, 0), head at the top."""
    p = np.zeros((33, 3))
    p[0] = (200, 80, 0)  # nose
    p[11], p[12] = (240, 150, 0), (160, 150, 0)  # shoulders (image right = person's left)
    p[13], p[14] = (250, 220, 0), (150, 220, 0)  # elbows: upper arm 70.7 px
    p[15], p[16] = (250, 220 + forearm, 0), (150, 280, 0)
    p[23], p[24] = (225, 300, 0), (175, 300, 0)  # hips
    p[25], p[26] = (225, 390, 0), (175, 390, 0)  # knees: thigh 90 px
    p[27], p[28] = (225, 390 + shin, 0), (175, 480, 0)
    return p


def mesh(centre=(200.0, 80.0), height: float = 50.0) -> np.ndarray:
    m = np.zeros((478, 3))
    m[:, :2] = centre
    m[10, :2] = (centre[0], centre[1] - height / 2)
    m[152, :2] = (centre[0], centre[1] + height / 2)
    m[234, :2] = (centre[0] - 0.3 * height, centre[1])
    m[454, :2] = (centre[0] + 0.3 * height, centre[1])
    return m


def test_lengths_only_for_visible_joints():
    p = skeleton()
    vis = np.ones(33)
    got = segment_lengths(p, vis)
    assert got["left forearm"] == pytest.approx(60.0) and got["right thigh"] == pytest.approx(90.0)
    assert got["left upper arm"] == pytest.approx(np.hypot(10, 70))
    vis[15] = 0.3  # left wrist unsure: the left forearm is not measured
    assert "left forearm" not in segment_lengths(p, vis) and "right forearm" in segment_lengths(p, vis)


@pytest.mark.parametrize("forearm, ratio", [(60.0, 1.0), (180.0, 3.0), (20.0, 3.0)])
def test_left_right_ratio(forearm, ratio):
    lr, ul = length_ratios(segment_lengths(skeleton(forearm=forearm), np.ones(33)))
    assert lr["forearm"] == pytest.approx(ratio)
    assert lr["thigh"] == pytest.approx(1.0)
    assert ul["left leg"] == pytest.approx(1.0)


def test_face_height_uses_the_larger_of_height_and_width():
    assert face_height(mesh(height=50.0)) == pytest.approx(50.0)
    m = mesh(height=50.0)
    m[10, 1], m[152, 1] = 70.0, 90.0  # face tilted: only 20 px high, still 30 px wide
    assert face_height(m) == pytest.approx(30.0 / 0.75)


def _leg(bend_deg: float, backwards: bool) -> tuple[np.ndarray, ...]:
    """Hip, knee, ankle, heel, toe in 3-D (y down, toes towards -z); the knee bent by ``bend_deg``."""
    hip, knee = np.array([0.0, 0.0, 0.0]), np.array([0.0, 0.45, 0.0])
    t = np.radians(bend_deg) * (-1 if backwards else 1)  # a normal knee swings the ankle backwards (+z)
    ankle = knee + 0.45 * np.array([0.0, np.cos(t), np.sin(t)])
    heel, toe = ankle + (0, 0.05, 0.03), ankle + (0, 0.05, -0.12)
    return hip, knee, ankle, heel, toe


@pytest.mark.parametrize("bend", [0.0, 20.0, 60.0])
def test_knee_bent_forwards_is_not_backwards(bend):
    assert knee_backwards(*_leg(bend, backwards=False)) == 0.0


@pytest.mark.parametrize("bend", [20.0, 60.0])
def test_knee_bent_backwards_is_measured(bend):
    assert knee_backwards(*_leg(bend, backwards=True)) == pytest.approx(bend, abs=0.5)


def test_hands_within_reach_counts_separate_hands_near_the_shoulders():
    shoulders = np.array([[160.0, 150.0], [240.0, 150.0]])
    near = [np.array([150.0, 280.0]), np.array([250.0, 280.0]), np.array([200.0, 260.0])]
    assert hands_within_reach(near, shoulders, reach=180.0) == 3
    assert hands_within_reach(near[:2] + [np.array([152.0, 281.0])], shoulders, reach=180.0) == 2  # same hand twice
    assert hands_within_reach(near[:2] + [np.array([600.0, 600.0])], shoulders, reach=180.0) == 2  # someone else's


@pytest.mark.parametrize("forearm, flagged", [(60.0, False), (140.0, False), (60.0 + 50 * MAX_SEGMENT_PER_FACE, True)])
def test_only_an_impossibly_long_limb_is_a_problem(forearm, flagged):
    m = measure(skeleton(forearm=forearm), np.ones(33), np.zeros((33, 3)), face=50.0)
    issues = problems(m)
    assert bool(issues) == flagged
    if flagged:
        assert "left forearm" in issues[0]


def _analysis(pose: Pose | None, faces=(), hands=()):
    buf = io.BytesIO()
    picture(400, 600).save(buf, "PNG")
    a = Analysis(load_image(buf.getvalue()))
    # landmarks given directly (the pose model is tested elsewhere): the cue's own logic is under test here
    a._cache.update(pose=(pose,) if pose is not None else (), faces=tuple(faces), hands=tuple(hands))
    return a


def _pose(points: np.ndarray, vis: float = 0.99) -> Pose:
    return Pose((150.0, 60.0, 100.0, 500.0), points, np.full(33, vis), np.zeros((33, 3)))


def test_cue_flags_a_stretched_arm_and_boxes_the_body():
    face = Face((185.0, 55.0, 30.0, 50.0), 0.9, mesh())
    f, _ = run_cue(LIMBS, _analysis(_pose(skeleton(forearm=300.0)), faces=[face]))
    assert f.status == Status.GENERATED and "left forearm" in f.reason
    x, y, w, h = f.regions[0].box
    assert x <= 150 and y <= 80 and x + w >= 250 and y + h >= 480


def test_cue_clear_on_a_normal_body_and_counts_hands():
    face = Face((185.0, 55.0, 30.0, 50.0), 0.9, mesh())
    hand = [Hand((0, 0, 1, 1), 0.95, "Left", np.tile([[x, 285.0, 0.0]], (21, 1)), np.zeros((21, 3)))
            for x in (150.0, 250.0)]
    f, manual = run_cue(LIMBS, _analysis(_pose(skeleton()), faces=[face], hands=hand))
    assert f.status == Status.CLEAR and f.details["hands_within_reach"] == 2
    assert manual[0].cue == "body.limbs" and manual[0].regions  # only gross errors are judged: a person still looks
    third = Hand((0, 0, 1, 1), 0.95, "Left", np.tile([[200.0, 250.0, 0.0]], (21, 1)), np.zeros((21, 3)))
    f, _ = run_cue(LIMBS, _analysis(_pose(skeleton()), faces=[face], hands=hand + [third]))
    assert f.status == Status.GENERATED and "3 separate hands" in f.reason


@pytest.mark.parametrize("pose, why", [(None, "no person"), ("unsure", "not visible clearly")])
def test_not_applicable_without_a_confident_body(pose, why):
    p = _pose(skeleton(), vis=0.2) if pose == "unsure" else None
    f, manual = run_cue(LIMBS, _analysis(p))
    assert f.status == Status.NOT_APPLICABLE and why in f.reason
    assert bool(manual) == (pose is not None)  # a body seen but not measurable is left to a person


def test_small_person_is_not_judged():
    small = skeleton() * np.array([0.2, 0.2, 1.0])
    f, _ = run_cue(LIMBS, _analysis(_pose(small)))
    assert f.status == Status.NOT_APPLICABLE and "too small" in f.reason and "px" in f.reason
