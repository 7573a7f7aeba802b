"""``optviz train`` and ``optviz landscape``: parse, call :func:`optviz.train` or
:func:`optviz.landscape`, draw the curves and landscapes and print the table (or JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from optviz.cli.options import (
    DATA,
    LAND,
    NET,
    TRAINING,
    AnimationFormat,
    Dpi,
    Dtype,
    Format,
    ImageFormat,
    Json,
    Loss,
    NoPlot,
    Out,
    PlaneChoice,
    Unit,
    value,
)
from optviz.cli.output import ProgressBar, emit
from optviz.cli.surface import figure_options


def train(
    data: Annotated[str, typer.Option(help="digits, moons, circles, spirals, xor, blobs, a CSV file with a header row, a .npz of images (X: N×C×H×W or N×H×W, y), or an idx image file (MNIST's, .gz or not) with --labels.", rich_help_panel=DATA)] = "digits",
    target: Annotated[str | None, typer.Option(help="The CSV column to predict (default: the last one); only with a CSV file.", rich_help_panel=DATA)] = None,
    labels: Annotated[str | None, typer.Option(help="The idx label file of the idx images in --data.", rich_help_panel=DATA)] = None,
    samples: Annotated[int | None, typer.Option(help="Samples of a generated 2-D set.", rich_help_panel=DATA)] = None,
    noise: Annotated[float | None, typer.Option(help="Noise of a generated 2-D set.", rich_help_panel=DATA)] = None,
    arch: Annotated[str, typer.Option(help="mlp (plain) or resnet (residual blocks); on images: cnn (plain), resnet-cnn (residual), densenet, lenet. Comma list: one run per value (mlp,resnet); so for every network option and --lr, --batch-size.", rich_help_panel=NET)] = "resnet",
    depth: Annotated[str | None, typer.Option(help="mlp/resnet: hidden Linear layers, 6 (resnet: of the trunk, two per block); a comma list (8,30) compares depths. The image models have --blocks and --stages instead (refused with them alone).", rich_help_panel=NET, show_default=False)] = None,
    width: Annotated[str | None, typer.Option(help="mlp/resnet: units per hidden layer, 128 (comma list allowed). The image models have --channels instead (refused with them alone).", rich_help_panel=NET, show_default=False)] = None,
    norm: Annotated[str, typer.Option(help="bn (BatchNorm), ln (LayerNorm) or none, between each Linear or convolution and its activation; the image models also take gn (GroupNorm) and in (InstanceNorm); bn,none compares them.", rich_help_panel=NET)] = "bn",
    channels: Annotated[str | None, typer.Option(help="Image models: channels of the first convolution [default: cnn/resnet-cnn 32, densenet 16, lenet 6]; a comma list (8,16) compares them, as for every image-model option.", rich_help_panel=NET)] = None,
    blocks: Annotated[str | None, typer.Option(help="cnn/resnet-cnn: residual blocks in each stage; densenet: layers in each dense block [default: 1] (comma list allowed: 1,3).", rich_help_panel=NET)] = None,
    growth: Annotated[str | None, typer.Option(help="densenet: channels each dense layer adds [default: 12] (comma list allowed).", rich_help_panel=NET)] = None,
    groups: Annotated[str | None, typer.Option(help="Groups of --norm gn [default: 2] (comma list allowed); with a list of norms, it shapes the gn networks.", rich_help_panel=NET)] = None,
    shortcut: Annotated[str | None, typer.Option(help="resnet-cnn: the shortcut of a block that changes channels or stride: conv1x1, or none (that block has none) [default: conv1x1]; conv1x1,none compares them.", rich_help_panel=NET)] = None,
    stages: Annotated[str | None, typer.Option(help="cnn/resnet-cnn/densenet: stages, each later one halving the side [default: halve while the side stays ≥ 4, at most 3] (comma list allowed).", rich_help_panel=NET)] = None,
    summary: Annotated[bool, typer.Option("--summary", help="Print the network (each layer's output shape, parameters and receptive field) and stop.", rich_help_panel=NET)] = False,
    act: Annotated[str, typer.Option(help="Activation: relu, leaky_relu, prelu, elu, tanh, sigmoid (comma list allowed).", rich_help_panel=NET)] = "relu",
    init: Annotated[str, typer.Option(help="Weight initialization: he, he_normal, xavier, xavier_normal, zeros (comma list allowed; zeros adds a unit-symmetry panel).", rich_help_panel=NET)] = "he",
    dropout: Annotated[float, typer.Option(help="Inverted dropout probability.", rich_help_panel=NET)] = 0.0,
    dtype: Annotated[Dtype, typer.Option(help="Floating-point type of the network.", rich_help_panel=NET)] = Dtype.float32,
    loss: Annotated[Loss, typer.Option(help="Training loss.", rich_help_panel=TRAINING)] = Loss.cross_entropy,
    opt: Annotated[str, typer.Option("--opt", "-o", help="Optimizer(s), comma-separated; each starts from the same initial weights. Also torch:IMPORT.PATH.Class(kw=value, …) and optax:NAME(kw=value, …) (values are literals, never evaluated).", rich_help_panel=TRAINING)] = "adam,momentum",
    lr: Annotated[str | None, typer.Option(help="Learning rate for all, or a comma list (0.1,1) for one run per rate. Default: each optimizer's own (adam 1e-3, momentum/nesterov/adagrad 0.05, rmsprop 1e-3, sgd 0.1).", rich_help_panel=TRAINING)] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="Hyperparameter NAME=VALUE or OPT.NAME=VALUE (repeatable).", rich_help_panel=TRAINING)] = None,
    schedule: Annotated[str | None, typer.Option(help="Learning-rate schedule, same syntax as run (exp:0.95, cosine:30, warmup:5+cosine:30, ...).", rich_help_panel=TRAINING)] = None,
    schedule_unit: Annotated[Unit, typer.Option(help="Whether the schedule counts optimizer steps or epochs.", rich_help_panel=TRAINING)] = Unit.step,
    epochs: Annotated[int | None, typer.Option(help="Epochs [default: 30; image models 10].", rich_help_panel=TRAINING)] = None,
    batch_size: Annotated[str, typer.Option(help="Minibatch size, or a comma list (gd: the whole training set).", rich_help_panel=TRAINING)] = "64",
    weight_decay: Annotated[float, typer.Option(help="λ of the L2 penalty λ Σ w² added to the loss, on weights (not biases or norm parameters). Not the decoupled weight_decay of adamw, lion and muon (set with -p weight_decay=…).", rich_help_panel=TRAINING)] = 0.0,
    l1: Annotated[float, typer.Option(help="λ of the L1 penalty λ Σ |w| on weights.", rich_help_panel=TRAINING)] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the split, the weights, the batch order and dropout.")] = 0,
    seeds: Annotated[int, typer.Option(help="Train with seeds seed … seed+N−1 and report the spread (figures: median and 10–90 % band): one seed cannot rank optimizers.")] = 1,
    eval_bn: Annotated[str, typer.Option(help="Evaluate the validation part each epoch with BatchNorm's running statistics and also with batch statistics: running,batch:8,sorted:8 (sorted: class-sorted batches; N: samples per batch, default the batch size).", rich_help_panel=TRAINING)] = "running",
    threads: Annotated[int, typer.Option(help="BLAS/OpenMP threads; the environment's thread variables are not read (one is fastest for these small products).")] = 1,
    out: Out = Path("optviz-out"),
    json_out: Json = False,
    no_plot: NoPlot = False,
    diagnostics: Annotated[bool, typer.Option("--diagnostics", help="Also draw the gradient norm of each layer (a panel comparing the runs, and per run over training) and BatchNorm running statistics.")] = False,
    fmt: Format = ImageFormat.png,
    dpi: Dpi = 150,
    landscape: Annotated[bool, typer.Option("--landscape", help="After training, draw each optimizer's loss landscape with its path (records the weights each epoch).", rich_help_panel=LAND)] = False,
    plane: Annotated[PlaneChoice, typer.Option(help="pca: the top two principal directions of the optimizer's own path; random: filter-normalized random directions; both.", rich_help_panel=LAND)] = PlaneChoice.pca,
    include_bn: Annotated[bool, typer.Option("--include-bn", help="Let the directions move biases and normalization parameters too.", rich_help_panel=LAND)] = False,
    resolution: Annotated[int, typer.Option(help="Grid points per axis of the landscape.", rich_help_panel=LAND)] = 41,
    record_every: Annotated[int | None, typer.Option(help="Record the weights every K steps (default with --landscape or --save-run: every epoch).", rich_help_panel=LAND)] = None,
    save_run: Annotated[Path | None, typer.Option(help="Save the run (weights path included) to a compressed .npz for 'optviz landscape' (at most 512 MiB decompressed: a larger one is refused before training).", rich_help_panel=LAND)] = None,
    animate: Annotated[AnimationFormat | None, typer.Option(help="gif: also animate the path over the landscape.", rich_help_panel=LAND)] = None,
) -> None:
    """Train a small network in numpy with the same optimizers, and compare them.

    With no options: a residual network (depth 6, width 128, BatchNorm) on the UCI
    digits with Adam and SGD-momentum for 30 epochs. --arch cnn, resnet-cnn, densenet
    or lenet reads each sample as an image (digits: 1×8×8).
    """
    image = {"channels": channels, "blocks": blocks, "growth": growth, "groups": groups, "shortcut": shortcut,
             "stages": stages}
    if summary:
        import optviz.api as api

        net = api.build_network(data, target=target, labels=labels, samples=samples, noise=noise, seed=seed,
                                **_one_network(arch=arch, depth=depth, width=width, norm=norm, act=act, init=init,
                                               **image), dropout=dropout, dtype=dtype.value)
        print(net.summary())
        return
    figures = figure_options(fmt=fmt, dpi=dpi, animate=animate, fps=8, frames=48, animations=("gif",))
    if animate is not None and not landscape:
        from optviz.errors import OptvizError

        raise OptvizError("{animate} on train animates the landscape: add {landscape}", param="animate",
                          names=("landscape",))
    lands = _landscape_options(plane, include_bn, resolution) if landscape and not no_plot else None
    if save_run is not None:
        from optviz.io import check_writable_file

        check_writable_file(save_run)
    import optviz.api as api

    with ProgressBar("training", quiet=json_out, counts=True) as bar, \
            ProgressBar("landscape", quiet=json_out) as land_bar:
        report = api.train(data, opt, target=target, labels=labels, samples=samples, noise=noise, arch=arch, depth=depth,
                           width=width, norm=norm, act=act, init=init, dropout=dropout,
                           dtype=dtype.value, loss=loss.value, lr=lr, params=param, schedule=schedule,
                           schedule_unit=schedule_unit.value, epochs=epochs, batch_size=batch_size,
                           weight_decay=weight_decay, l1=l1, seed=seed, seeds=seeds, record_every=record_every,
                           save_weights=save_run is not None, landscape=lands or False, eval_bn=eval_bn,
                           threads=threads, progress=_epoch_progress(bar),
                           landscape_progress=lambda label, done, rows: land_bar.update(
                               done, rows, f"landscape of {label}"), **image)
    _render_train(report, figures=figures, out=out, no_plot=no_plot, json_out=json_out, diagnostics=diagnostics,
                  save_run=save_run)


def _one_network(**given: str | None) -> dict[str, Any]:
    """The network options as one network for --summary (a comma list names several)."""
    from optviz.errors import OptvizError

    for name, text in given.items():
        if text is not None and "," in text:
            raise OptvizError(f"{{summary}} prints one network, and {{{name}={text}}} lists several: give one value",
                              param="summary", names=(name,))
    out: dict[str, Any] = dict(given)
    for name in ("depth", "width"):
        if given[name] is None:
            continue
        try:
            out[name] = int(given[name])
        except ValueError:
            raise OptvizError(f"{{{name}}} must be a whole number, got {given[name]!r}", param=name) from None
    return out


def _landscape_options(plane: PlaneChoice, include_bn: bool, resolution: int) -> Any:
    from optviz.nn.landscape import LandscapeOptions

    return LandscapeOptions(plane.value, include_bn, resolution)


def _epoch_progress(bar: ProgressBar):
    def advance(label: str, done: int, total: int) -> None:
        bar.update(done, total, f"{label}: epoch {done} of {total}")

    return advance


def _render_train(report: Any, *, figures: Any, out: Path, no_plot: bool, json_out: bool, diagnostics: bool,
                  save_run: Path | None) -> None:
    written: list[Path] = []
    first = report.first
    if save_run is not None:
        from optviz.nn.runfile import save_run as write_run_file

        written.append(write_run_file(save_run, first))
    if not no_plot:
        from optviz.plot.train import save_train_figures

        written += save_train_figures(report.results, out, fmt=figures.fmt, dpi=figures.dpi,
                                      diagnostics=diagnostics)
        if report.landscape is not None:
            written += _draw_landscapes(report.landscape, out, figures)
    from optviz.report import train_table

    emit(json_out, report.to_json, lambda: train_table(report.results), written, report.notes)
    if report.interrupted:
        from optviz.errors import Interrupted

        raise Interrupted("interrupted; wrote the epochs completed so far")


def _draw_landscapes(land: Any, out: Path, figures: Any) -> list[Path]:
    from optviz.plot.landscape import save_landscape_figures
    from optviz.plot.train import default_stem

    return save_landscape_figures(land.landscapes, out, fmt=figures.fmt, dpi=figures.dpi,
                                  stem=default_stem(land.result), interpolations=land.interpolations,
                                  gif=figures.animate == "gif")


def landscape(
    run_file: Annotated[Path, typer.Argument(help="A run saved by 'optviz train --save-run PATH'.")],
    plane: Annotated[PlaneChoice, typer.Option(help="pca, random or both.")] = PlaneChoice.pca,
    include_bn: Annotated[bool, typer.Option("--include-bn", help="Let the directions move biases and normalization parameters too.")] = False,
    resolution: Annotated[int, typer.Option(help="Grid points per axis.")] = 41,
    out: Out = Path("optviz-out"),
    fmt: Format = ImageFormat.png,
    dpi: Dpi = 150,
    animate: Annotated[AnimationFormat | None, typer.Option(help="gif: also animate each path over its landscape.")] = None,
    threads: Annotated[int, typer.Option(help="BLAS/OpenMP threads; the environment's thread variables are not read.")] = 1,
) -> None:
    """Redraw loss landscapes from a saved run, without retraining."""
    figures = figure_options(fmt=fmt, dpi=dpi, animate=animate, fps=8, frames=48, animations=("gif",))
    import optviz.api as api
    from optviz.io import ensure_dir

    with ProgressBar("landscape") as bar:
        report = api.landscape(run_file, plane=value(plane), include_bn=include_bn, resolution=resolution,
                               threads=threads, progress=lambda label, done, rows: bar.update(done, rows, f"landscape of {label}"))
    ensure_dir(out)
    for path in _draw_landscapes(report, out, figures):
        print(f"wrote {path}")
