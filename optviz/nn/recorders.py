"""What training keeps besides the losses: weight snapshots for landscapes, and per
epoch the gradient norm of each layer, the BatchNorm running statistics, the spread
between units and the validation part under other BatchNorm statistics."""

from __future__ import annotations

from typing import Any

import numpy as np

from optviz.nn.evaluation import EvalMode, evaluate
from optviz.nn.records import OptimizerRun, flatten_params
from optviz.nn.runarchive import MAX_SNAPSHOTS  # no more snapshots than a run file holds
from optviz.nn.symmetry import unit_spread


class Snapshots:
    """Flattened weights every ``every`` steps, at most ``cap`` of them (the last one included).

    When the cap is reached the stride doubles and every other snapshot is dropped, so
    the kept ones stay evenly spaced in steps and memory stays bounded whatever the
    length of training: at most ``cap`` vectors of P numbers.
    """

    def __init__(self, every: int, cap: int) -> None:
        self.stride = every
        self.cap = cap
        self.steps: list[int] = []
        self.thetas: list[np.ndarray] = []

    def offer(self, step: int, params: dict[str, np.ndarray]) -> None:
        if step % self.stride:
            return
        self.steps.append(step)
        self.thetas.append(flatten_params(params))
        if len(self.steps) > self.cap - 1:  # keep one place for the final weights
            self.stride *= 2
            keep = [i for i, t in enumerate(self.steps) if t % self.stride == 0]
            self.steps = [self.steps[i] for i in keep]
            self.thetas = [self.thetas[i] for i in keep]

    @staticmethod
    def count(steps: int, every: int, cap: int = MAX_SNAPSHOTS) -> int:
        """How many snapshots a run of ``steps`` optimizer steps keeps (the final one
        included), without running it: the stride doubles until the multiples of it fit."""
        stride = every
        while steps // stride + 1 > cap - 1:
            stride *= 2
        return steps // stride + 1 + (1 if steps % stride else 0)

    def finish(self, step: int, params: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        if not self.steps or self.steps[-1] != step:
            self.steps.append(step)
            self.thetas.append(flatten_params(params))
        return np.stack(self.thetas), np.asarray(self.steps, dtype=np.int64)


class EpochRecord:
    """Per-layer gradient norms, BatchNorm statistics, unit spreads and the extra
    evaluations, one entry per completed epoch; ``store`` puts them on the run."""

    def __init__(self, net: Any, layers: list[str], modes: list[EvalMode]) -> None:
        self.layers = layers
        self.modes = [m for m in modes if m.kind != "running"]
        self.grad_norms: dict[str, list[float]] = {layer: [] for layer in layers}
        self.stats: dict[str, list[np.ndarray]] = {name: [] for name in net.running_stats}
        self.spread: dict[str, list[float]] = {}
        self.evals: dict[str, dict[str, list[float]]] = {
            m.name: {"val_loss": [], "val_acc": []} for m in self.modes}

    def add(self, net: Any, norm_sums: dict[str, float], n_steps: int, split: Any, loss: str) -> None:
        for layer in self.layers:
            self.grad_norms[layer].append(norm_sums[layer] / n_steps)
        for name, stat in net.running_stats.items():
            self.stats[name].append(stat.copy())
        for layer, value in unit_spread(net.params, net.spec).items():
            self.spread.setdefault(layer, []).append(value)
        for mode in self.modes:
            X, y = split.X_val[mode.order], split.y_val[mode.order]
            val_loss, val_acc = evaluate(net, X, y, loss=loss, batch_size=mode.size, bn="batch")
            self.evals[mode.name]["val_loss"].append(float(val_loss))
            self.evals[mode.name]["val_acc"].append(float(val_acc))

    def keep(self, epochs: int) -> None:
        """Forget what an epoch interrupted half-way recorded: keep the first ``epochs``."""
        for series in [*self.grad_norms.values(), *self.stats.values(), *self.spread.values(),
                       *(curve for curves in self.evals.values() for curve in curves.values())]:
            del series[epochs:]

    def store(self, run: OptimizerRun) -> None:
        run.grad_norms = {k: np.asarray(v) for k, v in self.grad_norms.items()}
        run.running_stats = {k: np.asarray(v) for k, v in self.stats.items()}
        run.unit_spread = {k: np.asarray(v) for k, v in self.spread.items()}
        run.evals = self.evals
