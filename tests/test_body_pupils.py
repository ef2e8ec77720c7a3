"""body.pupils: ellipse fit of the pupil (Guo et al. 2022) on drawn eyes."""

from __future__ import annotations

import numpy as np
import pytest
from test_body_drawings import drawn_eye

from telltales.cues.body.pupils import BIOU_CLEAN, BIOU_THRESHOLD, ellipse_agreement, measure_pupil


def test_a_perfect_ellipse_agrees_with_its_fit():
    import cv2

    m = np.zeros((200, 200), np.uint8)
    cv2.ellipse(m, ((100, 100), (120, 80), 30), 1, -1)
    iou, biou = ellipse_agreement(m.astype(bool))
    assert iou > 0.97 and biou > 0.85


def test_a_square_agrees_less_than_an_ellipse():
    m = np.zeros((200, 200), bool)
    m[50:150, 50:150] = True
    iou, biou = ellipse_agreement(m)
    # a square's fitted ellipse is close to its inscribed circle..circumscribed circle: IoU well below 1
    assert 0.7 < iou < 0.95 and biou < 0.7


@pytest.mark.parametrize("radius", [12, 20, 30])
@pytest.mark.parametrize("highlight", [(0.3, -0.3), None])
def test_round_pupil_fits_and_jagged_pupil_does_not(radius, highlight):
    rgb, c, r, opening = drawn_eye("round", radius, highlight=highlight)
    round_fit = measure_pupil(rgb, c, r, opening)
    rgb, c, r, opening = drawn_eye("jagged", radius, highlight=highlight)
    jagged_fit = measure_pupil(rgb, c, r, opening)
    assert not isinstance(round_fit, str) and not isinstance(jagged_fit, str)
    assert round_fit.biou > BIOU_CLEAN > jagged_fit.biou > BIOU_THRESHOLD
    assert round_fit.iou > 0.9 > jagged_fit.iou
    assert abs(round_fit.pupil_radius - 0.4 * radius) < 0.15 * radius


def test_small_iris_is_not_judged():
    rgb, c, r, opening = drawn_eye("jagged", 6)
    why = measure_pupil(rgb, c, r, opening)
    assert isinstance(why, str) and "too small" in why


def test_pupil_as_bright_as_iris_is_not_judged():
    rgb, c, r, opening = drawn_eye("round", 20, iris_rgb=(20, 16, 12))
    assert isinstance(measure_pupil(rgb, c, r, opening), str)


@pytest.mark.parametrize("radius", [12, 20, 30])
def test_deeper_irregularity_scores_lower(radius):
    jagged = measure_pupil(*drawn_eye("jagged", radius, highlight=None))
    star = measure_pupil(*drawn_eye("star", radius, highlight=None))
    assert star.biou < jagged.biou < BIOU_CLEAN
    assert star.biou < 0.2
