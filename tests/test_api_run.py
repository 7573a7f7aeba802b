"""``optviz.run`` and ``optviz run``: defaults, the JSON document, determinism,
parameter scoping and refusal of bad input (one line on stderr, exit code 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import optviz
from optviz.errors import OptvizError
from optviz.library import load_function
from optviz.optim import make_optimizer
from optviz.runner import run_optimizer

ROOT = Path(__file__).resolve().parent.parent
RUN_KEYS = {"optimizer", "hyperparameters", "start", "final", "final_loss", "steps", "status",
            "trajectory", "losses"}


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["MPLBACKEND"] = "Agg"
    return env


def _strict_json(text: str):
    """Parse JSON refusing NaN and ±Infinity (not JSON)."""
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")
    return json.loads(text, parse_constant=refuse)


# --------------------------------------------------------------------------------------
# Defaults
# --------------------------------------------------------------------------------------
def test_run_defaults_are_adam_on_rosenbrock_with_its_suggested_settings():
    obj = load_function("rosenbrock")
    res = optviz.run()
    assert res.objective.name == "rosenbrock"
    assert len(res.runs) == 1
    traj = res.runs[0]
    assert traj.optimizer == "adam"
    suggested = obj.suggested["adam"]
    for key, value in suggested.items():
        assert traj.hyperparameters[key] == value, key
    np.testing.assert_array_equal(traj.starts, [obj.start])
    assert traj.lr[1, 0] == suggested["lr"]
    assert int(traj.steps[0]) <= obj.steps
    if traj.status[0] != "converged":
        assert int(traj.steps[0]) == obj.steps
    # the same run, built by hand
    hand = run_optimizer(obj, make_optimizer("adam", **suggested), [obj.start], steps=obj.steps, tol=1e-6)
    np.testing.assert_array_equal(traj.theta, hand.theta)


def test_run_accepts_formula_list_and_batch_of_starts():
    res = optviz.run("x**2 + 10*y**2", ["gd", "adam"], lr=0.01, start=[[1.0, 1.0], [-1.0, 0.5]], steps=20)
    assert [t.optimizer for t in res.runs] == ["gd", "adam"]
    assert all(t.K == 2 for t in res.runs)
    doc = res.to_json()
    assert len(doc["runs"]) == 4  # one entry per optimizer and start


# --------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------
def _check_run_entry(entry, dim):
    assert RUN_KEYS <= set(entry)
    assert isinstance(entry["optimizer"], str)
    assert isinstance(entry["hyperparameters"], dict) and "lr" in entry["hyperparameters"]
    assert len(entry["start"]) == dim and len(entry["final"]) == dim
    assert isinstance(entry["steps"], int)
    assert entry["status"] in ("converged", "diverged", "max_steps")
    assert len(entry["trajectory"]) == entry["steps"] + 1 == len(entry["losses"])
    assert all(len(p) == dim for p in entry["trajectory"])


def test_json_shape():
    res = optviz.run("rosenbrock", "adam,momentum", steps=50)
    doc = res.to_json()
    text = json.dumps(doc, allow_nan=False)
    again = _strict_json(text)
    assert [r["optimizer"] for r in again["runs"]] == ["adam", "momentum"]
    for entry in again["runs"]:
        _check_run_entry(entry, 2)
        assert entry["start"] == [-1.5, 2.0]
        assert entry["steps"] == 50 or entry["status"] == "converged"
    assert again["runs"][1]["hyperparameters"]["beta"] == 0.9


def test_json_of_a_diverged_run_is_strict_json():
    # GD with η = 0.1 on Rosenbrock from (−1.5, 2): curvature ~1900 at the start, diverges.
    res = optviz.run("rosenbrock", "gd", lr=0.1, steps=500)
    traj = res.runs[0]
    assert traj.status == ["diverged"]
    doc = res.to_json()
    text = json.dumps(doc, allow_nan=False)  # raises ValueError on NaN/inf
    entry = _strict_json(text)["runs"][0]
    _check_run_entry(entry, 2)
    assert entry["status"] == "diverged"
    assert all(v is None or np.isfinite(v) for v in entry["final"])


def test_json_of_an_overflowing_run_is_strict_json():
    # No bound: the run goes on until values overflow to inf.
    res = optviz.run("x**2", "gd", lr=1.1, start=[1.0], steps=3000, bound=float("inf"))
    assert res.runs[0].status == ["diverged"]
    _strict_json(json.dumps(res.to_json(), allow_nan=False))


def test_json_of_a_nan_start_is_strict_json():
    res = optviz.run("x**2 + y**2", "adam", lr=0.1, start=[[1.0, 1.0]], steps=5)
    res.runs[0].starts[0, 0] = np.nan  # as if the start had been NaN
    res.runs[0].final_theta[0, 0] = np.nan
    _strict_json(json.dumps(res.to_json(), allow_nan=False))


# --------------------------------------------------------------------------------------
# Parameters: scoped and bare
# --------------------------------------------------------------------------------------
def test_scoped_parameter_goes_to_one_optimizer():
    res = optviz.run("rosenbrock", "adam,momentum", steps=30, params={"adam.beta1": 0.8})
    adam, mom = res.runs
    assert adam.hyperparameters["beta1"] == 0.8
    assert mom.hyperparameters["beta"] == load_function("rosenbrock").suggested["momentum"].get("beta", 0.9)
    obj = load_function("rosenbrock")
    lr = obj.suggested["adam"]["lr"]
    hand = run_optimizer(obj, make_optimizer("adam", lr=lr, beta1=0.8), [obj.start], steps=30)
    np.testing.assert_array_equal(adam.theta, hand.theta)


def test_bare_parameter_goes_to_every_optimizer_that_has_it():
    res = optviz.run("rosenbrock", "momentum,rmsprop,adam", steps=10, params={"beta": 0.5})
    by = {t.optimizer: t for t in res.runs}
    assert by["momentum"].hyperparameters["beta"] == 0.5
    assert by["rmsprop"].hyperparameters["beta"] == 0.5
    assert "beta" not in by["adam"].hyperparameters
    assert by["adam"].hyperparameters["beta1"] == 0.9


def test_string_values_as_from_the_cli():
    res = optviz.run("rosenbrock", "nesterov,adam", steps=10,
                     params={"nesterov.beta": "0.7", "bias_correction": "false"})
    by = {t.optimizer: t for t in res.runs}
    assert by["nesterov"].hyperparameters["beta"] == 0.7
    assert by["adam"].hyperparameters["bias_correction"] is False


def test_lr_in_params_overrides_suggestion():
    res = optviz.run("rosenbrock", "adam,gd", steps=5, params={"adam.lr": 0.02})
    by = {t.optimizer: t for t in res.runs}
    assert by["adam"].hyperparameters["lr"] == 0.02
    assert by["gd"].hyperparameters["lr"] == load_function("rosenbrock").suggested["gd"]["lr"]


@pytest.mark.parametrize("params", [
    {"foo": 1.0},  # no optimizer has it
    {"beta1": 0.8},  # momentum has no beta1 (only momentum is run below)
    {"adam.beta1": 0.8},  # adam is not among the optimizers run
    {"momentum.beta1": 0.8},  # momentum has no beta1
    {"momentum.beta": 1.5},  # out of [0, 1)
    {"adamx.beta1": 0.8},  # unknown optimizer
    {"momentum.beta": "abc"},
])
def test_bad_params_raise(params):
    with pytest.raises(OptvizError):
        optviz.run("rosenbrock", "momentum", steps=5, params=params)


# --------------------------------------------------------------------------------------
# Bad input through the API
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("fn", "opt", "kw"), [
    ("rosenbrock", "minibatch", {"batch_size": 5}),  # plain function, no noise: nothing to batch
    ("rosenbrock", "adam", {"start": [1.0, 2.0, 3.0]}),
    ("rosenbrock", "adam", {"start": [1.0]}),
    ("x**2", "adam", {"start": [[1.0, 2.0]]}),
    ("rosenbrock", "adam", {"start": [np.nan, 1.0]}),
    ("rosenbrock", "adam", {"steps": 0}),
    ("rosenbrock", "adam", {"steps": -5}),
    ("rosenbrock", "adam", {"lr": 0.0}),
    ("rosenbrock", "adam", {"lr": -0.1}),
    ("rosenbrock", "adamx", {}),
    ("rosenbrock", "", {}),
    ("rosenbrock", "adam,adam", {}),
    ("rosenbrock", "sgd", {"noise": -1.0}),
    ("least_squares", "minibatch", {"batch_size": 500}),
    ("least_squares", "minibatch", {"batch_size": 0}),
    ("rosenbrock", "adam", {"schedule": "exp:2"}),
    ("rosnbrock", "adam", {}),
])
def test_bad_input_raises_optviz_error(fn, opt, kw):
    with pytest.raises(OptvizError):
        optviz.run(fn, opt, **kw)


def test_batch_size_with_noise_on_plain_function_is_accepted():
    res = optviz.run("rosenbrock", "minibatch", noise=1.0, batch_size=5, steps=5)
    assert "b=5" in res.runs[0].oracle


def test_same_seed_same_result_in_process():
    a = optviz.run("least_squares", "sgd,minibatch", seed=3, steps=50).to_json()
    b = optviz.run("least_squares", "sgd,minibatch", seed=3, steps=50).to_json()
    c = optviz.run("least_squares", "sgd,minibatch", seed=4, steps=50).to_json()
    assert json.dumps(a) == json.dumps(b)
    assert json.dumps(a) != json.dumps(c)


# --------------------------------------------------------------------------------------
# The CLI, in subprocesses (started together to keep the wall time down)
# --------------------------------------------------------------------------------------
def _start(args, cwd):
    return subprocess.Popen([sys.executable, "-m", "optviz", *args], cwd=cwd, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


BAD_CLI = {
    "lr-zero": ["--lr", "0"],
    "beta-1.5": ["--opt", "momentum", "-p", "beta=1.5"],
    "unknown-optimizer": ["--opt", "adamx"],
    "unknown-parameter": ["--opt", "adam", "-p", "foo=1"],
    "start-3d": ["--start", "1,2,3"],
    "schedule": ["--schedule", "exp:2"],
    "steps-0": ["--steps", "0"],
    "batch-size-plain": ["--opt", "minibatch", "--batch-size", "5"],
}
SEED3 = ["--fn", "least_squares", "--opt", "sgd,minibatch", "--json", "--no-plot", "--seed", "3"]
GOOD_CLI = {"a": [*SEED3, "--csv", "a.csv"], "b": [*SEED3, "--csv", "b.csv"]}


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("cli")
    procs = {k: _start(["run", "--no-plot", *v], cwd) for k, v in BAD_CLI.items()}
    procs.update({k: _start(["run", *v], cwd) for k, v in GOOD_CLI.items()})
    out = {}
    for key, p in procs.items():
        stdout, stderr = p.communicate(timeout=120)
        out[key] = (p.returncode, stdout, stderr)
    return cwd, out


def _check_one_line_error(code, stderr):
    assert code == 2, (code, stderr)
    assert "Traceback" not in stderr
    lines = stderr.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].strip(), stderr


@pytest.mark.parametrize("case", list(BAD_CLI))
def test_cli_bad_input_exits_2_with_one_line(cli, case):
    _, out = cli
    code, stdout, stderr = out[case]
    _check_one_line_error(code, stderr)
    if case == "unknown-optimizer":
        for name in ("gd", "sgd", "minibatch", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton"):
            assert name in stderr
    if case == "unknown-parameter":
        assert "foo" in stderr


@pytest.mark.parametrize("args", [["--lr=-0.5"], ["-p", "beta"], ["--schedule", "foo:1"], ["--steps", "-3"],
                                  ["--fn", "least_squares", "--opt", "minibatch", "--batch-size", "500"],
                                  ["--fn", "x**2", "--start", "1,2"], ["--fn", "__import__('os')"]])
def test_cli_bad_input_in_process(capsys, args):
    from optviz.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["run", "--no-plot", *args])
    _check_one_line_error(exc.value.code, capsys.readouterr().err)


def test_cli_json_of_diverged_run_in_process(capsys):
    from optviz.cli import main

    main(["run", "--fn", "rosenbrock", "--opt", "gd", "--lr", "0.1", "--json", "--no-plot"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    doc = _strict_json(captured.out)
    assert doc["runs"][0]["status"] == "diverged"


def test_cli_json_is_byte_identical_for_the_same_seed(cli):
    _, out = cli
    a, b = out["a"], out["b"]
    assert a[0] == 0 and b[0] == 0, (a[2], b[2])
    assert a[1] == b[1]
    doc = _strict_json(a[1])
    assert [r["optimizer"] for r in doc["runs"]] == ["sgd", "minibatch"]
    for entry in doc["runs"]:
        _check_run_entry(entry, 2)


def test_cli_json_matches_the_api(cli):
    _, out = cli
    doc = _strict_json(out["a"][1])
    api = optviz.run("least_squares", "sgd,minibatch", seed=3).to_json()
    assert doc["runs"] == _strict_json(json.dumps(api, allow_nan=False))["runs"]
    other = optviz.run("least_squares", "sgd,minibatch", seed=4).to_json()
    assert doc["runs"] != _strict_json(json.dumps(other, allow_nan=False))["runs"]


def test_cli_csv_is_byte_identical_for_the_same_seed(cli):
    cwd, out = cli
    a, b = (cwd / "a.csv").read_bytes(), (cwd / "b.csv").read_bytes()
    assert a == b and len(a) > 0
    header = a.decode().splitlines()[0].split(",")
    assert header[:3] == ["optimizer", "start_index", "step"]
