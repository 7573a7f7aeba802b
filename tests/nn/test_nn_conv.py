"""Conv2d, pooling, GlobalAvgPool2d and Flatten: hand-computed values, central differences,
output sizes, memory layouts and refusals.

Gradient checks run in float64 with h = 1e-6 and tolerance gradient_error ≤ 1e-6 (a
relative error of 1e-6 in the 2-norm; observed errors are around 1e-9).
"""

import numpy as np
import pytest

from optviz.errors import OptvizError
from optviz.nn import (
    AvgPool2d,
    Conv2d,
    Flatten,
    GlobalAvgPool2d,
    MaxPool2d,
    Sequential,
    named_leaves,
)
from optviz.nn.gradcheck import gradient_error, numerical_gradient
from optviz.nn.images import conv_output_size

TOL = 1e-6
F64 = np.float64


def check_layer(layer, x, train=True, seed=1, input_grad=True):
    """∂l/∂x and every ∂l/∂param of l = Σ R ⊙ layer(x), R random, against central differences."""
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
    errors = {
        name: gradient_error(grads[name], numerical_gradient(value, p))
        for name, p in params.items()
    }
    if input_grad:
        assert dx.shape == x.shape
        errors["x"] = gradient_error(dx, numerical_gradient(value, x))
        assert np.linalg.norm(dx) > 0
    assert max(errors.values()) <= TOL, errors
    return errors


def conv_by_definition(x, W, b, s, p):
    """y[n,o,i,j] = b[o] + Σ_{c,u,v} W[o,c,u,v] x̃[n,c,i·s+u,j·s+v], with explicit loops."""
    n, c, h, w = x.shape
    o, _, k, _ = W.shape
    xp = np.zeros((n, c, h + 2 * p, w + 2 * p))
    xp[:, :, p : p + h, p : p + w] = x
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    y = np.zeros((n, o, ho, wo))
    for a in range(n):
        for q in range(o):
            for i in range(ho):
                for j in range(wo):
                    y[a, q, i, j] = b[q] + np.sum(
                        W[q] * xp[a, :, i * s : i * s + k, j * s : j * s + k]
                    )
    return y


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def conv64(rng, c_in, c_out, k, s=1, p=0):
    layer = Conv2d(c_in, c_out, k, stride=s, padding=p, rng=rng, dtype=F64)
    layer.params["b"] = rng.normal(size=c_out)
    return layer


# -- Conv2d ---------------------------------------------------------------------------
def test_conv_of_a_hand_computed_example():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    layer = Conv2d(1, 1, 2, stride=2, dtype=F64)
    layer.params["W"] = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
    layer.params["b"] = np.array([0.5])
    # each 2×2 window [[a, b], [c, d]] gives a − d + 0.5 = −5 + 0.5
    np.testing.assert_array_equal(layer.forward(x, True), np.full((1, 1, 2, 2), -4.5))
    dx = layer.backward(np.ones((1, 1, 2, 2)))
    np.testing.assert_array_equal(dx[0, 0], np.tile([[1.0, 0.0], [0.0, -1.0]], (2, 2)))
    np.testing.assert_array_equal(layer.grads["b"], [4.0])
    # ∂l/∂W[u, v] = Σ over the windows of x at offset (u, v)
    np.testing.assert_array_equal(
        layer.grads["W"][0, 0],
        [[0 + 2 + 8 + 10, 1 + 3 + 9 + 11], [4 + 6 + 12 + 14, 5 + 7 + 13 + 15]],
    )


@pytest.mark.parametrize(
    "n, c_in, c_out, h, w, k, s, p",
    [
        (2, 3, 4, 6, 6, 3, 1, 1),  # the usual 3×3, padding 1
        (3, 2, 3, 7, 5, 3, 2, 1),  # stride 2, H ≠ W
        (2, 3, 2, 6, 8, 1, 2, 0),  # the 1×1 stride-2 shortcut
        (2, 2, 3, 5, 4, 1, 1, 0),  # 1×1 stride 1: no im2col copy
        (1, 2, 2, 3, 4, 1, 1, 1),  # 1×1 with padding: a zero border around the output
        (1, 2, 2, 5, 6, 3, 1, 0),  # batch of one, no padding
        (2, 1, 2, 8, 7, 4, 3, 2),  # k > s > 1, (n + 2p − k) mod s ≠ 0: unread pixels
        (1, 2, 3, 4, 5, 2, 1, 3),  # padding larger than k − 1
        (2, 1, 3, 5, 9, 3, 1, 1),  # one channel, wide rows: the window matrix built transposed
        (1, 2, 2, 7, 6, 2, 3, 0),  # k < s: phases of ∂x that no kernel tap reaches are 0
        (1, 1, 2, 5, 5, 3, 2, 3),  # stride 2, padding beyond the kernel: taps reaching no pixel
        (2, 2, 1, 3, 4, 3, 4, 1),  # stride larger than the image: one window
        (1, 3, 2, 9, 8, 5, 3, 2),  # 5×5 at stride 3: several taps per phase, partial spans
    ],
)
def test_conv_forward_is_the_definition_and_backward_the_finite_differences(
    n, c_in, c_out, h, w, k, s, p, rng
):
    layer = conv64(rng, c_in, c_out, k, s, p)
    x = rng.normal(size=(n, c_in, h, w))
    want = conv_by_definition(x, layer.params["W"], layer.params["b"], s, p)
    y = layer.forward(x, True)
    assert y.shape == (n, c_out, conv_output_size(h, k, s, p), conv_output_size(w, k, s, p))
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)
    check_layer(layer, x)


@pytest.mark.parametrize("n, c_in, k, s, p", [(3, 3, 3, 1, 1), (5, 2, 3, 2, 1), (4, 4, 2, 1, 0), (2, 3, 5, 1, 2)])
def test_conv_in_chunks_of_samples_is_the_same_convolution(n, c_in, k, s, p, rng, monkeypatch):
    """Training builds the window matrix a few samples at a time (conv.CHUNK_BYTES); one
    sample per chunk must give the values of the whole-batch path and of the definition."""
    import optviz.nn.conv as conv

    layer = conv64(rng, c_in, 3, k, s, p)
    x = np.ascontiguousarray(rng.normal(size=(n, 7, 6, c_in))).transpose(0, 3, 1, 2)  # channels-last
    dy = rng.normal(size=layer.forward(x, True).shape)
    monkeypatch.setattr(conv, "CHUNK_BYTES", 0)
    y0, dx0 = layer.forward(x, True).copy(), layer.backward(dy).copy()
    grads0 = {k: v.copy() for k, v in layer.grads.items()}
    monkeypatch.setattr(conv, "CHUNK_BYTES", 1)  # one sample per chunk
    y = layer.forward(x, True)
    assert layer._cache[0][0] == "chunks" and layer._cache[0][2] == 1
    dx = layer.backward(dy)
    np.testing.assert_allclose(y, conv_by_definition(x, layer.params["W"], layer.params["b"], s, p), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y, y0, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(dx, dx0, rtol=1e-13, atol=1e-13)
    for name, g in grads0.items():
        np.testing.assert_allclose(layer.grads[name], g, rtol=1e-13, atol=1e-13)
    check_layer(layer, np.ascontiguousarray(x))  # central differences perturb a plain array


@pytest.mark.parametrize("chunk", [0, 1, 512 * 1024])
def test_conv_gradients_do_not_follow_later_changes_of_the_input(chunk, rng, monkeypatch):
    """Without padding, the windows of a channels-last input could be read straight from the
    caller's array; backward must differentiate the input forward saw, even if the caller
    has reused its buffer since."""
    import optviz.nn.conv as conv

    monkeypatch.setattr(conv, "CHUNK_BYTES", chunk)
    layer = conv64(rng, 4, 3, 3, 1, 0)
    x = np.ascontiguousarray(rng.normal(size=(2, 6, 6, 4))).transpose(0, 3, 1, 2)
    kept = x.transpose(0, 2, 3, 1).copy().transpose(0, 3, 1, 2)  # a copy in the same layout
    dy = rng.normal(size=(2, 3, 4, 4))
    layer.forward(x, True)
    x[...] = 0
    dx = layer.backward(dy)
    grads = {k: v.copy() for k, v in layer.grads.items()}
    layer.forward(kept, True)
    np.testing.assert_array_equal(dx, layer.backward(dy))
    for name, g in grads.items():
        np.testing.assert_array_equal(g, layer.grads[name])


@pytest.mark.parametrize("chunk", [0, 512 * 1024])
def test_conv_output_type_is_the_product_type(chunk, monkeypatch):
    """Integer images or a float32 batch into a float64 layer: the output has the type of
    the matrix product, whether or not the windows are built in chunks."""
    import optviz.nn.conv as conv

    monkeypatch.setattr(conv, "CHUNK_BYTES", chunk)
    assert Conv2d(1, 2, 3, padding=1, dtype=np.float32).forward(np.ones((2, 1, 5, 5), np.int64), True).dtype == np.float64
    assert Conv2d(1, 2, 3, padding=1, dtype=F64).forward(np.ones((2, 1, 5, 5), np.float32), True).dtype == F64


def test_conv_on_channels_last_memory_gives_the_same_values(rng):
    layer = conv64(rng, 3, 4, 3, 1, 1)
    x = rng.normal(size=(2, 3, 5, 6))
    x_cl = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    dy = rng.normal(size=(2, 4, 5, 6))
    y1, dx1 = layer.forward(x, True), layer.backward(dy)
    g1 = {k: v.copy() for k, v in layer.grads.items()}
    y2 = layer.forward(x_cl, True)
    dx2 = layer.backward(np.ascontiguousarray(dy.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2))
    np.testing.assert_allclose(y2, y1, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(dx2, dx1, rtol=1e-13, atol=1e-13)
    for k in g1:
        np.testing.assert_allclose(layer.grads[k], g1[k], rtol=1e-13, atol=1e-13)
    # the output is channels-last in memory: its pixel rows are a view
    assert y1.transpose(0, 2, 3, 1).flags.c_contiguous


def test_conv_skip_input_grad_still_gives_parameter_gradients(rng):
    layer = conv64(rng, 1, 3, 3, 1, 1)
    x = rng.normal(size=(2, 1, 5, 5))
    dy = rng.normal(size=(2, 3, 5, 5))
    layer.forward(x, True)
    layer.backward(dy)
    want = {k: v.copy() for k, v in layer.grads.items()}
    layer.skip_input_grad = True
    layer.forward(x, True)
    assert layer.backward(dy) is None
    for k in want:
        np.testing.assert_array_equal(layer.grads[k], want[k])


def test_conv_keeps_float32_and_torch_weight_shape():
    layer = Conv2d(2, 5, 3, padding=1)
    assert layer.params["W"].shape == (5, 2, 3, 3) and layer.params["W"].dtype == np.float32
    assert layer.kinds == {"W": "weight", "b": "bias"}
    x = np.random.default_rng(0).normal(size=(2, 2, 4, 4)).astype(np.float32)
    y = layer.forward(x, True)
    dx = layer.backward(np.ones_like(y))
    assert {y.dtype, dx.dtype, layer.grads["W"].dtype, layer.grads["b"].dtype} == {
        np.dtype(np.float32)
    }
    assert layer.grads["W"].shape == (5, 2, 3, 3)


@pytest.mark.parametrize(
    "init, var",
    [
        ("he", 2 / 288),
        ("he_normal", 2 / 288),
        ("xavier", 2 / (288 + 576)),
        ("xavier_normal", 2 / (288 + 576)),
    ],
)
def test_conv_init_uses_fans_c_in_k2_and_c_out_k2(init, var):
    # c_in = 32, c_out = 64, k = 3: fan_in = 288, fan_out = 576; 18432 draws
    W = Conv2d(32, 64, 3, init=init, rng=np.random.default_rng(0), dtype=F64).params["W"]
    assert W.shape == (64, 32, 3, 3)
    assert abs(W.var() / var - 1) < 0.05
    if init in ("he", "xavier"):
        assert np.abs(W).max() <= np.sqrt(3 * var)
    assert not Conv2d(2, 3, 3, init="zeros").params["W"].any()


def test_conv_output_size_formula():
    assert conv_output_size(8, 3, 1, 1) == 8
    assert conv_output_size(8, 3, 2, 1) == 4
    assert conv_output_size(8, 1, 2, 0) == 4
    assert conv_output_size(7, 3, 2, 0) == 3  # ⌊4/2⌋ + 1
    assert conv_output_size(8, 5, 1, 2) == 8
    assert conv_output_size(3, 5, 1, 0) == -1


# -- pooling --------------------------------------------------------------------------
def distinct(rng, shape):
    """Values at least 0.1 apart, so a step of h never changes which one is the maximum."""
    return rng.permutation(np.arange(np.prod(shape)) * 0.1).reshape(shape) - 1.0


def test_maxpool_hand_example_and_ties_go_to_the_first():
    x = np.array([[[[1.0, 3.0, 2.0, 2.0], [3.0, 0.0, 2.0, 2.0]]]])
    pool = MaxPool2d(2)
    np.testing.assert_array_equal(pool.forward(x, True), [[[[3.0, 2.0]]]])
    dx = pool.backward(np.array([[[[10.0, 20.0]]]]))
    # the first 3 in row-major order (row 0, column 1) and the first 2 (row 0, column 2) win
    np.testing.assert_array_equal(dx, [[[[0, 10, 20, 0], [0, 0, 0, 0]]]])


def test_maxpool_overlapping_windows_add_their_gradients():
    x = np.array([[[[0.0, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]]]])
    pool = MaxPool2d(2, stride=1)
    np.testing.assert_array_equal(pool.forward(x, True), np.full((1, 1, 2, 2), 9.0))
    dx = pool.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    assert dx[0, 0, 1, 1] == 10.0 and dx.sum() == 10.0


def test_avgpool_hand_example():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    pool = AvgPool2d(2)
    np.testing.assert_array_equal(pool.forward(x, True), [[[[2.5, 4.5], [10.5, 12.5]]]])
    dx = pool.backward(np.array([[[[4.0, 8.0], [0.0, 0.0]]]]))
    np.testing.assert_array_equal(dx[0, 0, :2], [[1, 1, 2, 2], [1, 1, 2, 2]])


@pytest.mark.parametrize(
    "layer, shape",
    [
        (MaxPool2d(2), (2, 3, 4, 6)),
        (MaxPool2d(3, stride=2), (2, 2, 7, 5)),  # overlapping, H ≠ W
        (MaxPool2d(2), (1, 2, 5, 5)),  # batch of one, a row and column left over
        (AvgPool2d(2), (2, 3, 4, 6)),
        (AvgPool2d(3, stride=1), (1, 2, 5, 4)),
        (AvgPool2d(3, stride=2), (2, 2, 8, 7)),
        (GlobalAvgPool2d(), (2, 3, 4, 5)),
        (Flatten(), (2, 3, 4, 5)),
    ],
    ids=repr,
)
def test_pool_backward_is_the_finite_differences(layer, shape, rng):
    check_layer(layer, distinct(rng, shape))


def test_pool_output_shapes_and_defaults(rng):
    x = rng.normal(size=(2, 3, 8, 6))
    assert MaxPool2d(2).forward(x, True).shape == (2, 3, 4, 3)
    assert MaxPool2d(3, 2).forward(x, True).shape == (2, 3, 3, 2)
    assert AvgPool2d(2, stride=1).forward(x, True).shape == (2, 3, 7, 5)
    assert GlobalAvgPool2d().forward(x, True).shape == (2, 3)
    np.testing.assert_allclose(GlobalAvgPool2d().forward(x, True), x.mean(axis=(2, 3)))
    flat = Flatten().forward(x, True)
    np.testing.assert_array_equal(flat, x.reshape(2, -1))  # (C, H, W) row-major, as torch


def test_a_small_network_end_to_end(rng):
    net = Sequential(
        [
            ("conv1", conv64(rng, 1, 3, 3, 1, 1)),
            ("pool", MaxPool2d(2)),
            ("conv2", conv64(rng, 3, 4, 3, 2, 1)),
            ("gap", GlobalAvgPool2d()),
        ]
    )
    errors = check_layer(net, distinct(rng, (2, 1, 6, 6)))
    assert {"conv1.W", "conv2.b", "x"} <= set(errors)


# -- refusals -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda: Conv2d(1, 4, 0),
        lambda: Conv2d(1, 4, 3, stride=0),
        lambda: Conv2d(1, 4, 3, padding=-1),
        lambda: Conv2d(0, 4, 3),
        lambda: Conv2d(1, 4, 2.5),
        lambda: Conv2d(1, 4, True),
        lambda: Conv2d(1, 4, "3"),
        lambda: Conv2d(1, 4, 3, init="glorot"),
        lambda: MaxPool2d(0),
        lambda: AvgPool2d(2, stride=-1),
    ],
)
def test_bad_arguments_are_refused_on_one_line(make):
    with pytest.raises(OptvizError) as err:
        make()
    assert "\n" not in str(err.value)


def test_an_image_too_small_names_the_layer_and_the_formula():
    with pytest.raises(OptvizError) as err:
        Conv2d(1, 4, 5).forward(np.zeros((2, 1, 3, 8)), True)
    msg = str(err.value)
    assert "Conv2d(1→4, k=5, s=1, p=0)" in msg and "height 3" in msg
    assert "⌊(n + 2p − f)/s⌋ + 1 = ⌊(3 + 2·0 − 5)/1⌋ + 1 = -1" in msg and "\n" not in msg
    with pytest.raises(OptvizError) as err:
        MaxPool2d(3, 2).forward(np.zeros((2, 1, 8, 2)), True)
    assert "MaxPool2d(k=3, s=2)" in str(err.value) and "width 2" in str(err.value)
    assert "⌊(n − f)/s⌋ + 1 = ⌊(2 − 3)/2⌋ + 1 = 0" in str(err.value)


@pytest.mark.parametrize(
    "layer, x",
    [
        (Conv2d(2, 3, 3), np.zeros((2, 3, 5, 5))),  # wrong channels
        (Conv2d(2, 3, 3), np.zeros((5, 5))),  # not a batch of images
        (MaxPool2d(2), np.zeros((2, 4, 4))),
        (GlobalAvgPool2d(), np.zeros((2, 3))),
        (Flatten(), np.zeros(3)),
        (Conv2d(2, 3, 1), np.zeros((0, 2, 4, 4))),  # empty batch
    ],
)
def test_bad_inputs_are_refused(layer, x):
    with pytest.raises(OptvizError) as err:
        layer.forward(x, True)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("c_in, s", [(2, 1), (1, 1), (2, 2)], ids=["rows", "transposed", "col2im"])
def test_conv_scratch_arrays_never_leak_between_calls(c_in, s, rng):
    """Training reuses the window matrices: outputs and gradients must not alias them."""
    layer = conv64(rng, c_in, 3, 3, s, 1)
    fresh = conv64(np.random.default_rng(5), c_in, 3, 3, s, 1)
    fresh.params = {k: v.copy() for k, v in layer.params.items()}
    xa, xb = rng.normal(size=(4, c_in, 5, 6)), rng.normal(size=(3, c_in, 5, 6))
    ho, wo = (5 + 2 - 3) // s + 1, (6 + 2 - 3) // s + 1
    dya, dyb = rng.normal(size=(4, 3, ho, wo)), rng.normal(size=(3, 3, ho, wo))
    ya = layer.forward(xa, True)
    dxa = layer.backward(dya)
    ya_copy, dxa_copy = ya.copy(), dxa.copy()
    for x, dy in ((xb, dyb), (xa, dya), (xa, dya)):  # another batch size, then the same again
        y, dx = layer.forward(x, True), layer.backward(dy)
        np.testing.assert_array_equal(y, fresh.forward(x, True))
        np.testing.assert_array_equal(dx, fresh.backward(dy))
        np.testing.assert_array_equal(layer.grads["W"], fresh.grads["W"])
    np.testing.assert_array_equal(ya, ya_copy)
    np.testing.assert_array_equal(dxa, dxa_copy)
    # an evaluation forward of another size in between does not disturb training
    layer.forward(rng.normal(size=(7, c_in, 5, 6)), False)
    layer.forward(xa, True)
    np.testing.assert_array_equal(layer.backward(dya), dxa_copy)
