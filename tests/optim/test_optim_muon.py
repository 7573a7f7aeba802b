"""Muon (docs/math.md §4.9): by hand on small matrices, against torch.optim.Muon's code on a
network, and refused on a surface.

torch runs the Newton–Schulz iteration in bfloat16; the reference here is torch's own code
with that iteration replaced by the same code in float64 (monkeypatched), so the comparison
checks the rule, not bfloat16 rounding. The parameters that are not matrices go to
torch.optim.AdamW (lr 1e-3, torch's defaults), as optviz's Muon does. Tolerance 1e-10.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import optviz
from optviz.errors import OptvizError
from optviz.nn.losses import softmax_cross_entropy
from optviz.nn.model import build_model
from optviz.optim import make_optimizer
from optviz.optim.muon import NS_COEFFICIENTS

A, B, C = NS_COEFFICIENTS


def quintic(s: float, steps: int = 5) -> float:
    """The Newton–Schulz map on one singular value: s ← a s + b s³ + c s⁵."""
    for _ in range(steps):
        s = A * s + B * s**3 + C * s**5
    return s


def test_three_steps_on_a_diagonal_matrix_by_hand():
    # A diagonal 2×2 W (in = out = 2): every matrix stays diagonal, and NS acts on each
    # singular value alone after dividing by the Frobenius norm. μ = 0.5, nesterov, η = 0.1,
    # λ = 0.5, scale √max(1, 2/2) = 1. Gradients diag(3, 4), diag(3, 4), diag(−6, 8):
    # t=1: B = ½G = diag(1.5, 2);  U = ½G + ½B = diag(2.25, 3)   → ‖U‖ ∝ (0.6, 0.8)
    # t=2: B = ½B + ½G = diag(2.25, 3); U = ½G + ½B = diag(2.625, 3.5) → again (0.6, 0.8)
    # t=3: B = diag(−1.875, 5.5); U = diag(−3.9375, 6.75) → (−0.5037…, 0.8638…)
    grads = [np.diag([3.0, 4.0]), np.diag([3.0, 4.0]), np.diag([-6.0, 8.0])]
    opt = make_optimizer("muon", lr=0.1, momentum=0.5, weight_decay=0.5)
    params = {"W": np.eye(2)}
    state = opt.init(params)
    theta = np.eye(2)
    for U in (np.diag([2.25, 3.0]), np.diag([2.625, 3.5]), np.diag([-3.9375, 6.75])):
        params, state = opt.step(params, {"W": grads.pop(0)}, state)
        s = np.diag(U) / np.linalg.norm(U)
        O = np.diag([math.copysign(quintic(abs(x)), x) for x in s])
        theta = theta * (1 - 0.1 * 0.5) - 0.1 * O
        np.testing.assert_allclose(params["W"], theta, rtol=0, atol=1e-15)
    np.testing.assert_allclose(state.momentum["W"], np.diag([-1.875, 5.5]), rtol=0, atol=1e-15)


def test_scale_and_layout_of_a_wide_linear_layer_by_hand():
    # A Linear W of shape (in = 1, out = 4): torch's matrix is (4, 1), so the update is scaled by
    # √max(1, 4/1) = 2. The gradient is rank one (G = u vᵀ with ‖G‖ = 5): its only singular
    # value becomes quintic⁵(1) and O = quintic⁵(1) G/5. μ = 0 (B = G), no nesterov, λ = 0.
    G = np.array([[1.0, 2.0, 2.0, 4.0]])
    opt = make_optimizer("muon", lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0)
    params, _ = opt.step({"W": np.zeros((1, 4))}, {"W": G}, opt.init({"W": np.zeros((1, 4))}))
    np.testing.assert_allclose(params["W"], -0.01 * 2 * quintic(1.0) * G / 5, rtol=0, atol=1e-15)
    # a tall one (in = 4, out = 1) is not scaled: √max(1, 1/4) = 1
    params, _ = opt.step({"W": np.zeros((4, 1))}, {"W": G.T}, opt.init({"W": np.zeros((4, 1))}))
    np.testing.assert_allclose(params["W"], -0.01 * quintic(1.0) * G.T / 5, rtol=0, atol=1e-15)


def test_refused_on_a_surface_with_the_reason():
    with pytest.raises(OptvizError, match="no matrix to orthogonalize"):
        optviz.run("rosenbrock", "muon")
    with pytest.raises(OptvizError, match="networks only"):
        optviz.sweep("rosenbrock", "adam,muon", lr="1e-3:1:3")
    opt = make_optimizer("muon", lr=0.01)
    with pytest.raises(OptvizError, match="no matrix"):
        opt.init(np.zeros((3, 2)))


# --------------------------------------------------------------------------------------
# Against torch.optim.Muon's code
# --------------------------------------------------------------------------------------
def float64_newton_schulz(torch):
    """torch's _zeropower_via_newtonschulz with its bfloat16 cast replaced by float64."""

    def zeropower(grad, ns_coefficients, ns_steps, eps):
        a, b, c = ns_coefficients
        X = grad.double()
        if grad.size(0) > grad.size(1):
            X = X.T
        X = X / X.norm().clamp(min=eps)
        for _ in range(ns_steps):
            gram = X @ X.T
            update = torch.addmm(gram, gram, gram, beta=b, alpha=c)
            X = torch.addmm(X, update, X, beta=a)
        if grad.size(0) > grad.size(1):
            X = X.T
        return X

    return zeropower


def torch_reference(torch, params, kinds, grads_per_step, lr, **muon_kw):
    """Muon for the weight matrices (in torch's layout), AdamW for the rest, as torch does it."""
    def layout(a):  # optviz (in, out) → torch (out, in); a filter (c_out, …) → (c_out, rest)
        return a.T.copy() if a.ndim == 2 else a.reshape(a.shape[0], -1).copy()

    matrices = [k for k in params if kinds[k] == "weight"]
    others = [k for k in params if kinds[k] != "weight"]
    tp = {k: torch.nn.Parameter(torch.tensor(layout(params[k]) if k in matrices else params[k])) for k in params}
    muon = torch.optim.Muon([tp[k] for k in matrices], lr=lr, **muon_kw)
    adamw = torch.optim.AdamW([tp[k] for k in others], lr=1e-3)
    for grads in grads_per_step:
        for k in params:
            tp[k].grad = torch.tensor(layout(grads[k]) if k in matrices else grads[k])
        muon.step()
        adamw.step()
    out = {}
    for k in params:
        value = tp[k].detach().numpy()
        out[k] = (value.T if params[k].ndim == 2 else value.reshape(params[k].shape)) if k in matrices else value
    return out


def network_and_grads(seed=0):
    net = build_model("mlp", in_dim=5, out_dim=3, depth=2, width=7, norm="bn", seed=seed, dtype=np.float64)
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((16, 5)), rng.integers(0, 3, 16)
    _, dout = softmax_cross_entropy(net.forward(X, True), y)
    return net, net.backward(dout)


def test_one_network_step_matches_torch_muon_with_float64_newton_schulz(monkeypatch):
    torch = pytest.importorskip("torch")
    from torch.optim import _muon

    monkeypatch.setattr(_muon, "_zeropower_via_newtonschulz", float64_newton_schulz(torch))
    net, grads = network_and_grads()
    params = {k: v.copy() for k, v in net.params.items()}
    kinds = net.param_kinds
    assert {kinds[k] for k in params} >= {"weight", "bias", "norm"}
    opt = make_optimizer("muon", lr=0.02)
    ours, _ = opt.step(params, grads, opt.init(params, kinds=kinds))
    theirs = torch_reference(torch, params, kinds, [grads], 0.02)
    for k in params:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=0, atol=1e-10, err_msg=k)
        if kinds[k] in ("weight", "norm"):  # (a bias before BatchNorm has no gradient)
            assert not np.allclose(ours[k], params[k], rtol=0, atol=1e-6), k


def test_three_steps_with_momentum_and_a_convolution_filter_match_torch(monkeypatch):
    """Momentum over three steps, without nesterov and with it, and a filter (c_out, c_in, k, k)
    used as the matrix (c_out, c_in·k·k)."""
    torch = pytest.importorskip("torch")
    from torch.optim import _muon

    monkeypatch.setattr(_muon, "_zeropower_via_newtonschulz", float64_newton_schulz(torch))
    rng = np.random.default_rng(3)
    params = {"conv.W": rng.standard_normal((6, 2, 3, 3)), "conv.b": rng.standard_normal(6),
              "wide.W": rng.standard_normal((3, 9)), "tall.W": rng.standard_normal((9, 2))}
    kinds = {"conv.W": "weight", "conv.b": "bias", "wide.W": "weight", "tall.W": "weight"}
    steps = [{k: rng.standard_normal(v.shape) for k, v in params.items()} for _ in range(3)]
    for nesterov in (True, False):
        opt = make_optimizer("muon", lr=0.05, nesterov=nesterov, weight_decay=0.3, momentum=0.9)
        ours, state = dict(params), opt.init(params, kinds=kinds)
        for grads in steps:
            ours, state = opt.step(ours, grads, state)
        theirs = torch_reference(torch, params, kinds, steps, 0.05, nesterov=nesterov, weight_decay=0.3,
                                 momentum=0.9)
        for k in params:
            np.testing.assert_allclose(ours[k], theirs[k], rtol=0, atol=1e-10, err_msg=f"{k} nesterov={nesterov}")


def test_torch_bfloat16_iteration_differs_from_float64_as_documented():
    """Unpatched, torch's bfloat16 iteration changes each layer's update by 1–40 % (relative
    Frobenius norm) from the float64 rule on a network's gradients (docs/math.md §4.9)."""
    torch = pytest.importorskip("torch")
    net, grads = network_and_grads(1)
    params = {k: v.copy() for k, v in net.params.items()}
    kinds = net.param_kinds
    opt = make_optimizer("muon", lr=1e-3)
    ours, _ = opt.step(params, grads, opt.init(params, kinds=kinds))
    theirs = torch_reference(torch, params, kinds, [grads], 1e-3)
    for k in (k for k in params if kinds[k] == "weight"):
        ours_step, their_step = ours[k] - params[k], theirs[k] - params[k]
        assert 1e-3 < np.linalg.norm(ours_step - their_step) / np.linalg.norm(ours_step) < 0.5, k


def test_muon_trains_a_network_through_train():
    """train hands Muon the parameter kinds: matrices are orthogonalized, the rest go to AdamW."""
    report = optviz.train("moons", "muon", arch="mlp", depth=2, width=16, epochs=10, samples=200, lr=0.005)
    run = report.first.runs[0]
    assert run.optimizer == "muon" and run.status == "ok"
    assert run.train_loss[-1] < 0.7 * run.train_loss[0] and run.val_acc[-1] > 0.9
