"""Layer semantics: BatchNorm statistics and closed form, LayerNorm, dropout, init, the Model API."""

import numpy as np
import pytest

from optviz.errors import OptvizError
from optviz.nn import (
    BatchNorm1d,
    Dropout,
    LayerNorm,
    Linear,
    build_model,
    he_normal,
    he_uniform,
    softmax_cross_entropy,
    xavier_normal,
    xavier_uniform,
    zeros,
)
from optviz.nn.init import get_initializer

EPS = 1e-5


def seed_closed_form(dy, x, gamma):
    """Seed 003 §8.3 written out with explicit loops over features j and samples i."""
    m, d = x.shape
    dx = np.zeros_like(x)
    dgamma = np.zeros(d)
    dbeta = np.zeros(d)
    for j in range(d):
        xs = x[:, j]
        mu = sum(xs[i] for i in range(m)) / m
        var = sum((xs[i] - mu) ** 2 for i in range(m)) / m
        std = np.sqrt(var + EPS)
        xhat = [(xs[i] - mu) / std for i in range(m)]
        dxhat = [dy[i, j] * gamma[j] for i in range(m)]
        dvar = sum(dxhat[i] * (xs[i] - mu) * (-0.5) * (var + EPS) ** -1.5 for i in range(m))
        dmu = sum(dxhat[i] * (-1 / std) for i in range(m)) + dvar * (-2 / m) * sum(
            xs[i] - mu for i in range(m)
        )
        for i in range(m):
            dx[i, j] = dxhat[i] / std + dvar * 2 * (xs[i] - mu) / m + dmu / m
        dgamma[j] = sum(dy[i, j] * xhat[i] for i in range(m))
        dbeta[j] = sum(dy[i, j] for i in range(m))
    return dx, dgamma, dbeta


# -- BatchNorm ------------------------------------------------------------------------
def test_batchnorm_backward_is_the_seed_closed_form():
    rng = np.random.default_rng(0)
    x = rng.normal(loc=1.5, scale=2.0, size=(7, 4))
    dy = rng.normal(size=(7, 4))
    bn = BatchNorm1d(4, dtype=np.float64)
    bn.params["gamma"] = rng.uniform(0.5, 2.0, size=4)
    bn.forward(x, True)
    dx = bn.backward(dy)
    want_dx, want_dgamma, want_dbeta = seed_closed_form(dy, x, bn.params["gamma"])
    # same formula, different summation order: agreement to rounding (≤ 1e-12 relative)
    np.testing.assert_allclose(dx, want_dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(bn.grads["gamma"], want_dgamma, rtol=1e-12)
    np.testing.assert_allclose(bn.grads["beta"], want_dbeta, rtol=1e-12)
    # and the well-known compact form (1/m)·γ/σ·(m dy − Σdy − x̂ Σ dy x̂)
    xhat = (x - x.mean(0)) / np.sqrt(x.var(0) + EPS)
    compact = (
        bn.params["gamma"]
        / np.sqrt(x.var(0) + EPS)
        / 7
        * (7 * dy - dy.sum(0) - xhat * (dy * xhat).sum(0))
    )
    np.testing.assert_allclose(dx, compact, rtol=1e-10, atol=1e-12)


def test_batchnorm_train_forward_statistics_and_running_update():
    rng = np.random.default_rng(1)
    x = rng.normal(loc=3.0, scale=2.0, size=(10, 3))
    bn = BatchNorm1d(3, dtype=np.float64)
    y = bn.forward(x, True)
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(0), x.var(0) / (x.var(0) + EPS), rtol=1e-12)
    # running ← 0.9 running + 0.1 batch, from mean 0 and var 1, biased batch variance
    np.testing.assert_allclose(bn.buffers["running_mean"], 0.1 * x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(bn.buffers["running_var"], 0.9 + 0.1 * x.var(0), rtol=1e-12)
    x2 = rng.normal(size=(10, 3))
    bn.forward(x2, True)
    np.testing.assert_allclose(
        bn.buffers["running_mean"], 0.9 * 0.1 * x.mean(0) + 0.1 * x2.mean(0), rtol=1e-12
    )


def test_batchnorm_eval_uses_running_statistics():
    bn = BatchNorm1d(2, dtype=np.float64)
    bn.params["gamma"] = np.array([2.0, 0.5])
    bn.params["beta"] = np.array([1.0, -1.0])
    bn.buffers["running_mean"] = np.array([3.0, -2.0])
    bn.buffers["running_var"] = np.array([4.0, 0.25])
    x = np.array([[5.0, -1.0]])  # a single sample is fine in evaluation
    y = bn.forward(x, False)
    want = np.array([[2.0 * 2 / np.sqrt(4 + EPS) + 1, 0.5 * 1 / np.sqrt(0.25 + EPS) - 1]])
    np.testing.assert_allclose(y, want, rtol=1e-12)
    before = {k: v.copy() for k, v in bn.buffers.items()}
    bn.forward(np.ones((5, 2)), False)
    for k in before:  # evaluation leaves the running statistics alone
        np.testing.assert_array_equal(bn.buffers[k], before[k])


def test_batchnorm_refuses_a_training_batch_of_one():
    bn = BatchNorm1d(3)
    with pytest.raises(OptvizError, match="at least 2 samples"):
        bn.forward(np.ones((1, 3), dtype=np.float32), True)
    model = build_model("mlp", 3, 2, 2, 4, "bn")
    with pytest.raises(OptvizError, match="at least 2 samples"):
        model.forward(np.ones((1, 3)), True)
    assert model.forward(np.ones((1, 3)), False).shape == (1, 2)


@pytest.mark.parametrize("layer_cls", [BatchNorm1d, LayerNorm])
def test_constant_feature_stays_finite(layer_cls):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 3))
    x[:, 1] = 7.0  # a constant column: variance 0
    if layer_cls is LayerNorm:
        x = np.full((6, 3), 7.0)  # a constant sample: variance 0 over its features
    layer = layer_cls(3, dtype=np.float64)
    y = layer.forward(x, True)
    dx = layer.backward(rng.normal(size=(6, 3)))
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))
    assert all(np.all(np.isfinite(g)) for g in layer.grads.values())
    if layer_cls is BatchNorm1d:
        np.testing.assert_allclose(y[:, 1], 0.0, atol=1e-12)


def test_layernorm_normalizes_each_sample_and_has_no_running_stats():
    rng = np.random.default_rng(3)
    x = rng.normal(loc=2.0, scale=3.0, size=(4, 6))
    ln = LayerNorm(6, dtype=np.float64)
    y = ln.forward(x, True)
    np.testing.assert_allclose(y.mean(1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(1), x.var(1) / (x.var(1) + EPS), rtol=1e-12)
    np.testing.assert_array_equal(y, ln.forward(x, False))
    assert ln.buffers == {}


# -- dropout --------------------------------------------------------------------------
def test_dropout_is_inverted_seeded_and_off_in_eval():
    x = np.ones((200, 50), dtype=np.float32)
    drop = Dropout(0.3, np.random.default_rng(4))
    y = drop.forward(x, True)
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01  # 10 000 draws: 3 standard errors ≈ 0.014/1.5
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    np.testing.assert_array_equal(drop.backward(np.ones_like(x)), y)  # ∂l/∂x = mask
    np.testing.assert_array_equal(drop.forward(x, False), x)
    np.testing.assert_array_equal(drop.backward(x), x)
    again = Dropout(0.3, np.random.default_rng(4)).forward(x, True)
    np.testing.assert_array_equal(again, y)
    with pytest.raises(OptvizError, match="dropout"):
        Dropout(1.0)


def test_model_dropout_masks_repeat_after_reseeding():
    model = build_model("mlp", 3, 2, 2, 8, "none", dropout=0.5, seed=1)
    x = np.random.default_rng(0).normal(size=(5, 3))
    model.seed_dropout(9)
    a = model.forward(x, True)
    b = model.forward(x, True)
    model.seed_dropout(9)
    c = model.forward(x, True)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(model.forward(x, False), model.forward(x, False))


# -- initialization -----------------------------------------------------------------------
N_IN, N_OUT = 300, 400  # 120 000 draws: sample variance within 2 % (≈ 5 standard errors)


@pytest.mark.parametrize(
    ("fn", "var", "bound"),
    [
        (xavier_uniform, 2 / (N_IN + N_OUT), np.sqrt(6 / (N_IN + N_OUT))),
        (he_uniform, 2 / N_IN, np.sqrt(6 / N_IN)),
        (xavier_normal, 2 / (N_IN + N_OUT), None),
        (he_normal, 2 / N_IN, None),
    ],
)
def test_init_bounds_and_variance(fn, var, bound):
    w = fn(N_IN, N_OUT, np.random.default_rng(5))
    assert w.shape == (N_IN, N_OUT)
    assert abs(w.mean()) < 4 * np.sqrt(var / w.size)
    assert w.var() == pytest.approx(var, rel=0.02)
    if bound is not None:
        assert np.abs(w).max() <= bound
        assert np.abs(w).max() > 0.999 * bound
    else:  # normal: the fourth moment is 3σ⁴ (uniform would give 1.8σ⁴)
        assert np.mean(w**4) / w.var() ** 2 == pytest.approx(3.0, rel=0.05)


def test_init_zeros_seeded_and_names():
    assert not zeros(3, 4).any()
    a = he_uniform(3, 4, np.random.default_rng(1))
    np.testing.assert_array_equal(a, he_uniform(3, 4, np.random.default_rng(1)))
    assert get_initializer("he") is he_uniform and get_initializer("xavier") is xavier_uniform
    with pytest.raises(OptvizError, match="unknown init 'kaiming'.*he_normal"):
        get_initializer("kaiming")
    assert Linear(3, 4, "he", np.random.default_rng(0), np.float64).params["b"].tolist() == [0] * 4


def test_zero_init_shows_the_symmetry_problem():
    model = build_model("mlp", 3, 2, 1, 4, "none", init="zeros", dtype=np.float64)
    x = np.random.default_rng(0).normal(size=(6, 3))
    _, dout = softmax_cross_entropy(model.forward(x, True), np.array([0, 1, 0, 1, 1, 0]))
    grads = model.backward(dout)
    assert not grads["layer1.linear.W"].any()  # every hidden unit gets the same (zero) update


# -- the Model API --------------------------------------------------------------------------
def test_model_names_kinds_and_dtype():
    model = build_model("resnet", 3, 2, depth=4, width=5, norm="bn", act="prelu", seed=0)
    params = model.params
    assert "block2.linear1.W" in params and "block1.shortcut.W" in params
    assert "block2.shortcut.W" not in params  # width unchanged: identity shortcut
    assert model.param_kinds["block2.linear1.W"] == "weight"
    assert model.param_kinds["block2.linear1.b"] == "bias"
    assert model.param_kinds["block1.norm2.gamma"] == "norm"
    assert model.param_kinds["block1.act1.alpha"] == "prelu"
    assert model.param_kinds["head.W"] == "weight"
    assert set(model.running_stats) == {
        f"block{b}.norm{n}.running_{s}" for b in (1, 2) for n in (1, 2) for s in ("mean", "var")
    }
    assert all(v.dtype == np.float32 for v in params.values())
    assert model.forward(np.ones((4, 3)), True).dtype == np.float32
    m64 = build_model("mlp", 3, 2, depth=2, width=5, dtype=np.float64)
    assert all(v.dtype == np.float64 for v in m64.params.values())
    assert [k for k in m64.params if k.endswith("W")] == [
        "layer1.linear.W",
        "layer2.linear.W",
        "head.W",
    ]


@pytest.mark.parametrize(("depth", "blocks"), [(1, 1), (2, 1), (3, 2), (4, 2), (6, 3)])
def test_resnet_depth_counts_trunk_linear_layers(depth, blocks):
    model = build_model("resnet", 4, 2, depth=depth, width=4, norm="ln")
    names = {k.split(".")[0] for k in model.params}
    assert names == {f"block{i}" for i in range(1, blocks + 1)} | {"head"}


def test_mlp_depth_zero_is_logistic_regression():
    assert list(build_model("mlp", 4, 3, depth=0).params) == ["head.W", "head.b"]


def test_zero_init_residual_default_only_without_norm():
    plain = build_model("resnet", 4, 2, depth=4, width=4, norm="none")
    assert not plain.params["block2.linear2.W"].any()
    assert plain.params["block2.linear1.W"].any()
    assert build_model("resnet", 4, 2, depth=4, width=4, norm="bn").params["block2.linear2.W"].any()


def test_zero_init_residual_keeps_a_deep_plain_resnet_in_range():
    """The documented reason: without it the signal variance about doubles per block."""
    x = np.random.default_rng(0).normal(size=(256, 8))
    kw = dict(arch="resnet", in_dim=8, out_dim=4, depth=40, width=64, norm="none")
    tame = build_model(**kw).forward(x, False).std()
    wild = build_model(**kw, zero_init_residual=False).forward(x, False).std()
    assert tame < 10 and wild > 100 * tame


def test_params_assignment_and_state_round_trip():
    rng = np.random.default_rng(6)
    model = build_model("mlp", 3, 2, 2, 4, "bn", seed=0, dtype=np.float64)
    x = rng.normal(size=(8, 3))
    model.forward(x, True)
    state = model.get_state()
    assert set(state) == set(model.params) | set(model.running_stats)
    before = model.forward(x, False)
    model.params = {k: v + 1.0 for k, v in model.params.items()}
    model.forward(rng.normal(size=(8, 3)), True)  # moves the running statistics
    assert not np.allclose(model.forward(x, False), before)
    model.set_state(state)
    np.testing.assert_array_equal(model.forward(x, False), before)
    state["head.W"][:] = 99  # get_state gave copies, set_state copied them in
    assert not (model.params["head.W"] == 99).any()


def test_params_assignment_is_checked():
    model = build_model("mlp", 3, 2, 1, 4, "none")
    params = model.params
    with pytest.raises(OptvizError, match="missing"):
        model.params = {k: v for k, v in params.items() if k != "head.b"}
    with pytest.raises(OptvizError, match="shape"):
        model.params = {**params, "head.b": np.zeros(3)}
    model.params = {k: v.astype(np.float64) for k, v in params.items()}
    assert model.params["head.W"].dtype == np.float32  # cast to the model's dtype


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"arch": "conv"}, "arch must be one of mlp, resnet, cnn, resnet-cnn, densenet, lenet, got 'conv'"),
        ({"norm": "gn"}, "norm must be one of bn, ln, none, got 'gn'"),
        ({"act": "swish"}, "activation 'swish'"),
        ({"init": "orthogonal"}, "init 'orthogonal'"),
        ({"dropout": 1.5}, "dropout"),
        ({"width": 0}, "width"),
    ],
)
def test_build_model_refuses_bad_settings(kwargs, match):
    with pytest.raises(OptvizError, match=match):
        build_model(**{"in_dim": 3, "out_dim": 2, **kwargs})
