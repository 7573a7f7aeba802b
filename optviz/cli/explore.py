"""``optviz explore``: parse, call :func:`optviz.explore`, write the page (and open it)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from optviz.cli.options import (
    OPTIM,
    OUTPUT,
    BatchSize,
    Fn,
    Lr,
    Noise,
    Out,
    Param,
    ScheduleOpt,
    Seed,
    Start,
    Steps,
    Tol,
)


def explore(
    fn: Fn = "rosenbrock",
    opt: Annotated[str, typer.Option("--opt", "-o", help="Optimizer(s), comma-separated, each optionally with its own settings: \"momentum(beta=0.5), momentum(beta=0.9)\". optviz's own rules only (not muon, torch: or optax:).", rich_help_panel=OPTIM)] = "gd,momentum,adam",
    lr: Lr = None,
    param: Param = None,
    start: Start = None,
    steps: Steps = None,
    tol: Tol = 1e-6,
    schedule: ScheduleOpt = None,
    noise: Noise = None,
    batch_size: BatchSize = None,
    seed: Seed = 0,
    out: Out = Path("optviz-out"),
    open_page: Annotated[bool, typer.Option("--open", help="Open the page in the browser.", rich_help_panel=OUTPUT)] = False,
) -> None:
    """Write an explorable page: drag the start, slide the learning rate, watch every optimizer move.

    One self-contained HTML file (no network, works from file://) whose JavaScript
    recomputes every path with the same update rules as optviz run.
    """
    import optviz.api as api

    page = api.explore(fn, opt, lr=lr, start=start, steps=steps, tol=tol, schedule=schedule, noise=noise,
                       batch_size=batch_size, seed=seed, params=param)
    path = page.save(out)
    print(f"wrote {path}")
    if open_page:
        import webbrowser

        webbrowser.open(path.resolve().as_uri())
