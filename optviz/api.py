"""The Python API, mirroring ``optviz run``.

>>> import optviz
>>> result = optviz.run("rosenbrock", "adam,momentum", steps=300)
>>> result.runs[0].final_loss
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from optviz.errors import OptvizError
from optviz.objective import Objective
from optviz.optim import STOCHASTIC, defaults, make_optimizer, optimizer_class
from optviz.optim.schedules import parse_schedule
from optviz.oracles import ExactOracle, NoisyOracle, SampleOracle
from optviz.runner import run_optimizer
from optviz.trajectory import Trajectory

DEFAULT_NOISE = 1.0
DEFAULT_BATCH = 10


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


def resolve_function(fn: str | Objective) -> Objective:
    if isinstance(fn, Objective):
        return fn
    from optviz.library import load_function

    return load_function(fn)


def optimizer_names(opt: str | Iterable[str]) -> list[str]:
    names = [s.strip() for s in opt.split(",")] if isinstance(opt, str) else [str(s).strip() for s in opt]
    names = [n for n in names if n]
    if not names:
        raise OptvizError("no optimizer given; choose from gd, sgd, minibatch, momentum, nesterov, adagrad, rmsprop, adam, newton")
    out = []
    for n in names:
        canonical = optimizer_class(n).name
        if canonical in out:
            raise OptvizError(f"optimizer {canonical!r} is listed twice")
        out.append(canonical)
    return out


def default_domain(objective: Objective) -> tuple[tuple[float, float], ...]:
    return objective.domain or tuple((-3.0, 3.0) for _ in range(objective.dim))


def default_start(objective: Objective) -> np.ndarray:
    if objective.start is not None:
        return np.array(objective.start, dtype=float)
    # Off the axes, where symmetric formulas are least special.
    pattern = [-2.5, 2.0, 1.5, -1.0]
    return np.array([pattern[i % 4] for i in range(objective.dim)], dtype=float)


def estimated_lr(objective: Objective, name: str, start: np.ndarray) -> float:
    """A learning rate for a function without suggestions, from its curvature at the start.

    Gradient methods take 0.5/L with L the largest |eigenvalue| of the
    Hessian at the start (momentum methods a tenth of that, since they
    accumulate about 1/(1−β) steps); adaptive methods move about 1/20 of the
    domain's width per step; Newton takes its full step.
    """
    if name == "newton":
        return 1.0
    (lo, hi) = default_domain(objective)[0]
    width = hi - lo
    if name in ("adam", "rmsprop"):
        return 0.05 * width / 2
    if name == "adagrad":
        return 0.25 * width
    with np.errstate(all="ignore"):
        H = objective.hess(start[None])[0]
        L = float(np.max(np.abs(np.linalg.eigvalsh(H)))) if np.all(np.isfinite(H)) else 1.0
    lr = 0.5 / max(L, 1e-3)
    return min(lr * (0.1 if name in ("momentum", "nesterov") else 1.0), 1.0)


def _scoped_params(params: Mapping[str, Any], names: list[str]) -> dict[str, dict[str, Any]]:
    """Split ``{"beta": 0.5, "adam.beta1": 0.8}`` by optimizer; a bare name goes to
    every listed optimizer that has it."""
    per = {n: {} for n in names}
    for key, value in params.items():
        if "." in key:
            opt, _, pname = key.partition(".")
            opt = optimizer_class(opt).name
            if opt not in per:
                raise OptvizError(f"parameter {key!r} is for {opt}, which is not among the optimizers run ({', '.join(names)})")
            per[opt][pname] = value
            continue
        takers = [n for n in names if key == "lr" or key in defaults(n)]
        if not takers:
            valid = sorted({p for n in names for p in ["lr", *defaults(n)]})
            raise OptvizError(f"no optimizer among {', '.join(names)} has a parameter {key!r}; valid: {', '.join(valid)}")
        for n in takers:
            per[n][key] = value
    return per


def _parse_starts(objective: Objective, start) -> np.ndarray:
    if start is None:
        return default_start(objective)[None, :]
    X = np.asarray(start, dtype=float)
    if X.ndim == 0:
        X = X.reshape(1, 1)
    elif X.ndim == 1:
        X = X[None, :] if objective.dim > 1 or X.size == 1 else X[:, None]
    if X.ndim != 2 or X.shape[1] != objective.dim:
        raise OptvizError(
            f"--start needs {objective.dim} coordinate(s) ({', '.join(objective.variables)}) "
            f"for {objective.name}; got {np.shape(start)[-1] if np.ndim(start) else 1}"
        )
    if not np.all(np.isfinite(X)):
        raise OptvizError("--start must be finite numbers")
    return X


def make_oracle(objective: Objective, name: str, noise, batch_size, seed: int, *, explicit_noise: bool):
    """The gradient oracle of SPEC §2 for optimizer ``name``."""
    suggested = objective.suggested.get(name, {})
    if name not in STOCHASTIC:
        return ExactOracle()
    fs = objective.finite_sum
    if fs is not None and not explicit_noise:
        if name == "sgd":
            return SampleOracle(fs, 1, seed)
        b = int(batch_size or suggested.get("batch_size", DEFAULT_BATCH))
        if b > fs.n:
            raise OptvizError(f"--batch-size {b} is larger than the {fs.n} samples of {objective.name}")
        return SampleOracle(fs, b, seed)
    sigma = float(noise if noise is not None else suggested.get("noise", DEFAULT_NOISE))
    b = 1 if name == "sgd" else int(batch_size or suggested.get("batch_size", DEFAULT_BATCH))
    if sigma == 0:
        return ExactOracle()
    return NoisyOracle(sigma, seed, b)


ORACLE_KEYS = ("noise", "batch_size")


def optimizer_settings(objective: Objective, name: str, overrides: Mapping[str, Any] = (), *,
                       lr: float | None = None, start=None) -> tuple[float | None, dict[str, Any]]:
    """The lr and hyperparameters ``name`` runs with on ``objective``.

    Precedence: ``overrides`` (from -p), then the common ``lr``, then the
    function's suggested settings; the lr falls back to :func:`estimated_lr`
    from ``start`` when one is given. Oracle settings (noise, batch size) are
    not optimizer hyperparameters and are left out.
    """
    suggested = {k: v for k, v in objective.suggested.get(name, {}).items() if k not in ORACLE_KEYS}
    hyper = {k: v for k, v in suggested.items() if k != "lr"}
    hyper.update(overrides)
    chosen = hyper.pop("lr", None) or lr or suggested.get("lr")
    if chosen is None and start is not None:
        chosen = estimated_lr(objective, name, np.asarray(start, dtype=float))
    return chosen, hyper


def oracle_factory(objective: Objective, noise, batch_size, seed):
    """``name -> oracle`` for sweeps, basins and tuning (one seed for the whole batch)."""
    return lambda name: make_oracle(objective, name, noise, batch_size, seed, explicit_noise=noise is not None)


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
    params: Mapping[str, Any] | None = None,
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
    hyperparameters by SPEC name (``{"beta": 0.5}`` for every optimizer that
    has it, ``{"adam.beta1": 0.8}`` for one). ``schedule``: CLI syntax, e.g.
    ``"exp:0.99"``. ``noise``/``batch_size``: the gradient oracle of SGD and
    minibatch SGD. ``tune``: choose each optimizer's lr on a log grid
    (1e-5 to 10, 31 points, one batched sweep from the first start) by
    ``tune_metric`` (auc, final-loss or steps). ``seeds``: run the stochastic
    optimizers with seeds seed, seed+1, ... as one batch. Returns a :class:`RunResult`.
    """
    objective = resolve_function(fn)
    names = optimizer_names(opt)
    X = _parse_starts(objective, start)
    steps = int(objective.steps if steps is None else steps)
    if steps < 1:
        raise OptvizError(f"--steps must be ≥ 1, got {steps}")
    if noise is not None and (not np.isfinite(noise) or noise < 0):
        raise OptvizError(f"--noise must be ≥ 0, got {noise}")
    if batch_size is not None:
        if batch_size < 1:
            raise OptvizError(f"--batch-size must be ≥ 1, got {batch_size}")
        if objective.finite_sum is None and noise is None:
            raise OptvizError(
                f"--batch-size needs samples, and {objective.name} is a plain function: "
                "add --noise SIGMA to simulate minibatch noise, or use a finite-sum function (least_squares, logistic)"
            )
        if objective.finite_sum is not None and batch_size > objective.finite_sum.n:
            raise OptvizError(f"--batch-size {batch_size} is larger than the {objective.finite_sum.n} samples of {objective.name}")
    if lr is not None and (not np.isfinite(lr) or lr <= 0):
        raise OptvizError(f"--lr must be > 0, got {lr}")
    per_opt = _scoped_params(dict(params or {}), names)
    if schedule is not None:
        parse_schedule(schedule, 1.0)  # refuse a malformed schedule before any work
    if int(seeds) < 1:
        raise OptvizError(f"--seeds must be ≥ 1, got {seeds}")
    if tune and lr is not None:
        raise OptvizError("--tune chooses the learning rate itself: give --tune or --lr, not both")
    runs = []
    for name in names:
        chosen_lr, hyper = optimizer_settings(objective, name, per_opt[name], lr=lr, start=X[0])
        tuned = None
        if tune:
            from optviz.sweep import TUNE_GRID, tune_lr

            chosen_lr, _ = tune_lr(objective, name, start=X[0], steps=steps, tol=tol, metric=tune_metric,
                                   hyper=hyper, schedule=schedule,
                                   oracle_factory=oracle_factory(objective, noise, batch_size, seed))
            tuned = {"metric": tune_metric, "lr": chosen_lr, "grid": list(TUNE_GRID)}
        optimizer = make_optimizer(name, lr=chosen_lr, schedule=schedule, **hyper)
        group_seeds = [seed + i for i in range(int(seeds))] if name in STOCHASTIC and seeds > 1 else None
        starts = np.tile(X, (len(group_seeds), 1)) if group_seeds else X
        oracle = make_oracle(objective, name, noise, batch_size, group_seeds or seed,
                             explicit_noise=noise is not None)
        traj = run_optimizer(objective, optimizer, starts, steps=steps, tol=tol, oracle=oracle,
                             bound=bound, mode=mode)
        traj.seeds = tuple(group_seeds or ())
        traj.tuned = tuned
        if tuned:
            traj.label = f"{name} (tuned)"
        runs.append(traj)
    return RunResult(objective, runs)
