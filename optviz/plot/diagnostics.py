"""Diagnostics of training: per-layer gradient norms and BatchNorm running statistics
per epoch (one row per optimizer)."""

from __future__ import annotations

from typing import Any

import numpy as np

from optviz.errors import OptvizError
from optviz.plot.figure import new_figure, style
from optviz.plot.train_common import (
    as_results,
    epochs_axis,
    heading,
    plain_log_formatter,
    run_title,
    subtitle,
)


def weight_layers(result: Any, run: Any) -> list[str]:
    """Layers with a weight matrix (Linear layers, shortcuts, the head), input to output."""
    weighted = {name.rsplit(".", 1)[0] for name in result.initial_of(run) if name.endswith(".W")}
    return [layer for layer in run.grad_norms if layer in weighted]


def bn_layers(run: Any) -> list[str]:
    return list(dict.fromkeys(k.rsplit(".", 1)[0] for k in run.running_stats))


def draw_grad_norms(ax: Any, result: Any, run: Any, cmap: str = "viridis") -> list[Any]:
    """Mean per-epoch gradient norm of each weight layer (log y), colored input → output;
    an epoch whose norm is exactly 0 (a layer of dead units) leaves a gap."""
    import matplotlib

    layers = weight_layers(result, run)
    colormap = matplotlib.colormaps[cmap]
    lines = []
    for i, layer in enumerate(layers):
        values = np.asarray(run.grad_norms[layer], dtype=float)
        values = np.where(values > 0, values, np.nan)  # log axis: 0 has no place on it
        color = colormap(i / max(len(layers) - 1, 1) * 0.9)
        marker = "o" if len(values) <= 3 else None
        lines.append(
            ax.plot(epochs_axis(values), values, color=color, lw=1.6, marker=marker, label=layer)[0]
        )
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel("‖∂L/∂(W, b)‖ (mean over steps)")
    ax.set_title(f"{run_title(run)}\ngradient norm per layer")
    ax.grid(True, which="major", alpha=0.3)
    return lines


def draw_running_stats(
    ax_mean: Any, ax_var: Any, run: Any, cmap: str = "viridis"
) -> dict[str, list[Any]]:
    """Each BatchNorm layer's running mean and variance, averaged over features, per epoch.

    A band shows the spread over the features (10th to 90th percentile; with more than
    four layers for the first and the last one only). Returns
    ``{"mean": [lines], "var": [lines]}``.
    """
    import matplotlib

    layers = bn_layers(run)
    colormap = matplotlib.colormaps[cmap]
    out: dict[str, list[Any]] = {"mean": [], "var": []}
    for i, layer in enumerate(layers):
        color = colormap(i / max(len(layers) - 1, 1) * 0.9)
        for key, ax in (("mean", ax_mean), ("var", ax_var)):
            stat = np.asarray(run.running_stats[f"{layer}.running_{key}"], dtype=float)
            if stat.size == 0:
                continue
            ep = epochs_axis(stat)
            marker = "o" if len(ep) <= 3 else None
            out[key].append(
                ax.plot(ep, stat.mean(axis=1), color=color, lw=1.6, marker=marker, label=layer)[0]
            )
            # many overlapping bands are only a blur: past 4 layers, the first and last only
            if len(layers) <= 4 or i in (0, len(layers) - 1):
                lo, hi = np.percentile(stat, [10, 90], axis=1)
                ax.fill_between(ep, lo, hi, color=color, alpha=0.12, lw=0)
    ax_mean.set_title("BatchNorm running mean")
    ax_var.set_title("BatchNorm running variance")
    ax_var.set_yscale("log")
    ax_var.yaxis.set_major_formatter(plain_log_formatter())
    ax_var.yaxis.set_minor_formatter(plain_log_formatter())
    for ax in (ax_mean, ax_var):
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(True, alpha=0.3)
    ax_mean.set_ylabel("mean over features (band: 10–90%)")
    ax_var.set_ylabel("mean over features")
    return out


def _layer_colorbar(fig: Any, ax: Any, names: list[str], cmap: str = "viridis") -> None:
    import matplotlib
    from matplotlib.colors import Normalize

    if len(names) < 2:
        return
    sm = matplotlib.cm.ScalarMappable(norm=Normalize(0, (len(names) - 1) / 0.9), cmap=cmap)
    bar = fig.colorbar(sm, ax=ax, pad=0.01, fraction=0.05)
    bar.set_ticks([0, len(names) - 1])
    bar.set_ticklabels([f"{names[0]}\n(input)", f"{names[-1]}\n(output)"])
    bar.ax.tick_params(labelsize=9)


def diagnostics_figure(result: Any, dpi: float = 100) -> Any:
    """Per run a row: gradient norm per layer, and BatchNorm running mean/variance.
    ``result``: one result, or one per seed (the first seed is drawn, and the title says so)."""
    results = as_results(result)
    result = results[0]
    runs = [r for r in result.runs if r.val_acc]
    if not runs:
        raise OptvizError("no optimizer finished an epoch: nothing to diagnose")
    has_bn = any(bn_layers(r) for r in runs)
    cols = 3 if has_bn else 1
    fig = new_figure((5.6 * cols + 1.0, 4.4 * len(runs) + 0.8), dpi)
    with style():
        axes = np.atleast_2d(fig.subplots(len(runs), cols, squeeze=False))
        for row, run in zip(axes, runs, strict=True):
            draw_grad_norms(row[0], result, run)
            _layer_colorbar(fig, row[0], weight_layers(result, run))
            if has_bn and bn_layers(run):
                draw_running_stats(row[1], row[2], run)
                _layer_colorbar(fig, row[2], bn_layers(run))
            elif has_bn:  # this run's network has no BatchNorm
                row[1].axis("off")
                row[2].axis("off")
                row[1].text(0.5, 0.5, "no BatchNorm in this network", transform=row[1].transAxes, ha="center",
                            va="center", color="0.35", fontsize=12)
        seed = f", seed {result.settings.seed} of {len(results)}" if len(results) > 1 else ""
        heading(fig, f"Diagnostics (layers colored from input to output{seed})", subtitle(result))
    return fig


