"""``optviz functions``, ``optviz optimizers`` and ``optviz gallery``: what optviz offers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from optviz.cli.options import Json
from optviz.cli.output import emit, stderr_console


def functions(
    name: Annotated[str | None, typer.Argument(help="Show one function in full.")] = None,
    json_out: Json = False,
) -> None:
    """List the function library, or show one function in full."""
    from optviz.catalog import functions_document
    from optviz.report import function_detail, function_table

    if name is None:
        emit(json_out, functions_document, function_table, ())
        return
    from optviz.library import load_function

    objective = load_function(name)
    emit(json_out, lambda: functions_document(name), lambda: function_detail(objective), ())


def optimizers(json_out: Json = False) -> None:
    """List the optimizers with their update rules and defaults."""
    from optviz.catalog import optimizers_document
    from optviz.report import optimizer_table

    emit(json_out, optimizers_document, optimizer_table, ())


def gallery(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="Directory to regenerate.")] = Path("gallery"),
    only: Annotated[list[str] | None, typer.Option("--only", help="Regenerate only these entries (repeatable).")] = None,
    list_entries: Annotated[bool, typer.Option("--list", help="List the entries and their commands.")] = False,
    json_out: Json = False,
) -> None:
    """Regenerate the gallery: every picture with the exact command that made it."""
    from optviz.gallery import ENTRIES, check_names, index_markdown, run_entry
    from optviz.io import ensure_dir, write_text

    check_names(only or [])
    if json_out and not list_entries:
        from optviz.errors import OptvizError

        raise OptvizError("{json} goes with {list_entries}: the gallery's pictures are files, listed as they are written",
                          param="json", names=("list_entries",))
    if list_entries:
        from optviz.gallery import entries_document

        emit(json_out, lambda: entries_document(str(out), only), lambda: "\n".join(
            f"{e.name}: {e.command(str(out))}" for e in ENTRIES if not only or e.name in only), ())
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
