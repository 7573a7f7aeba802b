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
    from matplotlib.patches import Patch

    from optviz.plot._style import GREEK, run_name

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
            label = f"best {_axis_label(axis).split()[0]} = {x[best[0]]:.3g}" + _edge_note(result)
            (artists["best"],) = ax.plot([x[best[0]]], [values[best]], "*", markersize=18, color="#ffd700",
                                         markeredgecolor=_edge_color(result), label=label)
        if axis.log:
            ax.set_xscale("log")
        if log_values:
            _log_values_axis(ax, y)
        ax.set_xlabel(_axis_label(axis))
        ax.set_ylabel(METRIC_LABEL[result.metric])
        if ax.get_legend_handles_labels()[0]:
            artists["legend"] = ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=10,
                                          frameon=False)
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
    handles = []
    if diverged.any():
        artists["diverged"] = ax.pcolormesh(X, Y, np.ma.masked_where(~diverged, np.ones_like(values)),
                                            cmap=ListedColormap([DIVERGED_COLOR]), shading="flat")
        handles.append(Patch(color=DIVERGED_COLOR, label=f"diverged ({diverged.mean():.0%} of cells)"))
    if best is not None:
        setting = ", ".join(f"{GREEK.get(a.name, a.name)} = {a.values[i]:.3g}" for a, i in zip(result.axes, best))
        (artists["best"],) = ax.plot([ax_x.values[best[1]]], [ax_y.values[best[0]]], "*", markersize=20,
                                     color="#ffd700", markeredgecolor=_edge_color(result), markeredgewidth=1.4,
                                     label=f"best: {setting}{_edge_note(result)}")
        handles.insert(0, artists["best"])
    if handles:
        artists["legend"] = ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1,
                                      fontsize=10, frameon=False)
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


def _log_values_axis(ax: Any, values: np.ndarray) -> None:
    """A log y axis; within a decade or so, plain numbers at the ticks rather than 6×10⁰."""
    from matplotlib.ticker import FuncFormatter

    from optviz.plot._style import fmt_number
    from optviz.plot.figure import decade_formatter

    ax.set_yscale("log")
    v = values[np.isfinite(values) & (values > 0)]
    if v.size and np.log10(v.max() / v.min()) < 1.5:
        plain = FuncFormatter(lambda value, _pos=None: fmt_number(value, 2))
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
    else:
        ax.yaxis.set_major_formatter(decade_formatter())


def _edge_note(result) -> str:
    """'' or, when the best cell is on the grid's edge, a second line saying so."""
    edge = result.best_on_edge()
    if not edge:
        return ""
    from optviz.plot._style import GREEK

    return f"\non the grid's edge ({', '.join(GREEK.get(n, n) for n in edge)}): the optimum may lie outside"


def _edge_color(result) -> str:
    return "#c00000" if result.best_on_edge() else "black"


def draw_basins(ax: Any, result, *, norm: Any = None, colorbar: bool = True) -> dict[str, Any]:
    """Start points colored by the minimum they reach, each minimum a star numbered as in
    the legend; gray = not converged, dark = diverged. Without listed minima, the final
    f of each start on ``norm`` (share one across panels: :func:`basins_norm`)."""
    import matplotlib.patheffects as pe
    from matplotlib.colors import ListedColormap

    from optviz.plot._style import MINIMUM_STYLE, run_name

    obj = result.objective
    n = len(obj.minima)
    artists: dict[str, Any] = {}
    extent = (result.xs[0], result.xs[-1], result.ys[0], result.ys[-1])
    if n:
        colors = [DIVERGED_COLOR, NOT_CONVERGED_COLOR] + [BASIN_COLORS[i % len(BASIN_COLORS)] for i in range(n)]
        codes = result.labels + 2  # -2 → 0, -1 → 1, minimum i → i + 2
        artists["image"] = ax.imshow(codes, origin="lower", cmap=ListedColormap(colors), vmin=-0.5,
                                     vmax=len(colors) - 0.5, interpolation="nearest", aspect="auto", extent=extent)
        M = np.array([m.point for m in obj.minima])
        (artists["minima"],) = ax.plot(M[:, 0], M[:, 1], **MINIMUM_STYLE)
        outline = [pe.withStroke(linewidth=3, foreground="white")]
        artists["numbers"] = [
            ax.annotate(str(i + 1), (x, y), xytext=(8, 6), textcoords="offset points", fontsize=12,
                        fontweight="bold", color="black", path_effects=outline, zorder=7)
            for i, (x, y) in enumerate(M[:, :2])]
        ax.set_xlim(extent[:2])
        ax.set_ylim(extent[2:])
    else:
        loss = np.where(result.labels == -2, np.nan, result.final_loss)
        artists["image"] = ax.imshow(np.ma.masked_invalid(loss), origin="lower", cmap="viridis_r",
                                     norm=norm if norm is not None else basins_norm([result]), aspect="auto",
                                     extent=extent)
        if colorbar:
            cbar = ax.figure.colorbar(artists["image"], ax=ax, shrink=0.9)
            cbar.set_label("final f")
    ax.set_title(f"{run_name(result)}, η = {result.lr:.3g}")
    ax.set_xlabel(obj.variables[0])
    ax.set_ylabel(obj.variables[1])
    return artists


def basins_norm(results: Sequence[Any]) -> Any:
    """One colour scale of final f for every panel: log where all values are positive."""
    from matplotlib.colors import LogNorm, Normalize

    finals = [np.where(r.labels == -2, np.nan, r.final_loss) for r in results]
    values = np.concatenate([f[np.isfinite(f)] for f in finals]) if finals else np.zeros(0)
    if not values.size:
        return Normalize(0.0, 1.0)
    lo, hi = float(values.min()), float(values.max())
    if lo > 0:
        return LogNorm(max(lo, 1e-300), max(hi, lo * 10))
    return Normalize(lo, hi if hi > lo else lo + 1)


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
    shared = basins_norm(results)
    drawn = [draw_basins(ax, res, norm=shared, colorbar=False) for ax, res in zip(axes, results)]
    if results[0].objective.minima:
        _legend_for_basins(fig, results[0].objective)
    else:  # one colour scale for all panels, one bar
        cbar = fig.colorbar(drawn[-1]["image"], ax=list(axes), shrink=0.9)
        cbar.set_label("final f (one scale for every panel)")
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
