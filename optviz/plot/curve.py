"""The 1-D picture: the curve f(x) with each run's steps on it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.lines import Line2D

from optviz.plot import _data, _style
from optviz.plot.contour import draw_critical_points
from optviz.plot.figure import indefinite_points, markevery, run_starts, variable_label


@dataclass
class CurveArtists:
    curve: Line2D
    paths: list[Line2D]  # one per (run, start): the iterates (x_t, f(x_t)) joined in order
    ends: list[Line2D]
    starts: Line2D | None
    critical: list[Line2D]
    indefinite: Line2D | None
    handles: list[Any] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    nonconvex: list[Any] = field(default_factory=list)  # one span per interval where f'' < 0


def draw_curve_1d(ax: Any, objective: Any, runs: Sequence[Any] = (), *, domain: _data.Domain | None = None,
                  detail: bool = True, number_steps: bool = True,
                  styles: Sequence[tuple[str, str]] | None = None, ylim: tuple[float, float] | None = None,
                  convexity: bool = False) -> CurveArtists:
    """A 1-D objective as a curve with each run's iterates on it, joined in step order,
    and its critical points; ``ylim`` fixes the range of f shown; with ``convexity``
    the intervals where f'' < 0 are shaded.

    Step numbers are written next to the iterates of short runs, so a jump of
    Newton's method (to a maximum of x·cos(0.15πx), say) can be followed.
    """
    domain = domain or _data.plot_domain(objective, runs)
    x, y = _data.evaluate_curve(objective, domain)
    # The function in gray: the runs (GD is black) are drawn on top of it.
    curve = ax.plot(x, y, color="#9a9a9a", linewidth=2.2, zorder=2, label="_curve")[0]
    styles = list(styles or _style.run_styles(runs))
    out = CurveArtists(curve, [], [], None, [], None)
    if convexity:
        out.nonconvex = draw_concave_intervals(ax, objective, x)
    bad = []
    many = len(runs) > 4
    for traj, (color, marker) in zip(runs, styles):
        for k in range(traj.K):
            p = traj.path(k)[:, 0]
            n = len(p)
            fx = np.asarray(traj.loss[:n, k], dtype=float)
            line = ax.plot(p, fx, color=color, marker=marker, linewidth=1.3, alpha=0.9,
                           markersize=5 if many else 7, markeredgecolor="white", markeredgewidth=0.7,
                           markevery=markevery(n, 40), zorder=4)[0]
            out.paths.append(line)
            if n:
                out.ends.append(ax.plot(p[-1:], fx[-1:], color=color, marker=marker, markersize=13,
                                        markeredgecolor="black", markeredgewidth=1.2, linestyle="none",
                                        zorder=7)[0])
            if number_steps and n <= 12 and len(runs) * max(t.K for t in runs) <= 3:
                _number_steps(ax, p, fx, color, domain)
            pts = indefinite_points(traj, k)[:, 0]
            bad.append(np.column_stack([pts, objective.f(pts[:, None])]) if len(pts) else np.zeros((0, 2)))
        out.handles.append(Line2D([], [], color=color, marker=marker, markersize=8, markeredgecolor="white",
                                  linewidth=1.5))
        out.labels.append(_style.run_label(traj, detail=detail))
    starts = run_starts(runs)
    if len(starts):
        out.starts = ax.plot(starts[:, 0], objective.f(starts), zorder=8, label="start", **_style.START_STYLE)[0]
    out.critical = draw_critical_points(ax, objective, domain, runs)
    bad_pts = np.concatenate(bad) if bad else np.zeros((0, 2))
    if len(bad_pts):
        out.indefinite = ax.plot(bad_pts[:, 0], bad_pts[:, 1], linestyle="none", marker="o", markersize=17,
                                 markerfacecolor="none", markeredgecolor="#b00000", markeredgewidth=1.8,
                                 zorder=5, label="f'' ≤ 0: Newton step not a descent step")[0]
    ax.set_xlim(*domain[0])
    finite = y[np.isfinite(y)]
    if ylim is not None:
        ax.set_ylim(*ylim)
    elif finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        pad = 0.08 * (hi - lo or 1.0)
        ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel(variable_label(objective.variables[0]))
    ax.set_ylabel(f"f({objective.variables[0]})")
    ax.grid(True, alpha=0.25)
    return out


def _number_steps(ax: Any, x: np.ndarray, fx: np.ndarray, color: str, domain: _data.Domain) -> None:
    """Write t next to x_t, skipping a label that would sit on the previous one."""
    width = domain[0][1] - domain[0][0]
    placed: list[float] = []
    for t, (xt, ft) in enumerate(zip(x, fx)):
        if not (np.isfinite(xt) and np.isfinite(ft)):
            continue
        if any(abs(xt - q) < 0.025 * width for q in placed):
            continue
        placed.append(float(xt))
        ax.annotate(str(t), (xt, ft), xytext=(0, 11), textcoords="offset points", ha="center",
                    va="bottom", fontsize=11, color=color, fontweight="bold", zorder=9)


CONCAVE_LABEL = "f'' < 0 (f not convex here)"


def draw_concave_intervals(ax: Any, objective: Any, x: np.ndarray) -> list[Any]:
    """Shade each interval of ``x`` where f'' < 0 (from central differences of the exact
    derivative); the first span carries the legend label."""
    mask = _data.not_convex(_data.min_curvature(objective, x[:, None]))
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    spans = []
    for start, stop in zip(edges[::2], edges[1::2]):
        left = 0.5 * (x[start - 1] + x[start]) if start else x[0]
        right = 0.5 * (x[stop - 1] + x[stop]) if stop < len(x) else x[-1]
        spans.append(ax.axvspan(left, right, facecolor="#202020", alpha=0.12, hatch="////", edgecolor="#20202066",
                                linewidth=0, zorder=1, label=CONCAVE_LABEL if not spans else "_concave"))
    return spans
