"""Faces lit from different directions (Johnson & Farid 2005; Farid 2022).

Under one dominant light, the brightness of a matte surface follows the angle
between its surface normal and the direction of the light (Lambert's law):
the side of a face turned to the light is bright, the other side darker. In a
photograph all faces in a scene are lit by the same lights, so their bright
sides point the same way. Generators compose people who each look well lit,
but often from different sides.

For each face, the 3-D face mesh gives a surface normal at every landmark;
the grey level there is fitted, robustly, as ``ambient + albedo * (n . L)``,
which gives the light direction ``L`` (Johnson & Farid's least-squares
estimate, with mesh normals in place of the occluding contour). The cue
compares the directions in the image plane, where they are most reliable.
With a single face there is nothing to compare it with (cast shadows and
highlights elsewhere are not paired automatically yet): not applicable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from telltales.analysis import Analysis
from telltales.findings import Region, Result
from telltales.registry import cue

MIN_FACE_PX = 60.0  # working px: smaller faces have too few pixels per landmark
NEIGHBOURS = 12
# A face counts as lit from one side when the fitted light's image-plane part is
# at least MIN_DIRECTIONAL of the face's mean brightness (else it is lit evenly)
# and when the shading model fits it (rms misfit at most MAX_RESIDUAL of the mean
# brightness: beards, glasses and strong make-up break it).
# Fitted on dev real photos (benchmarks/bench_geometry.py): two such faces whose
# light directions in the image differ by more than MAX_ANGLE_DEG disagree. Faces
# really are lit from different sides in some photos (several lamps, a window on
# one side), so the angle is high and the bar on each face's estimate strict:
# 1 of 409 real photos gets evidence (looser settings: up to 7).
MIN_DIRECTIONAL = 0.2
MAX_RESIDUAL = 0.15
MAX_ANGLE_DEG = 135.0


@dataclass(frozen=True)
class Light:
    """A fitted light: unit image-plane direction (x right, y down), how directional, fit quality."""

    direction: tuple[float, float]
    directional: float  # |L_xy| / mean brightness
    residual: float  # rms misfit, share of mean brightness

    @property
    def angle_deg(self) -> float:
        return float(np.degrees(np.arctan2(self.direction[1], self.direction[0])))


def mesh_normals(points: np.ndarray, k: int = NEIGHBOURS) -> np.ndarray:
    """Unit normals of a point cloud (x, y right/down, z towards the viewer) by local PCA."""
    from scipy.spatial import cKDTree

    k = min(k, len(points))
    _, idx = cKDTree(points).query(points, k=k)
    nb = points[idx] - points[idx].mean(axis=1, keepdims=True)
    cov = np.einsum("nki,nkj->nij", nb, nb)
    _, vecs = np.linalg.eigh(cov)
    n = vecs[:, :, 0]
    n = np.where(n[:, 2:3] < 0, -n, n)  # face the viewer
    return n / np.linalg.norm(n, axis=1, keepdims=True)


def fit_light(intensity: np.ndarray, normals: np.ndarray, rounds: int = 3) -> Light | None:
    """Least squares ``I = a + L . n`` with the worst-fitting fifth dropped each round."""
    keep = np.isfinite(intensity)
    if keep.sum() < 20:
        return None
    coef = np.zeros(4)
    for _ in range(rounds):
        m = np.c_[np.ones(keep.sum()), normals[keep]]
        coef, *_ = np.linalg.lstsq(m, intensity[keep], rcond=None)
        res = np.abs(np.c_[np.ones(len(normals)), normals] @ coef - intensity)
        keep = keep & (res <= np.quantile(res[keep], 0.8))
    mean = float(np.mean(intensity))
    if mean <= 1e-3:
        return None
    lxy = coef[1:3]
    mag = float(np.linalg.norm(lxy))
    resid = np.c_[np.ones(keep.sum()), normals[keep]] @ coef - intensity[keep]
    direction = (float(lxy[0] / mag), float(lxy[1] / mag)) if mag > 1e-9 else (0.0, 0.0)
    return Light(direction, mag / mean, float(np.sqrt(np.mean(resid**2)) / mean))


def face_light(gray: np.ndarray, points: np.ndarray, size: float) -> Light | None:
    """The light on one face from its mesh points (working px, mediapipe z: smaller is nearer)."""
    import cv2

    pts = np.asarray(points, float)
    xyz = np.c_[pts[:, 0], pts[:, 1], -pts[:, 2]]
    normals = mesh_normals(xyz)
    sigma = max(1.0, size / 80)
    blur = cv2.GaussianBlur(gray, (0, 0), sigma)
    h, w = gray.shape
    x = np.clip(np.round(pts[:, 0]).astype(int), 0, w - 1)
    y = np.clip(np.round(pts[:, 1]).astype(int), 0, h - 1)
    inside = (pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)
    if inside.mean() < 0.9:
        return None
    intensity = np.where(inside, blur[y, x], np.nan)
    return fit_light(intensity, normals)


def angle_between(a: Light, b: Light) -> float:
    dot = float(np.clip(np.dot(a.direction, b.direction), -1.0, 1.0))
    return float(np.degrees(np.arccos(dot)))


def side(light: Light) -> str:
    x, y = light.direction
    horiz = "right" if x > 0 else "left"
    vert = "below" if y > 0 else "above"
    return horiz if abs(x) >= abs(y) else vert


@cue("physics.lighting", needs=("faces", "gray"), version="1")
def lighting(a: Analysis) -> Result:
    """Faces in one scene lit from inconsistent directions."""
    faces = [f for f in a.faces if f.size >= MIN_FACE_PX]
    if len(faces) < 2:
        return Result.not_applicable(
            "fewer than two faces large enough to estimate their lighting"
            if not faces else "only one face large enough: nothing to compare its lighting with"
        )
    gray = a.gray.astype(np.float32)
    lights = [face_light(gray, f.points, f.size) for f in faces]
    lit = [(f, li) for f, li in zip(faces, lights, strict=True)
           if li is not None and li.directional >= MIN_DIRECTIONAL and li.residual <= MAX_RESIDUAL]
    details = {
        "faces": [
            None if li is None else {"angle_deg": round(li.angle_deg, 1), "directional": round(li.directional, 3),
                                     "residual": round(li.residual, 3)}
            for li in lights
        ],
    }
    if len(lit) < 2:
        return Result.not_applicable(
            "the faces are lit too evenly (soft or frontal light), or shaded too irregularly, "
            "to tell where the light comes from",
            details=details,
        )
    worst, pair = 0.0, (0, 1)
    for i in range(len(lit)):
        for j in range(i + 1, len(lit)):
            ang = angle_between(lit[i][1], lit[j][1])
            if ang > worst:
                worst, pair = ang, (i, j)
    details["max_angle_deg"] = round(worst, 1)
    if worst <= MAX_ANGLE_DEG:
        return Result.clear(
            f"{len(lit)} faces are lit from about the same side (directions within {worst:.0f} degrees)",
            details=details,
        )
    (fa, la), (fb, lb) = lit[pair[0]], lit[pair[1]]
    strength = min(1.0, 0.4 + (worst - MAX_ANGLE_DEG) / (180.0 - MAX_ANGLE_DEG) * 0.4
                   + 0.2 * min(la.directional, lb.directional) / 0.5)
    return Result.generated(
        strength,
        f"two faces in the same scene are lit from different sides: one from the {side(la)}, "
        f"the other from the {side(lb)} ({worst:.0f} degrees apart)",
        regions=(Region(a.to_original(fa.box), f"lit from the {side(la)}"),
                 Region(a.to_original(fb.box), f"lit from the {side(lb)}")),
        details=details,
    )
