"""The shared ``segments`` input: line segments in working-size pixels."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage

from telltales.analysis import Analysis
from telltales.image import load_image
from telltales.registry import all_cues


@pytest.fixture(autouse=True, scope="module")
def _providers():
    all_cues()  # loads the providers


def picture(w: int, h: int, a: tuple[int, int], b: tuple[int, int]) -> bytes:
    img = np.full((h, w), 220, np.uint8)
    cv2.line(img, a, b, 30, max(2, w // 300), cv2.LINE_AA)
    buf = io.BytesIO()
    PILImage.fromarray(img).convert("RGB").save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("size", [(640, 480), (3000, 2000)])
def test_segment_found_where_drawn_in_working_pixels(size):
    w, h = size
    a_, b_ = (int(0.1 * w), int(0.2 * h)), (int(0.8 * w), int(0.7 * h))
    an = Analysis(load_image(picture(w, h, a_, b_)))
    sg = an.segments
    s = an.scale
    assert sg.shape == an.rgb.shape[:2]
    assert sg.detect_scale == pytest.approx(min(1.0, 1024 / max(sg.shape)), rel=1e-6)
    longest = sg.lines[0]
    ends = sorted([tuple(longest[:2]), tuple(longest[2:])])
    want = sorted([(a_[0] * s, a_[1] * s), (b_[0] * s, b_[1] * s)])
    tol = 0.02 * max(sg.shape)
    assert np.allclose(ends, want, atol=tol)
    assert sg.angles[0] == pytest.approx(np.arctan2(b_[1] - a_[1], b_[0] - a_[0]) % np.pi, abs=0.02)


def test_blank_image_has_no_segments():
    buf = io.BytesIO()
    PILImage.new("RGB", (300, 200), (90, 90, 90)).save(buf, "PNG")
    sg = Analysis(load_image(buf.getvalue())).segments
    assert sg.lines.shape == (0, 4)
