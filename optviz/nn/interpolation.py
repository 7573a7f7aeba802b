"""The loss along a line in weight space: from the initialization to a solution, or
between two solutions (docs/math.md §10)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optviz import validate
from optviz.nn.evaluation import evaluate
from optviz.nn.planes import final_vector
from optviz.nn.records import TrainResult, flatten_params, unflatten_params


@dataclass
class Interpolation:
    """L((1 − t)·θ_a + t·θ_b) along a line; t = 0 is ``start``, t = 1 is ``end``.

    BatchNorm uses, at every t, the statistics of the whole training part computed at
    those weights (running statistics are not defined between two networks).
    """

    start: str
    end: str
    t: np.ndarray
    train_loss: np.ndarray
    train_acc: np.ndarray
    val_loss: np.ndarray
    val_acc: np.ndarray

    def __repr__(self) -> str:
        return f"<Interpolation {self.start} → {self.end}: {len(self.t)} points>"


def interpolate(
    result: TrainResult,
    start: str = "init",
    end: str | None = None,
    points: int = 41,
    extend: float = 0.25,
) -> Interpolation:
    """The loss along the line from ``start`` to ``end`` for t in [−extend, 1 + extend].

    ``start``/``end``: "init" (the common initial weights θ₀) or a run's label (its
    final weights); ``end`` None is the first run. Train and validation loss and
    accuracy; BatchNorm statistics recomputed from the training part at every t.
    """
    validate.whole("points", points, 2)
    validate.non_negative("extend", extend)
    names = [k for k, _ in result.param_layout]

    def vector(which: str | None) -> tuple[str, np.ndarray]:
        if which == "init":
            return "initialization", flatten_params({k: result.initial_state[k] for k in names})
        return result.run(which).label, final_vector(result, which)

    start_name, a = vector(start)
    end_name, b = vector(end)
    a, b = a.astype(np.float64), b.astype(np.float64)
    t = np.linspace(-extend, 1 + extend, int(points))
    net = result.model(state=result.initial_state)
    loss = result.settings.loss
    split = result.split
    rows = []
    for ti in t:
        net.set_params(
            unflatten_params(((1 - ti) * a + ti * b).astype(net.dtype), result.param_layout)
        )
        tr = evaluate(net, split.X_train, split.y_train, loss=loss, bn="recompute")
        va = evaluate(
            net, split.X_val, split.y_val, loss=loss, bn="recompute", stats_from=split.X_train
        )
        rows.append((*tr, *va))
    arr = np.array(rows, dtype=np.float64)
    return Interpolation(start_name, end_name, t, arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])


def interpolations(
    result: TrainResult, points: int = 41, extend: float = 0.25
) -> list[Interpolation]:
    """The lines a landscape report shows: θ₀ → each solution, and between the first two solutions.

    Runs that diverged are left out.
    """
    labels = [r.label for r in result.runs if not r.diverged]
    lines = [interpolate(result, "init", label, points, extend) for label in labels]
    if len(labels) >= 2:
        lines.append(interpolate(result, labels[0], labels[1], points, extend))
    return lines
