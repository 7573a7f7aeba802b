"""The contour picture of :func:`optviz.plot.draw_contour` as a pixel image, computed
directly in numpy (no figure, no polygons): the explorable page's background.

The same grid of f values, the same levels and the same colours as ``draw_contour``:
f is interpolated bilinearly from the grid to each pixel centre (as contourf
interpolates linearly between grid points), each pixel takes the colour of its band
(``lv[i] < z ≤ lv[i+1]``, the lowest band closed below, as contourf fills them; the
colour is the colormap at the band's midpoint, geometric on a log scale, as
contourf colours them), and where every second level crosses between two
neighbouring pixels the pixel is darkened as a thin black line at 35 % opacity
would darken it. Pixels outside every band (non-finite f) are white.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from optviz.plot import _data
from optviz.plot.figure import contour_cmap

LINE_ALPHA = 0.35 * 0.69  # a 0.5 pt line at 100 dpi is 0.69 px wide: its darkening spread over one pixel
WHITE = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class RasterContour:
    """``index`` (H, W) uint8 into ``palette`` (P, 3) floats in [0, 1]: band i is colour i,
    band i under a line colour n + i, white 2n; ``levels`` and the band ``colors``."""

    index: np.ndarray
    palette: np.ndarray
    levels: _data.Levels
    colors: np.ndarray


def band_colors(levels: _data.Levels, cmap: Any = None) -> np.ndarray:
    """The RGB colour contourf gives each band between consecutive levels."""
    from matplotlib.colors import LogNorm, Normalize

    lv = np.asarray(levels.values, dtype=float)
    if levels.log:
        layers = np.sqrt(lv[:-1]) * np.sqrt(lv[1:])
        norm = LogNorm(lv[0], lv[-1])
    else:
        layers = 0.5 * (lv[:-1] + lv[1:])
        norm = Normalize(lv[0], lv[-1])
    return np.asarray(contour_cmap(cmap)(norm(layers)))[:, :3]


def _bilinear(grid: _data.Grid, width: int, height: int) -> np.ndarray:
    """f at the pixel centres of a width × height image (row 0 at the top)."""
    n, m = len(grid.x), len(grid.y)
    gx = (np.arange(width) + 0.5) / width * (n - 1)
    gy = (1.0 - (np.arange(height) + 0.5) / height) * (m - 1)
    i0 = np.minimum(np.floor(gx).astype(int), n - 2)
    j0 = np.minimum(np.floor(gy).astype(int), m - 2)
    fx, fy = gx - i0, (gy - j0)[:, None]
    rows = grid.z[:, i0] * (1 - fx) + grid.z[:, i0 + 1] * fx  # along x first: (m, width)
    return rows[j0] * (1 - fy) + rows[j0 + 1] * fy


def _line_pixels(band: np.ndarray) -> np.ndarray:
    """Pixels where an even-numbered level lies between the pixel and its right or lower
    neighbour (the level between bands k and k+1 has number k+1)."""

    def crosses(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        ok = (lo >= 0) & (hi > lo)
        return ok & ((hi - lo > 1) | ((hi % 2) == 0))

    out = np.zeros(band.shape, bool)
    out[:, :-1] |= crosses(band[:, :-1], band[:, 1:])
    out[:-1, :] |= crosses(band[:-1, :], band[1:, :])
    return out


def raster_contour(objective: Any, domain: _data.Domain, width: int, height: int, *, resolution: int = 150,
                   cmap: Any = None) -> RasterContour:
    """The filled contour of a 2-D ``objective`` over ``domain`` as a width × height image
    (see the module doc); pixel (0, 0) is the domain's top-left corner."""
    grid = _data.evaluate_grid(objective, domain, resolution)
    levels = _data.contour_levels(grid.z, objective.f_star)
    lv = np.asarray(levels.values, dtype=float)
    nb = len(lv) - 1
    with np.errstate(invalid="ignore"):
        z = levels.transform(_bilinear(grid, width, height))
        band = (np.searchsorted(lv, z, side="left") - 1).astype(np.int16)
        band[z == lv[0]] = 0
        band[~np.isfinite(z) | (z < lv[0]) | (z > lv[-1])] = -1
    colors = band_colors(levels, cmap)
    palette = np.vstack([colors, colors * (1 - LINE_ALPHA), [WHITE]])
    index = np.where(band >= 0, band + nb * _line_pixels(band), 2 * nb).astype(np.uint8)
    return RasterContour(index, palette, levels, colors)
