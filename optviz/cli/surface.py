"""``optviz run`` and ``optviz compare``: parse the options, call :func:`optviz.run` or
:func:`optviz.compare`, render the figures, the CSV and the table (or JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from optviz.cli.options import (
    OPTIM,
    Animate,
    BatchSize,
    Bound,
    Csv,
    DomainOpt,
    Fn,
    Format,
    Fps,
    Frames,
    ImageFormat,
    Json,
    Lr,
    Noise,
    NoPlot,
    Out,
    Param,
    RunDpi,
    ScheduleOpt,
    Seed,
    Seeds,
    ShowConvexity,
    ShowState,
    SortBy,
    Start,
    Steps,
    Surface,
    Tol,
    Tune,
    TuneBy,
    TuneMetric,
    Xlim,
    Ylim,
    value,
)
from optviz.cli.output import ProgressBar, emit


def figure_options(*, fmt: ImageFormat, dpi: int | None, animate, fps: int, frames: int, surface: bool = False,
                   show_state: bool = False, animations: tuple[str, ...] = ("gif", "mp4"), domain: str | None = None,
                   xlim: str | None = None, ylim: str | None = None, show_convexity: bool = False):
    """The pictures asked for, checked by the library before any work."""
    from optviz.plot.options import FigureOptions

    return FigureOptions(fmt=fmt.value, dpi=dpi, animate=value(animate), fps=fps, frames=frames, surface=surface,
                         show_state=show_state, animations=animations, domain=domain, xlim=xlim, ylim=ylim,
                         show_convexity=show_convexity)


def finish(result: Any, *, figures: Any, out: Path, csv: Path | None, no_plot: bool, json_out: bool,
           table: Any) -> None:
    """Figures (with a progress bar over animation frames), the CSV, then the table or JSON."""
    from optviz.export import trajectory_csv
    from optviz.io import ensure_dir, write_text

    written: list[Path] = []
    if not no_plot:
        from optviz.plot import save_run_figures

        ensure_dir(out)
        with ProgressBar("rendering frames", quiet=json_out or figures.animate is None) as bar:
            written = save_run_figures(result, out, options=figures, progress=bar.update)
    if csv is not None:
        written.append(write_text(csv, trajectory_csv(result)))
    emit(json_out, result.to_json, lambda: table, written)
    if result.interrupted:
        from optviz.errors import Interrupted

        raise Interrupted("interrupted; kept the steps completed so far")


def _step_progress(bar: ProgressBar):
    def report(label: str, step: int, steps: int) -> None:
        bar.update(step, steps, f"{label} step {step:,} of {steps:,}")

    return report


def _checked_csv(csv: Path | None) -> Path | None:
    if csv is None:
        return None
    from optviz.io import check_writable_file

    return check_writable_file(csv)


def run(
    fn: Fn = "rosenbrock",
    opt: Annotated[str, typer.Option("--opt", "-o", help="Optimizer(s), comma-separated (see 'optviz optimizers').", rich_help_panel=OPTIM)] = "adam",
    lr: Lr = None,
    param: Param = None,
    start: Start = None,
    steps: Steps = None,
    tol: Tol = 1e-6,
    schedule: ScheduleOpt = None,
    noise: Noise = None,
    batch_size: BatchSize = None,
    seed: Seed = 0,
    bound: Bound = None,
    tune: Tune = False,
    tune_metric: TuneBy = TuneMetric.auc,
    seeds: Seeds = 1,
    out: Out = Path("optviz-out"),
    csv: Csv = None,
    no_plot: NoPlot = False,
    json_out: Json = False,
    fmt: Format = ImageFormat.png,
    dpi: RunDpi = None,
    animate: Animate = None,
    fps: Fps = 20,
    frames: Frames = 100,
    surface: Surface = False,
    show_state: ShowState = False,
    domain: DomainOpt = None,
    xlim: Xlim = None,
    ylim: Ylim = None,
    show_convexity: ShowConvexity = False,
) -> None:
    """Run optimizers on a function and draw their paths and losses.

    With no options: Adam on Rosenbrock with that function's suggested settings.
    """
    figures = figure_options(fmt=fmt, dpi=dpi, animate=animate, fps=fps, frames=frames, surface=surface,
                             show_state=show_state, domain=domain, xlim=xlim, ylim=ylim,
                             show_convexity=show_convexity)
    csv = _checked_csv(csv)
    import optviz.api as api
    from optviz.report import run_table

    with ProgressBar("running", quiet=json_out, delay=1.0) as bar:
        result = api.run(fn, opt, lr=lr, start=start, steps=steps, tol=tol, schedule=schedule, noise=noise,
                         batch_size=batch_size, seed=seed, bound=bound, params=param, tune=tune,
                         tune_metric=tune_metric.value, seeds=seeds, progress=_step_progress(bar))
    finish(result, figures=figures, out=out, csv=csv, no_plot=no_plot, json_out=json_out, table=run_table(result))


def compare(
    fn: Fn = "rosenbrock",
    opt: Annotated[str | None, typer.Option("--opt", "-o", help="Optimizers to compare, comma-separated [default: every first-order one].", rich_help_panel=OPTIM)] = None,
    lr: Lr = None,
    param: Param = None,
    start: Start = None,
    steps: Steps = None,
    tol: Tol = 1e-6,
    schedule: ScheduleOpt = None,
    noise: Noise = None,
    batch_size: BatchSize = None,
    seed: Seed = 0,
    bound: Bound = None,
    tune: Tune = False,
    tune_metric: TuneBy = TuneMetric.auc,
    seeds: Seeds = 1,
    sort: Annotated[SortBy, typer.Option(help="Order of the table, best first: gap (f − f*, or f where f* is unknown), f, distance (to the nearest minimum), steps (to reach --tol). Diverged runs come last.")] = SortBy.gap,
    out: Out = Path("optviz-out"),
    csv: Csv = None,
    no_plot: NoPlot = False,
    json_out: Json = False,
    fmt: Format = ImageFormat.png,
    dpi: RunDpi = None,
    animate: Animate = None,
    fps: Fps = 20,
    frames: Frames = 100,
    surface: Surface = False,
    show_state: ShowState = False,
    domain: DomainOpt = None,
    xlim: Xlim = None,
    ylim: Ylim = None,
    show_convexity: ShowConvexity = False,
) -> None:
    """Compare optimizers from the same start: one overlay figure and a ranked table."""
    figures = figure_options(fmt=fmt, dpi=dpi, animate=animate, fps=fps, frames=frames, surface=surface,
                             show_state=show_state, domain=domain, xlim=xlim, ylim=ylim,
                             show_convexity=show_convexity)
    csv = _checked_csv(csv)
    import optviz.api as api
    from optviz.report import compare_table

    with ProgressBar("running", quiet=json_out, delay=1.0) as bar:
        result = api.compare(fn, opt, sort=sort.value, lr=lr, start=start, steps=steps, tol=tol,
                             schedule=schedule, noise=noise, batch_size=batch_size, seed=seed, bound=bound,
                             params=param, tune=tune, tune_metric=tune_metric.value, seeds=seeds,
                             progress=_step_progress(bar))
    finish(result, figures=figures, out=out, csv=csv, no_plot=no_plot, json_out=json_out,
           table=compare_table(result, result.sort, result.tol))
