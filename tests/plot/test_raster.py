"""The explorable page's background, computed as pixels, is the contour figure's picture:
the same band colours, and the same pixels but for the antialiased edges."""

from __future__ import annotations

import numpy as np
import pytest

from optviz.explorer.background import image_size
from optviz.library import load_function
from optviz.plot import draw_contour
from optviz.plot.raster import band_colors, raster_contour
from optviz.plot.static import new_figure, style


@pytest.mark.parametrize("fn", ["himmelblau", "rosenbrock", "beale", "ill_conditioned", "six_hump_camel"])
def test_raster_is_the_contour_figure(fn):
    obj = load_function(fn)
    dom = tuple(map(tuple, obj.default_domain()))
    width, height = image_size(dom)  # the page's picture: 700 pixels on its longer side
    art = raster_contour(obj, dom, width, height)
    with style():
        fig = new_figure((width / 100, height / 100), dpi=100, layout=None)
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        drawn = draw_contour(ax, obj, domain=dom, resolution=150, colorbar=False)
        for line in drawn.minima:
            line.remove()
        ax.set_axis_off()
        ax.set_aspect("auto")
        ax.set_xlim(*dom[0])
        ax.set_ylim(*dom[1])
        fig.canvas.draw()
        reference = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)
    assert np.allclose(drawn.filled.get_facecolor()[:, :3], band_colors(drawn.levels))
    assert np.allclose(art.levels.values, drawn.levels.values)
    pixels = np.round(255 * art.palette[art.index]).astype(int)
    assert pixels.shape == reference.shape
    close = np.abs(pixels - reference).max(axis=2) <= 8
    assert close.mean() > 0.9, f"{fn}: only {close.mean():.1%} of the pixels match"
