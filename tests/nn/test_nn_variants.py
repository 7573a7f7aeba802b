"""Comma lists of network settings in ``optviz.train``: parsing, labels, one run per
combination from the same seed, per-run settings in the JSON, and what is refused."""

from __future__ import annotations

import numpy as np
import pytest

import optviz
from optviz.errors import OptvizError
from optviz.nn.variants import values, variants

SMALL = dict(arch="mlp", depth=2, width=8, epochs=2)


@pytest.mark.parametrize("name, given, want", [
    ("norm", "bn,none", ["bn", "none"]),
    ("norm", " bn , ln ", ["bn", "ln"]),
    ("norm", ["none"], ["none"]),
    ("depth", "2,8", [2, 8]),
    ("depth", 6, [6]),
    ("depth", [np.int64(3), 4], [3, 4]),
    ("lr", "0.1, 1", [0.1, 1.0]),
    ("lr", 0.5, [0.5]),
    ("batch_size", "16,64", [16, 64]),
    ("init", "zeros,he", ["zeros", "he"]),
])
def test_lists_are_parsed(name, given, want):
    assert values(name, given) == want


@pytest.mark.parametrize("name, given, fragment", [
    ("norm", "bn,,none", "empty entry"),
    ("norm", "bn,bn", "twice"),
    ("norm", "batchnorm", "not one of bn, gn, in, ln, none"),
    ("arch", "transformer", "not one of"),
    ("depth", "2,x", "whole number"),
    ("depth", "0", "≥ 1"),
    ("depth", 2.5, "whole number"),
    ("lr", "0.1,0", "> 0"),
    ("lr", "nan", "number"),
    ("lr", "1,inf", "finite"),
    ("batch_size", "64,0", "≥ 1"),
    ("act", "", "empty entry"),
])
def test_bad_lists_name_the_keyword(name, given, fragment):
    with pytest.raises(OptvizError) as err:
        values(name, given)
    assert err.value.param == name
    assert str(err.value).startswith(name) and fragment in str(err.value)


def test_labels_say_what_differs_in_product_order():
    found, varied = variants({"arch": "mlp", "depth": 8, "norm": "bn,none", "lr": "0.1,1", "batch_size": 64})
    assert varied == ("norm", "lr")
    assert [v.label for v in found] == ["norm=bn, lr=0.1", "norm=bn, lr=1", "norm=none, lr=0.1",
                                        "norm=none, lr=1"]
    assert [v.model["norm"] for v in found] == ["bn", "bn", "none", "none"]
    single, varied = variants({"norm": "bn", "lr": None})
    assert varied == () and single[0].label == "" and single[0].lr is None


@pytest.fixture(scope="module")
def norms():
    return optviz.train("moons", "sgd,adam", norm="bn,none", lr=[0.1, 0.3], seeds=2, **SMALL)


def test_every_combination_is_one_labelled_run(norms):
    labels = [r.label for r in norms.first.runs]
    assert labels == ["sgd · norm=bn, lr=0.1", "adam · norm=bn, lr=0.1", "sgd · norm=bn, lr=0.3",
                      "adam · norm=bn, lr=0.3", "sgd · norm=none, lr=0.1", "adam · norm=none, lr=0.1",
                      "sgd · norm=none, lr=0.3", "adam · norm=none, lr=0.3"]
    for run in norms.first.runs:
        assert run.settings["norm"] == run.label.split("norm=")[1].split(",")[0]
        assert run.hyperparameters["lr"] == run.settings["lr"] == float(run.label.rsplit("lr=", 1)[1])
        assert run.status == "ok" and len(run.val_acc) == 2
    assert [len(res.runs) for res in norms.results] == [8, 8]


def test_networks_that_agree_start_from_the_same_weights(norms):
    res = norms.first
    bn, none = res.run("sgd · norm=bn, lr=0.1"), res.run("sgd · norm=none, lr=0.1")
    start_bn, start_none = res.initial_of(bn), res.initial_of(none)
    assert "layer1.norm.gamma" in start_bn and "layer1.norm.gamma" not in start_none
    for name in ("layer1.linear.W", "layer2.linear.W", "head.W"):  # same Linear weights, same seed
        np.testing.assert_array_equal(start_bn[name], start_none[name])
    # runs of the same network share its start, and the models rebuilt are the runs' own
    assert res.initial_of(res.run("adam · norm=none, lr=0.3")) is start_none
    assert res.model("adam · norm=none, lr=0.3").spec["norm"] == "none"
    # another seed: another training (its weights are not kept: only the first seed's are)
    other = norms.results[1]
    assert other.settings.seed == res.settings.seed + 1 and other.initial_state == {}
    assert other.run(bn.label).train_loss != bn.train_loss


def test_json_has_each_runs_own_settings_and_truthful_top_level(norms):
    doc = norms.to_json()
    settings = doc["settings"]
    assert settings["lr"] is None and settings["varied"] == ["norm", "lr"] and settings["threads"] == 1
    assert settings["batch_size"] == 64 and doc["model"]["norm"] is None and doc["model"]["arch"] == "mlp"
    runs = doc["runs"]
    assert len(runs) == 16 and {r["seed"] for r in runs} == {0, 1}
    for r in runs:
        assert r["settings"]["lr"] == r["hyperparameters"]["lr"]
        assert r["settings"]["norm"] in ("bn", "none") and r["settings"]["depth"] == 2
        assert r["settings"]["batch_size"] == 64 and r["settings"]["steps_per_epoch"] == 3
        assert r["best_epoch"] in (1, 2)


def test_one_optimizer_one_value_keeps_the_plain_label_and_lr():
    report = optviz.train("moons", "momentum", lr=0.2, **SMALL)
    doc = report.to_json()
    assert [r["label"] for r in doc["runs"]] == ["momentum"]
    assert doc["settings"]["lr"] == 0.2 and doc["settings"]["varied"] == []
    defaults = optviz.train("moons", "adam,momentum", **SMALL).to_json()
    assert defaults["settings"]["lr"] is None  # each optimizer its own default
    assert [r["settings"]["lr"] for r in defaults["runs"]] == [1e-3, 0.05]


def test_batch_sizes_are_runs_too():
    report = optviz.train("moons", "sgd", batch_size="16,160", **SMALL)
    runs = report.first.runs
    assert [r.label for r in runs] == ["sgd · batch_size=16", "sgd · batch_size=160"]
    assert [r.settings["steps_per_epoch"] for r in runs] == [10, 1]
    assert [len(r.step_loss) for r in runs] == [20, 2]
    assert report.first.settings.batch_size is None and report.first.settings.steps_per_epoch is None


@pytest.mark.parametrize("kwargs, param", [
    (dict(opt="sgd", lr="0.1,1", params=["sgd.lr=0.3"]), "lr"),
    (dict(opt="gd", batch_size="16,32"), "batch_size"),
    (dict(opt="sgd", norm="bn,none", save_weights=True), "save_weights"),
    (dict(opt="sgd", norm="none", eval_bn="running,batch"), "eval_bn"),
    (dict(opt="sgd", eval_bn="running,median"), "eval_bn"),
    (dict(opt="sgd", eval_bn="batch:1"), "eval_bn"),
    (dict(opt="sgd", threads=0), "threads"),
    (dict(opt="sgd", depth="2,0"), "depth"),
    (dict(opt="sgd", target="label"), "target"),
    (dict(opt="sgd", data="digits", samples=50), "samples"),
])
def test_refused_before_any_training(kwargs, param):
    args = {**SMALL, "data": "moons", **kwargs}
    data = args.pop("data")
    opt = args.pop("opt")
    with pytest.raises(OptvizError) as err:
        optviz.train(data, opt, **args)
    assert err.value.param == param, str(err.value)
    assert "--" not in str(err.value)
