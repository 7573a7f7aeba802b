"""How far apart two colors look, to people with normal vision and with red-green
blindness: CIELAB (D65) distances (ΔE 1976) of colors simulated after Machado, Oliveira
& Fernandes (2009), full severity, on linear RGB. The palette's spare colors are chosen
with it (optviz.plot._style.run_styles)."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

# normal vision, deuteranopia, protanopia (the two forms of red-green blindness)
_VISIONS = (np.eye(3),
            np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]),
            np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]))
_SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                         [0.0193339, 0.1191920, 0.9503041]])


def lab(color: str, vision: int = 0) -> np.ndarray:
    """CIELAB (D65) of a '#rrggbb' color as seen with normal vision (0), deuteranopia (1) or protanopia (2)."""
    return _lab(color, vision).copy()


@functools.lru_cache(maxsize=256)
def _lab(color: str, vision: int) -> np.ndarray:
    rgb = np.array([int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = _SRGB_TO_XYZ @ np.clip(_VISIONS[vision] @ linear, 0, 1) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def min_distance(color: str, others: Sequence[str]) -> float:
    """The smallest CIELAB distance (ΔE 1976) from ``color`` to any of ``others`` under the
    three visions of :func:`lab` (infinite when there are no others)."""
    return min((_distance(color, o) for o in others), default=math.inf)


@functools.lru_cache(maxsize=4096)
def _distance(a: str, b: str) -> float:
    return min(float(np.linalg.norm(_lab(a, v) - _lab(b, v))) for v in range(3))
