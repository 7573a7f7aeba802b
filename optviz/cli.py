"""The ``optviz`` command line: thin commands that parse options, call the
library and hand the result to a renderer.

Only typer and the standard library are imported at start-up; numpy, sympy
and matplotlib are imported inside the commands that need them, so
``optviz --help`` stays instant.
"""

from __future__ import annotations

import math
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from optviz.errors import Interrupted, OptvizError

app = typer.Typer(
    name="optviz",
    help="See how gradient optimizers move: run them on a function, draw what happened.",
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

OUTPUT = "Output"
OPTIM = "Optimizer"
PICTURE = "Pictures"


class ImageFormat(str, Enum):
    png = "png"
    svg = "svg"
    pdf = "pdf"


class AnimationFormat(str, Enum):
    gif = "gif"
    mp4 = "mp4"


class SortBy(str, Enum):
    gap = "gap"
    f = "f"
    distance = "distance"
    steps = "steps"


# -- option types shared by run and compare ---------------------------------------------
Fn = Annotated[str, typer.Option("--fn", "-f", help="A library name (see 'optviz functions'), a formula such as 'x**2 + 10*y**2', or a path to a function file.")]
Lr = Annotated[float | None, typer.Option(help="Learning rate for every optimizer [default: each optimizer's suggested rate for the function].", rich_help_panel=OPTIM)]
Param = Annotated[list[str] | None, typer.Option("--param", "-p", help="Hyperparameter NAME=VALUE (SPEC names: beta, dampening, nesterov, eps, beta1, beta2, bias_correction, damping, safeguard); OPT.NAME=VALUE for one optimizer. Repeatable.", rich_help_panel=OPTIM)]
Start = Annotated[list[str] | None, typer.Option(help="Start point 'a,b' (a single number for 1-D). Repeatable: several starts run as one batch.")]
Steps = Annotated[int | None, typer.Option(help="Step budget [default: the function's].")]
Tol = Annotated[float, typer.Option(help="Stop a point when ‖∇f‖ ≤ TOL; 0 runs every step.")]
Schedule = Annotated[str | None, typer.Option(help="Learning-rate schedule: constant | step:K:GAMMA | exp:GAMMA | inverse:D | poly:B:A | cosine:T[:MIN] | warmup:W+SCHEDULE.", rich_help_panel=OPTIM)]
Noise = Annotated[float | None, typer.Option(help="σ of the gradient noise for sgd/minibatch on a plain function [default: the function's, else 1].", rich_help_panel=OPTIM)]
BatchSize = Annotated[int | None, typer.Option(help="Minibatch size b for minibatch SGD.", rich_help_panel=OPTIM)]
Seed = Annotated[int, typer.Option(help="Seed of the gradient noise and sample draws.")]
Out = Annotated[Path, typer.Option(help="Directory for figures.", rich_help_panel=OUTPUT)]
Csv = Annotated[Path | None, typer.Option(help="Write every step of every run to this CSV file.", rich_help_panel=OUTPUT)]
NoPlot = Annotated[bool, typer.Option("--no-plot", help="Draw nothing.", rich_help_panel=OUTPUT)]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout (see README) instead of the table.", rich_help_panel=OUTPUT)]
Format = Annotated[ImageFormat, typer.Option("--format", help="Image format.", rich_help_panel=PICTURE)]
Dpi = Annotated[int, typer.Option(help="Resolution of raster images.", rich_help_panel=PICTURE)]
Animate = Annotated[AnimationFormat | None, typer.Option(help="Also write an animation of the paths (gif needs nothing; mp4 needs ffmpeg).", rich_help_panel=PICTURE)]
Fps = Annotated[int, typer.Option(help="Frames per second of the animation.", rich_help_panel=PICTURE)]
Frames = Annotated[int, typer.Option(help="Number of frames (long runs are subsampled evenly; the last step is always kept).", rich_help_panel=PICTURE)]
Surface = Annotated[bool, typer.Option("--surface", help="Also draw a 3-D surface with the paths on it.", rich_help_panel=PICTURE)]
ShowState = Annotated[bool, typer.Option("--show-state", help="Also draw each optimizer's state per step (v, s, m̂, v̂, effective step).", rich_help_panel=PICTURE)]
Tune = Annotated[bool, typer.Option("--tune", help="Choose each optimizer's lr on a log grid (1e-5 to 10, 31 points, one batched sweep) by --tune-metric.", rich_help_panel=OPTIM)]
TuneBy = Annotated[str, typer.Option("--tune-metric", help="What --tune minimizes: auc (mean log10(f − f*) over the run: rewards getting low early and staying low), final-loss, or steps (to reach --tol).", rich_help_panel=OPTIM)]
Seeds = Annotated[int, typer.Option(help="Run sgd/minibatch with N noise seeds (seed, seed+1, …) as one batch; the loss figure shows the median and the 10-90% band.", rich_help_panel=OPTIM)]
Bound = Annotated[float | None, typer.Option(help="|θ| beyond which a run counts as diverged [default: 10⁶ × the domain's scale].")]


def _stdout():
    """A console for tables: as wide as the terminal, or 140 columns when piped."""
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 140)


def _stderr():
    from rich.console import Console

    return Console(stderr=True)


def _parse_params(items: list[str] | None) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise OptvizError(f"--param {item!r}: write NAME=VALUE, e.g. -p beta=0.9")
        params[name.strip()] = value.strip()
    return params


def _parse_starts(items: list[str] | None):
    if not items:
        return None
    rows = []
    for item in items:
        try:
            rows.append([float(v) for v in item.replace(" ", "").split(",")])
        except ValueError:
            raise OptvizError(f"--start {item!r}: write numbers separated by commas, e.g. --start -1.5,2") from None
    if len({len(r) for r in rows}) > 1:
        raise OptvizError("--start points must all have the same number of coordinates")
    return rows


def _check_positive(name: str, value, *, allow_zero: bool = False) -> None:
    if value is None:
        return
    if value < 0 or (value == 0 and not allow_zero) or not math.isfinite(value):
        raise OptvizError(f"{name} must be {'≥ 0' if allow_zero else '> 0'} and finite, got {value:g}")


def _draw(result, out: Path, *, fmt, dpi, surface, show_state, animate, fps, frames, quiet: bool):
    """Hand the result to the renderer; returns the written paths."""
    from optviz.io import ensure_dir
    from optviz.plot import save_run_figures

    ensure_dir(out)
    progress = None
    if animate is not None and not quiet:
        from rich.progress import Progress

        bar = Progress(console=_stderr(), transient=True)
        task = bar.add_task("rendering frames", total=None)

        def progress(done: int, total: int) -> None:
            if not bar.live.is_started:
                bar.start()
            bar.update(task, completed=done, total=total)
            if done >= total:
                bar.stop()

    return save_run_figures(result, out, fmt=fmt, dpi=dpi, surface=surface, show_state=show_state,
                            animate=animate, fps=fps, frames=frames, progress=progress)


def _validate_picture_options(dpi: int, fps: int, frames: int) -> None:
    if dpi < 10 or dpi > 2400:
        raise OptvizError(f"--dpi must be between 10 and 2400, got {dpi}")
    if fps < 1 or fps > 120:
        raise OptvizError(f"--fps must be between 1 and 120, got {fps}")
    if frames < 2:
        raise OptvizError(f"--frames must be ≥ 2, got {frames}")


def _validate_run_options(lr, tol, bound, steps, dpi, fps, frames) -> None:
    """Checks shared by run and compare, before any work."""
    _check_positive("--lr", lr)
    _check_positive("--tol", tol, allow_zero=True)
    _check_positive("--bound", bound)
    if steps is not None and steps < 1:
        raise OptvizError(f"--steps must be ≥ 1, got {steps}")
    _validate_picture_options(dpi, fps, frames)


def _finish(result, *, out, csv, no_plot, json_out, fmt, dpi, surface, show_state, animate, fps, frames,
            table) -> None:

    from optviz.export import trajectory_csv
    from optviz.io import check_writable_file, write_text

    if csv is not None:
        check_writable_file(csv)
    written = []
    if not no_plot:
        written = _draw(result, out, fmt=fmt.value, dpi=dpi, surface=surface, show_state=show_state,
                        animate=animate.value if animate else None, fps=fps, frames=frames, quiet=json_out)
    if csv is not None:
        written.append(write_text(csv, trajectory_csv(result)))
    emit(json_out, lambda: result.to_json(), lambda: table, written)


def emit(json_out: bool, document, table, written, notes=()) -> None:
    """The end of every command: one JSON document on stdout (messages on stderr),
    or the table, any notes and the files written. ``document`` and ``table`` are
    callables so only the one asked for is built."""
    if json_out:
        from optviz.export import to_json_text

        sys.stdout.write(to_json_text(document()))
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        for path in written:
            print(f"wrote {path}", file=sys.stderr)
        return
    console = _stdout()
    console.print(table())
    for note in notes:
        console.print(f"note: {note}")
    for path in written:
        console.print(f"wrote [bold]{path}[/]")


@app.command()
def run(
    fn: Fn = "rosenbrock",
    opt: Annotated[str, typer.Option("--opt", "-o", help="Optimizer(s), comma-separated: gd, sgd, minibatch, momentum, nesterov, adagrad, rmsprop, adam, newton.", rich_help_panel=OPTIM)] = "adam",
    lr: Lr = None,
    param: Param = None,
    start: Start = None,
    steps: Steps = None,
    tol: Tol = 1e-6,
    schedule: Schedule = None,
    noise: Noise = None,
    batch_size: BatchSize = None,
    seed: Seed = 0,
    bound: Bound = None,
    tune: Tune = False,
    tune_metric: TuneBy = "auc",
    seeds: Seeds = 1,
    out: Out = Path("optviz-out"),
    csv: Csv = None,
    no_plot: NoPlot = False,
    json_out: Json = False,
    fmt: Format = ImageFormat.png,
    dpi: Dpi = 150,
    animate: Animate = None,
    fps: Fps = 20,
    frames: Frames = 100,
    surface: Surface = False,
    show_state: ShowState = False,
) -> None:
    """Run optimizers on a function and draw their paths and losses.

    With no options: Adam on Rosenbrock with that function's suggested settings.
    """
    _validate_run_options(lr, tol, bound, steps, dpi, fps, frames)
    from optviz.api import run as api_run
    from optviz.report import run_table

    result = api_run(fn, opt, lr=lr, start=_parse_starts(start), steps=steps, tol=tol, schedule=schedule,
                     noise=noise, batch_size=batch_size, seed=seed, bound=bound, params=_parse_params(param),
                     tune=tune, tune_metric=tune_metric, seeds=seeds)
    _finish(result, out=out, csv=csv, no_plot=no_plot, json_out=json_out, fmt=fmt, dpi=dpi, surface=surface,
            show_state=show_state, animate=animate, fps=fps, frames=frames, table=run_table(result))


@app.command()
def compare(
    fn: Fn = "rosenbrock",
    opt: Annotated[str | None, typer.Option("--opt", "-o", help="Optimizers to compare, comma-separated [default: every first-order one].", rich_help_panel=OPTIM)] = None,
    lr: Lr = None,
    param: Param = None,
    start: Start = None,
    steps: Steps = None,
    tol: Tol = 1e-6,
    schedule: Schedule = None,
    noise: Noise = None,
    batch_size: BatchSize = None,
    seed: Seed = 0,
    bound: Bound = None,
    tune: Tune = False,
    tune_metric: TuneBy = "auc",
    seeds: Seeds = 1,
    sort: Annotated[SortBy, typer.Option(help="Order of the table, best first: gap (f − f*, or f where f* is unknown), f, distance (to the nearest minimum), steps (to reach --tol). Diverged runs come last.")] = SortBy.gap,
    out: Out = Path("optviz-out"),
    csv: Csv = None,
    no_plot: NoPlot = False,
    json_out: Json = False,
    fmt: Format = ImageFormat.png,
    dpi: Dpi = 150,
    animate: Animate = None,
    fps: Fps = 20,
    frames: Frames = 100,
    surface: Surface = False,
    show_state: ShowState = False,
) -> None:
    """Compare optimizers from the same start: one overlay figure and a ranked table."""
    _validate_run_options(lr, tol, bound, steps, dpi, fps, frames)
    from optviz.api import run as api_run
    from optviz.optim import FIRST_ORDER
    from optviz.report import compare_table

    result = api_run(fn, opt or ",".join(FIRST_ORDER), lr=lr, start=_parse_starts(start), steps=steps, tol=tol,
                     schedule=schedule, noise=noise, batch_size=batch_size, seed=seed, bound=bound,
                     params=_parse_params(param), tune=tune, tune_metric=tune_metric, seeds=seeds)
    _finish(result, out=out, csv=csv, no_plot=no_plot, json_out=json_out, fmt=fmt, dpi=dpi, surface=surface,
            show_state=show_state, animate=animate, fps=fps, frames=frames,
            table=compare_table(result, sort.value, tol))


class Metric(str, Enum):
    final_loss = "final-loss"
    gap = "gap"
    steps = "steps"
    auc = "auc"


class TuneMetric(str, Enum):
    auc = "auc"
    final_loss = "final-loss"
    steps = "steps"


def _sweep_axes(opt_names: list[str], lr: str, params: list[str] | None):
    from optviz.optim import defaults
    from optviz.sweep import parse_grid

    grids, fixed = [parse_grid("lr", lr)], {}
    for name, value in _parse_params(params).items():
        axis = parse_grid(name, value) if ":" in value else None
        if axis is not None and len(axis.values) > 1:
            grids.append(axis)
        else:
            fixed[name] = value
        for opt in opt_names:
            if name not in defaults(opt):
                raise OptvizError(f"{opt} has no parameter {name!r}; its parameters are {', '.join(['lr', *defaults(opt)])}")
    axes = [a for a in grids if len(a.values) > 1] or grids[:1]
    if len(axes) > 2:
        raise OptvizError("a sweep takes at most two grids (e.g. --lr 1e-4:1:41 -p beta=0:0.99:34)")
    if grids[0] not in axes:
        fixed["lr"] = float(grids[0].values[0])
    return axes, fixed


@app.command()
def sweep(
    fn: Fn = "rosenbrock",
    opt: Annotated[str, typer.Option("--opt", "-o", help="Optimizer(s), comma-separated.", rich_help_panel=OPTIM)] = "gd,momentum,adam",
    lr: Annotated[str, typer.Option(help="Learning-rate grid LO:HI:N (log-spaced), or one value when another parameter is swept.", rich_help_panel=OPTIM)] = "1e-4:1:41",
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="NAME=LO:HI:N sweeps a second parameter (linear; log: or lin: prefix to choose), NAME=VALUE fixes one.", rich_help_panel=OPTIM)] = None,
    start: Start = None,
    steps: Steps = None,
    tol: Tol = 1e-6,
    metric: Annotated[Metric, typer.Option(help="What each cell shows: final-loss, gap (f − f*), steps (to reach --tol), auc (mean log gap over the run).")] = Metric.final_loss,
    schedule: Schedule = None,
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
    _check_positive("--tol", tol, allow_zero=True)
    _validate_picture_options(dpi, 20, 2)

    from optviz.api import _parse_starts as api_starts
    from optviz.api import optimizer_names, optimizer_settings, oracle_factory, resolve_function
    from optviz.report import sweep_table
    from optviz.sweep import sweep as run_sweep

    objective = resolve_function(fn)
    names = optimizer_names(opt)
    axes, fixed = _sweep_axes(names, lr, param)
    X = api_starts(objective, _parse_starts(start))
    n_steps = objective.steps if steps is None else steps
    if n_steps < 1:
        raise OptvizError(f"--steps must be ≥ 1, got {n_steps}")
    if not no_plot:
        from optviz.io import ensure_dir

        ensure_dir(out)
    results = []
    oracles = oracle_factory(objective, noise, batch_size, seed)
    for name in names:
        _, hyper = optimizer_settings(objective, name)
        hyper.update(fixed)  # the grid's fixed values, lr included, win over suggestions
        results.append(run_sweep(objective, name, axes, start=X[0], steps=n_steps, tol=tol, metric=metric.value,
                                 schedule=schedule, oracle_factory=oracles, fixed=hyper, force=force))
    written = []
    if not no_plot:
        from optviz.plot.maps import save_sweep_figure

        written.append(save_sweep_figure(results, out, fmt=fmt.value, dpi=dpi))
    emit(json_out, lambda: {"function": objective.name, "start": X[0].tolist(), "steps": n_steps,
                            "metric": metric.value, "sweeps": [r.to_json() for r in results]},
         lambda: sweep_table(results, tol), written)


@app.command()
def basins(
    fn: Fn = "himmelblau",
    opt: Annotated[str, typer.Option("--opt", "-o", help="Optimizer(s), comma-separated; one panel each.", rich_help_panel=OPTIM)] = "gd,momentum,adam",
    lr: Lr = None,
    param: Param = None,
    grid: Annotated[int, typer.Option(help="Start points per axis (GRID × GRID starts over the domain).")] = 250,
    steps: Steps = None,
    tol: Tol = 1e-6,
    schedule: Schedule = None,
    noise: Noise = None,
    batch_size: BatchSize = None,
    seed: Seed = 0,
    out: Out = Path("optviz-out"),
    no_plot: NoPlot = False,
    json_out: Json = False,
    fmt: Format = ImageFormat.png,
    dpi: Dpi = 150,
) -> None:
    """Basins of attraction: from where does each optimizer reach which minimum?"""
    _check_positive("--lr", lr)
    _check_positive("--tol", tol, allow_zero=True)
    _validate_picture_options(dpi, 20, 2)
    if grid < 2 or grid > 3000:
        raise OptvizError(f"--grid must be between 2 and 3000, got {grid}")

    from optviz.api import (
        _scoped_params,
        default_start,
        optimizer_names,
        optimizer_settings,
        oracle_factory,
        resolve_function,
    )
    from optviz.report import basins_table
    from optviz.sweep import basins as run_basins

    objective = resolve_function(fn)
    if objective.dim != 2:
        raise OptvizError(f"basins needs a function of 2 variables; {objective.name} has {objective.dim}")
    names = optimizer_names(opt)
    per = _scoped_params(_parse_params(param), names)
    n_steps = objective.steps if steps is None else steps
    if n_steps < 1:
        raise OptvizError(f"--steps must be ≥ 1, got {n_steps}")
    if schedule is not None:
        from optviz.optim import parse_schedule

        parse_schedule(schedule, 1.0)
    if not no_plot:
        from optviz.io import ensure_dir

        ensure_dir(out)
    results = []
    oracles = oracle_factory(objective, noise, batch_size, seed)
    for name in names:
        chosen, hyper = optimizer_settings(objective, name, per[name], lr=lr, start=default_start(objective))
        results.append(run_basins(objective, name, lr=float(chosen), grid=grid, steps=n_steps, tol=tol,
                                  hyper=hyper, schedule=schedule, oracle_factory=oracles))
    written = []
    if not no_plot:
        from optviz.plot.maps import save_basins_figure

        written.append(save_basins_figure(results, out, fmt=fmt.value, dpi=dpi))
    emit(json_out, lambda: {"function": objective.name, "steps": n_steps, "basins": [r.to_json() for r in results]},
         lambda: basins_table(results), written)


@app.command()
def functions(
    name: Annotated[str | None, typer.Argument(help="Show one function in full.")] = None,
) -> None:
    """List the function library, or show one function in full."""
    from rich.console import Console

    from optviz.report import function_detail, function_table

    console = Console()
    if name is None:
        console.print(function_table())
    else:
        from optviz.library import load_function

        console.print(function_detail(load_function(name)))


@app.command()
def optimizers() -> None:
    """List the optimizers with their update rules and defaults."""
    from rich.console import Console

    from optviz.report import optimizer_table

    Console().print(optimizer_table())


@app.command()
def gallery(
    out: Annotated[Path, typer.Option(help="Directory to regenerate.")] = Path("gallery"),
    only: Annotated[list[str] | None, typer.Option("--only", help="Regenerate only these entries (repeatable).")] = None,
    list_entries: Annotated[bool, typer.Option("--list", help="List the entries and their commands.")] = False,
) -> None:
    """Regenerate the gallery: every picture with the exact command that made it."""
    from optviz.gallery import ENTRIES, index_markdown, run_entry
    from optviz.io import ensure_dir, write_text

    names = [e.name for e in ENTRIES]
    for name in only or []:
        if name not in names:
            raise OptvizError(f"unknown gallery entry {name!r}; entries: {', '.join(names)}")
    if list_entries:
        for e in ENTRIES:
            print(f"{e.name}: {e.command(str(out))}")
        return
    ensure_dir(out)
    console = _stderr()
    made = []
    for entry in ENTRIES:
        if only and entry.name not in only:
            continue
        console.print(f"[bold]{entry.name}[/]: {entry.command(str(out))}")
        made.append((entry, run_entry(entry, out)))
    if not only:
        write_text(out / "README.md", index_markdown(made, str(out)))
    for _, files in made:
        for f in files:
            print(f"wrote {f}")


def _register_network_commands() -> None:
    from optviz.cli_train import landscape, train

    app.command("train")(train)
    app.command("landscape")(landscape)


_register_network_commands()


def _click_exceptions():
    """Usage/Click/Exit/Abort classes of the click that typer uses (vendored or not)."""
    try:
        from typer._click import exceptions as ce  # typer ≥ 0.24 vendors click
    except ImportError:  # pragma: no cover - older typer with click installed
        from click import exceptions as ce
    return ce.UsageError, ce.ClickException, (typer.Exit, getattr(ce, "Exit", typer.Exit)), (typer.Abort, getattr(ce, "Abort", typer.Abort))


def main(argv: list[str] | None = None) -> int:
    """Entry point: one-line errors on stderr, exit 2 for bad input, 130 on Ctrl-C."""
    usage_error, click_error, exits, aborts = _click_exceptions()
    args = sys.argv[1:] if argv is None else argv
    try:
        code = app(args=args, prog_name="optviz", standalone_mode=False)
    except OptvizError as exc:
        _fail(str(exc))
    except Interrupted as exc:
        print(f"optviz: {exc}", file=sys.stderr)
        sys.exit(130)
    except usage_error as exc:
        ctx = getattr(exc, "ctx", None)
        where = f"{ctx.command_path}: " if ctx is not None else ""
        _fail(f"{where}{exc.format_message()} (see --help)")
    except exits as exc:
        sys.exit(getattr(exc, "exit_code", 0))
    except (*aborts, KeyboardInterrupt):
        print("optviz: interrupted", file=sys.stderr)
        sys.exit(130)
    except click_error as exc:
        _fail(exc.format_message())
    if code == 130:  # typer turns Ctrl-C into exit code 130 without a word
        print("optviz: interrupted", file=sys.stderr)
    if isinstance(code, int) and code:
        sys.exit(code)
    return 0


def _fail(message: str) -> None:
    print(f"optviz: error: {_one_line(message)}", file=sys.stderr)
    sys.exit(2)


def _one_line(text: str) -> str:
    return " ".join(text.split())


if __name__ == "__main__":  # pragma: no cover
    main()
