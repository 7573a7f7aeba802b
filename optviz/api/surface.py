"""Optimizers on a function: :func:`run` and :func:`compare`.

>>> import optviz
>>> result = optviz.run("rosenbrock", "adam,momentum", steps=300)
>>> result.runs[0].final_loss
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optviz import budget, validate
from optviz.batch import TUNE_GRID, tune_lr
from optviz.critical import CriticalPoint
from optviz.errors import OptvizError
from optviz.notebook import ShowsRuns
from optviz.objective import Objective
from optviz.optim import FIRST_ORDER, make_optimizer, optimizer_class
from optviz.runner import run_optimizer
from optviz.settings import (
    make_oracle,
    optimizer_settings,
    oracle_factory,
    parse_params,
    parse_starts,
    resolve_function,
    scoped_params,
)
from optviz.status import Status
from optviz.trajectory import Trajectory
from optviz.variants import Variant, parse_variants

SORT_KEYS = ("gap", "f", "distance", "steps")


@dataclass
class RunResult(ShowsRuns):
    """The runs of one command: one :class:`Trajectory` per optimizer, and the run's
    ``settings`` (steps, tol, seed, noise, batch_size). In a notebook it shows a table
    and its figure; ``plot()`` returns the figure, ``explore()`` the explorable page."""

    objective: Objective
    runs: list[Trajectory]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def interrupted(self) -> bool:
        """Whether Ctrl-C stopped a run (the runs after it were not started)."""
        return any(Status.INTERRUPTED in traj.status for traj in self.runs)

    @property
    def critical_points(self) -> list[CriticalPoint]:
        """The function's stationary points (1-D and 2-D functions), minima first."""
        return self.objective.critical_points()

    def to_json(self) -> dict[str, Any]:
        return {
            "function": self.objective.name,
            "variables": list(self.objective.variables),
            "critical_points": [p.to_json() for p in self.critical_points],
            "runs": [entry for traj in self.runs for entry in traj.to_runs()],
        }


@dataclass
class CompareResult(RunResult):
    """A :class:`RunResult` to be ranked: best first by ``sort`` (``gap``, ``f``,
    ``distance`` or ``steps`` to reach ``tol``), diverged runs last."""

    sort: str = "gap"
    tol: float = 1e-6


def check_oracle_options(objective: Objective, noise, batch_size, seed: int = 0) -> None:
    """The gradient-noise settings of sgd and minibatch, before any work."""
    validate.whole("seed", seed, 0, 2**63 - 1)
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
class Plan:
    """One run of a command: its variant (optimizer, label, own settings), its learning rate,
    hyperparameters and schedule, checked before any work."""

    variant: Variant
    lr: Any
    hyper: dict[str, Any]
    schedule: Any


def plans(objective: Objective, opt, params, lr, schedule, start, *, tune: bool = False) -> list[Plan]:
    """The runs ``opt`` asks for with their settings: a variant's own settings first, then
    ``params`` (by optimizer or label), then ``lr``/``schedule``, then the function's suggestions."""
    variants = parse_variants(opt)
    per = scoped_params(parse_params(params), variants)
    out = []
    for v in variants:
        overrides = {**per[v.label], **{k: x for k, x in v.settings.items() if k != "label"}}
        if tune and "lr" in overrides:
            raise OptvizError(f"{{tune}} chooses the learning rate itself, and {v.label} sets lr", param="tune")
        chosen_lr, hyper = optimizer_settings(objective, v.name, overrides, lr=lr, start=start)
        own_schedule = hyper.pop("schedule", schedule)
        make_optimizer(v.name, lr=1.0 if tune else chosen_lr, schedule=own_schedule, **hyper)  # refuse bad settings now
        out.append(Plan(v, chosen_lr, hyper, own_schedule))
    return out


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
    progress=None,
) -> RunResult:
    """Run one or several optimizers on a function from the same start point(s).

    ``fn``: a library name, a formula or a path to a function file (or an
    :class:`Objective`). ``opt``: names, comma-separated or a list, each optionally with
    its own settings and label: ``"sgd, sgd(schedule=inverse:0.01, label=decayed)"``
    (see :mod:`optviz.variants`); one run per item. ``lr``:
    one rate for all, else each optimizer's suggested rate for ``fn``.
    ``start``: a point or a (K, d) batch of points. ``params``: extra
    hyperparameters by keyword name (``{"beta": 0.5}`` for every optimizer that
    has it, ``{"adam.beta1": 0.8}`` for one; or ``["beta=0.5"]``). ``schedule``:
    e.g. ``"exp:0.99"``. ``noise``/``batch_size``: the gradient oracle of SGD and
    minibatch SGD. ``tune``: choose each optimizer's lr on a log grid
    (1e-5 to 10, 31 points, one batched sweep from the first start) by
    ``tune_metric`` (auc, final-loss or steps). ``seeds``: run the stochastic
    optimizers with seeds seed, seed+1, ... as one batch. ``progress(label, step, steps)``
    reports long runs. Ctrl-C stops the run in progress after its last completed step
    (status ``interrupted``) and returns what was computed. Returns a :class:`RunResult`.
    """
    objective = resolve_function(fn)
    X = parse_starts(objective, start)
    steps = objective.steps if steps is None else steps
    check_oracle_options(objective, noise, batch_size, seed)
    seeds = validate.whole("seeds", seeds)
    budget.fits(f"{len(X)} start(s) × {seeds} seeds", len(X) * seeds * objective.dim * 8 * 4096, "seeds",
                "each seed is a path kept step by step: use fewer seeds (or a sweep, which keeps no paths)")
    if tune and lr is not None:
        raise OptvizError("{tune} chooses the learning rate itself: give {tune} or {lr}, not both",
                          param="tune", names=("lr",))
    runs: list[Trajectory] = []
    for plan in plans(objective, opt, params, lr, schedule, X[0], tune=tune):
        report = None if progress is None else (lambda t, total, label=plan.variant.label: progress(label, t, total))
        runs.append(_run_one(objective, plan, X, steps=steps, tol=tol, noise=noise, batch_size=batch_size,
                             seed=seed, bound=bound, mode=mode, tune_metric=tune_metric if tune else None,
                             seeds=seeds, progress=report))
        if Status.INTERRUPTED in runs[-1].status:
            break
    return RunResult(objective, runs, {"steps": steps, "tol": tol, "seed": seed, "noise": noise,
                                       "batch_size": batch_size})


def _run_one(objective: Objective, plan: Plan, X: np.ndarray, *, steps, tol, noise, batch_size, seed, bound, mode,
             tune_metric, seeds, progress=None) -> Trajectory:
    name = plan.variant.name
    chosen_lr, tuned = plan.lr, None
    if tune_metric is not None:
        chosen_lr, _ = tune_lr(objective, name, start=X[0], steps=steps, tol=tol, metric=tune_metric,
                               hyper=plan.hyper, schedule=plan.schedule,
                               oracle_factory=oracle_factory(objective, noise, batch_size, seed))
        tuned = {"metric": tune_metric, "lr": chosen_lr, "grid": list(TUNE_GRID)}
    optimizer = make_optimizer(name, lr=chosen_lr, schedule=plan.schedule, **plan.hyper)
    stochastic = optimizer_class(name).oracle != "exact"
    group_seeds = [seed + i for i in range(seeds)] if stochastic and seeds > 1 else None
    starts = np.tile(X, (len(group_seeds), 1)) if group_seeds else X
    oracle = make_oracle(objective, name, noise, batch_size, group_seeds or seed, explicit_noise=noise is not None)
    label = f"{plan.variant.label} (tuned)" if tuned else plan.variant.label
    traj = run_optimizer(objective, optimizer, starts, steps=steps, tol=tol, oracle=oracle, bound=bound, mode=mode,
                         label=label, progress=progress)
    return dataclasses.replace(traj, seeds=tuple(group_seeds or ()), tuned=tuned)


def compare(fn: str | Objective = "rosenbrock", opt: str | Iterable[str] | None = None, *, sort: str = "gap",
            **options: Any) -> CompareResult:
    """Run optimizers from the same start to rank them: :func:`run` with every
    first-order optimizer by default; ``sort`` orders the ranking (``gap``: f − f*,
    or f where f* is unknown; ``f``; ``distance`` to the nearest minimum; ``steps`` to
    reach ``tol``). Takes the keyword options of :func:`run`."""
    validate.one_of("sort", sort, SORT_KEYS)
    result = run(fn, ",".join(FIRST_ORDER) if opt is None else opt, **options)
    return CompareResult(result.objective, result.runs, result.settings, sort=sort, tol=options.get("tol", 1e-6))
