"""Drawn eyes and hands for the body-cue tests (made in code, no files), and checks of the drawings."""

from __future__ import annotations

import numpy as np

SKIN = (200, 160, 140)


def drawn_eye(pupil: str = "round", radius: float = 20.0, seed: int = 0,
              highlight: tuple[float, float] | None = (0.3, -0.3), highlight_shape: str = "dot",
              iris_rgb: tuple[int, int, int] = (120, 80, 45)):
    """An eye crop: skin, white sclera, textured iris, black pupil (round, jagged or star), one white highlight.

    Returns (rgb uint8, iris centre, iris radius, eyelid-opening mask).
    """
    size = int(radius * 5)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    c = size / 2
    img = np.zeros((size, size, 3))
    img[:] = SKIN
    opening = ((xx - c) / (2.0 * radius)) ** 2 + ((yy - c) / (1.1 * radius)) ** 2 < 1
    img[opening] = (235, 235, 230)
    d = np.hypot(xx - c, yy - c)
    theta = np.arctan2(yy - c, xx - c)
    iris = (d < radius) & opening
    img[iris] = np.array(iris_rgb) + rng.normal(0, 8, (int(iris.sum()), 1))
    r = 0.4 * radius
    edges = {"round": r + 0 * theta, "jagged": r * (1 + 0.35 * np.sign(np.sin(7 * theta))),
             "star": r * (1 + 0.6 * np.cos(5 * theta))}
    edge = edges[pupil]
    img[(d < edge) & opening] = (15, 12, 10)
    if highlight is not None:
        hx, hy = c + highlight[0] * radius, c + highlight[1] * radius
        if highlight_shape == "dot":
            spot = np.hypot(xx - hx, yy - hy) < 0.15 * radius
        else:  # a horizontal bar, as from a window
            spot = (np.abs(xx - hx) < 0.35 * radius) & (np.abs(yy - hy) < 0.06 * radius)
        img[spot] = (250, 250, 250)
    return np.clip(img, 0, 255).astype(np.uint8), (c, c), radius, opening


def drawn_hand(n_fingers: int = 5, size: int = 240, background=(60, 90, 150)):
    """A hand silhouette in skin colour: round palm, forearm leaving the bottom edge, ``n_fingers`` spread fingers.

    Returns (rgb uint8, bool mask, 21 landmarks (x, y, 0) laid on the first five fingers, palm centre, palm length).
    """
    import cv2

    mask = np.zeros((size, size), np.uint8)
    c = (size // 2, int(size * 0.6))
    palm = int(size * 0.16)
    cv2.circle(mask, c, palm, 1, -1)
    cv2.rectangle(mask, (c[0] - palm + 10, c[1]), (c[0] + palm - 10, size), 1, -1)
    angles = np.linspace(-75.0, 75.0, n_fingers)
    chains = []
    for k, a in enumerate(angles):
        t = np.radians(a - 90)
        length = size * 0.28 * (0.75 if k == 0 else 1.0)
        p1 = (int(c[0] + np.cos(t) * palm * 0.5), int(c[1] + np.sin(t) * palm * 0.5))
        p2 = (int(c[0] + np.cos(t) * (palm + length)), int(c[1] + np.sin(t) * (palm + length)))
        cv2.line(mask, p1, p2, 1, max(3, size // 24))
        chains.append([(c[0] + np.cos(t) * (palm * 0.9 + f * length), c[1] + np.sin(t) * (palm * 0.9 + f * length))
                       for f in (0.0, 0.33, 0.66, 0.95)])
    wrist = (c[0], c[1] + palm * 0.9)
    pts = [wrist] + [p for chain in chains[:5] for p in chain]
    landmarks = np.array([(x, y, 0.0) for x, y in pts])
    rgb = np.zeros((size, size, 3), np.uint8)
    rgb[:] = background
    rgb[mask.astype(bool)] = SKIN
    noise = np.random.default_rng(0).normal(0, 3, rgb.shape)
    rgb = np.clip(rgb + noise, 0, 255).astype(np.uint8)
    return rgb, mask.astype(bool), landmarks, (float(c[0]), float(c[1])), float(palm * 1.8)


def test_drawn_eye_has_the_pupil_it_claims():
    rgb, (cx, cy), r, opening = drawn_eye("round", 20.0, highlight=None)
    dark = rgb.sum(axis=2) < 100
    assert abs(np.sqrt(dark.sum() / np.pi) - 0.4 * r) < 1.0
    assert opening[int(cy), int(cx)]


def test_drawn_hand_landmarks_lie_on_the_hand():
    _, mask, lm, _, _ = drawn_hand(6)
    assert lm.shape == (21, 3)
    assert mask[np.round(lm[:, 1]).astype(int), np.round(lm[:, 0]).astype(int)].all()
