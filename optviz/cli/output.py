"""How commands end: the table or one JSON document, notes, the files written, progress
bars, and errors in the command line's own words. Only typer and the standard library
at import; rich is imported when something is printed.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# Keyword names of the library whose flag is not --NAME with dashes.
FLAG_ALIASES = {"params": "param", "json": "json_out", "open": "open_page"}


def stdout_console():
    """A console for tables: as wide as the terminal, or ``COLUMNS`` when set, or 140
    columns when piped without it (a file keeps whole rows)."""
    import os

    from rich.console import Console

    columns = os.environ.get("COLUMNS", "")
    console = Console(width=None if sys.stdout.isatty() or columns.strip().isdigit() else 140)
    console.on_broken_pipe = _reader_left
    return console


def _reader_left() -> None:
    """The reader of our output stopped (``optviz run --csv /dev/stdout | head``): its choice,
    not a failure; stdout goes nowhere from here and the command ends with 0."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    raise SystemExit(0)


def stderr_console():
    from rich.console import Console

    return Console(stderr=True)


def emit(json_out: bool, document: Callable[[], dict], table: Callable[[], Any], written: Iterable[Path],
         notes: Iterable[str] = ()) -> None:
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
    console = stdout_console()
    console.print(table())
    for note in notes:
        console.print(f"note: {note}")
    for path in written:
        console.print(f"wrote [bold]{path}[/]")


class ProgressBar:
    """A progress bar on stderr that starts with its first update (so an error before
    any work stays one line) and is gone when the block ends; silent when ``quiet`` or
    when stderr is not a terminal.

    ``update(done, total, description)`` sets the count; ``advance(description)`` adds one.
    With ``delay`` seconds the bar shows only once the block has run that long (a quick
    command prints nothing), then keeps its elapsed time ticking between updates.
    """

    def __init__(self, description: str, *, total: int | None = None, quiet: bool = False,
                 counts: bool = False, delay: float = 0.0) -> None:
        self.description, self.total, self.quiet, self.counts = description, total, quiet, counts
        self.delay = delay
        self.bar = None
        self._timer = None
        self._lock = threading.Lock()
        self._closed = False
        self._due = not delay  # whether the bar may show yet

    def __enter__(self) -> ProgressBar:
        console = None if self.quiet else stderr_console()
        if console is not None and console.is_terminal:  # a bar in a pipe or a log is noise
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            columns = ((TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
                       if self.counts else ())
            if self.delay:
                columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                           TimeElapsedColumn())
            self.bar = Progress(*columns, console=console, transient=True)
            self.task = self.bar.add_task(self.description, total=self.total)
            if self.delay:
                self._timer = threading.Timer(self.delay, self._come_due)
                self._timer.daemon = True
                self._timer.start()
        return self

    def _come_due(self) -> None:
        self._due = True
        self._started()

    def _started(self) -> Any:
        with self._lock:
            if self.bar is not None and self._due and not self._closed and not self.bar.live.is_started:
                self.bar.start()
        return self.bar

    def update(self, done: int, total: int | None = None, description: str | None = None) -> None:
        bar = self._started()
        if bar is not None:
            bar.update(self.task, completed=done, total=total if total is not None else self.total,
                       description=description or self.description)

    def advance(self, description: str | None = None) -> None:
        bar = self._started()
        if bar is not None:
            bar.update(self.task, advance=1, description=description or self.description)

    def __exit__(self, *exc) -> bool:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self._closed = True
            if self.bar is not None and self.bar.live.is_started:
                self.bar.stop()
        return False


def flag_namer(command: Any) -> Callable[[str, str | None], str]:
    """``namer(name, value)`` naming a library parameter by this command line's flag:
    ``lr`` → ``--lr``, ``batch_size`` → ``--batch-size``, ``(plane, random)`` →
    ``--plane random``, a boolean flag without its value. Names that are no flag of any
    command (an optimizer's ``beta``) stay as they are."""
    flags: dict[str, tuple[str, bool]] = {}
    for sub in getattr(command, "commands", {}).values():
        for param in sub.params:
            opts = [o for o in getattr(param, "opts", []) if o.startswith("--")]
            if opts and param.name not in flags:
                flags[param.name] = (opts[0], bool(getattr(param, "is_flag", False)))

    def namer(name: str, value: str | None) -> str:
        flag, is_flag = flags.get(FLAG_ALIASES.get(name, name), (None, False))
        if flag is None:
            from optviz.errors import keyword_name

            return keyword_name(name, value)
        return flag if value is None or is_flag else f"{flag} {value}"

    return namer
