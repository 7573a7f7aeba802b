"""Sweeps, basin maps, tuning and multi-seed runs: batched results equal single runs."""

import json
import subprocess
import sys

import numpy as np
import pytest

import optviz.batch as sweep_mod
from optviz.api import make_oracle, run
from optviz.batch import Axis, basins, parse_grid, sweep, tune_lr
from optviz.errors import OptvizError
from optviz.library import load_function
from optviz.optim import make_optimizer
from optviz.runner import run_optimizer


def test_parse_grid_spacing_and_refusals():
    lr = parse_grid("lr", "1e-4:1:5")
    np.testing.assert_allclose(lr.values, [1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    assert lr.log
    beta = parse_grid("beta", "0:0.9:4")
    np.testing.assert_allclose(beta.values, [0.0, 0.3, 0.6, 0.9])
    assert not beta.log
    assert parse_grid("beta", "log:0.1:0.9:2").log
    for bad in ("1:1e-4:5", "1e-4:1:0", "0:1:5", "a:b:c", "1:2"):
        with pytest.raises(OptvizError):
            parse_grid("lr", bad)


@pytest.mark.parametrize("name, extra", [("momentum", "beta"), ("adam", "beta1")])
def test_every_sweep_cell_equals_the_single_run(name, extra):
    obj = load_function("rosenbrock")
    axes = [Axis("lr", np.geomspace(1e-4, 3e-3, 4), True), Axis(extra, np.array([0.5, 0.8, 0.95]), False)]
    res = sweep(obj, name, axes, start=obj.start, steps=150, metric="final-loss")
    assert res.values.shape == (4, 3)
    for i, lr in enumerate(axes[0].values):
        for j, b in enumerate(axes[1].values):
            single = run_optimizer(obj, make_optimizer(name, lr=lr, **{extra: b}), [obj.start], steps=150)
            if single.status[0] == "diverged":
                assert res.status[i, j] == "diverged"
            else:
                assert res.values[i, j] == pytest.approx(single.final_loss[0], rel=1e-12, abs=1e-300)


def test_sweep_marks_divergence_and_best_cell():
    obj = load_function("quadratic")
    res = sweep(obj, "gd", [Axis("lr", np.array([0.01, 0.1, 0.4, 0.6]), True)], start=[1.0, 1.0], steps=100)
    # x1² + 2x2²: GD diverges once lr > 2/4 = 0.5 (the x2 curvature is 4).
    assert list(res.status) [3] == "diverged"
    assert res.best_index == (2,)
    assert res.best_setting() == {"lr": 0.4}
    doc = json.loads(json.dumps(res.to_json(), allow_nan=False))
    assert doc["best"]["setting"]["lr"] == 0.4
    assert doc["values"][3] is None


def test_sweep_records_no_per_step_arrays(monkeypatch):
    modes = []
    real = sweep_mod.run_optimizer

    def spy(*args, **kwargs):
        modes.append(kwargs.get("mode"))
        traj = real(*args, **kwargs)
        assert traj.theta.shape[0] == 1 and traj.loss.shape[0] == 1 and not traj.state
        return traj

    monkeypatch.setattr(sweep_mod, "run_optimizer", spy)
    obj = load_function("rosenbrock")
    sweep(obj, "adam", [Axis("lr", np.geomspace(1e-4, 1, 1000), True)], start=obj.start, steps=20)
    assert modes == ["summary"]


def test_too_many_cells_need_force():
    obj = load_function("rosenbrock")
    axes = [Axis("lr", np.geomspace(1e-4, 1, 4000), True), Axis("beta", np.linspace(0, 0.9, 3000), False)]
    with pytest.raises(OptvizError, match="force=True"):
        sweep(obj, "momentum", axes, start=obj.start, steps=1)


def test_basins_label_starts_next_to_each_minimum():
    obj = load_function("himmelblau")
    res = basins(obj, "gd", lr=0.01, grid=61, steps=300)
    xs, ys = res.xs, res.ys
    for i, m in enumerate(obj.minima):
        # the grid start nearest each minimum ends in that minimum
        ix = int(np.argmin(np.abs(xs - m.point[0])))
        iy = int(np.argmin(np.abs(ys - m.point[1])))
        assert res.labels[iy, ix] == i
    shares = res.shares()
    assert sum(shares.values()) == pytest.approx(1.0)


def test_basins_refuse_non_2d():
    with pytest.raises(OptvizError, match="2 variables"):
        basins(load_function("parabola"), "gd", lr=0.1, grid=10, steps=10)


@pytest.mark.parametrize("metric", ["auc", "final-loss", "steps"])
def test_tune_picks_what_brute_force_picks(metric):
    obj = load_function("ill_conditioned")
    grid = (1e-3, 1.0, 13)
    lr, _ = tune_lr(obj, "momentum", start=obj.start, steps=60, tol=1e-6, metric=metric, grid=grid)
    best, best_key = None, None
    f_star = obj.f_star
    for cand in np.geomspace(*grid[:2], grid[2]):
        t = run_optimizer(obj, make_optimizer("momentum", lr=cand), [obj.start], steps=60, tol=1e-6)
        if t.status[0] == "diverged":
            continue
        losses = np.concatenate([t.loss[:, 0], np.full(60 + 1 - len(t.loss), t.final_loss[0])])
        if metric == "auc":
            key = (np.mean(np.log10(np.maximum(losses - f_star, 0) + 1e-300)),)
        elif metric == "final-loss":
            key = (t.final_loss[0],)
        else:
            s = t.metrics["steps_to_tol"][0]
            key = (s if np.isfinite(s) else np.inf, t.final_loss[0])
        if best_key is None or key < best_key:
            best, best_key = cand, key
    assert lr == pytest.approx(best, rel=1e-12)


def test_seeds_groups_equal_single_seed_runs():
    multi = run("rosenbrock", "sgd", steps=40, seeds=3, seed=5, noise=0.5)
    traj = multi.runs[0]
    assert traj.K == 3 and traj.seeds == (5, 6, 7)
    for i, s in enumerate((5, 6, 7)):
        single = run("rosenbrock", "sgd", steps=40, seed=s, noise=0.5).runs[0]
        np.testing.assert_array_equal(traj.theta[:, i], single.theta[:, 0])


def test_seeds_for_finite_sums_use_samples():
    obj = load_function("least_squares")
    oracle = make_oracle(obj, "minibatch", None, 5, [1, 2], explicit_noise=False)
    idx = oracle.indices(4)
    assert idx.shape == (4, 5)


def test_run_tune_reports_the_chosen_lr():
    res = run("ill_conditioned", "gd", tune=True, steps=80)
    traj = res.runs[0]
    assert traj.tuned["metric"] == "auc"
    assert traj.hyperparameters["lr"] == traj.tuned["lr"]
    assert "tuned" in traj.label
    with pytest.raises(OptvizError, match="not both"):
        run("ill_conditioned", "gd", tune=True, lr=0.1)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "optviz", *args], capture_output=True, text=True, timeout=300)


def test_sweep_and_basins_json(tmp_path):
    proc = _cli("sweep", "--fn", "quadratic", "--opt", "gd,adam", "--lr", "1e-3:1:7", "--steps", "50", "--json",
                "--no-plot")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [s["optimizer"] for s in doc["sweeps"]] == ["gd", "adam"]
    assert len(doc["sweeps"][0]["grid"]["lr"]) == 7
    proc = _cli("basins", "--fn", "himmelblau", "--opt", "gd", "--grid", "12", "--steps", "100", "--json", "--no-plot")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert np.array(doc["basins"][0]["labels"]).shape == (12, 12)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["sweep", "--lr", "1:1e-4:10"], "reversed"),
        (["sweep", "--lr", "1e-4:1:0"], "empty"),
        (["sweep", "--opt", "momentum", "--lr", "1e-4:1:4000", "-p", "beta=0:0.9:3000"], "--force"),
        (["basins", "--fn", "parabola"], "2 variables"),
        (["basins", "--fn", "x1**2 + x2**2 + x3**2"], "2 variables"),
        (["sweep", "--opt", "adam", "-p", "beta=0:0.9:3"], "no parameter 'beta'"),
    ],
)
def test_bad_sweep_input_is_one_line_exit_2(args, fragment, tmp_path):
    proc = _cli(*args, "--no-plot", "--out", str(tmp_path / "out"))
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert fragment in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_loss_figure_shows_median_and_band_for_seeds():
    from matplotlib.collections import PolyCollection

    from optviz.plot.static import draw_loss, new_figure

    res = run("least_squares", "sgd", steps=30, seeds=8)
    traj = res.runs[0]
    fig = new_figure((6, 3))
    ax = fig.subplots()
    lines = draw_loss([ax], res.runs, panels=("loss",))["loss"]
    assert len(lines) == 1  # one median line, not eight
    gap = traj.loss - res.objective.f_star
    np.testing.assert_allclose(lines[0].get_ydata(), np.median(gap, axis=1), rtol=1e-12)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1
