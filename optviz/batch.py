"""The batched engine of sweeps, basin maps and learning-rate tuning: thousands of runs as one batch.

Every cell of a sweep is one row of a batch: hyperparameters become columns
(C, 1) that broadcast against the points (C, d), so one optimizer's cells run
as a single vectorized computation, recorded in summary mode (final values
and metrics only: memory does not grow with the number of steps).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optviz import budget, validate
from optviz.domain import View, parse_domain
from optviz.errors import OptvizError
from optviz.export import jsonable
from optviz.objective import Objective
from optviz.optim import defaults, make_optimizer, optimizer_class
from optviz.runner import run_optimizer
from optviz.trajectory import CONVERGED, DIVERGED, Trajectory

MAX_CELLS = 10**7
LOG_PARAMS = ("lr", "eps", "damping")
METRICS = ("final-loss", "gap", "steps", "auc")
TUNE_GRID = (1e-5, 10.0, 31)
TUNE_METRICS = ("auc", "final-loss", "steps")


@dataclass(frozen=True)
class Axis:
    """One swept hyperparameter: its name, values and spacing."""

    name: str
    values: np.ndarray
    log: bool


def parse_grid(name: str, spec: str) -> Axis:
    """``LO:HI:N`` (log-spaced for lr, eps and damping, else linear); ``log:``/``lin:`` force one."""
    text = spec.strip()
    log = name in LOG_PARAMS
    if text.startswith(("log:", "lin:")):
        log, text = text.startswith("log:"), text[4:]
    parts = text.split(":")
    if len(parts) == 1:
        try:
            value = float(parts[0])
        except ValueError:
            raise OptvizError(f"{{{name}}} {spec!r}: write a number or a grid LO:HI:N", param=name) from None
        return Axis(name, np.array([value]), log)
    if len(parts) != 3:
        raise OptvizError(f"{{{name}}} grid {spec!r}: write LO:HI:N, e.g. 1e-4:1:41", param=name)
    try:
        lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise OptvizError(f"{{{name}}} grid {spec!r}: LO and HI must be numbers and N a whole number", param=name) from None
    if n < 1:
        raise OptvizError(f"{{{name}}} grid {spec!r} is empty: N must be ≥ 1", param=name)
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi or (lo == hi and n > 1):
        raise OptvizError(f"{{{name}}} grid {spec!r} is reversed or empty: LO must be below HI", param=name)
    if log:
        if lo <= 0:
            raise OptvizError(f"{{{name}}} grid {spec!r}: a log-spaced grid needs LO > 0 (or write lin:{text})", param=name)
        values = np.geomspace(lo, hi, n)
    else:
        values = np.linspace(lo, hi, n)
    return Axis(name, values, log)


@dataclass
class SweepResult:
    """One optimizer's sweep: the metric over the grid, with statuses."""

    objective: Objective
    optimizer: str
    axes: list[Axis]
    metric: str
    values: np.ndarray  # shape (n₁,) or (n₁, n₂)
    status: np.ndarray  # same shape, strings
    final_loss: np.ndarray
    steps: int
    fixed: dict[str, Any] = field(default_factory=dict)
    label: str = ""  # the run's label (its optimizer's name unless a variant was labelled)

    def __repr__(self) -> str:
        grid = " × ".join(f"{a.name} ({len(a.values)})" for a in self.axes)
        return f"<SweepResult {self.label or self.optimizer} on {self.objective.name}: {grid}, {self.metric}>"

    @property
    def best_index(self) -> tuple[int, ...] | None:
        ok = (self.status != DIVERGED) & np.isfinite(self.values)
        if not ok.any():
            return None
        masked = np.where(ok, self.values, np.inf)
        return tuple(int(i) for i in np.unravel_index(np.argmin(masked), masked.shape))

    def best_setting(self) -> dict[str, float] | None:
        idx = self.best_index
        if idx is None:
            return None
        return {ax.name: float(ax.values[i]) for ax, i in zip(self.axes, idx)}

    def best_on_edge(self) -> list[str]:
        """The swept parameters whose best value is the first or last of its grid: the
        optimum may lie outside the grid."""
        idx = self.best_index
        if idx is None:
            return []
        return [ax.name for ax, i in zip(self.axes, idx) if len(ax.values) > 1 and i in (0, len(ax.values) - 1)]

    def converged_lr_range(self) -> tuple[float, float] | None:
        """Smallest and largest lr at which some cell converged (reached --tol)."""
        names = [a.name for a in self.axes]
        if "lr" not in names:
            return None
        i = names.index("lr")
        conv = self.status == CONVERGED
        if conv.ndim > 1:
            conv = conv.any(axis=1 - i)
        lrs = self.axes[i].values[conv]
        return (float(lrs.min()), float(lrs.max())) if lrs.size else None

    def to_json(self) -> dict[str, Any]:
        best = self.best_index
        return {
            "optimizer": self.optimizer,
            "label": self.label or self.optimizer,
            "metric": self.metric,
            "grid": {ax.name: ax.values.tolist() for ax in self.axes},
            "shape": list(self.values.shape),
            "values": jsonable(self.values.astype(float)),
            "status": self.status.tolist(),
            "best": None if best is None else {"index": list(best), "setting": self.best_setting(),
                                               "value": float(self.values[best]), "on_edge": self.best_on_edge()},
            "converged_lr_range": self.converged_lr_range(),
            "fixed": self.fixed,
        }


def metric_values(traj: Trajectory, metric: str) -> np.ndarray:
    """Per-point metric of a run (lower is better)."""
    if metric == "final-loss":
        return traj.final_loss.copy()
    if metric == "gap":
        f_star = traj.objective.reference_value  # the listed minimum, or the lowest found
        if f_star is None:
            raise OptvizError(f"{{metric=gap}} needs a known minimum, and {traj.objective.name} has none listed "
                               "or found; use {metric=final-loss}", param="metric")
        return traj.final_loss - f_star
    if metric == "steps":
        return traj.metrics["steps_to_tol"].astype(float)
    if metric == "auc":
        return traj.metrics["auc"].copy()
    raise OptvizError(f"unknown {{metric}} {metric!r}; choose from {', '.join(METRICS)}", param="metric")


def _uninterrupted(traj: Trajectory) -> Trajectory:
    """A grid is whole or nothing: Ctrl-C inside its one batched run ends the command.

    The runner keeps an interrupted run's completed steps (for ``run``, where they are a
    path); a sweep or basin map cut short would colour unfinished cells as results.
    """
    if any(s == "interrupted" for s in traj.status):
        raise KeyboardInterrupt
    return traj


def _check_cells(n: int, force: bool) -> None:
    if n > MAX_CELLS and not force:
        raise OptvizError(f"{n:,} cells is more than {MAX_CELLS:,}; pass {{force=True}} to run them anyway", param="force")


def sweep(objective: Objective, optimizer: str, axes: list[Axis], *, start, steps: int, tol: float = 1e-6,
          metric: str = "final-loss", schedule: str | None = None, oracle_factory=None, fixed=None,
          force: bool = False) -> SweepResult:
    """Run every cell of the grid ``axes`` (one or two) as one batch."""
    if metric not in METRICS:
        raise OptvizError(f"unknown {{metric}} {metric!r}; choose from {', '.join(METRICS)}", param="metric")
    if not 1 <= len(axes) <= 2:
        raise OptvizError("a sweep takes one or two grid axes (e.g. {lr=1e-4:1:41} with beta=0:0.99:34)", param="lr")
    if len({a.name for a in axes}) != len(axes):
        raise OptvizError("the two grid axes must be different parameters")
    known = ["lr", *defaults(optimizer)]
    for ax in axes:
        if ax.name not in known:
            raise OptvizError(f"{optimizer} has no parameter {ax.name!r}; its parameters are {', '.join(known)}")
    shape = tuple(len(a.values) for a in axes)
    n = int(np.prod(shape))
    _check_cells(n, force)
    mesh = np.meshgrid(*[a.values for a in axes], indexing="ij")
    hyper = dict(fixed or {})
    for ax, grid in zip(axes, mesh):
        hyper[ax.name] = grid.reshape(-1, 1)
    if "lr" not in hyper:
        raise OptvizError("a sweep needs the learning rate: a grid ({lr=1e-4:1:41}) or one value", param="lr")
    lr = hyper.pop("lr")
    if "nesterov" in hyper or "bias_correction" in hyper:
        for key in ("nesterov", "bias_correction"):
            if key in hyper and np.ndim(hyper[key]):
                raise OptvizError(f"{key} is true or false; it cannot be swept")
    opt = make_optimizer(optimizer, lr=lr, schedule=schedule, **hyper)
    start = np.asarray(start, dtype=float).reshape(1, -1)
    X = np.repeat(start, n, axis=0)
    oracle = oracle_factory(optimizer) if oracle_factory else None
    traj = _uninterrupted(run_optimizer(objective, opt, X, steps=steps, tol=tol, oracle=oracle, mode="summary",
                                        metrics_every_step=metric == "auc"))
    values = metric_values(traj, metric)
    status = np.array(traj.status, dtype=object)
    values[status == DIVERGED] = np.inf if metric != "steps" else np.nan
    return SweepResult(objective, optimizer, list(axes), metric, values.reshape(shape),
                       status.reshape(shape), traj.final_loss.reshape(shape), steps,
                       {k: v for k, v in (fixed or {}).items() if np.ndim(v) == 0})


# -- basins ---------------------------------------------------------------------------------

NOT_CONVERGED, DIVERGED_CODE = -1, -2


@dataclass
class BasinResult:
    """Which minimum each start of a grid reaches, per optimizer."""

    objective: Objective
    optimizer: str
    xs: np.ndarray
    ys: np.ndarray
    labels: np.ndarray  # (G, G) int: minimum index, -1 not converged, -2 diverged
    final_loss: np.ndarray  # (G, G)
    radius: float
    lr: float
    label: str = ""

    def __repr__(self) -> str:
        g = self.labels.shape[0]
        return f"<BasinResult {self.label or self.optimizer} on {self.objective.name}: {g}×{g} starts, lr {self.lr:g}>"

    def shares(self) -> dict[str, float]:
        total = self.labels.size
        out = {}
        for i, m in enumerate(self.objective.minima):
            out[f"minimum {i + 1} {tuple(round(v, 4) for v in m.point)}"] = float((self.labels == i).sum() / total)
        out["not converged"] = float((self.labels == NOT_CONVERGED).sum() / total)
        out["diverged"] = float((self.labels == DIVERGED_CODE).sum() / total)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "optimizer": self.optimizer,
            "label": self.label or self.optimizer,
            "lr": self.lr,
            "grid": {"x": self.xs.tolist(), "y": self.ys.tolist()},
            "minima": [list(m.point) for m in self.objective.minima],
            "labels": self.labels.tolist(),
            "final_loss": jsonable(self.final_loss.astype(float)),
            "radius": self.radius,
            "shares": self.shares(),
        }


def basin_radius(objective: Objective, domain) -> float:
    """A point "reaches" a minimum when it ends within this distance of it:
    a fifth of the closest pair of minima's distance, at most 2% of the domain's diagonal."""
    diag = float(np.hypot(*[hi - lo for lo, hi in domain]))
    r = 0.02 * diag
    M = np.array([m.point for m in objective.minima])
    if len(M) > 1:
        d = np.linalg.norm(M[:, None] - M[None], axis=-1)
        d[d == 0] = np.inf
        r = min(r, d.min() / 5)
    return r


def basins(objective: Objective, optimizer: str, *, lr: float, grid: int, steps: int, tol: float = 1e-6,
           domain=None, hyper=None, schedule=None, oracle_factory=None) -> BasinResult:
    if objective.dim != 2:
        raise OptvizError(f"basins needs a function of 2 variables; {objective.name} has {objective.dim}")
    grid = validate.whole("grid", grid, 2)
    slots = len(optimizer_class(optimizer).State._fields) - 1
    budget.fits(f"{grid}² = {grid * grid:,} starts", grid * grid * objective.dim * 8 * (slots + 10), "grid",
                "choose a smaller grid")
    domain = View(parse_domain(domain)).ranges(2, objective.name) if domain is not None else objective.default_domain()
    xs = np.linspace(*domain[0], grid)
    ys = np.linspace(*domain[1], grid)
    XX, YY = np.meshgrid(xs, ys, indexing="xy")
    X = np.column_stack([XX.ravel(), YY.ravel()])
    opt = make_optimizer(optimizer, lr=lr, schedule=schedule, **(hyper or {}))
    oracle = oracle_factory(optimizer) if oracle_factory else None
    traj = _uninterrupted(run_optimizer(objective, opt, X, steps=steps, tol=tol, oracle=oracle, mode="summary"))
    radius = basin_radius(objective, domain) if objective.minima else 0.0
    labels = np.full(len(X), NOT_CONVERGED)
    if objective.minima:
        idx, dist = objective.nearest_minimum(traj.final_theta)
        labels = np.where(dist <= radius, idx, NOT_CONVERGED)
    status = np.array(traj.status, dtype=object)
    labels[status == DIVERGED] = DIVERGED_CODE
    return BasinResult(objective, optimizer, xs, ys, labels.reshape(grid, grid),
                       traj.final_loss.reshape(grid, grid), radius, float(lr))


# -- tuning ---------------------------------------------------------------------------------

def tune_lr(objective: Objective, optimizer: str, *, start, steps: int, tol: float = 1e-6,
            metric: str = "auc", hyper=None, schedule=None, oracle_factory=None,
            grid: tuple[float, float, int] = TUNE_GRID) -> tuple[float, SweepResult]:
    """The lr of the log grid ``grid`` that minimizes ``metric`` from ``start``, as one batched sweep.

    ``auc`` (default): the mean of log10(f − f*) (of f where f* is unknown) over
    all the steps, which rewards getting low early and staying low, not a
    lucky last step; ``final-loss``; ``steps``: steps to reach --tol (ties and
    never-reached broken by final loss). Diverged cells never win.
    """
    tune_metric = metric if metric in TUNE_METRICS else None
    if tune_metric is None:
        raise OptvizError(f"unknown {{tune_metric}} {metric!r}; choose from auc, final-loss, steps", param="tune_metric")
    axis = Axis("lr", np.geomspace(*grid[:2], grid[2]), True)
    result = sweep(objective, optimizer, [axis], start=start, steps=steps, tol=tol, metric=tune_metric,
                   schedule=schedule, oracle_factory=oracle_factory, fixed=hyper)
    values = result.values.astype(float)
    ok = result.status != DIVERGED
    if tune_metric == "steps":
        steps_v = np.where(np.isfinite(values), values, np.inf)
        order = np.lexsort((np.where(ok, result.final_loss, np.inf), np.where(ok, steps_v, np.inf)))
        best = int(order[0])
    else:
        masked = np.where(ok & np.isfinite(values), values, np.inf)
        best = int(np.argmin(masked))
    if not ok[best]:
        raise OptvizError(f"{{tune}}: {optimizer} diverged at every lr from {grid[0]:g} to {grid[1]:g}", param="tune")
    return float(axis.values[best]), result
