"""Thread counts come from the command, not the environment: ``train`` runs its numerical
work on one BLAS thread unless ``--threads N`` says otherwise, records it, and the same
command prints the same bytes whatever OPENBLAS_NUM_THREADS, OMP_NUM_THREADS or
MKL_NUM_THREADS say."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _env(**threads: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env.update(MPLBACKEND="Agg", **threads)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def _python(args: list[str], env: dict[str, str], cwd: Path) -> str:
    proc = subprocess.run([sys.executable, *args], env=env, cwd=cwd, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.decode()


def test_the_same_command_gives_the_same_bytes_whatever_the_thread_variables(tmp_path):
    # the default network on the digits: products large enough for BLAS to split them
    args = ["-m", "optviz", "train", "--epochs", "1", "--opt", "adam", "--json", "--no-plot"]
    outputs = {name: _python(args, _env(**env), tmp_path) for name, env in {
        "none": {},
        "openblas=2": {"OPENBLAS_NUM_THREADS": "2"},
        "omp=2": {"OMP_NUM_THREADS": "2"},
        "all=2": {"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"},
    }.items()}
    first = outputs["none"]
    assert json.loads(first)["settings"]["threads"] == 1
    for name, text in outputs.items():
        assert text == first, f"{name}: other bytes than without thread variables"


CHECK = """
import json, numpy, optviz
from threadpoolctl import threadpool_info

def pools():
    return sorted({p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"})

seen = {}
def callback(label, epoch, run):
    seen.setdefault(label, pools())

before = pools()
optviz.train("moons", "adam", arch="mlp", depth=1, width=4, epochs=1, callback=callback)
default = seen.pop("adam")
optviz.train("moons", "adam", arch="mlp", depth=1, width=4, epochs=1, threads=2, callback=callback)
report = optviz.train("moons", "adam", arch="mlp", depth=1, width=4, epochs=1, threads=2)
print(json.dumps({"before": before, "default": default, "two": seen["adam"], "after": pools(),
                  "recorded": report.to_json()["settings"]["threads"]}))
"""


def test_training_runs_on_the_threads_the_command_sets(tmp_path):
    pytest.importorskip("threadpoolctl")
    doc = json.loads(_python(["-c", CHECK], _env(OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2"), tmp_path))
    if not doc["before"]:
        pytest.skip("numpy's BLAS is not one threadpoolctl can see")
    assert doc["before"] == [2]  # what the environment asked for
    assert doc["default"] == [1]  # training: one thread, whatever the environment says
    assert doc["two"] == [2] and doc["recorded"] == 2
    assert doc["after"] == [2]  # and the environment's setting is back afterwards
