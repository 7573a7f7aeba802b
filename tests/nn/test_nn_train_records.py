"""What a training run records besides its curves, and what it says after Ctrl-C or a
divergence: not-started runs, best epochs, the spread between units, evaluations with
batch statistics."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import optviz
from optviz.nn import make_moons
from optviz.nn.evaluation import evaluate, parse_eval_bn
from optviz.nn.symmetry import unit_spread
from optviz.nn.train import train
from optviz.report import train_table
from optviz.status import Outcome, Status

SMALL = {"arch": "mlp", "depth": 2, "width": 8, "norm": "bn"}


def _table_text(results) -> str:
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(train_table(results))
    return console.export_text()


def _interrupt_at(label: str, epoch: int):
    def callback(run_label, run_epoch, run):
        if run_label == label and run_epoch == epoch:
            raise KeyboardInterrupt

    return callback


def test_ctrl_c_keeps_the_optimizers_that_never_started():
    res = train(make_moons(80, seed=1), ["adam", "momentum", "sgd"], model=SMALL, epochs=3,
                callback=_interrupt_at("adam", 2))
    assert [r.label for r in res.runs] == ["adam", "momentum", "sgd"]
    assert [r.outcome.status for r in res.runs] == [Status.INTERRUPTED, Status.NOT_STARTED, Status.NOT_STARTED]
    assert [r.status for r in res.runs[1:]] == ["not started", "not started"]
    assert res.interrupted and res.runs[1].val_acc == [] and res.runs[1].best_epoch is None
    text = _table_text([res])
    assert text.count("not started") == 2 and "momentum" in text and "sgd" in text


def test_ctrl_c_in_one_network_lists_the_networks_after_it():
    report = optviz.train("moons", "sgd,adam", norm="bn,none,ln", arch="mlp", depth=2, width=8, epochs=2,
                          callback=_interrupt_at("adam · norm=bn", 1))
    runs = report.first.runs
    # Ctrl-C after epoch 1 was recorded (in the callback): epoch 1 is kept, the run was in epoch 2
    assert [r.status for r in runs] == ["ok", "interrupted in epoch 2"] + ["not started"] * 4
    assert len(runs[1].val_acc) == len(runs[1].grad_norms["layer1.linear"]) == 1
    assert [r.settings["norm"] for r in runs] == ["bn", "bn", "none", "none", "ln", "ln"]
    assert report.interrupted and report.first.settings.interrupted
    doc = report.to_json()
    assert [r["status"] for r in doc["runs"]][2:] == ["not started"] * 4
    assert all(r["best_epoch"] is None and r["val_acc"] == [] for r in doc["runs"][2:])


def test_ctrl_c_in_the_first_seed_says_which_seeds_never_started():
    report = optviz.train("moons", "sgd", seeds=3, arch="mlp", depth=2, width=8, epochs=2,
                          callback=_interrupt_at("sgd", 1))
    assert len(report.results) == 1 and report.interrupted
    assert "seeds 1 … 2 not started" in report.notes


def test_a_run_diverged_in_epoch_one_has_no_best_epoch():
    res = train(make_moons(200), [("sgd", {"lr": 1e3}), ("adam", {"lr": 0.01})],
                model={"depth": 3, "width": 64, "norm": "none"}, epochs=2, batch_size=16)
    bad, good = res.runs
    assert bad.diverged and bad.outcome.epoch == 1 and bad.best_epoch is None
    assert good.best_epoch in (1, 2)
    row = next(line for line in _table_text([res]).splitlines() if line.startswith("│ sgd"))
    assert "—" in row and " 0 " not in row and "diverged at epoch 1" in row
    doc = optviz.api.TrainReport([res]).to_json()
    assert doc["runs"][0]["best_epoch"] is None and doc["runs"][1]["best_epoch"] == good.best_epoch


def test_unit_spread_by_hand():
    W1 = np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 2.5]])  # unit 2's second weight differs by 0.5
    params = {"layer1.linear.W": W1, "layer1.linear.b": np.zeros(3), "head.W": np.ones((3, 2)),
              "head.b": np.zeros(2)}
    spec = {"arch": "mlp", "depth": 1}
    assert unit_spread(params, spec) == {"layer1": 0.5}
    params["head.W"] = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, -2.0]])  # outgoing weights of unit 2
    assert unit_spread(params, spec) == {"layer1": 2.0}
    assert unit_spread(params, {"arch": "resnet", "depth": 1}) == {}


def test_zero_init_keeps_units_identical_in_every_epoch():
    res = train(make_moons(80, seed=1), [("momentum", {"lr": 0.5})],
                model={"arch": "mlp", "depth": 2, "width": 6, "norm": "none", "act": "sigmoid", "init": "zeros"},
                epochs=3, batch_size=8)
    run = res.runs[0]
    assert set(run.unit_spread) == {"layer1", "layer2"}
    for series in run.unit_spread.values():
        assert series.shape == (3,) and np.all(series == 0.0)
    moved = np.abs(run.final_state["layer1.linear.W"] - res.initial_state["layer1.linear.W"]).max()
    assert moved > 0  # sigmoid: the weights move, all units alike
    he = train(make_moons(80, seed=1), [("momentum", {"lr": 0.5})],
               model={"arch": "mlp", "depth": 2, "width": 6, "norm": "none", "act": "sigmoid"}, epochs=3,
               batch_size=8)
    assert all(np.all(s > 0) for s in he.runs[0].unit_spread.values())
    assert unit_spread(he.runs[0].final_state, he.model_spec)["layer2"] == he.runs[0].unit_spread["layer2"][-1]


def test_batch_statistics_evaluations_match_evaluate():
    res = train(make_moons(120, seed=3), ["adam"], model={**SMALL, "width": 16}, epochs=3, batch_size=16,
                eval_bn="running,batch:8,sorted,batch")
    run = res.runs[0]
    assert res.settings.eval_bn == ("running", "batch:8", "sorted:16", "batch:16")
    assert set(run.evals) == {"batch:8", "sorted:16", "batch:16"}
    net, split = res.model("adam"), res.split
    order = np.random.default_rng([0, 11]).permutation(len(split.y_val))
    by_class = np.argsort(split.y_val, kind="stable")
    want = {"batch:8": evaluate(net, split.X_val[order], split.y_val[order], batch_size=8, bn="batch"),
            "sorted:16": evaluate(net, split.X_val[by_class], split.y_val[by_class], batch_size=16, bn="batch"),
            "batch:16": evaluate(net, split.X_val[order], split.y_val[order], batch_size=16, bn="batch")}
    for name, (loss, acc) in want.items():
        assert len(run.evals[name]["val_acc"]) == 3
        assert run.evals[name]["val_loss"][-1] == pytest.approx(loss, rel=1e-6)
        assert run.evals[name]["val_acc"][-1] == acc
    assert evaluate(net, split.X_val, split.y_val)[1] == run.val_acc[-1]  # running statistics
    text = _table_text([res])
    assert "val acc batch:8" in text and "val acc sorted:16" in text


def test_parse_eval_bn():
    assert parse_eval_bn("running, batch:8,sorted") == [("running", None), ("batch", 8), ("sorted", None)]
    for bad in ("batch:x", "running:8", "median", "batch,batch", "", "sorted:1"):
        with pytest.raises(optviz.OptvizError) as err:
            parse_eval_bn(bad)
        assert err.value.param == "eval_bn"


def test_evaluate_with_batch_statistics_folds_a_lone_last_sample():
    res = train(make_moons(60, seed=3), ["adam"], model=SMALL, epochs=1)
    net, split = res.model("adam"), res.split
    n = len(split.y_val)  # 12: batches of 11 leave one sample alone
    assert n % 11 == 1
    loss, acc = evaluate(net, split.X_val, split.y_val, batch_size=11, bn="batch")
    whole = evaluate(net, split.X_val, split.y_val, batch_size=n, bn="batch")
    assert (loss, acc) == whole  # the lone sample joined the batch before it: one batch of 12


def test_a_run_file_keeps_the_new_records_and_leaves_out_runs_never_started(tmp_path):
    from optviz.nn.runfile import load_run, save_run

    res = train(make_moons(80, seed=1), ["adam", "momentum"], model={**SMALL, "init": "zeros"}, epochs=2,
                eval_bn="running,batch:8", callback=_interrupt_at("momentum", 2))
    assert [r.status for r in res.runs] == ["ok", "interrupted in epoch 2"]
    res.runs.append(replace(res.runs[1], label="sgd", outcome=Outcome(Status.NOT_STARTED)))
    back = load_run(save_run(tmp_path / "run.npz", res))
    assert [r.label for r in back.runs] == ["adam", "momentum"]
    for saved, loaded in zip(res.runs, back.runs, strict=False):
        assert loaded.settings == saved.settings and loaded.settings["init"] == "zeros"
        assert loaded.evals == saved.evals and set(loaded.evals) == {"batch:8"}
        assert set(loaded.unit_spread) == {"layer1", "layer2"}
        for key, values in saved.unit_spread.items():
            np.testing.assert_array_equal(loaded.unit_spread[key], values)
    assert back.settings.eval_bn == ("running", "batch:8")


def test_a_run_file_refuses_several_networks(tmp_path):
    from optviz.nn.runfile import save_run

    report = optviz.train("moons", "sgd", arch="mlp", depth="1,2", width=4, epochs=1)
    with pytest.raises(optviz.OptvizError) as err:
        save_run(tmp_path / "run.npz", report.first)
    assert "one network" in str(err.value) and "depth" in str(err.value)
    assert not (tmp_path / "run.npz").exists()
    lrs = optviz.train("moons", "sgd", arch="mlp", depth=1, width=4, epochs=1, lr="0.1,0.2", save_weights=True)
    assert save_run(tmp_path / "lrs.npz", lrs.first).is_file()  # one network, two rates: fine
