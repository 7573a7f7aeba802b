"""Many runs as one batch: :func:`sweep`, :func:`basins` and :func:`tune`.

Each optimizer's cells (settings, or start points) run as one vectorized computation
in summary mode (see :mod:`optviz.batch`, the engine these orchestrate).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optviz import validate
from optviz.api.surface import check_oracle_options, plans
from optviz.batch import (
    TUNE_GRID,
    TUNE_METRICS,
    Axis,
    BasinResult,
    SweepResult,
    parse_grid,
    tune_lr,
)
from optviz.batch import basins as basin_map
from optviz.batch import sweep as sweep_grid
from optviz.domain import View
from optviz.errors import OptvizError
from optviz.notebook import Shows
from optviz.objective import Objective
from optviz.optim import defaults
from optviz.settings import (
    optimizer_settings,
    oracle_factory,
    parse_params,
    parse_starts,
    resolve_function,
)
from optviz.variants import parse_variants

Progress = Callable[[int, int, str], None]


@dataclass
class SweepReport(Shows):
    """Every optimizer's sweep over the same grid, from the same start."""

    objective: Objective
    start: np.ndarray
    steps: int
    metric: str
    sweeps: list[SweepResult]
    tol: float = 1e-6

    def to_json(self) -> dict[str, Any]:
        return {"function": self.objective.name, "start": self.start.tolist(), "steps": self.steps,
                "metric": self.metric, "sweeps": [r.to_json() for r in self.sweeps]}


@dataclass
class BasinsReport(Shows):
    """Where each start of a grid ends up, per optimizer."""

    objective: Objective
    steps: int
    basins: list[BasinResult]

    def to_json(self) -> dict[str, Any]:
        return {"function": self.objective.name, "steps": self.steps, "basins": [r.to_json() for r in self.basins]}


@dataclass
class TuneReport(Shows):
    """The learning rate :func:`tune` chose for each optimizer, with the sweep it chose from."""

    objective: Objective
    metric: str
    lrs: dict[str, float]
    sweeps: list[SweepResult] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"function": self.objective.name, "metric": self.metric, "grid": list(TUNE_GRID),
                "lr": dict(self.lrs), "sweeps": [r.to_json() for r in self.sweeps]}


def sweep_axes(names: list[str], lr: str | float, params: Mapping[str, Any]) -> tuple[list[Axis], dict[str, Any]]:
    """The grid axes (``lr`` and at most one more parameter) and the fixed values of a sweep."""
    grids, fixed = [parse_grid("lr", str(lr))], {}
    for name, value in params.items():
        if name == "lr":
            raise OptvizError("the learning rate is set or swept with {lr} (e.g. {lr=1e-4:1:41}), not with "
                              "{params}", param="params", names=("lr",))
        text = str(value)
        axis = parse_grid(name, text) if ":" in text else None
        if axis is not None and len(axis.values) > 1:
            grids.append(axis)
        else:
            fixed[name] = value
        for opt in names:
            if name not in defaults(opt):
                raise OptvizError(f"{opt} has no parameter {name!r}; its parameters are "
                                  f"{', '.join(['lr', *defaults(opt)])}", param="params")
    axes = [a for a in grids if len(a.values) > 1] or grids[:1]
    if len(axes) > 2:
        raise OptvizError("a sweep takes at most two grids (e.g. {lr=1e-4:1:41} with beta=0:0.99:34)",
                          param="lr")
    if grids[0] not in axes:
        fixed["lr"] = float(grids[0].values[0])
    return axes, fixed


def sweep(fn: str | Objective = "rosenbrock", opt: str | Iterable[str] = "gd,momentum,adam", *,
          lr: str | float = "1e-4:1:41", params: Mapping[str, Any] | Iterable[str] | None = None, start=None,
          steps: int | None = None, tol: float = 1e-6, metric: str = "final-loss", schedule: str | None = None,
          noise: float | None = None, batch_size: int | None = None, seed: int = 0,
          force: bool = False, progress: Progress | None = None) -> SweepReport:
    """Sweep learning rates (and one more hyperparameter) for each optimizer.

    ``lr``: a grid ``"LO:HI:N"`` (log-spaced) or one value when another parameter is
    swept; ``params``: ``{"beta": "0:0.99:34"}`` sweeps a second parameter (linear;
    ``log:``/``lin:`` prefixes choose), ``{"beta": 0.5}`` fixes one. ``metric``:
    final-loss, gap (f − f*), steps (to reach ``tol``) or auc (mean log gap over the
    run). More than 10⁷ cells need ``force``. ``progress(done, total, label)`` is called
    before each optimizer's batch and once at the end. Returns a :class:`SweepReport`.
    """
    objective = resolve_function(fn)
    variants = parse_variants(opt)
    axes, fixed = sweep_axes([v.name for v in variants], lr, parse_params(params))
    X = parse_starts(objective, start)
    steps = objective.steps if steps is None else steps
    check_oracle_options(objective, noise, batch_size, seed)
    oracles = oracle_factory(objective, noise, batch_size, seed)
    results = []
    for i, v in enumerate(variants):
        if progress is not None:
            progress(i, len(variants), v.label)
        _, hyper = optimizer_settings(objective, v.name)
        hyper.update(fixed)  # the grid's fixed values, lr included, win over suggestions
        hyper.update({k: x for k, x in v.settings.items() if k != "label"})
        if "lr" in v.settings and any(a.name == "lr" for a in axes):
            raise OptvizError(f"{{lr}} is swept, and {v.label} sets its own lr", param="lr")
        own_schedule = hyper.pop("schedule", schedule)
        result = sweep_grid(objective, v.name, axes, start=X[0], steps=steps, tol=tol, metric=metric,
                            schedule=own_schedule, oracle_factory=oracles, fixed=hyper, force=force)
        results.append(dataclasses.replace(result, label=v.label))
    if progress is not None:
        progress(len(variants), len(variants), "")
    return SweepReport(objective, X[0], steps, metric, results, tol)


def basins(fn: str | Objective = "himmelblau", opt: str | Iterable[str] = "gd,momentum,adam", *,
           lr: float | None = None, params: Mapping[str, Any] | Iterable[str] | None = None, grid: int = 250,
           steps: int | None = None, tol: float = 1e-6, schedule: str | None = None, noise: float | None = None,
           batch_size: int | None = None, seed: int = 0, domain=None,
           progress: Progress | None = None) -> BasinsReport:
    """Basins of attraction: from each of ``grid`` × ``grid`` starts over ``domain``
    (``"x0:x1,y0:y1"`` or two (lo, hi) pairs; default the function's domain), which
    minimum does each optimizer reach? ``progress(done, total, label)`` is called before
    each optimizer's batch and once at the end. Returns a :class:`BasinsReport`."""
    objective = resolve_function(fn)
    box = View.parse(domain).ranges(objective.dim, objective.name) if domain is not None else None
    steps = objective.steps if steps is None else steps
    check_oracle_options(objective, noise, batch_size, seed)
    oracles = oracle_factory(objective, noise, batch_size, seed)
    results = []
    chosen = plans(objective, opt, params, lr, schedule, objective.default_start())
    for i, plan in enumerate(chosen):
        if progress is not None:
            progress(i, len(chosen), plan.variant.label)
        result = basin_map(objective, plan.variant.name, lr=plan.lr, grid=grid, steps=steps, tol=tol, domain=box,
                           hyper=plan.hyper, schedule=plan.schedule, oracle_factory=oracles)
        results.append(dataclasses.replace(result, label=plan.variant.label))
    if progress is not None:
        progress(len(chosen), len(chosen), "")
    return BasinsReport(objective, steps, results)


def tune(fn: str | Objective = "rosenbrock", opt: str | Iterable[str] = "adam", *, metric: str = "auc",
         start=None, steps: int | None = None, tol: float = 1e-6,
         params: Mapping[str, Any] | Iterable[str] | None = None, schedule: str | None = None,
         noise: float | None = None, batch_size: int | None = None, seed: int = 0) -> TuneReport:
    """Each optimizer's learning rate on a log grid (1e-5 to 10, 31 points, one batched
    sweep from the first start) by ``metric``: auc (mean log10(f − f*) over the run),
    final-loss or steps. Returns a :class:`TuneReport`; ``run(..., tune=True)`` runs with them."""
    validate.one_of("metric", metric, TUNE_METRICS)
    objective = resolve_function(fn)
    X = parse_starts(objective, start)
    steps = objective.steps if steps is None else steps
    check_oracle_options(objective, noise, batch_size, seed)
    oracles = oracle_factory(objective, noise, batch_size, seed)
    lrs, sweeps = {}, []
    for plan in plans(objective, opt, params, None, schedule, X[0], tune=True):
        label = plan.variant.label
        lrs[label], result = tune_lr(objective, plan.variant.name, start=X[0], steps=steps, tol=tol, metric=metric,
                                     hyper=plan.hyper, schedule=plan.schedule, oracle_factory=oracles)
        sweeps.append(dataclasses.replace(result, label=label))
    return TuneReport(objective, metric, lrs, sweeps)
