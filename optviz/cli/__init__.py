"""The ``optviz`` command line: thin commands that parse options, call one function of the
public API (:mod:`optviz.api`) and render its result.

Only typer and the standard library are imported at start-up; numpy, sympy and
matplotlib are imported inside the commands that need them, so ``optviz --help`` stays
instant. One module per group of commands (:mod:`~optviz.cli.surface`,
:mod:`~optviz.cli.grids`, :mod:`~optviz.cli.network`, :mod:`~optviz.cli.catalog`),
registered here; their options share :mod:`~optviz.cli.options`.
"""

from __future__ import annotations

import os
import sys
import threading

import typer

from optviz import interrupts
from optviz.cli import catalog, explore, grids, network, surface, train_sweep
from optviz.cli.options import LiteralHelpCommand
from optviz.cli.output import flag_namer
from optviz.errors import Interrupted, OptvizError, printable
from optviz.exits import leave_now

app = typer.Typer(
    name="optviz",
    help="See how gradient optimizers move: run them on a function, draw what happened.",
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

for _name, _command in (("run", surface.run), ("compare", surface.compare), ("sweep", grids.sweep),
                        ("basins", grids.basins), ("functions", catalog.functions),
                        ("optimizers", catalog.optimizers), ("gallery", catalog.gallery),
                        ("train", network.train), ("landscape", network.landscape), ("explore", explore.explore),
                        ("train-sweep", train_sweep.train_sweep)):
    app.command(_name, cls=LiteralHelpCommand)(_command)


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
        _fail(exc.render(flag_namer(typer.main.get_command(app))))
    except Interrupted as exc:
        _leave_interrupted(str(exc), console=argv is None)
    except usage_error as exc:
        ctx = getattr(exc, "ctx", None)
        where = f"{ctx.command_path}: " if ctx is not None else ""
        _fail(f"{where}{exc.format_message()} (see --help)")
    except exits as exc:
        sys.exit(getattr(exc, "exit_code", 0))
    except (*aborts, KeyboardInterrupt):
        _leave_interrupted("interrupted", console=argv is None)
    except BrokenPipeError:
        # the reader of our output stopped (`optviz run --json | head`): that is its choice
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except click_error as exc:
        _fail(exc.format_message())
    if code == 130 or interrupts.PENDING:  # typer's silent 130, or a Ctrl-C Python swallowed
        _leave_interrupted("interrupted", console=argv is None)
    if isinstance(code, int) and code:
        sys.exit(code)
    return 0


def _leave_interrupted(message: str, console: bool) -> None:
    print(f"optviz: {message}", file=sys.stderr)
    if console and threading.current_thread() is threading.main_thread():
        leave_now(130)
    sys.exit(130)


def _fail(message: str) -> None:
    # one line, whatever the message holds: control characters of a path or a CSV header
    # are shown as escapes, never sent to the terminal
    print(f"optviz: error: {printable(' '.join(message.split()), limit=4000)}", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
