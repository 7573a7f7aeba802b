"""The figure of ``optviz train-sweep``: how sensitive each optimizer is to its learning rate.

Two panels share the x axis (the swept setting, the learning rate when it is swept):
the final validation accuracy on top and the final validation loss below, one line per
optimizer (per value of a second swept setting), the median over seeds with the band
from the 10 % to the 90 % quantile. A setting where some seed diverged gets an × (at the
median of the seeds that finished, or at the panel's edge when none did), the best
setting of each optimizer a star. The figure reads plain records
(:class:`optviz.sweepstats.Curve`); nothing here computes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optviz.plot._files import check_format, prepare_dir, save_figure
from optviz.plot._style import GREEK, OPTIMIZER_STYLE, SPARE_COLORS, display_name, fmt_number, slug
from optviz.plot.figure import decade_formatter, log_y, new_figure, style

LINESTYLES = ["-", "--", ":", "-."]
DIVERGED_STYLE = dict(marker="x", markersize=11, markeredgewidth=2.4, linestyle="none", zorder=5)
BEST_STYLE = dict(marker="*", markersize=17, markeredgecolor="black", markeredgewidth=0.8, linestyle="none",
                  zorder=6)


def curve_styles(curves: Sequence[Any]) -> list[tuple[str, str]]:
    """(color, line style) per curve: the optimizer's own color, a new dash per second setting."""
    seen: dict[str, int] = {}
    spare = iter(SPARE_COLORS * 4)
    colors: dict[str, str] = {}
    out = []
    for c in curves:
        if c.optimizer not in colors:
            colors[c.optimizer] = OPTIMIZER_STYLE[c.optimizer][1] if c.optimizer in OPTIMIZER_STYLE else next(spare)
        k = seen.get(c.optimizer, 0)
        seen[c.optimizer] = k + 1
        out.append((colors[c.optimizer], LINESTYLES[k % len(LINESTYLES)]))
    return out


def curve_label(curve: Any) -> str:
    """'Adam — best η=0.01: 97.2 %' or 'Adam, β₁=0.9' (the second setting of the line),
    with the best setting when it is on this line."""
    name = display_name(curve.optimizer)
    rest = curve.label[len(curve.optimizer):]
    for key, greek in GREEK.items():
        rest = rest.replace(f", {key}=", f", {greek}=")
    if curve.best is not None:
        x = GREEK.get(curve.x_name, curve.x_name)
        rest += f" — best {x}={fmt_number(curve.x[curve.best])}: {100 * curve.acc[1, curve.best]:.1f} %"
    return name + rest


def draw_sensitivity(ax_acc: Any, ax_loss: Any, curves: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Every curve on the two panels; returns ``{label: {"acc", "loss", "band_acc",
    "band_loss", "diverged": [markers], "best": [markers]}}`` for tests."""
    artists: dict[str, dict[str, Any]] = {}
    for curve, (color, ls) in zip(curves, curve_styles(curves), strict=True):
        label = curve_label(curve)
        arts: dict[str, Any] = {"diverged": [], "best": []}
        for ax, key, stats in ((ax_acc, "acc", curve.acc), (ax_loss, "loss", curve.loss)):
            lo, mid, hi = stats
            ok = np.isfinite(lo) & np.isfinite(hi)
            arts[f"band_{key}"] = ax.fill_between(curve.x, np.where(ok, lo, 0), np.where(ok, hi, 0), where=ok,
                                                  color=color, alpha=0.18, lw=0, interpolate=False)
            arts[key] = ax.plot(curve.x, mid, ls, color=color, marker="o", ms=5,
                                label=label if key == "acc" else None)[0]
            arts["diverged"] += _diverged_marks(ax, curve, mid, color, top=key == "loss", count=key == "acc")
            if curve.best is not None and np.isfinite(mid[curve.best]):
                arts["best"] += ax.plot([curve.x[curve.best]], [mid[curve.best]], color=color, **BEST_STYLE)
        artists[label] = arts
    return artists


def _diverged_marks(ax: Any, curve: Any, mid: np.ndarray, color: str, top: bool, count: bool) -> list[Any]:
    """An × at each setting where some seed diverged: at the median of the others, or at
    the panel's bottom (accuracy) or top (loss) edge when every seed diverged; with
    ``count``, "k/n" (diverged of all seeds) above it."""
    marks = []
    for i in np.flatnonzero(curve.diverged > 0):
        if np.isfinite(mid[i]):
            where = {}
            y = mid[i]
        else:
            where = {"transform": ax.get_xaxis_transform(), "clip_on": False}
            y = 0.96 if top else 0.04
        marks += ax.plot([curve.x[i]], [y], color=color, **DIVERGED_STYLE, **where)
        if count:
            ax.annotate(f"{curve.diverged[i]}/{curve.seeds[i]}", (curve.x[i], y), textcoords="offset points",
                        xytext=(0, 9), ha="center", fontsize=9, color=color,
                        xycoords=where.get("transform", "data"))
    return marks


def _axis_label(name: str, log: bool) -> str:
    text = {"lr": "learning rate η"}.get(name, GREEK.get(name, name))
    return text + (" (log scale)" if log else "")


def sensitivity_figure(curves: Sequence[Any], title: str = "", seeds: int | None = None) -> Any:
    """Accuracy (top) and loss (bottom) against the swept setting; one column per x setting."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    names = list(dict.fromkeys(c.x_name for c in curves))
    fig = new_figure((7.6 * len(names), 8.2))
    axes = fig.subplots(2, len(names), sharex="col", squeeze=False)
    for j, name in enumerate(names):
        mine = [c for c in curves if c.x_name == name]
        ax_acc, ax_loss = axes[0, j], axes[1, j]
        draw_sensitivity(ax_acc, ax_loss, mine)
        if mine[0].log_x:
            ax_loss.set_xscale("log")
            ax_loss.xaxis.set_major_formatter(decade_formatter())
        finite = np.concatenate([c.loss[np.isfinite(c.loss)] for c in mine])
        if finite.size and finite.min() > 0 and finite.max() > 10 * finite.min():
            log_y(ax_loss)  # a loss over more than a decade
        ax_acc.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 5, 10]))  # whole percents
        ax_acc.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax_acc.set_ylabel("final validation accuracy")
        ax_loss.set_ylabel("final validation loss")
        ax_loss.set_xlabel(_axis_label(name, mine[0].log_x))
        for ax in (ax_acc, ax_loss):
            ax.grid(True, which="major", alpha=0.3)
        handles, labels = ax_acc.get_legend_handles_labels()
        if any(c.best is not None for c in mine):
            handles.append(Line2D([], [], color="#444444", **BEST_STYLE | {"markeredgecolor": "#444444"}))
            labels.append("best setting (every seed finished)")
        if any(c.diverged.any() for c in mine):
            handles.append(Line2D([], [], color="#444444", **DIVERGED_STYLE))
            labels.append("some seeds diverged")
        ax_acc.legend(handles, labels, loc="best", fontsize=10)
    band = f"median over {seeds} seeds, band 10–90 %" if seeds and seeds > 1 else "one seed"
    fig.suptitle(f"{title}\n{band}" if title else band)
    return fig


def save_sensitivity_figure(curves: Sequence[Any], out_dir: Path, *, stem: str, title: str = "",
                            seeds: int | None = None, fmt: str = "png", dpi: int = 150) -> Path:
    """Draw :func:`sensitivity_figure` and write it atomically to ``out_dir/stem.fmt``."""
    fmt = check_format(fmt)
    out = prepare_dir(out_dir)
    with style():
        fig = sensitivity_figure(curves, title, seeds)
        return save_figure(fig, out / f"{slug(stem, 80)}.{fmt}", fmt=fmt, dpi=dpi)


__all__ = ["curve_label", "curve_styles", "draw_sensitivity", "save_sensitivity_figure", "sensitivity_figure"]
