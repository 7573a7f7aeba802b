"""Pictures of runs: contour, 1-D curve, loss, state, surface and animations.

Import-light: matplotlib is imported only when something is drawn, so
``import optviz.plot`` costs nothing at CLI startup. The entry point used by
``optviz run`` and ``optviz compare`` is :func:`save_run_figures`; the
``draw_*`` helpers take axes and return artists; :func:`render_animation`
writes frames to any writer (see :mod:`optviz.plot.animation`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from optviz.errors import OptvizError

_LAZY = {
    "draw_contour": "optviz.plot.static",
    "draw_paths": "optviz.plot.static",
    "draw_loss": "optviz.plot.static",
    "draw_curve_1d": "optviz.plot.static",
    "draw_state": "optviz.plot.static",
    "draw_surface": "optviz.plot.static",
    "draw_critical_points": "optviz.plot.static",
    "picture_domain": "optviz.plot.static",
    "contour_figure": "optviz.plot.static",
    "curve_figure": "optviz.plot.static",
    "loss_figure": "optviz.plot.static",
    "state_figure": "optviz.plot.static",
    "surface_figure": "optviz.plot.static",
    "new_figure": "optviz.plot.static",
    "FigureOptions": "optviz.plot.options",
    "render_animation": "optviz.plot.animation",
    "save_animation": "optviz.plot.animation",
    "GifWriter": "optviz.plot.animation",
    "Mp4Writer": "optviz.plot.animation",
    "CountingWriter": "optviz.plot.animation",
    "find_ffmpeg": "optviz.plot.animation",
    "frame_steps": "optviz.plot._data",
    "plot_domain": "optviz.plot._data",
    "contour_levels": "optviz.plot._data",
    "objective_title": "optviz.plot._style",
    "display_name": "optviz.plot._style",
    "run_styles": "optviz.plot._style",
    "slug": "optviz.plot._style",
}

__all__ = sorted([*_LAZY, "save_run_figures", "figure_paths"])

Progress = Callable[[int, int], None]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'optviz.plot' has no attribute {name!r}")


def _check_result(result: Any, options: Any) -> None:
    """What the asked pictures need of the result (options themselves are checked by FigureOptions)."""
    if not result.runs:
        raise OptvizError("nothing to draw: the result has no runs")
    unrecorded = [t.optimizer for t in result.runs if not t.recorded]
    if unrecorded:
        raise OptvizError(f"figures need every step recorded; {', '.join(unrecorded)} ran in summary mode")
    objective = result.objective
    d = objective.dim
    asked = [opt for opt, on in (("surface", options.surface), ("animate", options.animate is not None)) if on]
    if d > 2 and asked:
        raise OptvizError(
            f"{' and '.join('{' + a + '}' for a in asked)} need a function of 1 or 2 variables; {objective.name} "
            f"has {d} ({', '.join(objective.variables)}): only the loss figure can be drawn", names=tuple(asked))
    if d == 1 and options.surface:
        raise OptvizError(
            f"{{surface}} needs a function of 2 variables; {objective.name} has 1 (its curve is drawn instead)",
            param="surface")
    options.view.ranges(d, objective.name)  # a region with one range per variable
    if options.show_convexity and d > 2:
        raise OptvizError(f"{{show_convexity}} needs a function of 1 or 2 variables; {objective.name} has {d}",
                          param="show_convexity")
    if options.show_state:
        from optviz.plot.state import runs_with_state

        if not runs_with_state(result.runs):
            names = ", ".join(t.optimizer for t in result.runs)
            raise OptvizError(
                f"{{show_state}}: {names} carry no state to show "
                "(momentum, nesterov, adagrad, rmsprop and adam do)", param="show_state")


def figure_paths(result: Any, out_dir: Path, *, fmt: str = "png", surface: bool = False,
                 show_state: bool = False, animate: str | None = None, stem: str | None = None) -> dict[str, Path]:
    """The files :func:`save_run_figures` writes, by kind (nothing is drawn)."""
    from optviz.plot._style import default_stem, slug

    out_dir = Path(out_dir)
    prefix = slug(stem, 120, lower=False) if stem else default_stem(result.objective, result.runs)
    d = result.objective.dim
    paths: dict[str, Path] = {}
    if d == 2:
        paths["contour"] = out_dir / f"{prefix}_contour.{fmt}"
    elif d == 1:
        paths["curve"] = out_dir / f"{prefix}_curve.{fmt}"
    paths["loss"] = out_dir / f"{prefix}_loss.{fmt}"
    if show_state:
        paths["state"] = out_dir / f"{prefix}_state.{fmt}"
    if surface:
        paths["surface"] = out_dir / f"{prefix}_surface.{fmt}"
    if animate:
        kind = "surface" if surface else ("curve" if d == 1 else "contour")
        paths["animation"] = out_dir / f"{prefix}_{kind}.{animate}"
    return paths


def save_run_figures(result: Any, out_dir: Path, *, fmt: str = "png", dpi: int | None = None, surface: bool = False,
                     show_state: bool = False, animate: str | None = None, fps: int = 20, frames: int = 100,
                     progress: Progress | None = None, stem: str | None = None, options: Any = None,
                     domain: Any = None, xlim: Any = None, ylim: Any = None,
                     show_convexity: bool = False) -> list[Path]:
    """Draw a :class:`~optviz.api.RunResult` into ``out_dir``; return the written paths.

    Always the loss figure (f − f*, ‖∇f‖, η per step); for a 2-D function the
    contour figure, for a 1-D one the curve figure; with ``show_state`` the
    optimizer-state figure; with ``surface`` the 3-D surface; with
    ``animate`` ("gif" or "mp4") the animation (of the surface when
    ``surface`` is set too), ``frames`` evenly spaced steps at ``fps``,
    calling ``progress(done, total)`` after each frame. ``dpi``: default 150 for
    figures and 100 for animations; a GIF too large to build in memory is refused
    before anything is drawn. ``domain`` (or ``xlim``/``ylim``): the region of the
    pictures of the function; ``show_convexity``: shade where the Hessian is not
    positive semidefinite. ``options``: a :class:`~optviz.plot.options.FigureOptions`
    instead of those keywords. Names:
    ``{stem}_{contour|curve|loss|state|surface}.{fmt}`` with the default stem
    ``{function}_{opt1-opt2…}``. Files are written atomically. Bad options
    raise :class:`~optviz.errors.OptvizError` before anything is drawn.
    """
    from optviz.plot.options import FigureOptions

    if options is None:
        options = FigureOptions(fmt=fmt, dpi=dpi, animate=animate, fps=fps, frames=frames, surface=surface,
                                show_state=show_state, domain=domain, xlim=xlim, ylim=ylim,
                                show_convexity=show_convexity)
    _check_result(result, options)
    from optviz.plot import _files, static

    out_dir = _files.prepare_dir(Path(out_dir))
    targets = figure_paths(result, out_dir, fmt=options.fmt, surface=options.surface,
                           show_state=options.show_state, animate=options.animate, stem=stem)
    region = {"domain": options.domain, "xlim": options.xlim, "ylim": options.ylim}
    builders = {
        "contour": lambda r, dpi: static.contour_figure(r, dpi=dpi, show_convexity=options.show_convexity, **region),
        "curve": lambda r, dpi: static.curve_figure(r, dpi=dpi, show_convexity=options.show_convexity, **region),
        "loss": static.loss_figure,
        "state": static.state_figure,
        "surface": lambda r, dpi: static.surface_figure(r, dpi=dpi, **region),
    }
    written: list[Path] = []
    for kind, path in targets.items():
        if kind == "animation":
            continue
        with static.style():
            fig = builders[kind](result, dpi=options.image_dpi)
            _files.save_figure(fig, path, fmt=options.fmt, dpi=options.image_dpi)
        written.append(path)
    if "animation" in targets:
        from optviz.plot.animation import save_animation

        save_animation(result, targets["animation"], fps=options.fps, frames=options.frames,
                       surface=options.surface, progress=progress, dpi=options.animation_dpi,
                       show_convexity=options.show_convexity, **region)
        written.append(targets["animation"])
    return written
