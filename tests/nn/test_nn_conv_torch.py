"""The image layers against torch.nn.functional in float64 (skipped when torch is not installed).

Tolerance: rtol 1e-10 with atol 1e-12 element-wise (the two sides differ only in
summation order).
"""

import numpy as np
import pytest

from optviz.nn import (
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    Flatten,
    GlobalAvgPool2d,
    GroupNorm,
    InstanceNorm2d,
    LayerNorm2d,
    MaxPool2d,
    ReLU,
    Sequential,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional

RTOL, ATOL = 1e-10, 1e-12
F64 = np.float64


def close(ours, theirs):
    if isinstance(theirs, torch.Tensor):
        theirs = theirs.detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


def tensor(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def run_both(layer, x, torch_fn, param_names=(), train=True, seed=1):
    """Forward and backward of ``layer`` and of ``torch_fn(x, params)``; compare everything."""
    y = layer.forward(x, train)  # once: BatchNorm2d's running statistics move on each call
    dy = np.random.default_rng(seed).normal(size=y.shape)
    dx = layer.backward(dy)
    xt = tensor(x, True)
    pt = {k: tensor(layer.params[k], True) for k in param_names}
    yt = torch_fn(xt, pt)
    yt.backward(tensor(dy))
    close(y, yt)
    close(dx, xt.grad)
    for k in param_names:
        close(layer.grads[k], pt[k].grad)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize(
    "n, c_in, c_out, h, w, k, s, p",
    [
        (4, 1, 6, 8, 8, 3, 1, 1),
        (3, 4, 4, 8, 8, 3, 1, 1),
        (3, 4, 6, 8, 8, 3, 2, 1),
        (2, 4, 6, 8, 8, 1, 2, 0),
        (2, 3, 5, 9, 6, 5, 1, 2),
        (1, 2, 3, 7, 10, 3, 2, 0),
        (2, 3, 2, 11, 9, 4, 3, 2),
    ],
)
def test_conv2d(n, c_in, c_out, h, w, k, s, p, rng):
    layer = Conv2d(c_in, c_out, k, stride=s, padding=p, rng=rng, dtype=F64)
    layer.params["b"] = rng.normal(size=c_out)
    run_both(
        layer,
        rng.normal(size=(n, c_in, h, w)),
        lambda x, P: F.conv2d(x, P["W"], P["b"], stride=s, padding=p),
        ("W", "b"),
    )


@pytest.mark.parametrize(
    "k, s, shape",
    [(2, None, (2, 3, 8, 8)), (3, 2, (2, 2, 7, 9)), (2, 1, (1, 3, 5, 4)), (3, 3, (2, 2, 8, 7))],
)
def test_max_pool2d(k, s, shape, rng):
    x = rng.normal(size=shape)
    run_both(MaxPool2d(k, s), x, lambda t, P: F.max_pool2d(t, k, s))
    # ties: values from {−1, 0, 1}, so most windows hold equal maxima
    run_both(
        MaxPool2d(k, s),
        rng.integers(-1, 2, size=shape).astype(F64),
        lambda t, P: F.max_pool2d(t, k, s),
    )


@pytest.mark.parametrize(
    "k, s, shape",
    [(2, None, (2, 3, 8, 8)), (3, 2, (2, 2, 7, 9)), (2, 1, (1, 3, 5, 4)), (3, 3, (2, 2, 8, 7))],
)
def test_avg_pool2d(k, s, shape, rng):
    run_both(AvgPool2d(k, s), rng.normal(size=shape), lambda t, P: F.avg_pool2d(t, k, s))


def test_global_avg_pool_and_flatten(rng):
    x = rng.normal(size=(3, 4, 5, 6))
    run_both(GlobalAvgPool2d(), x, lambda t, P: F.adaptive_avg_pool2d(t, 1).flatten(1))
    run_both(Flatten(), x, lambda t, P: torch.flatten(t, 1))


def test_batch_norm_training_evaluation_and_running_statistics(rng):
    c = 3
    bn = BatchNorm2d(c, dtype=F64)
    bn.params["gamma"] = rng.uniform(0.5, 2, c)
    bn.params["beta"] = rng.normal(size=c)
    t_mean, t_var = torch.zeros(c, dtype=torch.float64), torch.ones(c, dtype=torch.float64)
    want_var, want_torch_var = np.ones(c), np.ones(c)
    for step in range(4):
        x = rng.normal(loc=step, scale=2.0, size=(4, c, 3, 5))
        run_both(
            bn,
            x,
            lambda t, P: F.batch_norm(t, t_mean, t_var, P["gamma"], P["beta"], True, 0.1, 1e-5),
            ("gamma", "beta"),
            seed=step,
        )
        close(bn.buffers["running_mean"], t_mean)
        # torch averages the unbiased variance m/(m − 1)·σ², optviz the biased σ² (documented)
        m = x.size // c  # N·H·W values per channel
        var = x.var(axis=(0, 2, 3))
        want_var = 0.9 * want_var + 0.1 * var
        want_torch_var = 0.9 * want_torch_var + 0.1 * var * m / (m - 1)
        close(bn.buffers["running_var"], want_var)
        close(want_torch_var, t_var)
    # evaluation: the same running statistics give the same map and gradients
    t_var.copy_(torch.from_numpy(bn.buffers["running_var"]))
    run_both(
        bn,
        rng.normal(size=(2, c, 4, 4)),
        lambda t, P: F.batch_norm(t, t_mean, t_var, P["gamma"], P["beta"], False, 0.1, 1e-5),
        ("gamma", "beta"),
        train=False,
    )


def affine(layer, rng):
    shape = layer.params["gamma"].shape
    layer.params["gamma"] = rng.uniform(0.5, 2, shape)
    layer.params["beta"] = rng.normal(size=shape)
    return layer


@pytest.mark.parametrize("groups", [1, 2, 3, 6])
def test_group_norm(groups, rng):
    x = rng.normal(loc=1.0, scale=2.0, size=(3, 6, 4, 5))
    run_both(
        affine(GroupNorm(groups, 6, dtype=F64), rng),
        x,
        lambda t, P: F.group_norm(t, groups, P["gamma"], P["beta"], 1e-5),
        ("gamma", "beta"),
    )


def test_instance_norm(rng):
    x = rng.normal(loc=1.0, scale=2.0, size=(3, 4, 5, 3))
    run_both(
        affine(InstanceNorm2d(4, dtype=F64), rng),
        x,
        lambda t, P: F.instance_norm(t, weight=P["gamma"], bias=P["beta"], eps=1e-5),
        ("gamma", "beta"),
    )


def test_layer_norm(rng):
    x = rng.normal(loc=1.0, scale=2.0, size=(3, 4, 5, 3))
    run_both(
        affine(LayerNorm2d(4, 5, 3, dtype=F64), rng),
        x,
        lambda t, P: F.layer_norm(t, (4, 5, 3), P["gamma"], P["beta"], 1e-5),
        ("gamma", "beta"),
    )


def test_a_small_network_matches_torch(rng):
    """conv–BN–ReLU–maxpool–conv(stride 2)–GN–global average pool, all gradients."""
    conv1 = Conv2d(2, 4, 3, padding=1, rng=rng, dtype=F64)
    conv2 = Conv2d(4, 6, 3, stride=2, padding=1, rng=rng, dtype=F64)
    bn, gn = affine(BatchNorm2d(4, dtype=F64), rng), affine(GroupNorm(2, 6, dtype=F64), rng)
    net = Sequential(
        [
            ("conv1", conv1),
            ("bn", bn),
            ("relu", ReLU()),
            ("pool", MaxPool2d(2)),
            ("conv2", conv2),
            ("gn", gn),
            ("gap", GlobalAvgPool2d()),
        ]
    )
    x = rng.normal(size=(3, 2, 8, 6))
    y = net.forward(x, True)
    dy = rng.normal(size=y.shape)
    dx = net.backward(dy)
    P = {
        f"{name}.{k}": tensor(v, True)
        for name, layer in net.layers
        for k, v in layer.params.items()
    }
    xt = tensor(x, True)
    h = F.conv2d(xt, P["conv1.W"], P["conv1.b"], padding=1)
    h = F.relu(F.batch_norm(h, None, None, P["bn.gamma"], P["bn.beta"], True, 0.1, 1e-5))
    h = F.conv2d(F.max_pool2d(h, 2), P["conv2.W"], P["conv2.b"], stride=2, padding=1)
    yt = F.group_norm(h, 2, P["gn.gamma"], P["gn.beta"], 1e-5).mean(dim=(2, 3))
    yt.backward(tensor(dy))
    close(y, yt)
    close(dx, xt.grad)
    for name, layer in net.layers:
        for k in layer.params:
            close(layer.grads[k], P[f"{name}.{k}"].grad)


def test_max_pool2d_nan_takes_the_gradient_as_in_torch():
    x = np.array([[[[np.nan, 0.0, 1.0, 0.0, 2.0, 2.0], [0.0, np.nan, 0.0, np.nan, 2.0, 2.0]]]])
    pool = MaxPool2d(2)
    y = pool.forward(x, True)
    dx = pool.backward(np.array([[[[1.0, 2.0, 3.0]]]]))
    xt = tensor(x, True)
    yt = F.max_pool2d(xt, 2)
    yt.backward(tensor([[[[1.0, 2.0, 3.0]]]]))
    np.testing.assert_array_equal(y, yt.detach().numpy())  # NaN where torch has NaN
    np.testing.assert_array_equal(dx, xt.grad.numpy())
