"""What a picture is asked to be: format, resolution, animation. Checked on construction,
before any work (no matplotlib import unless an MP4 needs ffmpeg to be found)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optviz import budget, validate
from optviz.errors import OptvizError

FORMATS = ("png", "svg", "pdf")
ANIMATIONS = ("gif", "mp4")


@dataclass(frozen=True)
class FigureOptions:
    """``fmt`` (png, svg, pdf), ``dpi`` (10–2400), ``animate`` (None or one of
    ``animations``) at ``fps`` (1–120) with ``frames`` (≥ 2) frames, and for runs on a
    surface ``surface`` (3-D) and ``show_state`` (the optimizer state figure)."""

    fmt: str = "png"
    dpi: int = 150
    animate: str | None = None
    fps: int = 20
    frames: int = 100
    surface: bool = False
    show_state: bool = False
    animations: tuple[str, ...] = ANIMATIONS

    def __post_init__(self) -> None:
        validate.one_of("fmt", self.fmt, FORMATS)
        validate.whole("dpi", self.dpi, 10, 2400)
        # the largest figure (16 × 12 in) as an RGBA buffer at this resolution
        budget.fits(f"a figure at {self.dpi} dpi", 16 * 12 * self.dpi**2 * 4, "dpi",
                    "choose a lower dpi, or svg or pdf (vector: any size)")
        if self.animate is None:
            return
        validate.one_of("animate", self.animate, self.animations)
        validate.whole("frames", self.frames, 2)
        validate.whole("fps", self.fps, 1, 120)
        # every frame of an animation (13.5 × 5.8 in, one byte a pixel) is kept until the file is written
        budget.fits(f"{self.frames:,} frames at {self.dpi} dpi", self.frames * 13.5 * 5.8 * self.dpi**2,
                    "frames", "choose fewer frames or a lower dpi")
        if self.animate == "mp4":
            from optviz.plot.writers import FFMPEG_HELP, find_ffmpeg

            if find_ffmpeg() is None:
                raise OptvizError(FFMPEG_HELP, param="animate")

    def keywords(self) -> dict[str, Any]:
        """The options as the keyword arguments of :func:`optviz.plot.save_run_figures`."""
        return {"fmt": self.fmt, "dpi": self.dpi, "animate": self.animate, "fps": self.fps,
                "frames": self.frames, "surface": self.surface, "show_state": self.show_state}
