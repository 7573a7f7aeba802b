"""Comma lists of the image-model settings (channels, blocks, growth, groups, shortcut,
stages) in ``optviz.train``: parsing, the combinations and their labels, ``groups`` only
where the norm is gn, the same start where the networks agree, per-run settings, and what
is refused before any training."""

from __future__ import annotations

import numpy as np
import pytest

import optviz
import optviz.nn.runarchive as runarchive
from optviz.errors import OptvizError
from optviz.nn.cnn_models import ConvSettings
from optviz.nn.cnn_models import parameter_count as conv_parameter_count
from optviz.nn.variants import MODEL_KEYS, values, variants
from optviz.plot.train_common import default_stem

TINY = dict(arch="resnet-cnn", channels=2, epochs=1, opt="sgd")


def _never(*_):
    raise AssertionError("nothing may train before the refusal")


@pytest.mark.parametrize("name, given, want", [
    ("channels", "8,16", [8, 16]),
    ("channels", 8, [8]),
    ("blocks", " 1 , 3 ", [1, 3]),
    ("blocks", [np.int64(2)], [2]),
    ("growth", "4,12", [4, 12]),
    ("groups", "2,4", [2, 4]),
    ("shortcut", "conv1x1,none", ["conv1x1", "none"]),
    ("shortcut", ["none"], ["none"]),
    ("stages", "1,2", [1, 2]),
])
def test_image_lists_are_parsed(name, given, want):
    assert values(name, given) == want


@pytest.mark.parametrize("name, given, fragment", [
    ("channels", "8,,16", "empty entry"),
    ("channels", "8,", "empty entry"),
    ("shortcut", "conv1x1,conv1x1", "lists 'conv1x1' twice"),
    ("blocks", "2, 2", "lists 2 twice"),
    ("shortcut", "conv1x1,identity", "'identity' is not one of conv1x1, none"),
    ("shortcut", "1x1", "not one of conv1x1, none"),
    ("blocks", "1.5", "whole number"),
    ("blocks", "2x2", "whole number"),
    ("growth", 2.5, "whole number"),
    ("groups", "2,x", "whole number"),
    ("stages", "0", "≥ 1"),
    ("channels", "-3", "≥ 1"),
    ("channels", b"8,16", "got bytes"),  # iterable, but its items are byte values (56, 44, …)
    ("groups", {2, 4}, "got set"),
    ("blocks", {1: 2}, "got dict"),
])
def test_bad_image_lists_name_the_keyword(name, given, fragment):
    with pytest.raises(OptvizError) as err:
        values(name, given)
    assert err.value.param == name
    assert str(err.value).startswith(name) and fragment in str(err.value), str(err.value)


def test_image_settings_are_network_settings_in_product_order():
    assert {"channels", "blocks", "growth", "groups", "shortcut", "stages"} <= set(MODEL_KEYS)
    found, varied = variants({"arch": "resnet-cnn", "channels": "4,8", "shortcut": "conv1x1,none", "lr": "0.1,1"})
    assert varied == ("channels", "shortcut", "lr") and len(found) == 8
    assert [v.label for v in found[:4]] == ["channels=4, shortcut=conv1x1, lr=0.1", "channels=4, shortcut=conv1x1, lr=1",
                                            "channels=4, shortcut=none, lr=0.1", "channels=4, shortcut=none, lr=1"]
    assert found[-1].model == {"arch": "resnet-cnn", "channels": 8, "shortcut": "none"}


def test_groups_shape_only_the_gn_networks():
    found, varied = variants({"arch": "resnet-cnn", "norm": "bn,gn,ln", "groups": "2,4"})
    assert varied == ("norm", "groups")
    assert [v.label for v in found] == ["norm=bn", "norm=gn, groups=2", "norm=gn, groups=4", "norm=ln"]
    assert [v.model.get("groups") for v in found] == [None, 2, 4, None]
    one, varied = variants({"arch": "resnet-cnn", "norm": "bn,gn", "groups": 4})
    assert varied == ("norm",) and [v.model.get("groups") for v in one] == [None, 4]


@pytest.fixture(scope="module")
def shortcuts():
    return optviz.train("digits", "sgd", arch="resnet-cnn", channels=2, shortcut="conv1x1,none", lr="0.05,0.1",
                        epochs=1)


def test_every_shortcut_is_one_labelled_run(shortcuts):
    res = shortcuts.first
    assert [r.label for r in res.runs] == ["sgd · shortcut=conv1x1, lr=0.05", "sgd · shortcut=conv1x1, lr=0.1",
                                           "sgd · shortcut=none, lr=0.05", "sgd · shortcut=none, lr=0.1"]
    assert all(r.status == "ok" and len(r.val_acc) == 1 for r in res.runs)
    assert [r.settings["shortcut"] for r in res.runs] == ["conv1x1", "conv1x1", "none", "none"]
    assert res.model("sgd · shortcut=none, lr=0.1").spec["shortcut"] == "none"
    doc = shortcuts.to_json()
    assert doc["settings"]["varied"] == ["shortcut", "lr"]
    assert doc["model"]["shortcut"] is None and doc["model"]["channels"] == 2
    assert {r["settings"]["channels"] for r in doc["runs"]} == {2}
    assert default_stem(res) == "digits_resnet-cnn-c2-b1-bn-shortcut-conv1x1-none_sgd"


def test_networks_that_agree_start_from_the_same_weights(shortcuts):
    res = shortcuts.first
    one, other = res.run("sgd · shortcut=conv1x1, lr=0.05"), res.run("sgd · shortcut=none, lr=0.05")
    start, start_none = res.initial_of(one), res.initial_of(other)
    assert res.initial_of(res.run("sgd · shortcut=conv1x1, lr=0.1")) is start  # one network, one start
    assert "stage2.block1.shortcut.W" in start and "stage2.block1.shortcut.W" not in start_none
    # built from the same seed: the layers before the missing shortcut are the same
    for name in ("stem.conv.W", "stage1.block1.conv1.W", "stage2.block1.conv1.W", "stage2.block1.conv2.W"):
        np.testing.assert_array_equal(start[name], start_none[name])


def test_a_comparison_of_norms_gives_groups_to_gn():
    report = optviz.train("digits", "sgd", arch="resnet-cnn", channels=4, norm="bn,gn", groups=4, epochs=1)
    runs = report.first.runs
    assert [r.label for r in runs] == ["sgd · norm=bn", "sgd · norm=gn"]
    assert report.first.spec_of(runs[1])["groups"] == 4
    assert "groups" not in runs[0].settings and runs[1].settings["groups"] == 4
    assert default_stem(report.first) == "digits_resnet-cnn-c4-b1-bn-gn-groups4_sgd"  # the gn networks' groups
    model = report.to_json()["model"]  # what the networks share; not the bn network's unused default groups
    assert model["groups"] is None and model["norm"] is None and model["channels"] == 4


@pytest.mark.parametrize("kwargs, param, fragment", [
    (dict(arch="resnet-cnn,lenet", blocks=2), "blocks", "does not apply to arch='lenet'"),
    (dict(arch="resnet-cnn,mlp", channels="2,4"), "channels", "not to arch='mlp'"),
    (dict(shortcut="conv1x1,none", arch="cnn,resnet-cnn"), "shortcut", "arch='cnn'"),
    (dict(norm="bn,none", groups="2,4"), "groups", "not of norm='bn,none'"),
    (dict(shortcut="conv1x1,none", save_weights=True), "save_weights", "shortcut lists several"),
    (dict(channels="2,100000"), "channels", "parameters would need"),
    (dict(norm="gn", channels="4,6", groups=4), "groups", "divisor of 6"),
    (dict(channels="2,64", batch_size=1024), "batch_size", "a training batch of 1024 images"),
    # one stage: no block changes shape, both shortcuts would train the same network
    (dict(stages=1, shortcut="none"), "shortcut", "with stages=1 no block changes shape"),
    # the MLPs' settings with image models alone: they would train identical networks under two labels
    (dict(depth="2,4"), "depth", "shapes the MLPs (arch mlp, resnet), not arch='resnet-cnn'"),
    (dict(width=64, arch="cnn,lenet"), "width", "the image models have channels"),
    (dict(channels="2,5000"), "channels", "with channels=5000, a network of"),  # names the network of the list
    (dict(stages=1, shortcut="conv1x1,none"), "shortcut", "every shortcut is the identity"),
])
def test_refused_before_any_training(kwargs, param, fragment):
    args = {**TINY, **kwargs}
    with pytest.raises(OptvizError) as err:
        optviz.train("digits", args.pop("opt"), **args, callback=_never)
    assert err.value.param == param and fragment in str(err.value), str(err.value)


def test_the_run_file_budget_counts_the_variants_own_network(monkeypatch):
    def size(channels: int) -> int:
        n = conv_parameter_count("resnet-cnn", ConvSettings((1, 8, 8), channels))
        return runarchive.run_file_bytes(n, [2], 1797 * 65, 4)

    monkeypatch.setattr(runarchive, "MAX_TOTAL_BYTES", (size(2) + size(16)) // 2)
    with pytest.raises(OptvizError) as err:
        optviz.train("digits", "sgd", arch="resnet-cnn", channels=16, epochs=1, save_weights=True, callback=_never)
    assert err.value.param == "save_weights" and "over its budget" in str(err.value)
    report = optviz.train("digits", "sgd", arch="resnet-cnn", channels=2, epochs=1, save_weights=True)
    assert report.first.runs[0].status == "ok"


def test_a_shortcut_on_images_too_small_for_a_second_stage_is_refused():
    """4×4 images get one stage by default: a given shortcut would change nothing."""
    with pytest.raises(OptvizError) as err:
        optviz.api.network.build_network("digits", arch="resnet-cnn", stages=1, shortcut="none")
    assert err.value.param == "shortcut" and "stages=1" in str(err.value)
    from optviz.nn.image_settings import check_shortcut_used

    with pytest.raises(OptvizError, match=r"4×4 images \(one stage\)"):
        check_shortcut_used({"arch": "resnet-cnn", "shortcut": "none"}, (1, 4, 4), 16)
    check_shortcut_used({"arch": "resnet-cnn", "shortcut": "none"}, (1, 8, 8), 64)  # two stages: used
    check_shortcut_used({"arch": "resnet-cnn"}, (1, 4, 4), 16)  # not given: nothing to refuse


def test_build_network_takes_one_value():
    assert optviz.api.build_network(arch="resnet-cnn", channels="4", shortcut=["none"]).spec["channels"] == 4
    with pytest.raises(OptvizError) as err:
        optviz.api.build_network(arch="resnet-cnn", channels="4,8")
    assert err.value.param == "channels" and "a network has one" in str(err.value)


def test_a_list_of_groups_beside_a_list_of_norms_trains_bn_once():
    report = optviz.train("digits", "sgd", arch="resnet-cnn", channels=4, norm="bn,gn", groups="2,4", epochs=1)
    res = report.first
    assert [r.label for r in res.runs] == ["sgd · norm=bn", "sgd · norm=gn, groups=2", "sgd · norm=gn, groups=4"]
    assert [res.spec_of(r)["groups"] for r in res.runs[1:]] == [2, 4]
    assert default_stem(res) == "digits_resnet-cnn-c4-b1-bn-gn-groups2-4_sgd"


def test_a_shortcut_shapes_only_the_networks_of_more_than_one_stage():
    """--stages 1,2 --shortcut conv1x1,none: the one-stage network has no block that changes
    shape, so it is trained once and its label does not name a shortcut."""
    found, varied = variants({"arch": "resnet-cnn", "stages": "1,2", "shortcut": "conv1x1,none"})
    assert [v.label for v in found] == ["stages=1", "shortcut=conv1x1, stages=2", "shortcut=none, stages=2"]
    assert "shortcut" not in found[0].model and found[2].model["shortcut"] == "none"


def test_depth_shapes_only_the_mlps_of_a_list_of_archs():
    found, _ = variants({"arch": "mlp,resnet-cnn", "depth": "2,4", "width": 128})
    assert [v.label for v in found] == ["arch=mlp, depth=2", "arch=mlp, depth=4", "arch=resnet-cnn"]
    assert "depth" not in found[2].model and "width" not in found[2].model
