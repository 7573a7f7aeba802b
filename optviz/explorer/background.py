"""The explorable page's background: the contour ``optviz run`` draws, as one image.

The contour is drawn by :func:`optviz.plot.draw_contour` on axes that fill the
whole figure (no margins, no labels, no markers), so pixel (0, 0) is the
domain's top-left corner and pixel (W, H) its bottom-right one: the page maps
clicks to coordinates with one linear map. The image is a 256-colour PNG
(contour bands are flat colours), embedded as base64.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

LONG_SIDE = 700  # pixels of the image's longer side (the map is ~600 CSS pixels wide at most)
MIN_RATIO, MAX_RATIO = 0.4, 2.5  # draw_contour's range of equal-aspect pictures


@dataclass(frozen=True)
class Background:
    """A rendered contour and what the page needs to draw its scale."""

    png_base64: str
    width: int
    height: int
    domain: tuple[tuple[float, float], tuple[float, float]]
    levels: list[float]  # band edges of f − shift (log) or of f (linear)
    colors: list[str]  # one "#rrggbb" per band
    log: bool
    shift: float

    def to_json(self) -> dict:
        return {"png": "data:image/png;base64," + self.png_base64, "width": self.width,
                "height": self.height, "levels": self.levels, "colors": self.colors,
                "log": self.log, "shift": self.shift}


def image_size(domain) -> tuple[int, int]:
    """Pixels (W, H): equal scales on both axes where the contour figure uses them."""
    (x0, x1), (y0, y1) = domain
    ratio = (y1 - y0) / (x1 - x0)
    ratio = min(max(ratio, MIN_RATIO), MAX_RATIO) if MIN_RATIO <= ratio <= MAX_RATIO else 0.75
    if ratio <= 1:
        return LONG_SIDE, max(1, round(LONG_SIDE * ratio))
    return max(1, round(LONG_SIDE / ratio)), LONG_SIDE


def _hex(rgba) -> str:
    r, g, b = (max(0, min(255, round(255 * float(c)))) for c in rgba[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def render_background(objective, domain, *, resolution: int = 150) -> Background:
    """Draw the contour of a 2-D ``objective`` over ``domain`` into a PNG.

    ``resolution`` is the grid of f values per axis (``optviz run`` uses 300 for its
    larger figure; at 700 pixels 150 draws the same picture in a third of the time).
    """
    import numpy as np
    from PIL import Image

    from optviz.plot import draw_contour
    from optviz.plot.static import new_figure, style

    width, height = image_size(domain)
    dpi = 100
    with style():
        fig = new_figure((width / dpi, height / dpi), dpi=dpi, layout=None)
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        art = draw_contour(ax, objective, domain=domain, resolution=resolution, colorbar=False)
        for line in art.minima:  # the page marks critical points itself, on top of the paths
            line.remove()
        ax.set_axis_off()
        ax.set_aspect("auto")
        (x0, x1), (y0, y1) = domain
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        fig.canvas.draw()
        rgba = np.asarray(fig.canvas.buffer_rgba())
    image = Image.fromarray(rgba[..., :3]).quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=4)
    levels = art.levels
    faces = art.filled.get_facecolor() if art.filled is not None else []
    return Background(
        png_base64=base64.b64encode(buffer.getvalue()).decode("ascii"),
        width=int(rgba.shape[1]), height=int(rgba.shape[0]),
        domain=((float(x0), float(x1)), (float(y0), float(y1))),
        levels=[float(v) for v in levels.values], colors=[_hex(c) for c in faces],
        log=bool(levels.log), shift=float(levels.shift),
    )
