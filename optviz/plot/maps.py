"""Sweep heatmaps and basin maps, drawn from SweepResult / BasinResult records."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

METRIC_LABEL = {
    "final-loss": "final f",
    "gap": "final f − f*",
    "steps": "steps to reach tol",
    "auc": "mean log₁₀(f − f*) over the run",
}
DIVERGED_COLOR = "#444444"
NOT_CONVERGED_COLOR = "#dddddd"
BASIN_COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7",
                "#9c755f", "#bab0ac"]


def _axis_label(axis) -> str:
    from optviz.plot._style import GREEK

    return GREEK.get(axis.name, axis.name) + (" (log scale)" if axis.log else "")


def _edges(values: np.ndarray, log: bool) -> np.ndarray:
    v = np.log10(values) if log else values.astype(float)
    if len(v) == 1:
        e = np.array([v[0] - 0.5, v[0] + 0.5])
    else:
        mid = (v[1:] + v[:-1]) / 2
        e = np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])
    return 10**e if log else e


def draw_sweep(ax: Any, result) -> dict[str, Any]:
    """One optimizer's sweep on ``ax``: a heatmap (2 axes) or a curve (1 axis).

    Diverged cells are dark gray (marked ✕ on curves), the best cell a gold star.
    Returns the artists: ``mesh``/``line``, ``diverged``, ``best``.
    """
    from matplotlib.colors import ListedColormap, LogNorm, Normalize

    from optviz.plot._style import run_name

    values = np.asarray(result.values, dtype=float)
    diverged = result.status == "diverged"
    finite = np.isfinite(values) & ~diverged
    log_values = result.metric in ("final-loss", "gap") and finite.any() and np.nanmin(values[finite]) > 0
    artists: dict[str, Any] = {}
    best = result.best_index
    ax.set_title(run_name(result))
    if len(result.axes) == 1:
        axis = result.axes[0]
        x = axis.values
        y = np.where(finite, values, np.nan)
        (artists["line"],) = ax.plot(x, y, "-o", color="#1f77b4", markersize=4)
        if diverged.any():
            top = np.nanmax(y) if np.isfinite(y).any() else 1.0
            (artists["diverged"],) = ax.plot(x[diverged], np.full(diverged.sum(), top), "x", color="#c00000",
                                             markersize=7, label="diverged")
        if best is not None:
            (artists["best"],) = ax.plot([x[best[0]]], [values[best]], "*", markersize=18, color="#ffd700",
                                         markeredgecolor="black", label=f"best {_axis_label(axis).split()[0]} = {x[best[0]]:.3g}")
        if axis.log:
            ax.set_xscale("log")
        if log_values:
            ax.set_yscale("log")
        ax.set_xlabel(_axis_label(axis))
        ax.set_ylabel(METRIC_LABEL[result.metric])
        ax.legend(loc="best")
        return artists
    ax_x, ax_y = result.axes[1], result.axes[0]  # rows of values are the first axis
    X = _edges(ax_x.values, ax_x.log)
    Y = _edges(ax_y.values, ax_y.log)
    shown = np.ma.masked_where(~finite, values)
    norm = None
    if finite.any():
        lo, hi = np.nanmin(values[finite]), np.nanmax(values[finite])
        norm = LogNorm(lo, max(hi, lo * 10)) if log_values else Normalize(lo, hi if hi > lo else lo + 1)
    mesh = ax.pcolormesh(X, Y, shown, cmap="viridis_r", norm=norm, shading="flat")
    artists["mesh"] = mesh
    if diverged.any():
        artists["diverged"] = ax.pcolormesh(X, Y, np.ma.masked_where(~diverged, np.ones_like(values)),
                                            cmap=ListedColormap([DIVERGED_COLOR]), shading="flat")
    if best is not None:
        (artists["best"],) = ax.plot([ax_x.values[best[1]]], [ax_y.values[best[0]]], "*", markersize=20,
                                     color="#ffd700", markeredgecolor="black")
    if ax_x.log:
        ax.set_xscale("log")
    if ax_y.log:
        ax.set_yscale("log")
    ax.set_xlabel(_axis_label(ax_x))
    ax.set_ylabel(_axis_label(ax_y))
    cbar = ax.figure.colorbar(mesh, ax=ax, shrink=0.9)
    cbar.set_label(METRIC_LABEL[result.metric])
    artists["colorbar"] = cbar
    return artists


def draw_basins(ax: Any, result) -> dict[str, Any]:
    """Start points colored by the minimum they reach; minima marked; gray = not converged, dark = diverged."""
    from matplotlib.colors import ListedColormap

    from optviz.plot._style import MINIMUM_STYLE, run_name

    obj = result.objective
    n = len(obj.minima)
    artists: dict[str, Any] = {}
    if n:
        colors = [DIVERGED_COLOR, NOT_CONVERGED_COLOR] + [BASIN_COLORS[i % len(BASIN_COLORS)] for i in range(n)]
        codes = result.labels + 2  # -2 → 0, -1 → 1, minimum i → i + 2
        artists["image"] = ax.imshow(codes, origin="lower", cmap=ListedColormap(colors), vmin=-0.5,
                                     vmax=len(colors) - 0.5, interpolation="nearest", aspect="auto",
                                     extent=(result.xs[0], result.xs[-1], result.ys[0], result.ys[-1]))
        M = np.array([m.point for m in obj.minima])
        (artists["minima"],) = ax.plot(M[:, 0], M[:, 1], **MINIMUM_STYLE)
    else:
        from matplotlib.colors import LogNorm

        loss = np.where(result.labels == -2, np.nan, result.final_loss)
        pos = loss[np.isfinite(loss)]
        norm = LogNorm(max(pos.min(), 1e-12), max(pos.max(), 1e-11)) if pos.size and pos.min() > 0 else None
        artists["image"] = ax.imshow(np.ma.masked_invalid(loss), origin="lower", cmap="viridis_r", norm=norm,
                                     aspect="auto", extent=(result.xs[0], result.xs[-1], result.ys[0], result.ys[-1]))
        cbar = ax.figure.colorbar(artists["image"], ax=ax, shrink=0.9)
        cbar.set_label("final f")
    ax.set_title(f"{run_name(result)}, η = {result.lr:.3g}")
    ax.set_xlabel(obj.variables[0])
    ax.set_ylabel(obj.variables[1])
    return artists


def _legend_for_basins(fig, objective) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(color=BASIN_COLORS[i % len(BASIN_COLORS)],
                     label=f"minimum {i + 1} ({m.point[0]:.3g}, {m.point[1]:.3g})")
               for i, m in enumerate(objective.minima)]
    handles += [Patch(color=NOT_CONVERGED_COLOR, label="not converged"), Patch(color=DIVERGED_COLOR, label="diverged")]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 3))


def _grid_figure(n: int, *, panel: tuple[float, float]):
    from optviz.plot.static import new_figure

    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig = new_figure((panel[0] * cols, panel[1] * rows + 0.8))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def sweep_figure(results: Sequence[Any]):
    from optviz.plot.static import figure_title

    fig, axes = _grid_figure(len(results), panel=(5.2, 4.2))
    for ax, res in zip(axes, results):
        draw_sweep(ax, res)
    figure_title(fig, results[0].objective, subtitle=f"sweep, {results[0].steps} steps, {METRIC_LABEL[results[0].metric]}")
    return fig


def basins_figure(results: Sequence[Any]):
    from optviz.plot.static import figure_title

    fig, axes = _grid_figure(len(results), panel=(4.8, 4.4))
    for ax, res in zip(axes, results):
        draw_basins(ax, res)
    if results[0].objective.minima:
        _legend_for_basins(fig, results[0].objective)
    figure_title(fig, results[0].objective, subtitle=f"basins of attraction, {results[0].labels.shape[0]}² starts")
    return fig


def _save(fig: Any, results: Sequence[Any], out_dir: Path, kind: str, fmt: str, dpi: int) -> Path:
    from optviz.plot._files import check_format, prepare_dir, save_figure
    from optviz.plot._style import slug

    fmt = check_format(fmt)
    out = prepare_dir(Path(out_dir))
    stem = slug(f"{results[0].objective.name}_{'-'.join(r.label or r.optimizer for r in results)}_{kind}")
    return save_figure(fig, out / f"{stem}.{fmt}", fmt=fmt, dpi=dpi)


def save_sweep_figure(results: Sequence[Any], out_dir: Path, *, fmt: str = "png", dpi: int = 150) -> Path:
    """The sweep maps of ``results`` in ``out_dir``, atomically; returns the path."""
    from optviz.plot.figure import style

    with style(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # axes spanning 1e±300
        return _save(sweep_figure(results), results, out_dir, "sweep", fmt, dpi)


def save_basins_figure(results: Sequence[Any], out_dir: Path, *, fmt: str = "png", dpi: int = 150) -> Path:
    """The basin maps of ``results`` in ``out_dir``, atomically; returns the path."""
    from optviz.plot.figure import style

    with style(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _save(basins_figure(results), results, out_dir, "basins", fmt, dpi)
