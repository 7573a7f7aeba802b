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
    row_steps: np.ndarray | None = None  # the step of each row, when the record thinned


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


MAX_RECORD_BYTES = 256 * 2**20  # every array of a full record together
FIRST_ROWS = 1024


class FullRecorder(_AucTracker):
    """θ, f, ‖∇f‖, η and the optimizer's state after every step, index 0 the start.

    The arrays grow as the run goes (a run that converges in 20 of its 10⁹ allowed steps
    allocates 21 rows, not 10⁹). Past :data:`MAX_RECORD_BYTES` the record thins itself:
    it keeps every second row and from then on records every ``stride``-th step only, so
    memory stays bounded however many steps are allowed; ``stride`` says how far it thinned.
    """

    def __init__(self, objective, optimizer, state, X: np.ndarray, f: np.ndarray, gn: np.ndarray, steps: int,
                 track_auc: bool = False):
        super().__init__(objective, f, track_auc)
        self.need_f = self.records_steps = True
        self.optimizer = optimizer
        self.state_type = type(state)
        K, d = X.shape
        per_row = 8 * (K * (d + 3) + sum(int(np.size(slot)) for slot in state[1:]))
        self.max_rows = max(64, MAX_RECORD_BYTES // max(per_row, 1))
        rows = min(steps + 1, FIRST_ROWS, self.max_rows)
        self.theta = np.full((rows, K, d), np.nan)
        self.loss = np.full((rows, K), np.nan)
        self.grad_norm = np.full((rows, K), np.nan)
        self.lr = np.full((rows, K), np.nan)
        self.slots = [np.full((rows, *np.shape(slot)), np.nan) for slot in state[1:]]
        self.theta[0], self.loss[0], self.grad_norm[0] = X, f, gn
        self.lr_is_scalar = np.ndim(optimizer.learning_rate(0)) == 0
        self.stride = 1

    def _arrays(self) -> list[np.ndarray]:
        return [self.theta, self.loss, self.grad_norm, self.lr, *self.slots]

    def _make_room(self, row: int) -> None:
        """Grow the arrays (doubling, up to the budget), or thin them to every second row."""
        capacity = len(self.loss)
        if capacity < self.max_rows:
            new = min(self.max_rows, 2 * capacity)
            grown = []
            for arr in self._arrays():
                bigger = np.full((new, *arr.shape[1:]), np.nan)
                bigger[:capacity] = arr
                grown.append(bigger)
        else:
            grown = []
            for arr in self._arrays():
                thin = np.full_like(arr, np.nan)
                kept = arr[::2]
                thin[: len(kept)] = kept
                grown.append(thin)
            self.stride *= 2
        self.theta, self.loss, self.grad_norm, self.lr, *self.slots = grown

    def record(self, t: int, X, f, gn, lr, state) -> None:
        if self.track_auc:
            self.auc += self.gap(f)
        if t % self.stride:
            return
        row = t // self.stride
        while row >= len(self.loss):
            self._make_room(row)
            if t % self.stride:
                return
            row = t // self.stride
        self.theta[row] = X
        self.loss[row] = f
        self.grad_norm[row] = gn
        self.lr[row] = lr if self.lr_is_scalar else np.reshape(lr, -1)
        for rec, slot in zip(self.slots, state[1:]):
            rec[row] = slot

    def _observed(self, rows: int, steps_of_rows: np.ndarray) -> dict[str, np.ndarray]:
        """The optimizer's observable state (m̂, v̂, effective step, …) over the whole record at once."""
        if not self.slots:
            return {}
        counts = steps_of_rows.reshape(-1, *([1] * (self.slots[0].ndim - 1)))
        recorded = self.state_type(counts, *(r[:rows] for r in self.slots))
        lr = self.lr[:rows]
        lr_b = lr.reshape(lr.shape + (1,) * (self.slots[0].ndim - 2))
        return {k: np.asarray(v, dtype=float) for k, v in self.optimizer.observe(recorded, lr_b).items()}

    def result(self, taken, final_f, last_good, final_gn, steps: int) -> Record:
        T = int(taken.max(initial=0))
        rows = T // self.stride + 1
        steps_of_rows = np.arange(rows) * self.stride
        theta, loss, grad_norm, lr = (a[:rows] for a in (self.theta, self.loss, self.grad_norm, self.lr))
        state = self._observed(rows, steps_of_rows)
        after = steps_of_rows[:, None] > taken[None, :]
        for arr in (theta, loss, grad_norm, lr, *state.values()):
            arr[after] = np.nan
        for arr in state.values():
            arr[0] = np.nan
        auc = self.auc
        if not self.track_auc:
            # Same definition as step by step, from the record (each row standing for
            # ``stride`` steps once the record thinned).
            filled = np.where(after, final_f[None, :], loss)
            auc = self.stride * self.gap(filled).sum(axis=0) + (steps - steps_of_rows[-1]) * self.gap(final_f)
            if self.stride > 1:
                auc -= (self.stride - 1) * self.gap(filled[0])
        return Record(theta, loss, grad_norm, lr, state, auc, None if self.stride == 1 else steps_of_rows)
