"""The 3-D surface with the paths on it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from optviz.plot import _data, _style
from optviz.plot.contour import critical_label
from optviz.plot.figure import contour_cmap, markevery, run_starts, variable_label


@dataclass
class SurfaceArtists:
    surface: Any
    paths: list[Any]
    starts: Any
    critical: list[Any]  # one per kind of critical point (see optviz.plot.contour.draw_critical_points)
    levels: _data.Levels
    log_height: bool
    domain: _data.Domain


def surface_height(objective: Any, levels: _data.Levels, values: np.ndarray) -> np.ndarray:
    """The height drawn on the surface: f, or log₁₀(f − f*) when the contour is log-spaced."""
    if not levels.log:
        return values
    with np.errstate(all="ignore"):
        return np.log10(np.maximum(values - levels.shift, levels.floor))


def draw_surface(ax: Any, objective: Any, runs: Sequence[Any] = (), *, domain: _data.Domain | None = None,
                 resolution: int = 80, styles: Sequence[tuple[str, str]] | None = None,
                 cmap: Any = None) -> SurfaceArtists:
    """A 3-D surface of a 2-D objective with the paths lifted onto it.

    Where the contour levels are log-spaced the height is log₁₀(f − f*), so a
    valley like Rosenbrock's stays visible instead of flattening to a floor.
    """
    cmap = contour_cmap(cmap)
    domain = domain or _data.plot_domain(objective, runs)
    grid = _data.evaluate_grid(objective, domain, resolution)
    levels = _data.contour_levels(grid.z, objective.reference_value)
    Z = surface_height(objective, levels, grid.z)
    X, Y = np.meshgrid(grid.x, grid.y)
    surf = ax.plot_surface(X, Y, np.ma.masked_invalid(Z), cmap=cmap, linewidth=0, antialiased=False,
                           rcount=resolution, ccount=resolution, zorder=1)
    styles = list(styles or _style.run_styles(runs))
    paths = []
    lift = 0.01 * float(np.nanmax(Z) - np.nanmin(Z) or 1.0)
    for traj, (color, marker) in zip(runs, styles):
        for k in range(traj.K):
            p = traj.path(k)
            h = surface_height(objective, levels, np.asarray(traj.loss[: len(p), k], dtype=float)) + lift
            paths.append(ax.plot(p[:, 0], p[:, 1], h, color=color, marker=marker, markersize=4,
                                 markevery=markevery(len(p), 40), linewidth=2.2, zorder=10)[0])
    starts = run_starts(runs)
    start_art = None
    if len(starts):
        hs = surface_height(objective, levels, objective.f(starts)) + lift
        start_art = ax.plot(starts[:, 0], starts[:, 1], hs, zorder=11, label="start", **_style.START_STYLE)[0]
    critical = []
    for marked in _data.marked_points(objective, domain, runs):
        hm = surface_height(objective, levels, marked.values) + lift
        critical.append(ax.plot(marked.points[:, 0], marked.points[:, 1], hm, label=critical_label(objective, marked),
                                zorder=_style.CRITICAL_ZORDER[marked.kind] + 6, gid=f"critical {marked.kind}",
                                **_style.CRITICAL_STYLE[marked.kind])[0])
    ax.set_xlim(*domain[0])
    ax.set_ylim(*domain[1])
    ax.set_xlabel(variable_label(objective.variables[0]), labelpad=8)
    ax.set_ylabel(variable_label(objective.variables[1]), labelpad=8)
    zlabel = f"f({', '.join(objective.variables)})"
    if levels.log:
        ref = objective.reference_value
        zlabel = f"log₁₀({zlabel} − {'f*' if ref is not None and levels.shift == ref else 'min f'})"
    ax.set_zlabel(zlabel, labelpad=8)
    ax.view_init(elev=38, azim=-60)
    ax.computed_zorder = False  # paths drawn over the surface, not sorted into it
    return SurfaceArtists(surf, paths, start_art, critical, levels, levels.log, domain)
