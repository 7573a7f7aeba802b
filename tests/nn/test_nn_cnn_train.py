"""Training the image models: records per layer and per channel, loss landscapes with filter
normalization per convolution filter, and the saved run reloaded."""

import numpy as np
import pytest

from optviz.nn import load_digits, train
from optviz.nn.data import Dataset
from optviz.nn.landscape import landscape
from optviz.nn.planes import filter_normalized, random_plane
from optviz.nn.records import unflatten_params


@pytest.fixture(scope="module")
def small_digits():
    data = load_digits()
    keep = np.random.default_rng(0).permutation(len(data.y))[:200]
    return Dataset(data.X[keep], data.y[keep], data.classes, data.feature_names, "digits", data.image_shape)


@pytest.fixture(scope="module")
def trained(small_digits):
    return train(small_digits, ["adam"], model={"arch": "resnet-cnn", "channels": 4}, epochs=2, batch_size=32,
                 lr=3e-3, record_weights=3)


def test_an_image_model_trains_and_records_per_layer_and_per_channel(trained):
    run = trained.runs[0]
    assert run.status == "ok" and len(run.val_acc) == 2
    assert run.train_loss[1] < run.train_loss[0]
    # gradient norms of every layer with parameters, BatchNorm statistics per channel
    assert {"stem.conv", "stage1.block1.conv2", "stage2.block1.shortcut", "head"} <= set(run.grad_norms)
    assert all(v.shape == (2,) and np.all(v > 0) for v in run.grad_norms.values())
    assert run.running_stats["stage2.block1.norm2.running_var"].shape == (2, 8)
    assert run.running_stats["stem.norm.running_mean"].shape == (2, 4)


def test_filter_normalization_rescales_each_convolution_filter():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(5, 3, 3, 3))
    w[2] = 0  # a zero filter gives a zero direction
    d = filter_normalized(rng.normal(size=w.shape), w)
    assert np.allclose(np.linalg.norm(d.reshape(5, -1), axis=1), np.linalg.norm(w.reshape(5, -1), axis=1))
    assert not d[2].any()
    lin = rng.normal(size=(4, 6))
    dl = filter_normalized(rng.normal(size=lin.shape), lin)
    assert np.allclose(np.linalg.norm(dl, axis=0), np.linalg.norm(lin, axis=0))


def test_random_plane_of_an_image_model_is_filter_normalized(trained):
    plane = random_plane(trained, include_bn=False, seed=3)
    d1 = unflatten_params(plane.d1, trained.param_layout)
    final = trained.runs[0].final_state
    for name, w in final.items():
        if name.endswith("conv1.W") or name == "stem.conv.W":
            norms = np.linalg.norm(d1[name].reshape(len(w), -1), axis=1)
            assert np.allclose(norms, np.linalg.norm(w.reshape(len(w), -1), axis=1), rtol=1e-5)
        elif name.endswith((".gamma", ".beta")):
            assert not d1[name].any()  # normalization parameters stay at θ*


def test_landscape_of_an_image_model(trained):
    land = landscape(trained, plane="random", resolution=3)
    assert land.loss.shape == (3, 3) and np.all(np.isfinite(land.loss))
    assert land.origin_loss == pytest.approx(land.loss[1, 1], rel=1e-5)
    pca = landscape(trained, plane="pca", resolution=3)
    assert pca.path.shape[1] == 2 and len(pca.path) >= 3


def test_a_saved_image_model_run_reloads_with_its_model(trained, tmp_path):
    from optviz.nn import load_run, save_run

    path = save_run(tmp_path / "run.npz", trained)
    again = load_run(path)
    assert again.model_spec["image_shape"] == [1, 8, 8] and again.model_spec["channels"] == 4
    x = trained.split.X_val[:5]
    assert np.array_equal(again.model().infer(x), trained.model().infer(x))
