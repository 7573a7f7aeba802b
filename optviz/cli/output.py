"""How commands end: the table or one JSON document, notes, the files written, progress
bars, and errors in the command line's own words. Only typer and the standard library
at import; rich is imported when something is printed.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# Keyword names of the library whose flag is not --NAME with dashes.
FLAG_ALIASES = {"params": "param", "json": "json_out", "open": "open_page"}


def stdout_console():
    """A console for tables: as wide as the terminal, or 140 columns when piped."""
    from rich.console import Console

    console = Console(width=None if sys.stdout.isatty() else 140)
    console.on_broken_pipe = _reader_left
    return console


def _reader_left() -> None:
    """The reader of our output stopped (``optviz run --csv /dev/stdout | head``): its choice,
    not a failure; stdout goes nowhere from here and the command ends with 0."""
    import os

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
    any work stays one line) and is gone when the block ends; silent when ``quiet``.

    ``update(done, total, description)`` sets the count; ``advance(description)`` adds one.
    With ``delay`` the bar appears only once the work has lasted that many seconds.
    """

    def __init__(self, description: str, *, total: int | None = None, quiet: bool = False,
                 counts: bool = False, delay: float = 0.0) -> None:
        self.description, self.total, self.quiet, self.counts = description, total, quiet, counts
        self.delay = delay  # show the bar only once the work has taken this long (no flicker)
        self.bar = None

    def __enter__(self) -> ProgressBar:
        if not self.quiet:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            columns = ((TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
                       if self.counts else ())
            self.bar = Progress(*columns, console=stderr_console(), transient=True)
            self.task = self.bar.add_task(self.description, total=self.total)
        self.began = time.monotonic()
        return self

    def _started(self) -> Any:
        if self.bar is not None and not self.bar.live.is_started:
            if time.monotonic() - self.began < self.delay:
                return None
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
