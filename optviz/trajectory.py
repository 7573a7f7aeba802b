"""The trajectory record: everything a run produced, as plain arrays.

Plots, animations, tables and exports read only this record. Index 0 of the
per-step arrays is the start; index t is the point after step t. For a point
that stopped at step s (``steps[k]``), entries after s are NaN. ``lr[t]`` is
the η used by step t (``lr[0]`` is NaN).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optviz.export import jsonable
from optviz.status import Status

CONVERGED, DIVERGED, MAX_STEPS = Status.CONVERGED, Status.DIVERGED, Status.MAX_STEPS


def plain_setting(value: Any) -> Any:
    """A hyperparameter as one plain value: a one-element array is its number."""
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size > 1 else float(value.reshape(-1)[0])
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


@dataclass
class Trajectory:
    """One optimizer run from K start points (advanced together)."""

    objective: Any
    optimizer: str
    hyperparameters: dict[str, Any]
    schedule: str
    oracle: str
    starts: np.ndarray  # (K, d)
    theta: np.ndarray  # (T+1, K, d), or (1, K, d) holding the final points in summary mode
    loss: np.ndarray  # (T+1, K)
    grad_norm: np.ndarray  # (T+1, K)
    lr: np.ndarray  # (T+1, K)
    state: dict[str, np.ndarray]  # name -> (T+1, K, ...)
    steps: np.ndarray  # (K,) steps taken
    status: list[Status]  # per point: how it ended, at step ``steps[k]``
    notes: list[str]  # per point: e.g. "Hessian not positive definite at 3 steps"
    wall_time: float
    final_theta: np.ndarray  # (K, d): last point (last finite one for a diverged run)
    final_loss: np.ndarray  # (K,)
    final_grad_norm: np.ndarray  # (K,)
    metrics: dict[str, np.ndarray] = field(default_factory=dict)  # per point, e.g. "auc"
    label: str = ""
    mode: str = "full"  # "full": every step recorded; "summary": finals and metrics only
    seeds: tuple[int, ...] = ()  # with --seeds N: rows form N equal groups, group i used seeds[i]
    tuned: dict[str, Any] | None = None  # with --tune: {"metric": ..., "lr": ..., "grid": [...]}
    row_steps: np.ndarray | None = None  # the step of each row when the record thinned (None: row t is step t)

    def __repr__(self) -> str:
        name = getattr(self.objective, "name", "?")
        ends = sorted({Status(s).value for s in self.status})
        return (f"<Trajectory {self.label or self.optimizer} on {name}: {self.K} start(s), "
                f"{self.theta.shape[0] - 1 if self.recorded else int(np.max(self.steps, initial=0))} steps, "
                f"{', '.join(ends)}>")

    def seed_groups(self) -> list[list[int]]:
        """Rows that belong together: each start alone, or a start's N seed rows."""
        if not self.seeds:
            return [[k] for k in range(self.K)]
        n = len(self.seeds)
        per = self.K // n
        return [[j + i * per for i in range(n)] for j in range(per)]

    def seed_of(self, k: int) -> int | None:
        if not self.seeds:
            return None
        return self.seeds[k // (self.K // len(self.seeds))]

    @property
    def K(self) -> int:
        return self.starts.shape[0]

    @property
    def recorded(self) -> bool:
        """Whether every step was recorded (False for summary-mode sweeps)."""
        return self.mode == "full"

    @property
    def stride(self) -> int:
        """Every how many steps a row was kept: 1 unless a very long run thinned its record."""
        return 1 if self.row_steps is None or len(self.row_steps) < 2 else int(self.row_steps[1])

    def steps_of_rows(self, n: int | None = None) -> np.ndarray:
        """The step of each of the first ``n`` rows of the per-step arrays."""
        n = self.loss.shape[0] if n is None else n
        return np.arange(n) * self.stride

    def rows(self, k: int = 0) -> int:
        """How many rows of the per-step arrays belong to point k (up to its last step)."""
        return int(self.steps[k]) // self.stride + 1

    def path(self, k: int = 0) -> np.ndarray:
        """The finite points of the k-th path, (n, d)."""
        n = self.rows(k)
        if self.status[k] == DIVERGED and int(self.steps[k]) % self.stride == 0:
            n -= 1  # the point that left the finite range or the bound
        p = self.theta[:n, k]
        keep = np.all(np.isfinite(p), axis=1)
        last = len(p) if keep.all() else int(np.argmin(keep))
        return p[:last]

    def losses(self, k: int = 0) -> np.ndarray:
        return self.loss[: self.rows(k), k]

    def status_text(self, k: int = 0) -> str:
        """'converged at step 20', 'stopped at a maximum at step 6', 'used all 500 steps' (and the note)."""
        text = Status(self.status[k]).describe(int(self.steps[k]))
        return text + (f" ({self.notes[k]})" if self.notes[k] else "")

    def to_runs(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per start point (the ``runs`` entries of ``--json``)."""
        out = []
        hp = {k: plain_setting(v) for k, v in self.hyperparameters.items()}
        for k in range(self.K):
            n = self.rows(k)
            entry = {
                "optimizer": self.optimizer,
                "label": self.label or self.optimizer,
                "hyperparameters": hp,
                "schedule": self.schedule,
                "gradient": self.oracle,
                "start": jsonable(self.starts[k]),
                "final": jsonable(self.final_theta[k]),
                "final_loss": jsonable(self.final_loss[k]),
                "steps": int(self.steps[k]),
                "status": self.status[k],
                "note": self.notes[k],
                "seed": self.seed_of(k),
                "tuned": self.tuned,
                "recorded_every": self.stride if self.recorded else None,
                "trajectory": jsonable(self.theta[:n, k]) if self.recorded else None,
                "losses": jsonable(self.loss[:n, k]) if self.recorded else None,
            }
            out.append(entry)
        return out
