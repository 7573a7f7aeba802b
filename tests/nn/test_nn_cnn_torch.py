"""Whole training steps of the image models against the same torch networks, float64
(skipped when torch is not installed).

The torch network is built layer by layer from the optviz one with the same weights; both
take the same minibatches and the same Adam steps (optviz's Stepper, exactly what ``train``
runs, against torch.optim.Adam). Tolerance: rtol 1e-10, atol 1e-12 element-wise.
"""

import numpy as np
import pytest

from optviz.nn import (
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Flatten,
    GlobalAvgPool2d,
    GroupNorm,
    InstanceNorm2d,
    LayerNorm2d,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
    build_model,
    softmax_cross_entropy,
)
from optviz.nn.cnn import DenseLayer, ResidualBlock2d, ToImage
from optviz.nn.pool import AvgPool2d
from optviz.nn.stepper import Stepper
from optviz.optim import make_optimizer

torch = pytest.importorskip("torch")
nn = torch.nn

RTOL, ATOL = 1e-10, 1e-12


def close(ours, theirs):
    if isinstance(theirs, torch.Tensor):
        theirs = theirs.detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


def t(a):
    return torch.tensor(np.asarray(a, dtype=np.float64))


class TorchResidual(nn.Module):
    def __init__(self, main, shortcut, kind):
        super().__init__()
        self.main, self.shortcut, self.kind = main, shortcut, kind

    def forward(self, x):
        h = self.main(x)
        if self.kind == "identity":
            h = h + x
        elif self.shortcut is not None:
            h = h + self.shortcut(x)
        return torch.relu(h)


class TorchDense(nn.Module):
    def __init__(self, branch):
        super().__init__()
        self.branch = branch

    def forward(self, x):
        return torch.cat([x, self.branch(x)], dim=1)


def mirror(module, name, pairs):
    """The torch module computing what ``module`` does, with its weights; ``pairs`` collects
    (optviz parameter name, torch parameter, to_optviz) for every parameter."""
    prefix = f"{name}." if name else ""
    if isinstance(module, ResidualBlock2d):
        main = nn.Sequential(*[mirror(layer, prefix + k, pairs) for k, layer in module.main])
        short = None if module.shortcut is None else mirror(module.shortcut, prefix + "shortcut", pairs)
        return TorchResidual(main, short, module.kind)
    if isinstance(module, DenseLayer):
        return TorchDense(nn.Sequential(*[mirror(layer, prefix + k, pairs) for k, layer in module.children()]))
    if isinstance(module, Sequential):
        return nn.Sequential(*[mirror(layer, prefix + k, pairs) for k, layer in module.children()])
    if isinstance(module, ToImage):
        return nn.Unflatten(1, module.shape)
    if isinstance(module, Conv2d):
        bias = "b" in module.params
        ref = nn.Conv2d(module.c_in, module.c_out, module.k, module.stride, module.padding, bias=bias).double()
        ref.weight.data = t(module.params["W"])
        pairs.append((name + ".W", ref.weight, lambda a: a))
        if bias:
            ref.bias.data = t(module.params["b"])
            pairs.append((name + ".b", ref.bias, lambda a: a))
        return ref
    if isinstance(module, Linear):
        n_in, n_out = module.params["W"].shape
        ref = nn.Linear(n_in, n_out).double()
        ref.weight.data, ref.bias.data = t(module.params["W"].T), t(module.params["b"])
        pairs += [(name + ".W", ref.weight, lambda a: a.T), (name + ".b", ref.bias, lambda a: a)]
        return ref
    ref = _norm(module)
    if ref is None:
        return {ReLU: nn.ReLU, Sigmoid: nn.Sigmoid, MaxPool2d: lambda: nn.MaxPool2d(2),
                AvgPool2d: lambda: nn.AvgPool2d(2), Flatten: nn.Flatten,
                GlobalAvgPool2d: lambda: nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())}[type(module)]()
    ref.weight.data, ref.bias.data = t(module.params["gamma"]), t(module.params["beta"])
    pairs += [(name + ".gamma", ref.weight, lambda a: a), (name + ".beta", ref.bias, lambda a: a)]
    return ref


def _norm(module):
    if isinstance(module, BatchNorm2d):
        return nn.BatchNorm2d(module.c, momentum=0.1).double()
    if isinstance(module, BatchNorm1d):
        return nn.BatchNorm1d(module.params["gamma"].shape[0], momentum=0.1).double()
    if isinstance(module, InstanceNorm2d):
        return nn.GroupNorm(module.c, module.c).double()  # instance norm with per-channel γ, β
    if isinstance(module, GroupNorm):
        return nn.GroupNorm(module.groups, module.c).double()
    if isinstance(module, LayerNorm2d):
        return nn.LayerNorm((module.c, module.h, module.w)).double()
    return None


def train_both(model, batches, lr=1e-3, rounding_only=()):
    pairs = []
    ref = nn.Sequential(*[mirror(layer, k, pairs) for k, layer in model.layers])
    opt = make_optimizer("adam", lr=lr)
    stepper = Stepper(model, opt, softmax_cross_entropy, model.param_kinds)
    params = [p for _, p, _ in pairs]
    assert len(params) == len(model.params)
    fast = {"foreach": False, "fused": False}
    ref_opt = torch.optim.Adam(params, lr=lr, **fast)
    for x, y in batches:
        loss, out = stepper.step(x, y)
        ref_opt.zero_grad()
        out_t = ref(t(x))
        loss_t = nn.functional.cross_entropy(out_t, torch.tensor(y))
        loss_t.backward()
        close(out, out_t)
        assert loss == pytest.approx(loss_t.item(), rel=RTOL)
        ref_opt.step()
    for name, p, to_ours in pairs:
        theirs = to_ours(p.detach().numpy())
        if name in rounding_only:
            # a bias just before BatchNorm: its gradient is 0 in exact arithmetic, and Adam
            # moves it by rounding noise / (√v̂ + ε) on each side; both stay at 0 ± 1e-9
            assert np.abs(model.params[name]).max() < 1e-9 and np.abs(theirs).max() < 1e-9
            continue
        close(model.params[name], theirs)
    return ref


@pytest.mark.parametrize("arch", ["resnet-cnn", "cnn"])
def test_a_training_step_of_the_residual_cnn_matches_torch(arch):
    """Forward, loss, backward and Adam: three steps of the default residual CNN (smaller channels)."""
    rng = np.random.default_rng(0)
    model = build_model(arch, in_dim=64, out_dim=10, channels=4, blocks=2, seed=3, dtype=np.float64)
    batches = [(rng.normal(size=(16, 64)), rng.integers(0, 10, 16)) for _ in range(3)]
    ref = train_both(model, batches)
    # the running means agree too (torch's running_var averages the unbiased variance)
    bn = [m for m in ref.modules() if isinstance(m, nn.BatchNorm2d)]
    ours = [v for k, v in model.running_stats.items() if k.endswith("running_mean")]
    assert len(bn) == len(ours) > 0
    for a, b in zip(ours, bn, strict=True):
        close(a, b.running_mean)


@pytest.mark.parametrize(("arch", "norm", "act"), [
    ("densenet", "bn", "relu"), ("lenet", "bn", "sigmoid"), ("lenet", "gn", "relu"),
    ("resnet-cnn", "gn", "relu"), ("resnet-cnn", "in", "relu"), ("resnet-cnn", "ln", "relu"),
])
def test_training_steps_of_the_image_models_match_torch(arch, norm, act):
    rng = np.random.default_rng(1)
    model = build_model(arch, in_dim=64, out_dim=5, channels=4, growth=3, groups=2, norm=norm, act=act,
                        seed=4, dtype=np.float64)
    batches = [(rng.normal(size=(8, 64)), rng.integers(0, 5, 8)) for _ in range(2)]
    before_bn = ("fc1.linear.b", "fc2.linear.b") if (arch, norm) == ("lenet", "bn") else ()
    train_both(model, batches, rounding_only=before_bn)


def test_the_plain_cnn_without_normalization_matches_torch():
    rng = np.random.default_rng(2)
    model = build_model("resnet-cnn", in_dim=49, out_dim=3, channels=3, norm="none", seed=5, dtype=np.float64)
    model.params = {k: v + 0.1 * rng.normal(size=v.shape) for k, v in model.params.items()}
    train_both(model, [(rng.normal(size=(6, 49)), rng.integers(0, 3, 6))])
