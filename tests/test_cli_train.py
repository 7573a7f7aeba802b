"""``optviz train`` and ``optviz landscape`` end to end: the JSON document, seeds,
the figures, and a saved run redrawn as a loss landscape. (The time of the default
``optviz train`` is a benchmark's business, not a test's.)"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SMALL = ["--data", "moons", "--arch", "mlp", "--depth", "2", "--width", "16"]


def _env() -> dict[str, str]:
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def optviz(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "optviz", *args], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and "Warning" not in proc.stderr, proc.stderr[-3000:]
    return proc


def _complete_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    assert data[-12:-4] == b"\x00\x00\x00\x00IEND", f"{path.name} is not a whole PNG"


def test_train_json_structure(tmp_path):
    proc = optviz(["train", *SMALL, "--epochs", "5", "--opt", "adam,momentum", "--json", "--no-plot"], tmp_path)
    doc = json.loads(proc.stdout)
    assert set(doc) >= {"data", "model", "settings", "runs"}
    assert doc["data"]["name"] == "moons" and doc["data"]["n_features"] == 2 and doc["data"]["n_classes"] == 2
    assert doc["data"]["n_train"] + doc["data"]["n_val"] == 200
    assert doc["model"]["arch"] == "mlp" and doc["model"]["depth"] == 2 and doc["model"]["width"] == 16
    assert doc["settings"]["epochs"] == 5 and doc["settings"]["interrupted"] is False
    assert [r["optimizer"] for r in doc["runs"]] == ["adam", "momentum"]
    defaults = {"adam": 1e-3, "momentum": 0.05}
    for r in doc["runs"]:
        assert r["status"] == "ok" and r["seed"] == 0
        assert r["hyperparameters"]["lr"] == pytest.approx(defaults[r["optimizer"]])
        for key in ("train_loss", "train_acc", "val_loss", "val_acc"):
            assert len(r[key]) == 5, (key, r[key])
            assert all(isinstance(v, float) and math.isfinite(v) for v in r[key])
        assert all(0.0 <= a <= 1.0 for a in r["train_acc"] + r["val_acc"])
        assert r["train_loss"][-1] < r["train_loss"][0], "5 epochs of training should lower the loss"
    assert list(tmp_path.iterdir()) == []  # --no-plot: nothing written


def test_train_seeds_multiply_the_runs(tmp_path):
    proc = optviz(["train", *SMALL, "--epochs", "2", "--opt", "adam,momentum", "--seeds", "2", "--json",
                   "--no-plot"], tmp_path)
    runs = json.loads(proc.stdout)["runs"]
    assert len(runs) == 2 * 2
    assert sorted((r["optimizer"], r["seed"]) for r in runs) == [
        ("adam", 0), ("adam", 1), ("momentum", 0), ("momentum", 1)]
    by = {(r["optimizer"], r["seed"]): r["val_loss"] for r in runs}
    assert by[("adam", 0)] != by[("adam", 1)], "another seed should give another training"


def test_train_writes_figures(tmp_path):
    out = tmp_path / "figs"
    proc = optviz(["train", *SMALL, "--epochs", "3", "--opt", "adam,momentum", "--out", str(out)], tmp_path)
    names = sorted(p.name for p in out.iterdir())
    curves = [n for n in names if n.endswith("_curves.png")]
    boundary = [n for n in names if n.endswith("_boundary.png")]
    assert len(curves) == 1 and len(boundary) == 1, names  # 2-D data: a decision boundary too
    assert not [n for n in names if n.startswith(".")], names
    for name in names:
        _complete_png(out / name)
        assert name in proc.stdout, proc.stdout  # "wrote PATH" under the table
    assert list(tmp_path.iterdir()) == [out]


def test_train_figures_in_another_format(tmp_path):
    out = tmp_path / "figs"
    optviz(["train", *SMALL, "--epochs", "2", "--opt", "adam", "--format", "svg", "--json", "--out", str(out)],
           tmp_path)
    names = sorted(p.name for p in out.iterdir())
    assert names and all(n.endswith(".svg") for n in names), names
    for name in names:
        assert (out / name).read_text().rstrip().endswith("</svg>")


def test_save_run_then_landscape(tmp_path):
    run_file = tmp_path / "run.npz"
    proc = optviz(["train", *SMALL, "--epochs", "4", "--opt", "adam,momentum", "--json", "--no-plot",
                   "--save-run", str(run_file)], tmp_path)
    assert run_file.is_file() and run_file.stat().st_size > 0
    assert f"wrote {run_file}" in proc.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert len(json.loads(proc.stdout)["runs"]) == 2

    out = tmp_path / "land"
    proc = optviz(["landscape", str(run_file), "--resolution", "9", "--out", str(out)], tmp_path)
    names = sorted(p.name for p in out.iterdir())
    landscapes = [n for n in names if "_landscape-pca" in n and n.endswith(".png")]
    interpolation = [n for n in names if n.endswith("_interpolation.png")]
    assert landscapes and len(interpolation) == 1, names
    assert not [n for n in names if n.startswith(".")], names
    for name in names:
        _complete_png(out / name)
        assert f"wrote {out / name}" in proc.stdout


def test_train_comma_lists_are_labelled_runs_in_one_document_and_figure(tmp_path):
    out = tmp_path / "figs"
    proc = optviz(["train", "--data", "moons", "--arch", "mlp", "--depth", "2", "--width", "8", "--norm", "bn,none",
                   "--opt", "sgd", "--lr", "0.1,1", "--epochs", "2", "--seeds", "2", "--json", "--out", str(out)],
                  tmp_path)
    doc = json.loads(proc.stdout)
    labels = ["sgd · norm=bn, lr=0.1", "sgd · norm=bn, lr=1", "sgd · norm=none, lr=0.1", "sgd · norm=none, lr=1"]
    assert [r["label"] for r in doc["runs"]] == labels * 2
    assert [r["settings"]["lr"] for r in doc["runs"][:4]] == [0.1, 1.0, 0.1, 1.0]
    assert [r["settings"]["norm"] for r in doc["runs"][:4]] == ["bn", "bn", "none", "none"]
    assert doc["settings"]["lr"] is None and doc["settings"]["varied"] == ["norm", "lr"]
    names = sorted(p.name for p in out.iterdir())
    assert names == ["moons_mlp2-w8-bn-none_sgd_boundary.png", "moons_mlp2-w8-bn-none_sgd_curves.png"], names
    for name in names:
        _complete_png(out / name)
