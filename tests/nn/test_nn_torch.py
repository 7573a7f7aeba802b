"""Agreement with torch in float64 (skipped when torch is not installed).

Tolerance: rtol 1e-10 with atol 1e-12 element-wise (the two sides differ only in
summation order).
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
    Sequential,
    Sigmoid,
    Tanh,
    binary_cross_entropy,
    binary_focal_loss,
    build_model,
    focal_loss,
    l1_loss,
    mse_loss,
    smooth_l1_loss,
    softmax_cross_entropy,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional

RTOL, ATOL = 1e-10, 1e-12


def close(ours, theirs):
    if isinstance(theirs, torch.Tensor):
        theirs = theirs.detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


def tensor(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


# -- BatchNorm and LayerNorm ------------------------------------------------------------
def test_batchnorm_matches_torch_forward_backward_and_running_mean():
    rng = np.random.default_rng(0)
    m, d = 9, 4
    x = rng.normal(loc=2.0, scale=3.0, size=(m, d))
    dy = rng.normal(size=(m, d))
    ours = BatchNorm1d(d, dtype=np.float64)
    ours.params["gamma"] = rng.uniform(0.5, 2, d)
    ours.params["beta"] = rng.normal(size=d)
    ref = torch.nn.BatchNorm1d(d, eps=1e-5, momentum=0.1).double()  # momentum 0.1 is ρ = 0.9
    with torch.no_grad():
        ref.weight.copy_(tensor(ours.params["gamma"]))
        ref.bias.copy_(tensor(ours.params["beta"]))
    xt = tensor(x, grad=True)
    yt = ref(xt)
    yt.backward(tensor(dy))
    close(ours.forward(x, True), yt)
    close(ours.backward(dy), xt.grad)
    close(ours.grads["gamma"], ref.weight.grad)
    close(ours.grads["beta"], ref.bias.grad)
    close(ours.buffers["running_mean"], ref.running_mean)
    # torch averages the unbiased variance m/(m−1)·σ², optviz the biased σ² (documented)
    batch_var = x.var(0)
    close(ref.running_var.numpy(), 0.9 + 0.1 * batch_var * m / (m - 1))
    close(ours.buffers["running_var"], 0.9 + 0.1 * batch_var)
    # evaluation with the same running statistics agrees
    with torch.no_grad():
        ref.running_var.copy_(tensor(ours.buffers["running_var"]))
    ref.eval()
    x2 = rng.normal(size=(3, d))
    close(ours.forward(x2, False), ref(tensor(x2)))


def test_layernorm_matches_torch():
    rng = np.random.default_rng(1)
    x = rng.normal(loc=1.0, scale=2.0, size=(5, 6))
    dy = rng.normal(size=(5, 6))
    ours = LayerNorm(6, dtype=np.float64)
    ours.params["gamma"] = rng.uniform(0.5, 2, 6)
    ours.params["beta"] = rng.normal(size=6)
    xt, gt, bt = (
        tensor(x, True),
        tensor(ours.params["gamma"], True),
        tensor(ours.params["beta"], True),
    )
    yt = F.layer_norm(xt, (6,), gt, bt, eps=1e-5)
    yt.backward(tensor(dy))
    close(ours.forward(x, True), yt)
    close(ours.backward(dy), xt.grad)
    close(ours.grads["gamma"], gt.grad)
    close(ours.grads["beta"], bt.grad)


# -- whole networks ---------------------------------------------------------------------
def mirror(module, x, P, prefix=""):
    """The same network written with torch.nn.functional, reading parameters from P."""

    def join(name):
        return f"{prefix}.{name}" if prefix else name

    if isinstance(module, Sequential):
        for name, child in module.layers:
            x = mirror(child, x, P, join(name))
        return x
    if isinstance(module, ResidualBlock):
        h = x
        for name, child in module.main:
            h = mirror(child, h, P, join(name))
        skip = x if module.shortcut is None else mirror(module.shortcut, x, P, join("shortcut"))
        return mirror(module.act, h + skip, P, join("act2"))
    if isinstance(module, Linear):
        return x @ P[f"{prefix}.W"] + P[f"{prefix}.b"]
    if isinstance(module, BatchNorm1d):
        return F.batch_norm(
            x, None, None, P[f"{prefix}.gamma"], P[f"{prefix}.beta"], True, 0.1, 1e-5
        )
    if isinstance(module, LayerNorm):
        return F.layer_norm(x, (x.shape[1],), P[f"{prefix}.gamma"], P[f"{prefix}.beta"], 1e-5)
    if isinstance(module, PReLU):
        return F.prelu(x, P[f"{prefix}.alpha"])
    if isinstance(module, Dropout):
        return x if module._mask is None else x * torch.from_numpy(module._mask)
    simple = {
        ReLU: F.relu,
        LeakyReLU: lambda t: F.leaky_relu(t, 0.01),
        ELU: F.elu,
        Sigmoid: torch.sigmoid,
        Tanh: torch.tanh,
        Identity: lambda t: t,
    }
    return simple[type(module)](x)


CASES = [
    ("mlp", "bn", "relu", 0.0),
    ("mlp", "ln", "prelu", 0.0),
    ("mlp", "none", "elu", 0.2),
    ("mlp", "bn", "leaky_relu", 0.3),
    ("resnet", "bn", "prelu", 0.0),
    ("resnet", "ln", "tanh", 0.2),
    ("resnet", "none", "relu", 0.0),
    ("resnet", "bn", "sigmoid", 0.0),
]


@pytest.mark.parametrize(("arch", "norm", "act", "dropout"), CASES)
def test_network_gradients_match_torch(arch, norm, act, dropout):
    rng = np.random.default_rng(2)
    model = build_model(
        arch, 5, 4, depth=3, width=6, norm=norm, act=act, dropout=dropout, seed=7, dtype=np.float64
    )
    if norm == "none":  # leave the zero-initialized residual weights
        model.params = {k: v + 0.2 * rng.normal(size=v.shape) for k, v in model.params.items()}
    x = rng.normal(size=(12, 5))
    y = rng.integers(0, 4, 12)
    logits = model.forward(x, True)
    loss, dout = softmax_cross_entropy(logits, y)
    grads = model.backward(dout)

    P = {k: tensor(v, grad=True) for k, v in model.params.items()}
    logits_t = mirror(model.net, tensor(x), P)
    loss_t = F.cross_entropy(logits_t, torch.tensor(y))
    loss_t.backward()
    close(logits, logits_t)
    assert loss == pytest.approx(loss_t.item(), rel=RTOL)
    for name in model.params:
        close(grads[name], P[name].grad)


# -- losses -------------------------------------------------------------------------------
def loss_pair(ours, theirs, z, target):
    value, grad = ours(z, target)
    zt = tensor(z, grad=True)
    lt = theirs(zt)
    lt.backward()
    assert value == pytest.approx(lt.item(), rel=RTOL)
    close(grad, zt.grad)


def test_losses_match_torch():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(6, 3)) * 3
    labels = rng.integers(0, 3, 6)
    target = rng.normal(size=(6, 3))
    bits = rng.integers(0, 2, (6, 3))
    yt = torch.tensor(labels)
    loss_pair(softmax_cross_entropy, lambda t: F.cross_entropy(t, yt), z, labels)
    loss_pair(
        binary_cross_entropy, lambda t: F.binary_cross_entropy_with_logits(t, tensor(bits)), z, bits
    )
    loss_pair(mse_loss, lambda t: F.mse_loss(t, tensor(target)), z, target)
    loss_pair(l1_loss, lambda t: F.l1_loss(t, tensor(target)), z, target)
    loss_pair(smooth_l1_loss, lambda t: F.smooth_l1_loss(t, tensor(target), beta=1.0), z, target)

    def torch_focal(t, gamma=2.0):
        logpt = F.log_softmax(t, dim=1).gather(1, yt[:, None])[:, 0]
        return (-((1 - logpt.exp()) ** gamma) * logpt).mean()

    loss_pair(focal_loss, torch_focal, z, labels)

    def torch_binary_focal(t, alpha=0.25, gamma=2.0):
        # torchvision.ops.sigmoid_focal_loss, averaged
        b = tensor(bits)
        p = torch.sigmoid(t)
        ce = F.binary_cross_entropy_with_logits(t, b, reduction="none")
        pt = p * b + (1 - p) * (1 - b)
        at = alpha * b + (1 - alpha) * (1 - b)
        return (at * ce * (1 - pt) ** gamma).mean()

    loss_pair(binary_focal_loss, torch_binary_focal, z, bits)
