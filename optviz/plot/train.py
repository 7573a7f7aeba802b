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
from optviz.plot.train_common import (
    across_seeds,
    as_results,
    colored_groups,
    default_stem,
    heading,
    run_colors,
    run_title,
    seed_band,
    subtitle,
)
from optviz.plot.train_panels import (
    draw_eval_modes,
    draw_layer_gradients,
    draw_unit_spread,
    eval_key,
    eval_modes,
    has_unit_spread,
)

__all__ = ["boundary_figure", "check_format", "curves_figure", "decision_grid", "default_stem",
           "diagnostics_figure", "draw_boundary", "draw_curves", "draw_grad_norms", "draw_running_stats", "is_two_d",
           "new_figure", "prepare_dir", "run_colors", "run_title", "save_figure", "save_train_figures", "slug",
           "style", "weight_layers"]

TWO_D = ("moons", "circles", "spirals", "xor", "blobs")


# ----------------------------------------------------------------------------- curves
def _legend_label(runs: list[Any]) -> str:
    """'Adam (η=0.001) — val. acc. 97.8%', '… — diverged at epoch 3', '… — diverged in 1 of 3 seeds'."""
    label = run_title(runs[0])
    bad = [r for r in runs if r.diverged]
    if len(runs) == 1 and bad:
        return f"{label} — {bad[0].status}"
    if bad:
        epochs = ", ".join(str(e) for e in sorted({r.outcome.epoch for r in bad}))
        return f"{label} — diverged in {len(bad)} of {len(runs)} seeds (epoch {epochs})"
    finals = [r.val_acc[-1] for r in runs if r.val_acc]
    if not finals:
        return f"{label} — {runs[0].status}"
    return f"{label} — val. acc. {100 * float(np.median(finals)):.1f}%"


def draw_curves(ax_loss: Any, ax_acc: Any, result: Any, colors: Sequence[str] | None = None
                ) -> dict[str, dict[str, Any]]:
    """Training (dashed) and validation (solid) loss and accuracy per epoch, one color per run.

    ``result``: one result, or one per seed: then each line is the median over the seeds
    that reached the epoch, with a band from the 10th to the 90th percentile of the
    validation values; past the epoch where a seed diverged the line is faded (the
    median of the seeds left, key ``"val_loss_rest"`` …). A diverged run gets a dotted line to an × at the top of the loss
    axis at the epoch where its loss stopped being finite, and a dotted vertical line
    there on both axes; its legend label says so. The x axis spans the whole epoch budget.
    Returns ``{label: {"train_loss": Line2D, "val_loss": …, "train_acc": …, "val_acc": …,
    "diverged": [markers], "bands": [collections]}}``. The loss axis is logarithmic.
    """
    results = as_results(result)
    groups = across_seeds(results)
    colors = list(colors or [c for _, c in colored_groups(results)])
    artists: dict[str, dict[str, Any]] = {}
    for runs, color in zip(groups, colors, strict=True):
        label = _legend_label(runs)
        arts: dict[str, Any] = {"diverged": [], "bands": []}
        for key, ax, ls in (("train_loss", ax_loss, "--"), ("val_loss", ax_loss, "-"),
                            ("train_acc", ax_acc, "--"), ("val_acc", ax_acc, "-")):
            x, mid, lo, hi = seed_band([getattr(r, key) for r in runs])
            every = min(len(getattr(r, key)) for r in runs)  # epochs every seed finished
            marker = "o" if len(x) == 1 else None
            arts[key] = ax.plot(x[:every], mid[:every], ls, color=color, marker=marker, label=label if ls == "-" else "_",
                                lw=2.0 if ls == "-" else 1.6, alpha=1.0 if ls == "-" else 0.9)[0]
            if every < len(x):  # after a seed diverged: the median of the others, faded
                start = max(every - 1, 0)
                arts[key + "_rest"] = ax.plot(x[start:], mid[start:], ls, color=color, lw=1.4, alpha=0.4,
                                              marker="o" if len(x) - start == 1 else None, label="_")[0]
            if len(runs) > 1 and ls == "-" and len(x):
                arts["bands"].append(ax.fill_between(x, lo, hi, color=color, alpha=0.15, lw=0))
        artists[runs[0].label] = arts
    _limit_loss_axis(ax_loss, results)
    ax_loss.set_yscale("log")
    for runs, color in zip(groups, colors, strict=True):
        artists[runs[0].label]["diverged"] = _mark_divergence(ax_loss, ax_acc, runs, color)
    _finish_axes(ax_loss, ax_acc, results)
    return artists


def _mark_divergence(ax_loss: Any, ax_acc: Any, runs: list[Any], color: str) -> list[Any]:
    """For each diverged run: a dotted line from its last finite loss to an × at the top of
    the loss axis at epoch k, and a dotted vertical line at k on both axes."""
    marks = []
    written = set()
    for run in (r for r in runs if r.diverged):
        k = run.outcome.epoch
        top = ax_loss.get_ylim()[1]
        if run.val_loss:
            ax_loss.plot([k - 1, k], [run.val_loss[-1], top], ":", color=color, lw=1.6, clip_on=False)
        marks.append(ax_loss.plot([k], [1.0], "x", color=color, ms=13, mew=3, clip_on=False,
                                  transform=ax_loss.get_xaxis_transform())[0])
        if k not in written:
            written.add(k)
            ax_loss.annotate(f"loss not finite in epoch {k}", (k, 1.0), xycoords=("data", "axes fraction"),
                             xytext=(10, -4), textcoords="offset points", ha="left", va="top", color=color,
                             fontsize=10)
        for ax in (ax_loss, ax_acc):
            ax.axvline(k, color=color, ls=":", lw=1.4, alpha=0.8)
        marks.append(ax_acc.plot([k], [0.0], "x", color=color, ms=13, mew=3, clip_on=False,
                                 transform=ax_acc.get_xaxis_transform())[0])
    return marks


def _finish_axes(ax_loss: Any, ax_acc: Any, results: list[Any]) -> None:
    """Labels, the epoch budget on x, accuracy within 0–100 %, chance level, and a word
    when no epoch finished at all."""
    first = results[0]
    epochs = int(first.settings.epochs)
    pad = max(0.25, 0.02 * epochs)
    n_classes = int(first.data_info.get("n_classes") or 0)
    finished = any(r.val_acc for res in results for r in res.runs)
    ax_loss.set_ylabel(f"loss ({_loss_name(first)})")
    ax_loss.set_title("Loss")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_title("Accuracy")
    ax_acc.yaxis.set_major_formatter(_percent())
    lo, hi = ax_acc.get_ylim() if finished else (0.0, 1.0)
    ax_acc.set_ylim(max(0.0, lo), min(1.02, max(hi, max(0.0, lo) + 0.02)))
    _chance(ax_acc, n_classes)
    if not finished:
        if first.settings.loss == "cross_entropy" and n_classes:
            ax_loss.set_ylim(np.log(n_classes) / 10, np.log(n_classes) * 10)
        for ax in (ax_loss, ax_acc):
            ax.text(0.5, 0.72, "no epoch finished:\nthe loss was not finite", transform=ax.transAxes,
                    ha="center", va="center", color="#b00", fontsize=12)
    for ax in (ax_loss, ax_acc):
        ax.set_xlim(1 - pad, epochs + pad)
        ax.set_xlabel(f"epoch (of {epochs})")
        ax.grid(True, alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)


def _limit_loss_axis(ax: Any, results: list[Any]) -> None:
    """Keep the loss axis on the runs that trained: a diverging run's 10³⁰ would flatten the rest.

    Values above the top are drawn as a triangle at the top edge with the value written.
    """
    runs = [r for res in results for r in res.runs]
    finite = [np.asarray(r.train_loss + r.val_loss, dtype=float) for r in runs if not r.diverged]
    finite = [v[np.isfinite(v)] for v in finite if v.size]
    first = [v for r in runs for v in r.val_loss[:1] + r.train_loss[:1] if np.isfinite(v)]
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


def extra_panels(results: list[Any], diagnostics: bool = False) -> list[str]:
    """The panels the training figure adds to loss and accuracy: "eval" (other BatchNorm
    statistics asked for), "symmetry" (a zero-initialized plain MLP), "layers" (with
    ``diagnostics``: the gradient norm of each layer)."""
    extras = []
    if eval_modes(results):
        extras.append("eval")
    if has_unit_spread(results):
        extras.append("symmetry")
    if diagnostics and any(r.grad_norms and r.val_acc for r in results[0].runs):
        extras.append("layers")
    return extras


def curves_figure(result: Any, dpi: float = 100, diagnostics: bool = False) -> Any:
    """Loss (log) and accuracy per epoch, overlaid per run; solid validation, dashed
    training; with several seeds the median and a 10–90 % band. Panels of
    :func:`extra_panels` follow (two rows when there are more than two panels; a free
    cell holds the legend)."""
    from matplotlib.lines import Line2D

    results = as_results(result)
    extras = extra_panels(results, diagnostics)
    n = 2 + len(extras)
    rows, cols = (1, 2) if n == 2 else (2, 2) if n <= 4 else (2, 3)
    fig = new_figure((6.4 * cols + 0.2, 4.9 * rows + 1.2 + (0.3 * len(results[0].runs) if n in (2, 4, 6) else 0)),
                     dpi)
    with style():
        axes = list(np.ravel(fig.subplots(rows, cols, squeeze=False)))
        draw_curves(axes[0], axes[1], results)
        for ax, panel in zip(axes[2:n], extras, strict=True):
            _draw_extra(ax, panel, results)
        handles, labels = axes[0].get_legend_handles_labels()
        key = [Line2D([], [], color="0.3", ls="-"), Line2D([], [], color="0.3", ls="--")]
        texts = ["validation (solid)", "training (dashed)"]
        if "eval" in extras:
            more, words = eval_key(results)
            key, texts = key + more[1:], texts + [f"validation, {w}" for w in words[1:]]
        if n < len(axes):  # a free cell holds the legend
            for ax in axes[n + 1:]:
                ax.remove()
            axes[n].axis("off")
            axes[n].legend(key + handles, texts + labels, loc="center", fontsize=11)
        else:
            fig.legend(key + handles, texts + labels, loc="outside lower center",
                       ncol=min(3, max(2, len(labels) // 3 + 1)) if len(labels) > 2 else 2)
        heading(fig, "Training", subtitle(results[0], len(results)))
    return fig


def _chance(ax: Any, n_classes: int) -> None:
    """A dotted line at the accuracy of guessing, 1/C, when the axis reaches down to it."""
    if n_classes and ax.get_ylim()[0] <= 1 / n_classes:
        ax.axhline(1 / n_classes, color="0.45", ls=(0, (1, 3)), lw=1.2, zorder=0)
        ax.annotate(f"chance ({100 / n_classes:.0f}%)", (1, 1 / n_classes), xycoords=("axes fraction", "data"),
                    xytext=(-4, 3), textcoords="offset points", ha="right", va="bottom", color="0.35", fontsize=10)


def _draw_extra(ax: Any, panel: str, results: list[Any]) -> None:
    if panel == "layers":
        draw_layer_gradients(ax, results)
        return
    if panel == "eval":
        draw_eval_modes(ax, results)
        ax.yaxis.set_major_formatter(_percent())
        _chance(ax, int(results[0].data_info.get("n_classes") or 0))
    else:
        draw_unit_spread(ax, results)
    epochs = int(results[0].settings.epochs)
    pad = max(0.25, 0.02 * epochs)
    ax.set_xlim(1 - pad, epochs + pad)
    ax.set_xlabel(f"epoch (of {epochs})")
    ax.grid(True, alpha=0.3)
    ax.xaxis.get_major_locator().set_params(integer=True)


# ----------------------------------------------------------------------------- files
def save_train_figures(
    result: Any,
    out_dir: str | Path,
    fmt: str = "png",
    dpi: float = 150,
    diagnostics: bool = False,
    stem: str | None = None,
) -> list[Path]:
    """Write the training figures of ``result`` (one result, or one per seed) to
    ``out_dir``; return the paths written.

    ``{stem}_curves.{fmt}`` always (with the gradient norm per layer when
    ``diagnostics``); ``{stem}_boundary.{fmt}`` for 2-D data (the first seed);
    ``{stem}_diagnostics.{fmt}`` with ``diagnostics``. Each file is written atomically.
    """
    fmt = check_format(fmt)
    results = as_results(result)
    out = prepare_dir(out_dir)
    stem = stem or default_stem(results[0])
    figures = [("curves", lambda: curves_figure(results, dpi=dpi, diagnostics=diagnostics))]
    if is_two_d(results[0]):
        figures.append(("boundary", lambda: boundary_figure(results, dpi=dpi)))
    if diagnostics:
        figures.append(("diagnostics", lambda: diagnostics_figure(results, dpi=dpi)))
    paths = []
    for name, build in figures:
        paths.append(save_figure(build(), out / f"{stem}_{name}.{fmt}", fmt, dpi))
    return paths
