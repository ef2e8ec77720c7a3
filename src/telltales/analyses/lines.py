"""Straight line segments: the raw material of the geometry cues.

Segments are found with OpenCV's Line Segment Detector (LSD, von Gioi et al.
2012: a contrario validation, so no thresholds to tune and few false segments;
no learned model) on a grey image of bounded size, so the cost does not grow with the
photo; coordinates are returned in working-size pixels (those of ``a.rgb``),
so ``a.to_original`` turns their boxes into regions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis import Analysis, provider

LINE_SIZE = 1024  # long side at which segments are detected


@dataclass(frozen=True, eq=False)
class Segments:
    """Line segments ``(x1, y1, x2, y2)`` in working-size pixels, longest first.

    ``shape`` is the working image's (height, width); ``detect_scale`` is the
    factor from working-size pixels to the pixels the detector saw (<= 1), so a
    length in detector pixels is ``length * detect_scale``.
    """

    lines: np.ndarray
    shape: tuple[int, int]
    detect_scale: float

    @property
    def lengths(self) -> np.ndarray:
        d = self.lines[:, 2:4] - self.lines[:, 0:2]
        return np.hypot(d[:, 0], d[:, 1])

    @property
    def angles(self) -> np.ndarray:
        """Undirected orientation of each segment, radians in [0, pi)."""
        d = self.lines[:, 2:4] - self.lines[:, 0:2]
        return np.mod(np.arctan2(d[:, 1], d[:, 0]), np.pi)

    @property
    def long_side(self) -> int:
        return max(self.shape)


def detect_segments(gray: np.ndarray, *, min_length: float = 12.0) -> np.ndarray:
    """LSD segments ``(N, 4)`` float64, at least ``min_length`` px, on a 0-1 float grey image, longest first."""
    import cv2

    if min(gray.shape) < 16:
        return np.zeros((0, 4))
    u8 = np.clip(gray * 255.0 + 0.5, 0, 255).astype(np.uint8)
    found = cv2.createLineSegmentDetector(cv2.LSD_REFINE_STD).detect(u8)[0]
    if found is None or len(found) == 0:
        return np.zeros((0, 4))
    lines = found.reshape(-1, 4).astype(np.float64)
    d = lines[:, 2:4] - lines[:, 0:2]
    length = np.hypot(d[:, 0], d[:, 1])
    keep = length >= min_length
    lines, length = lines[keep], length[keep]
    order = np.argsort(-length, kind="stable")
    return lines[order]


@provider("segments")
def segments(a: Analysis) -> Segments:
    """Line segments of the working-size grey image, detected at long side <= 1024."""
    import cv2

    g = a.get("gray")
    h, w = g.shape
    s = min(1.0, LINE_SIZE / max(h, w))
    small = g if s >= 1.0 else cv2.resize(
        g, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA
    )
    lines = detect_segments(small)
    if s < 1.0 and len(lines):
        sx, sy = w / small.shape[1], h / small.shape[0]
        lines = lines * np.array([sx, sy, sx, sy])
    return Segments(lines=lines, shape=(h, w), detect_scale=s)
