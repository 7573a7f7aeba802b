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
that optimizer only, with the status ``diverged`` at that epoch; the others go on.

Nothing here prints or draws: ``train`` returns a ``TrainResult`` that renderers read.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optviz import budget, interrupts, validate
from optviz.errors import OptvizError
from optviz.nn.built import NETWORK_SETTINGS, built_settings
from optviz.nn.cnn_models import CONV_ARCHS
from optviz.nn.data import Dataset, Split, split_and_standardize
from optviz.nn.evaluation import TRAIN_LOSSES, EvalMode, eval_modes, evaluate, parse_eval_bn
from optviz.nn.losses import accuracy
from optviz.nn.model import EVAL_CHUNK, Model, build_model
from optviz.nn.recorders import MAX_SNAPSHOTS, EpochRecord, Snapshots
from optviz.nn.records import (
    OptimizerRun,
    TrainResult,
    TrainSettings,
    flatten_params,
    shared,
    unflatten_params,
)
from optviz.nn.stepper import Stepper, layer_of
from optviz.status import Outcome, Status

__all__ = ["TRAIN_LOSSES", "OptimizerRun", "Stepper", "TrainResult", "TrainSettings", "evaluate",
           "flatten_params", "train", "unflatten_params"]

OptimizerSpec = Any  # a name, (name, {hyper}), or an optviz.optim Optimizer

# What each run's ``settings`` records: the settings that shape its network, with the values
# it was built with (optviz.nn.built), its learning rate and its batches.
RUN_SETTINGS = (*NETWORK_SETTINGS, "lr", "batch_size", "steps_per_epoch")


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
    from optviz.optim import as_optimizer, is_optimizer_object, make_optimizer, parse_schedule

    if schedule_unit not in ("step", "epoch"):
        raise OptvizError(f"schedule unit must be 'step' or 'epoch', got {schedule_unit!r}")
    built = []
    for spec in specs:
        if is_optimizer_object(spec):
            opt = as_optimizer(spec)
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
    max_snapshots: int = MAX_SNAPSHOTS
    loss: str = "cross_entropy"
    modes: list[EvalMode] = field(default_factory=list)


def _epoch(ctx: _Context, stepper: Stepper, shuffle, snaps, run: OptimizerRun, norm_sums):
    """One pass over the training part; returns (losses, correct, validation output and loss),
    the last two None when a loss was not finite."""
    net, split = ctx.net, ctx.split
    losses, correct, loss = [], 0, 0.0
    # overflow on the way to divergence is expected; it is caught as a non-finite loss
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for batch in _batches(len(split.y_train), ctx.batch_size, shuffle, net.has_batchnorm):
            interrupts.check()
            yb = split.y_train[batch]
            loss, out = stepper.step(split.X_train[batch], yb, norm_sums)
            if not np.isfinite(loss):
                break
            if snaps:
                snaps.offer(stepper.count, stepper.params)
            losses.append(loss)
            correct += int(np.count_nonzero(np.argmax(out, axis=1) == yb))
        run.step_loss.extend(losses)
        if not np.isfinite(loss):
            return losses, correct, None, None
        val_out = net.forward(split.X_val, False)
        val_loss, _ = ctx.loss_fn(val_out, split.y_val)
    if not np.isfinite(val_loss):
        return losses, correct, None, None
    return losses, correct, val_out, val_loss


def _train_one(ctx: _Context, opt, label: str, epochs: int, shuffle: np.random.Generator,
               callback: Callable[[str, int, OptimizerRun], None] | None) -> OptimizerRun:
    """Train ctx.net (already at the initial state) with ``opt``; stop at a non-finite loss."""
    net, split = ctx.net, ctx.split
    run = OptimizerRun(label, opt.name, dict(opt.hyperparameters))
    record = EpochRecord(net, ctx.layers, ctx.modes)
    stepper = Stepper(net, opt, ctx.loss_fn, ctx.kinds, ctx.weight_decay, ctx.l1)
    snaps = Snapshots(ctx.record_weights, ctx.max_snapshots) if ctx.record_weights else None
    if snaps:
        snaps.offer(0, stepper.params)
    done = 0  # epochs recorded in full: Ctrl-C may land anywhere, in the bookkeeping too
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            norm_sums = dict.fromkeys(ctx.layers, 0.0)
            losses, correct, val_out, val_loss = _epoch(ctx, stepper, shuffle, snaps, run, norm_sums)
            if val_out is None:
                run.outcome = Outcome(Status.DIVERGED, epoch)
                break
            run.train_loss.append(float(np.mean(losses)))
            run.train_acc.append(correct / len(split.y_train))
            run.val_loss.append(float(val_loss))
            run.val_acc.append(accuracy(val_out, split.y_val))
            run.lr.append(float(np.mean(stepper.last_lr)))
            record.add(net, norm_sums, len(losses), split, ctx.loss)
            run.epoch_time.append(time.perf_counter() - start)
            done = epoch
            if callback is not None:
                callback(label, epoch, run)
    except KeyboardInterrupt:
        # Ctrl-C: keep the completed epochs, nothing of the one it cut; the caller stops and reports them.
        for series in (run.train_loss, run.train_acc, run.val_loss, run.val_acc, run.lr, run.epoch_time):
            del series[done:]
        record.keep(done)
        run.outcome = Outcome(Status.INTERRUPTED, min(done + 1, epochs))  # the epochs before it are recorded
    record.store(run)
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
    max_snapshots: int = MAX_SNAPSHOTS,
    labels: Sequence[str] | None = None,
    eval_bn: str | Sequence[str] = "running",
) -> TrainResult:
    """Train the same network with each optimizer and return per-epoch records.

    ``data``: a ``Dataset`` (split stratified with ``val_fraction`` and standardized
    on the training part, seeded by ``seed``) or a ready ``Split``.
    ``optimizers``: names (``"adam"``), ``(name, {hyper})`` pairs (``("adam",
    {"lr": 1e-3, "beta1": 0.8})``) or optimizer objects (an optviz.optim optimizer, or any
    object with ``init(params)`` and ``step(params, grad, state)``, used with its own settings). ``lr`` and
    ``schedule`` (a Schedule or the CLI syntax such as ``"exp:0.95"``) apply to the
    named ones that do not set their own; ``schedule_unit`` "step" counts optimizer
    steps, "epoch" counts epochs (α₀/(1 + d·e), docs/math.md §5).
    ``model``: build_model keyword arguments (in_dim and out_dim come from the data)
    or a built Model; default an MLP of depth 2, width 32, BatchNorm, ReLU.
    ``loss``: "cross_entropy" or "focal" (γ = 2). ``weight_decay`` is λ₂ of the L2
    penalty λ₂ Σ w² (gradient 2λ₂w; torch's weight_decay=2λ₂), ``l1`` is λ₁ of
    λ₁ Σ |w|; both apply to weights only (not biases, norm parameters or PReLU slopes).
    ``callback(label, epoch, run)`` is called after every epoch (progress display).
    ``labels``: one name per optimizer for the records (default: the optimizer names,
    made distinct when one is listed twice). ``eval_bn``: "running" (the default), or a
    comma list adding "batch[:N]" (validation batches of N samples, the training batch
    size by default, normalized with their own statistics, as a network left in
    training mode does) and "sorted[:N]" (the same batches cut from the validation part
    sorted by class): each run records them per epoch in ``run.evals``. Ctrl-C ends
    the optimizer that is training (``interrupted in epoch k``: epochs 1 … k−1 are
    recorded in full and nothing of epoch k, or all epochs when it came after the last)
    and the ones after it are kept as ``not_started`` runs.

    ``record_weights=k`` (opt-in, for loss landscapes) keeps a copy of all weights
    every k optimizer steps (``"epoch"``: at the end of every epoch) in ``run.snapshots``, at most ``max_snapshots`` of them
    (3 to 100)
    (the start and the final weights always included): past the cap the spacing
    doubles and every other snapshot is dropped, so memory stays below
    ``max_snapshots`` × (number of parameters) × 4 bytes per optimizer.
    """
    _check_train_arguments(epochs, batch_size, weight_decay, l1, loss, optimizers, record_weights, max_snapshots)
    modes_wanted = parse_eval_bn(eval_bn)
    split, data_info, n_classes = _split(data, val_fraction, seed, _image_model(model))
    n_train, in_dim = split.X_train.shape
    notes = []
    if batch_size > n_train:
        notes.append(f"batch size {batch_size} is larger than the {n_train} training samples; using {n_train}")
        batch_size = n_train
    data_info.update(n_train=n_train, n_val=len(split.y_val), n_features=in_dim, n_classes=n_classes)
    net = _network(model, seed, in_dim, n_classes, getattr(data, "image_shape", None))
    _check_batch_memory(net, batch_size)
    split = Split(split.X_train.astype(net.dtype), split.y_train, split.X_val.astype(net.dtype), split.y_val)
    steps_per_epoch = len(_batches(n_train, batch_size, np.random.default_rng(0), net.has_batchnorm))
    opts = _make_optimizers(optimizers, lr, schedule, schedule_unit, steps_per_epoch)
    if labels is not None and (len(labels) != len(opts) or len(set(labels)) != len(labels)):
        raise OptvizError(f"{{labels}} must give one distinct label per optimizer ({len(opts)}), got {list(labels)}",
                          param="labels")
    initial = net.get_state()
    kinds = net.param_kinds
    every = steps_per_epoch if record_weights == "epoch" else (int(record_weights) if record_weights else None)
    modes = eval_modes(modes_wanted, batch_size, split.y_val, seed)
    context = _Context(net, split, TRAIN_LOSSES[loss], kinds, list(dict.fromkeys(layer_of(k) for k in kinds)),
                       weight_decay, l1, batch_size, every, int(max_snapshots), loss, modes)
    own = built_settings(net.spec)
    own.update(batch_size=batch_size, steps_per_epoch=steps_per_epoch)
    runs = _train_all(context, opts, list(labels) if labels is not None else _labels(opts), epochs, seed, callback)
    for run in runs:
        run.settings = {**own, "lr": run.hyperparameters.get("lr")}
        run.settings = {k: run.settings[k] for k in RUN_SETTINGS if k in run.settings}
    net.set_state(initial)
    settings = TrainSettings(
        epochs=epochs, batch_size=batch_size, lr=shared([r.settings["lr"] for r in runs]),
        schedule=schedule if isinstance(schedule, str) or schedule is None else repr(schedule),
        schedule_unit=schedule_unit, loss=loss, weight_decay=weight_decay, l1=l1, seed=seed,
        val_fraction=val_fraction, steps_per_epoch=steps_per_epoch, record_weights=record_weights,
        max_snapshots=max_snapshots, notes=tuple(notes), interrupted=any(r.interrupted for r in runs),
        eval_bn=tuple(m.name for m in modes))
    return TrainResult(runs, dict(net.spec), settings, data_info, initial, split)


def _train_all(ctx: _Context, opts: list, labels: list[str], epochs: int, seed: int,
               callback: Callable[[str, int, OptimizerRun], None] | None) -> list[OptimizerRun]:
    """Each optimizer from the same initial state, dropout masks and minibatch order; after
    Ctrl-C the optimizers whose turn had not come are kept as ``not_started`` runs."""
    net = ctx.net
    initial = net.get_state()
    runs: list[OptimizerRun] = []
    for opt, label in zip(opts, labels, strict=True):
        if runs and runs[-1].outcome.status in (Status.INTERRUPTED, Status.NOT_STARTED):
            runs.append(OptimizerRun(label, opt.name, dict(opt.hyperparameters), Outcome(Status.NOT_STARTED)))
            continue
        net.set_state(initial)
        net.seed_dropout(seed)
        shuffle = np.random.default_rng([seed, 7])  # same minibatch order for every optimizer
        runs.append(_train_one(ctx, opt, label, epochs, shuffle, callback))
    return runs


def _check_train_arguments(epochs, batch_size, weight_decay, l1, loss, optimizers, record_weights,
                           max_snapshots) -> None:
    validate.whole("epochs", epochs)
    validate.whole("batch_size", batch_size)
    validate.non_negative("weight_decay", weight_decay)
    validate.non_negative("l1", l1)
    validate.one_of("loss", loss, TRAIN_LOSSES)
    if not optimizers:
        raise OptvizError("give at least one optimizer")
    if record_weights is not None and record_weights != "epoch":
        if isinstance(record_weights, str):
            raise OptvizError(f"{{record_weights}} must be a whole number of steps ≥ 1 or 'epoch', "
                              f"got {record_weights!r}", param="record_weights")
        validate.whole("record_weights", record_weights)
    validate.whole("max_snapshots", max_snapshots, 3, MAX_SNAPSHOTS)


def check_network(data: Dataset, model: dict[str, Any], batch_size: int, val_fraction: float = 0.2) -> None:
    """Build the network ``model`` (build_model keyword arguments) for ``data`` as :func:`train`
    would, and check that its training batches fit the memory budget: what train would refuse
    of this network is refused here, before any training (of it or of others beside it)."""
    counts = np.unique(np.asarray(data.y), return_counts=True)[1]
    n_train = int(sum(n - round(val_fraction * n) for n in counts))  # as the stratified split leaves
    net = _network(model, int(model.get("seed", 0)), data.X.shape[1], data.n_classes, data.image_shape)
    _check_batch_memory(net, min(batch_size, max(n_train, 1)))


def _check_batch_memory(net: Model, batch_size: int) -> None:
    if net.has_conv:
        batch = max(batch_size, EVAL_CHUNK)
        budget.fits(f"a training batch of {batch} images", batch * net.memory_per_sample(), "batch_size",
                    "choose a smaller batch size, smaller images or fewer channels")


def _image_model(model: Model | dict[str, Any] | None) -> bool:
    arch = model.spec.get("arch") if isinstance(model, Model) else (model or {}).get("arch", "mlp")
    return arch in CONV_ARCHS


def _split(data: Dataset | Split, val_fraction: float, seed: int, per_channel: bool = False
           ) -> tuple[Split, dict[str, Any], int]:
    """The standardized train/validation split (per channel of the images for an image model),
    a description of the data and its number of classes."""
    if isinstance(data, Dataset):
        split, _ = split_and_standardize(data, val_fraction, seed, per_channel and data.image_shape is not None)
        return split, {"name": data.name, "classes": list(data.classes)}, data.n_classes
    n_classes = int(max(data.y_train.max(), data.y_val.max())) + 1
    return data, {"name": "", "classes": [str(k) for k in range(n_classes)]}, n_classes


def _network(model: Model | dict[str, Any] | None, seed: int, in_dim: int, n_classes: int,
             image_shape: tuple[int, int, int] | None = None) -> Model:
    """The model to train: a built one (checked against the data), or built from keyword arguments
    (an image model reads the data's ``image_shape`` unless it is given)."""
    if isinstance(model, Model):
        for key, want in (("in_dim", in_dim), ("out_dim", n_classes)):
            if model.spec.get(key, want) != want:
                raise OptvizError(f"the model has {key}={model.spec[key]}, the data needs {want}")
        return model
    spec = {"arch": "mlp", "depth": 2, "width": 32, "norm": "bn", "seed": seed, **(model or {})}
    if spec["arch"] in CONV_ARCHS and spec.get("image_shape") is None and image_shape is not None:
        spec["image_shape"] = image_shape
    known = set(inspect.signature(build_model).parameters)
    unknown = sorted(set(spec) - known)
    if unknown:
        raise OptvizError(f"unknown model setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    for key, want in (("in_dim", in_dim), ("out_dim", n_classes)):
        if spec.setdefault(key, want) != want:
            raise OptvizError(f"{key}={spec[key]} does not fit the data, which needs {want}")
    return build_model(**spec)
