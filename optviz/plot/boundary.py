"""The decision-boundary figure of a network trained on 2-D data: predicted class and
confidence over the plane, with the data on top (one panel per optimizer)."""

from __future__ import annotations

from typing import Any

import numpy as np

from optviz.errors import OptvizError
from optviz.nn.evaluation import decision_grid
from optviz.plot.figure import new_figure, style
from optviz.plot.train_common import as_results, heading, run_name, run_rate, run_title, subtitle


def is_two_d(result: Any) -> bool:
    return int(result.data_info.get("n_features", 0)) == 2 and result.split is not None


def _class_colors(n: int) -> list[str]:
    base = [
        "#1f77b4",
        "#ff7f0e",
        "#2ca02c",
        "#d62728",
        "#9467bd",
        "#8c564b",
        "#e377c2",
        "#17becf",
        "#bcbd22",
        "#7f7f7f",
    ]
    return [base[k % len(base)] for k in range(n)]


def draw_boundary(ax: Any, result: Any, run: Any, resolution: int = 200) -> dict[str, Any]:
    """Predicted class regions of ``run``'s final network with the data on top.

    Training points filled, validation points hollow, colored by class. Returns
    ``{"regions": QuadContourSet | None, "train": PathCollection, "val": PathCollection}``.
    """
    from matplotlib.colors import ListedColormap

    split = result.split
    n_classes = int(result.data_info.get("n_classes", int(split.y_train.max()) + 1))
    colors = _class_colors(n_classes)
    regions = None
    if not run.diverged:
        xs, ys, cls, conf = decision_grid(result, run.label, resolution)
        cmap = ListedColormap(colors)
        regions = ax.contourf(
            xs,
            ys,
            cls,
            levels=np.arange(n_classes + 1) - 0.5,
            cmap=cmap,
            alpha=0.28,
            antialiased=True,
        )
        ax.contour(xs, ys, cls, levels=np.arange(n_classes) + 0.5, colors="0.25", linewidths=1.2)
        title = f"{run_name(run)}\n" + ", ".join(p for p in (run_rate(run), f"val. acc. {100 * run.val_acc[-1]:.1f}%") if p)
    else:
        ax.text(
            0.5,
            0.93,
            run.status,
            transform=ax.transAxes,
            ha="center",
            va="top",
            fontsize=13,
            color="#b00",
            bbox=dict(fc="white", ec="#b00", alpha=0.9),
            zorder=6,
        )
        title = run_title(run)
    c_train = [colors[k] for k in split.y_train]
    c_val = [colors[k] for k in split.y_val]
    train = ax.scatter(
        split.X_train[:, 0],
        split.X_train[:, 1],
        c=c_train,
        s=22,
        edgecolors="white",
        linewidths=0.6,
        zorder=3,
    )
    val = ax.scatter(
        split.X_val[:, 0],
        split.X_val[:, 1],
        facecolors="none",
        edgecolors=c_val,
        s=30,
        linewidths=1.4,
        zorder=3,
    )
    ax.set_title(title)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("x₁ (standardized)")
    ax.set_ylabel("x₂ (standardized)")
    return {"regions": regions, "train": train, "val": val}


def boundary_figure(result: Any, dpi: float = 100, resolution: int = 200) -> Any:
    """One panel per run: its decision regions with the data (2-D data sets only).

    ``result``: one result, or one per seed (the first seed is drawn: a boundary is one
    network's, and the title says which seed). At most four panels a row; the figure's
    height follows the data's aspect so titles and labels never overlap the panels.
    """
    from matplotlib.lines import Line2D

    results = as_results(result)
    result = results[0]
    if not is_two_d(result):
        raise OptvizError("decision boundaries need 2-D data (moons, circles, spirals, xor, blobs)")
    runs = [r for r in result.runs if r.started]
    cols = min(len(runs), 4)
    rows = -(-len(runs) // cols)
    X = np.concatenate([result.split.X_train, result.split.X_val])
    extent = X.max(axis=0) - X.min(axis=0) + 1.0  # decision_grid pads 0.5 on each side
    panel = 4.4  # inches per panel; of it about 0.75 go to the y label and ticks
    height = (panel - 0.75) * float(extent[1] / extent[0])
    fig = new_figure((panel * cols + 0.3, rows * (height + 1.25) + 0.85), dpi)
    with style():
        axes = np.ravel(fig.subplots(rows, cols, squeeze=False))
        for ax in axes[len(runs):]:
            ax.remove()
        for ax, run in zip(axes, runs, strict=False):
            draw_boundary(ax, result, run, resolution)
        handles = [
            Line2D([], [], marker="o", ls="none", color="0.35", mec="white"),
            Line2D([], [], marker="o", ls="none", mfc="none", mec="0.35", mew=1.4),
        ]
        axes[0].legend(handles, ["training", "validation"], loc="lower left", fontsize=9, frameon=True,
                       framealpha=0.85, handletextpad=0.2, borderpad=0.3)
        seed = f" (seed {result.settings.seed} of {len(results)})" if len(results) > 1 else ""
        heading(fig, f"Decision boundaries after training{seed}", subtitle(result))
    return fig
