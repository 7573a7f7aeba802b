"""Numerical trouble is a status, never a crash or a warning on the terminal (issue
"Hardening"): overflow, NaN and huge values anywhere in a run become "diverged at step k",
a singular Hessian is a note, and nothing prints a RuntimeWarning on stderr."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def optviz(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "optviz", *args], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=120)


def run_json(args: list[str], cwd: Path) -> dict:
    """``optviz ARGS --json --no-plot``: exit 0, one JSON document, nothing on stderr but notes."""
    proc = optviz([*args, "--json", "--no-plot"], cwd)
    assert proc.returncode == 0, proc.stderr[-2000:]
    others = [line for line in proc.stderr.splitlines() if not line.startswith("note: ")]
    assert others == [], f"stderr should hold notes only:\n{proc.stderr[-2000:]}"
    return json.loads(proc.stdout)


DIVERGING = [
    (["--fn", "exp(x**2)", "--opt", "gd", "--lr", "10", "--start", "3"], 1),
    (["--fn", "x**4", "--opt", "gd", "--lr", "1", "--start", "100"], None),
    (["--fn", "log(x)", "--opt", "gd", "--lr", "1", "--start", "0.5"], None),  # steps into log(<0)
    (["--fn", "sqrt(x)", "--opt", "gd", "--lr", "1", "--start", "0.01"], None),
    (["--fn", "exp(x)", "--opt", "gd", "--start", "800"], 0),  # f overflows at the start
    (["--fn", "x**2", "--opt", "gd", "--start", "1e308"], 0),  # f = 1e616 = inf at the start
]


@pytest.mark.parametrize("args, at_step", DIVERGING, ids=[a[1] + " @" + a[-1] for a, _ in DIVERGING])
def test_divergence_is_a_status_without_warnings(args, at_step, tmp_path):
    doc = run_json(["run", *args], tmp_path)
    (r,) = doc["runs"]
    assert r["status"] == "diverged", r["status"]
    if at_step is not None:
        assert r["steps"] == at_step
    assert all(v is None or math.isfinite(v) for v in r["losses"])  # JSON has no NaN/inf


def test_pole_of_one_over_x_is_handled(tmp_path):
    doc = run_json(["run", "--fn", "1/x", "--start", "0.001", "--opt", "gd,adam,momentum,rmsprop"], tmp_path)
    for r in doc["runs"]:
        assert r["status"] in ("diverged", "converged", "max_steps"), r
        assert r["final_loss"] is None or math.isfinite(r["final_loss"])


def test_newton_far_away_has_no_warnings(tmp_path):
    # The distance to the minimum of a point at 1e200 overflows when squared.
    doc = run_json(["run", "--fn", "rosenbrock", "--opt", "newton", "--start", "1e200,1e200"], tmp_path)
    assert doc["runs"][0]["status"] in ("diverged", "converged", "max_steps")


def test_huge_values_in_figures_have_no_warnings(tmp_path):
    # f ≈ 1e304 at the start and θ ≈ -1e307 after one step: the figures must still be drawn quietly.
    out = tmp_path / "out"
    proc = optviz(["run", "--fn", "exp(x)+exp(y)", "--opt", "gd", "--lr", "1e3", "--start", "700,700",
                   "--out", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Warning" not in proc.stderr, proc.stderr[-2000:]
    assert proc.stderr == ""
    assert "diverged at step 1" in proc.stdout
    assert len(list(out.glob("*.png"))) == 2


def test_sweep_and_basins_with_huge_rates_have_no_warnings(tmp_path):
    doc = run_json(["sweep", "--fn", "rosenbrock", "--opt", "gd,momentum,adam", "--lr", "1e-3:1e6:9",
                    "--metric", "auc"], tmp_path)
    assert len(doc["sweeps"]) == 3
    doc = run_json(["basins", "--fn", "himmelblau", "--grid", "10", "--lr", "100", "--steps", "30",
                    "--opt", "gd,newton"], tmp_path)
    assert len(doc["basins"]) == 2


@pytest.mark.parametrize("fn, start", [("x**2 + y - y", "1,1"), ("x**4 + y**4", "1,0")])
def test_newton_singular_hessian_is_a_note(fn, start, tmp_path):
    doc = run_json(["run", "--fn", fn, "--opt", "newton", "--start", start], tmp_path)
    (r,) = doc["runs"]
    assert r["status"] in ("converged", "max_steps", "diverged")
    assert "singular Hessian" in r["note"], r["note"]
    assert r["final_loss"] is not None and math.isfinite(r["final_loss"])


@pytest.mark.parametrize("fn", ["x**2 + y - y", "x**4 + y**4"])
def test_newton_singular_hessian_at_origin(fn, tmp_path):
    doc = run_json(["run", "--fn", fn, "--opt", "newton", "--start", "0,0", "--tol", "0", "--steps", "5"],
                   tmp_path)
    (r,) = doc["runs"]
    assert r["status"] in ("converged", "max_steps")
    assert r["final"] == [0.0, 0.0] and r["final_loss"] == 0.0


def test_ackley_at_its_cusp_does_not_crash(tmp_path):
    doc = run_json(["run", "--fn", "ackley", "--start", "0,0", "--opt", "gd,adam,newton"], tmp_path)
    for r in doc["runs"]:
        assert r["final"] == [0.0, 0.0], r
        assert r["final_loss"] is not None and abs(r["final_loss"]) < 1e-12
    out = tmp_path / "out"
    proc = optviz(["run", "--fn", "ackley", "--start", "0,0", "--opt", "gd", "--out", str(out)], tmp_path)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr[-2000:]
    assert len(list(out.glob("*.png"))) == 2


def _csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n")
    return path


def test_batchnorm_on_constant_column_stays_finite(tmp_path):
    rows = ["a,const,label"] + [f"{(7 * i) % 13 / 13:.4f},5,{i % 2}" for i in range(60)]
    data = _csv(tmp_path / "const.csv", rows)
    doc = run_json(["train", "--data", str(data), "--target", "label", "--epochs", "2"], tmp_path)
    for r in doc["runs"]:
        assert r["status"] == "ok", r["status"]
        for key in ("train_loss", "val_loss", "train_acc", "val_acc"):
            assert len(r[key]) == 2 and all(v is not None and math.isfinite(v) for v in r[key]), (key, r[key])


def test_batchnorm_when_every_feature_is_constant(tmp_path):
    # Every Linear output is then constant over the batch: BatchNorm sees a variance of 0.
    rows = ["c1,c2,label"] + [f"3,-2,{'yes' if i % 2 else 'no'}" for i in range(60)]
    data = _csv(tmp_path / "flat.csv", rows)
    doc = run_json(["train", "--data", str(data), "--target", "label", "--epochs", "2", "--arch", "mlp",
                    "--depth", "2", "--width", "8"], tmp_path)
    for r in doc["runs"]:
        assert r["status"] == "ok"
        assert all(v is not None and abs(v - math.log(2)) < 1e-3 for v in r["val_loss"]), r["val_loss"]


def test_training_divergence_is_a_status_without_warnings(tmp_path):
    # Both optimizers diverge in epoch 1; the table (not --json) is drawn from empty epoch lists.
    proc = optviz(["train", "--data", "moons", "--arch", "mlp", "--depth", "2", "--width", "8",
                   "--epochs", "2", "--opt", "sgd,momentum", "--lr", "1e10", "--no-plot"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Warning" not in proc.stderr, proc.stderr[-2000:]
    assert proc.stdout.count("diverged at epoch 1") == 2, proc.stdout
    doc = run_json(["train", "--data", "moons", "--arch", "mlp", "--depth", "2", "--width", "8",
                    "--epochs", "2", "--opt", "sgd,momentum", "--lr", "1e10"], tmp_path)
    assert [r["status"] for r in doc["runs"]] == ["diverged at epoch 1"] * 2
