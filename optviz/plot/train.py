"""Figures of a network's training (``optviz train``): curves, decision boundaries, diagnostics.

Every figure only reads a :class:`optviz.nn.train.TrainResult` (compute, then draw).
The ``draw_*`` helpers take axes and return the artists they made, so tests check
what was drawn; the ``*_figure`` builders return a :class:`matplotlib.figure.Figure`
on its own Agg canvas (pyplot is never imported); :func:`save_train_figures` writes
the files atomically. matplotlib is imported inside the functions only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optviz.nn.evaluation import decision_grid
from optviz.plot._files import check_format, prepare_dir, save_figure
from optviz.plot._style import slug
from optviz.plot.boundary import boundary_figure, draw_boundary, is_two_d
from optviz.plot.diagnostics import (
    diagnostics_figure,
    draw_grad_norms,
    draw_running_stats,
    weight_layers,
)
from optviz.plot.figure import new_figure, style
from optviz.plot.train_common import default_stem, epochs_axis, run_colors, run_title, subtitle

__all__ = ["boundary_figure", "check_format", "curves_figure", "decision_grid", "default_stem",
           "diagnostics_figure", "draw_boundary", "draw_curves", "draw_grad_norms", "draw_running_stats", "is_two_d",
           "new_figure", "prepare_dir", "run_colors", "run_title", "save_figure", "save_train_figures", "slug",
           "style", "weight_layers"]

TWO_D = ("moons", "circles", "spirals", "xor", "blobs")


# ----------------------------------------------------------------------------- shared helpers


# ----------------------------------------------------------------------------- curves
def draw_curves(
    ax_loss: Any, ax_acc: Any, result: Any, colors: Sequence[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Training (dashed) and validation (solid) loss and accuracy per epoch, one color per run.

    A diverged run gets an × at its last finished epoch (at the left edge when it diverged
    in epoch 1) and "diverged at epoch k" in its legend label. Returns
    ``{label: {"train_loss": Line2D, "val_loss": …, "train_acc": …, "val_acc": …,
    "diverged": [markers]}}``. The loss axis is logarithmic.
    """
    colors = list(colors or run_colors(result.runs))
    artists: dict[str, dict[str, Any]] = {}
    for run, color in zip(result.runs, colors, strict=True):
        label = run_title(run)
        if run.diverged:
            label += f" — {run.status}"
        else:
            label += f" — val. acc. {100 * run.val_acc[-1]:.1f}%"
        ep = epochs_axis(run.val_loss)
        arts: dict[str, Any] = {
            "train_loss": ax_loss.plot(ep, run.train_loss, "--", color=color, lw=1.6, alpha=0.9)[0],
            "val_loss": ax_loss.plot(ep, run.val_loss, "-", color=color, label=label)[0],
            "train_acc": ax_acc.plot(ep, run.train_acc, "--", color=color, lw=1.6, alpha=0.9)[0],
            "val_acc": ax_acc.plot(ep, run.val_acc, "-", color=color, label=label)[0],
            "diverged": [],
        }
        if run.diverged:
            k = run.outcome.epoch
            for ax, series in ((ax_loss, run.val_loss), (ax_acc, run.val_acc)):
                # at the last finished epoch; at epoch 1, bottom of the axis, when none finished
                x, y = (k - 1, series[-1]) if series else (1, None)
                if y is None:
                    mark = ax.plot(
                        [x],
                        [0],
                        "x",
                        color=color,
                        ms=13,
                        mew=3,
                        clip_on=False,
                        transform=ax.get_xaxis_transform(),
                    )[0]
                else:
                    mark = ax.plot([x], [y], "x", color=color, ms=13, mew=3)[0]
                arts["diverged"].append(mark)
        artists[run.label] = arts
    _limit_loss_axis(ax_loss, result)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel(f"loss ({_loss_name(result)})")
    ax_loss.set_title("Loss")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_title("Accuracy")
    ax_acc.yaxis.set_major_formatter(_percent())
    for ax in (ax_loss, ax_acc):
        ax.grid(True, alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    return artists


def _limit_loss_axis(ax: Any, result: Any) -> None:
    """Keep the loss axis on the runs that trained: a diverging run's 10³⁰ would flatten the rest.

    Values above the top are drawn as a triangle at the top edge with the value written.
    """
    finite = [
        np.asarray(r.train_loss + r.val_loss, dtype=float) for r in result.runs if not r.diverged
    ]
    finite = [v[np.isfinite(v)] for v in finite if v.size]
    first = [v for r in result.runs for v in r.val_loss[:1] + r.train_loss[:1] if np.isfinite(v)]
    if not finite or not first:
        return
    top = max(max(v.max() for v in finite), float(np.median(first))) * 2.0
    bottom = min(v[v > 0].min() for v in finite if (v > 0).any()) / 2.0 if finite else None
    from optviz.plot import _style

    for line in list(ax.get_lines()):
        y = np.asarray(line.get_ydata(), dtype=float)
        x = np.asarray(line.get_xdata(), dtype=float)
        over = np.isfinite(y) & (y > top)
        labelled = not str(line.get_label()).startswith("_")  # validation lines: one note per run
        if over.any() and labelled and line.get_transform() == ax.transData:
            i = int(np.argmax(over))
            ax.plot([x[i]], [top], "^", color=line.get_color(), ms=10, clip_on=False)
            ax.annotate(
                f"{_style.fmt_number(y[i], 2)}",
                (x[i], top),
                xytext=(6, -12),
                textcoords="offset points",
                color=line.get_color(),
                fontsize=10,
            )
    ax.set_ylim(bottom, top)


def _percent() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: f"{100 * v:.0f}%")


def _loss_name(result: Any) -> str:
    return {"cross_entropy": "cross-entropy", "focal": "focal"}.get(
        result.settings.loss, str(result.settings.loss)
    )


def curves_figure(result: Any, dpi: float = 100) -> Any:
    """Loss (log) and accuracy per epoch, overlaid per optimizer; solid validation, dashed training."""
    from matplotlib.lines import Line2D

    fig = new_figure((13, 5.6), dpi)
    with style():
        ax_loss, ax_acc = fig.subplots(1, 2)
        draw_curves(ax_loss, ax_acc, result)
        handles, labels = ax_loss.get_legend_handles_labels()
        key = [Line2D([], [], color="0.3", ls="-"), Line2D([], [], color="0.3", ls="--")]
        fig.legend(
            key + handles,
            ["validation (solid)", "training (dashed)"] + labels,
            loc="outside lower center",
            ncol=2 if len(labels) < 4 else 3,
        )
        fig.suptitle(f"Training\n{subtitle(result)}", fontsize=13)
    return fig


# ----------------------------------------------------------------------------- files
def save_train_figures(
    result: Any,
    out_dir: str | Path,
    fmt: str = "png",
    dpi: float = 150,
    diagnostics: bool = False,
    stem: str | None = None,
) -> list[Path]:
    """Write the training figures of ``result`` to ``out_dir``; return the paths written.

    ``{stem}_curves.{fmt}`` always; ``{stem}_boundary.{fmt}`` for 2-D data;
    ``{stem}_diagnostics.{fmt}`` with ``diagnostics``. Each file is written atomically.
    """
    fmt = check_format(fmt)
    out = prepare_dir(out_dir)
    stem = stem or default_stem(result)
    figures = [("curves", curves_figure)]
    if is_two_d(result):
        figures.append(("boundary", boundary_figure))
    if diagnostics:
        figures.append(("diagnostics", diagnostics_figure))
    paths = []
    for name, build in figures:
        fig = build(result, dpi=dpi)
        paths.append(save_figure(fig, out / f"{stem}_{name}.{fmt}", fmt, dpi))
    return paths
