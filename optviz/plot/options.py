"""What a picture is asked to be: format, resolution, region, animation. Checked on
construction, before any work (no matplotlib import unless an MP4 needs ffmpeg to be found)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optviz import budget, validate
from optviz.domain import View
from optviz.errors import OptvizError
from optviz.plot.writers import MAX_FRAME_PIXELS

FORMATS = ("png", "svg", "pdf")
ANIMATIONS = ("gif", "mp4")
IMAGE_DPI = 150  # figures, unless a dpi is given
ANIMATION_DPI = 100  # animations, unless a dpi is given
ANIMATION_INCHES = (13.5, 5.8)  # the animated figure of a run (picture | loss and η | readout)


@dataclass(frozen=True)
class FigureOptions:
    """``fmt`` (png, svg, pdf), ``dpi`` (10–2400; default 150 for figures, 100 for
    animations, whose frames may have at most 20 million pixels: dpi 505), ``animate`` (None or one of ``animations``) at ``fps`` (1–120) with
    ``frames`` (≥ 2) frames, and for runs on a surface ``surface`` (3-D), ``show_state``
    (the optimizer state figure), ``show_convexity`` (shade where the Hessian is not
    positive semidefinite) and the region drawn: ``domain`` ("x0:x1,y0:y1"), or
    ``xlim``/``ylim`` (see :class:`optviz.domain.View`)."""

    fmt: str = "png"
    dpi: int | None = None
    animate: str | None = None
    fps: int = 20
    frames: int = 100
    surface: bool = False
    show_state: bool = False
    animations: tuple[str, ...] = ANIMATIONS
    domain: Any = None
    xlim: Any = None
    ylim: Any = None
    show_convexity: bool = False

    def __post_init__(self) -> None:
        validate.one_of("fmt", self.fmt, FORMATS)
        if self.dpi is not None:
            validate.whole("dpi", self.dpi, 10, 2400)
            # the largest figure (16 × 12 in) as an RGBA buffer at this resolution
            budget.fits(f"a figure at {self.dpi} dpi", 16 * 12 * self.dpi**2 * 4, "dpi",
                        "choose a lower dpi, or svg or pdf (vector: any size)")
        View.parse(self.domain, self.xlim, self.ylim)  # the region's form, checked now
        if self.animate is None:
            return
        validate.one_of("animate", self.animate, self.animations)
        validate.whole("frames", self.frames, 2)
        validate.whole("fps", self.fps, 1, 120)
        self._check_frame_size()
        if self.animate == "mp4":
            from optviz.plot.writers import FFMPEG_HELP, find_ffmpeg

            if find_ffmpeg() is None:
                raise OptvizError(FFMPEG_HELP, param="animate")

    @property
    def view(self) -> View:
        return View.parse(self.domain, self.xlim, self.ylim)

    @property
    def image_dpi(self) -> int:
        return IMAGE_DPI if self.dpi is None else self.dpi

    @property
    def animation_dpi(self) -> int:
        return ANIMATION_DPI if self.dpi is None else self.dpi

    def _check_frame_size(self) -> None:
        """Refuse frames larger than :data:`~optviz.plot.writers.MAX_FRAME_PIXELS`, naming
        the largest dpi that fits (frames are rendered and written one at a time, so
        their number costs time, not memory)."""
        w, h = (round(v * self.animation_dpi) for v in ANIMATION_INCHES)
        if w * h <= MAX_FRAME_PIXELS:
            return
        fits = int((MAX_FRAME_PIXELS / (ANIMATION_INCHES[0] * ANIMATION_INCHES[1])) ** 0.5)
        raise OptvizError(
            f"an animation frame at {{dpi}} {self.animation_dpi} is {w}×{h} pixels; frames are rendered in "
            f"memory and at most {MAX_FRAME_PIXELS / 1e6:.0f} million pixels each (about 250 MB) are allowed: "
            f"use {{dpi}} {fits} or lower", param="dpi")

    def keywords(self) -> dict[str, Any]:
        """The options as the keyword arguments of :func:`optviz.plot.save_run_figures`."""
        return {"fmt": self.fmt, "dpi": self.dpi, "animate": self.animate, "fps": self.fps,
                "frames": self.frames, "surface": self.surface, "show_state": self.show_state,
                "domain": self.domain, "xlim": self.xlim, "ylim": self.ylim,
                "show_convexity": self.show_convexity}
