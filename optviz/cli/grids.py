"""``optviz sweep`` and ``optviz basins``: parse, call :func:`optviz.sweep` or
:func:`optviz.basins`, draw the maps and print the table (or JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from optviz.cli.options import (
    OPTIM,
    BatchSize,
    DomainOpt,
    Dpi,
    Fn,
    Format,
    ImageFormat,
    Json,
    Lr,
    Metric,
    Noise,
    NoPlot,
    Out,
    Param,
    ScheduleOpt,
    Seed,
    Start,
    Steps,
    Tol,
)
from optviz.cli.output import ProgressBar, emit
from optviz.cli.surface import figure_options


def sweep(
    fn: Fn = "rosenbrock",
    opt: Annotated[str, typer.Option("--opt", "-o", help="Optimizer(s), comma-separated.", rich_help_panel=OPTIM)] = "gd,momentum,adam",
    lr: Annotated[str, typer.Option(help="Learning-rate grid LO:HI:N (log-spaced), or one value when another parameter is swept.", rich_help_panel=OPTIM)] = "1e-4:1:41",
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="NAME=LO:HI:N sweeps a second parameter (linear; log: or lin: prefix to choose), NAME=VALUE fixes one.", rich_help_panel=OPTIM)] = None,
    start: Start = None,
    steps: Steps = None,
    tol: Tol = 1e-6,
    metric: Annotated[Metric, typer.Option(help="What each cell shows: final-loss, gap (f − f*), steps (to reach --tol), auc (mean log gap over the run).")] = Metric.final_loss,
    schedule: ScheduleOpt = None,
    noise: Noise = None,
    batch_size: BatchSize = None,
    seed: Seed = 0,
    force: Annotated[bool, typer.Option("--force", help="Allow more than 10⁷ cells.")] = False,
    out: Out = Path("optviz-out"),
    no_plot: NoPlot = False,
    json_out: Json = False,
    fmt: Format = ImageFormat.png,
    dpi: Dpi = 150,
) -> None:
    """Sweep learning rates (and one more hyperparameter): which settings work, for each optimizer?

    All cells of one optimizer run as one vectorized batch.
    """
    figures = figure_options(fmt=fmt, dpi=dpi, animate=None, fps=20, frames=2)
    import optviz.api as api
    from optviz.report import sweep_table

    with ProgressBar("sweep", quiet=json_out, delay=1.0) as bar:
        report = api.sweep(fn, opt, lr=lr, params=param, start=start, steps=steps, tol=tol, metric=metric.value,
                           schedule=schedule, noise=noise, batch_size=batch_size, seed=seed, force=force,
                           progress=_progress(bar, "sweep"))
    written = []
    if not no_plot:
        from optviz.plot.maps import save_sweep_figure

        written.append(save_sweep_figure(report.sweeps, out, fmt=figures.fmt, dpi=figures.dpi))
    emit(json_out, report.to_json, lambda: sweep_table(report.sweeps, tol), written)


def basins(
    fn: Fn = "himmelblau",
    opt: Annotated[str, typer.Option("--opt", "-o", help="Optimizer(s), comma-separated; one panel each.", rich_help_panel=OPTIM)] = "gd,momentum,adam",
    lr: Lr = None,
    param: Param = None,
    grid: Annotated[int, typer.Option(help="Start points per axis (GRID × GRID starts over the domain).")] = 250,
    steps: Steps = None,
    tol: Tol = 1e-6,
    schedule: ScheduleOpt = None,
    noise: Noise = None,
    batch_size: BatchSize = None,
    seed: Seed = 0,
    domain: DomainOpt = None,
    out: Out = Path("optviz-out"),
    no_plot: NoPlot = False,
    json_out: Json = False,
    fmt: Format = ImageFormat.png,
    dpi: Dpi = 150,
) -> None:
    """Basins of attraction: from where does each optimizer reach which minimum?"""
    figures = figure_options(fmt=fmt, dpi=dpi, animate=None, fps=20, frames=2)
    import optviz.api as api
    from optviz.report import basins_table

    with ProgressBar("basins", quiet=json_out, delay=1.0) as bar:
        report = api.basins(fn, opt, lr=lr, params=param, grid=grid, steps=steps, tol=tol, schedule=schedule,
                            noise=noise, batch_size=batch_size, seed=seed, domain=domain,
                            progress=_progress(bar, "basins"))
    written = []
    if not no_plot:
        from optviz.plot.maps import save_basins_figure

        written.append(save_basins_figure(report.basins, out, fmt=figures.fmt, dpi=figures.dpi))
    emit(json_out, report.to_json, lambda: basins_table(report.basins), written)


def _progress(bar: ProgressBar, what: str):
    """The API's ``progress(done, total, label)`` as the bar's count and description."""

    def update(done: int, total: int, label: str) -> None:
        bar.update(done, total, f"{what}: {label}" if label else what)

    return update
