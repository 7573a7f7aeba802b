"""Optimizers on a numpy network: :func:`train` and :func:`landscape`.

The same optimizer code that moves points on a surface updates every weight array of
the network (see :mod:`optviz.nn.train`, the engine these orchestrate).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from optviz import validate
from optviz.errors import OptvizError
from optviz.export import jsonable
from optviz.nn.built import built_settings, shared_model
from optviz.nn.cnn_models import CONV_ARCHS, ConvSettings, image_shape_of
from optviz.nn.cnn_models import parameter_count as conv_parameter_count
from optviz.nn.evaluation import parse_eval_bn
from optviz.nn.image_data import load_training_data
from optviz.nn.image_settings import (
    IMAGE_SETTINGS,
    check_image_settings,
    check_shortcut_used,
    default_epochs,
    given_settings,
    mlp_settings,
    one_stage,
)
from optviz.nn.interpolation import Interpolation
from optviz.nn.landscape import Landscape, LandscapeOptions, landscape_report
from optviz.nn.model import parameter_count
from optviz.nn.recorders import Snapshots
from optviz.nn.records import OptimizerRun, TrainResult, merge_results
from optviz.nn.runarchive import check_run_file_budget
from optviz.nn.train import check_network
from optviz.nn.train import train as train_network
from optviz.nn.variants import MODEL_KEYS, Variant, about_network, one_value, run_label, variants
from optviz.notebook import Shows
from optviz.optim import make_optimizer, optimizer_class
from optviz.optim.objects import with_objects
from optviz.settings import optimizer_names, parse_params, scoped_params
from optviz.status import Outcome, Status
from optviz.threads import TRAIN_THREADS, check_threads, limited_threads

Progress = Callable[[str, int, int], None]
Listed = Any  # one value, a list of values or a comma string: "bn,none"


@dataclass
class LandscapeReport(Shows):
    """Loss landscapes of a training run: each plane for every usable optimizer, and the
    1-D interpolations (θ₀ → each solution, and between the first two)."""

    result: TrainResult
    landscapes: list[Landscape]
    interpolations: list[Interpolation]


@dataclass
class TrainReport(Shows):
    """One :class:`~optviz.nn.records.TrainResult` per seed, each with every run of that
    seed (every network variant with every optimizer, from the same initial weights where
    the networks agree), and the landscapes of the first seed when asked. Only the first
    seed keeps its weights (snapshots, final weights), step losses and running
    statistics; the others keep the per-epoch records the figures over seeds draw
    (:meth:`~optviz.nn.records.TrainResult.lighten`), so memory does not grow with seeds."""

    results: list[TrainResult]
    landscape: LandscapeReport | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def first(self) -> TrainResult:
        return self.results[0]

    @property
    def interrupted(self) -> bool:
        return any(r.interrupted for r in self.results)

    def to_json(self) -> dict[str, Any]:
        """The document of ``optviz train --json``."""
        runs = [_run_json(r, res.settings.seed) for res in self.results for r in res.runs]
        first = self.first
        # the settings that shape at least one network, null where the networks differ
        model = shared_model([first.spec_of(r) for r in first.runs], first.settings.varied)
        return {"data": first.data_info, "model": jsonable(model), "settings": first.settings.to_json(), "runs": runs}


def _run_json(r: Any, seed: int) -> dict[str, Any]:
    doc = {"optimizer": r.optimizer, "label": r.label, "seed": seed, "settings": jsonable(r.settings),
           "hyperparameters": {k: jsonable(v) for k, v in r.hyperparameters.items()
                               if isinstance(v, (int, float, str, bool, np.generic, np.ndarray))},
           "status": r.status, "best_epoch": r.best_epoch, "train_loss": jsonable(r.train_loss),
           "train_acc": jsonable(r.train_acc), "val_loss": jsonable(r.val_loss), "val_acc": jsonable(r.val_acc)}
    if r.evals:
        doc["evals"] = jsonable(r.evals)
    if r.unit_spread:
        doc["unit_spread"] = jsonable(r.unit_spread)
    return doc


def _specs(names: list[str], params, schedule, lr: float | None) -> list[tuple[str, dict[str, Any]]]:
    """(name, hyperparameters with lr) per optimizer, each checked before any work; ``lr``
    None: each optimizer's default training rate, unless its parameters set one."""
    per = scoped_params(parse_params(params), names)
    specs = []
    for name in names:
        hyper = dict(per[name])
        hyper["lr"] = hyper.get("lr", lr if lr is not None else optimizer_class(name).default_train_lr)
        make_optimizer(name, schedule=schedule, **hyper)  # refuse bad settings before any work
        hyper["lr"] = float(hyper["lr"])
        specs.append((name, hyper))
    return specs


def _landscape_options(landscape: bool | LandscapeOptions, epochs: int, record_every) -> LandscapeOptions | None:
    if not landscape:
        return None
    options = landscape if isinstance(landscape, LandscapeOptions) else LandscapeOptions()
    if options.plane != "random" and record_every is None and epochs < 2:
        raise OptvizError("{landscape} on the PCA plane needs a path of at least 2 recorded epochs: train more "
                          "{epochs}, record with {record_every}=K (steps), or use {plane=random}",
                          param="landscape", names=("epochs", "record_every", "plane"))
    return options


def build_network(data: str = "digits", *, target: str | None = None, labels: str | None = None,
            samples: int | None = None, noise: float | None = None, seed: int = 0, arch: str = "resnet",
            depth: int | None = None, width: int | None = None, norm: str = "bn", act: str = "relu", init: str = "he",
            dropout: float = 0.0, dtype: str = "float32", **image: Any):
    """The network :func:`train` would build for ``data`` (a :class:`~optviz.nn.model.Model`,
    untrained; ``model.summary()`` prints each layer's output shape, parameters and receptive field)."""
    from optviz.nn.model import build_model

    conv = {name: one_value(name, given, "a network has one") for name, given in given_settings(image).items()}
    check_image_settings([arch], [norm], conv)
    dataset = load_training_data(data, target, samples, noise, seed, labels)
    check_shortcut_used({"arch": arch, **conv}, dataset.image_shape, dataset.X.shape[1])
    shape = {"image_shape": dataset.image_shape} if arch in CONV_ARCHS and dataset.image_shape else {}
    mlp = mlp_settings(arch, depth, width)
    return build_model(arch, dataset.X.shape[1], dataset.n_classes, mlp["depth"], mlp["width"], norm, act, init, dropout, seed,
                       np.dtype(dtype).type, **shape, **conv)



@dataclass
class _Plan:
    """The trainings of one seed: per network (and batch size) the optimizers with their
    learning rates and labels."""

    groups: list[tuple[Variant, list[tuple[str, dict[str, Any]]], list[str]]]
    varied: tuple[str, ...]

    @property
    def runs(self) -> int:
        return sum(len(labels) for _, _, labels in self.groups)


def _plan(names: list[str], params, schedule, lr, network: dict[str, Any]) -> _Plan:
    """Every network variant with every optimizer (and listed learning rate), checked; the
    image-model settings against every listed arch and norm."""
    found, varied = variants({**network, "lr": lr})
    check_image_settings([v.model["arch"] for v in found], [v.model["norm"] for v in found],
                         [k for k in IMAGE_SETTINGS if k in network])
    if "shortcut" in network and not any("shortcut" in v.model for v in found):
        raise one_stage("{stages=1}")  # shapes() left it out of every network
    if "lr" in varied:
        named = [n for n in names if isinstance(n, str)]
        fixed = [n for n, h in scoped_params(parse_params(params), named).items() if "lr" in h]
        if fixed:
            raise OptvizError(f"{{lr}} lists several rates but {{params}} sets the lr of {', '.join(fixed)}",
                              param="lr", names=("params",))
    if names == ["gd"]:
        if "batch_size" in varied:
            raise OptvizError("gd steps on the whole training set: list batch sizes in {batch_size} with sgd "
                              "or minibatch", param="batch_size")
        found = [replace(v, batch_size=10**9) for v in found]  # full batch; clamped to the training set
    groups: dict[tuple, tuple[Variant, list, list[str]]] = {}
    for v in found:
        key = (tuple(v.model.items()), v.batch_size)
        _, specs, run_labels = groups.setdefault(key, (v, [], []))
        # optimizer objects pass as they are, with their own settings
        for spec in with_objects(lambda n, p, rate, sched: _specs(n, p, sched, rate), names, params, v.lr, schedule):
            specs.append(spec)
            run_labels.append(run_label(spec[0] if isinstance(spec, tuple) else spec.name, v.label))
    return _Plan(list(groups.values()), varied)


def train(data: str = "digits", opt: str | Iterable[str] = "adam,momentum", *, target: str | None = None,
          labels: str | None = None,
          samples: int | None = None, noise: float | None = None, arch: Listed = "resnet", depth: Listed | None = None,
          width: Listed | None = None, norm: Listed = "bn", act: Listed = "relu", init: Listed = "he",
          dropout: float = 0.0, dtype: str = "float32", loss: str = "cross_entropy", lr: Listed | None = None,
          params: Mapping[str, Any] | Iterable[str] | None = None, schedule: str | None = None,
          schedule_unit: str = "step", epochs: int | None = None, batch_size: Listed = 64, weight_decay: float = 0.0,
          l1: float = 0.0, seed: int = 0, seeds: int = 1, record_every: int | None = None,
          save_weights: bool = False, landscape: bool | LandscapeOptions = False,
          eval_bn: str | Iterable[str] = "running", threads: int = TRAIN_THREADS,
          callback: Callable[[str, int, Any], None] | None = None, progress: Progress | None = None,
          landscape_progress: Progress | None = None, channels: Listed | None = None, blocks: Listed | None = None,
          growth: Listed | None = None, groups: Listed | None = None, shortcut: Listed | None = None,
          stages: Listed | None = None) -> TrainReport:
    """Train small networks in numpy, every network variant with every optimizer.

    ``data``: digits, moons, circles, spirals, xor, blobs, a CSV file (``target``
    names its label column; ``samples``/``noise`` shape a generated 2-D set), a ``.npz``
    of images (``X`` (N, C, H, W) or (N, H, W), ``y``) or an idx image file with its idx
    ``labels`` file (MNIST's). The network: ``arch`` (mlp, resnet, or the image models
    cnn, resnet-cnn, densenet, lenet), ``depth``, ``width``, ``norm`` (bn, ln, none; the
    image models also gn, in), ``act``, ``init``, ``dropout``, ``dtype``; the image models
    take ``channels``, ``blocks``, ``growth``, ``groups``, ``shortcut``, ``stages`` (see
    :func:`optviz.nn.model.build_model`; ``depth`` and ``width`` do not apply to them).
    ``arch``, ``depth``, ``width``, ``norm``, ``act``, ``init``, the six image-model
    settings, ``lr`` and ``batch_size`` take one value, a list or a comma string
    (``norm="bn,none"``, ``shortcut="conv1x1,none"``): every combination with every
    optimizer is one run, labelled with what differs ("sgd · norm=bn",
    "adam · shortcut=none"), all from the same seed (the same initial weights where the
    networks agree). An image-model setting that a listed arch does not use is refused;
    ``groups`` applies to the ``norm=gn`` networks of a list of norms (and is refused
    when none is gn). Every network is built and checked before any of them trains. Each optimizer's ``lr`` defaults to the
    rate that trains the default network well (``Optimizer.default_train_lr``).
    ``weight_decay`` is the λ of an L2 penalty λ Σ w² added to the loss (weights only).
    ``seeds``: train with seeds seed … seed+N−1. ``record_every``: keep the weights every
    K steps (default with ``landscape`` or ``save_weights``: every epoch).
    ``landscape``: True or :class:`~optviz.nn.landscape.LandscapeOptions` computes the
    loss landscapes of the first seed. ``eval_bn``: also evaluate the validation part
    with BatchNorm batch statistics each epoch ("running,batch:8,sorted:8"; see
    :func:`optviz.nn.train.train`). ``threads``: BLAS/OpenMP threads for the work
    (default 1, whatever the environment says: see :mod:`optviz.threads`).
    ``callback(label, epoch, run)`` after each epoch; ``progress(label, done, total)``
    counts the epochs of all runs. Ctrl-C keeps the epochs done (the report says
    ``interrupted``; the runs whose turn had not come are ``not started``). ``epochs``
    defaults to 30 (10 when every network is an image model: the default residual CNN
    reaches its accuracy by then).
    """
    names = optimizer_names(opt)
    seed = validate.whole("seed", seed, 0)
    validate.whole("seeds", seeds)
    epochs = default_epochs(arch) if epochs is None else epochs
    validate.whole("epochs", epochs)
    if record_every is not None:
        validate.whole("record_every", record_every)
    check_threads(threads)
    options = _landscape_options(landscape, epochs, record_every)
    image = given_settings({"channels": channels, "blocks": blocks, "growth": growth, "groups": groups,
                            "shortcut": shortcut, "stages": stages})
    plan = _plan(names, params, schedule, lr, {"arch": arch, **mlp_settings(arch, depth, width), "norm": norm,
                                               "act": act, "init": init, **image, "batch_size": batch_size})
    networks = [k for k in plan.varied if k in MODEL_KEYS]
    if save_weights and networks:
        fields = ", ".join("{" + k + "}" for k in networks)
        raise OptvizError(f"{{save_weights}} keeps one network, and {fields} lists several: list learning "
                          "rates, batch sizes or optimizers, or save one network at a time",
                          param="save_weights", names=tuple(networks))
    eval_specs = parse_eval_bn(eval_bn)
    if any(kind != "running" for kind, _ in eval_specs) and all(v.model["norm"] != "bn" for v, _, _ in plan.groups):
        raise OptvizError("{eval_bn} compares BatchNorm statistics, and no network has BatchNorm: add {norm=bn}",
                          param="eval_bn", names=("norm",))
    dataset = load_training_data(data, target, samples, noise, seed, labels)
    record = record_every if record_every is not None else ("epoch" if (options or save_weights) else None)
    if save_weights:
        _check_run_file(plan, dataset, epochs, record, dtype)
    common = {"dropout": dropout, "dtype": np.dtype(dtype).type}
    for variant, _, _ in plan.groups:
        check_shortcut_used(variant.model, dataset.image_shape, dataset.X.shape[1])
    if len(plan.groups) > 1:  # one network is checked as it is built; several, all before the first trains
        for variant, _, _ in plan.groups:
            try:
                check_network(dataset, {**variant.model, **common, "seed": seed}, variant.batch_size)
            except OptvizError as err:  # say which of the networks it is
                raise about_network(err, variant, plan.varied) from None
    counter = _Counter(progress, plan.runs * epochs * seeds, callback)
    results = []
    with limited_threads(threads):
        for s in range(seed, seed + seeds):
            parts = []
            for variant, specs, run_labels in plan.groups:
                if parts and parts[-1].interrupted:
                    parts.append(_not_started(parts[-1], variant, specs, run_labels, dropout, dtype))
                    continue
                parts.append(train_network(dataset, specs, model={**variant.model, **common, "seed": s},
                                           epochs=epochs, batch_size=variant.batch_size, schedule=schedule,
                                           schedule_unit=schedule_unit, loss=loss, weight_decay=weight_decay,
                                           l1=l1, seed=s, callback=counter,
                                           record_weights=record if s == seed else None,
                                           labels=run_labels, eval_bn=eval_bn))
            results.append(merge_results(parts, varied=plan.varied, threads=threads))
            if s != seed:
                results[-1].lighten()
            if results[-1].interrupted:
                break
        report = TrainReport(results, notes=_notes(results, seed, seeds))
        if options is not None and not report.interrupted and not all(r.diverged for r in results[0].runs):
            report.landscape = _landscapes(results[0], options, landscape_progress)
    return report


def _n_params(model: dict[str, Any], dataset: Any) -> int:
    """The parameters of one variant's network on ``dataset`` (its own image-model settings)."""
    features = dataset.X.shape[1]
    if model["arch"] in CONV_ARCHS:
        conv = {k: model[k] for k in IMAGE_SETTINGS if k in model}
        return conv_parameter_count(model["arch"], ConvSettings(image_shape_of(dataset.image_shape, features), **conv))
    return parameter_count(model["arch"], features, dataset.n_classes, model["depth"], model["width"],
                           model["norm"], model["act"])


def _check_run_file(plan: _Plan, dataset: Any, epochs: int, record: int | str, dtype: str) -> None:
    """Refuse before any training a run file over its budget (one network: checked before;
    each variant counted with its own network, the largest bounding all)."""
    n_params = max(_n_params(v.model, dataset) for v, _, _ in plan.groups)
    n = dataset.X.shape[0]
    n_train = max(1, n - round(0.2 * n))  # the validation part is a fifth of the data
    counts = []
    for variant, specs, _ in plan.groups:
        per_epoch = -(-n_train // min(variant.batch_size, n_train))
        every = per_epoch if record == "epoch" else int(record)
        counts += [Snapshots.count(epochs * per_epoch, every)] * len(specs)
    check_run_file_budget(n_params, counts, n * (dataset.X.shape[1] + 1), np.dtype(dtype).itemsize)


class _Counter:
    """The epoch callback of every run: the user's ``callback`` and a running count for ``progress``."""

    def __init__(self, progress: Progress | None, total: int, callback) -> None:
        self.progress, self.total, self.callback, self.done = progress, total, callback, 0

    def __call__(self, label: str, epoch: int, run: Any) -> None:
        self.done += 1
        if self.callback is not None:
            self.callback(label, epoch, run)
        if self.progress is not None:
            self.progress(label, self.done, self.total)


def _not_started(previous: TrainResult, variant: Variant, specs, labels: list[str], dropout: float,
                 dtype: str) -> TrainResult:
    """The runs of a network whose turn never came (Ctrl-C before it), with the settings
    it would have been built with (the data's from the network before it)."""
    data = {k: previous.model_spec[k] for k in ("in_dim", "out_dim", "seed", "image_shape") if k in previous.model_spec}
    spec = {**data, **variant.model, "dropout": dropout, "dtype": np.dtype(dtype).name}
    own = built_settings(spec)
    runs = [OptimizerRun(label, name, dict(hyper), Outcome(Status.NOT_STARTED),
                         settings={**own, "lr": hyper.get("lr"), "batch_size": variant.batch_size})
            for (name, hyper), label in zip(specs, labels, strict=True)]
    return replace(previous, runs=runs, model_spec=spec, initial_state={})


def _notes(results: list[TrainResult], seed: int, seeds: int) -> list[str]:
    notes = list(dict.fromkeys(n for res in results for n in res.settings.notes))
    done = len(results)
    if results[-1].interrupted and done < seeds:
        notes.append(f"seeds {seed + done} … {seed + seeds - 1} not started")
    return notes


def _landscapes(result: TrainResult, options: LandscapeOptions, progress: Progress | None) -> LandscapeReport:
    """The landscapes of every network of ``result`` (a plane lives in one network's weights)."""
    lands, lines = [], []
    for part in result.groups():
        if all(r.diverged or not r.started for r in part.runs):
            continue
        got = landscape_of(part, options, progress)
        lands += got.landscapes
        lines += got.interpolations
    return LandscapeReport(result, lands, lines)


def landscape_of(result: TrainResult, options: LandscapeOptions, progress: Progress | None = None
                 ) -> LandscapeReport:
    if any(r.snapshots is None for r in result.runs):
        raise OptvizError("{landscape} needs recorded weights: train with {landscape}, {record_every}=K or "
                          "{save_run}, or use a run saved with {save_run}",
                          param="landscape", names=("record_every", "save_run"))
    lands, lines = landscape_report(result, planes=options.planes, resolution=options.resolution,
                                    include_bn=options.include_bn, progress=progress)
    return LandscapeReport(result, lands, lines)


def landscape(run: TrainResult | TrainReport | str | Path, *, plane: str = "pca", include_bn: bool = False,
              resolution: int = 41, threads: int = TRAIN_THREADS, progress: Progress | None = None
              ) -> LandscapeReport:
    """The loss landscapes of a training run: a :class:`TrainReport` or result of
    :func:`train` (with recorded weights), or the path of a run saved by
    ``optviz train --save-run``. ``plane``: pca, random or both. ``threads``: as in
    :func:`train`."""
    options = LandscapeOptions(plane, include_bn, resolution)
    check_threads(threads)
    if isinstance(run, TrainReport):
        run = run.first
    if isinstance(run, (str, Path)):
        from optviz.nn.runfile import load_run

        run = load_run(run)
    with limited_threads(threads):
        return _landscapes(run, options, progress)
