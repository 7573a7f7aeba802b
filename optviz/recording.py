"""What a run keeps: every step (for pictures) or final values and metrics (for sweeps).

The run loop (:mod:`optviz.runner`) hands each recorder the points, values, gradient
norms, learning rate and optimizer state after every step; :meth:`result` returns the
arrays of the :class:`~optviz.trajectory.Trajectory`. Both recorders can keep the
``auc`` metric step by step: the mean over steps 0..T of log10(f − f* + 1e-300) (of f
when f* is unknown), a point that stopped early counting with its final value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Record:
    """The arrays a recorder produced (see :class:`~optviz.trajectory.Trajectory`)."""

    theta: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    lr: np.ndarray
    state: dict[str, np.ndarray]
    auc: np.ndarray  # summed over steps 0..T; the caller divides by T + 1


class _AucTracker:
    """The sum of log gaps, step by step (when ``track_auc``)."""

    def __init__(self, objective, f0: np.ndarray, track_auc: bool):
        self.objective = objective
        self.f_star = objective.f_star
        self.track_auc = track_auc
        self.need_f = track_auc
        self.records_steps = track_auc  # whether record() keeps anything
        self.auc = self.gap(f0) if track_auc else None

    def gap(self, values: np.ndarray) -> np.ndarray:
        if self.f_star is None:
            return values
        return np.log10(np.maximum(values - self.f_star, 0.0) + 1e-300)

    def record(self, t: int, X, f, gn, lr, state) -> None:
        if self.track_auc:
            self.auc += self.gap(f)

    def finish_loop(self, X: np.ndarray, steps: int, t_end: int) -> None:
        """After the last step: points that stopped early keep their final value for the rest."""
        if self.track_auc:
            self.auc += (steps - t_end) * self.gap(self.objective.f(X))


class SummaryRecorder(_AucTracker):
    """Final values and metrics only: memory does not grow with the number of steps."""

    def result(self, taken, final_f, last_good, final_gn, steps: int) -> Record:
        K = len(final_f)
        auc = self.auc if self.track_auc else np.full(K, np.nan)  # not tracked: ask for metrics_every_step
        return Record(last_good[None], final_f[None], final_gn[None], np.full((1, K), np.nan), {}, auc)


class FullRecorder(_AucTracker):
    """θ, f, ‖∇f‖, η and the optimizer's state at every step, index 0 the start."""

    def __init__(self, objective, optimizer, state, X: np.ndarray, f: np.ndarray, gn: np.ndarray, steps: int,
                 track_auc: bool = False):
        super().__init__(objective, f, track_auc)
        self.need_f = self.records_steps = True
        self.optimizer = optimizer
        self.state_type = type(state)
        K, d = X.shape
        T1 = steps + 1
        self.theta = np.full((T1, K, d), np.nan)
        self.loss = np.full((T1, K), np.nan)
        self.grad_norm = np.full((T1, K), np.nan)
        self.lr = np.full((T1, K), np.nan)
        self.slots = [np.full((T1, *np.shape(slot)), np.nan) for slot in state[1:]]
        self.theta[0], self.loss[0], self.grad_norm[0] = X, f, gn
        self.lr_is_scalar = np.ndim(optimizer.learning_rate(0)) == 0

    def record(self, t: int, X, f, gn, lr, state) -> None:
        self.theta[t] = X
        self.loss[t] = f
        self.grad_norm[t] = gn
        self.lr[t] = lr if self.lr_is_scalar else np.reshape(lr, -1)
        for rec, slot in zip(self.slots, state[1:]):
            rec[t] = slot
        if self.track_auc:
            self.auc += self.gap(f)

    def _observed(self, sl: slice, T: int) -> dict[str, np.ndarray]:
        """The optimizer's observable state (m̂, v̂, effective step, …) over the whole record at once."""
        if not self.slots:
            return {}
        counts = np.arange(T + 1).reshape(-1, *([1] * (self.slots[0].ndim - 1)))
        recorded = self.state_type(counts, *(r[sl] for r in self.slots))
        lr = self.lr[sl]
        lr_b = lr.reshape(lr.shape + (1,) * (self.slots[0].ndim - 2))
        return {k: np.asarray(v, dtype=float) for k, v in self.optimizer.observe(recorded, lr_b).items()}

    def result(self, taken, final_f, last_good, final_gn, steps: int) -> Record:
        T = int(taken.max(initial=0))
        sl = slice(0, T + 1)
        theta, loss, grad_norm, lr = self.theta[sl], self.loss[sl], self.grad_norm[sl], self.lr[sl]
        state = self._observed(sl, T)
        after = np.arange(T + 1)[:, None] > taken[None, :]
        for arr in (theta, loss, grad_norm, lr, *state.values()):
            arr[after] = np.nan
        for arr in state.values():
            arr[0] = np.nan
        auc = self.auc
        if not self.track_auc:
            # Same definition as step by step, from the record.
            filled = np.where(after, final_f[None, :], loss)
            auc = self.gap(filled).sum(axis=0) + (steps - T) * self.gap(final_f)
        return Record(theta, loss, grad_norm, lr, state, auc)
