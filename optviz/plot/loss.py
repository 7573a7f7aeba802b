"""Loss panels per step: f − f* (or f), ‖∇f‖ and η, with the median and 10–90 % band of seed groups."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from optviz.plot import _data, _style
from optviz.plot.figure import decade_formatter, log_y

LOSS_PANELS = ("loss", "grad_norm", "lr")


def draw_loss(axes: Sequence[Any], runs: Sequence[Any], *, styles: Sequence[tuple[str, str]] | None = None,
              panels: Sequence[str] = LOSS_PANELS) -> dict[str, list[Line2D]]:
    """Per-step curves: f − f* on a log axis (f* the listed minimum or the lowest found;
    f when there is none), ‖∇f‖ (log) and the learning rate η_t, one panel each.

    Nothing is hidden: values at or below f* by rounding are drawn on the log axis's
    floor and the panel says so; when a run goes below f* by more, the panel shows f
    itself with f* as a dashed line. Returns the lines of each panel.
    """
    styles = list(styles or _style.run_styles(runs))
    objective = runs[0].objective if runs else None
    f_star = objective.reference_value if objective is not None else None
    below = _data.below_reference(runs, f_star)
    shift = None if below else f_star  # what the loss panel subtracts
    out: dict[str, list[Line2D]] = {}
    for ax, panel in zip(axes, panels):
        lines, collected, floored = [], [], 0
        for traj, (color, _) in zip(runs, styles):
            if traj.seeds and len(traj.seeds) > 1:
                for members in traj.seed_groups():
                    line, values, raised = _draw_seed_band(ax, traj, members, panel, shift, color)
                    lines.append(line)
                    collected.append(values)
                    floored += raised
                continue
            for k in range(traj.K):
                steps, values, raised = _panel_series(traj, k, panel, shift)
                floored += raised
                alpha = 1.0 if k == 0 else 0.55
                line = ax.plot(steps, values, color=color, linewidth=2.0 if k == 0 else 1.4, alpha=alpha)[0]
                lines.append(line)
                collected.append(values)
                if traj.status[k] == "diverged" and len(steps):
                    ax.plot(steps[-1:], values[-1:], color=color, marker="X", markersize=10,
                            markeredgecolor="black", linestyle="none")
        allv = np.concatenate(collected) if collected else np.zeros(0)
        _panel_axes(ax, panel, objective, shift, allv)
        if panel == "loss":
            _loss_notes(ax, objective, f_star, below, floored)
        out[panel] = lines
    return out


def _loss_notes(ax: Any, objective: Any, f_star: float | None, below: bool, floored: int) -> None:
    """Say what the loss panel does to the values: f* drawn as a line when a run went
    below it; values at f* by rounding drawn on the floor."""
    if objective is None or f_star is None:
        return
    if below:
        ax.axhline(f_star, color="black", linestyle="--", linewidth=1.2, alpha=0.7)
        ax.annotate(_style.reference_text(objective), (1.0, f_star), xycoords=("axes fraction", "data"),
                    xytext=(-4, 4), textcoords="offset points", ha="right", va="bottom", fontsize=9)
    elif floored:
        floor = _style.fmt_number(_data.loss_floor(f_star))
        ax.text(0.98, 0.98, f"f − f* ≤ {floor} (f* reached to rounding)\nis drawn at {floor}",
                transform=ax.transAxes, ha="right", va="top", fontsize=8.5, color="#333333",
                bbox=dict(facecolor="white", edgecolor="none", alpha=0.85, pad=1.5))


def _draw_seed_band(ax: Any, traj: Any, members: list[int], panel: str, shift: float | None,
                    color: str) -> tuple[Line2D, np.ndarray, int]:
    """The median over a start's seed rows with a shaded 10-90% band (``--seeds N``)."""
    series = [_panel_series(traj, k, panel, shift) for k in members]
    n = max(len(s) for s, _, _ in series)
    table = np.full((len(series), n), np.nan)
    for i, (_, values, _) in enumerate(series):
        table[i, : len(values)] = values
    steps = traj.steps_of_rows(n + (1 if panel == "lr" else 0))[(1 if panel == "lr" else 0):]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(table, axis=0)
        lo, hi = np.nanpercentile(table, [10, 90], axis=0)
    ax.fill_between(steps, lo, hi, color=color, alpha=0.22, linewidth=0)
    line = ax.plot(steps, median, color=color, linewidth=2.0)[0]
    line.set_gid(f"median of {len(members)} seeds")
    return line, np.concatenate([lo[np.isfinite(lo)], hi[np.isfinite(hi)]]), sum(r for _, _, r in series)


def _panel_series(traj: Any, k: int, panel: str, shift: float | None) -> tuple[np.ndarray, np.ndarray, int]:
    """(steps, values, how many values were raised to the log floor)."""
    n = _data.finite_count(traj, k)
    if panel == "loss":
        steps, values = _data.loss_series(traj, k, shift)
        if shift is None:
            return steps, values, 0
        shown, raised = _data.log_gaps(values, shift)
        return steps, shown, raised
    if panel == "grad_norm":
        return traj.steps_of_rows(n), _data.positive_series(np.asarray(traj.grad_norm[:n, k], dtype=float)), 0
    steps = traj.steps_of_rows(n)[1:]
    return steps, np.asarray(traj.lr[1:n, k], dtype=float), 0


def _panel_axes(ax: Any, panel: str, objective: Any, shift: float | None, values: np.ndarray) -> None:
    finite = values[np.isfinite(values)]
    if panel == "loss":
        if shift is not None:
            log_y(ax)
            ax.set_ylabel("f(θₜ) − f*")
            if objective.reference_is_listed:
                ax.set_title("distance to the minimum value f*")
            else:
                ax.set_title("distance to f*, the lowest minimum found", fontsize=12)
        else:
            if finite.size and finite.min() > 0 and _data.spans_decades(finite):
                log_y(ax)
            ax.set_ylabel("f(θₜ)")
            ax.set_title("loss (f* unknown)" if objective is None or objective.reference_value is None
                         else "loss: a run went below f*")
    elif panel == "grad_norm":
        log_y(ax)
        ax.set_ylabel("‖∇f(θₜ)‖")
        ax.set_title("gradient norm")
    else:
        if finite.size and finite.min() > 0 and _data.spans_decades(finite, 1.0):
            log_y(ax)
        ax.set_ylabel("ηₜ")
        ax.set_title("learning rate")
    ax.set_xlabel("step t")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.grid(True, which="major", alpha=0.3)
    if finite.size == 0:
        return
    if ax.get_yscale() == "log":
        from matplotlib.ticker import NullLocator

        pos = finite[finite > 0]
        if pos.size and np.log10(pos.max() / pos.min()) > 4:
            ax.yaxis.set_minor_locator(NullLocator())  # dozens of unreadable ticks, slow to lay out
        if pos.size:
            lo, hi = float(pos.min()), float(pos.max())
            if hi / lo < 10:  # a flat curve: a decade around it, not ticks at 0.0999 and 0.1001
                mid = 10 ** ((np.log10(lo) + np.log10(hi)) / 2)
                lo, hi = mid / 4, mid * 4
                ax.set_ylim(lo, hi)
            if hi / lo < 30:  # about one decade: label 2× and 5× too, or one label is all there is
                from matplotlib.ticker import LogLocator

                ax.yaxis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0)))
                ax.yaxis.set_minor_formatter(decade_formatter())
    else:
        lo, hi = float(finite.min()), float(finite.max())
        if hi - lo <= 1e-12 * max(1.0, abs(hi)):
            ax.set_ylim(lo - 0.5 * abs(lo or 1), hi + 0.5 * abs(hi or 1))
    ax.set_xlim(left=0)
