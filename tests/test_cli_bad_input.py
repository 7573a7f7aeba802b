"""A table of bad command lines: each exits 2 with one line on stderr naming the
problem, no traceback, and no file created in the output directory."""

import subprocess
import sys

import pytest

BAD = [
    # run
    (["run", "--fn", "rosenbrok"], "did you mean rosenbrock"),
    (["run", "--fn", "x**2 + __import__('os')"], "not allowed"),
    (["run", "--fn", "x +* y"], "column"),
    (["run", "--fn", "2 + 3"], "no variables"),
    (["run", "--opt", "adamw"], "unknown optimizer"),
    (["run", "--opt", "adam,adam"], "listed twice"),
    (["run", "--lr", "0"], "--lr must be > 0"),
    (["run", "--lr", "-0.1"], "--lr must be > 0"),
    (["run", "--lr", "fast"], "--lr"),
    (["run", "--opt", "momentum", "-p", "beta=1.5"], "beta must be in [0, 1)"),
    (["run", "--opt", "adam", "-p", "eps=0"], "eps must be > 0"),
    (["run", "-p", "gamma=0.5"], "no optimizer among adam has a parameter 'gamma'"),
    (["run", "-p", "beta1"], "NAME=VALUE"),
    (["run", "--opt", "newton", "-p", "safeguard=magic"], "safeguard"),
    (["run", "--start", "1,2,3"], "--start needs 2"),
    (["run", "--start", "a,b"], "--start"),
    (["run", "--schedule", "exp:1.5"], "gamma"),
    (["run", "--schedule", "cosine"], "cosine takes"),
    (["run", "--schedule", "sometimes"], "unknown schedule"),
    (["run", "--steps", "0"], "--steps must be ≥ 1"),
    (["run", "--tol", "-1"], "--tol"),
    (["run", "--opt", "minibatch", "--batch-size", "5"], "--batch-size needs samples"),
    (["run", "--fn", "least_squares", "--opt", "minibatch", "--batch-size", "5000"], "larger than"),
    (["run", "--noise", "-1", "--opt", "sgd"], "--noise"),
    (["run", "--format", "jpg"], "--format"),
    (["run", "--animate", "avi"], "--animate"),
    (["run", "--frames", "1", "--animate", "gif"], "--frames"),
    (["run", "--dpi", "0"], "--dpi"),
    (["run", "--fn", "x1**2 + x2**2 + x3**2", "--surface"], "2 variables"),
    (["run", "--tune", "--lr", "0.1"], "not both"),
    (["run", "--seeds", "0"], "--seeds"),
    (["run", "--bogus"], "No such option"),
    (["run", "--steps", "3", "--domain", "1:2"], "--domain has 1 range(s) and rosenbrock has 2"),
    (["run", "--domain", "a:b,0:1"], "--domain 'a:b,0:1', range 'a:b': LO and HI must be numbers"),
    (["run", "--domain", "-1:1,0:1", "--xlim", "0:1"], "give --domain or --xlim, not both"),
    (["run", "--ylim", "3:1"], "--ylim '3:1': LO must be below HI"),
    (["run", "--animate", "gif", "--dpi", "600"], "use --dpi 505 or lower"),
    (["run", "--steps", "3", "--fn", "x1**2 + x2**2 + x3**2", "--show-convexity"], "--show-convexity needs"),
    # compare
    (["compare", "--opt", "gd,nope"], "unknown optimizer"),
    (["compare", "--sort", "fastest"], "--sort"),
    (["compare", "--fn", "saddle", "--start", "1"], "--start needs 2"),
    # sweep
    (["sweep", "--lr", "1:1e-4:10"], "reversed"),
    (["sweep", "--lr", "1e-4:1:0"], "empty"),
    (["sweep", "--lr", "a:b:c"], "numbers"),
    (["sweep", "--metric", "speed"], "--metric"),
    (["sweep", "--opt", "momentum", "--lr", "1e-4:1:4000", "-p", "beta=0:0.9:3000"], "--force"),
    (["sweep", "--opt", "gd", "-p", "beta=0:0.9:5"], "no parameter 'beta'"),
    (["sweep", "--fn", "saddle", "--metric", "gap"], "known minimum"),
    # basins
    (["basins", "--fn", "parabola"], "2 variables"),
    (["basins", "--grid", "1"], "--grid"),
    (["basins", "--opt", "sgd,nope"], "unknown optimizer"),
    (["basins", "--domain", "2:1,0:1"], "LO must be below HI"),
    # functions, gallery
    (["functions", "himelblau"], "did you mean himmelblau"),
    (["functions", "a", "b"], "unexpected extra argument"),
    (["gallery", "--only", "nothing-like-this"], "unknown gallery entry"),
    (["nosuchcommand"], "No such command"),
]


@pytest.mark.parametrize("args, fragment", BAD, ids=[" ".join(a)[:60] for a, _ in BAD])
def test_bad_command_line(args, fragment, tmp_path):
    out = tmp_path / "out"
    extra = ["--out", str(out)] if args[0] in ("run", "compare", "sweep", "basins", "gallery") and "--bogus" not in args else []
    proc = subprocess.run([sys.executable, "-m", "optviz", *args, *extra], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert fragment in lines[0], lines[0]
    assert not out.exists() or not any(out.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["out"])


def test_unwritable_output_directory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = subprocess.run([sys.executable, "-m", "optviz", "run", "--out", str(blocker / "sub")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert blocker.read_text() == "x"
