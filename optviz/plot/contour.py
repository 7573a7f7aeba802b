"""Contours with paths: the function's level sets, its minima, each run's path with its
start and end markers, and the legends that name them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from optviz.plot import _data, _style
from optviz.plot.figure import (
    contour_cmap,
    decade_formatter,
    indefinite_points,
    markevery,
    run_starts,
    variable_label,
)


@dataclass
class ContourArtists:
    filled: Any  # QuadContourSet of the filled contours (None when filled=False)
    lines: Any  # QuadContourSet of the contour lines
    colorbar: Any  # Colorbar or None
    minima: list[Line2D]
    levels: _data.Levels
    domain: _data.Domain


def draw_contour(ax: Any, objective: Any, runs: Sequence[Any] = (), *, domain: _data.Domain | None = None,
                 resolution: int = 300, filled: bool = True, colorbar: bool = True,
                 cmap: Any = None) -> ContourArtists:
    """Contours of a 2-D objective with its known minima marked.

    Levels are log-spaced in f − f* where the values span decades (see
    :func:`optviz.plot._data.contour_levels`). The domain is the function's,
    fitted to the paths of ``runs`` when it has none.
    """
    cmap = contour_cmap(cmap)
    domain = domain or _data.plot_domain(objective, runs)
    grid = _data.evaluate_grid(objective, domain, resolution)
    levels = _data.contour_levels(grid.z, objective.f_star)
    z = levels.transform(grid.z)
    norm = LogNorm(levels.values[0], levels.values[-1]) if levels.log else None
    filled_set = None
    if filled:
        filled_set = ax.contourf(grid.x, grid.y, z, levels=levels.values, cmap=cmap, norm=norm)
        lines = ax.contour(grid.x, grid.y, z, levels=levels.values[::2], colors="black",
                           linewidths=0.5, alpha=0.35)
    else:
        lines = ax.contour(grid.x, grid.y, z, levels=levels.values, cmap=cmap, norm=norm, linewidths=1.2)
    cb = None
    if colorbar:
        mappable = filled_set if filled_set is not None else lines
        # An inset colorbar moves with the axes: with an equal aspect, constrained
        # layout then centres the picture instead of pushing it against the bar.
        cax = ax.inset_axes([1.035, 0.0, 0.045, 1.0])
        cb = ax.get_figure().colorbar(mappable, cax=cax)
        cb.set_label(_colorbar_label(objective, levels))
        if levels.log:
            from matplotlib.ticker import LogLocator

            cb.ax.yaxis.set_major_locator(LogLocator(base=10))
            cb.ax.yaxis.set_major_formatter(decade_formatter())
            cb.ax.yaxis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0)))
    minima = draw_minima(ax, objective, domain)
    (x0, x1), (y0, y1) = domain
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ratio = (y1 - y0) / (x1 - x0)
    ax.set_aspect("equal" if 0.4 <= ratio <= 2.5 else "auto")
    ax.set_xlabel(variable_label(objective.variables[0]))
    ax.set_ylabel(variable_label(objective.variables[1]))
    for side in ("top", "right"):
        ax.spines[side].set_visible(True)
    return ContourArtists(filled_set, lines, cb, minima, levels, domain)


def _colorbar_label(objective: Any, levels: _data.Levels) -> str:
    f = _style.function_label(objective)
    if not levels.log or levels.shift == 0:
        return f + ("  (log scale)" if levels.log else "")
    if objective.f_star is not None and levels.shift == objective.f_star:
        return f"{f} − f*   (f* = {_style.fmt_number(levels.shift, 4)}, log scale)"
    return f"{f} − min f   (min f ≈ {_style.fmt_number(levels.shift, 4)}, log scale)"


def draw_minima(ax: Any, objective: Any, domain: _data.Domain) -> list[Line2D]:
    """Known minima: gold stars for global ones, white stars for local ones."""
    minima = list(getattr(objective, "minima", ()))
    if not minima:
        return []
    f_star = objective.f_star
    tol = 1e-9 * max(1.0, abs(f_star))
    inside = [m for m in minima if all(lo <= p <= hi for p, (lo, hi) in zip(m.point, domain))]
    glob = np.array([m.point for m in inside if m.value <= f_star + tol]).reshape(-1, objective.dim)
    loc = np.array([m.point for m in inside if m.value > f_star + tol]).reshape(-1, objective.dim)
    out = []
    for pts, style, label in ((glob, _style.MINIMUM_STYLE, "global minimum"),
                              (loc, _style.LOCAL_MINIMUM_STYLE, "local minimum")):
        if len(pts) == 0:
            continue
        if objective.dim == 1:
            values = [m.value for m in inside if (m.value <= f_star + tol) == (label == "global minimum")]
            line = ax.plot(pts[:, 0], values, zorder=6, label=label, **style)[0]
        else:
            line = ax.plot(pts[:, 0], pts[:, 1], zorder=6, label=label, **style)[0]
        out.append(line)
    return out


@dataclass
class PathArtists:
    paths: list[Line2D]  # one per (run, start point), in run order then start order
    ends: list[Line2D]
    starts: Line2D | None
    indefinite: Line2D | None
    handles: list[Any] = field(default_factory=list)  # legend handles, one per run
    labels: list[str] = field(default_factory=list)


def draw_paths(ax: Any, runs: Sequence[Any], *, max_markers: int = 40, detail: bool = True,
               styles: Sequence[tuple[str, str]] | None = None) -> PathArtists:
    """Each run's path (every start point), step markers thinned to ``max_markers``,
    end points, the start points and, for Newton, where the Hessian was indefinite."""
    styles = list(styles or _style.run_styles(runs))
    f_star = runs[0].objective.f_star if runs else None
    out = PathArtists([], [], None, None)
    bad = []
    many = len(runs) > 4
    for i, (traj, (color, marker)) in enumerate(zip(runs, styles)):
        # Earlier runs are drawn under later ones, a little wider, so a path that
        # follows another (two methods in one valley) still shows as its border.
        width = (1.8 if many else 2.2) + 1.4 * (len(runs) - 1 - i) / max(1, len(runs) - 1)
        # With --seeds N, the first seed's path is drawn in full, the others thin behind it.
        extra_seeds = {k for group in traj.seed_groups() for k in group[1:]}
        for k in range(traj.K):
            p = traj.path(k)
            if k in extra_seeds:
                out.paths.append(ax.plot(p[:, 0], p[:, 1], color=color, linewidth=0.8, alpha=0.3,
                                         zorder=3.5 + 0.01 * i)[0])
                continue
            line = ax.plot(p[:, 0], p[:, 1], color=color, marker=marker, linewidth=width,
                           markersize=4.5 if many else 5.5, markeredgecolor="white", markeredgewidth=0.6,
                           markevery=markevery(len(p), max_markers), zorder=4 + 0.01 * i)[0]
            out.paths.append(line)
            if len(p):
                end = ax.plot(p[-1:, 0], p[-1:, 1], color=color, marker=marker, markersize=11,
                              markeredgecolor="black", markeredgewidth=1.2, linestyle="none", zorder=7)[0]
                out.ends.append(end)
            bad.append(indefinite_points(traj, k))
        out.handles.append(Line2D([], [], color=color, marker=marker, markersize=8,
                                  markeredgecolor="white", linewidth=2.2))
        out.labels.append(_style.run_label(traj, f_star=f_star, detail=detail))
    starts = run_starts(runs)
    if len(starts):
        out.starts = ax.plot(starts[:, 0], starts[:, 1], zorder=8, label="start", **_style.START_STYLE)[0]
    bad_pts = np.concatenate(bad) if bad else np.zeros((0, 2))
    if len(bad_pts):
        out.indefinite = ax.plot(bad_pts[:, 0], bad_pts[:, 1], linestyle="none", marker="o", markersize=15,
                                 markerfacecolor="none", markeredgecolor="#b00000", markeredgewidth=1.8,
                                 zorder=5, label="Hessian not positive definite")[0]
    return out


def marker_handles(*groups: Any) -> tuple[list[Any], list[str]]:
    """Legend entries for the start, minima and Newton markers that were drawn."""
    handles, labels = [], []
    for art in groups:
        for line in art if isinstance(art, list) else [art]:
            if line is not None and not line.get_label().startswith("_"):
                handles.append(line)
                labels.append(line.get_label())
    return handles, labels


def figure_legend(fig: Figure, handles: list[Any], labels: list[str], marker_h: list[Any],
                   marker_l: list[str]) -> Any:
    """Runs in one column and the start/minimum/Newton markers in a column of their
    own; from four runs on, two columns with the markers after the runs."""
    blank = Line2D([], [], linestyle="none")
    if len(handles) <= 3:
        rows = max(len(handles), len(marker_h))
        cols_h = handles + [blank] * (rows - len(handles))
        cols_l = labels + [""] * (rows - len(labels))
        if marker_h:
            cols_h += marker_h + [blank] * (rows - len(marker_h))
            cols_l += marker_l + [""] * (rows - len(marker_l))
        ncol = 2 if marker_h else 1
    else:
        cols_h, cols_l, ncol = handles + marker_h, labels + marker_l, 2
    legend = fig.legend(cols_h, cols_l, loc="outside lower center", ncol=ncol, handlelength=2.2,
                        columnspacing=1.8, labelspacing=0.7)
    _widen_for(fig, legend)
    return legend


def _widen_for(fig: Figure, artist: Any, margin: float = 0.3) -> None:
    """Make the figure wide enough for ``artist`` (a legend of long labels)."""
    need = artist.get_window_extent(fig.canvas.get_renderer()).width / fig.dpi + margin
    width, height = fig.get_size_inches()
    if need > width:
        fig.set_size_inches(need, height)


def legend_width(runs: Sequence[Any], base: float) -> float:
    """Figure width that holds the legend: two columns of runs need more room."""
    return base if len(runs) <= 3 else base + 1.0
