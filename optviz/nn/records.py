"""What training produced, as typed records: one :class:`OptimizerRun` per optimizer, the
:class:`TrainSettings` it ran with, and the :class:`TrainResult` that holds them.

Nothing here computes; renderers, run files and landscapes read these records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
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

    ``unit_spread``: for each hidden layer of a plain MLP the largest difference between
    two of its units at the end of each epoch (:func:`optviz.nn.symmetry.unit_spread`;
    exactly 0 while the units are identical copies), shape (epochs,). ``evals``: the
    validation loss and accuracy per epoch under other BatchNorm statistics than the
    running ones (``{"batch:8": {"val_loss": [...], "val_acc": [...]}}``, see
    ``train(eval_bn=...)``). ``settings``: what this run was trained with: the settings
    that shape its network with the values it was built with (arch, norm, act, init,
    dropout, dtype; an MLP's depth and width, an image model's channels, blocks, growth,
    groups, shortcut, stages where they shape it, defaults resolved: see
    :func:`optviz.nn.built.built_settings`), and lr, batch_size, steps_per_epoch;
    ``model_spec``/``initial_state``: its network when the runs of a result do not share
    one (None: the result's).

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
    unit_spread: dict[str, np.ndarray] = field(default_factory=dict)
    evals: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    model_spec: dict[str, Any] | None = None
    initial_state: dict[str, np.ndarray] | None = None

    def __repr__(self) -> str:
        return f"<OptimizerRun {self.label}: {len(self.train_loss)} epoch(s), {self.status}>"

    @property
    def status(self) -> str:
        """'ok', 'diverged at epoch 3', 'interrupted in epoch 2' or 'not started' (for tables and JSON)."""
        return self.outcome.text

    @property
    def started(self) -> bool:
        return self.outcome.status is not Status.NOT_STARTED

    @property
    def best_epoch(self) -> int | None:
        """The epoch (from 1) of the best validation accuracy; None when no epoch finished."""
        return int(np.argmax(self.val_acc)) + 1 if self.val_acc else None

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

    ``lr``, ``batch_size`` and ``steps_per_epoch`` are the values every run shares (None
    when the runs differ: each run's own are in its ``settings``); ``schedule`` is the
    default of the optimizers that set none of their own; ``steps_per_epoch`` counts
    minibatches; ``notes`` are things the user should know (a batch size clamped to the
    data); ``interrupted`` says Ctrl-C ended the training. ``threads``: the BLAS/OpenMP
    threads the numerical work ran on (None: whatever the environment gave);
    ``varied``: the settings that differ between runs (``("norm", "lr")``);
    ``eval_bn``: the BatchNorm statistics the validation part is evaluated with.
    """

    epochs: int
    batch_size: int | None
    lr: float | None
    schedule: str | None
    schedule_unit: str
    loss: str
    weight_decay: float
    l1: float
    seed: int
    val_fraction: float
    steps_per_epoch: int | None
    record_weights: int | str | None
    max_snapshots: int
    notes: tuple[str, ...] = ()
    interrupted: bool = False
    threads: int | None = None
    varied: tuple[str, ...] = ()
    eval_bn: tuple[str, ...] = ("running",)

    def __getitem__(self, key: str) -> Any:
        """Read a setting by name, as from the JSON document (``settings["epochs"]``)."""
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, key)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("notes", "varied", "eval_bn"):
            out[key] = list(getattr(self, key))
        return out


@dataclass
class TrainResult:
    """All runs of one seed plus what is needed to reproduce or re-evaluate them.

    ``model_spec`` and ``initial_state`` are the network of the runs that set none of
    their own (every run, unless the runs differ in their network: see
    :func:`merge_results`)."""

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

    def lighten(self) -> TrainResult:
        """Drop what only the weights' figures, landscapes and run files read (weight
        snapshots, final and initial weights, step losses, running statistics, the data
        split), keeping the per-epoch records (curves, evaluations, unit spreads,
        gradient norms) a figure over seeds draws; returns ``self``."""
        for run in self.runs:
            run.snapshots = run.snapshot_steps = None
            run.final_state, run.running_stats, run.step_loss = {}, {}, []
            if run.initial_state is not None:
                run.initial_state = {}
        self.initial_state, self.split = {}, None
        return self

    def spec_of(self, run: OptimizerRun) -> dict[str, Any]:
        """The ``build_model`` arguments of ``run``'s network."""
        return self.model_spec if run.model_spec is None else run.model_spec

    def initial_of(self, run: OptimizerRun) -> dict[str, np.ndarray]:
        """The initial weights (and running statistics) of ``run``'s network."""
        return self.initial_state if run.initial_state is None else run.initial_state

    def model(self, label: str | None = None, state: dict[str, np.ndarray] | None = None):
        """A fresh Model built from the run's spec at its final weights (or at ``state``)."""
        from optviz.nn.model import build_model

        run = self.run(label)
        net = build_model(**self.spec_of(run))
        net.set_state(run.final_state if state is None else state)
        return net

    def groups(self) -> list[TrainResult]:
        """The runs split by network and batch size: each part a result of one network
        (what a loss landscape or a run file needs), in the order of first appearance."""
        parts: dict[tuple[int, Any], TrainResult] = {}
        for run in self.runs:
            own = run.settings
            key = (id(self.initial_of(run)), own.get("batch_size", self.settings.batch_size))
            if key not in parts:
                settings = replace(self.settings, batch_size=key[1], lr=own.get("lr", self.settings.lr),
                                   steps_per_epoch=own.get("steps_per_epoch", self.settings.steps_per_epoch))
                parts[key] = TrainResult([], dict(self.spec_of(run)), settings, self.data_info,
                                         self.initial_of(run), self.split)
            part = parts[key]
            if part.settings.lr != own.get("lr", part.settings.lr):
                part.settings = replace(part.settings, lr=None)
            part.runs.append(replace(run, model_spec=None, initial_state=None))
        return list(parts.values())


def shared(values: list[Any]) -> Any:
    """The one value all entries share, or None when they differ."""
    first = values[0] if values else None
    return first if all(v == first for v in values) else None


def merge_results(results: list[TrainResult], *, varied: tuple[str, ...] = (), threads: int | None = None,
                  notes: tuple[str, ...] = ()) -> TrainResult:
    """One result holding the runs of ``results`` (trainings of the same seed and data
    split, each of one network): every run keeps its own network in ``model_spec`` and
    ``initial_state`` when the networks differ, and the settings say only what all runs
    share (``lr``, ``batch_size``, ``steps_per_epoch`` None when they differ)."""
    first = results[0]
    runs: list[OptimizerRun] = []
    one_network = all(r.model_spec == first.model_spec for r in results)
    for res in results:
        for run in res.runs:
            runs.append(run if one_network else replace(run, model_spec=dict(res.model_spec),
                                                         initial_state=res.initial_state))
    started = [r for r in runs if r.settings] or runs
    settings = replace(
        first.settings, batch_size=shared([r.settings.get("batch_size") for r in started]),
        steps_per_epoch=shared([r.settings.get("steps_per_epoch") for r in started]),
        lr=shared([r.settings.get("lr") for r in started]), threads=threads, varied=tuple(varied),
        notes=tuple(dict.fromkeys([n for res in results for n in res.settings.notes] + list(notes))),
        interrupted=any(res.interrupted for res in results))
    return TrainResult(runs, dict(first.model_spec), settings, first.data_info, first.initial_state, first.split)
