"""Static figures of runs on a surface: contour with paths, 1-D curve, loss panels,
optimizer state, 3-D surface.

Each ``draw_*`` helper (in :mod:`~optviz.plot.contour`, :mod:`~optviz.plot.curve`,
:mod:`~optviz.plot.loss`, :mod:`~optviz.plot.state`, :mod:`~optviz.plot.surface`)
takes the axes (or figure) to draw on and returns the artists it made, so tests check
what was drawn and the animation reuses the same pictures. The ``*_figure`` builders
here assemble a slide-ready :class:`matplotlib.figure.Figure` on an Agg canvas (pyplot
is never imported); this module also gathers the drawing helpers under one name.
"""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from optviz.domain import View
from optviz.plot import _style
from optviz.plot._data import plot_domain
from optviz.plot.contour import (
    NONCONVEX_LABEL,
    ContourArtists,
    PathArtists,
    draw_contour,
    draw_critical_points,
    draw_paths,
    figure_legend,
    legend_width,
    marker_handles,
)
from optviz.plot.curve import CurveArtists, draw_curve_1d
from optviz.plot.figure import contour_cmap, figure_title, fit_title, new_figure, style
from optviz.plot.loss import draw_loss
from optviz.plot.state import draw_state, runs_with_state
from optviz.plot.surface import SurfaceArtists, draw_surface, surface_height

__all__ = [
    "ContourArtists", "CurveArtists", "PathArtists", "SurfaceArtists", "contour_cmap", "contour_figure",
    "curve_figure", "draw_contour", "draw_critical_points", "draw_curve_1d", "draw_loss",
    "draw_paths", "draw_state", "draw_surface", "figure_title", "fit_title", "loss_figure", "marker_handles",
    "new_figure", "runs_with_state", "state_figure", "style", "surface_figure", "surface_height",
]


def picture_domain(objective: Any, runs: Any, domain: Any = None, xlim: Any = None,
                   ylim: Any = None) -> tuple[tuple[float, float], ...]:
    """The region a picture of ``runs`` shows: ``domain`` ("x0:x1,y0:y1" or (lo, hi)
    pairs), or ``xlim``/``ylim`` for one axis each (for one variable ``ylim`` is the range
    of f, not of the domain); automatic where nothing is given (see
    :func:`optviz.plot._data.plot_domain`)."""
    ranges = View.parse(domain, xlim, ylim).ranges(objective.dim, objective.name)
    return plot_domain(objective, runs, fixed=ranges)


def contour_figure(result: Any, *, resolution: int = 300, dpi: float = 100, domain: Any = None, xlim: Any = None,
                   ylim: Any = None, show_convexity: bool = False) -> Figure:
    """Contour + paths + critical points + legend: the main picture of ``optviz run``
    for a 2-D function. ``domain`` (or ``xlim``/``ylim``): the region drawn, see
    :func:`picture_domain`; ``show_convexity``: shade where the Hessian is not positive
    semidefinite."""
    objective, runs = result.objective, result.runs
    box = picture_domain(objective, runs, domain, xlim, ylim)
    fig = new_figure((legend_width(runs, 9.0), 7.6 + 0.25 * max(0, len(runs) - 2)), dpi=dpi)
    ax = fig.add_subplot()
    contour = draw_contour(ax, objective, runs, resolution=resolution, convexity=show_convexity, domain=box)
    paths = draw_paths(ax, runs)
    extra_h, extra_l = marker_handles(paths.starts, contour.critical, paths.indefinite)
    if contour.nonconvex is not None:
        extra_h.append(Patch(facecolor="#20202030", edgecolor="#202020", hatch="////", linewidth=0))
        extra_l.append(NONCONVEX_LABEL)
    figure_legend(fig, paths.handles, paths.labels, extra_h, extra_l)
    figure_title(fig, objective)
    return fig


def curve_figure(result: Any, *, dpi: float = 100, domain: Any = None, xlim: Any = None, ylim: Any = None,
                 show_convexity: bool = False) -> Figure:
    """The 1-D picture: the curve, each run's iterates on it, critical points and start.
    ``domain`` or ``xlim``: the range of x ("x0:x1"); ``ylim``: the range of f;
    ``show_convexity``: shade the intervals where f'' < 0."""
    objective, runs = result.objective, result.runs
    view = View.parse(domain, xlim, ylim)
    box = plot_domain(objective, runs, fixed=view.ranges(1, objective.name))
    fig = new_figure((legend_width(runs, 10.0), 6.4 + 0.25 * max(0, len(runs) - 2)), dpi=dpi)
    ax = fig.add_subplot()
    art = draw_curve_1d(ax, objective, runs, domain=box, ylim=view.value_range(1), convexity=show_convexity)
    extra_h, extra_l = marker_handles(art.starts, art.critical, art.indefinite, art.nonconvex[:1])
    figure_legend(fig, art.handles, art.labels, extra_h, extra_l)
    figure_title(fig, objective)
    return fig


def loss_figure(result: Any, *, dpi: float = 100) -> Figure:
    """f − f* (log), ‖∇f‖ and η per step, side by side, with the runs' legend below.

    Laid out by hand (margins in inches, legend and title measured): a
    constrained layout would cost a fifth of a second for a row of panels.
    """
    objective, runs = result.objective, result.runs
    width, panel_h = 15.0, 3.7
    left, right, gap = 1.05, 0.3, 1.15  # inches: room for '10⁻¹⁵' tick labels and the y label
    fig = new_figure((width, 6.0), dpi=dpi, layout=None)
    axes = fig.subplots(1, 3)
    draw_loss(axes, runs)
    styles = _style.run_styles(runs)
    handles = [Line2D([], [], color=c, linewidth=2.2) for c, _ in styles]
    labels = [_style.run_label(t) for t in runs]
    ncol = min(len(runs), 3 if len(runs) <= 6 else 4)
    size = _style.legend_layout(len(runs))[1]
    legend = fig.legend(handles, labels, loc="lower center", ncol=ncol, columnspacing=2.0, labelspacing=0.7,
                        fontsize=size)
    title = figure_title(fig, objective)
    renderer = fig.canvas.get_renderer()
    legend_box = legend.get_window_extent(renderer)
    width = max(width, legend_box.width / fig.dpi + 0.3)
    legend_h = legend_box.height / fig.dpi
    title_h = title.get_window_extent(renderer).height / fig.dpi
    top, bottom = title_h + 0.6, legend_h + 0.85  # panel titles above, tick labels and x label below
    height = top + panel_h + bottom
    fig.set_size_inches(width, height)
    panel_w = (width - left - right - 2 * gap) / 3
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                        top=1 - top / height, wspace=gap / panel_w)
    legend.set_bbox_to_anchor((0.5, 0.12 / height), transform=fig.transFigure)
    title.set_y(1 - 0.12 / height)
    title.set_verticalalignment("top")
    return fig


def state_figure(result: Any, *, dpi: float = 100) -> Figure:
    """The optimizer state per step (see :func:`draw_state`)."""
    runs = runs_with_state(result.runs)
    fig = new_figure((16.0, 1.0 + 3.3 * max(1, len(runs))), dpi=dpi)
    draw_state(fig, result.runs)
    K = max((t.K for t in runs), default=1)
    sub = "state of each optimizer per step" + (" (first start point)" if K > 1 else "")
    figure_title(fig, result.objective, subtitle=sub)
    return fig


def surface_figure(result: Any, *, dpi: float = 100, resolution: int = 80, domain: Any = None, xlim: Any = None,
                   ylim: Any = None) -> Figure:
    """A 3-D surface with the paths lifted onto it and the critical points on it;
    ``domain`` (or ``xlim``/``ylim``): the region drawn, see :func:`picture_domain`."""
    objective, runs = result.objective, result.runs
    fig = new_figure((legend_width(runs, 10.0), 8.4 + 0.25 * max(0, len(runs) - 2)), dpi=dpi)
    ax = fig.add_subplot(projection="3d")
    art = draw_surface(ax, objective, runs, resolution=resolution,
                       domain=picture_domain(objective, runs, domain, xlim, ylim))
    styles = _style.run_styles(runs)
    handles = [Line2D([], [], color=c, marker=m, linewidth=2.2) for c, m in styles]
    labels = [_style.run_label(t) for t in runs]
    extra_h, extra_l = marker_handles(art.starts, art.critical)
    figure_legend(fig, handles, labels, extra_h, extra_l)
    figure_title(fig, objective)
    return fig
