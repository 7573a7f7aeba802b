"""Static figures: contour with paths, 1-D curve, loss panels, optimizer state, 3-D surface.

Each ``draw_*`` helper takes the axes (or figure) to draw on and returns the
artists it made, so tests check what was drawn and the animation reuses the
same pictures. The ``*_figure`` builders assemble a slide-ready
:class:`matplotlib.figure.Figure` on an Agg canvas (pyplot is never imported).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from optviz.plot import _data, _style

# --------------------------------------------------------------------------- basics


@contextlib.contextmanager
def style() -> Iterator[None]:
    """optviz's slide style for the figures built and saved inside the block."""
    with matplotlib.rc_context(_style.RC):
        yield


def new_figure(figsize: tuple[float, float], *, dpi: float = 100, layout: str | None = "constrained") -> Figure:
    """A Figure on its own Agg canvas (no pyplot, no global figure manager)."""
    fig = Figure(figsize=figsize, dpi=dpi, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def fit_title(fig: Figure, text: Any, *, max_fraction: float = 0.97, min_size: float = 8.0) -> None:
    """Shrink a title to the figure's width (long formulas) in one step. Raises
    ValueError when the text is mathtext that matplotlib cannot typeset."""
    renderer = fig.canvas.get_renderer()
    width = text.get_window_extent(renderer).width
    limit = fig.bbox.width * max_fraction
    if width > limit:
        # Text width is proportional to the font size: one re-layout, not a search
        # (each size of a formula is parsed anew).
        text.set_fontsize(max(min_size, float(text.get_fontsize()) * limit / width * 0.98))


def figure_title(fig: Figure, objective: Any, *, subtitle: str = "") -> Any:
    """'Rosenbrock:  f(x, y) = …' as the figure title, shrunk to fit; the formula as
    typed when mathtext cannot typeset sympy's LaTeX."""
    name = _style.objective_title(objective)
    prefix = f"{name}:  " if name else ""
    title = fig.suptitle(prefix + _style.formula_mathtext(objective, check=False))
    try:
        fit_title(fig, title)
    except ValueError:
        title.set_text(prefix + _style.plain_formula(objective))
        title.set_fontsize(matplotlib.rcParams["figure.titlesize"])
        fit_title(fig, title)
    if subtitle:
        title.set_text(f"{title.get_text()}\n{subtitle}")
    return title


_CMAPS: dict[Any, Any] = {}


def contour_cmap(spec: Any = None) -> Any:
    """A colormap from a name or a (name, low, high) slice of one (cached)."""
    spec = spec or _style.CONTOUR_CMAP
    if not isinstance(spec, tuple):
        return spec
    if spec not in _CMAPS:
        from matplotlib.colors import ListedColormap

        name, lo, hi = spec
        _CMAPS[spec] = ListedColormap(matplotlib.colormaps[name](np.linspace(lo, hi, 256)), name=f"{name}_{lo}_{hi}")
    return _CMAPS[spec]


def decade_formatter() -> Any:
    """Log-axis labels '10⁻³' in plain Unicode: the same look as matplotlib's mathtext
    labels without parsing mathtext for every new exponent (a fifth of a second)."""
    from matplotlib.ticker import FuncFormatter

    def fmt(value: float, _pos: Any = None) -> str:
        if value <= 0 or not np.isfinite(value):
            return ""
        exponent = np.log10(value)
        if abs(exponent - round(exponent)) < 1e-9:
            return "10" + str(int(round(exponent))).translate(_style._SUPERSCRIPT)
        return _style.fmt_number(value, 2)

    return FuncFormatter(fmt)


def signed_decade_formatter() -> Any:
    """Symlog labels: '0', '10²', '−10²'."""
    from matplotlib.ticker import FuncFormatter

    positive = decade_formatter()

    def fmt(value: float, pos: Any = None) -> str:
        if value == 0:
            return "0"
        text = positive(abs(value), pos)
        return f"−{text}" if value < 0 and text else text

    return FuncFormatter(fmt)


def log_y(ax: Any) -> None:
    """A log y axis with Unicode decade labels and no labels between decades."""
    from matplotlib.ticker import NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(decade_formatter())
    ax.yaxis.set_minor_formatter(NullFormatter())


def _variable_label(name: str) -> str:
    return f"${_style._latex_variable(name)}$"


def _run_starts(runs: Sequence[Any]) -> np.ndarray:
    pts = np.concatenate([t.starts for t in runs]) if runs else np.zeros((0, 1))
    return np.unique(pts, axis=0) if len(pts) else pts


def _markevery(n: int, max_markers: int) -> int:
    return max(1, int(np.ceil(n / max_markers)))


def _indefinite_points(traj: Any, k: int) -> np.ndarray:
    """Points where Newton's Hessian was not positive definite (the step from θ_{t−1})."""
    flags = traj.state.get("indefinite")
    if flags is None:
        return np.zeros((0, traj.theta.shape[-1]))
    path = traj.path(k)
    f = np.asarray(flags[1:, k], dtype=float)
    idx = np.nonzero(np.nan_to_num(f) > 0)[0]  # step t = idx + 1 started at θ_idx
    idx = idx[idx < len(path)]
    return path[idx]


# --------------------------------------------------------------------------- contour


@dataclass
class ContourArtists:
    filled: Any  # QuadContourSet of the filled contours (None when filled=False)
    lines: Any  # QuadContourSet of the contour lines
    colorbar: Any  # Colorbar or None
    minima: list[Line2D]
    levels: _data.Levels
    domain: _data.Domain


def draw_contour(ax: Any, objective: Any, runs: Sequence[Any] = (), *, domain: _data.Domain | None = None,
                 resolution: int = 300, filled: bool = True, colorbar: bool = True,
                 cmap: Any = None) -> ContourArtists:
    """Contours of a 2-D objective with its known minima marked.

    Levels are log-spaced in f − f* where the values span decades (see
    :func:`optviz.plot._data.contour_levels`). The domain is the function's,
    fitted to the paths of ``runs`` when it has none.
    """
    cmap = contour_cmap(cmap)
    domain = domain or _data.plot_domain(objective, runs)
    grid = _data.evaluate_grid(objective, domain, resolution)
    levels = _data.contour_levels(grid.z, objective.f_star)
    z = levels.transform(grid.z)
    norm = LogNorm(levels.values[0], levels.values[-1]) if levels.log else None
    filled_set = None
    if filled:
        filled_set = ax.contourf(grid.x, grid.y, z, levels=levels.values, cmap=cmap, norm=norm)
        lines = ax.contour(grid.x, grid.y, z, levels=levels.values[::2], colors="black",
                           linewidths=0.5, alpha=0.35)
    else:
        lines = ax.contour(grid.x, grid.y, z, levels=levels.values, cmap=cmap, norm=norm, linewidths=1.2)
    cb = None
    if colorbar:
        mappable = filled_set if filled_set is not None else lines
        # An inset colorbar moves with the axes: with an equal aspect, constrained
        # layout then centres the picture instead of pushing it against the bar.
        cax = ax.inset_axes([1.035, 0.0, 0.045, 1.0])
        cb = ax.get_figure().colorbar(mappable, cax=cax)
        cb.set_label(_colorbar_label(objective, levels))
        if levels.log:
            from matplotlib.ticker import LogLocator

            cb.ax.yaxis.set_major_locator(LogLocator(base=10))
            cb.ax.yaxis.set_major_formatter(decade_formatter())
            cb.ax.yaxis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0)))
    minima = draw_minima(ax, objective, domain)
    (x0, x1), (y0, y1) = domain
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ratio = (y1 - y0) / (x1 - x0)
    ax.set_aspect("equal" if 0.4 <= ratio <= 2.5 else "auto")
    ax.set_xlabel(_variable_label(objective.variables[0]))
    ax.set_ylabel(_variable_label(objective.variables[1]))
    for side in ("top", "right"):
        ax.spines[side].set_visible(True)
    return ContourArtists(filled_set, lines, cb, minima, levels, domain)


def _colorbar_label(objective: Any, levels: _data.Levels) -> str:
    f = f"$f({', '.join(_style._latex_variable(v) for v in objective.variables)})$"
    if not levels.log or levels.shift == 0:
        return f + ("  (log scale)" if levels.log else "")
    if objective.f_star is not None and levels.shift == objective.f_star:
        return f"{f} − f*   (f* = {_style.fmt_number(levels.shift, 4)}, log scale)"
    return f"{f} − min f   (min f ≈ {_style.fmt_number(levels.shift, 4)}, log scale)"


def draw_minima(ax: Any, objective: Any, domain: _data.Domain) -> list[Line2D]:
    """Known minima: gold stars for global ones, white stars for local ones."""
    minima = list(getattr(objective, "minima", ()))
    if not minima:
        return []
    f_star = objective.f_star
    tol = 1e-9 * max(1.0, abs(f_star))
    inside = [m for m in minima if all(lo <= p <= hi for p, (lo, hi) in zip(m.point, domain))]
    glob = np.array([m.point for m in inside if m.value <= f_star + tol]).reshape(-1, objective.dim)
    loc = np.array([m.point for m in inside if m.value > f_star + tol]).reshape(-1, objective.dim)
    out = []
    for pts, style, label in ((glob, _style.MINIMUM_STYLE, "global minimum"),
                              (loc, _style.LOCAL_MINIMUM_STYLE, "local minimum")):
        if len(pts) == 0:
            continue
        if objective.dim == 1:
            values = [m.value for m in inside if (m.value <= f_star + tol) == (label == "global minimum")]
            line = ax.plot(pts[:, 0], values, zorder=6, label=label, **style)[0]
        else:
            line = ax.plot(pts[:, 0], pts[:, 1], zorder=6, label=label, **style)[0]
        out.append(line)
    return out


@dataclass
class PathArtists:
    paths: list[Line2D]  # one per (run, start point), in run order then start order
    ends: list[Line2D]
    starts: Line2D | None
    indefinite: Line2D | None
    handles: list[Any] = field(default_factory=list)  # legend handles, one per run
    labels: list[str] = field(default_factory=list)


def draw_paths(ax: Any, runs: Sequence[Any], *, max_markers: int = 40, detail: bool = True,
               styles: Sequence[tuple[str, str]] | None = None) -> PathArtists:
    """Each run's path (every start point), step markers thinned to ``max_markers``,
    end points, the start points and, for Newton, where the Hessian was indefinite."""
    styles = list(styles or _style.run_styles(runs))
    f_star = runs[0].objective.f_star if runs else None
    out = PathArtists([], [], None, None)
    bad = []
    many = len(runs) > 4
    for i, (traj, (color, marker)) in enumerate(zip(runs, styles)):
        # Earlier runs are drawn under later ones, a little wider, so a path that
        # follows another (two methods in one valley) still shows as its border.
        width = (1.8 if many else 2.2) + 1.4 * (len(runs) - 1 - i) / max(1, len(runs) - 1)
        # With --seeds N, the first seed's path is drawn in full, the others thin behind it.
        extra_seeds = {k for group in traj.seed_groups() for k in group[1:]}
        for k in range(traj.K):
            p = traj.path(k)
            if k in extra_seeds:
                out.paths.append(ax.plot(p[:, 0], p[:, 1], color=color, linewidth=0.8, alpha=0.3,
                                         zorder=3.5 + 0.01 * i)[0])
                continue
            line = ax.plot(p[:, 0], p[:, 1], color=color, marker=marker, linewidth=width,
                           markersize=4.5 if many else 5.5, markeredgecolor="white", markeredgewidth=0.6,
                           markevery=_markevery(len(p), max_markers), zorder=4 + 0.01 * i)[0]
            out.paths.append(line)
            if len(p):
                end = ax.plot(p[-1:, 0], p[-1:, 1], color=color, marker=marker, markersize=11,
                              markeredgecolor="black", markeredgewidth=1.2, linestyle="none", zorder=7)[0]
                out.ends.append(end)
            bad.append(_indefinite_points(traj, k))
        out.handles.append(Line2D([], [], color=color, marker=marker, markersize=8,
                                  markeredgecolor="white", linewidth=2.2))
        out.labels.append(_style.run_label(traj, f_star=f_star, detail=detail))
    starts = _run_starts(runs)
    if len(starts):
        out.starts = ax.plot(starts[:, 0], starts[:, 1], zorder=8, label="start", **_style.START_STYLE)[0]
    bad_pts = np.concatenate(bad) if bad else np.zeros((0, 2))
    if len(bad_pts):
        out.indefinite = ax.plot(bad_pts[:, 0], bad_pts[:, 1], linestyle="none", marker="o", markersize=15,
                                 markerfacecolor="none", markeredgecolor="#b00000", markeredgewidth=1.8,
                                 zorder=5, label="Hessian not positive definite")[0]
    return out


def marker_handles(*groups: Any) -> tuple[list[Any], list[str]]:
    """Legend entries for the start, minima and Newton markers that were drawn."""
    handles, labels = [], []
    for art in groups:
        for line in art if isinstance(art, list) else [art]:
            if line is not None and not line.get_label().startswith("_"):
                handles.append(line)
                labels.append(line.get_label())
    return handles, labels


def _figure_legend(fig: Figure, handles: list[Any], labels: list[str], marker_h: list[Any],
                   marker_l: list[str]) -> Any:
    """Runs in one column and the start/minimum/Newton markers in a column of their
    own; from four runs on, two columns with the markers after the runs."""
    blank = Line2D([], [], linestyle="none")
    if len(handles) <= 3:
        rows = max(len(handles), len(marker_h))
        cols_h = handles + [blank] * (rows - len(handles))
        cols_l = labels + [""] * (rows - len(labels))
        if marker_h:
            cols_h += marker_h + [blank] * (rows - len(marker_h))
            cols_l += marker_l + [""] * (rows - len(marker_l))
        ncol = 2 if marker_h else 1
    else:
        cols_h, cols_l, ncol = handles + marker_h, labels + marker_l, 2
    legend = fig.legend(cols_h, cols_l, loc="outside lower center", ncol=ncol, handlelength=2.2,
                        columnspacing=1.8, labelspacing=0.7)
    _widen_for(fig, legend)
    return legend


def _widen_for(fig: Figure, artist: Any, margin: float = 0.3) -> None:
    """Make the figure wide enough for ``artist`` (a legend of long labels)."""
    need = artist.get_window_extent(fig.canvas.get_renderer()).width / fig.dpi + margin
    width, height = fig.get_size_inches()
    if need > width:
        fig.set_size_inches(need, height)


def _legend_width(runs: Sequence[Any], base: float) -> float:
    """Figure width that holds the legend: two columns of runs need more room."""
    return base if len(runs) <= 3 else base + 1.0


# --------------------------------------------------------------------------- 1-D


@dataclass
class CurveArtists:
    curve: Line2D
    paths: list[Line2D]  # one per (run, start): the iterates (x_t, f(x_t)) joined in order
    ends: list[Line2D]
    starts: Line2D | None
    minima: list[Line2D]
    indefinite: Line2D | None
    handles: list[Any] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)


def draw_curve_1d(ax: Any, objective: Any, runs: Sequence[Any] = (), *, domain: _data.Domain | None = None,
                  detail: bool = True, number_steps: bool = True,
                  styles: Sequence[tuple[str, str]] | None = None) -> CurveArtists:
    """A 1-D objective as a curve with each run's iterates on it, joined in step order.

    Step numbers are written next to the iterates of short runs, so a jump of
    Newton's method (to a maximum of x·cos(0.15πx), say) can be followed.
    """
    domain = domain or _data.plot_domain(objective, runs)
    x, y = _data.evaluate_curve(objective, domain)
    curve = ax.plot(x, y, color="#333333", linewidth=2.0, zorder=2, label="_curve")[0]
    styles = list(styles or _style.run_styles(runs))
    f_star = objective.f_star
    out = CurveArtists(curve, [], [], None, [], None)
    bad = []
    many = len(runs) > 4
    for traj, (color, marker) in zip(runs, styles):
        for k in range(traj.K):
            p = traj.path(k)[:, 0]
            n = len(p)
            fx = np.asarray(traj.loss[:n, k], dtype=float)
            line = ax.plot(p, fx, color=color, marker=marker, linewidth=1.3, alpha=0.9,
                           markersize=5 if many else 7, markeredgecolor="white", markeredgewidth=0.7,
                           markevery=_markevery(n, 40), zorder=4)[0]
            out.paths.append(line)
            if n:
                out.ends.append(ax.plot(p[-1:], fx[-1:], color=color, marker=marker, markersize=13,
                                        markeredgecolor="black", markeredgewidth=1.2, linestyle="none",
                                        zorder=7)[0])
            if number_steps and n <= 12 and len(runs) * max(t.K for t in runs) <= 3:
                _number_steps(ax, p, fx, color, domain)
            pts = _indefinite_points(traj, k)[:, 0]
            bad.append(np.column_stack([pts, objective.f(pts[:, None])]) if len(pts) else np.zeros((0, 2)))
        out.handles.append(Line2D([], [], color=color, marker=marker, markersize=8, markeredgecolor="white",
                                  linewidth=1.5))
        out.labels.append(_style.run_label(traj, f_star=f_star, detail=detail))
    starts = _run_starts(runs)
    if len(starts):
        out.starts = ax.plot(starts[:, 0], objective.f(starts), zorder=8, label="start", **_style.START_STYLE)[0]
    out.minima = draw_minima(ax, objective, domain)
    bad_pts = np.concatenate(bad) if bad else np.zeros((0, 2))
    if len(bad_pts):
        out.indefinite = ax.plot(bad_pts[:, 0], bad_pts[:, 1], linestyle="none", marker="o", markersize=17,
                                 markerfacecolor="none", markeredgecolor="#b00000", markeredgewidth=1.8,
                                 zorder=5, label="f'' ≤ 0: Newton step not a descent step")[0]
    ax.set_xlim(*domain[0])
    finite = y[np.isfinite(y)]
    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        pad = 0.08 * (hi - lo or 1.0)
        ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel(_variable_label(objective.variables[0]))
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


# --------------------------------------------------------------------------- loss


LOSS_PANELS = ("loss", "grad_norm", "lr")


def draw_loss(axes: Sequence[Any], runs: Sequence[Any], *, styles: Sequence[tuple[str, str]] | None = None,
              panels: Sequence[str] = LOSS_PANELS) -> dict[str, list[Line2D]]:
    """Per-step curves: f − f* on a log axis (f when f* is unknown), ‖∇f‖ (log) and
    the learning rate η_t, one panel each. Returns the lines of each panel."""
    styles = list(styles or _style.run_styles(runs))
    f_star = runs[0].objective.f_star if runs else None
    out: dict[str, list[Line2D]] = {}
    for ax, panel in zip(axes, panels):
        lines = []
        collected = []
        for traj, (color, _) in zip(runs, styles):
            if traj.seeds and len(traj.seeds) > 1:
                for members in traj.seed_groups():
                    line, values = _draw_seed_band(ax, traj, members, panel, f_star, color)
                    lines.append(line)
                    collected.append(values)
                continue
            for k in range(traj.K):
                steps, values = _panel_series(traj, k, panel, f_star)
                alpha = 1.0 if k == 0 else 0.55
                line = ax.plot(steps, values, color=color, linewidth=2.0 if k == 0 else 1.4, alpha=alpha)[0]
                lines.append(line)
                collected.append(values)
                if traj.status[k] == "diverged" and len(steps):
                    ax.plot(steps[-1:], values[-1:], color=color, marker="X", markersize=10,
                            markeredgecolor="black", linestyle="none")
        allv = np.concatenate(collected) if collected else np.zeros(0)
        _panel_axes(ax, panel, runs, f_star, allv)
        out[panel] = lines
    return out


def _draw_seed_band(ax: Any, traj: Any, members: list[int], panel: str, f_star: float | None,
                    color: str) -> tuple[Line2D, np.ndarray]:
    """The median over a start's seed rows with a shaded 10-90% band (``--seeds N``)."""
    series = [_panel_series(traj, k, panel, f_star) for k in members]
    n = max(len(s) for s, _ in series)
    table = np.full((len(series), n), np.nan)
    for i, (_, values) in enumerate(series):
        table[i, : len(values)] = values
    steps = np.arange(n) + (1 if panel == "lr" else 0)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(table, axis=0)
        lo, hi = np.nanpercentile(table, [10, 90], axis=0)
    ax.fill_between(steps, lo, hi, color=color, alpha=0.22, linewidth=0)
    line = ax.plot(steps, median, color=color, linewidth=2.0)[0]
    line.set_gid(f"median of {len(members)} seeds")
    return line, np.concatenate([lo[np.isfinite(lo)], hi[np.isfinite(hi)]])


def _panel_series(traj: Any, k: int, panel: str, f_star: float | None) -> tuple[np.ndarray, np.ndarray]:
    n = _data.finite_count(traj, k)
    if panel == "loss":
        return _data.loss_series(traj, k, f_star)
    if panel == "grad_norm":
        return np.arange(n), _data.positive_series(np.asarray(traj.grad_norm[:n, k], dtype=float))
    steps = np.arange(1, n)
    return steps, np.asarray(traj.lr[1:n, k], dtype=float)


def _panel_axes(ax: Any, panel: str, runs: Sequence[Any], f_star: float | None, values: np.ndarray) -> None:
    finite = values[np.isfinite(values)]
    if panel == "loss":
        if f_star is not None:
            log_y(ax)
            ax.set_ylabel("f(θₜ) − f*")
            ax.set_title("distance to the minimum value f*")
        else:
            if finite.size and finite.min() > 0 and _data.spans_decades(finite):
                log_y(ax)
            ax.set_ylabel("f(θₜ)")
            ax.set_title("loss (f* unknown)")
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


# --------------------------------------------------------------------------- state


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
        name = display_name_of(traj)
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
            values = values.reshape(len(values), -1)
            steps = np.arange(1, n)
            for j in range(values.shape[1]):
                var = traj.objective.variables[j] if j < traj.objective.dim else f"θ{j}"
                c, ls = coord_styles[j % len(coord_styles)]
                ax.plot(steps, values[:, j], color=c, linestyle=ls, linewidth=1.8, label=f"${_style._latex_variable(var)}$")
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


def display_name_of(traj: Any) -> str:
    return _style.run_name(traj)


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


# --------------------------------------------------------------------------- surface


@dataclass
class SurfaceArtists:
    surface: Any
    paths: list[Any]
    starts: Any
    minima: list[Any]
    levels: _data.Levels
    log_height: bool
    domain: _data.Domain


def surface_height(objective: Any, levels: _data.Levels, values: np.ndarray) -> np.ndarray:
    """The height drawn on the surface: f, or log₁₀(f − f*) when the contour is log-spaced."""
    if not levels.log:
        return values
    with np.errstate(all="ignore"):
        return np.log10(np.maximum(values - levels.shift, levels.floor))


def draw_surface(ax: Any, objective: Any, runs: Sequence[Any] = (), *, domain: _data.Domain | None = None,
                 resolution: int = 80, styles: Sequence[tuple[str, str]] | None = None,
                 cmap: Any = None) -> SurfaceArtists:
    """A 3-D surface of a 2-D objective with the paths lifted onto it.

    Where the contour levels are log-spaced the height is log₁₀(f − f*), so a
    valley like Rosenbrock's stays visible instead of flattening to a floor.
    """
    cmap = contour_cmap(cmap)
    domain = domain or _data.plot_domain(objective, runs)
    grid = _data.evaluate_grid(objective, domain, resolution)
    levels = _data.contour_levels(grid.z, objective.f_star)
    Z = surface_height(objective, levels, grid.z)
    X, Y = np.meshgrid(grid.x, grid.y)
    surf = ax.plot_surface(X, Y, np.ma.masked_invalid(Z), cmap=cmap, linewidth=0, antialiased=False,
                           rcount=resolution, ccount=resolution, zorder=1)
    styles = list(styles or _style.run_styles(runs))
    paths = []
    lift = 0.01 * float(np.nanmax(Z) - np.nanmin(Z) or 1.0)
    for traj, (color, marker) in zip(runs, styles):
        for k in range(traj.K):
            p = traj.path(k)
            h = surface_height(objective, levels, np.asarray(traj.loss[: len(p), k], dtype=float)) + lift
            paths.append(ax.plot(p[:, 0], p[:, 1], h, color=color, marker=marker, markersize=4,
                                 markevery=_markevery(len(p), 40), linewidth=2.2, zorder=10)[0])
    starts = _run_starts(runs)
    start_art = None
    if len(starts):
        hs = surface_height(objective, levels, objective.f(starts)) + lift
        start_art = ax.plot(starts[:, 0], starts[:, 1], hs, zorder=11, label="start", **_style.START_STYLE)[0]
    minima = []
    for m in getattr(objective, "minima", ()):
        if all(lo <= c <= hi for c, (lo, hi) in zip(m.point, domain)):
            hm = surface_height(objective, levels, np.array([m.value])) + lift
            minima.append(ax.plot([m.point[0]], [m.point[1]], hm, zorder=11, label="minimum",
                                  **_style.MINIMUM_STYLE)[0])
    ax.set_xlim(*domain[0])
    ax.set_ylim(*domain[1])
    ax.set_xlabel(_variable_label(objective.variables[0]), labelpad=8)
    ax.set_ylabel(_variable_label(objective.variables[1]), labelpad=8)
    zlabel = f"f({', '.join(objective.variables)})"
    if levels.log:
        zlabel = f"log₁₀({zlabel} − {'f*' if objective.f_star is not None and levels.shift == objective.f_star else 'min f'})"
    ax.set_zlabel(zlabel, labelpad=8)
    ax.view_init(elev=38, azim=-60)
    ax.computed_zorder = False  # paths drawn over the surface, not sorted into it
    return SurfaceArtists(surf, paths, start_art, minima, levels, levels.log, domain)


# --------------------------------------------------------------------------- figures


def contour_figure(result: Any, *, resolution: int = 300, dpi: float = 100) -> Figure:
    """Contour + paths + legend: the main picture of ``optviz run`` for a 2-D function."""
    objective, runs = result.objective, result.runs
    fig = new_figure((_legend_width(runs, 9.0), 7.6 + 0.25 * max(0, len(runs) - 2)), dpi=dpi)
    ax = fig.add_subplot()
    contour = draw_contour(ax, objective, runs, resolution=resolution)
    paths = draw_paths(ax, runs)
    extra_h, extra_l = marker_handles(paths.starts, contour.minima, paths.indefinite)
    _figure_legend(fig, paths.handles, paths.labels, extra_h, extra_l)
    figure_title(fig, objective)
    return fig


def curve_figure(result: Any, *, dpi: float = 100) -> Figure:
    """The 1-D picture: the curve, each run's iterates on it, minima and start."""
    objective, runs = result.objective, result.runs
    fig = new_figure((_legend_width(runs, 10.0), 6.4 + 0.25 * max(0, len(runs) - 2)), dpi=dpi)
    ax = fig.add_subplot()
    art = draw_curve_1d(ax, objective, runs)
    extra_h, extra_l = marker_handles(art.starts, art.minima, art.indefinite)
    _figure_legend(fig, art.handles, art.labels, extra_h, extra_l)
    figure_title(fig, objective)
    return fig


def loss_figure(result: Any, *, dpi: float = 100) -> Figure:
    """f − f* (log), ‖∇f‖ and η per step, side by side, with the runs' legend below.

    Laid out by hand (margins in inches, legend and title measured): a
    constrained layout would cost a fifth of a second for a row of panels.
    """
    objective, runs = result.objective, result.runs
    width, panel_h = 15.0, 3.7
    left, right, gap = 1.05, 0.3, 1.15  # inches: room for '10⁻¹⁵' tick labels and the y label
    fig = new_figure((width, 6.0), dpi=dpi, layout=None)
    axes = fig.subplots(1, 3)
    draw_loss(axes, runs)
    styles = _style.run_styles(runs)
    handles = [Line2D([], [], color=c, linewidth=2.2) for c, _ in styles]
    labels = [_style.run_label(t, f_star=objective.f_star) for t in runs]
    ncol = min(len(runs), 3 if len(runs) <= 6 else 4)
    legend = fig.legend(handles, labels, loc="lower center", ncol=ncol, columnspacing=2.0, labelspacing=0.7)
    title = figure_title(fig, objective)
    renderer = fig.canvas.get_renderer()
    legend_box = legend.get_window_extent(renderer)
    width = max(width, legend_box.width / fig.dpi + 0.3)
    legend_h = legend_box.height / fig.dpi
    title_h = title.get_window_extent(renderer).height / fig.dpi
    top, bottom = title_h + 0.6, legend_h + 0.85  # panel titles above, tick labels and x label below
    height = top + panel_h + bottom
    fig.set_size_inches(width, height)
    panel_w = (width - left - right - 2 * gap) / 3
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                        top=1 - top / height, wspace=gap / panel_w)
    legend.set_bbox_to_anchor((0.5, 0.12 / height), transform=fig.transFigure)
    title.set_y(1 - 0.12 / height)
    title.set_verticalalignment("top")
    return fig


def state_figure(result: Any, *, dpi: float = 100) -> Figure:
    """The optimizer state per step (see :func:`draw_state`)."""
    runs = runs_with_state(result.runs)
    fig = new_figure((16.0, 1.0 + 3.3 * max(1, len(runs))), dpi=dpi)
    draw_state(fig, result.runs)
    K = max((t.K for t in runs), default=1)
    sub = "state of each optimizer per step" + (" (first start point)" if K > 1 else "")
    figure_title(fig, result.objective, subtitle=sub)
    return fig


def surface_figure(result: Any, *, dpi: float = 100, resolution: int = 80) -> Figure:
    """A 3-D surface with the paths lifted onto it."""
    objective, runs = result.objective, result.runs
    fig = new_figure((_legend_width(runs, 10.0), 8.4 + 0.25 * max(0, len(runs) - 2)), dpi=dpi)
    ax = fig.add_subplot(projection="3d")
    art = draw_surface(ax, objective, runs, resolution=resolution)
    styles = _style.run_styles(runs)
    handles = [Line2D([], [], color=c, marker=m, linewidth=2.2) for c, m in styles]
    labels = [_style.run_label(t, f_star=objective.f_star) for t in runs]
    extra_h, extra_l = marker_handles(art.starts, art.minima[:1])
    _figure_legend(fig, handles, labels, extra_h, extra_l)
    figure_title(fig, objective)
    return fig
