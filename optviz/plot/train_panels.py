"""Panels the training figure adds when the command asks for them: the validation
accuracy under other BatchNorm statistics (``eval_bn``), the symmetry between units
(``init=zeros``) and the gradient norm of each layer (diagnostics). Each ``draw_*``
takes axes and the results (one per seed) and returns the artists it made."""

from __future__ import annotations

from typing import Any

import numpy as np

from optviz.plot.train_common import colored_groups, plain_log_formatter, run_title, seed_band

EVAL_STYLES = {"running": "-", "batch": "-.", "sorted": ":"}
EVAL_WORDS = {"running": "running statistics", "batch": "batch statistics", "sorted": "class-sorted batches"}


def eval_modes(results: list[Any]) -> list[str]:
    """The evaluations besides the running statistics ("batch:8", "sorted:8")."""
    return [name for name in results[0].settings.eval_bn if name != "running"]


def eval_label(name: str) -> str:
    """'batch statistics, batches of 8' for "batch:8"."""
    kind, _, size = name.partition(":")
    return EVAL_WORDS.get(kind, kind) + (f", batches of {size}" if size else "")


def draw_eval_modes(ax: Any, results: list[Any]) -> dict[str, dict[str, Any]]:
    """Validation accuracy per epoch of each run under each evaluation: running statistics
    (solid), batch statistics (dash-dot), class-sorted batches (dotted); medians over seeds.
    Runs without BatchNorm are left out (every evaluation of theirs is the same).
    Returns ``{label: {mode: Line2D}}``."""
    modes = ["running", *eval_modes(results)]
    out: dict[str, dict[str, Any]] = {}
    for runs, color in colored_groups(results):
        if not any(r.running_stats for r in runs):
            continue  # without BatchNorm every evaluation is the same
        lines = {}
        for mode in modes:
            series = [r.val_acc if mode == "running" else r.evals.get(mode, {}).get("val_acc", []) for r in runs]
            x, mid, _, _ = seed_band(series)
            if len(x):
                style = EVAL_STYLES.get(mode.partition(":")[0], "--")
                lines[mode] = ax.plot(x, mid, style, color=color, lw=2.0, marker="o" if len(x) == 1 else None)[0]
        out[runs[0].label] = lines
    ax.set_title("Validation accuracy: which BatchNorm statistics")
    ax.set_ylabel("validation accuracy")
    return out


def eval_key(results: list[Any]) -> tuple[list[Any], list[str]]:
    """Legend handles and texts for the line styles of :func:`draw_eval_modes`."""
    from matplotlib.lines import Line2D

    modes = ["running", *eval_modes(results)]
    handles = [Line2D([], [], color="0.3", ls=EVAL_STYLES.get(m.partition(":")[0], "--")) for m in modes]
    return handles, [eval_label(m) for m in modes]


def has_unit_spread(results: list[Any]) -> bool:
    """Whether a zero-initialized plain MLP is among the runs (the symmetry panel is drawn)."""
    return any(r.unit_spread and r.settings.get("init") == "zeros" for r in results[0].runs)


def draw_unit_spread(ax: Any, results: list[Any]) -> dict[str, Any]:
    """The largest difference between two units of any hidden layer, per epoch, one line
    per run (median over seeds); exactly 0 means every layer's units are identical
    copies. A symmetric-log axis draws 0 as 0. Returns ``{label: Line2D}``."""
    from optviz.plot.figure import signed_decade_formatter

    out = {}
    positive: list[float] = []
    zero = 0
    for runs, color in colored_groups(results):
        if not runs[0].unit_spread:
            continue
        series = [np.max(np.stack(list(r.unit_spread.values())), axis=0) for r in runs if r.unit_spread]
        x, mid, _, _ = seed_band(series)
        positive += [v for v in mid if v > 0]
        flat = bool(len(mid)) and not np.any(mid)
        # runs at exactly 0 lie on top of each other: each one thinner than the one below
        width = max(1.5, 5.0 - 1.5 * zero) if flat else 2.0
        zero += flat
        out[runs[0].label] = ax.plot(x, mid, "-", color=color, lw=width, marker="o" if len(x) <= 3 else None,
                                     solid_capstyle="butt")[0]
    small = 10 ** np.floor(np.log10(min(positive))) if positive else 1e-3
    ax.set_yscale("symlog", linthresh=small)
    ax.yaxis.set_major_formatter(signed_decade_formatter())
    ax.set_ylim(bottom=-0.3 * small, top=max(positive) * 3 if positive else 1.0)
    if zero:
        ax.annotate("exactly 0 in every epoch:\nthe units stay identical copies", (0.5, 0), xytext=(0, 8),
                    xycoords=("axes fraction", "data"), textcoords="offset points", ha="center", va="bottom",
                    fontsize=10, color="0.25")
    ax.set_title("Symmetry between units (0: identical units)")
    ax.set_ylabel("largest difference between two units")
    return out


def weight_layer_names(result: Any, run: Any) -> list[str]:
    """The run's Linear layers from input to head (projection shortcuts left out)."""
    weighted = {name.rsplit(".", 1)[0] for name in result.initial_of(run) if name.endswith(".W")}
    return [layer for layer in run.grad_norms if layer in weighted and not layer.endswith("shortcut")]


def draw_layer_gradients(ax: Any, results: list[Any]) -> dict[str, Any]:
    """The first epoch's mean gradient norm of each Linear layer, against its place from the
    input (1) to the head, one line per run (median over seeds, band 10–90 %); log y.
    Returns ``{label: Line2D}``."""
    out = {}
    for runs, color in colored_groups(results):
        layers = weight_layer_names(results[0], runs[0])
        per_seed = [[float(r.grad_norms[layer][0]) for layer in layers] for r in runs if r.val_acc]
        if not per_seed:
            continue
        x, mid, lo, hi = seed_band(per_seed)
        out[runs[0].label] = ax.plot(x, mid, "-", color=color, lw=2.0, marker="o", ms=4,
                                     label=run_title(runs[0]))[0]
        if len(per_seed) > 1:
            ax.fill_between(x, lo, hi, color=color, alpha=0.15, lw=0)
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(plain_log_formatter())
    ax.yaxis.set_minor_formatter(plain_log_formatter())
    ax.set_title("Gradient norm per layer, first epoch")
    ax.set_xlabel("Linear layer (1: next to the input; last: the head)")
    ax.set_ylabel("‖∂L/∂(W, b)‖, mean over the epoch's steps")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(True, which="major", alpha=0.3)
    return out
