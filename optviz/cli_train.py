"""``optviz train`` and ``optviz landscape``: the same optimizers on a numpy network.

Kept apart from :mod:`optviz.cli` so that module stays short; like it, this
imports only typer at start-up.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from optviz.errors import OptvizError

NET = "Network"
DATA = "Data"
TRAINING = "Training"
LAND = "Landscape"

# Learning rates that train the default network well (measured; see README).
DEFAULT_TRAIN_LR = {"adam": 1e-3, "momentum": 0.05, "nesterov": 0.05, "adagrad": 0.05, "rmsprop": 1e-3,
                    "sgd": 0.1, "minibatch": 0.1, "gd": 0.1}


class Arch(str, Enum):
    mlp = "mlp"
    resnet = "resnet"


class Norm(str, Enum):
    bn = "bn"
    ln = "ln"
    none = "none"


class Act(str, Enum):
    relu = "relu"
    leaky_relu = "leaky_relu"
    prelu = "prelu"
    elu = "elu"
    tanh = "tanh"
    sigmoid = "sigmoid"


class Init(str, Enum):
    he = "he"
    he_normal = "he_normal"
    xavier = "xavier"
    xavier_normal = "xavier_normal"
    zeros = "zeros"


class Loss(str, Enum):
    cross_entropy = "cross_entropy"
    focal = "focal"


class Unit(str, Enum):
    step = "step"
    epoch = "epoch"


class Dtype(str, Enum):
    float32 = "float32"
    float64 = "float64"


class Plane(str, Enum):
    pca = "pca"
    random = "random"
    both = "both"


def _planes(plane: Plane) -> tuple[str, ...]:
    return ("pca", "random") if plane is Plane.both else (plane.value,)


def _load_data(data: str, target: str | None, n: int | None, noise: float | None, seed: int):
    from optviz.nn.data import DATASETS, load_csv, load_dataset

    if data in DATASETS:
        return load_dataset(data, n=n, noise=noise, seed=seed)
    path = Path(data)
    if path.suffix.lower() == ".csv" or path.exists():
        if not path.is_file():
            raise OptvizError(f"--data {data}: no such file")
        return load_csv(path, target)
    raise OptvizError(f"--data {data!r}: choose one of {', '.join(DATASETS)} or give a CSV file")


def train(
    data: Annotated[str, typer.Option(help="digits, moons, circles, spirals, xor, blobs, or a CSV file with a header row.", rich_help_panel=DATA)] = "digits",
    target: Annotated[str | None, typer.Option(help="The CSV column to predict [default: the last].", rich_help_panel=DATA)] = None,
    samples: Annotated[int | None, typer.Option(help="Samples of a generated 2-D set.", rich_help_panel=DATA)] = None,
    noise: Annotated[float | None, typer.Option(help="Noise of a generated 2-D set.", rich_help_panel=DATA)] = None,
    arch: Annotated[Arch, typer.Option(help="mlp (plain) or resnet (residual blocks).", rich_help_panel=NET)] = Arch.resnet,
    depth: Annotated[int, typer.Option(help="Hidden Linear layers (resnet: of the trunk, two per block).", rich_help_panel=NET)] = 6,
    width: Annotated[int, typer.Option(help="Units per hidden layer.", rich_help_panel=NET)] = 128,
    norm: Annotated[Norm, typer.Option(help="BatchNorm, LayerNorm or none, between each Linear and its activation.", rich_help_panel=NET)] = Norm.bn,
    act: Annotated[Act, typer.Option(help="Activation.", rich_help_panel=NET)] = Act.relu,
    init: Annotated[Init, typer.Option(help="Weight initialization.", rich_help_panel=NET)] = Init.he,
    dropout: Annotated[float, typer.Option(help="Inverted dropout probability.", rich_help_panel=NET)] = 0.0,
    dtype: Annotated[Dtype, typer.Option(help="Floating-point type of the network.", rich_help_panel=NET)] = Dtype.float32,
    loss: Annotated[Loss, typer.Option(help="Training loss.", rich_help_panel=TRAINING)] = Loss.cross_entropy,
    opt: Annotated[str, typer.Option("--opt", "-o", help="Optimizer(s), comma-separated; each starts from the same initial weights.", rich_help_panel=TRAINING)] = "adam,momentum",
    lr: Annotated[float | None, typer.Option(help="Learning rate for all [default: adam 1e-3, momentum/nesterov/adagrad 0.05, rmsprop 1e-3, sgd 0.1].", rich_help_panel=TRAINING)] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="Hyperparameter NAME=VALUE or OPT.NAME=VALUE (repeatable).", rich_help_panel=TRAINING)] = None,
    schedule: Annotated[str | None, typer.Option(help="Learning-rate schedule, same syntax as run (exp:0.95, cosine:30, warmup:5+cosine:30, ...).", rich_help_panel=TRAINING)] = None,
    schedule_unit: Annotated[Unit, typer.Option(help="Whether the schedule counts optimizer steps or epochs.", rich_help_panel=TRAINING)] = Unit.step,
    epochs: Annotated[int, typer.Option(help="Epochs.", rich_help_panel=TRAINING)] = 30,
    batch_size: Annotated[int, typer.Option(help="Minibatch size (gd: the whole training set).", rich_help_panel=TRAINING)] = 64,
    weight_decay: Annotated[float, typer.Option(help="λ of the L2 penalty λ Σ w² on weights (not biases or norm parameters).", rich_help_panel=TRAINING)] = 0.0,
    l1: Annotated[float, typer.Option(help="λ of the L1 penalty λ Σ |w| on weights.", rich_help_panel=TRAINING)] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the split, the weights, the batch order and dropout.")] = 0,
    seeds: Annotated[int, typer.Option(help="Train with seeds seed … seed+N−1 and report the spread: one seed cannot rank optimizers.")] = 1,
    out: Annotated[Path, typer.Option(help="Directory for figures.")] = Path("optviz-out"),
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout instead of the table.")] = False,
    no_plot: Annotated[bool, typer.Option("--no-plot", help="Draw nothing.")] = False,
    diagnostics: Annotated[bool, typer.Option("--diagnostics", help="Also draw per-layer gradient norms and BatchNorm running statistics over training.")] = False,
    fmt: Annotated[str, typer.Option("--format", help="png, svg or pdf.")] = "png",
    dpi: Annotated[int, typer.Option(help="Resolution of raster images.")] = 150,
    landscape: Annotated[bool, typer.Option("--landscape", help="After training, draw each optimizer's loss landscape with its path (records the weights each epoch).", rich_help_panel=LAND)] = False,
    plane: Annotated[Plane, typer.Option(help="pca: the top two principal directions of the optimizer's own path; random: filter-normalized random directions; both.", rich_help_panel=LAND)] = Plane.pca,
    include_bn: Annotated[bool, typer.Option("--include-bn", help="Let the directions move biases and normalization parameters too.", rich_help_panel=LAND)] = False,
    resolution: Annotated[int, typer.Option(help="Grid points per axis of the landscape.", rich_help_panel=LAND)] = 41,
    record_every: Annotated[int | None, typer.Option(help="Record the weights every K steps [default with --landscape or --save-run: every epoch].", rich_help_panel=LAND)] = None,
    save_run: Annotated[Path | None, typer.Option(help="Save the run (weights path included) to a compressed .npz for 'optviz landscape'.", rich_help_panel=LAND)] = None,
    animate: Annotated[str | None, typer.Option(help="gif: also animate the path over the landscape.", rich_help_panel=LAND)] = None,
) -> None:
    """Train a small network in numpy with the same optimizers, and compare them.

    With no options: a residual network (depth 6, width 128, BatchNorm) on the UCI
    digits with Adam and SGD-momentum for 30 epochs.
    """
    import numpy as np

    from optviz.api import _scoped_params, optimizer_names
    from optviz.cli import _check_positive, _parse_params, _validate_picture_options

    _validate_picture_options(dpi, 20, 2)
    if fmt not in ("png", "svg", "pdf"):
        raise OptvizError(f"--format must be png, svg or pdf, got {fmt!r}")
    if animate not in (None, "gif"):
        raise OptvizError(f"--animate for landscapes supports gif, got {animate!r}")
    if animate and not landscape:
        raise OptvizError("--animate on train animates the landscape: add --landscape")
    _check_positive("--lr", lr)
    for name, value in (("--epochs", epochs), ("--batch-size", batch_size), ("--depth", depth), ("--width", width),
                        ("--seeds", seeds)):
        if value < 1:
            raise OptvizError(f"{name} must be ≥ 1, got {value}")
    if not 0 <= dropout < 1:
        raise OptvizError(f"--dropout must be in [0, 1), got {dropout}")
    if weight_decay < 0 or l1 < 0:
        raise OptvizError("--weight-decay and --l1 must be ≥ 0")
    if resolution < 5 or resolution > 401:
        raise OptvizError(f"--resolution must be between 5 and 401, got {resolution}")
    if record_every is not None and record_every < 1:
        raise OptvizError(f"--record-every must be ≥ 1, got {record_every}")
    if landscape and plane is not Plane.random and record_every is None and epochs < 2:
        raise OptvizError("--landscape on the PCA plane needs a path of at least 2 recorded epochs: "
                          "train more --epochs, record with --record-every K (steps), or use --plane random")
    names = optimizer_names(opt)
    if "newton" in names:
        raise OptvizError("newton needs a Hessian, which optviz does not form for a network; "
                          "choose first-order optimizers (adam, momentum, ...)")
    per = _scoped_params(_parse_params(param), names)
    if schedule is not None:
        from optviz.optim import parse_schedule

        parse_schedule(schedule, 1.0)
    if save_run is not None:
        from optviz.io import check_writable_file

        check_writable_file(save_run)
    if not no_plot:
        from optviz.io import ensure_dir

        ensure_dir(out)
    dataset = _load_data(data, target, samples, noise, seed)
    from optviz.optim import make_optimizer

    specs = []
    for name in names:
        hyper = dict(per[name])
        hyper["lr"] = hyper.get("lr", lr or DEFAULT_TRAIN_LR.get(name, 0.01))
        make_optimizer(name, schedule=schedule, **hyper)  # refuse bad settings before any work
        hyper["lr"] = float(hyper["lr"])
        specs.append((name, hyper))
    if "gd" in names and len(names) == 1:
        batch_size = 10**9  # full batch; clamped to the training set
    record = record_every or ("epoch" if (landscape or save_run) else None)
    model = {"arch": arch.value, "depth": depth, "width": width, "norm": norm.value, "act": act.value,
             "init": init.value, "dropout": dropout, "dtype": np.dtype(dtype.value).type}

    from optviz.nn.train import train as run_training

    results = []
    interrupted = False
    with _progress(len(names) * epochs * seeds, quiet=json_out) as advance:
        for s in range(seed, seed + seeds):
            result = run_training(dataset, specs, model={**model, "seed": s}, epochs=epochs,
                                  batch_size=batch_size, schedule=schedule, schedule_unit=schedule_unit.value,
                                  loss=loss.value, weight_decay=weight_decay, l1=l1, seed=s,
                                  callback=advance, record_weights=record)
            results.append(result)
            if result.settings.get("interrupted"):
                interrupted = True
                break
    written = _write_train_outputs(results, out=out, no_plot=no_plot, fmt=fmt, dpi=dpi, diagnostics=diagnostics,
                                   landscape=landscape, planes=_planes(plane), include_bn=include_bn,
                                   resolution=resolution, save_run=save_run, animate=animate,
                                   quiet=json_out,
                                   skip_landscape=interrupted or all(r.diverged for r in results[0].runs))
    from optviz.cli import emit
    from optviz.report import train_table

    emit(json_out, lambda: train_json(results), lambda: train_table(results), written,
         results[0].settings.get("notes", []))
    if interrupted:
        from optviz.errors import Interrupted

        raise Interrupted("interrupted; wrote the epochs completed so far")


class _progress:
    """A rich progress bar over epochs; ``advance`` is train()'s callback."""

    def __init__(self, total: int, quiet: bool):
        self.total, self.quiet = total, quiet

    def __enter__(self):
        if self.quiet:
            return lambda label, epoch, run: None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        from optviz.cli import _stderr

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeRemainingColumn(), console=_stderr(), transient=True)
        self.task = self.bar.add_task("training", total=self.total)

        def advance(label, epoch, run):
            if not self.bar.live.is_started:  # started late: errors before the first epoch stay one line
                self.bar.start()
            acc = run.val_acc[-1] if run.val_acc else float("nan")
            self.bar.update(self.task, advance=1, description=f"{label} epoch {epoch} val acc {acc:.1%}")

        return advance

    def __exit__(self, *exc):
        if not self.quiet and self.bar.live.is_started:
            self.bar.stop()
        return False


def _write_train_outputs(results, *, out, no_plot, fmt, dpi, diagnostics, landscape, planes, include_bn,
                         resolution, save_run, animate, quiet, skip_landscape) -> list[Path]:
    written: list[Path] = []
    first = results[0]
    if save_run is not None:
        from optviz.nn.runfile import save_run as write_run

        written.append(write_run(save_run, first))
    if no_plot:
        return written
    from optviz.plot.train import save_train_figures

    written += save_train_figures(first, out, fmt=fmt, dpi=dpi, diagnostics=diagnostics)
    if landscape and not skip_landscape:
        written += draw_landscapes(first, out, planes=planes, include_bn=include_bn, resolution=resolution,
                                   fmt=fmt, dpi=dpi, gif=animate == "gif", quiet=quiet)
    return written


def draw_landscapes(result, out: Path, *, planes, include_bn, resolution, fmt, dpi, gif, quiet) -> list[Path]:
    from optviz.nn.landscape import landscape_report
    from optviz.plot.landscape import save_landscape_figures
    from optviz.plot.train import default_stem

    if any(r.snapshots is None for r in result.runs):
        raise OptvizError("--landscape needs recorded weights: train with --landscape, --record-every K or "
                          "--save-run, or use a run saved with --save-run")
    progress = None
    bar = None
    if not quiet:
        from rich.progress import Progress

        from optviz.cli import _stderr

        bar = Progress(console=_stderr(), transient=True)
        task = bar.add_task("landscape", total=None)
        bar.start()

        def progress(label, done, rows):
            bar.update(task, completed=done, total=rows, description=f"landscape of {label}")

    try:
        lands, lines = landscape_report(result, planes=planes, resolution=resolution, include_bn=include_bn,
                                        progress=progress)
    finally:
        if bar is not None:
            bar.stop()
    return save_landscape_figures(lands, out, fmt=fmt, dpi=dpi, stem=default_stem(result), interpolations=lines,
                                  gif=gif)


def train_json(results) -> dict:
    """The JSON document of ``optviz train --json``."""
    import math

    def clean(values):
        return [v if isinstance(v, (int, float)) and math.isfinite(v) else None for v in values]

    first = results[0]
    runs = []
    for res in results:
        for r in res.runs:
            runs.append({
                "optimizer": r.optimizer, "label": r.label, "seed": res.settings["seed"],
                "hyperparameters": {k: (v if not hasattr(v, "item") else v.item()) for k, v in r.hyperparameters.items()
                                    if isinstance(v, (int, float, str, bool)) or hasattr(v, "item")},
                "status": r.status, "train_loss": clean(r.train_loss), "train_acc": clean(r.train_acc),
                "val_loss": clean(r.val_loss), "val_acc": clean(r.val_acc),
            })
    return {"data": first.data_info, "model": {k: (v if isinstance(v, (int, float, str, bool)) else str(v))
                                               for k, v in first.model_spec.items()},
            "settings": {k: v for k, v in first.settings.items() if isinstance(v, (int, float, str, bool, list))
                         or v is None},
            "runs": runs}


def landscape(
    run_file: Annotated[Path, typer.Argument(help="A run saved by 'optviz train --save-run PATH'.")],
    plane: Annotated[Plane, typer.Option(help="pca, random or both.")] = Plane.pca,
    include_bn: Annotated[bool, typer.Option("--include-bn", help="Let the directions move biases and normalization parameters too.")] = False,
    resolution: Annotated[int, typer.Option(help="Grid points per axis.")] = 41,
    out: Annotated[Path, typer.Option(help="Directory for figures.")] = Path("optviz-out"),
    fmt: Annotated[str, typer.Option("--format", help="png, svg or pdf.")] = "png",
    dpi: Annotated[int, typer.Option(help="Resolution of raster images.")] = 150,
    animate: Annotated[str | None, typer.Option(help="gif: also animate each path over its landscape.")] = None,
) -> None:
    """Redraw loss landscapes from a saved run, without retraining."""
    from optviz.cli import _validate_picture_options

    _validate_picture_options(dpi, 20, 2)
    if fmt not in ("png", "svg", "pdf"):
        raise OptvizError(f"--format must be png, svg or pdf, got {fmt!r}")
    if animate not in (None, "gif"):
        raise OptvizError(f"--animate supports gif, got {animate!r}")
    if resolution < 5 or resolution > 401:
        raise OptvizError(f"--resolution must be between 5 and 401, got {resolution}")
    from optviz.io import ensure_dir
    from optviz.nn.runfile import load_run

    result = load_run(run_file)
    ensure_dir(out)
    written = draw_landscapes(result, out, planes=_planes(plane), include_bn=include_bn, resolution=resolution,
                              fmt=fmt, dpi=dpi, gif=animate == "gif", quiet=False)
    for path in written:
        print(f"wrote {path}")
