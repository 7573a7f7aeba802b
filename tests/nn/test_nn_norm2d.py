"""BatchNorm2d, GroupNorm, InstanceNorm2d and LayerNorm2d: statistics by hand, central
differences, the identities between them, and refusals.

Gradient checks: float64, h = 1e-6, gradient_error ≤ 1e-6 (observed around 1e-9).
"""

import numpy as np
import pytest

from optviz.errors import OptvizError
from optviz.nn import (
    BatchNorm1d,
    BatchNorm2d,
    GroupNorm,
    InstanceNorm2d,
    LayerNorm2d,
)
from optviz.nn.gradcheck import gradient_error, numerical_gradient

TOL = 1e-6
F64 = np.float64
EPS = 1e-5


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def check_layer(layer, x, train=True, seed=1):
    """∂l/∂x, ∂l/∂γ and ∂l/∂β of l = Σ R ⊙ layer(x), R random, against central differences."""
    r = np.random.default_rng(seed).normal(size=x.shape)

    def value():
        return float(np.sum(r * layer.forward(x, train)))

    layer.forward(x, train)
    dx = layer.backward(r)
    grads = {k: v.copy() for k, v in layer.grads.items()}
    errors = {"x": gradient_error(dx, numerical_gradient(value, x))}
    for k, p in layer.params.items():
        errors[k] = gradient_error(grads[k], numerical_gradient(value, p))
    assert set(errors) == {"x", "gamma", "beta"}
    assert max(errors.values()) <= TOL, errors
    assert np.linalg.norm(dx) > 1e-3


def randomize_affine(layer, rng):
    shape = layer.params["gamma"].shape
    layer.params["gamma"] = rng.uniform(0.5, 2.0, size=shape)
    layer.params["beta"] = rng.normal(size=shape)
    return layer


def images(rng, shape):
    """Channels with different means and scales, so that the statistics matter."""
    c = shape[1]
    loc = rng.normal(scale=3.0, size=(1, c, 1, 1))
    scale = rng.uniform(0.5, 3.0, size=(1, c, 1, 1))
    return loc + scale * rng.normal(size=shape)


# -- BatchNorm2d ------------------------------------------------------------------------
def test_batchnorm2d_statistics_per_channel_over_n_h_w(rng):
    x = images(rng, (4, 3, 5, 6))
    bn = BatchNorm2d(3, dtype=F64)
    y = bn.forward(x, True)
    mu, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    want = (x - mu[None, :, None, None]) / np.sqrt(var[None, :, None, None] + EPS)
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(bn.buffers["running_mean"], 0.1 * mu, rtol=1e-12)
    np.testing.assert_allclose(bn.buffers["running_var"], 0.9 + 0.1 * var, rtol=1e-12)
    # evaluation normalizes with the running statistics
    x2 = images(rng, (2, 3, 5, 6))
    rm, rv = bn.buffers["running_mean"], bn.buffers["running_var"]
    want2 = (x2 - rm[None, :, None, None]) / np.sqrt(rv[None, :, None, None] + EPS)
    np.testing.assert_allclose(bn.forward(x2, False), want2, rtol=1e-12, atol=1e-12)


def test_batchnorm2d_is_batchnorm1d_over_the_pixel_rows(rng):
    """m → m·p·q: the same numbers as BatchNorm1d on the (N·H·W, C) matrix."""
    x = images(rng, (3, 4, 5, 2))
    dy = rng.normal(size=x.shape)
    bn2, bn1 = randomize_affine(BatchNorm2d(4, dtype=F64), rng), BatchNorm1d(4, dtype=F64)
    bn1.params = {k: v.copy() for k, v in bn2.params.items()}
    rows = x.transpose(0, 2, 3, 1).reshape(-1, 4)
    drows = dy.transpose(0, 2, 3, 1).reshape(-1, 4)
    for train in (True, True, False):
        y2, y1 = bn2.forward(x, train), bn1.forward(rows, train)
        np.testing.assert_allclose(
            y2.transpose(0, 2, 3, 1).reshape(-1, 4), y1, rtol=1e-12, atol=1e-12
        )
        dx2, dx1 = bn2.backward(dy), bn1.backward(drows)
        np.testing.assert_allclose(
            dx2.transpose(0, 2, 3, 1).reshape(-1, 4), dx1, rtol=1e-10, atol=1e-12
        )
        for k in ("gamma", "beta"):
            np.testing.assert_allclose(bn2.grads[k], bn1.grads[k], rtol=1e-10, atol=1e-12)
        for k in ("running_mean", "running_var"):
            np.testing.assert_allclose(bn2.buffers[k], bn1.buffers[k], rtol=1e-12)


@pytest.mark.parametrize(
    "shape", [(4, 3, 3, 5), (1, 2, 3, 3), (3, 2, 1, 1)], ids=["NxHxW", "batch-of-1", "1x1-maps"]
)
def test_batchnorm2d_train_backward(shape, rng):
    check_layer(randomize_affine(BatchNorm2d(shape[1], dtype=F64), rng), images(rng, shape))


def test_batchnorm2d_eval_backward(rng):
    bn = randomize_affine(BatchNorm2d(3, dtype=F64), rng)
    bn.buffers["running_mean"] = rng.normal(size=3)
    bn.buffers["running_var"] = rng.uniform(0.5, 2.0, size=3)
    check_layer(bn, images(rng, (2, 3, 4, 3)), train=False)


def test_batchnorm2d_float32_throughout(rng):
    bn = BatchNorm2d(3)
    x = images(rng, (4, 3, 4, 4)).astype(np.float32)
    y = bn.forward(x, True)
    dx = bn.backward(np.ones_like(y))
    arrays = [y, dx, *bn.grads.values(), *bn.buffers.values(), *bn.params.values()]
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}


def test_batchnorm2d_refuses_a_single_value_per_channel():
    bn = BatchNorm2d(3)
    with pytest.raises(OptvizError) as err:
        bn.forward(np.zeros((1, 3, 1, 1)), True)
    assert "BatchNorm2d(3)" in str(err.value) and "\n" not in str(err.value)
    # evaluation uses the running statistics: one value is fine there
    assert bn.forward(np.ones((1, 3, 1, 1)), False).shape == (1, 3, 1, 1)


# -- GroupNorm, InstanceNorm2d, LayerNorm2d ------------------------------------------------
def test_groupnorm_statistics_by_hand(rng):
    x = images(rng, (2, 6, 3, 4))
    gn = randomize_affine(GroupNorm(3, 6, dtype=F64), rng)
    want = np.empty_like(x)
    for n in range(2):
        for g in range(3):
            block = x[n, 2 * g : 2 * g + 2]
            want[n, 2 * g : 2 * g + 2] = (block - block.mean()) / np.sqrt(block.var() + EPS)
    want = want * gn.params["gamma"][:, None, None] + gn.params["beta"][:, None, None]
    np.testing.assert_allclose(gn.forward(x, True), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gn.forward(x, False), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: GroupNorm(2, 4, dtype=F64), (3, 4, 3, 5)),
        (lambda: GroupNorm(1, 3, dtype=F64), (2, 3, 2, 2)),
        (lambda: GroupNorm(4, 4, dtype=F64), (1, 4, 3, 2)),
        (lambda: GroupNorm(2, 6, dtype=F64), (2, 6, 1, 1)),  # 1×1 maps, 3 channels a group
        (lambda: InstanceNorm2d(3, dtype=F64), (2, 3, 4, 3)),
        (lambda: InstanceNorm2d(2, dtype=F64), (1, 2, 2, 5)),
        (lambda: LayerNorm2d(3, 4, 2, dtype=F64), (2, 3, 4, 2)),
        (lambda: LayerNorm2d(3, 1, 1, dtype=F64), (1, 3, 1, 1)),
    ],
    ids=["gn", "gn1", "gn=in", "gn-1x1", "in", "in-batch1", "ln", "ln-1x1"],
)
def test_sample_norms_backward(make, shape, rng):
    check_layer(randomize_affine(make(), rng), images(rng, shape))


def test_groupnorm_with_one_group_is_layernorm_with_a_per_channel_affine(rng):
    x = images(rng, (3, 4, 5, 2))
    dy = rng.normal(size=x.shape)
    gn = randomize_affine(GroupNorm(1, 4, dtype=F64), rng)
    ln = LayerNorm2d(4, 5, 2, dtype=F64)
    for k in ("gamma", "beta"):  # the per-channel γ, β spread over H and W
        ln.params[k] = np.broadcast_to(gn.params[k][:, None, None], (4, 5, 2)).copy()
    np.testing.assert_allclose(gn.forward(x, True), ln.forward(x, True), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gn.backward(dy), ln.backward(dy), rtol=1e-11, atol=1e-12)
    for k in ("gamma", "beta"):  # LayerNorm2d's gradient summed over H, W is GroupNorm's
        np.testing.assert_allclose(gn.grads[k], ln.grads[k].sum(axis=(1, 2)), rtol=1e-11)


def test_groupnorm_with_c_groups_is_instancenorm(rng):
    x = images(rng, (2, 3, 4, 4))
    dy = rng.normal(size=x.shape)
    gn = randomize_affine(GroupNorm(3, 3, dtype=F64), rng)
    inorm = InstanceNorm2d(3, dtype=F64)
    inorm.params = {k: v.copy() for k, v in gn.params.items()}
    np.testing.assert_array_equal(gn.forward(x, True), inorm.forward(x, True))
    np.testing.assert_array_equal(gn.backward(dy), inorm.backward(dy))
    want = (x - x.mean(axis=(2, 3), keepdims=True)) / np.sqrt(
        x.var(axis=(2, 3), keepdims=True) + EPS
    )
    want = want * gn.params["gamma"][:, None, None] + gn.params["beta"][:, None, None]
    np.testing.assert_allclose(inorm.forward(x, True), want, rtol=1e-12, atol=1e-12)


def test_sample_norms_do_not_depend_on_the_rest_of_the_batch(rng):
    x = images(rng, (3, 4, 3, 3))
    for layer in (
        GroupNorm(2, 4, dtype=F64),
        InstanceNorm2d(4, dtype=F64),
        LayerNorm2d(4, 3, 3, dtype=F64),
    ):
        np.testing.assert_allclose(
            layer.forward(x, True)[1:2], layer.forward(x[1:2], True), rtol=1e-13, atol=1e-13
        )
        assert layer.buffers == {} and layer.kinds == {"gamma": "norm", "beta": "norm"}


@pytest.mark.parametrize(
    "layer, x, name",
    [
        (InstanceNorm2d(3), np.zeros((2, 3, 1, 1)), "InstanceNorm2d(3)"),
        (GroupNorm(3, 3), np.zeros((2, 3, 1, 1)), "GroupNorm(3, 3)"),
        (LayerNorm2d(1, 1, 1), np.zeros((2, 1, 1, 1)), "LayerNorm2d(1, 1, 1)"),
        (LayerNorm2d(2, 3, 3), np.zeros((2, 2, 3, 4)), "LayerNorm2d(2, 3, 3)"),
        (GroupNorm(2, 4), np.zeros((2, 3, 4, 4)), "GroupNorm(2, 4)"),
        (BatchNorm2d(2), np.zeros((2, 2, 4)), "BatchNorm2d(2)"),
    ],
)
def test_single_values_and_wrong_shapes_are_refused_naming_the_layer(layer, x, name):
    with pytest.raises(OptvizError) as err:
        layer.forward(x, True)
    assert name in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    "make",
    [
        lambda: GroupNorm(3, 4),
        lambda: GroupNorm(0, 4),
        lambda: InstanceNorm2d(0),
        lambda: BatchNorm2d(-1),
        lambda: LayerNorm2d(2, 0, 3),
        lambda: GroupNorm(2.0, 4),
    ],
)
def test_bad_arguments_are_refused(make):
    with pytest.raises(OptvizError) as err:
        make()
    assert "\n" not in str(err.value)
