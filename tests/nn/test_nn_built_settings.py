"""What optviz records and prints about the networks it trained says what was built: each
run's ``settings`` (the settings that shape its network, with the values it was built
with), the ``model`` of the JSON document (JSON types; the settings that shape at least one
network, null where the networks differ), and the figure names, subtitles and table title
(an image model's own settings, never an MLP's depth and width)."""

from __future__ import annotations

import json

import pytest

import optviz
from optviz.nn.data import load_digits
from optviz.nn.train import train
from optviz.plot.train_common import default_stem, subtitle
from optviz.report import train_table

MLP_ONLY = {"depth", "width"}
IMAGE_ONLY = {"channels", "blocks", "growth", "groups", "shortcut", "stages"}


def _round_trip(doc: dict) -> dict:
    return json.loads(json.dumps(doc, allow_nan=False))


def _table_title(report) -> str:
    from rich.console import Console

    console = Console(width=300, record=True)
    console.print(train_table(report.results))
    return console.export_text().splitlines()[0]


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@pytest.fixture(scope="module")
def two_image_models():
    """``optviz train --arch resnet-cnn,cnn --channels 8 --norm bn --opt adam --epochs 1``."""
    return optviz.train("digits", "adam", arch="resnet-cnn,cnn", channels=8, norm="bn", epochs=1)


@pytest.fixture(scope="module")
def mlp_and_image():
    return optviz.train("digits", "adam", arch="mlp,resnet-cnn", depth=2, width=16, epochs=1)


# ------------------------------------------------------------------------- JSON model


def test_the_json_model_of_image_models_keeps_json_types_and_only_their_settings(two_image_models):
    doc = two_image_models.to_json()
    assert _round_trip(doc) == doc
    model = doc["model"]
    assert model["image_shape"] == [1, 8, 8]  # a list, not the string "[1, 8, 8]"
    assert model["stages"] == 2  # built: two stages for 8×8 images, not the string "None"
    assert model["channels"] == 8 and model["blocks"] == 1 and model["norm"] == "bn"
    assert model["arch"] is None  # varied
    assert model["shortcut"] is None  # shapes the resnet-cnn only: the networks differ
    for absent in ("depth", "width", "groups", "growth"):  # shape neither network
        assert absent not in model, (absent, model)
    assert not any(isinstance(v, str) and (v == "None" or v.startswith("[")) for v in model.values()), model


def test_the_json_model_of_an_mlp_beside_an_image_model(mlp_and_image):
    doc = mlp_and_image.to_json()
    assert _round_trip(doc) == doc
    model = doc["model"]
    # each setting shapes one of the two networks: listed, null as they differ
    for key in ("arch", "depth", "width", "channels", "blocks", "stages", "shortcut", "image_shape",
                "zero_init_residual"):
        assert key in model and model[key] is None, (key, model)
    assert model["norm"] == "bn" and model["in_dim"] == 64 and model["dtype"] == "float32"
    assert "groups" not in model and "growth" not in model
    mlp, cnn = (r["settings"] for r in doc["runs"])
    assert mlp["depth"] == 2 and mlp["width"] == 16 and not IMAGE_ONLY & set(mlp)
    assert cnn["channels"] == 32 and cnn["stages"] == 2 and cnn["shortcut"] == "conv1x1"
    assert not MLP_ONLY & set(cnn) and "groups" not in cnn


def test_the_json_model_of_one_mlp_is_unchanged_but_for_the_image_settings():
    doc = optviz.train("moons", "sgd", arch="mlp", depth=2, width=8, epochs=1).to_json()
    model = doc["model"]
    assert model["depth"] == 2 and model["width"] == 8 and model["arch"] == "mlp"
    assert not IMAGE_ONLY & set(model) and "image_shape" not in model
    assert "zero_init_residual" not in model  # a plain MLP has no residual block


# ------------------------------------------------------------------- run settings


@pytest.mark.parametrize("model, want, absent", [
    ({"arch": "resnet-cnn"}, {"channels": 32, "blocks": 1, "stages": 2, "shortcut": "conv1x1"},
     MLP_ONLY | {"groups", "growth"}),
    ({"arch": "cnn", "channels": 4}, {"channels": 4, "blocks": 1, "stages": 2}, MLP_ONLY | {"groups", "shortcut"}),
    ({"arch": "densenet", "blocks": 1}, {"channels": 16, "growth": 12, "stages": 2}, MLP_ONLY | {"groups"}),
    ({"arch": "lenet"}, {"channels": 6}, MLP_ONLY | {"blocks", "stages", "groups", "shortcut", "growth"}),
    ({"arch": "resnet-cnn", "channels": 4, "norm": "gn"}, {"groups": 2, "norm": "gn"}, MLP_ONLY),
    # one stage: no block changes shape, the shortcut shapes nothing
    ({"arch": "resnet-cnn", "channels": 2, "stages": 1}, {"stages": 1}, MLP_ONLY | {"shortcut"}),
    ({"arch": "mlp", "depth": 1, "width": 8}, {"depth": 1, "width": 8}, IMAGE_ONLY),
])
def test_each_run_records_the_settings_its_network_was_built_with(digits, model, want, absent):
    res = train(digits, ["sgd"], model=model, epochs=1, lr=0.05)
    settings = res.runs[0].settings
    assert {k: settings.get(k) for k in want} == want, settings
    assert not absent & set(settings), settings
    assert settings["batch_size"] == 64 and settings["lr"] == 0.05 and settings["dtype"] == "float32"


def test_runs_that_never_started_record_the_network_they_would_have_built():
    def stop(label, epoch, run):
        raise KeyboardInterrupt

    report = optviz.train("digits", "sgd", arch="mlp,resnet-cnn", depth=1, width=8, epochs=1, callback=stop)
    first, second = report.first.runs
    assert second.status == "not started"
    assert second.settings["channels"] == 32 and second.settings["stages"] == 2
    assert not MLP_ONLY & set(second.settings) and not IMAGE_ONLY & set(first.settings)
    assert report.to_json()["model"]["depth"] is None


# ------------------------------------------------------------- figure names and words


def test_the_stem_of_image_models_names_their_channels_not_depth_and_width(two_image_models):
    stem = default_stem(two_image_models.first)
    assert stem == "digits_resnet-cnn-cnn-c8-b1-bn_adam", stem


def test_the_stem_of_an_mlp_beside_an_image_model_names_each_part(mlp_and_image):
    assert default_stem(mlp_and_image.first) == "digits_mlp2-w16-resnet-cnn-c32-b1-bn_adam"


def test_groups_and_given_stages_are_in_the_stem_so_figures_are_not_overwritten():
    def stem(**kwargs):
        return default_stem(optviz.train("digits", "sgd", arch="resnet-cnn", epochs=1, **kwargs).first)

    four = stem(channels=8, norm="bn,gn", groups=4)
    eight = stem(channels=8, norm="gn", groups=8)
    assert four == "digits_resnet-cnn-c8-b1-bn-gn-groups4_sgd"
    assert eight == "digits_resnet-cnn-c8-b1-gn-groups8_sgd"
    assert stem(channels=2, stages=1) == "digits_resnet-cnn-c2-b1-stages1-bn_sgd"
    assert stem(channels=2, shortcut="none") == "digits_resnet-cnn-c2-b1-noshort-bn_sgd"


def test_the_subtitle_says_what_the_image_models_are(two_image_models, mlp_and_image):
    words = subtitle(two_image_models.first)
    assert "8 channels, 1 block per stage" in words and "depth" not in words and "width" not in words, words
    mixed = subtitle(mlp_and_image.first)
    assert "mlp: depth 2, width 16" in mixed and "resnet-cnn: 32 channels, 1 block per stage" in mixed, mixed


def test_the_subtitle_names_groups_and_given_stages():
    report = optviz.train("digits", "sgd", arch="resnet-cnn", channels=4, norm="bn,gn", groups=4, stages=1,
                          epochs=1)
    words = subtitle(report.first)
    assert "resnet-cnn, 4 channels, 1 block per stage, 1 stage" in words and "gn: 4 groups" in words, words
    assert "4 groups" in _table_title(report)


def test_the_table_title_claims_no_depth_for_image_models(two_image_models, mlp_and_image):
    title = _table_title(two_image_models)
    assert "8 channels" in title and "depth" not in title and "width" not in title, title
    mixed = _table_title(mlp_and_image)
    assert "mlp: depth 2, width 16" in mixed and "resnet-cnn: 32 channels" in mixed, mixed


def _result(specs: list[dict], varied: tuple[str, ...]):
    """A result of one sgd run per network spec (nothing trained: names read only the specs)."""
    from optviz.nn.records import OptimizerRun, TrainResult, TrainSettings

    runs = [OptimizerRun(f"sgd #{i}", "sgd", {}, model_spec=spec) for i, spec in enumerate(specs)]
    settings = TrainSettings(epochs=1, batch_size=64, lr=0.1, schedule=None, schedule_unit="step",
                             loss="cross_entropy", weight_decay=0.0, l1=0.0, seed=0, val_fraction=0.2,
                             steps_per_epoch=23, record_weights=None, max_snapshots=100, varied=varied)
    return TrainResult(runs, specs[0], settings, {"name": "digits"}, {})


def test_a_long_stem_is_cut_with_a_digest_that_keeps_different_networks_apart():
    def specs(groups: int) -> list[dict]:
        return [{"arch": arch, "in_dim": 64, "image_shape": [1, 8, 8], "norm": norm, "act": act, "groups": groups}
                for arch in ("resnet-cnn", "cnn", "densenet", "lenet") for norm in ("bn", "gn", "in", "ln", "none")
                for act in ("relu", "elu", "tanh")]

    varied = ("arch", "norm", "act")
    two, four = (default_stem(_result(specs(g), varied)) for g in (2, 4))
    assert two != four and two.startswith("digits_resnet-cnn-cnn-c32-b1-densenet-c16-b1-g12-lenet-c6-"), (two, four)
    model = two.split("_")[1]
    assert len(model) <= 60 and model[-9] == "-" and all(c in "0123456789abcdef" for c in model[-8:]), model
