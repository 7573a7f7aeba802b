"""The figure toolkit every picture shares: the slide style, figures on their own Agg
canvas (no pyplot), titles that fit, the contour colormap, log-axis formatters and small
helpers for paths. The palette, markers and texts are :mod:`optviz.plot._style`'s."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from optviz.plot import _style


@contextlib.contextmanager
def style() -> Iterator[None]:
    """optviz's slide style for the figures built and saved inside the block."""
    with matplotlib.rc_context(_style.RC):
        yield


class OptvizFigure(Figure):
    """A Figure on its own Agg canvas that shows itself where it is returned: in a
    notebook (IPython calls ``_repr_png_``) and by :meth:`show`, which pyplot's Figure
    refuses for a figure pyplot does not manage."""

    def _repr_png_(self) -> bytes:
        import io

        buffer = io.BytesIO()
        with style():
            self.canvas.print_figure(buffer, format="png", dpi=self.dpi, bbox_inches="tight")
        return buffer.getvalue()

    def show(self, warn: bool = True) -> None:
        """Display the figure: in IPython or Jupyter as the cell's output; elsewhere in a
        window of pyplot's backend when it has windows (with a file backend such as Agg
        there is no window: save the figure instead, nothing happens and nothing is said)."""
        if self.canvas.manager is not None:
            super().show(warn=False)
            return
        ipython = sys.modules.get("IPython")
        if ipython is not None and ipython.get_ipython() is not None:
            from IPython.display import display

            display(self)
            return
        if matplotlib.get_backend().lower() not in NON_INTERACTIVE_BACKENDS:
            import matplotlib.pyplot as plt

            plt.figure(self)
            super().show(warn=False)


NON_INTERACTIVE_BACKENDS = ("agg", "pdf", "ps", "svg", "pgf", "cairo", "template")


def new_figure(figsize: tuple[float, float], dpi: float = 100, *, layout: str | None = "constrained") -> Figure:
    """A Figure in the slide style on its own Agg canvas (no pyplot, no global figure
    manager) that displays itself in a notebook (:class:`OptvizFigure`)."""
    with style():
        fig = OptvizFigure(figsize=figsize, dpi=dpi, layout=layout)
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
    except (ValueError, RecursionError):  # mathtext cannot typeset it, or it nests too deeply
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


def variable_label(name: str) -> str:
    """A variable as mathtext ('$x_{1}$'), or as plain text when mathtext cannot typeset it."""
    return _style.math_or_plain(name)


def run_starts(runs: Sequence[Any]) -> np.ndarray:
    pts = np.concatenate([t.starts for t in runs]) if runs else np.zeros((0, 1))
    return np.unique(pts, axis=0) if len(pts) else pts


def markevery(n: int, max_markers: int) -> int:
    return max(1, int(np.ceil(n / max_markers)))


def indefinite_points(traj: Any, k: int) -> np.ndarray:
    """Points where Newton's Hessian was not positive definite (the step from θ_{t−1})."""
    flags = traj.state.get("indefinite")
    if flags is None:
        return np.zeros((0, traj.theta.shape[-1]))
    path = traj.path(k)
    f = np.asarray(flags[1:, k], dtype=float)
    idx = np.nonzero(np.nan_to_num(f) > 0)[0]  # step t = idx + 1 started at θ_idx
    idx = idx[idx < len(path)]
    return path[idx]
