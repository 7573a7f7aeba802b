"""What the terminal shows: help rendered literally, JSON of the catalogs, tables that fit
the terminal's width, progress of long grids."""

import json
import re
import time

import pytest

COMMANDS = ("run", "compare", "sweep", "basins", "functions", "optimizers", "gallery", "train", "landscape")


def _help(capsys, monkeypatch, command: str, columns: int = 250) -> str:
    from optviz.cli import main

    monkeypatch.setenv("COLUMNS", str(columns))
    try:
        main([command, "--help"])
    except SystemExit as exc:
        assert exc.code == 0
    return capsys.readouterr().out


def _flat(text: str) -> str:
    """Help text without the panel borders and line breaks."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def test_help_shows_schedule_syntax_and_defaults_literally(capsys, monkeypatch):
    out = _flat(_help(capsys, monkeypatch, "run"))
    assert "poly:B:A" in out and "🅱" not in out
    assert "step:K:GAMMA" in out and "cosine:T[:MIN]" in out
    assert "[default: each optimizer's suggested rate for the function]" in out
    assert "[default: the function's]" in out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_default_written_in_a_help_text_is_shown(capsys, monkeypatch, command):
    import typer

    from optviz.cli import app

    click_command = typer.main.get_command(app).commands[command]
    out = _flat(_help(capsys, monkeypatch, command))
    written = [m for p in click_command.params for m in re.findall(r"\[default: [^\]]*\]", p.help or "")]
    for text in written:
        assert _flat(text.replace("\\", "")) in out, text


@pytest.mark.parametrize("command", COMMANDS)
def test_flags_are_shown_as_flags(capsys, monkeypatch, command):
    out = _help(capsys, monkeypatch, command)
    assert "<bool>" not in out
    assert re.search(r"--help\s+-h\s+Show this message", out)


def test_json_of_functions_optimizers_and_gallery_list(capsys):
    from optviz.cli import main

    main(["functions", "--json"])
    doc = json.loads(capsys.readouterr().out)
    rosen = next(f for f in doc["functions"] if f["name"] == "rosenbrock")
    assert rosen["minima"] == [{"point": [1.0, 1.0], "value": 0.0}] and rosen["variables"] == ["x", "y"]
    main(["functions", "himmelblau", "--json"])
    one = json.loads(capsys.readouterr().out)
    assert one["name"] == "himmelblau" and len(one["minima"]) == 4 and len(one["gradient"]) == 2
    main(["optimizers", "--json"])
    names = [o["name"] for o in json.loads(capsys.readouterr().out)["optimizers"]]
    assert "adam" in names and "newton" in names
    main(["gallery", "--list", "--json", "--only", "newton-xcos"])
    entries = json.loads(capsys.readouterr().out)["entries"]
    assert [e["name"] for e in entries] == ["newton-xcos"]
    assert entries[0]["command"].startswith("optviz run --fn xcos")


def test_gallery_json_needs_list(capsys):
    from optviz.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["gallery", "--json"])
    assert exc.value.code == 2
    assert "--json goes with --list" in capsys.readouterr().err


@pytest.mark.parametrize("columns", [60, 80, 100])
def test_tables_fit_the_terminal_without_cutting_names_or_numbers(capsys, monkeypatch, columns):
    from optviz.cli import main

    monkeypatch.setenv("COLUMNS", str(columns))
    main(["compare", "--fn", "rosenbrock", "--opt", "gd,minibatch,nesterov(label=look-ahead momentum)",
          "--steps", "30", "--no-plot"])
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= columns
    assert "…" not in out
    for name in ("minibatch", "look-ahead", "momentum"):
        assert name in out
    if columns < 100:
        assert "left out to fit" in out


def test_tables_fill_a_wide_pipe_given_by_columns(capsys, monkeypatch):
    from optviz.cli import main

    monkeypatch.setenv("COLUMNS", "200")
    main(["compare", "--fn", "rosenbrock", "--opt", "gd,adam", "--steps", "30", "--no-plot"])
    out = capsys.readouterr().out
    assert "left out" not in out and "loss" in out  # the sparkline column stays
    assert all(len(line) <= 200 for line in out.splitlines())


def test_a_formula_error_points_at_the_end(capsys):
    from optviz.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["run", "--no-plot", "--fn", "x**2 + 10*y**2 +"])
    assert exc.value.code == 2
    assert "column 17" in capsys.readouterr().err


def test_progress_bar_waits_for_its_delay(monkeypatch):
    import io

    from rich.console import Console

    import optviz.cli.output as output

    screen = io.StringIO()
    monkeypatch.setattr(output, "stderr_console", lambda: Console(file=screen, force_terminal=True, width=80))
    with output.ProgressBar("quick", delay=0.5) as bar:
        bar.update(1, 2, "quick: gd")
        assert not bar.bar.live.is_started  # a quick command shows nothing
    assert screen.getvalue() == ""
    with output.ProgressBar("slow", delay=0.05) as bar:
        bar.update(0, 2, "slow: gd")
        time.sleep(0.3)
        assert bar.bar.live.is_started
    assert not bar.bar.live.is_started  # gone when the block ends
    assert "slow: gd" in screen.getvalue()


def test_progress_bar_is_silent_in_a_pipe():
    from optviz.cli.output import ProgressBar

    with ProgressBar("piped", delay=0.01) as bar:  # pytest's stderr is no terminal
        bar.update(0, 2, "piped")
        time.sleep(0.05)
        assert bar.bar is None


def test_sweep_and_basins_report_progress_per_optimizer():
    import optviz

    calls = []
    optviz.sweep("rosenbrock", "gd,adam", lr="1e-3:1e-2:3", steps=5,
                 progress=lambda done, total, label: calls.append((done, total, label)))
    assert calls == [(0, 2, "gd"), (1, 2, "adam"), (2, 2, "")]
    calls.clear()
    optviz.basins("himmelblau", "gd,momentum(label=heavy ball)", grid=4, steps=5,
                  progress=lambda done, total, label: calls.append((done, total, label)))
    assert calls == [(0, 2, "gd"), (1, 2, "heavy ball"), (2, 2, "")]


def test_the_gallery_index_lists_every_entry_with_its_command():
    from pathlib import Path

    from optviz.gallery import ENTRIES

    index = (Path(__file__).parent.parent / "gallery" / "README.md").read_text(encoding="utf-8")
    for entry in ENTRIES:
        assert f"## {entry.name}\n" in index and entry.command("gallery") in index, entry.name


@pytest.mark.parametrize("command", [["functions"], ["optimizers"]])
def test_catalog_tables_fit_80_columns_without_cutting_numbers(capsys, monkeypatch, command):
    from optviz.cli import main

    monkeypatch.setenv("COLUMNS", "80")
    main(command)
    out = capsys.readouterr().out
    from rich.cells import cell_len  # m̂ is two code points in one cell

    assert max(cell_len(line) for line in out.splitlines()) <= 80 and "…" not in out
    if command == ["functions"]:
        assert "(-2.904," in out and "-78.33" in out  # Styblinski–Tang's minimum: each number whole
