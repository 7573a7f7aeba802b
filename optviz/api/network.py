"""Optimizers on a numpy network: :func:`train` and :func:`landscape`.

The same optimizer code that moves points on a surface updates every weight array of
the network (see :mod:`optviz.nn.train`, the engine these orchestrate).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from optviz import validate
from optviz.errors import OptvizError
from optviz.export import jsonable
from optviz.nn.cnn_models import CONV_ARCHS
from optviz.nn.image_data import load_training_data
from optviz.nn.interpolation import Interpolation
from optviz.nn.landscape import Landscape, LandscapeOptions, landscape_report
from optviz.nn.records import TrainResult
from optviz.nn.train import train as train_network
from optviz.notebook import Shows
from optviz.optim import make_optimizer, optimizer_class
from optviz.settings import optimizer_names, parse_params, scoped_params

Progress = Callable[[str, int, int], None]


@dataclass
class LandscapeReport(Shows):
    """Loss landscapes of a training run: each plane for every usable optimizer, and the
    1-D interpolations (θ₀ → each solution, and between the first two)."""

    result: TrainResult
    landscapes: list[Landscape]
    interpolations: list[Interpolation]


@dataclass
class TrainReport(Shows):
    """One :class:`~optviz.nn.records.TrainResult` per seed (all optimizers from the same
    initial weights within a seed), and the landscapes of the first seed when asked."""

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
        runs = []
        for res in self.results:
            for r in res.runs:
                runs.append({
                    "optimizer": r.optimizer, "label": r.label, "seed": res.settings.seed,
                    "hyperparameters": {k: jsonable(v) for k, v in r.hyperparameters.items()
                                        if isinstance(v, (int, float, str, bool, np.generic, np.ndarray))},
                    "status": r.status, "train_loss": jsonable(r.train_loss), "train_acc": jsonable(r.train_acc),
                    "val_loss": jsonable(r.val_loss), "val_acc": jsonable(r.val_acc),
                })
        first = self.first
        return {"data": first.data_info,
                "model": {k: (v if isinstance(v, (int, float, str, bool)) else str(v))
                          for k, v in first.model_spec.items()},
                "settings": first.settings.to_json(), "runs": runs}


def _specs(names: list[str], params, lr, schedule) -> list[tuple[str, dict[str, Any]]]:
    """(name, hyperparameters with lr) per optimizer, each checked before any work."""
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


IMAGE_SETTINGS = ("channels", "blocks", "growth", "groups", "shortcut", "stages")


APPLIES = {"cnn": ("channels", "blocks", "groups", "stages"),
           "resnet-cnn": ("channels", "blocks", "groups", "shortcut", "stages"),
           "densenet": ("channels", "blocks", "growth", "groups", "stages"),
           "lenet": ("channels", "groups")}


def default_epochs(arch: str) -> int:
    """Epochs of :func:`train` when none are given: 30, or 10 for an image model."""
    return 10 if arch in CONV_ARCHS else 30


def image_settings(arch: str, norm: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of an image model that were given (not None); one that ``arch`` (or ``norm``,
    for ``groups``) does not use is refused rather than ignored."""
    given = {k: v for k, v in given.items() if v is not None}
    unknown = sorted(set(given) - set(IMAGE_SETTINGS))
    if unknown:
        raise OptvizError(f"unknown image-model setting(s) {', '.join(unknown)}; known: {', '.join(IMAGE_SETTINGS)}")
    for name in given:
        if arch not in CONV_ARCHS:
            raise OptvizError(f"{{{name}}} applies to the image models ({{arch}} {', '.join(CONV_ARCHS)}), "
                              f"not to {{arch={arch}}}", param=name, names=("arch",))
        if name not in APPLIES[arch]:
            users = [a for a in CONV_ARCHS if name in APPLIES[a]]
            raise OptvizError(f"{{{name}}} does not apply to {{arch={arch}}}; it shapes {', '.join(users)}",
                              param=name, names=("arch",))
        if name == "groups" and norm != "gn":
            raise OptvizError(f"{{groups}} is the number of groups of {{norm=gn}}, not of {{norm={norm}}}",
                              param="groups", names=("norm",))
    return given


def build_network(data: str = "digits", *, target: str | None = None, labels: str | None = None,
            samples: int | None = None, noise: float | None = None, seed: int = 0, arch: str = "resnet",
            depth: int = 6, width: int = 128, norm: str = "bn", act: str = "relu", init: str = "he",
            dropout: float = 0.0, dtype: str = "float32", **image: Any):
    """The network :func:`train` would build for ``data`` (a :class:`~optviz.nn.model.Model`,
    untrained; ``model.summary()`` prints each layer's output shape, parameters and receptive field)."""
    from optviz.nn.model import build_model

    conv = image_settings(arch, norm, image)
    dataset = load_training_data(data, target, samples, noise, seed, labels)
    shape = {"image_shape": dataset.image_shape} if arch in CONV_ARCHS and dataset.image_shape else {}
    return build_model(arch, dataset.X.shape[1], dataset.n_classes, depth, width, norm, act, init, dropout, seed,
                       np.dtype(dtype).type, **shape, **conv)


def train(data: str = "digits", opt: str | Iterable[str] = "adam,momentum", *, target: str | None = None,
          labels: str | None = None,
          samples: int | None = None, noise: float | None = None, arch: str = "resnet", depth: int = 6,
          width: int = 128, norm: str = "bn", act: str = "relu", init: str = "he", dropout: float = 0.0,
          dtype: str = "float32", loss: str = "cross_entropy", lr: float | None = None,
          params: Mapping[str, Any] | Iterable[str] | None = None, schedule: str | None = None,
          schedule_unit: str = "step", epochs: int | None = None, batch_size: int = 64, weight_decay: float = 0.0,
          l1: float = 0.0, seed: int = 0, seeds: int = 1, record_every: int | None = None,
          save_weights: bool = False, landscape: bool | LandscapeOptions = False,
          callback: Callable[[str, int, Any], None] | None = None,
          landscape_progress: Progress | None = None, channels: int | None = None, blocks: int | None = None,
          growth: int | None = None, groups: int | None = None, shortcut: str | None = None,
          stages: int | None = None) -> TrainReport:
    """Train a small network in numpy with each optimizer from the same initial weights.

    ``data``: digits, moons, circles, spirals, xor, blobs, a CSV file (``target``
    names its label column; ``samples``/``noise`` shape a generated 2-D set), a ``.npz``
    of images (``X`` (N, C, H, W) or (N, H, W), ``y``) or an idx image file with its idx
    ``labels`` file (MNIST's). The network: ``arch`` (mlp, resnet, or the image models
    cnn, resnet-cnn, densenet, lenet), ``depth``, ``width``, ``norm`` (bn, ln, none; the
    image models also gn, in), ``act``, ``init``, ``dropout``, ``dtype``; the image models
    take ``channels``, ``blocks``, ``growth``, ``groups``, ``shortcut``, ``stages`` (see
    :func:`optviz.nn.model.build_model`; ``depth`` and ``width`` do not apply to them). Each optimizer's ``lr`` defaults to the
    rate that trains the default network well (``Optimizer.default_train_lr``).
    ``weight_decay`` is the λ of an L2 penalty λ Σ w² added to the loss (weights only).
    ``seeds``: train with seeds seed … seed+N−1. ``record_every``: keep the weights every
    K steps (default with ``landscape`` or ``save_weights``: every epoch).
    ``landscape``: True or :class:`~optviz.nn.landscape.LandscapeOptions` computes the
    loss landscapes of the first seed. ``callback(label, epoch, run)`` after each epoch;
    Ctrl-C keeps the epochs done (the report says ``interrupted``). ``epochs`` defaults to
    30 (10 for an image model: the default residual CNN reaches its accuracy by then).
    """
    names = optimizer_names(opt)
    conv = image_settings(arch, norm, {"channels": channels, "blocks": blocks, "growth": growth, "groups": groups,
                                 "shortcut": shortcut, "stages": stages})
    validate.whole("depth", depth)
    epochs = default_epochs(arch) if epochs is None else epochs
    validate.whole("seeds", seeds)
    if record_every is not None:
        validate.whole("record_every", record_every)
    options = _landscape_options(landscape, epochs, record_every)
    specs = _specs(names, params, lr, schedule)
    dataset = load_training_data(data, target, samples, noise, seed, labels)
    if names == ["gd"]:
        batch_size = 10**9  # full batch; clamped to the training set
    record = record_every if record_every is not None else ("epoch" if (options or save_weights) else None)
    model = {"arch": arch, "depth": depth, "width": width, "norm": norm, "act": act, "init": init,
             "dropout": dropout, "dtype": np.dtype(dtype).type, **conv}
    results = []
    for s in range(seed, seed + seeds):
        result = train_network(dataset, specs, model={**model, "seed": s}, epochs=epochs, batch_size=batch_size,
                               schedule=schedule, schedule_unit=schedule_unit, loss=loss,
                               weight_decay=weight_decay, l1=l1, seed=s, callback=callback,
                               record_weights=record)
        results.append(result)
        if result.interrupted:
            break
    report = TrainReport(results, notes=list(results[0].settings.notes))
    if options is not None and not report.interrupted and not all(r.diverged for r in results[0].runs):
        report.landscape = landscape_of(results[0], options, landscape_progress)
    return report


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
              resolution: int = 41, progress: Progress | None = None) -> LandscapeReport:
    """The loss landscapes of a training run: a :class:`TrainReport` or result of
    :func:`train` (with recorded weights), or the path of a run saved by
    ``optviz train --save-run``. ``plane``: pca, random or both."""
    options = LandscapeOptions(plane, include_bn, resolution)
    if isinstance(run, TrainReport):
        run = run.first
    if isinstance(run, (str, Path)):
        from optviz.nn.runfile import load_run

        run = load_run(run)
    return landscape_of(run, options, progress)
