"""Bounds of a training: the seed checked before any work, memory that does not grow with
the seeds, at most 100 weight snapshots, a run file refused before training when it
would exceed its budget, and Ctrl-C in the middle of an epoch's bookkeeping."""

from __future__ import annotations

import itertools
import zipfile

import numpy as np
import pytest

import optviz
import optviz.nn.recorders as recorders
import optviz.nn.runarchive as runarchive
import optviz.nn.runfile as runfile
from optviz.nn import make_moons
from optviz.nn.model import build_model, parameter_count
from optviz.nn.recorders import Snapshots
from optviz.nn.train import train
from optviz.status import Status

SMALL = {"arch": "mlp", "depth": 2, "width": 8}


def _never(*_):
    raise AssertionError("training started")


@pytest.mark.parametrize(("kwargs", "param"), [({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"),
                                               ({"seed": True}, "seed"), ({"seeds": 0}, "seeds"),
                                               ({"epochs": 0}, "epochs")])
def test_seed_seeds_and_epochs_are_checked_before_any_work(kwargs, param):
    with pytest.raises(optviz.OptvizError) as err:
        optviz.train("moons", "sgd", **SMALL, callback=_never, **kwargs)
    assert err.value.param == param and param in str(err.value)


def test_seeds_after_the_first_keep_only_what_the_figures_draw():
    report = optviz.train("moons", "sgd,adam", **SMALL, epochs=3, seeds=3, record_every=2)
    first, *others = report.results
    assert [r.settings.seed for r in report.results] == [0, 1, 2]
    for run in first.runs:  # the first seed keeps everything: landscapes and run files read it
        assert run.snapshots is not None and run.final_state and run.running_stats and run.step_loss
    assert first.split is not None and first.initial_state
    for res in others:
        assert res.split is None and res.initial_state == {}
        for run in res.runs:
            assert run.snapshots is None and run.snapshot_steps is None
            assert run.final_state == {} and run.running_stats == {} and run.step_loss == []
            # what the figures over seeds and the table draw is all there
            assert len(run.val_acc) == len(run.train_loss) == 3 and run.status == "ok"
            assert all(len(v) == 3 for v in run.grad_norms.values()) and set(run.unit_spread) == {"layer1", "layer2"}
    doc = report.to_json()
    assert len(doc["runs"]) == 6 and all(len(r["val_acc"]) == 3 for r in doc["runs"])


def test_figures_over_seeds_draw_from_lightened_seeds(tmp_path):
    from optviz.plot.train import save_train_figures

    report = optviz.train("moons", "sgd", arch="mlp", depth=2, width=8, norm="bn,none", epochs=2, seeds=2,
                          eval_bn="running,batch")
    written = save_train_figures(report.results, tmp_path, diagnostics=True)
    assert written and all(p.stat().st_size > 0 for p in written)


def test_snapshot_count_matches_the_recorder():
    for steps, every, cap in itertools.product(range(0, 300, 11), (1, 2, 5, 23), (3, 4, 10, 100)):
        snaps = Snapshots(every, cap)
        for t in range(steps + 1):
            snaps.offer(t, {"w": np.zeros(1)})
        _, kept = snaps.finish(steps, {"w": np.zeros(1)})
        assert len(kept) == Snapshots.count(steps, every, cap) <= cap, (steps, every, cap)


@pytest.mark.parametrize(("arch", "depth", "width", "norm", "act"),
                         [("mlp", 0, 4, "bn", "relu"), ("mlp", 3, 5, "ln", "prelu"), ("mlp", 2, 7, "none", "tanh"),
                          ("resnet", 1, 6, "bn", "prelu"), ("resnet", 5, 3, "none", "relu"), ("resnet", 4, 5, "ln", "elu")])
def test_parameter_count_without_building(arch, depth, width, norm, act):
    for in_dim, out_dim in ((3, 2), (width, 10)):
        net = build_model(arch=arch, in_dim=in_dim, out_dim=out_dim, depth=depth, width=width, norm=norm, act=act)
        assert parameter_count(arch, in_dim, out_dim, depth, width, norm, act) == net.num_params()


@pytest.mark.parametrize("cap", [2, 101, 1000])
def test_max_snapshots_is_between_3_and_100(cap):
    with pytest.raises(optviz.OptvizError) as err:
        train(make_moons(40), ["sgd"], model=SMALL, epochs=1, record_weights=1, max_snapshots=cap)
    assert err.value.param == "max_snapshots" and "between 3 and 100" in str(err.value)


def test_the_run_file_estimate_is_close_to_a_written_file(tmp_path):
    report = optviz.train("moons", "sgd,adam", arch="mlp", depth=2, width=128, epochs=4, save_weights=True)
    path = runfile.save_run(tmp_path / "run.npz", report.first)
    with zipfile.ZipFile(path) as z:
        actual = sum(i.file_size for i in z.infolist())
    res = report.first
    n_params = len(res.runs[0].snapshots[0])
    counts = [len(r.snapshots) for r in res.runs]
    assert counts == [Snapshots.count(4 * res.settings.steps_per_epoch, res.settings.steps_per_epoch)] * 2
    n_values = res.split.X_train.size + res.split.X_val.size + len(res.split.y_train) + len(res.split.y_val)
    estimate = runarchive.run_file_bytes(n_params, counts, n_values, 4)
    assert 0.9 * actual < estimate < 1.05 * actual  # the weights are most of the file


def test_a_run_file_over_its_budget_is_refused_before_training(monkeypatch):
    monkeypatch.setattr(runarchive, "MAX_TOTAL_BYTES", 10_000)
    with pytest.raises(optviz.OptvizError) as err:
        optviz.train("moons", "sgd,adam", **SMALL, epochs=50, save_weights=True, callback=_never)
    assert err.value.param == "save_weights" and "over its budget of" in str(err.value)
    assert "record_every" in str(err.value)
    # recording every 100 steps instead of every epoch fits
    report = optviz.train("moons", "sgd,adam", **SMALL, epochs=50, save_weights=True, record_every=100)
    assert [len(r.snapshots) for r in report.first.runs] == [3, 3]


def test_the_default_network_fits_its_run_file_budget():
    n_params = parameter_count("resnet", 64, 10, 6, 128, "bn", "relu")
    size = runarchive.run_file_bytes(n_params, [recorders.MAX_SNAPSHOTS] * 6, 1797 * 65, 4)
    assert size < runarchive.MAX_TOTAL_BYTES  # six optimizers at the snapshot cap


def test_more_runs_than_a_run_file_holds_are_refused_before_training():
    with pytest.raises(optviz.OptvizError) as err:
        optviz.train("moons", "sgd", **SMALL, epochs=1, lr=",".join(str(0.001 * (k + 1)) for k in range(101)),
                     save_weights=True, callback=_never)
    assert err.value.param == "save_weights" and "at most 100 optimizer runs" in str(err.value)


def test_ctrl_c_in_an_epochs_bookkeeping_keeps_nothing_of_that_epoch(monkeypatch):
    calls = {"n": 0}
    real = recorders.unit_spread

    def spread_then_interrupt(params, spec):
        calls["n"] += 1
        if calls["n"] == 2:  # epoch 2: gradient norms and running statistics already appended
            raise KeyboardInterrupt
        return real(params, spec)

    monkeypatch.setattr(recorders, "unit_spread", spread_then_interrupt)
    res = train(make_moons(80, seed=1), ["adam", "sgd"], model={**SMALL, "norm": "bn"}, epochs=3,
                eval_bn="running,batch:8")
    run = res.runs[0]
    assert run.outcome.status is Status.INTERRUPTED and run.status == "interrupted in epoch 2"
    assert res.runs[1].status == "not started"
    for series in (run.train_loss, run.train_acc, run.val_loss, run.val_acc, run.lr, run.epoch_time):
        assert len(series) == 1
    assert all(len(v) == 1 for v in run.grad_norms.values())
    assert all(len(v) == 1 for v in run.running_stats.values())
    assert all(len(v) == 1 for v in run.unit_spread.values())
    assert all(len(c) == 1 for curves in run.evals.values() for c in curves.values())
