"""How a run ended: one vocabulary for the whole program (docs/math.md §8.2).

A status is a :class:`Status` plus the step (a point on a surface) or the epoch (a
training run) where it happened; it is data, never a sentence to parse. Its value is
the word written to JSON (``"converged"``, ``"max_steps"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Status(str, Enum):
    """The outcome of a run.

    On a surface: ``converged`` (‖∇f‖ ≤ tol at a local minimum), ``saddle``,
    ``maximum``, ``degenerate`` (‖∇f‖ ≤ tol, the Hessian singular and the kind
    undecided), ``undefined_gradient`` (the gradient is not defined where the run
    stands), ``max_steps`` (the run used all its steps), ``diverged`` (a non-finite value
    or |θ| beyond the bound), ``interrupted`` (Ctrl-C). A training run: ``ok`` (all its
    epochs), ``diverged`` or ``interrupted``.
    """

    CONVERGED = "converged"
    SADDLE = "saddle"
    MAXIMUM = "maximum"
    DEGENERATE = "degenerate"
    UNDEFINED_GRADIENT = "undefined_gradient"
    MAX_STEPS = "max_steps"
    DIVERGED = "diverged"
    INTERRUPTED = "interrupted"
    OK = "ok"

    def __str__(self) -> str:
        return self.value

    def describe(self, step: int) -> str:
        """What happened, in plain words: 'converged at step 20', 'used all 500 steps'."""
        return _PHRASES[self].format(step=step)

    @property
    def stopped_early(self) -> bool:
        """Whether the run stopped before its budget for a reason of its own."""
        return self not in (Status.MAX_STEPS, Status.OK, Status.INTERRUPTED)


_PHRASES = {
    Status.CONVERGED: "converged at step {step}",
    Status.SADDLE: "stopped at a saddle point at step {step}",
    Status.MAXIMUM: "stopped at a maximum at step {step}",
    Status.DEGENERATE: "stopped at a degenerate stationary point at step {step}",
    Status.UNDEFINED_GRADIENT: "gradient undefined at step {step}",
    Status.MAX_STEPS: "used all {step} steps",
    Status.DIVERGED: "diverged at step {step}",
    Status.INTERRUPTED: "interrupted at step {step}",
    Status.OK: "ok",
}

# How many points of a batch ended each way: "3 of 5 converged".
GROUP_WORDS = {
    Status.CONVERGED: "converged", Status.SADDLE: "at a saddle point", Status.MAXIMUM: "at a maximum",
    Status.DEGENERATE: "at a degenerate point", Status.UNDEFINED_GRADIENT: "where the gradient is undefined",
    Status.MAX_STEPS: "used all steps", Status.DIVERGED: "diverged", Status.INTERRUPTED: "interrupted",
    Status.OK: "ok",
}


@dataclass(frozen=True)
class Outcome:
    """A status and the epoch where it happened (training runs: None for ``ok``)."""

    status: Status = Status.OK
    epoch: int | None = None

    @property
    def text(self) -> str:
        """'ok', 'diverged at epoch 3' or 'interrupted in epoch 2'."""
        if self.status is Status.DIVERGED:
            return f"diverged at epoch {self.epoch}"
        if self.status is Status.INTERRUPTED:
            return f"interrupted in epoch {self.epoch}"
        return self.status.value
