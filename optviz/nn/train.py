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

import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optviz.errors import OptvizError
from optviz.nn.data import Dataset, Split, split_and_standardize
from optviz.nn.losses import accuracy, focal_loss, l1_penalty, l2_penalty, softmax_cross_entropy
from optviz.nn.model import Model, build_model

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

    def run(self, label: str) -> OptimizerRun:
        for r in self.runs:
            if r.label == label:
                return r
        raise KeyError(label)


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


def _objective_grads(ctx: _Context, params, grads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """∇ of the data loss plus λ₂ Σ w² + λ₁ Σ |w| (weights only)."""
    grads = dict(grads)
    for lam, penalty in ((ctx.weight_decay, l2_penalty), (ctx.l1, l1_penalty)):
        if lam:
            _, extra = penalty(params, ctx.kinds, lam)
            grads.update({k: grads[k] + g for k, g in extra.items()})
    return grads


def _layer_norms(ctx: _Context, grads: dict[str, np.ndarray]) -> dict[str, float]:
    squares = dict.fromkeys(ctx.layers, 0.0)
    for name, g in grads.items():
        squares[_layer_of(name)] += float(np.sum(g.astype(np.float64) ** 2))
    return {layer: float(np.sqrt(sq)) for layer, sq in squares.items()}


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
    params = net.params
    state = opt.init(params)
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        losses, correct = [], 0
        norm_sums = dict.fromkeys(ctx.layers, 0.0)
        # overflow on the way to divergence is expected; it is caught as a non-finite loss
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for batch in _batches(len(split.y_train), ctx.batch_size, shuffle, net.has_batchnorm):
                out = net.forward(split.X_train[batch], True)
                loss, dout = ctx.loss_fn(out, split.y_train[batch])
                if not np.isfinite(loss):
                    break
                grads = net.backward(dout)
                for layer, norm in _layer_norms(ctx, grads).items():
                    norm_sums[layer] += norm
                step_lr = opt.learning_rate(state.count)
                params, state = opt.step(params, _objective_grads(ctx, params, grads), state)
                net.params = params
                losses.append(loss)
                correct += int(np.sum(np.argmax(out, axis=1) == split.y_train[batch]))
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
        run.lr.append(float(np.mean(step_lr)))
        for layer in ctx.layers:
            grad_norms[layer].append(norm_sums[layer] / len(losses))
        for name, stat in net.running_stats.items():
            stats[name].append(stat.copy())
        run.epoch_time.append(time.perf_counter() - start)
        if callback is not None:
            callback(label, epoch, run)
    run.grad_norms = {k: np.asarray(v) for k, v in grad_norms.items()}
    run.running_stats = {k: np.asarray(v) for k, v in stats.items()}
    run.final_state = net.get_state()
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

    context = _Context(net, split, loss_fn, kinds, layers, weight_decay, l1, batch_size)
    runs = []
    for opt, label in zip(opts, labels, strict=True):
        net.set_state(initial)
        net.seed_dropout(seed)
        shuffle = np.random.default_rng([seed, 7])  # same minibatch order for every optimizer
        runs.append(_run_optimizer(context, opt, label, epochs, shuffle, callback))

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
    }
    return TrainResult(runs, dict(net.spec), settings, data_info, initial, split)
