"""Train one network with several optimizers from the same start, and record plain data.

Each optimizer (from optviz.optim, the same code that moves points on a surface)
starts from the same initial weights, sees the same minibatch order and the same
dropout masks, and runs for ``epochs`` epochs:

    for each minibatch B (a fresh shuffle each epoch):
        out = model(X_B, train=True)
        L = loss(out, y_B) + λ₂ Σ_w w² + λ₁ Σ_w |w|      (w: weights only)
        params, state = opt.step(params, ∇L, state)

At the end of every epoch the model is evaluated (running BatchNorm statistics,
no dropout) on the validation part. A non-finite training or validation loss stops
that optimizer only, with status "diverged at epoch k"; the others go on.

Nothing here prints or draws: ``train`` returns a ``TrainResult`` that renderers read.
"""

from __future__ import annotations

import contextlib
import inspect
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optviz.errors import OptvizError
from optviz.nn.data import Dataset, Split, split_and_standardize
from optviz.nn.layers import BatchNorm1d, Dropout
from optviz.nn.losses import accuracy, focal_loss, l1_penalty, l2_penalty, softmax_cross_entropy
from optviz.nn.model import Model, build_model
from optviz.nn.module import named_leaves

TRAIN_LOSSES = {"cross_entropy": softmax_cross_entropy, "focal": focal_loss}
OptimizerSpec = Any  # a name, (name, {hyper}), or an optviz.optim Optimizer


@dataclass
class OptimizerRun:
    """What one optimizer did, epoch by epoch (lists have one entry per completed epoch).

    ``train_loss``: mean over the epoch's minibatches of the data loss (without the
    penalty) in training mode; ``train_acc`` likewise; ``val_loss``/``val_acc``: the
    validation part in evaluation mode at the end of the epoch; ``lr``: the learning
    rate of the epoch's last step; ``epoch_time``: seconds for the epoch's steps and
    evaluation. ``step_loss``: the data loss of every step. ``grad_norms``: for each
    layer (e.g. "layer1.linear", "block2.norm1") the mean over the epoch's steps of
    the 2-norm of its data-loss gradient, shape (epochs,). ``running_stats``: each
    BatchNorm running statistic at the end of each epoch, shape (epochs, width).
    ``final_state``: parameters and running statistics after the last step taken.

    With ``train(record_weights=k)``: ``snapshots`` (S, P) float32, each row all
    parameters flattened in the model's order (``TrainResult.param_layout``), taken
    after ``snapshot_steps[i]`` optimizer steps (step 0 is the start, the last row the
    final weights); None when weights were not recorded.
    """

    label: str
    optimizer: str
    hyperparameters: dict[str, Any]
    status: str = "ok"
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

    @property
    def diverged(self) -> bool:
        return self.status != "ok"

    @property
    def best_val_acc(self) -> float:
        return max(self.val_acc) if self.val_acc else float("nan")


@dataclass
class TrainResult:
    """All optimizers' runs plus what is needed to reproduce or re-evaluate them."""

    runs: list[OptimizerRun]
    model_spec: dict[str, Any]
    settings: dict[str, Any]
    data_info: dict[str, Any]
    initial_state: dict[str, np.ndarray]
    split: Split | None = None

    def run(self, label: str | None = None) -> OptimizerRun:
        """The run called ``label`` (the first run when None); unknown labels raise OptvizError."""
        if label is None:
            return self.runs[0]
        for r in self.runs:
            if r.label == label:
                return r
        raise OptvizError(
            f"no optimizer run {label!r}; the runs are: {', '.join(r.label for r in self.runs)}"
        )

    @property
    def param_layout(self) -> list[tuple[str, tuple[int, ...]]]:
        """(name, shape) of every parameter, in the order of a flattened snapshot."""
        params = {k: v for k, v in self.initial_state.items() if not _is_buffer(k)}
        return [(k, tuple(v.shape)) for k, v in params.items()]

    def model(self, label: str | None = None, state: dict[str, np.ndarray] | None = None) -> Model:
        """A fresh Model built from ``model_spec`` at a run's final weights (or at ``state``)."""
        net = build_model(**self.model_spec)
        net.set_state(self.run(label).final_state if state is None else state)
        return net


class _EpochSchedule:
    """A step schedule read at the epoch count: η(k) = schedule(⌊k / steps_per_epoch⌋)."""

    def __init__(self, schedule: Callable[[int], Any], steps_per_epoch: int) -> None:
        self.schedule = schedule
        self.steps_per_epoch = steps_per_epoch
        self.lr0 = getattr(schedule, "lr0", None)

    def __call__(self, k: int):
        return self.schedule(k // self.steps_per_epoch)

    def describe(self) -> str:
        inner = self.schedule.describe() if hasattr(self.schedule, "describe") else "custom"
        return f"{inner} per epoch"


def _make_optimizers(
    specs: Sequence[OptimizerSpec], lr: float, schedule, schedule_unit: str, steps_per_epoch: int
) -> list:
    from optviz.optim import make_optimizer, parse_schedule
    from optviz.optim.base import Optimizer

    if schedule_unit not in ("step", "epoch"):
        raise OptvizError(f"schedule unit must be 'step' or 'epoch', got {schedule_unit!r}")
    built = []
    for spec in specs:
        if isinstance(spec, Optimizer):
            opt = spec
        else:
            name, hyper = (spec, {}) if isinstance(spec, str) else spec
            hyper = dict(hyper)
            base_lr = float(hyper.pop("lr", lr))
            sched = hyper.pop("schedule", schedule)
            if isinstance(sched, str) or sched is None:
                sched = parse_schedule(sched, base_lr)
            elif hasattr(sched, "with_lr"):
                sched = sched.with_lr(base_lr)
            if schedule_unit == "epoch":
                sched = _EpochSchedule(sched, steps_per_epoch)
            opt = make_optimizer(name, lr=sched, **hyper)
        if getattr(opt, "needs_hessian", False):
            raise OptvizError(
                f"{opt.name} needs a Hessian, which a network does not provide; "
                "choose a first-order optimizer for train"
            )
        built.append(opt)
    return built


def _labels(optimizers: list) -> list[str]:
    names = [opt.name for opt in optimizers]
    if len(set(names)) == len(names):
        return names
    labels = [repr(opt) for opt in optimizers]
    if len(set(labels)) == len(labels):
        return labels
    return [f"{label} #{i + 1}" for i, label in enumerate(labels)]


def _batches(
    n: int, batch_size: int, rng: np.random.Generator, merge_single: bool
) -> list[np.ndarray]:
    order = rng.permutation(n)
    batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    # BatchNorm cannot train on a batch of one: fold a lone last sample into the batch before
    if merge_single and len(batches) > 1 and len(batches[-1]) == 1:
        batches[-2] = np.concatenate([batches[-2], batches.pop()])
    return batches


def _layer_of(name: str) -> str:
    return name.rsplit(".", 1)[0]


def _is_buffer(name: str) -> bool:
    return name.endswith((".running_mean", ".running_var"))


_GROUP = 32768


class _Packer:
    """Hand the optimizer the parameters as a few flat arrays of about 32k numbers each.

    Consecutive parameters (in the model's order) are concatenated into groups of at
    least ``_GROUP`` numbers (the last group may be smaller); the model's arrays are
    views of the groups. Every built-in update rule is element-wise, so updating the
    groups gives bit-for-bit the numbers of updating each array. It saves a dozen
    numpy calls per small array, and 32k-number groups keep the rule's temporaries in
    cache: Adam on the default network takes 0.23 ms per step instead of 0.37 ms per
    array (0.55 ms with a separate call for each of its 28 arrays).
    """

    def __init__(self, params: dict[str, np.ndarray]) -> None:
        self.order = list(params)
        self.groups: list[list[str]] = [[]]
        count = 0
        for name, value in params.items():
            if count >= _GROUP:
                self.groups.append([])
                count = 0
            self.groups[-1].append(name)
            count += value.size
        self.shapes = {k: v.shape for k, v in params.items()}
        self.bounds = []
        for group in self.groups:
            sizes = [params[k].size for k in group]
            self.bounds.append(np.cumsum([0, *sizes]).tolist())

    def pack(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {
            f"group{i}": np.concatenate([arrays[k].ravel() for k in group])
            for i, group in enumerate(self.groups)
        }

    def unpack(self, packed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The parameters by name, in the model's order, as views of the groups."""
        out = {}
        for i, group in enumerate(self.groups):
            flat, bounds = packed[f"group{i}"], self.bounds[i]
            for k, lo, hi in zip(group, bounds[:-1], bounds[1:], strict=True):
                out[k] = flat[lo:hi].reshape(self.shapes[k])
        return {k: out[k] for k in self.order}


def _elementwise(opt) -> bool:
    from optviz.optim import OPTIMIZERS

    return type(opt) in OPTIMIZERS.values() and not getattr(opt, "needs_hessian", False)


def flatten_params(params: dict[str, np.ndarray]) -> np.ndarray:
    """All parameters as one vector, in the dict's order (the model's order)."""
    return np.concatenate([np.ravel(v) for v in params.values()])


def unflatten_params(
    flat: np.ndarray, layout: list[tuple[str, tuple[int, ...]]]
) -> dict[str, np.ndarray]:
    """Views of ``flat`` shaped by ``layout`` ((name, shape) pairs): the inverse of flatten."""
    out, lo = {}, 0
    for name, shape in layout:
        hi = lo + int(np.prod(shape, dtype=np.int64))
        out[name] = flat[lo:hi].reshape(shape)
        lo = hi
    if lo != flat.size:
        raise OptvizError(f"a weight vector of {flat.size} numbers does not fit a model of {lo}")
    return out


class _Snapshots:
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

    def finish(self, step: int, params: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        if not self.steps or self.steps[-1] != step:
            self.steps.append(step)
            self.thetas.append(flatten_params(params))
        return np.stack(self.thetas), np.asarray(self.steps, dtype=np.int64)


@contextlib.contextmanager
def _no_dropout_keep_stats(net: Model) -> Iterator[None]:
    """Dropout off and BatchNorm running statistics (and ρ) restored on exit."""
    leaves = [leaf for _, leaf in named_leaves(net.net)]
    saved = [(leaf, dict(leaf.buffers), getattr(leaf, "rho", None)) for leaf in leaves]
    drops = [(leaf, leaf.p) for leaf in leaves if isinstance(leaf, Dropout)]
    for leaf, _ in drops:
        leaf.p = 0.0
    try:
        yield
    finally:
        for leaf, p in drops:
            leaf.p = p
        for leaf, buffers, rho in saved:
            leaf.buffers = buffers
            if rho is not None:
                leaf.rho = rho


def evaluate(
    net: Model,
    X: np.ndarray,
    y: np.ndarray,
    *,
    loss: str = "cross_entropy",
    batch_size: int | None = None,
    bn: str = "running",
    stats_from: np.ndarray | None = None,
) -> tuple[float, float]:
    """Loss and accuracy of ``net`` on (X, y) without changing the model; no dropout.

    ``bn`` says which statistics BatchNorm normalizes with:

    - ``"running"``: the running averages kept during training (evaluation mode, the
      default and what ``train`` reports);
    - ``"batch"``: the statistics of each evaluation batch of ``batch_size`` samples
      (what a network left in training mode does at test time; batches are taken in
      the order of X, so sort X to get class-sorted batches);
    - ``"recompute"``: the statistics of all of ``stats_from`` (default X) in one
      batch, then evaluation mode with them (BatchNorm "recalibration").

    ``batch_size`` None evaluates X in one batch. The loss is the mean over samples.
    """
    if bn not in ("running", "batch", "recompute"):
        raise OptvizError(f"bn must be 'running', 'batch' or 'recompute', got {bn!r}")
    loss_fn = TRAIN_LOSSES[loss]
    n = len(y)
    size = n if batch_size is None else int(batch_size)
    if size < 1:
        raise OptvizError(f"batch size must be ≥ 1, got {batch_size}")
    total, correct = 0.0, 0
    with _no_dropout_keep_stats(net), np.errstate(over="ignore", invalid="ignore"):
        if bn == "recompute" and net.has_batchnorm:
            for _, leaf in named_leaves(net.net):
                if isinstance(leaf, BatchNorm1d):
                    leaf.rho = 0.0  # running ← batch: the statistics of the whole set
            net.forward(X if stats_from is None else stats_from, True)
        use_batch = bn == "batch" and net.has_batchnorm
        for lo in range(0, n, size):
            xb, yb = X[lo : lo + size], y[lo : lo + size]
            if use_batch and len(yb) < 2:
                raise OptvizError(
                    "BatchNorm with batch statistics needs batches of 2 or more samples"
                )
            out = net.forward(xb, use_batch)
            value, _ = loss_fn(out, yb)
            total += value * len(yb)
            correct += int(np.sum(np.argmax(out, axis=1) == yb))
    return total / n, correct / n


@dataclass
class _Context:
    """What every optimizer's run shares."""

    net: Model
    split: Split
    loss_fn: Callable
    kinds: dict[str, str]
    layers: list[str]
    weight_decay: float
    l1: float
    batch_size: int
    record_weights: int | None = None
    max_snapshots: int = 100


def _objective_grads(ctx, params, grads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """∇ of the data loss plus λ₂ Σ w² + λ₁ Σ |w| (weights only)."""
    if not (ctx.weight_decay or ctx.l1):
        return grads
    grads = dict(grads)
    for lam, penalty in ((ctx.weight_decay, l2_penalty), (ctx.l1, l1_penalty)):
        if lam:
            _, extra = penalty(params, ctx.kinds, lam)
            grads.update({k: grads[k] + g for k, g in extra.items()})
    return grads


def _add_layer_squares(squares: dict[str, float], grads: dict[str, np.ndarray]) -> None:
    """squares[layer] += ‖∂l/∂(layer's parameters)‖² for one step."""
    step: dict[str, float] = {}
    for name, g in grads.items():
        flat = g.ravel()
        layer = _layer_of(name)
        step[layer] = step.get(layer, 0.0) + float(np.dot(flat, flat))
    for layer, sq in step.items():
        squares[layer] += np.sqrt(sq)


class Stepper:
    """One optimizer training one network, a minibatch at a time (the inner loop of ``train``).

    ``step(X_B, y_B)`` does forward (training mode), the loss, backward, adds the
    penalty gradients and takes one optimizer step; it returns (loss, output). A
    non-finite loss returns before the update. ``params`` are the current weights.
    Exposed so that benchmarks time exactly what ``train`` runs.
    """

    def __init__(
        self,
        net: Model,
        opt,
        loss_fn: Callable,
        kinds: dict[str, str],
        weight_decay: float = 0.0,
        l1: float = 0.0,
    ) -> None:
        self.net, self.opt, self.loss_fn = net, opt, loss_fn
        self.kinds, self.weight_decay, self.l1 = kinds, weight_decay, l1
        self.params = net.params
        self.packer = _Packer(self.params) if _elementwise(opt) else None
        self._opt_params = self.packer.pack(self.params) if self.packer else self.params
        self.state = opt.init(self._opt_params)
        self.count = 0
        self.last_lr = opt.learning_rate(0)

    def step(self, xb: np.ndarray, yb: np.ndarray, norm_sums: dict[str, float] | None = None):
        net = self.net
        out = net.forward(xb, True)
        loss, dout = self.loss_fn(out, yb)
        if not np.isfinite(loss):
            return loss, out
        grads = net.backward(dout)
        if norm_sums is not None:
            _add_layer_squares(norm_sums, grads)
        grads = _objective_grads(self, self.params, grads)
        self.last_lr = self.opt.learning_rate(self.state.count)
        packed = self.packer.pack(grads) if self.packer else grads
        self._opt_params, self.state = self.opt.step(
            self._opt_params, packed, self.state, lr=self.last_lr
        )
        self.params = self.packer.unpack(self._opt_params) if self.packer else self._opt_params
        net.params = self.params
        self.count += 1
        return loss, out


def _run_optimizer(
    ctx: _Context,
    opt,
    label: str,
    epochs: int,
    shuffle: np.random.Generator,
    callback: Callable[[str, int, OptimizerRun], None] | None,
) -> OptimizerRun:
    """Train ctx.net (already at the initial state) with ``opt``; stop at a non-finite loss."""
    net, split = ctx.net, ctx.split
    run = OptimizerRun(label, opt.name, dict(opt.hyperparameters))
    grad_norms: dict[str, list[float]] = {layer: [] for layer in ctx.layers}
    stats: dict[str, list[np.ndarray]] = {name: [] for name in net.running_stats}
    stepper = Stepper(net, opt, ctx.loss_fn, ctx.kinds, ctx.weight_decay, ctx.l1)
    snaps = _Snapshots(ctx.record_weights, ctx.max_snapshots) if ctx.record_weights else None
    if snaps:
        snaps.offer(0, stepper.params)
    epoch = 0
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            losses, correct = [], 0
            norm_sums = dict.fromkeys(ctx.layers, 0.0)
            # overflow on the way to divergence is expected; it is caught as a non-finite loss
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for batch in _batches(len(split.y_train), ctx.batch_size, shuffle, net.has_batchnorm):
                    yb = split.y_train[batch]
                    loss, out = stepper.step(split.X_train[batch], yb, norm_sums)
                    if not np.isfinite(loss):
                        break
                    if snaps:
                        snaps.offer(stepper.count, stepper.params)
                    losses.append(loss)
                    correct += int(np.count_nonzero(np.argmax(out, axis=1) == yb))
                run.step_loss.extend(losses)
                finite = np.isfinite(loss)
                if finite:
                    val_out = net.forward(split.X_val, False)
                    val_loss, _ = ctx.loss_fn(val_out, split.y_val)
                    finite = np.isfinite(val_loss)
            if not finite:
                run.status = f"diverged at epoch {epoch}"
                break
            run.train_loss.append(float(np.mean(losses)))
            run.train_acc.append(correct / len(split.y_train))
            run.val_loss.append(float(val_loss))
            run.val_acc.append(accuracy(val_out, split.y_val))
            run.lr.append(float(np.mean(stepper.last_lr)))
            for layer in ctx.layers:
                grad_norms[layer].append(norm_sums[layer] / len(losses))
            for name, stat in net.running_stats.items():
                stats[name].append(stat.copy())
            run.epoch_time.append(time.perf_counter() - start)
            if callback is not None:
                callback(label, epoch, run)
    except KeyboardInterrupt:
        # Ctrl-C: keep the completed epochs; the caller stops and reports them.
        run.status = f"interrupted in epoch {epoch}"
    run.grad_norms = {k: np.asarray(v) for k, v in grad_norms.items()}
    run.running_stats = {k: np.asarray(v) for k, v in stats.items()}
    run.final_state = net.get_state()
    if snaps:
        run.snapshots, run.snapshot_steps = snaps.finish(stepper.count, stepper.params)
    return run


def train(
    data: Dataset | Split,
    optimizers: Sequence[OptimizerSpec] = ("minibatch", "momentum", "adam"),
    model: Model | dict[str, Any] | None = None,
    epochs: int = 20,
    batch_size: int = 64,
    lr: float = 0.01,
    schedule=None,
    schedule_unit: str = "step",
    loss: str = "cross_entropy",
    weight_decay: float = 0.0,
    l1: float = 0.0,
    seed: int = 0,
    val_fraction: float = 0.2,
    callback: Callable[[str, int, OptimizerRun], None] | None = None,
    record_weights: int | str | None = None,
    max_snapshots: int = 100,
) -> TrainResult:
    """Train the same network with each optimizer and return per-epoch records.

    ``data``: a ``Dataset`` (split stratified with ``val_fraction`` and standardized
    on the training part, seeded by ``seed``) or a ready ``Split``.
    ``optimizers``: names (``"adam"``), ``(name, {hyper})`` pairs (``("adam",
    {"lr": 1e-3, "beta1": 0.8})``) or optviz.optim optimizer objects. ``lr`` and
    ``schedule`` (a Schedule or the CLI syntax such as ``"exp:0.95"``) apply to the
    named ones that do not set their own; ``schedule_unit`` "step" counts optimizer
    steps, "epoch" counts epochs (the notes' α₀/(1 + d·e)).
    ``model``: build_model keyword arguments (in_dim and out_dim come from the data)
    or a built Model; default an MLP of depth 2, width 32, BatchNorm, ReLU.
    ``loss``: "cross_entropy" or "focal" (γ = 2). ``weight_decay`` is λ₂ of the L2
    penalty λ₂ Σ w² (gradient 2λ₂w; torch's weight_decay=2λ₂), ``l1`` is λ₁ of
    λ₁ Σ |w|; both apply to weights only (not biases, norm parameters or PReLU slopes).
    ``callback(label, epoch, run)`` is called after every epoch (progress display).

    ``record_weights=k`` (opt-in, for loss landscapes) keeps a copy of all weights
    every k optimizer steps (``"epoch"``: at the end of every epoch) in ``run.snapshots``, at most ``max_snapshots`` of them
    (the start and the final weights always included): past the cap the spacing
    doubles and every other snapshot is dropped, so memory stays below
    ``max_snapshots`` × (number of parameters) × 4 bytes per optimizer.
    """
    if int(epochs) != epochs or epochs < 1:
        raise OptvizError(f"epochs must be a whole number ≥ 1, got {epochs}")
    if int(batch_size) != batch_size or batch_size < 1:
        raise OptvizError(f"batch size must be a whole number ≥ 1, got {batch_size}")
    if weight_decay < 0 or l1 < 0:
        raise OptvizError(f"weight decay and l1 must be ≥ 0, got {weight_decay} and {l1}")
    if loss not in TRAIN_LOSSES:
        raise OptvizError(
            f"unknown loss {loss!r} for train; choose one of: {', '.join(TRAIN_LOSSES)}"
        )
    if not optimizers:
        raise OptvizError("give at least one optimizer")
    if (
        record_weights is not None
        and record_weights != "epoch"
        and (
            isinstance(record_weights, str)
            or int(record_weights) != record_weights
            or record_weights < 1
        )
    ):
        raise OptvizError(
            f"record_weights must be a whole number of steps ≥ 1 or 'epoch', got {record_weights!r}"
        )
    if int(max_snapshots) != max_snapshots or max_snapshots < 3:
        raise OptvizError(f"max_snapshots must be a whole number ≥ 3, got {max_snapshots}")
    loss_fn = TRAIN_LOSSES[loss]

    if isinstance(data, Dataset):
        split, _ = split_and_standardize(data, val_fraction, seed)
        n_classes = data.n_classes
        data_info = {"name": data.name, "classes": list(data.classes)}
    else:
        split = data
        n_classes = int(max(split.y_train.max(), split.y_val.max())) + 1
        data_info = {"name": "", "classes": [str(k) for k in range(n_classes)]}
    n_train, in_dim = split.X_train.shape
    notes = []
    if batch_size > n_train:
        notes.append(f"batch size {batch_size} is larger than the {n_train} training samples; using {n_train}")
        batch_size = n_train
    data_info.update(
        n_train=n_train, n_val=len(split.y_val), n_features=in_dim, n_classes=n_classes
    )

    if isinstance(model, Model):
        net = model
        for key, want in (("in_dim", in_dim), ("out_dim", n_classes)):
            if net.spec.get(key, want) != want:
                raise OptvizError(f"the model has {key}={net.spec[key]}, the data needs {want}")
    else:
        spec = {"arch": "mlp", "depth": 2, "width": 32, "norm": "bn", "seed": seed, **(model or {})}
        known = set(inspect.signature(build_model).parameters)
        unknown = sorted(set(spec) - known)
        if unknown:
            raise OptvizError(
                f"unknown model setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        for key, want in (("in_dim", in_dim), ("out_dim", n_classes)):
            if spec.setdefault(key, want) != want:
                raise OptvizError(f"{key}={spec[key]} does not fit the data, which needs {want}")
        net = build_model(**spec)
    split = Split(
        split.X_train.astype(net.dtype), split.y_train, split.X_val.astype(net.dtype), split.y_val
    )

    steps_per_epoch = len(
        _batches(n_train, batch_size, np.random.default_rng(0), net.has_batchnorm)
    )
    opts = _make_optimizers(optimizers, lr, schedule, schedule_unit, steps_per_epoch)
    labels = _labels(opts)
    initial = net.get_state()
    kinds = net.param_kinds
    layers = list(dict.fromkeys(_layer_of(name) for name in kinds))

    context = _Context(
        net,
        split,
        loss_fn,
        kinds,
        layers,
        weight_decay,
        l1,
        batch_size,
        steps_per_epoch
        if record_weights == "epoch"
        else (int(record_weights) if record_weights else None),
        int(max_snapshots),
    )
    runs = []
    for opt, label in zip(opts, labels, strict=True):
        net.set_state(initial)
        net.seed_dropout(seed)
        shuffle = np.random.default_rng([seed, 7])  # same minibatch order for every optimizer
        runs.append(_run_optimizer(context, opt, label, epochs, shuffle, callback))
        if runs[-1].status.startswith("interrupted"):
            break

    net.set_state(initial)
    settings = {
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "schedule": schedule if isinstance(schedule, str) or schedule is None else repr(schedule),
        "schedule_unit": schedule_unit,
        "loss": loss,
        "weight_decay": weight_decay,
        "l1": l1,
        "seed": seed,
        "val_fraction": val_fraction,
        "steps_per_epoch": steps_per_epoch,
        "record_weights": record_weights,
        "max_snapshots": max_snapshots,
        "notes": notes,
        "interrupted": bool(runs and runs[-1].status.startswith("interrupted")),
    }
    return TrainResult(runs, dict(net.spec), settings, data_info, initial, split)
