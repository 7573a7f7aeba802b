"""The optimizer state per step: v, s, m̂, v̂ and the effective step size of each coordinate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from optviz.plot import _data, _style
from optviz.plot.figure import log_y, signed_decade_formatter

STATE_COLUMNS = (
    # column title, {state name: panel title}
    ("first moment (velocity)", {"v": "v  (velocity)", "m_hat": "m̂  (bias-corrected mean of g)"}),
    ("second moment", {"s": None, "v_hat": "v̂  (bias-corrected mean of g²)"}),
    ("effective step size per coordinate", {"effective_lr": None}),
)
STATEFUL = ("v", "m_hat", "s", "v_hat", "effective_lr")


def runs_with_state(runs: Sequence[Any]) -> list[Any]:
    return [t for t in runs if any(name in t.state for name in STATEFUL)]


def _effective_title(traj: Any) -> str:
    if "v_hat" in traj.state:
        return "η / (√v̂ + ε)  (effective step size)"
    return "η / √(s + ε)  (effective step size)"


def _s_title(traj: Any) -> str:
    if traj.optimizer == "adagrad":
        return "s  (sum of g² so far)"
    return "s  (moving average of g²)"


def draw_state(fig: Figure, runs: Sequence[Any], *, start: int = 0) -> dict[tuple[str, str], Any]:
    """What each optimizer carries, per step: one row per optimizer with state,
    one column per kind (velocity or m̂ | s or v̂ | effective step size), one
    line per coordinate. Log y where the values span decades. Returns the axes
    by (run label, state name)."""
    stateful = runs_with_state(runs)
    styles = dict(zip([id(t) for t in runs], _style.run_styles(runs)))
    out: dict[tuple[str, str], Any] = {}
    if not stateful:
        return out
    ncols = len(STATE_COLUMNS)
    axes = fig.subplots(len(stateful), ncols, squeeze=False)
    # Coordinates in black and grays with line styles: the optimizer colors mean optimizers.
    coord_styles = [("#111111", "-"), ("#666666", "--"), ("#111111", ":"), ("#666666", "-."),
                    ("#999999", "-")]
    for row, traj in enumerate(stateful):
        color = styles[id(traj)][0]
        name = _style.run_name(traj)
        k = min(start, traj.K - 1)
        n = _data.finite_count(traj, k)
        for col, (_, names) in enumerate(STATE_COLUMNS):
            ax = axes[row, col]
            present = [s for s in names if s in traj.state]
            if not present:
                ax.set_axis_off()
                continue
            key = present[0]
            title = names[key] or (_effective_title(traj) if key == "effective_lr" else _s_title(traj))
            values = np.asarray(traj.state[key][1:n, k], dtype=float)  # state after step t = 1..n−1
            values = values.reshape(len(values), -1) if len(values) else np.zeros((0, traj.objective.dim))
            steps = traj.steps_of_rows(n)[1:]
            if not len(values):  # it stopped before its first step: no state to show
                ax.text(0.5, 0.5, f"{traj.status_text(k)}:\nno state to show", ha="center", va="center",
                        transform=ax.transAxes, fontsize=11)
            for j in range(values.shape[1]):
                var = traj.objective.variables[j] if j < traj.objective.dim else f"θ{j}"
                c, ls = coord_styles[j % len(coord_styles)]
                ax.plot(steps, values[:, j], color=c, linestyle=ls, linewidth=1.8, label=_style.math_or_plain(var))
            _state_scale(ax, values)
            ax.set_title(f"{name}: {title}", color=color, fontsize=12, loc="left")
            ax.set_xlabel("step t")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
            ax.grid(True, alpha=0.3)
            out[(traj.label or traj.optimizer, key)] = ax
    first = next(iter(out.values()), None)
    if first is not None and len(first.get_lines()) <= 6:
        handles = [ln for ln in first.get_lines() if not ln.get_label().startswith("_")]
        fig.legend(handles, [f"{h.get_label()} coordinate" for h in handles], loc="outside upper right",
                   ncol=len(handles))
    return out


def _state_scale(ax: Any, values: np.ndarray) -> None:
    finite = values[np.isfinite(values)]
    if finite.size < 2:
        return
    if finite.min() > 0 and _data.spans_decades(finite, 2.0):
        log_y(ax)
    elif finite.min() < 0 < finite.max():
        mag = np.abs(finite[finite != 0])
        if mag.size and np.log10(mag.max() / np.median(mag)) >= 2:
            # A few early spikes (v, m̂ in the first steps) would flatten the rest on a
            # linear axis: symmetric log, linear within the typical magnitude.
            # At most two decades on each side are log-scaled: more is unreadable.
            linthresh = 10.0 ** np.ceil(np.log10(max(np.median(mag), mag.max() / 100)))
            ax.set_yscale("symlog", linthresh=linthresh, linscale=1.0)
            ax.yaxis.set_major_formatter(signed_decade_formatter())
        ax.axhline(0, color="black", linewidth=0.8, alpha=0.4)
