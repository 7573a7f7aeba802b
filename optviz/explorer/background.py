"""The explorable page's background: the contour ``optviz run`` draws, as one image.

The picture is :func:`optviz.plot.draw_contour`'s (same grid, levels and colours)
computed as pixels, with no margins, labels or markers: pixel (0, 0) is the
domain's top-left corner and pixel (W, H) its bottom-right one, so the page maps
clicks to coordinates with one linear map. The image is an indexed PNG (contour
bands are flat colours), embedded as base64.
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
    """The contour of a 2-D ``objective`` over ``domain`` as a PNG.

    ``resolution`` is the grid of f values per axis (``optviz run`` uses 300 for its
    larger figure; at 700 pixels 150 draws the same picture). The image is computed
    pixel by pixel from that grid (:func:`optviz.plot.raster.raster_contour`: the same
    levels and colours as the contour figure, without drawing a figure), written as an
    indexed PNG (one palette entry per band, per band under a line, and white).
    """
    from PIL import Image

    from optviz.plot.raster import raster_contour

    width, height = image_size(domain)
    art = raster_contour(objective, domain, width, height, resolution=resolution)
    image = Image.fromarray(art.index, mode="P")
    image.putpalette([max(0, min(255, round(255 * float(c)))) for c in art.palette.ravel()])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    (x0, x1), (y0, y1) = domain
    levels = art.levels
    return Background(
        png_base64=base64.b64encode(buffer.getvalue()).decode("ascii"),
        width=int(width), height=int(height),
        domain=((float(x0), float(x1)), (float(y0), float(y1))),
        levels=[float(v) for v in levels.values], colors=[_hex(c) for c in art.colors],
        log=bool(levels.log), shift=float(levels.shift),
    )
