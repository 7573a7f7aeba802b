"""The run loop: a batch of K start points advanced together (docs/math.md §8.1).

A point stops after the last step, when ‖∇f‖ ≤ ``tol`` (``tol=0`` runs every
step), or on divergence: a non-finite value or max|θ| beyond ``bound``. A
stopped point is frozen while the others go on. Numerical trouble is a
status, never an exception or a warning on the terminal.

What is kept of the run is a recorder's business (:mod:`optviz.recording`): every
step (``mode="full"``, for pictures) or final values and per-point metrics
(``mode="summary"``, for sweeps: memory independent of the number of steps).
"""

from __future__ import annotations

import math
import time

import numpy as np

from optviz import interrupts, validate
from optviz.critical import endpoint_kinds, smallest_around
from optviz.errors import OptvizError
from optviz.objective import Objective
from optviz.optim.base import Optimizer
from optviz.oracles import ExactOracle
from optviz.recording import FullRecorder, SummaryRecorder
from optviz.settings import parse_starts
from optviz.status import Status
from optviz.trajectory import Trajectory

MODES = ("full", "summary")


def default_bound(objective: Objective, starts: np.ndarray) -> np.ndarray:
    """Per start point, the max|θ| beyond which it counts as diverged:
    10⁶ × max(1, |start|, the domain's extent). Each point has its own, so a
    point run in a batch stops where it would stop alone."""
    a = np.abs(np.asarray(starts, dtype=float))
    own = np.max(np.where(np.isfinite(a), a, 0.0), axis=1, initial=1.0)
    scale = 1.0
    if objective.domain is not None:
        scale = max(max(abs(lo), abs(hi)) for lo, hi in objective.domain)
    with np.errstate(over="ignore"):  # a start near the float limit: the bound is inf
        return 1e6 * np.maximum(own, max(scale, 1.0))


class Batch:
    """Which points still move, how and when each stopped, and its last finite point."""

    def __init__(self, X: np.ndarray, f: np.ndarray, g: np.ndarray, gn: np.ndarray, tol: float, bound: np.ndarray):
        K = X.shape[0]
        self.tol, self.bound, self.bound_min = tol, bound, float(bound.min())
        self.check_tol = tol > 0  # with tol = 0 every step runs: no convergence test
        self.steps_to_tol = np.where(gn <= tol, 0.0, np.nan)
        self.stop_step = np.zeros(K, dtype=np.int64)
        self.status = np.full(K, Status.MAX_STEPS, dtype=object)
        bad = ~np.isfinite(f) | ~(np.max(np.abs(X), axis=1) <= bound)
        self.status[bad] = Status.DIVERGED
        undefined = ~bad & ~np.all(np.isfinite(g), axis=1)
        self.status[undefined] = Status.UNDEFINED_GRADIENT
        done0 = (gn <= tol) & ~bad
        self.status[done0] = Status.CONVERGED
        self.bad_start = bad | undefined
        self.last_good = X.copy()
        self._set_active(~(bad | undefined | done0))

    def _set_active(self, active: np.ndarray) -> None:
        self.active = active
        self.n_active = int(active.sum())
        # inactive points are left out of the fast path's checks by these offsets
        self.gn_offset = np.where(active, 0.0, np.inf)

    def quiet(self, checksum: float, X: np.ndarray, gn: np.ndarray) -> bool:
        """The fast path: everything finite (``checksum`` sums f and ‖∇f‖, or ‖∇f‖) and
        within its bound, no active point converged."""
        K = len(self.active)
        return (math.isfinite(checksum) and np.abs(X).max() <= self.bound_min
                and (self.check_tol is False
                     or (gn.min() if self.n_active == K else (gn + self.gn_offset).min()) > self.tol))

    def interrupt(self, t: int) -> None:
        """Ctrl-C after step ``t``: the points still moving stop there as ``interrupted``."""
        self.status[self.active] = Status.INTERRUPTED
        self.stop_step[self.active] = t
        self._set_active(np.zeros_like(self.active))

    def stop(self, t: int, X: np.ndarray, X_prev: np.ndarray, f: np.ndarray, g: np.ndarray, gn: np.ndarray) -> None:
        """Stop the points that diverged or converged at step ``t`` (a diverged one is frozen at X_prev)."""
        active = self.active
        diverged = active & (~np.isfinite(f) | ~(np.max(np.abs(X), axis=1) <= self.bound))
        undefined = active & ~diverged & ~np.all(np.isfinite(g), axis=1)  # f is defined, its gradient is not
        converged = active & ~diverged & (gn <= self.tol) if self.check_tol else np.zeros(len(active), bool)
        stopped = diverged | undefined | converged
        if not stopped.any():
            return
        self.last_good[diverged] = X_prev[diverged]
        self.last_good[undefined] = X[undefined]  # where the gradient is undefined is where it stopped
        frozen = diverged | undefined
        X[frozen] = X_prev[frozen]  # frozen at its last point with finite values
        self.status[diverged] = Status.DIVERGED
        self.status[undefined] = Status.UNDEFINED_GRADIENT
        self.status[converged] = Status.CONVERGED
        self.steps_to_tol[converged] = t
        self.stop_step[stopped] = t
        self._set_active(active & ~stopped)


ENDPOINT_STATUS = {"minimum": Status.CONVERGED, "flat": Status.CONVERGED, "maximum": Status.MAXIMUM,
                   "saddle": Status.SADDLE, "degenerate": Status.DEGENERATE}


def _settle(objective: Objective, batch: Batch) -> list[str]:
    """Name what the stopped points reached: a point with ‖∇f‖ ≤ tol is ``converged`` only
    at a minimum, else at a saddle, a maximum or a degenerate point (docs/math.md §8.2);
    a point where the gradient is undefined says whether f is smallest around it."""
    notes = [""] * len(batch.status)
    at_tol = np.flatnonzero(batch.status == Status.CONVERGED)
    if len(at_tol) and objective.dim <= 2:
        for k, kind in zip(at_tol, endpoint_kinds(objective, batch.last_good[at_tol])):
            batch.status[k] = ENDPOINT_STATUS[kind]
    cusp = np.flatnonzero(batch.status == Status.UNDEFINED_GRADIENT)
    if len(cusp):
        for k, smallest in zip(cusp, smallest_around(objective, batch.last_good[cusp])):
            notes[k] = "f is smallest around this point" if smallest else "f is not smallest around this point"
    return notes


def _check(mode: str, steps, tol, bound) -> int:
    if mode not in MODES:
        raise OptvizError(f"{{mode}} must be one of {', '.join(MODES)}, got {mode!r}", param="mode")
    steps = validate.whole("steps", steps)
    validate.non_negative("tol", tol)
    if bound is not None and not float(bound) > 0:  # inf: no bound
        raise OptvizError(f"{{bound}} must be > 0, got {bound}", param="bound")
    return steps


def run_optimizer(
    objective: Objective,
    optimizer: Optimizer,
    starts,
    *,
    steps: int,
    tol: float = 1e-6,
    oracle=None,
    bound: float | None = None,
    mode: str = "full",
    label: str = "",
    metrics_every_step: bool = False,
    progress=None,
) -> Trajectory:
    """Run ``optimizer`` on ``objective`` from each start point; record per ``mode``.

    ``mode="full"`` records θ, f, ‖∇f‖, η and the optimizer's observable state
    at every step; ``mode="summary"`` keeps only final values and per-point
    metrics. Metrics: ``auc``, the mean over steps 0..steps of log10(f − f* + 1e-300)
    (of f when f* is unknown), a stopped point counting with its final value
    and a diverged one as +inf (in summary mode only with ``metrics_every_step``);
    ``steps_to_tol``, the step where ‖∇f‖ ≤ tol was first reached (NaN if never).
    ``progress(step, steps)`` is called about 200 times over the budget. Ctrl-C stops the
    run after its last completed step and returns what was computed (status ``interrupted``).
    """
    steps = _check(mode, steps, tol, bound)
    X = parse_starts(objective, starts, finite=False)
    starts = X.copy()
    oracle = oracle or ExactOracle()
    bound = default_bound(objective, X) if bound is None else np.full(X.shape[0], float(bound))
    t0 = time.perf_counter()
    with np.errstate(all="ignore"):
        state = optimizer.init(X)
        f, g = objective.value_and_grad(X)
        gn = np.sqrt(np.einsum("kd,kd->k", g, g))
        batch = Batch(X, f, g, gn, tol, bound)
        recorder = (FullRecorder(objective, optimizer, state, X, f, gn, steps, track_auc=metrics_every_step)
                    if mode == "full" else SummaryRecorder(objective, f, track_auc=metrics_every_step))
        if batch.bad_start.any():
            # Frozen points must not spoil the batch's finite-value checks.
            X[batch.bad_start] = 0.0
            f, g = objective.value_and_grad(X)
            gn = np.sqrt(np.einsum("kd,kd->k", g, g))
        X, t_end, counts = _loop(objective, optimizer, oracle, recorder, batch, X, g, state, steps, progress)
        taken = np.where(batch.active, t_end, batch.stop_step)
        still = (batch.status != Status.DIVERGED) & (batch.status != Status.UNDEFINED_GRADIENT)
        batch.last_good[still] = X[still]
        extra_notes = _settle(objective, batch)
        recorder.finish_loop(X, steps, t_end)
    wall = time.perf_counter() - t0
    with np.errstate(all="ignore"):
        final_f, final_g = objective.value_and_grad(batch.last_good)
        final_gn = np.sqrt(np.einsum("kd,kd->k", final_g, final_g))
        record = recorder.result(taken, final_f, batch.last_good, final_gn, steps)
        auc = np.where(batch.status == Status.DIVERGED, np.inf, record.auc / (steps + 1))
    notes = ["; ".join(filter(None, (optimizer.describe_events({name: int(c[k]) for name, c in counts.items()}),
                                     extra_notes[k]))) for k in range(X.shape[0])]
    return Trajectory(
        objective=objective, optimizer=optimizer.name, hyperparameters=optimizer.hyperparameters,
        schedule=optimizer.describe_schedule(), oracle=getattr(oracle, "description", "custom"),
        starts=starts, theta=record.theta, loss=record.loss, grad_norm=record.grad_norm, lr=record.lr,
        state=record.state, steps=taken, status=list(batch.status), notes=notes, wall_time=wall,
        final_theta=batch.last_good, final_loss=final_f, final_grad_norm=final_gn,
        metrics={"auc": auc, "steps_to_tol": batch.steps_to_tol}, label=label or optimizer.name, mode=mode,
        row_steps=record.row_steps,
    )


def _loop(objective, optimizer, oracle, recorder, batch: Batch, X, g, state, steps: int, progress=None):
    """Steps 1..steps; returns the final points, the last step completed and the event counts.

    This is the hot path of every run: attributes are read once, the recorder is called
    only when it keeps something, and the common step (all finite, nothing converged)
    costs one sum, one max and one min beyond the optimizer's own step. Ctrl-C ends the
    loop after the last completed step: the points still moving are ``interrupted``.
    """
    K = X.shape[0]
    counts = {name: np.zeros(K, dtype=np.int64) for name in optimizer.events}
    hess = objective.hess_unchecked if optimizer.needs_hessian else None
    value_and_grad, grad, step, learning_rate = (objective.value_and_grad_unchecked, objective.grad_unchecked,
                                                 optimizer.step, optimizer.learning_rate)
    need_f = recorder.need_f
    record = recorder.record if recorder.records_steps else None
    every = max(1, steps // 200) if progress is not None else 0
    t_end, X_done = 0, X
    pending = interrupts.PENDING  # Ctrl-C that Python swallowed (docs of optviz.interrupts)
    try:
        for t in range(1, steps + 1):
            if batch.n_active == 0:
                break
            if pending:
                raise KeyboardInterrupt
            lr = learning_rate(state.count)
            X_new, state = step(X, oracle(X, g), state, hessian=None if hess is None else hess(X), lr=lr)
            if batch.n_active < K:
                X_new = np.where(batch.active[:, None], X_new, X)
            X_prev, X = X, X_new
            if need_f:
                f, g = value_and_grad(X)
            else:  # summary mode computes f only when a check needs it
                f, g = None, grad(X)
            gn = np.sqrt(np.einsum("kd,kd->k", g, g))
            if record is not None:
                record(t, X, f, gn, lr, state)
            for name, count in counts.items():
                count += batch.active & getattr(state, name)
            if not batch.quiet(f.sum() + gn.sum() if need_f else gn.sum(), X, gn):
                if f is None:
                    f = objective.f_unchecked(X)
                batch.stop(t, X, X_prev, f, g, gn)
            t_end, X_done = t, X
            if every and t % every == 0:
                progress(t, steps)
    except KeyboardInterrupt:
        X = X_done  # the step in progress did not finish: back to the last one that did
        batch.interrupt(t_end)
    return X, t_end, counts
