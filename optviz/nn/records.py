"""What training produced, as typed records: one :class:`OptimizerRun` per optimizer, the
:class:`TrainSettings` it ran with, and the :class:`TrainResult` that holds them.

Nothing here computes; renderers, run files and landscapes read these records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from optviz.errors import OptvizError
from optviz.status import Outcome, Status


def is_buffer(name: str) -> bool:
    """Whether a state entry is a BatchNorm running statistic (not a parameter)."""
    return name.endswith((".running_mean", ".running_var"))


def flatten_params(params: dict[str, np.ndarray]) -> np.ndarray:
    """All parameters as one vector, in the dict's order (the model's order)."""
    return np.concatenate([np.ravel(v) for v in params.values()])


def unflatten_params(flat: np.ndarray, layout: list[tuple[str, tuple[int, ...]]]) -> dict[str, np.ndarray]:
    """Views of ``flat`` shaped by ``layout`` ((name, shape) pairs): the inverse of flatten."""
    out, lo = {}, 0
    for name, shape in layout:
        hi = lo + int(np.prod(shape, dtype=np.int64))
        out[name] = flat[lo:hi].reshape(shape)
        lo = hi
    if lo != flat.size:
        raise OptvizError(f"a weight vector of {flat.size} numbers does not fit a model of {lo}")
    return out


@dataclass
class OptimizerRun:
    """What one optimizer did, epoch by epoch (lists have one entry per completed epoch).

    ``outcome``: how the run ended (``ok``, ``diverged`` or ``interrupted``, with the
    epoch); ``status`` is its sentence ("diverged at epoch 3"). ``train_loss``: mean over
    the epoch's minibatches of the data loss (without the penalty) in training mode;
    ``train_acc`` likewise; ``val_loss``/``val_acc``: the validation part in evaluation
    mode at the end of the epoch; ``lr``: the learning rate of the epoch's last step;
    ``epoch_time``: seconds for the epoch's steps and evaluation. ``step_loss``: the data
    loss of every step. ``grad_norms``: for each layer (e.g. "layer1.linear",
    "block2.norm1") the mean over the epoch's steps of the 2-norm of its data-loss
    gradient, shape (epochs,). ``running_stats``: each BatchNorm running statistic at the
    end of each epoch, shape (epochs, width). ``final_state``: parameters and running
    statistics after the last step taken.

    With ``train(record_weights=k)``: ``snapshots`` (S, P) float32, each row all
    parameters flattened in the model's order (``TrainResult.param_layout``), taken
    after ``snapshot_steps[i]`` optimizer steps (step 0 is the start, the last row the
    final weights); None when weights were not recorded.
    """

    label: str
    optimizer: str
    hyperparameters: dict[str, Any]
    outcome: Outcome = field(default_factory=Outcome)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    epoch_time: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    grad_norms: dict[str, np.ndarray] = field(default_factory=dict)
    running_stats: dict[str, np.ndarray] = field(default_factory=dict)
    final_state: dict[str, np.ndarray] = field(default_factory=dict)
    snapshots: np.ndarray | None = None
    snapshot_steps: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"<OptimizerRun {self.label}: {len(self.train_loss)} epoch(s), {self.status}>"

    @property
    def status(self) -> str:
        """'ok', 'diverged at epoch 3' or 'interrupted in epoch 2' (for tables and JSON)."""
        return self.outcome.text

    @property
    def diverged(self) -> bool:
        return self.outcome.status is Status.DIVERGED

    @property
    def interrupted(self) -> bool:
        return self.outcome.status is Status.INTERRUPTED

    @property
    def best_val_acc(self) -> float:
        return max(self.val_acc) if self.val_acc else float("nan")


@dataclass(frozen=True)
class TrainSettings:
    """How a network was trained (the ``settings`` of ``train --json``, in this order).

    ``lr`` and ``schedule`` are the defaults of the optimizers that set none of their own;
    ``steps_per_epoch`` counts minibatches; ``notes`` are things the user should know (a
    batch size clamped to the data); ``interrupted`` says Ctrl-C ended the training.
    """

    epochs: int
    batch_size: int
    lr: float | None
    schedule: str | None
    schedule_unit: str
    loss: str
    weight_decay: float
    l1: float
    seed: int
    val_fraction: float
    steps_per_epoch: int
    record_weights: int | str | None
    max_snapshots: int
    notes: tuple[str, ...] = ()
    interrupted: bool = False

    def __getitem__(self, key: str) -> Any:
        """Read a setting by name, as from the JSON document (``settings["epochs"]``)."""
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, key)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["notes"] = list(self.notes)
        return out


@dataclass
class TrainResult:
    """All optimizers' runs plus what is needed to reproduce or re-evaluate them."""

    runs: list[OptimizerRun]
    model_spec: dict[str, Any]
    settings: TrainSettings
    data_info: dict[str, Any]
    initial_state: dict[str, np.ndarray]
    split: Any = None

    def __repr__(self) -> str:
        data = self.data_info.get("name", "data") if isinstance(self.data_info, dict) else "data"
        return f"<TrainResult {data}: {', '.join(r.label for r in self.runs)}; {', '.join(r.status for r in self.runs)}>"

    def run(self, label: str | None = None) -> OptimizerRun:
        """The run called ``label`` (the first run when None); unknown labels raise OptvizError."""
        if label is None:
            return self.runs[0]
        for r in self.runs:
            if r.label == label:
                return r
        raise OptvizError(f"no optimizer run {label!r}; the runs are: {', '.join(r.label for r in self.runs)}")

    @property
    def interrupted(self) -> bool:
        return self.settings.interrupted

    @property
    def param_layout(self) -> list[tuple[str, tuple[int, ...]]]:
        """(name, shape) of every parameter, in the order of a flattened snapshot."""
        return [(k, tuple(v.shape)) for k, v in self.initial_state.items() if not is_buffer(k)]

    def model(self, label: str | None = None, state: dict[str, np.ndarray] | None = None):
        """A fresh Model built from ``model_spec`` at a run's final weights (or at ``state``)."""
        from optviz.nn.model import build_model

        net = build_model(**self.model_spec)
        net.set_state(self.run(label).final_state if state is None else state)
        return net
