"""optviz.train_sweep and optviz train-sweep in this process: cells, cache, statistics, figure.

The Dask tests (local cluster, a scheduler and workers started here, a worker killed,
Ctrl-C) are in test_train_sweep_dask.py. Every sweep here is tiny: moons, an MLP of
depth 1 and width 8, 2 epochs.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import optviz
from optviz.cellcache import CellCache
from optviz.cells import cell_key, run_cell
from optviz.errors import OptvizError
from optviz.sweepstats import best_setting, setting_stats

TINY = dict(arch="mlp", depth=1, width=8, epochs=2, batch_size=32)


def sweep(tmp_path=None, **kw):
    args = {"data": "moons", "opt": "adam,momentum", "lr": "1e-2:1:3", "seeds": 2, "workers": 0, **TINY,
            "cache": None if tmp_path is None else tmp_path / "cache", **kw}
    return optviz.train_sweep(**args)


def numbers(report):
    """Every cell's result without its wall time (the only number that may differ)."""
    return {c.key: {k: v for k, v in c.result.items() if k != "wall_time"} for c in report.cells}


@pytest.fixture
def count_runs(monkeypatch):
    """The number of training runs started in this process (the engine is called once per cell)."""
    engine = importlib.import_module("optviz.nn.train")  # the package's name train is the function

    calls = []
    real = engine.train

    def counted(*args, **kwargs):
        calls.append(args[1][0])
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "train", counted)
    return calls


def test_a_cell_is_the_run_of_optviz_train_with_that_optimizer_lr_and_seed():
    from threadpoolctl import threadpool_limits

    report = sweep(opt="adam", lr="0.01:0.1:2", seeds=2, seed=3)
    assert [(c.setting["lr"], c.seed) for c in report.cells] == [(0.01, 3), (0.01, 4), (0.1, 3), (0.1, 4)]
    with threadpool_limits(1, user_api="blas"):
        ref = optviz.train("moons", "adam", lr=0.1, seed=3, seeds=2, **TINY)
    for cell, result in zip(report.cells[2:], ref.results, strict=True):
        run = result.runs[0]
        assert cell.result["val_acc"] == run.val_acc and cell.result["val_loss"] == run.val_loss
        assert cell.result["final_val_acc"] == run.val_acc[-1] and cell.result["best_val_acc"] == max(run.val_acc)
        assert cell.result["final_train_loss"] == run.train_loss[-1]
        assert cell.result["status"] == "ok" and cell.result["epochs"] == 2 and cell.result["wall_time"] > 0


def test_the_grid_of_cells_settings_and_seeds():
    report = sweep(opt="adam,momentum", lr="1e-3:1e-1:3", params=["momentum.beta=0.5:0.9:2", "adam.beta1=0.8"],
                   seeds=1)
    adam = [c for c in report.cells if c.optimizer == "adam"]
    mom = [c for c in report.cells if c.optimizer == "momentum"]
    assert [c.setting for c in adam] == [{"lr": pytest.approx(v)} for v in (1e-3, 1e-2, 1e-1)]
    assert len(mom) == 6 and {c.setting["beta"] for c in mom} == {0.5, 0.9}
    assert all(c.spec["hyperparameters"]["beta1"] == 0.8 for c in adam)
    doc = report.to_json()
    assert doc["grid"]["adam"]["fixed"] == {"beta1": 0.8} and doc["grid"]["momentum"]["swept"]["beta"] == [0.5, 0.9]
    assert len({c.key for c in report.cells}) == len(report.cells) == 9


def test_the_key_changes_with_everything_that_decides_a_run():
    base = sweep(opt="adam", lr="0.1", seeds=1).cells[0]
    for change in ({"seed": 1}, {"epochs": 3}, {"width": 9}, {"lr": "0.2"}, {"params": ["beta1=0.8"]},
                   {"noise": 0.2}, {"samples": 120}, {"schedule": "exp:0.9"}):
        other = sweep(opt="adam", seeds=1, **{"lr": "0.1", **change}).cells[0]
        assert other.key != base.key, change
    assert sweep(opt="adam", lr="0.1", seeds=1).cells[0].key == base.key
    assert base.key == cell_key(base.spec) and base.spec["versions"]["numpy"] == np.__version__


def test_a_csv_travels_with_its_cells_and_its_bytes_are_in_the_key(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    path = tmp_path / "points.csv"
    path.write_text("a,b,c,label\n" + "".join(f"{x[0]},{x[1]},{x[2]},{int(x[0] > 0)}\n" for x in X))
    first = optviz.train_sweep(str(path), "adam", lr="0.1", seeds=1, workers=0, **TINY)
    assert first.plan.dataset is not None and first.cells[0].spec["data"]["name"] == "points.csv"
    assert first.cells[0].result["status"] == "ok"
    path.write_text(path.read_text().replace("label\n", "label\n0,0,0,1\n", 1))
    second = optviz.train_sweep(str(path), "adam", lr="0.1", seeds=1, workers=0, **TINY)
    assert second.cells[0].key != first.cells[0].key


def test_a_rerun_reads_every_cell_from_the_cache_and_trains_nothing(tmp_path, count_runs):
    first = sweep(tmp_path)
    assert len(count_runs) == first.computed == len(first.cells) == 12 and first.cached == 0
    assert len(list((tmp_path / "cache").glob("*.json"))) == 12
    second = sweep(tmp_path)
    assert len(count_runs) == 12 and second.computed == 0 and second.cached == 12
    assert second.to_json() == first.to_json()
    assert any("12 of 12 cells read from the cache" in n for n in second.notes)


def test_an_interrupted_sweep_keeps_its_cells_and_resumes_with_the_rest(tmp_path, count_runs):
    def stop_after_five(p):
        if p.computed == 5:
            raise KeyboardInterrupt

    first = sweep(tmp_path, progress=stop_after_five)
    assert first.interrupted and first.computed == 5 and "interrupted: 5 of 12 cells finished" in first.notes[-1]
    done = {c.key for c in first.cells if c.result is not None}
    second = sweep(tmp_path)
    assert second.cached == 5 and second.computed == 7 and len(count_runs) == 12
    assert {c.key for c in second.cells} >= done
    assert numbers(second) == numbers(sweep())  # the same numbers as a sweep without cache


def test_a_ctrl_c_inside_a_cell_stops_the_serial_sweep(tmp_path, monkeypatch):
    engine = importlib.import_module("optviz.nn.train")

    real, calls = engine.train, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "train", interrupted)
    report = sweep(tmp_path)
    assert report.interrupted and report.computed == 2 and len(calls) == 3
    assert len(list((tmp_path / "cache").glob("*.json"))) == 2


def test_a_failing_cell_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    engine = importlib.import_module("optviz.nn.train")

    real = engine.train

    def flaky(data, optimizers, **kwargs):
        if optimizers[0][1]["lr"] == 1.0:
            raise MemoryError("out of memory")
        return real(data, optimizers, **kwargs)

    monkeypatch.setattr(engine, "train", flaky)
    report = sweep(tmp_path)
    failed = [c for c in report.cells if c.result["status"] == "failed"]
    assert report.failed == len(failed) == 4 and report.computed == 12
    assert failed[0].result["error"] == "MemoryError: out of memory" and failed[0].result["final_val_acc"] is None
    assert len(list((tmp_path / "cache").glob("*.json"))) == 8  # failures are not cached
    assert any("4 cell(s) failed" in n and "MemoryError" in n for n in report.notes)
    monkeypatch.setattr(engine, "train", real)
    again = sweep(tmp_path)
    assert again.cached == 8 and again.computed == 4 and again.failed == 0


def test_corrupt_altered_and_foreign_cache_files_are_ignored_with_a_note(tmp_path, count_runs):
    first = sweep(tmp_path, opt="adam")
    cache = tmp_path / "cache"
    files = sorted(cache.glob("*.json"))
    files[0].write_text(files[0].read_text()[:40])  # truncated
    doc = json.loads(files[1].read_text())
    doc["result"]["final_val_acc"] = 1.0  # edited by hand
    files[1].write_text(json.dumps(doc))
    doc = json.loads(files[2].read_text())
    doc["spec"]["seed"] = 99  # a spec that is not this key's
    doc["check"] = cell_key(doc["result"])
    files[2].write_text(json.dumps(doc))
    files[3].write_text("[1, 2, 3]")
    (cache / "notes.txt").write_text("mine")
    (cache / ".tmp.part.json").write_text("{")  # a writer's leftover: hidden, not a note
    before = len(count_runs)
    second = sweep(tmp_path, opt="adam")
    assert second.cached == 2 and second.computed == 4 and len(count_runs) == before + 4
    assert numbers(second) == numbers(first)
    assert any("ignored 4 unreadable or altered file(s)" in n for n in second.notes)
    assert any("not cells of a sweep: notes.txt" in n for n in second.notes)
    assert all(CellCache(cache).load([f.stem])[0] for f in files)  # rewritten whole


def test_a_cell_refuses_to_run_with_other_library_versions():
    spec = sweep(opt="adam", lr="0.1", seeds=1).cells[0].spec
    result = run_cell({**spec, "versions": {"optviz": "0.0.1", "numpy": np.__version__}})
    assert result["status"] == "failed" and "optviz 0.0.1" in result["error"] and "this worker runs" in result["error"]


def test_without_dask_the_cells_run_here_with_a_note_naming_the_extra(monkeypatch):
    import optviz.cluster

    monkeypatch.setattr(optviz.cluster, "dask_installed", lambda: False)
    report = sweep(opt="adam", lr="0.1", seeds=1, workers=None)
    assert report.computed == 1 and any('pip install "optviz[distributed]"' in n for n in report.notes)
    with pytest.raises(OptvizError) as info:
        sweep(opt="adam", lr="0.1", seeds=1, workers=None, scheduler="tcp://127.0.0.1:1")
    assert info.value.param == "scheduler" and "optviz[distributed]" in str(info.value)


@pytest.mark.parametrize("kw, param", [
    ({"workers": -1}, "workers"),
    ({"workers": 2, "scheduler": "tcp://127.0.0.1:8786"}, "workers"),
    ({"seeds": 0}, "seeds"),
    ({"lr": "1:1e-3:4"}, "lr"),
    ({"lr": "0:1:4"}, "lr"),
    ({"opt": "newton"}, "opt"),
    ({"params": ["beta1=0.1:0.9:3", "beta2=0.9:0.99:2"]}, "params"),
    ({"epochs": 0}, "epochs"),
    ({"dtype": "float16"}, "dtype"),
    ({"data": "no-such.csv"}, "data"),
    ({"lr": "1e-4:1:60000"}, "lr"),
    ({"cache": "a-file"}, "cache"),
])
def test_bad_arguments_are_refused_before_any_work(kw, param, count_runs, tmp_path):
    (tmp_path / "a-file").write_text("")
    if kw.get("cache") == "a-file":
        kw = {"cache": tmp_path / "a-file"}
    with pytest.raises(OptvizError) as info:
        sweep(**{"opt": "adam", **kw})
    assert info.value.param == param and "--" not in str(info.value)
    assert count_runs == []


def result(status="ok", acc=0.9, loss=0.3):
    return {"status": status, "final_val_acc": acc if status == "ok" else None,
            "final_val_loss": loss if status == "ok" else None}


def test_the_best_setting_and_the_lr_range_within_one_point_by_hand():
    accs = {1e-4: [0.50, 0.52], 1e-3: [0.905, 0.912], 1e-2: [0.91, 0.92], 1e-1: [0.905, 0.93], 1.0: [0.95, None]}
    stats = [setting_stats("adam", {"lr": lr}, [result("ok" if a is not None else "diverged", a or 0) for a in v])
             for lr, v in accs.items()]
    assert stats[-1].diverged == 1 and stats[-1].acc[1] == 0.95  # median over the seed that finished
    best = best_setting("adam", stats)
    assert best.setting == {"lr": 0.1}  # 1.0 has the higher median but a seed diverged
    assert best.acc[1] == pytest.approx(0.9175) and best.acc[0] == pytest.approx(0.905 + 0.1 * 0.025)
    assert best.acc_range == (0.905, 0.93)
    assert best.lr_within == (1e-3, 1e-1) and best.lr_decades == pytest.approx(2.0)  # 0.9085 ≥ 0.9175 − 0.01 > 0.51
    assert best.to_json()["lr_within_1_point_decades"] == pytest.approx(2.0)
    none = best_setting("adam", [setting_stats("adam", {"lr": 1.0}, [result("diverged")])])
    assert none.setting is None and math.isnan(none.acc[1]) and none.to_json()["setting"] is None


def test_the_figure_draws_medians_bands_divergence_and_the_best(tmp_path):
    from optviz.plot.figure import new_figure
    from optviz.plot.train_sweep import draw_sensitivity, save_sensitivity_figure

    report = sweep(opt="adam,momentum", lr="1e-2:1e4:4", norm="none", seeds=2)
    curves = report.curves()
    mom = next(c for c in curves if c.optimizer == "momentum")
    assert mom.diverged[-1] >= 1 and mom.seeds.tolist() == [2, 2, 2, 2]
    fig = new_figure((6, 6))
    ax_acc, ax_loss = fig.subplots(2, 1)
    arts = draw_sensitivity(ax_acc, ax_loss, curves)
    label = next(k for k in arts if k.startswith("Momentum"))
    assert len(arts[label]["diverged"]) == 2 * int((mom.diverged > 0).sum())
    np.testing.assert_array_equal(arts[label]["acc"].get_ydata(), mom.acc[1])
    assert "best η=" in label and len(arts[label]["best"]) == 2
    path = save_sensitivity_figure(curves, tmp_path, stem=report.stem(), title=report.title(), seeds=2)
    assert path.exists() and path.stat().st_size > 10_000


def test_the_command_writes_figure_csv_and_the_same_json_when_everything_is_cached(tmp_path):
    args = [sys.executable, "-m", "optviz", "train-sweep", "--data", "moons", "--arch", "mlp", "--depth", "1",
            "--width", "8", "--epochs", "2", "--lr", "0.01:1:3", "--seeds", "2", "--workers", "0",
            "--out", str(tmp_path / "out"), "--json"]
    first = subprocess.run([*args, "--csv", str(tmp_path / "cells.csv")], capture_output=True, text=True,
                           timeout=300)
    assert first.returncode == 0, first.stderr
    second = subprocess.run([*args, "--no-plot"], capture_output=True, text=True, timeout=300)
    assert second.returncode == 0 and second.stdout == first.stdout
    assert "12 of 12 cells read from the cache" in second.stderr and "Traceback" not in second.stderr
    doc = json.loads(first.stdout)
    assert len(doc["cells"]) == 12 and [b["optimizer"] for b in doc["best"]] == ["adam", "momentum"]
    assert len((tmp_path / "cells.csv").read_text().splitlines()) == 13
    assert list((tmp_path / "out").glob("*train-sweep.png"))
    table = subprocess.run([*args[:-1], "--no-plot"], capture_output=True, text=True, timeout=300,
                           env={**os.environ, "COLUMNS": "200"})  # headers whole, not wrapped to 80
    assert "best setting per optimizer" in table.stdout and "lr within 1 point" in table.stdout
    bad = subprocess.run([*args, "--workers", "-1"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "--workers must be ≥ 0" in bad.stderr


def test_an_image_model_sweep_names_what_was_built_not_depth_and_width():
    report = optviz.train_sweep("digits", "adam", arch="lenet", lr="0.01", seeds=1, workers=0, epochs=1)
    assert report.title() == "digits: lenet, 6 channels, bn, 1 epoch"
    assert report.stem() == "digits_lenet-c6_adam_train-sweep"
    model = report.to_json()["model"]
    assert model["channels"] == 6 and "depth" not in model and "width" not in model, model
    mlp = sweep(opt="adam", lr="0.1", seeds=1)  # an MLP keeps its name
    assert mlp.stem() == "moons_mlp1-w8_adam_train-sweep" and mlp.title() == "moons: mlp, depth 1, width 8, bn, 2 epochs"
    assert mlp.to_json()["model"] == {"arch": "mlp", "depth": 1, "width": 8, "norm": "bn", "act": "relu", "init": "he",
                                      "dropout": 0.0, "dtype": "float32"}
