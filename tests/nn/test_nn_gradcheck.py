"""Every backward pass against central finite differences, in float64.

Tolerance: gradient_error ≤ 1e-6 per array, i.e. ‖analytic − numeric‖₂ ≤
1e-6·max(‖analytic‖₂, ‖numeric‖₂, 1e-2): a relative error of 1e-6, or an absolute one of
1e-8 for gradients that are zero up to rounding (biases just before BatchNorm). h = 1e-6;
observed errors are around 1e-9.
"""

import numpy as np
import pytest

from optviz.nn import (
    ELU,
    BatchNorm1d,
    Dropout,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    PReLU,
    ReLU,
    ResidualBlock,
    Sigmoid,
    Tanh,
    binary_cross_entropy,
    binary_focal_loss,
    build_model,
    focal_loss,
    l1_loss,
    l1_penalty,
    l2_penalty,
    mse_loss,
    named_leaves,
    smooth_l1_loss,
    softmax_cross_entropy,
)
from optviz.nn.gradcheck import check_model_gradients, gradient_error, numerical_gradient

TOL = 1e-6
F64 = np.float64


def away_from_kinks(rng, shape, margin=0.05):
    """Inputs with |x| ≥ margin, so a step of h never crosses a ReLU-type kink."""
    x = rng.normal(size=shape)
    return np.where(np.abs(x) < margin, np.sign(x + 1e-12) * margin + x, x)


def check_layer(layer, x, train=True, seed=1):
    """Check ∂l/∂x and every ∂l/∂param of l = Σ R ⊙ layer(x), R random."""
    rng = np.random.default_rng(seed)
    r = rng.normal(size=layer.forward(x, train).shape)

    def value():
        return float(np.sum(r * layer.forward(x, train)))

    layer.forward(x, train)
    dx = layer.backward(r)
    leaves = list(named_leaves(layer))
    grads = {f"{pre}.{k}": v.copy() for pre, leaf in leaves for k, v in leaf.grads.items()}
    params = {f"{pre}.{k}": v for pre, leaf in leaves for k, v in leaf.params.items()}
    assert set(grads) == set(params)
    errors = {"x": gradient_error(dx, numerical_gradient(value, x))}
    for name, p in params.items():
        errors[name] = gradient_error(grads[name], numerical_gradient(value, p))
    assert max(errors.values()) <= TOL, errors
    assert np.linalg.norm(dx) > 0
    return errors


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_numerical_gradient_of_a_known_function():
    x = np.array([0.3, -1.2, 2.0])
    num = numerical_gradient(lambda: float(np.sum(np.sin(x) * x**2)), x)
    exact = np.cos(x) * x**2 + 2 * x * np.sin(x)
    assert gradient_error(exact, num) <= 1e-9


def test_gradient_error_catches_a_wrong_gradient():
    assert gradient_error(np.array([1.0, 2.0]), np.array([1.0, 2.1])) > 1e-2


def test_linear(rng):
    layer = Linear(4, 3, "he", rng, F64)
    layer.params["b"] = rng.normal(size=3)
    check_layer(layer, rng.normal(size=(5, 4)))


@pytest.mark.parametrize("layer_cls", [Sigmoid, Tanh, ReLU, LeakyReLU, ELU, Identity])
def test_activation(layer_cls, rng):
    check_layer(layer_cls(), away_from_kinks(rng, (6, 4)))


def test_activations_with_large_inputs_stay_finite():
    x = np.array([[-800.0, -30.0, 0.0, 30.0, 800.0]])
    for layer in (Sigmoid(), Tanh(), ELU(), LeakyReLU(), ReLU()):
        y = layer.forward(x, True)
        dx = layer.backward(np.ones_like(x))
        assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))


def test_prelu_including_alpha(rng):
    layer = PReLU(4, dtype=F64)
    layer.params["alpha"] = rng.uniform(0.05, 0.5, size=4)
    errors = check_layer(layer, away_from_kinks(rng, (7, 4)))
    assert ".alpha" in errors


def test_batchnorm_train_mode_including_gamma_beta(rng):
    layer = BatchNorm1d(3, dtype=F64)
    layer.params["gamma"] = rng.uniform(0.5, 2.0, size=3)
    layer.params["beta"] = rng.normal(size=3)
    errors = check_layer(layer, rng.normal(loc=2.0, scale=3.0, size=(8, 3)), train=True)
    assert {"x", ".gamma", ".beta"} <= set(errors)


def test_batchnorm_eval_mode(rng):
    layer = BatchNorm1d(3, dtype=F64)
    layer.params["gamma"] = rng.uniform(0.5, 2.0, size=3)
    layer.buffers["running_mean"] = rng.normal(size=3)
    layer.buffers["running_var"] = rng.uniform(0.5, 2.0, size=3)
    check_layer(layer, rng.normal(size=(4, 3)), train=False)


def test_layernorm(rng):
    layer = LayerNorm(5, dtype=F64)
    layer.params["gamma"] = rng.uniform(0.5, 2.0, size=5)
    layer.params["beta"] = rng.normal(size=5)
    check_layer(layer, rng.normal(loc=1.0, scale=2.0, size=(4, 5)))


def test_dropout_with_a_fixed_mask(rng):
    layer = Dropout(0.5, rng)
    x = rng.normal(size=(6, 5))
    layer.fixed_mask = (rng.random((6, 5)) >= 0.5) / 0.5
    check_layer(layer, x, train=True)
    np.testing.assert_array_equal(layer.forward(x, True), x * layer.fixed_mask)


@pytest.mark.parametrize("norm", ["bn", "ln", "none"])
@pytest.mark.parametrize("n_in", [4, 6])
def test_residual_block(norm, n_in, rng):
    block = ResidualBlock(n_in, 4, norm, "prelu", "he", dropout=0.0, rng=rng, dtype=F64)
    for _, leaf in block.children():
        if isinstance(leaf, PReLU):
            leaf.params["alpha"] = rng.uniform(0.05, 0.5, size=4)
    errors = check_layer(block, rng.normal(size=(8, n_in)))
    # the block with a width change has a projection shortcut, else an identity
    assert (block.shortcut is None) == (n_in == 4)
    n_linear = 3 if n_in != 4 else 2
    assert sum(name.endswith(".W") for name in errors) == n_linear


def test_residual_block_with_dropout(rng):
    block = ResidualBlock(4, 4, "bn", "tanh", "he", dropout=0.3, rng=rng, dtype=F64)
    drop = dict(block.children())["drop1"]
    drop.fixed_mask = (rng.random((8, 4)) >= 0.3) / 0.7
    check_layer(block, rng.normal(size=(8, 4)))


# -- losses ----------------------------------------------------------------------------
def check_loss(loss_fn, z, target, **kw):
    _, grad = loss_fn(z, target, **kw)
    num = numerical_gradient(lambda: loss_fn(z, target, **kw)[0], z)
    assert grad.shape == z.shape
    err = gradient_error(grad, num)
    assert err <= TOL, err


def test_softmax_cross_entropy_grad(rng):
    check_loss(softmax_cross_entropy, rng.normal(size=(6, 4)) * 3, rng.integers(0, 4, 6))


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 3.0])
@pytest.mark.parametrize("alpha", [None, 0.25, np.array([0.1, 0.2, 0.3, 0.4])])
def test_focal_loss_grad(gamma, alpha, rng):
    check_loss(
        focal_loss, rng.normal(size=(6, 4)) * 2, rng.integers(0, 4, 6), gamma=gamma, alpha=alpha
    )


def test_bce_grad(rng):
    check_loss(binary_cross_entropy, rng.normal(size=(7, 1)) * 3, rng.integers(0, 2, (7, 1)))


@pytest.mark.parametrize("gamma", [0.0, 2.0])
def test_binary_focal_grad(gamma, rng):
    check_loss(binary_focal_loss, rng.normal(size=8) * 3, rng.integers(0, 2, 8), gamma=gamma)


@pytest.mark.parametrize("loss_fn", [mse_loss, l1_loss, smooth_l1_loss])
def test_regression_loss_grads(loss_fn, rng):
    target = rng.normal(size=(5, 3))
    # offsets of either sign, away from |d| = 0 and |d| = β = 1 where L1/smooth L1 have kinks
    d = rng.choice([-1, 1], size=(5, 3)) * rng.choice([0.3, 0.6, 1.5, 2.5], size=(5, 3))
    check_loss(loss_fn, target + d, target)


def test_smooth_l1_other_beta(rng):
    target = rng.normal(size=6)
    check_loss(
        smooth_l1_loss, target + np.array([0.1, -0.2, 0.7, -1.4, 3.0, -0.05]), target, beta=0.5
    )


@pytest.mark.parametrize("penalty", [l2_penalty, l1_penalty])
def test_penalty_grads(penalty, rng):
    model = build_model("mlp", 3, 2, 2, 4, "bn", "prelu", seed=1, dtype=F64)
    params, kinds = model.params, model.param_kinds
    _, grads = penalty(params, kinds, 0.3)
    for name in grads:
        num = numerical_gradient(lambda: penalty(params, kinds, 0.3)[0], params[name])
        assert gradient_error(grads[name], num) <= TOL


# -- whole models ------------------------------------------------------------------------
MODEL_CASES = [
    (arch, norm, act)
    for arch in ("mlp", "resnet")
    for norm in ("bn", "ln", "none")
    for act in ("relu", "prelu", "tanh")
]


@pytest.mark.parametrize(("arch", "norm", "act"), MODEL_CASES)
def test_whole_model(arch, norm, act, rng):
    model = build_model(arch, 5, 3, depth=3, width=6, norm=norm, act=act, seed=3, dtype=F64)
    if norm == "none" and arch == "resnet":
        # zero-initialized W2 would make the W1 gradients trivially zero: start elsewhere
        model.params = {k: v + 0.3 * rng.normal(size=v.shape) for k, v in model.params.items()}
    x = rng.normal(size=(10, 5))
    y = rng.integers(0, 3, 10)
    errors = check_model_gradients(model, x, y)
    assert set(errors) == set(model.params)
    assert max(errors.values()) <= TOL, {k: v for k, v in errors.items() if v > TOL}


@pytest.mark.parametrize("arch", ["mlp", "resnet"])
def test_whole_model_with_dropout_and_eval_mode(arch, rng):
    model = build_model(
        arch, 4, 3, depth=2, width=5, norm="bn", act="elu", dropout=0.3, seed=5, dtype=F64
    )
    x = rng.normal(size=(9, 4))
    y = rng.integers(0, 3, 9)
    errors = check_model_gradients(model, x, y, train=True)
    assert max(errors.values()) <= TOL, errors
    # evaluation mode: running statistics, no dropout
    model.forward(x, True)
    errors = check_model_gradients(model, x, y, train=False)
    assert max(errors.values()) <= TOL, errors


@pytest.mark.parametrize("loss_fn", [focal_loss, mse_loss])
def test_whole_model_other_losses(loss_fn, rng):
    model = build_model("mlp", 4, 3, depth=2, width=5, norm="ln", act="sigmoid", seed=2, dtype=F64)
    x = rng.normal(size=(6, 4))
    y = rng.integers(0, 3, 6) if loss_fn is focal_loss else rng.normal(size=(6, 3))
    errors = check_model_gradients(model, x, y, loss=loss_fn)
    assert max(errors.values()) <= TOL, errors
