"""Reproducibility (issue "Hardening"): the same command line with the same seed gives
byte-identical JSON on stdout (and an identical trajectory CSV for run/compare) in two
separate processes; a different seed changes the results of the stochastic ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

COMMANDS = {
    "run-least-squares-seeds": ["run", "--fn", "least_squares", "--opt", "sgd,minibatch", "--seeds", "3"],
    "run-rosenbrock-noise": ["run", "--fn", "rosenbrock", "--opt", "sgd", "--noise", "2"],
    "compare-beale": ["compare", "--fn", "beale"],
    "sweep-quadratic": ["sweep", "--fn", "quadratic", "--opt", "gd,adam", "--lr", "1e-3:1:9"],
    "basins-himmelblau": ["basins", "--fn", "himmelblau", "--grid", "15", "--steps", "50"],
    "train-moons": ["train", "--data", "moons", "--arch", "mlp", "--depth", "2", "--width", "16",
                    "--epochs", "3", "--opt", "adam,sgd"],
}
WITH_CSV = {"run-least-squares-seeds", "run-rosenbrock-noise", "compare-beale"}
STOCHASTIC = ["run-least-squares-seeds", "run-rosenbrock-noise", "train-moons"]


def _env() -> dict[str, str]:
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def _optviz(key: str, workdir: Path, seed: int | None = None) -> tuple[bytes, bytes | None]:
    """Run COMMANDS[key] in ``workdir``; return (stdout bytes, CSV bytes or None)."""
    workdir.mkdir(parents=True, exist_ok=True)
    args = [*COMMANDS[key], "--json", "--no-plot"]
    if key in WITH_CSV:
        args += ["--csv", "trajectory.csv"]  # the same relative name in each working directory
    if seed is not None:
        args += ["--seed", str(seed)]
    proc = subprocess.run([sys.executable, "-m", "optviz", *args], cwd=workdir, env=_env(),
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert b"Traceback" not in proc.stderr
    json.loads(proc.stdout)  # one valid JSON document
    csv = (workdir / "trajectory.csv").read_bytes() if key in WITH_CSV else None
    if key in WITH_CSV:
        assert csv.count(b"\n") > 2
    return proc.stdout, csv


@pytest.fixture(scope="module")
def first_runs(tmp_path_factory):
    """One run of each command (seed 0), shared by the tests below."""
    cache: dict[str, tuple[bytes, bytes | None]] = {}

    def get(key: str):
        if key not in cache:
            cache[key] = _optviz(key, tmp_path_factory.mktemp(f"{key}-a"))
        return cache[key]

    return get


@pytest.mark.parametrize("key", list(COMMANDS))
def test_same_seed_is_byte_identical(key, first_runs, tmp_path):
    out_a, csv_a = first_runs(key)
    out_b, csv_b = _optviz(key, tmp_path / "b")
    assert out_a == out_b, f"{key}: stdout JSON differs between two runs with the same seed"
    if key in WITH_CSV:
        assert csv_a == csv_b, f"{key}: the CSV differs between two runs with the same seed"


def _numbers(key: str, stdout: bytes):
    """The numeric results of a document, without the fields that echo the seed."""
    doc = json.loads(stdout)
    if key.startswith("train"):
        return [(r["label"], r["train_loss"], r["val_loss"]) for r in doc["runs"]]
    return [(r["optimizer"], r["losses"], r["trajectory"]) for r in doc["runs"]]


@pytest.mark.parametrize("key", STOCHASTIC)
def test_other_seed_changes_stochastic_results(key, first_runs, tmp_path):
    out_a, csv_a = first_runs(key)
    out_b, csv_b = _optviz(key, tmp_path / "seed1", seed=1)
    assert _numbers(key, out_a) != _numbers(key, out_b), f"{key}: --seed 1 gave the numbers of seed 0"
    if key in WITH_CSV:
        assert csv_a != csv_b
    # and every stochastic run really is different, not just one of them
    for a, b in zip(_numbers(key, out_a), _numbers(key, out_b)):
        assert a[1:] != b[1:], f"{key}: {a[0]} did not change with the seed"
