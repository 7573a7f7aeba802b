"""Terminal tables: compare rows and their order, sparklines, the run table's numbers."""

import json
import subprocess
import sys

import numpy as np

from optviz.api import run
from optviz.report import compare_rows, sparkline


def test_compare_rows_best_first_diverged_last():
    # GD with lr 0.6 diverges on x1² + 2x2² (curvature 4 > 2/0.6); the others converge.
    res = run("quadratic", "gd,momentum,adam", steps=100, params={"gd.lr": 0.6})
    rows = compare_rows(res, "gap")
    assert [r["optimizer"] for r in rows][-1] == "gd"
    assert rows[-1]["diverged"]
    gaps = [r["gap"] for r in rows[:-1]]
    assert gaps == sorted(gaps)
    f_star = res.objective.f_star
    for r in rows[:-1]:
        traj = next(t for t in res.runs if t.optimizer == r["optimizer"])
        assert r["gap"] == traj.final_loss[0] - f_star


def test_compare_sort_by_steps_puts_never_converged_after():
    res = run("quadratic", "gd,adam,momentum", steps=60, tol=1e-4)
    rows = compare_rows(res, "steps")
    steps = [r["steps_to_tol"] for r in rows]
    finite = [s for s in steps if np.isfinite(s)]
    assert steps[: len(finite)] == sorted(finite)
    assert all(not np.isfinite(s) for s in steps[len(finite):])


def test_sparkline_tracks_a_falling_curve():
    line = sparkline(10.0 ** -np.arange(20.0), width=10)
    assert len(line) == 10
    assert line[0] == "█" and line[-1] == "▁"
    assert list(line) == sorted(line, reverse=True)


def test_compare_json_has_one_entry_per_optimizer():
    proc = subprocess.run([sys.executable, "-m", "optviz", "compare", "--fn", "booth", "--json", "--no-plot"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    runs = json.loads(proc.stdout)["runs"]
    assert [r["optimizer"] for r in runs] == ["gd", "sgd", "minibatch", "momentum", "nesterov", "adagrad",
                                              "rmsprop", "adam", "adadelta", "yogi", "adamw", "amsgrad",
                                              "nadam", "radam", "adamax", "lion"]
