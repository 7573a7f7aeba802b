"""The run loop: a batch of K start points advanced together.

A point stops at the step budget, when ‖∇f‖ ≤ ``tol`` (``tol=0`` runs every
step), or on divergence: a non-finite value or max|θ| beyond ``bound``. A
stopped point is frozen while the others go on. Numerical trouble is a
status, never an exception or a warning on the terminal.
"""

from __future__ import annotations

import math
import time

import numpy as np

from optviz.errors import OptvizError
from optviz.objective import Objective
from optviz.optim.base import Optimizer
from optviz.oracles import ExactOracle
from optviz.trajectory import CONVERGED, DIVERGED, MAX_STEPS, Trajectory

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


def _as_starts(objective: Objective, starts) -> np.ndarray:
    X = np.array(starts, dtype=float, copy=True)
    if X.ndim == 1:
        X = X[None, :] if objective.dim > 1 or X.size == 1 else X[:, None]
    if X.ndim != 2 or X.shape[1] != objective.dim:
        raise OptvizError(
            f"start points must have {objective.dim} coordinate(s) for {objective.name} "
            f"({', '.join(objective.variables)}); got shape {np.shape(starts)}"
        )
    return X


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
) -> Trajectory:
    """Run ``optimizer`` on ``objective`` from each start point; record per ``mode``.

    ``mode="full"`` records θ, f, ‖∇f‖, η and the optimizer's observable state
    at every step; ``mode="summary"`` keeps only final values and per-point
    metrics (memory independent of the number of steps: for sweeps).
    Metrics: ``auc``, the mean over steps 0..steps of log10(f − f* + 1e-300)
    (of f when f* is unknown), a stopped point counting with its final value
    and a diverged one as +inf; ``steps_to_tol``, the step where ‖∇f‖ ≤ tol
    was first reached (NaN if never).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    if int(steps) < 1:
        raise OptvizError(f"steps must be ≥ 1, got {steps}")
    if tol < 0 or not np.isfinite(tol):
        raise OptvizError(f"tol must be ≥ 0, got {tol}")
    steps = int(steps)
    X = _as_starts(objective, starts)
    K, d = X.shape
    oracle = oracle or ExactOracle()
    bound = default_bound(objective, X) if bound is None else np.full(K, float(bound))
    f_star = objective.f_star
    full = mode == "full"
    t0 = time.perf_counter()

    with np.errstate(all="ignore"):
        state = optimizer.init(X)
        f, g = objective.value_and_grad(X)
        gn = np.sqrt(np.einsum("kd,kd->k", g, g))
        T1 = steps + 1 if full else 1
        if full:
            theta_rec = np.full((T1, K, d), np.nan)
            loss_rec = np.full((T1, K), np.nan)
            gn_rec = np.full((T1, K), np.nan)
            lr_rec = np.full((T1, K), np.nan)
            slot_rec = [np.full((T1, *np.shape(slot)), np.nan) for slot in state[1:]]
            theta_rec[0], loss_rec[0], gn_rec[0] = X, f, gn
        track_auc = metrics_every_step
        need_f = full or track_auc

        def gap(values):
            if f_star is None:
                return values
            return np.log10(np.maximum(values - f_star, 0.0) + 1e-300)

        auc = gap(f) if track_auc else None
        steps_to_tol = np.where(gn <= tol, 0.0, np.nan)
        stop_step = np.zeros(K, dtype=np.int64)
        status = np.full(K, MAX_STEPS, dtype=object)
        bad = ~np.isfinite(f) | ~(np.max(np.abs(X), axis=1) <= bound)
        status[bad] = DIVERGED
        done0 = (gn <= tol) & ~bad
        status[done0] = CONVERGED
        active = ~(bad | done0)
        n_active = int(active.sum())
        last_good = X.copy()
        if bad.any():
            # Frozen points must not spoil the batch's finite-value checks.
            X[bad] = 0.0
            f, g = objective.value_and_grad(X)
            gn = np.sqrt(np.einsum("kd,kd->k", g, g))
        # Inactive points are left out of the fast path's checks by these offsets.
        gn_offset = np.where(active, 0.0, np.inf)
        bound_min = float(bound.min())
        check_tol = tol > 0  # with tol = 0 every step runs: no convergence test
        indefinite_steps = np.zeros(K, dtype=np.int64)
        singular_steps = np.zeros(K, dtype=np.int64)
        needs_h = optimizer.needs_hessian
        lr_is_scalar = np.ndim(optimizer.learning_rate(0)) == 0
        t_end = 0

        for t in range(1, steps + 1):
            if n_active == 0:
                break
            t_end = t
            lr = optimizer.learning_rate(state.count)
            X_new, state = optimizer.step(X, oracle(X, g), state,
                                          hessian=objective.hess(X) if needs_h else None, lr=lr)
            if n_active < K:
                X_new = np.where(active[:, None], X_new, X)
            X_prev, X = X, X_new
            if need_f:
                f, g = objective.value_and_grad(X)
            else:  # summary mode computes f only when a check needs it
                g = objective.grad(X)
            gn = np.sqrt(np.einsum("kd,kd->k", g, g))
            if full:
                theta_rec[t] = X
                loss_rec[t] = f
                gn_rec[t] = gn
                lr_rec[t] = lr if lr_is_scalar else np.reshape(lr, -1)
                for rec, slot in zip(slot_rec, state[1:]):
                    rec[t] = slot
            if track_auc:
                auc += gap(f)
            if needs_h:
                indefinite_steps += active & state.indefinite
                singular_steps += active & state.singular
            # Fast path: everything finite and within its bound, no active point converged.
            finite_sum = (f if need_f else gn).sum()
            if (math.isfinite(finite_sum) and np.abs(X).max() <= bound_min
                    and (check_tol is False or (gn.min() if n_active == K else (gn + gn_offset).min()) > tol)):
                continue
            if not need_f:
                f = objective.f(X)
            diverged = active & (~np.isfinite(f) | ~(np.max(np.abs(X), axis=1) <= bound))
            converged = active & ~diverged & (gn <= tol) if check_tol else np.zeros(K, bool)
            if diverged.any() or converged.any():
                last_good[diverged] = X_prev[diverged]
                X[diverged] = X_prev[diverged]  # frozen at its last finite point
                status[diverged] = DIVERGED
                status[converged] = CONVERGED
                steps_to_tol[converged] = t
                stop_step[diverged | converged] = t
                active &= ~(diverged | converged)
                n_active = int(active.sum())
                gn_offset = np.where(active, 0.0, np.inf)
                if track_auc:
                    f = objective.f(X)

        taken = np.where(active, t_end, stop_step)
        still = status != DIVERGED
        last_good[still] = X[still]
        if track_auc:
            # Points that stopped early keep their final value for the rest of the budget.
            auc += (steps - t_end) * gap(objective.f(X))
        elif not full:
            auc = np.full(K, np.nan)  # not tracked: ask for metrics_every_step=True
    wall = time.perf_counter() - t0

    with np.errstate(all="ignore"):
        final_f, final_g = objective.value_and_grad(last_good)
        final_gn = np.sqrt(np.einsum("kd,kd->k", final_g, final_g))
        state_rec: dict[str, np.ndarray] = {}
        if full:
            T = int(taken.max(initial=0))
            sl = slice(0, T + 1)
            theta_rec, loss_rec, gn_rec, lr_rec = theta_rec[sl], loss_rec[sl], gn_rec[sl], lr_rec[sl]
            counts = np.arange(T + 1).reshape(-1, *([1] * (slot_rec[0].ndim - 1))) if slot_rec else None
            if slot_rec:
                recorded = type(state)(counts, *(r[sl] for r in slot_rec))
                lr_b = lr_rec.reshape(lr_rec.shape + (1,) * (slot_rec[0].ndim - 2))
                state_rec = {k: np.asarray(v, dtype=float) for k, v in optimizer.observe(recorded, lr_b).items()}
            after = np.arange(T + 1)[:, None] > taken[None, :]
            for arr in (theta_rec, loss_rec, gn_rec, lr_rec, *state_rec.values()):
                arr[after] = np.nan
            for arr in state_rec.values():
                arr[0] = np.nan
            if not track_auc:
                # Same definition as in the loop, from the record.
                filled = np.where(after, final_f[None, :], loss_rec)
                auc = gap(filled).sum(axis=0) + (steps - T) * gap(final_f)
        else:
            theta_rec, loss_rec, gn_rec = last_good[None], final_f[None], final_gn[None]
            lr_rec = np.full((1, K), np.nan)
        auc = np.where(status == DIVERGED, np.inf, auc / (steps + 1))
    notes = []
    for k in range(K):
        parts = []
        if indefinite_steps[k]:
            parts.append(f"Hessian not positive definite at {indefinite_steps[k]} step(s)")
        if singular_steps[k]:
            parts.append(f"singular Hessian at {singular_steps[k]} step(s)")
        notes.append("; ".join(parts))
    return Trajectory(
        objective=objective,
        optimizer=optimizer.name,
        hyperparameters=optimizer.hyperparameters,
        schedule=optimizer.describe_schedule(),
        oracle=getattr(oracle, "description", "custom"),
        starts=_as_starts(objective, starts),
        theta=theta_rec,
        loss=loss_rec,
        grad_norm=gn_rec,
        lr=lr_rec,
        state=state_rec,
        steps=taken,
        status=[str(s) for s in status],
        notes=notes,
        wall_time=wall,
        final_theta=last_good,
        final_loss=final_f,
        final_grad_norm=final_gn,
        metrics={"auc": auc, "steps_to_tol": steps_to_tol},
        label=label or optimizer.name,
        mode=mode,
    )
