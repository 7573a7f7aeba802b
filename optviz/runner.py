"""The run loop: a batch of K start points advanced together.

A point stops at the step budget, when ‖∇f‖ ≤ ``tol`` (``tol=0`` runs every
step), or on divergence: a non-finite value or max|θ| beyond ``bound``. A
stopped point is frozen while the others go on. Numerical trouble is a
status, never an exception or a warning on the terminal.
"""

from __future__ import annotations

import time

import numpy as np

from optviz.errors import OptvizError
from optviz.objective import Objective
from optviz.optim.base import Optimizer
from optviz.oracles import ExactOracle
from optviz.trajectory import CONVERGED, DIVERGED, MAX_STEPS, Trajectory

MODES = ("full", "summary")


def default_bound(objective: Objective, starts: np.ndarray) -> float:
    """|θ| beyond which a run counts as diverged: 10⁶ × the problem's scale."""
    scale = float(np.max(np.abs(starts), initial=1.0))
    if objective.domain is not None:
        scale = max(scale, max(max(abs(lo), abs(hi)) for lo, hi in objective.domain))
    return 1e6 * max(scale, 1.0)


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
    bound = default_bound(objective, X) if bound is None else float(bound)
    f_star = objective.f_star
    full = mode == "full"
    t0 = time.perf_counter()

    with np.errstate(all="ignore"):
        state = optimizer.init(X)
        f, g = objective.value_and_grad(X)
        gn = np.sqrt(np.einsum("kd,kd->k", g, g))
        T1 = steps + 1 if full else 1
        theta_rec = np.full((T1, K, d), np.nan)
        loss_rec = np.full((T1, K), np.nan)
        gn_rec = np.full((T1, K), np.nan)
        lr_rec = np.full((T1, K), np.nan)
        state_rec: dict[str, np.ndarray] = {}
        if full:
            theta_rec[0], loss_rec[0], gn_rec[0] = X, f, gn

        def gap(values):
            base = values - f_star if f_star is not None else values
            return np.log10(np.maximum(base, 0.0) + 1e-300) if f_star is not None else base

        auc = gap(f)
        steps_to_tol = np.where(gn <= tol, 0.0, np.nan)
        taken = np.zeros(K, dtype=np.int64)
        status = np.full(K, MAX_STEPS, dtype=object)
        bad = ~np.isfinite(f) | ~np.all(np.isfinite(X), axis=1)
        status[bad] = DIVERGED
        done0 = (gn <= tol) & ~bad
        status[done0] = CONVERGED
        active = ~(bad | done0)
        indefinite_steps = np.zeros(K, dtype=np.int64)
        singular_steps = np.zeros(K, dtype=np.int64)
        last_good = X.copy()
        needs_h = optimizer.needs_hessian
        all_active = bool(active.all())

        t_end = 0
        for t in range(1, steps + 1):
            if not active.any():
                break
            t_end = t
            grad_used = oracle(X, g)
            H = objective.hess(X) if needs_h else None
            lr = optimizer.learning_rate(state.count)
            X_new, state = optimizer.step(X, grad_used, state, hessian=H)
            if not all_active:
                X_new = np.where(active[:, None], X_new, X)
            X = X_new
            f, g = objective.value_and_grad(X)
            gn = np.sqrt(np.einsum("kd,kd->k", g, g))
            finite = np.isfinite(f) & np.all(np.isfinite(X), axis=1)
            diverged = active & (~finite | (np.max(np.abs(X), axis=1) > bound))
            converged = active & ~diverged & (gn <= tol)
            taken[active] = t
            if needs_h:
                indefinite_steps += active & state.indefinite
                singular_steps += active & state.singular
            ok = active & ~diverged
            if full:
                theta_rec[t] = X
                loss_rec[t] = f
                gn_rec[t] = gn
                lr_rec[t] = np.broadcast_to(np.asarray(lr, dtype=float).reshape(-1), (K,)) if np.ndim(lr) else lr
                for name, value in optimizer.observe(state, lr).items():
                    arr = np.asarray(value, dtype=float)
                    if name not in state_rec:
                        state_rec[name] = np.full((T1, *arr.shape), np.nan)
                    state_rec[name][t] = arr
            auc += gap(f)
            if ok.any():
                last_good[ok] = X[ok]
            steps_to_tol = np.where(converged, t, steps_to_tol)
            if diverged.any() or converged.any():
                status[diverged] = DIVERGED
                status[converged] = CONVERGED
                active &= ~(diverged | converged)
                all_active = False
        # Points that stopped early keep their final value for the rest of the budget.
        auc += (steps - t_end) * gap(f)
        auc = np.where(status == DIVERGED, np.inf, auc / (steps + 1))
    wall = time.perf_counter() - t0

    with np.errstate(all="ignore"):
        final_f, final_g = objective.value_and_grad(last_good)
        final_gn = np.sqrt(np.einsum("kd,kd->k", final_g, final_g))
        if full:
            T = int(taken.max(initial=0))
            sl = slice(0, T + 1)
            theta_rec, loss_rec, gn_rec, lr_rec = theta_rec[sl], loss_rec[sl], gn_rec[sl], lr_rec[sl]
            state_rec = {k: v[sl] for k, v in state_rec.items()}
            after = np.arange(T + 1)[:, None] > taken[None, :]
            for arr in (theta_rec, loss_rec, gn_rec, lr_rec, *state_rec.values()):
                arr[after] = np.nan
        else:
            theta_rec, loss_rec, gn_rec = X[None], f[None], gn[None]
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
