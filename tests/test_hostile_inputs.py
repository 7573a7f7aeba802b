"""Hostile input is normal input: each case ends in a result or exit 2 with one line, within
a time and memory budget, with no traceback and no warning."""

import resource
import subprocess
import sys

import pytest


def optviz(args, cwd, timeout=120):
    """The finished command and the CPU seconds it used (the machine's load aside)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-m", "optviz", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return proc, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


REFUSED = [
    (["train", "--width", "30000", "--no-plot"], "--width"),
    (["run", "--dpi", "2400", "--no-plot"], "--dpi"),
    (["run", "--fn", "least_squares", "--opt", "sgd", "--seeds", "100000", "--no-plot"], "--seeds"),
    (["basins", "--grid", "20000", "--no-plot"], "--grid"),
    (["run", "--seed=-1", "--opt", "sgd", "--no-plot"], "--seed"),
    (["run", "--fn", "x**exp(exp(exp(exp(exp(1)))))", "--no-plot"], "too large for a float"),
    (["run", "--fn", "sqrt(-1) + x", "--no-plot"], "not a real number"),
    (["sweep", "--opt", "gd", "-p", "lr=1e-4:1:10", "--no-plot"], "swept with --lr"),
    # image models: the setting that makes the network too large is named, however large
    (["train", "--arch", "resnet-cnn", "--stages", "2000", "--no-plot"], "--stages: a network of more than 10¹⁵"),
    (["train", "--arch", "resnet-cnn", "--blocks", "99999999999999999999", "--no-plot"], "--blocks"),
    (["train", "--arch", "densenet", "--growth", "100000", "--no-plot"], "--growth"),
    (["train", "--arch", "resnet-cnn", "--channels", "8,4000", "--no-plot"], "--channels"),
]


@pytest.mark.parametrize("args, fragment", REFUSED, ids=[" ".join(a)[:50] for a, _ in REFUSED])
def test_refused_at_once_with_one_line(args, fragment, tmp_path):
    proc, seconds = optviz([*args, "--out", str(tmp_path / "out")], tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in proc.stderr
    assert seconds < 10
    assert not (tmp_path / "out").exists()


ACCEPTED = [
    ["run", "--fn", "1/x", "--start", "0"],
    ["run", "--fn", "log(x)", "--start", "0"],
    ["run", "--fn", "sqrt(x)", "--start", "0"],
    ["run", "--fn", "x__class__**2 + y**2"],
    ["run", "--fn", "a_b_c**2 + y**2", "--show-state", "--opt", "adam"],
    ["run", "--fn", "x" + "**x" * 29],
    ["run", "--opt", "gd,momentum", "--lr", "1e10", "--show-state", "--steps", "3"],
    ["sweep", "--lr", "1e-300:1e300:50", "--steps", "50"],
    ["run", "--fn", "sin(10**300) + x**2"],
    ["run", "--animate", "gif", "--frames", "100000", "--steps", "40"],  # streamed: frames cost time
]


@pytest.mark.parametrize("args", ACCEPTED, ids=[" ".join(a)[:50] for a in ACCEPTED])
def test_accepted_with_a_result_and_no_warning(args, tmp_path):
    proc, seconds = optviz([*args, "--out", str(tmp_path / "out")], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Warning" not in proc.stderr and "Traceback" not in proc.stderr
    assert seconds < 60
    assert any((tmp_path / "out").iterdir())


def test_ctrl_c_while_the_command_line_imports_is_one_line(tmp_path):
    # The signal arrives while optviz.cli is being imported (simulated at that very import).
    code = ("import builtins, sys\n"
            "real = builtins.__import__\n"
            "def interrupted(name, *a, **k):\n"
            "    if name == 'optviz.cli':\n"
            "        raise KeyboardInterrupt\n"
            "    return real(name, *a, **k)\n"
            "builtins.__import__ = interrupted\n"
            "from optviz.launch import main\n"
            "main()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 130
    assert proc.stderr.strip() == "optviz: interrupted"


def test_peak_memory_of_a_refused_network_stays_small():
    from optviz.errors import OptvizError
    from optviz.nn.model import build_model

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(OptvizError, match="parameters"):
        build_model(in_dim=64, out_dim=10, depth=6, width=30000)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KiB
