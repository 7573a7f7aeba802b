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
    critical: list[Line2D]  # one per kind of critical point marked (legend labels say which)
    levels: _data.Levels
    domain: _data.Domain
    nonconvex: Any = None  # the shading where the Hessian is not positive semidefinite

    @property
    def minima(self) -> list[Line2D]:
        """The critical-point markers (the name of callers that remove them to draw their own)."""
        return self.critical


def draw_contour(ax: Any, objective: Any, runs: Sequence[Any] = (), *, domain: _data.Domain | None = None,
                 resolution: int = 300, filled: bool = True, colorbar: bool = True,
                 cmap: Any = None, convexity: bool = False) -> ContourArtists:
    """Contours of a 2-D objective with its critical points marked (see
    :func:`draw_critical_points`); with ``convexity`` the region where the Hessian is not
    positive semidefinite is shaded.

    Levels are log-spaced in f − f* where the values span decades (see
    :func:`optviz.plot._data.contour_levels`), f* the listed minimum or the lowest
    minimum found. The domain is the function's, fitted to the paths of ``runs`` when
    it has none.
    """
    cmap = contour_cmap(cmap)
    domain = domain or _data.plot_domain(objective, runs)
    grid = _data.evaluate_grid(objective, domain, resolution)
    levels = _data.contour_levels(grid.z, objective.reference_value)
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
    shading = draw_nonconvex(ax, objective, grid) if convexity else None
    critical = draw_critical_points(ax, objective, domain, runs)
    (x0, x1), (y0, y1) = domain
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ratio = (y1 - y0) / (x1 - x0)
    ax.set_aspect("equal" if 0.4 <= ratio <= 2.5 else "auto")
    ax.set_xlabel(variable_label(objective.variables[0]))
    ax.set_ylabel(variable_label(objective.variables[1]))
    for side in ("top", "right"):
        ax.spines[side].set_visible(True)
    return ContourArtists(filled_set, lines, cb, critical, levels, domain, shading)


NONCONVEX_LABEL = "Hessian not positive semidefinite (f not convex here)"


def draw_nonconvex(ax: Any, objective: Any, grid: _data.Grid) -> Any:
    """Hatch and gray the cells of ``grid`` where the Hessian is not positive
    semidefinite; returns the filled contour set (None when f is convex on the grid)."""
    X, Y = np.meshgrid(grid.x, grid.y)
    lam = _data.min_curvature(objective, np.column_stack([X.ravel(), Y.ravel()])).reshape(X.shape)
    mask = _data.not_convex(lam)
    if not mask.any():
        return None
    # The region is the set {λ_min < −tol}: filling that level of the continuous λ_min
    # gives a smooth boundary where a filled mask would show the grid's steps.
    threshold = float(np.nanmax(lam[mask]))
    shade = ax.contourf(grid.x, grid.y, np.ma.masked_invalid(lam), levels=[float(np.nanmin(lam)), threshold],
                        colors=["#202020"], alpha=0.18, hatches=["////"], zorder=2.5)
    shade.set_edgecolor("#202020")
    shade.set_linewidth(0.0)
    return shade


def _colorbar_label(objective: Any, levels: _data.Levels) -> str:
    f = _style.function_label(objective)
    if not levels.log or levels.shift == 0:
        return f + ("  (log scale)" if levels.log else "")
    ref = objective.reference_value
    if ref is not None and levels.shift == ref:
        return f"{f} − f*   ({_style.reference_text(objective)}, log scale)"
    return f"{f} − min f   (min f ≈ {_style.fmt_number(levels.shift, 4)} on this grid, log scale)"


CRITICAL_WORDS = {  # kind: (one, several)
    "minimum": ("local minimum", "local minima"),
    "saddle": ("saddle point", "saddle points"),
    "maximum": ("maximum", "maxima"),
    "degenerate": ("degenerate stationary point", "degenerate stationary points"),
}


def critical_label(objective: Any, marked: _data.Marked) -> str:
    """'global minimum (f* = 0)', 'lowest minimum found (f* ≈ …)', 'saddle points: 12 of 240 shown'."""
    n = len(marked.points)
    if marked.kind == "lowest":
        listed = objective.reference_is_listed
        word = ("global minimum" if n == 1 else "global minima") if listed else (
            "lowest minimum found" if n == 1 else "lowest minima found")
        ref = objective.reference_value
        return f"{word} (f* {'=' if listed else '≈'} {_style.fmt_number(ref, 4)})"
    one, several = CRITICAL_WORDS[marked.kind]
    if n < marked.total:
        return f"{several}: {n} of {marked.total} shown"
    return one if n == 1 else several


def draw_critical_points(ax: Any, objective: Any, domain: _data.Domain, runs: Sequence[Any] = ()) -> list[Line2D]:
    """The function's critical points inside ``domain``: a gold star for the lowest
    minimum (f*), white stars for the other minima, white crosses for saddle points,
    black triangles for maxima, white squares for degenerate points; with many of a
    kind, those nearest the paths, the legend saying how many of how many. On a curve
    of one variable the points sit on the curve."""
    out = []
    for marked in _data.marked_points(objective, domain, runs):
        style = _style.CRITICAL_STYLE[marked.kind]
        xs = marked.points[:, 0]
        ys = marked.values if objective.dim == 1 else marked.points[:, 1]
        out.append(ax.plot(xs, ys, zorder=_style.CRITICAL_ZORDER[marked.kind], gid=f"critical {marked.kind}",
                           label=critical_label(objective, marked), **style)[0])
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
        out.labels.append(_style.run_label(traj, detail=detail))
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
    """Runs in one column and the start/critical-point/Newton markers in a column of
    their own; from four runs on, more columns and smaller text (see
    :func:`optviz.plot._style.legend_layout`) with the markers after the runs."""
    blank = Line2D([], [], linestyle="none")
    ncol, size = _style.legend_layout(len(handles))
    if len(handles) <= 3:
        rows = max(len(handles), len(marker_h))
        cols_h = handles + [blank] * (rows - len(handles))
        cols_l = labels + [""] * (rows - len(labels))
        if marker_h:
            cols_h += marker_h + [blank] * (rows - len(marker_h))
            cols_l += marker_l + [""] * (rows - len(marker_l))
        ncol = 2 if marker_h else 1
    else:
        # Runs fill whole rows; the markers start a row of their own.
        pad = (-len(handles)) % ncol
        cols_h = handles + [blank] * pad + marker_h
        cols_l = labels + [""] * pad + marker_l
        cols_h, cols_l = _row_major(cols_h, cols_l, ncol, blank)
    legend = fig.legend(cols_h, cols_l, loc="outside lower center", ncol=ncol, handlelength=2.2,
                        columnspacing=1.4 if ncol > 2 else 1.8, labelspacing=0.6 if ncol > 2 else 0.7,
                        fontsize=size)
    _widen_for(fig, legend)
    return legend


def _row_major(handles: list[Any], labels: list[str], ncol: int, blank: Any) -> tuple[list[Any], list[str]]:
    """matplotlib fills a legend column by column; reorder so entries read row by row."""
    rows = -(-len(handles) // ncol)
    handles = handles + [blank] * (rows * ncol - len(handles))
    labels = labels + [""] * (rows * ncol - len(labels))
    order = [r * ncol + c for c in range(ncol) for r in range(rows)]
    return [handles[i] for i in order], [labels[i] for i in order]


def _widen_for(fig: Figure, artist: Any, margin: float = 0.3) -> None:
    """Make the figure wide enough for ``artist`` (a legend of long labels)."""
    need = artist.get_window_extent(fig.canvas.get_renderer()).width / fig.dpi + margin
    width, height = fig.get_size_inches()
    if need > width:
        fig.set_size_inches(need, height)


def legend_width(runs: Sequence[Any], base: float) -> float:
    """Figure width that holds the legend: columns of runs need more room."""
    ncol, _ = _style.legend_layout(len(runs))
    return base if len(runs) <= 3 else base + 1.0 + 1.2 * max(0, ncol - 2)
