"""Optimizers on a function: :func:`run` and :func:`compare`.

>>> import optviz
>>> result = optviz.run("rosenbrock", "adam,momentum", steps=300)
>>> result.runs[0].final_loss
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from optviz import validate
from optviz.batch import TUNE_GRID, tune_lr
from optviz.errors import OptvizError
from optviz.objective import Objective
from optviz.optim import FIRST_ORDER, as_optimizer, make_optimizer, optimizer_class
from optviz.runner import run_optimizer
from optviz.settings import (
    make_oracle,
    optimizer_names,
    optimizer_settings,
    oracle_factory,
    parse_params,
    parse_starts,
    resolve_function,
    scoped_params,
)
from optviz.trajectory import Trajectory

SORT_KEYS = ("gap", "f", "distance", "steps")


@dataclass
class RunResult:
    """The runs of one command: one :class:`Trajectory` per optimizer."""

    objective: Objective
    runs: list[Trajectory]

    def to_json(self) -> dict[str, Any]:
        return {
            "function": self.objective.name,
            "variables": list(self.objective.variables),
            "runs": [entry for traj in self.runs for entry in traj.to_runs()],
        }


@dataclass
class CompareResult(RunResult):
    """A :class:`RunResult` to be ranked: best first by ``sort`` (``gap``, ``f``,
    ``distance`` or ``steps`` to reach ``tol``), diverged runs last."""

    sort: str = "gap"
    tol: float = 1e-6


def check_oracle_options(objective: Objective, noise, batch_size) -> None:
    """The gradient-noise settings of sgd and minibatch, before any work."""
    if noise is not None:
        validate.non_negative("noise", noise)
    if batch_size is None:
        return
    validate.whole("batch_size", batch_size)
    if objective.finite_sum is None and noise is None:
        raise OptvizError(
            f"{{batch_size}} needs samples, and {objective.name} is a plain function: add {{noise}} SIGMA "
            "to simulate minibatch noise, or use a finite-sum function (least_squares, logistic)",
            param="batch_size", names=("noise",))
    if objective.finite_sum is not None and batch_size > objective.finite_sum.n:
        raise OptvizError(f"{{batch_size}} {batch_size} is larger than the {objective.finite_sum.n} samples "
                          f"of {objective.name}", param="batch_size")


@dataclass
class _Plan:
    """One optimizer of a run, its settings checked before any work."""

    name: str
    lr: Any
    hyper: dict[str, Any]


def _plans(objective: Objective, names: list[str], params, lr, schedule, start, tune: bool) -> list[_Plan]:
    per_opt = scoped_params(parse_params(params), names)
    plans = []
    for name in names:
        if not isinstance(name, str):  # an optimizer object carries its own settings
            if tune:
                raise OptvizError(f"{{tune}} needs optimizers by name; {as_optimizer(name).name} is an object "
                                  "with its own learning rate", param="tune")
            make_optimizer(name, lr=lr, schedule=schedule, **per_opt[name])  # refuses settings for it
            plans.append(_Plan(name, None, {}))
            continue
        chosen_lr, hyper = optimizer_settings(objective, name, per_opt[name], lr=lr, start=start)
        make_optimizer(name, lr=1.0 if tune else chosen_lr, schedule=schedule, **hyper)  # refuse bad settings now
        plans.append(_Plan(name, chosen_lr, hyper))
    return plans


def run(
    fn: str | Objective = "rosenbrock",
    opt: str | Iterable[str] = "adam",
    *,
    lr: float | None = None,
    start=None,
    steps: int | None = None,
    tol: float = 1e-6,
    schedule: str | None = None,
    noise: float | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    bound: float | None = None,
    params: Mapping[str, Any] | Iterable[str] | None = None,
    mode: str = "full",
    tune: bool = False,
    tune_metric: str = "auc",
    seeds: int = 1,
) -> RunResult:
    """Run one or several optimizers on a function from the same start point(s).

    ``fn``: a library name, a formula or a path to a function file (or an
    :class:`Objective`). ``opt``: names, comma-separated or a list. ``lr``:
    one rate for all, else each optimizer's suggested rate for ``fn``.
    ``start``: a point or a (K, d) batch of points. ``params``: extra
    hyperparameters by keyword name (``{"beta": 0.5}`` for every optimizer that
    has it, ``{"adam.beta1": 0.8}`` for one; or ``["beta=0.5"]``). ``schedule``:
    e.g. ``"exp:0.99"``. ``noise``/``batch_size``: the gradient oracle of SGD and
    minibatch SGD. ``tune``: choose each optimizer's lr on a log grid
    (1e-5 to 10, 31 points, one batched sweep from the first start) by
    ``tune_metric`` (auc, final-loss or steps). ``seeds``: run the stochastic
    optimizers with seeds seed, seed+1, ... as one batch. Returns a :class:`RunResult`.
    """
    objective = resolve_function(fn)
    names = optimizer_names(opt)
    X = parse_starts(objective, start)
    steps = objective.steps if steps is None else steps
    check_oracle_options(objective, noise, batch_size)
    seeds = validate.whole("seeds", seeds)
    if tune and lr is not None:
        raise OptvizError("{tune} chooses the learning rate itself: give {tune} or {lr}, not both",
                          param="tune", names=("lr",))
    runs = []
    for plan in _plans(objective, names, params, lr, schedule, X[0], tune):
        runs.append(_run_one(objective, plan, X, steps=steps, tol=tol, schedule=schedule, noise=noise,
                             batch_size=batch_size, seed=seed, bound=bound, mode=mode,
                             tune_metric=tune_metric if tune else None, seeds=seeds))
    return RunResult(objective, runs)


def _run_one(objective: Objective, plan: _Plan, X: np.ndarray, *, steps, tol, schedule, noise, batch_size, seed,
             bound, mode, tune_metric, seeds) -> Trajectory:
    chosen_lr, tuned = plan.lr, None
    if tune_metric is not None:
        chosen_lr, _ = tune_lr(objective, plan.name, start=X[0], steps=steps, tol=tol, metric=tune_metric,
                               hyper=plan.hyper, schedule=schedule,
                               oracle_factory=oracle_factory(objective, noise, batch_size, seed))
        tuned = {"metric": tune_metric, "lr": chosen_lr, "grid": list(TUNE_GRID)}
    optimizer = make_optimizer(plan.name, lr=chosen_lr, schedule=schedule, **plan.hyper)
    stochastic = optimizer_class(plan.name).oracle != "exact"
    group_seeds = [seed + i for i in range(seeds)] if stochastic and seeds > 1 else None
    starts = np.tile(X, (len(group_seeds), 1)) if group_seeds else X
    oracle = make_oracle(objective, plan.name, noise, batch_size, group_seeds or seed,
                         explicit_noise=noise is not None)
    label = f"{plan.name} (tuned)" if tuned else optimizer.name
    traj = run_optimizer(objective, optimizer, starts, steps=steps, tol=tol, oracle=oracle, bound=bound, mode=mode,
                         label=label)
    return dataclasses.replace(traj, seeds=tuple(group_seeds or ()), tuned=tuned)


def compare(fn: str | Objective = "rosenbrock", opt: str | Iterable[str] | None = None, *, sort: str = "gap",
            **options: Any) -> CompareResult:
    """Run optimizers from the same start to rank them: :func:`run` with every
    first-order optimizer by default; ``sort`` orders the ranking (``gap``: f − f*,
    or f where f* is unknown; ``f``; ``distance`` to the nearest minimum; ``steps`` to
    reach ``tol``). Takes the keyword options of :func:`run`."""
    validate.one_of("sort", sort, SORT_KEYS)
    result = run(fn, ",".join(FIRST_ORDER) if opt is None else opt, **options)
    return CompareResult(result.objective, result.runs, sort=sort, tol=options.get("tol", 1e-6))
