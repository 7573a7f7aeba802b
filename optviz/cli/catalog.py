"""``optviz functions``, ``optviz optimizers`` and ``optviz gallery``: what optviz offers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from optviz.cli.output import stderr_console, stdout_console


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


def optimizers() -> None:
    """List the optimizers with their update rules and defaults."""
    from optviz.report import optimizer_table

    stdout_console().print(optimizer_table())


def gallery(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="Directory to regenerate.")] = Path("gallery"),
    only: Annotated[list[str] | None, typer.Option("--only", help="Regenerate only these entries (repeatable).")] = None,
    list_entries: Annotated[bool, typer.Option("--list", help="List the entries and their commands.")] = False,
) -> None:
    """Regenerate the gallery: every picture with the exact command that made it."""
    from optviz.gallery import ENTRIES, check_names, index_markdown, run_entry
    from optviz.io import ensure_dir, write_text

    check_names(only or [])
    if list_entries:
        for e in ENTRIES:
            print(f"{e.name}: {e.command(str(out))}")
        return
    ensure_dir(out)
    console = stderr_console()
    root = ctx.find_root().command

    def invoke(args: list[str]) -> None:
        root.main(args, prog_name="optviz", standalone_mode=False)

    made = []
    for entry in ENTRIES:
        if only and entry.name not in only:
            continue
        console.print(f"[bold]{entry.name}[/]: {entry.command(str(out))}")
        made.append((entry, run_entry(entry, out, invoke)))
    if not only:
        write_text(out / "README.md", index_markdown(made, str(out)))
    for _, files in made:
        for f in files:
            print(f"wrote {f}")
