"""``optviz train-sweep``: parse, call :func:`optviz.train_sweep`, draw the sensitivity
figure and print the table of best settings (or JSON), with a progress bar over cells."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from optviz.cli.options import (
    DATA,
    NET,
    OPTIM,
    OUTPUT,
    TRAINING,
    Act,
    Arch,
    Dpi,
    Dtype,
    Format,
    ImageFormat,
    Init,
    Json,
    Loss,
    NoPlot,
    Norm,
    Out,
    Unit,
)
from optviz.cli.output import ProgressBar, emit

CLUSTER = "Cluster"


def train_sweep(
    data: Annotated[str, typer.Option(help="digits, moons, circles, spirals, xor, blobs, or a CSV file with a header row (read here and sent to the workers).", rich_help_panel=DATA)] = "digits",
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
    opt: Annotated[str, typer.Option("--opt", "-o", help="Optimizer(s), comma-separated.", rich_help_panel=OPTIM)] = "adam,momentum",
    lr: Annotated[str, typer.Option(help="Learning-rate grid LO:HI:N (log-spaced), or one rate when another setting is swept.", rich_help_panel=OPTIM)] = "1e-4:1:8",
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="NAME=LO:HI:N sweeps a hyperparameter (linear; log: prefix for log spacing), NAME=VALUE fixes one; OPT.NAME for one optimizer (adam.lr=1e-5:1e-1:9 gives Adam its own lr grid). At most two grids per optimizer. Repeatable.", rich_help_panel=OPTIM)] = None,
    schedule: Annotated[str | None, typer.Option(help="Learning-rate schedule, same syntax as train (exp:0.95, cosine:30, ...).", rich_help_panel=TRAINING)] = None,
    schedule_unit: Annotated[Unit, typer.Option(help="Whether the schedule counts optimizer steps or epochs.", rich_help_panel=TRAINING)] = Unit.step,
    epochs: Annotated[int, typer.Option(help="Epochs of every run.", rich_help_panel=TRAINING)] = 30,
    batch_size: Annotated[int, typer.Option(help="Minibatch size (gd: the whole training set).", rich_help_panel=TRAINING)] = 64,
    weight_decay: Annotated[float, typer.Option(help="λ of the L2 penalty λ Σ w² on weights.", rich_help_panel=TRAINING)] = 0.0,
    l1: Annotated[float, typer.Option(help="λ of the L1 penalty λ Σ |w| on weights.", rich_help_panel=TRAINING)] = 0.0,
    seed: Annotated[int, typer.Option(help="First seed (split, weights, batch order; a generated data set is drawn with it).")] = 0,
    seeds: Annotated[int, typer.Option(help="Seeds per setting: seed … seed+N−1; the figure shows their median and 10-90% band.")] = 2,
    workers: Annotated[int | None, typer.Option(help="Worker processes of the local Dask cluster [default: one per core]; 0 runs the cells in this process.", rich_help_panel=CLUSTER)] = None,
    scheduler: Annotated[str | None, typer.Option(help="Address of a running Dask scheduler (tcp://HOST:PORT) to send the cells to instead; its workers need the same optviz and numpy.", rich_help_panel=CLUSTER)] = None,
    cache: Annotated[Path | None, typer.Option(help="Folder of finished cells (one JSON file each): a sweep run again computes only the cells it lacks [default: OUT/cache].", rich_help_panel=CLUSTER)] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="Show Dask's own log messages.", rich_help_panel=CLUSTER)] = False,
    out: Out = Path("optviz-out"),
    json_out: Json = False,
    csv: Annotated[Path | None, typer.Option(help="Write one row per cell (optimizer, setting, seed, results) to this CSV file.", rich_help_panel=OUTPUT)] = None,
    no_plot: NoPlot = False,
    fmt: Format = ImageFormat.png,
    dpi: Dpi = 150,
) -> None:
    """Sweep optimizer × learning rate × seed on a network: every cell one training run, on Dask.

    The cells run on a local Dask cluster (one single-threaded worker process per core)
    or on --scheduler's cluster; without the distributed extra, one after another here.
    Finished cells are kept in --cache: run the same command again to resume.
    """
    from optviz.cli.surface import figure_options
    from optviz.io import check_writable_file

    figures = figure_options(fmt=fmt, dpi=dpi, animate=None, fps=8, frames=2)
    if csv is not None:
        check_writable_file(csv)
    import optviz.api as api

    with ProgressBar("cells", quiet=json_out, counts=True) as bar:
        report = api.train_sweep(
            data, opt, target=target, samples=samples, noise=noise, arch=arch.value, depth=depth, width=width,
            norm=norm.value, act=act.value, init=init.value, dropout=dropout, dtype=dtype.value, loss=loss.value,
            lr=lr, params=param, schedule=schedule, schedule_unit=schedule_unit.value, epochs=epochs,
            batch_size=batch_size, weight_decay=weight_decay, l1=l1, seed=seed, seeds=seeds,
            cache=cache if cache is not None else out / "cache", workers=workers, scheduler=scheduler,
            verbose=verbose, progress=lambda p: bar.update(p.computed + p.cached, p.total, _describe(p)))
    if report.interrupted:
        import sys

        from optviz.errors import Interrupted

        for note in report.notes[:-1]:
            print(f"note: {note}", file=sys.stderr)
        raise Interrupted(report.notes[-1])
    written = []
    if csv is not None:
        from optviz.io import write_text

        written.append(write_text(csv, report.to_csv()))
    curves = report.curves() if not no_plot else []
    if curves:
        from optviz.plot.train_sweep import save_sensitivity_figure

        written.append(save_sensitivity_figure(curves, out, stem=report.stem(), title=report.title(),
                                               seeds=len(report.seeds), fmt=figures.fmt, dpi=figures.dpi))
    emit(json_out, report.to_json, lambda: best_table(report), written, report.notes)


def _describe(p: Any) -> str:
    """'cells on 2 local Dask workers (3 cached, 1 failed)'."""
    if p.where == "cache":
        return "cells (all cached)"
    extra = [f"{n} {what}" for n, what in ((p.cached, "cached"), (p.failed, "failed")) if n]
    return f"cells on {p.where}" + (f" ({', '.join(extra)})" if extra else "")


def best_table(report: Any) -> Any:
    """Per optimizer: its best setting, the accuracy there (median and spread over seeds),
    the loss, and the learning rates within one point of the best."""
    from rich.table import Table

    from optviz.report import fmt

    table = Table(title=f"{report.title()}: best setting per optimizer", title_justify="left")
    for col in ("optimizer", "cells", "best setting", "val acc (median, min … max)", "val loss",
                "lr within 1 point of best", "diverged", "failed"):
        table.add_column(col, justify="left" if col in ("optimizer", "best setting") else "right")
    for best in report.best():
        cells = [c for c in report.cells if c.optimizer == best.optimizer and c.result is not None]
        diverged = sum(c.result["status"] == "diverged" for c in cells)
        failed = sum(c.result["status"] == "failed" for c in cells)
        if best.setting is None:
            table.add_row(best.optimizer, str(len(cells)), "[red]no setting finished on every seed[/]", "—", "—",
                          "—", str(diverged), str(failed))
            continue
        lo, hi = best.acc_range
        acc = f"{best.acc[1]:.1%}" + (f" ({lo:.1%} … {hi:.1%})" if len(report.seeds) > 1 else "")
        within = "—"
        if best.lr_within is not None:
            a, b = best.lr_within
            within = f"{a:.3g} … {b:.3g} ({best.lr_decades:.1f} decades)" if b > a else f"{a:.3g} only"
        table.add_row(best.optimizer, str(len(cells)), ", ".join(f"{k}={v:.3g}" for k, v in best.setting.items()),
                      acc, fmt(best.loss, 4), within, str(diverged), str(failed))
    return table
