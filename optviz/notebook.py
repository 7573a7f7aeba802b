"""Results that show themselves in a notebook (Jupyter, IPython).

Every result of the API (:class:`~optviz.api.RunResult`, ``CompareResult``,
``SweepReport``, ``BasinsReport``, ``TuneReport``, ``TrainReport``, ``LandscapeReport``)
derives from :class:`Shows`:

- ``repr(result)`` is one short line;
- ``result._repr_html_()`` (what Jupyter shows for a cell's result) is a compact table
  and the result's main figure as an embedded PNG;
- ``result.plot()`` returns that figure, a :class:`matplotlib.figure.Figure` that shows
  itself where a notebook displays it (and by ``fig.show()``);
- runs on a surface also have ``result.explore()``: the explorable page, shown inline.

Drawing code is imported inside these methods only, so importing the API imports no
drawing (docs/math.md §11 for the page).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Sequence
from typing import Any

MAX_ROWS = 20
MAX_REPR = 160


class Shows:
    """Notebook display of a result: a one-line repr, an HTML table with the figure, ``plot()``."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A dataclass writes its own __repr__ unless the class defines one: define it
        # here, before the decorator runs, so results keep their one-line repr.
        if "__repr__" not in cls.__dict__:
            cls.__repr__ = Shows.__repr__

    def __repr__(self) -> str:
        return _one_line(f"<{type(self).__name__} {_view(self).summary(self)}>")

    def plot(self, **options: Any) -> Any:
        """The result's main figure (a matplotlib Figure); ``options`` go to its builder."""
        from optviz.plot.figure import style

        with style():
            return _view(self).figure(self, **options)

    def _repr_html_(self) -> str:
        view = _view(self)
        headers, rows = view.table(self)
        parts = [f"<p><b>{_esc(type(self).__name__)}</b> {_esc(view.summary(self))}</p>", html_table(headers, rows)]
        try:
            fig = self.plot()
        except Exception as exc:  # a picture that cannot be drawn leaves the table
            parts.append(f"<p><i>no figure: {_esc(str(exc))}</i></p>")
        else:
            png = base64.b64encode(fig._repr_png_()).decode("ascii")
            parts.append(f'<img src="data:image/png;base64,{png}" alt="{_esc(type(self).__name__)} figure" '
                         'style="max-width:100%">')
        return "\n".join(parts)


class ShowsRuns(Shows):
    """:class:`Shows` for runs on a surface, plus the explorable page."""

    def explore(self, **options: Any) -> Any:
        """The explorable page of these runs (an :class:`~optviz.explorer.ExplorePage`, shown
        inline in a notebook in a sandboxed frame): the same function, optimizers,
        settings, labels and starts, every path recomputed live. ``options``: ``steps``,
        ``title``, ``critical_points``, ``domain`` (see :func:`optviz.explorer.page.build_page`)."""
        from optviz.explorer.fromrun import run_page

        return run_page(self, **options)


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_REPR else text[: MAX_REPR - 2] + "…>"


def html_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A small HTML table, every cell escaped; at most MAX_ROWS rows (the rest counted)."""
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in rows[:MAX_ROWS])
    more = f"<p>… and {len(rows) - MAX_ROWS} more rows</p>" if len(rows) > MAX_ROWS else ""
    return f'<table class="optviz"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}'


def _num(value: Any) -> str:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{x:.4g}"


def _point(values: Any) -> str:
    return "(" + ", ".join(_num(v) for v in values) + ")"


class View:
    """How one kind of result is summarized, tabulated and drawn."""

    def __init__(self, summary: Callable[[Any], str], table: Callable[[Any], tuple[list[str], list[list[Any]]]],
                 figure: Callable[..., Any]):
        self.summary, self.table, self.figure = summary, table, figure


# ------------------------------------------------------------------ runs on a surface
def _runs_summary(r: Any) -> str:
    parts = [f"{t.label or t.optimizer} {t.status_text(0)}" + (f" (+{t.K - 1} starts)" if t.K > 1 else "")
             for t in r.runs[:3]]
    more = f", … {len(r.runs) - 3} more" if len(r.runs) > 3 else ""
    return f"{r.objective.name}: {'; '.join(parts)}{more}"


def _runs_table(r: Any) -> tuple[list[str], list[list[Any]]]:
    f_star = r.objective.f_star
    headers = ["run", "start", "final θ", "f", "f − f*" if f_star is not None else "‖∇f‖", "status"]
    rows = []
    for t in r.runs:
        for k in range(t.K):
            gap = t.final_loss[k] - f_star if f_star is not None else t.final_grad_norm[k]
            rows.append([t.label or t.optimizer, _point(t.starts[k]), _point(t.final_theta[k]),
                         _num(t.final_loss[k]), _num(gap), t.status_text(k)])
    return headers, rows


def _runs_figure(r: Any, kind: str | None = None, **options: Any) -> Any:
    """kind: contour (2-D), curve (1-D), loss, state or surface; the map by default."""
    from optviz.errors import OptvizError
    from optviz.plot import static

    d = r.objective.dim
    kind = kind or ("contour" if d == 2 else "curve" if d == 1 else "loss")
    builders = {"contour": static.contour_figure, "curve": static.curve_figure, "loss": static.loss_figure,
                "state": static.state_figure, "surface": static.surface_figure}
    if kind not in builders:
        raise OptvizError(f"{{kind}} must be one of {', '.join(builders)}, got {kind!r}", param="kind")
    if (kind in ("contour", "surface") and d != 2) or (kind == "curve" and d != 1):
        raise OptvizError(f"{{kind={kind}}} needs a function of {1 if kind == 'curve' else 2} variable(s); "
                          f"{r.objective.name} has {d}", param="kind")
    return builders[kind](r, **options)


# ------------------------------------------------------------------ grids
def _sweep_summary(r: Any) -> str:
    labels = ", ".join(s.label or s.optimizer for s in r.sweeps)
    cells = sum(int(s.values.size) for s in r.sweeps)
    return f"{r.objective.name}: {labels}; {cells} cells, {r.metric}, {r.steps} steps"


def _sweep_rows(sweeps: Sequence[Any]) -> list[list[Any]]:
    rows = []
    for s in sweeps:
        best = s.best_setting()
        idx = s.best_index
        rng = s.converged_lr_range() if any(a.name == "lr" for a in s.axes) else None
        rows.append([s.label or s.optimizer,
                     ", ".join(f"{k} = {_num(v)}" for k, v in best.items()) if best else "every cell diverged",
                     _num(s.values[idx]) if idx is not None else "—",
                     f"{_num(rng[0])} … {_num(rng[1])}" if rng else "—"])
    return rows


def _sweep_table(r: Any) -> tuple[list[str], list[list[Any]]]:
    return ["run", "best setting", f"best {r.metric}", "lr range that converged"], _sweep_rows(r.sweeps)


def _sweep_figure(r: Any, **options: Any) -> Any:
    from optviz.plot.maps import sweep_figure

    return sweep_figure(r.sweeps, **options)


def _basins_summary(r: Any) -> str:
    labels = ", ".join(b.label or b.optimizer for b in r.basins)
    g = r.basins[0].labels.shape[0] if r.basins else 0
    return f"{r.objective.name}: {labels}; {g}×{g} starts, {r.steps} steps"


def _basins_table(r: Any) -> tuple[list[str], list[list[Any]]]:
    rows = [[b.label or b.optimizer, "; ".join(f"{k}: {100 * v:.1f}%" for k, v in b.shares().items() if v > 0)]
            for b in r.basins]
    return ["run", "share of starts reaching"], rows


def _basins_figure(r: Any, **options: Any) -> Any:
    from optviz.plot.maps import basins_figure

    return basins_figure(r.basins, **options)


def _tune_summary(r: Any) -> str:
    chosen = ", ".join(f"{k} lr = {_num(v)}" for k, v in r.lrs.items())
    return f"{r.objective.name} by {r.metric}: {chosen}"


def _tune_table(r: Any) -> tuple[list[str], list[list[Any]]]:
    return ["run", "lr", f"{r.metric} there"], [[k, _num(v), row[2]] for (k, v), row in
                                              zip(r.lrs.items(), _sweep_rows(r.sweeps))]


def _tune_figure(r: Any, **options: Any) -> Any:
    from optviz.plot.maps import sweep_figure

    return sweep_figure(r.sweeps, **options)


# ------------------------------------------------------------------ networks
def _train_summary(r: Any) -> str:
    first = r.first
    runs = "; ".join(f"{run.label} {run.status}" for run in first.runs)
    seeds = f", {len(r.results)} seeds" if len(r.results) > 1 else ""
    return f"{first.data_info.get('name') or 'data'}: {runs}{seeds}"


def _train_table(r: Any) -> tuple[list[str], list[list[Any]]]:
    def last(xs: Sequence[float]) -> str:
        return _num(xs[-1]) if len(xs) else "—"

    rows = []
    for res in r.results:
        for run in res.runs:
            rows.append([run.label, res.settings.seed, len(run.train_loss), last(run.train_loss), last(run.val_loss),
                         last(run.val_acc), run.status])
    return ["run", "seed", "epochs", "train loss", "val loss", "val accuracy", "status"], rows


def _train_figure(r: Any, **options: Any) -> Any:
    from optviz.plot.train import curves_figure

    return curves_figure(r.first, **options)


def _landscape_summary(r: Any) -> str:
    planes = sorted({land.plane for land in r.landscapes})
    return f"{', '.join(land.label for land in r.landscapes)}; {', '.join(planes)} plane(s)"


def _landscape_table(r: Any) -> tuple[list[str], list[list[Any]]]:
    rows = [[land.label, land.plane, f"{len(land.betas)}×{len(land.alphas)}", _num(land.origin_loss),
             _num(float(land.loss.min())), _num(float(land.off_plane.max())) if land.off_plane.size else "—"]
            for land in r.landscapes]
    return ["run", "plane", "grid", "loss at θ*", "lowest loss in the plane", "largest distance off the plane"], rows


def _landscape_figure(r: Any, **options: Any) -> Any:
    from optviz.plot.landscape import landscape_figure

    return landscape_figure(r.landscapes, **options)


VIEWS = {
    "RunResult": View(_runs_summary, _runs_table, _runs_figure),
    "SweepReport": View(_sweep_summary, _sweep_table, _sweep_figure),
    "BasinsReport": View(_basins_summary, _basins_table, _basins_figure),
    "TuneReport": View(_tune_summary, _tune_table, _tune_figure),
    "TrainReport": View(_train_summary, _train_table, _train_figure),
    "LandscapeReport": View(_landscape_summary, _landscape_table, _landscape_figure),
}


def _view(result: Any) -> View:
    for cls in type(result).__mro__:
        if cls.__name__ in VIEWS:
            return VIEWS[cls.__name__]
    raise TypeError(f"no notebook view for {type(result).__name__}")
