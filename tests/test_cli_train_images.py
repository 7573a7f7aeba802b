"""``optviz train`` on the image models: the options that shape them, the summary, the user's
image files (.npz, idx with --labels), and every bad image option refused on one line."""

from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from tests.test_cli_train_bad_input import assert_refused, cli  # noqa: F401  (fixture)


def idx_bytes(a: np.ndarray) -> bytes:
    return bytes([0, 0, 8, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.astype(">u1").tobytes()


def small_images(n: int = 60, side: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Two classes told apart by where the bright square is."""
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    X = rng.integers(0, 40, size=(n, side, side))
    for i, label in enumerate(y):
        X[i, :4, :4] += 200 if label == 0 else 0
        X[i, 4:, 4:] += 200 if label == 1 else 0
    return X.clip(0, 255).astype(np.uint8), y.astype(np.uint8)


IMAGE_BAD = [
    (["--arch", "mlp", "--channels", "8"], ("--channels", "--arch cnn", "not to --arch mlp")),
    (["--arch", "resnet", "--blocks", "2"], ("--blocks", "image models")),
    (["--arch", "lenet", "--stages", "2"], ("--stages", "does not apply to --arch lenet")),
    (["--arch", "lenet", "--blocks", "2"], ("--blocks", "--arch lenet")),
    (["--arch", "cnn", "--shortcut", "none"], ("--shortcut", "--arch cnn", "resnet-cnn")),
    (["--arch", "resnet-cnn", "--growth", "4"], ("--growth", "densenet")),
    (["--arch", "resnet-cnn", "--groups", "4"], ("--groups", "--norm gn", "--norm bn")),
    (["--arch", "resnet-cnn", "--norm", "gn", "--groups", "3"], ("--groups", "stem", "divisor of 32")),
    (["--arch", "resnet-cnn", "--norm", "gn", "--groups", "0"], ("--groups", "≥ 1")),
    (["--arch", "resnet-cnn", "--channels", "0"], ("--channels", "≥ 1")),
    (["--arch", "resnet-cnn", "--channels", "-3"], ("--channels",)),
    (["--arch", "densenet", "--growth", "0"], ("--growth",)),
    (["--arch", "resnet-cnn", "--stages", "0"], ("--stages",)),
    (["--arch", "resnet-cnn", "--blocks", "0"], ("--blocks",)),
    (["--arch", "resnet-cnn", "--shortcut", "identity"], ("--shortcut",)),
    (["--arch", "mlp", "--norm", "gn"], ("--norm", "bn, ln, none")),
    (["--arch", "lenet", "--norm", "in"], ("layer fc1", "--norm in", "one value")),
    (["--arch", "resnet-cnn", "--norm", "xx"], ("--norm",)),
    (["--arch", "resnet-cnn", "--channels", "100000"], ("--channels",)),
    (["--arch", "lenet", "--data", "moons"], ("image_shape", "2 inputs")),
    (["--arch", "resnet-cnn", "--data", "missing.npz"], ("missing.npz", "no such file")),
    (["--arch", "resnet-cnn", "--data", "images.idx"], ("--labels", "idx image file")),
    (["--arch", "resnet-cnn", "--data", "digits", "--labels", "labels.idx"], ("--labels", "own labels")),
    (["--arch", "resnet-cnn", "--data", "images.idx", "--labels", "missing.idx"], ("missing.idx",)),
    (["--arch", "resnet-cnn", "--data", "images.idx", "--labels", "short.idx"], ("labels",)),
    (["--arch", "resnet-cnn", "--data", "notimages.npz"], ("notimages.npz",)),
]


@pytest.fixture
def image_files(tmp_path: Path) -> Path:
    X, y = small_images()
    (tmp_path / "images.idx").write_bytes(idx_bytes(X))
    (tmp_path / "labels.idx").write_bytes(idx_bytes(y))
    (tmp_path / "short.idx").write_bytes(idx_bytes(y[:10]))
    (tmp_path / "notimages.npz").write_bytes(b"PK\x03\x04 not a zip at all")
    return tmp_path


@pytest.mark.parametrize("args, fragments", IMAGE_BAD, ids=[" ".join(a)[:50] for a, _ in IMAGE_BAD])
@pytest.mark.parametrize("summary", [False, True], ids=["train", "summary"])
def test_bad_image_model_options_are_refused_on_one_line(args, fragments, summary, image_files, cli):  # noqa: F811
    out = image_files / "out"
    before = sorted(p.name for p in image_files.iterdir())
    proc = cli(["train", *args, "--out", str(out), "--epochs", "1", *(["--summary"] if summary else [])],
               image_files)
    assert_refused(proc, fragments, out)
    assert sorted(p.name for p in image_files.iterdir() if p.name != "out") == before


@pytest.mark.parametrize("arch, extra, rows", [
    ("resnet-cnn", [], ("stem.conv", "Conv2d(1→32", "stage2.block1.shortcut", "13×13", "total: 77,226")),
    ("cnn", ["--channels", "8", "--blocks", "2"], ("stage2.block2.conv2", "Conv2d(16→16")),
    ("densenet", ["--growth", "4", "--norm", "gn", "--groups", "2"], ("dense1.layer1", "GroupNorm", "trans1")),
    ("lenet", ["--norm", "ln"], ("conv1.conv", "LayerNorm", "fc2.linear", "Linear(120→84)")),
    ("resnet-cnn", ["--shortcut", "none", "--norm", "ln"], ("LayerNorm",)),
])
def test_summary_prints_the_network_and_trains_nothing(arch, extra, rows, tmp_path, cli):  # noqa: F811
    out = tmp_path / "out"
    proc = cli(["train", "--arch", arch, *extra, "--summary", "--out", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    for row in rows:
        assert row in proc.stdout, (row, proc.stdout)
    if "--shortcut" in extra:
        assert "shortcut" not in proc.stdout.split("layer", 1)[1]
    assert not out.exists()


def test_an_image_model_trains_from_the_command_line_on_idx_files(image_files, cli):  # noqa: F811
    gz = image_files / "images.idx.gz"
    gz.write_bytes(gzip.compress((image_files / "images.idx").read_bytes()))
    out = image_files / "out"
    proc = cli(["train", "--data", str(gz), "--labels", "labels.idx", "--arch", "resnet-cnn", "--channels", "4",
                "--norm", "gn", "--groups", "2", "--opt", "adam", "--lr", "0.01", "--epochs", "3",
                "--batch-size", "16", "--json", "--out", str(out), "--diagnostics"], image_files)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["model"]["arch"] == "resnet-cnn" and doc["model"]["channels"] == 4
    assert doc["model"]["norm"] == "gn" and doc["model"]["groups"] == 2
    assert doc["data"]["n_features"] == 64 and len(doc["runs"][0]["val_acc"]) == 3
    assert doc["runs"][0]["val_acc"][-1] >= 0.9  # the bright square's corner is easy to see
    names = sorted(p.name for p in out.iterdir())
    assert "images_resnet-cnn-c4-b1-gn-groups2_adam_diagnostics.png" in names, names


def test_the_default_epochs_of_an_image_model_are_ten(tmp_path, cli):  # noqa: F811
    X, y = small_images(24)
    np.savez(tmp_path / "tiny.npz", X=X[:, None], y=y)
    proc = cli(["train", "--data", "tiny.npz", "--arch", "lenet", "--channels", "2", "--opt", "sgd",
                "--json", "--no-plot"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["settings"]["epochs"] == 10 and len(doc["runs"][0]["val_acc"]) == 10


IMAGE_LIST_BAD = [
    (["--arch", "resnet-cnn,lenet", "--blocks", "2"], ("--blocks does not apply to --arch lenet",)),
    (["--arch", "cnn,resnet-cnn", "--shortcut", "conv1x1,none"], ("--shortcut", "--arch cnn")),
    (["--arch", "resnet-cnn", "--norm", "bn,none", "--groups", "2,4"], ("--groups", "not of --norm bn,none")),
    (["--arch", "resnet-cnn", "--shortcut", "conv1x1,,none"], ("--shortcut has an empty entry",)),
    (["--arch", "resnet-cnn", "--shortcut", "none,none"], ("--shortcut lists 'none' twice",)),
    (["--arch", "resnet-cnn", "--shortcut", "conv1x1,identity"], ("--shortcut 'identity' is not one of",)),
    (["--arch", "resnet-cnn", "--channels", "4,8.5"], ("--channels must be whole numbers", "'8.5'")),
    (["--arch", "resnet-cnn", "--blocks", "2x2"], ("--blocks must be whole numbers",)),
    (["--arch", "resnet-cnn", "--channels", "4,100000"], ("--channels", "parameters")),
    (["--arch", "resnet-cnn", "--shortcut", "conv1x1,none", "--save-run", "run.npz"],
     ("--save-run keeps one network", "--shortcut lists several")),
]


@pytest.mark.parametrize("args, fragments", IMAGE_LIST_BAD, ids=[" ".join(a)[:50] for a, _ in IMAGE_LIST_BAD])
def test_bad_image_lists_are_refused_on_one_line(args, fragments, image_files, cli):  # noqa: F811
    out = image_files / "out"
    before = sorted(p.name for p in image_files.iterdir())
    proc = cli(["train", "--data", "images.idx", "--labels", "labels.idx", *args, "--out", str(out),
                "--epochs", "1"], image_files)
    assert_refused(proc, fragments, out)
    assert sorted(p.name for p in image_files.iterdir() if p.name != "out") == before


@pytest.mark.parametrize("option", ["--channels", "--blocks", "--shortcut"])
def test_the_summary_of_an_image_list_is_refused(option, tmp_path, cli):  # noqa: F811
    value = {"--channels": "4,8", "--blocks": "1,2", "--shortcut": "conv1x1,none"}[option]
    proc = cli(["train", "--arch", "resnet-cnn", option, value, "--summary"], tmp_path)
    assert_refused(proc, ("--summary prints one network", f"{option} {value} lists several"), tmp_path / "out")


def test_shortcuts_compared_in_one_command(image_files, cli):  # noqa: F811
    out = image_files / "out"
    proc = cli(["train", "--data", "images.idx", "--labels", "labels.idx", "--arch", "resnet-cnn", "--channels", "2",
                "--shortcut", "conv1x1,none", "--opt", "adam", "--epochs", "1", "--batch-size", "16", "--json",
                "--out", str(out)], image_files)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [r["label"] for r in doc["runs"]] == ["adam · shortcut=conv1x1", "adam · shortcut=none"]
    assert [r["settings"]["shortcut"] for r in doc["runs"]] == ["conv1x1", "none"]
    assert doc["settings"]["varied"] == ["shortcut"] and doc["model"]["shortcut"] is None
    assert sorted(p.name for p in out.iterdir()) == ["images_resnet-cnn-c2-b1-bn-shortcut-conv1x1-none_adam_curves.png"]


def test_the_json_of_two_image_models_says_what_was_built(tmp_path, cli):  # noqa: F811
    out = tmp_path / "out"
    proc = cli(["train", "--arch", "resnet-cnn,cnn", "--channels", "8", "--norm", "bn", "--opt", "adam",
                "--epochs", "1", "--json", "--out", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    model = doc["model"]
    assert model["stages"] == 2 and model["image_shape"] == [1, 8, 8] and model["channels"] == 8
    assert not {"depth", "width", "groups"} & set(model), model
    assert [r["settings"]["stages"] for r in doc["runs"]] == [2, 2]
    assert sorted(p.name for p in out.iterdir()) == ["digits_resnet-cnn-cnn-c8-b1-bn_adam_curves.png"]
