"""The training loop: same start for every optimizer, divergence handling, records."""

import numpy as np
import pytest

from optviz.errors import OptvizError
from optviz.nn import Split, build_model, load_digits, make_moons, softmax_cross_entropy
from optviz.nn.train import train

pytest.importorskip("optviz.optim")


def small_split(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    return Split(X[: n - 10], y[: n - 10], X[n - 10 :], y[n - 10 :])


def test_records_have_one_entry_per_epoch():
    result = train(
        make_moons(120, seed=1),
        ["minibatch", "adam"],
        model={"depth": 2, "width": 8, "norm": "bn", "dropout": 0.1},
        epochs=3,
        batch_size=16,
        lr=0.05,
    )
    assert [r.label for r in result.runs] == ["minibatch", "adam"]
    for run in result.runs:
        assert run.status == "ok" and not run.diverged
        for series in (
            run.train_loss,
            run.val_loss,
            run.val_acc,
            run.train_acc,
            run.lr,
            run.epoch_time,
        ):
            assert len(series) == 3 and all(np.isfinite(series))
        assert len(run.step_loss) == 3 * result.settings["steps_per_epoch"]
        assert set(run.grad_norms) == {
            "layer1.linear",
            "layer1.norm",
            "layer2.linear",
            "layer2.norm",
            "head",
        }
        assert all(v.shape == (3,) and np.all(v > 0) for v in run.grad_norms.values())
        assert run.running_stats["layer1.norm.running_var"].shape == (3, 8)
        assert all(v.dtype == np.float32 for v in run.final_state.values())
    assert result.data_info["n_train"] == 96 and result.data_info["n_val"] == 24


def test_every_optimizer_starts_from_the_same_weights_and_batches():
    kw = dict(model={"depth": 2, "width": 8, "norm": "bn", "dropout": 0.2}, epochs=2, batch_size=8)
    result = train(small_split(), [("adam", {"lr": 0.01}), ("adam", {"lr": 0.01})], **kw)
    a, b = result.runs
    assert a.label != b.label  # duplicates are told apart
    assert a.step_loss == b.step_loss
    for k in a.final_state:
        np.testing.assert_array_equal(a.final_state[k], b.final_state[k])
    # the first step's loss is the same for every optimizer: it is computed at the start
    other = train(small_split(), [("momentum", {"lr": 0.3}), ("rmsprop", {"lr": 0.01})], **kw)
    assert other.runs[0].step_loss[0] == other.runs[1].step_loss[0] == a.step_loss[0]
    for k, v in result.initial_state.items():
        np.testing.assert_array_equal(v, other.initial_state[k])


def test_a_diverging_optimizer_stops_alone():
    result = train(
        make_moons(200),
        [("minibatch", {"lr": 1e3}), ("adam", {"lr": 0.01})],
        model={"depth": 3, "width": 64, "norm": "none"},
        epochs=4,
        batch_size=16,
    )
    bad, good = result.runs
    assert bad.status.startswith("diverged at epoch ") and bad.diverged
    k = int(bad.status.rsplit(" ", 1)[1])
    assert len(bad.train_loss) == k - 1
    assert good.status == "ok" and len(good.val_acc) == 4


def test_newton_is_refused_for_networks():
    with pytest.raises(OptvizError, match="Hessian"):
        train(small_split(), ["newton"], epochs=1)


def test_one_full_batch_step_is_gradient_descent_with_weight_decay():
    split = small_split()
    lam, lr = 0.05, 0.1
    spec = {"depth": 1, "width": 4, "norm": "bn", "act": "tanh", "dtype": np.float64, "seed": 3}
    result = train(
        split, [("gd", {"lr": lr})], model=spec, epochs=1, batch_size=30, weight_decay=lam
    )
    model = build_model(in_dim=3, out_dim=2, **spec)
    params = model.params
    _, dout = softmax_cross_entropy(model.forward(split.X_train, True), split.y_train)
    grads = model.backward(dout)
    for name, p in params.items():
        decay = 2 * lam * p if model.param_kinds[name] == "weight" else 0.0
        want = p - lr * (grads[name] + decay)
        np.testing.assert_allclose(result.runs[0].final_state[name], want, rtol=1e-12, atol=1e-14)


def test_weight_decay_and_l1_shrink_weights():
    kw = dict(model={"depth": 1, "width": 16, "norm": "none"}, epochs=5, batch_size=10, lr=0.1)
    plain = train(small_split(60), ["minibatch"], **kw).runs[0].final_state["layer1.linear.W"]
    decayed = train(small_split(60), ["minibatch"], weight_decay=0.05, **kw).runs[0]
    sparse = train(small_split(60), ["minibatch"], l1=0.02, **kw).runs[0]
    assert np.linalg.norm(decayed.final_state["layer1.linear.W"]) < np.linalg.norm(plain)
    assert np.abs(sparse.final_state["layer1.linear.W"]).sum() < np.abs(plain).sum()


def test_epoch_schedule_and_leftover_single_sample():
    # 31 training samples in batches of 2: the lone last sample joins the previous batch
    split = small_split(41)
    result = train(
        split,
        ["minibatch"],
        model={"depth": 1, "width": 4, "norm": "bn"},
        epochs=3,
        batch_size=2,
        lr=0.1,
        schedule="exp:0.5",
        schedule_unit="epoch",
    )
    run = result.runs[0]
    assert run.status == "ok"
    np.testing.assert_allclose(run.lr, [0.1, 0.05, 0.025], rtol=1e-12)
    assert result.settings["steps_per_epoch"] == 15


def test_digits_learns():
    result = train(
        load_digits(), [("adam", {"lr": 0.003})], model={"depth": 2, "width": 64}, epochs=4
    )
    assert result.runs[0].val_acc[-1] > 0.9


def test_bad_settings_are_refused():
    with pytest.raises(OptvizError, match="epochs"):
        train(small_split(), ["adam"], epochs=0)
    with pytest.raises(OptvizError, match="loss"):
        train(small_split(), ["adam"], loss="hinge")
    with pytest.raises(OptvizError, match="unknown optimizer"):
        train(small_split(), ["adamw2"])
    with pytest.raises(OptvizError, match="unknown model setting.*layers"):
        train(small_split(), ["adam"], model={"layers": 3})
    with pytest.raises(OptvizError, match="in_dim=5"):
        train(small_split(), ["adam"], model=build_model(in_dim=5, out_dim=2))
