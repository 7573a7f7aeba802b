"""The rules of docs/math.md §4 worked by hand: the first three steps of each.

A scalar parameter (θ₀ = 0 unless said), gradients fed directly (g = 1, −1, 2 unless
said); every number below is derived in the comments from the formula, not from optviz.
Hand-derived values are compared to 1e-15 absolute (a few ulps).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from optviz.errors import OptvizError
from optviz.optim import make_optimizer

GRADS = [1.0, -1.0, 2.0]
TOL = 1e-15


def feed(opt, grads, theta0=0.0):
    theta = np.array([theta0])
    state = opt.init(theta)
    out = []
    for g in grads:
        theta, state = opt.step(theta, np.array([g]), state)
        out.append((float(theta[0]), state))
    return out


def thetas(out):
    return [o[0] for o in out]


def test_adadelta_by_hand():
    # ρ = 0.5, ε = 0.25, η = 1 (large ε keeps the numbers exact):
    # t=1: s = 0.5;  g′ = √(0 + ¼)/√(0.5 + ¼)·1 = 1/√3;          Δ = ½·⅓ = 1/6
    # t=2: s = 0.75; g′ = √(1/6 + ¼)/√(0.75 + ¼)·(−1) = −√(5/12);  Δ = 1/12 + 5/24 = 7/24
    # t=3: s = 2.375; g′ = √(7/24 + ¼)/√(2.625)·2 = 2√(13/63);     Δ = 7/48 + ½·4·13/63
    out = feed(make_optimizer("adadelta", lr=1.0, rho=0.5, eps=0.25), GRADS)
    th1 = -1 / math.sqrt(3)
    th2 = th1 + math.sqrt(5 / 12)
    th3 = th2 - 2 * math.sqrt(13 / 63)
    assert thetas(out) == pytest.approx([th1, th2, th3], abs=TOL)
    assert [float(o[1].s[0]) for o in out] == pytest.approx([0.5, 0.75, 2.375], abs=TOL)
    assert [float(o[1].delta[0]) for o in out] == pytest.approx([1 / 6, 7 / 24, 7 / 48 + 26 / 63], abs=TOL)
    # η scales the step only: Δ averages the steps without η
    half = feed(make_optimizer("adadelta", lr=0.5, rho=0.5, eps=0.25), GRADS)
    assert thetas(half) == pytest.approx([0.5 * t for t in thetas(out)], abs=TOL)


def test_yogi_by_hand():
    # β₁ = β₂ = 0.5, ε = 1e-3, η = 0.1:
    # t=1: m = 0.5,  v = 0 − ½·1·sign(0 − 1) = 0.5;      m̂ = 1,    v̂ = 1
    # t=2: m = −0.25, v = 0.5 − ½·1·sign(0.5 − 1) = 1;   m̂ = −⅓,   v̂ = 4/3
    # t=3: m = 0.875, v = 1 − ½·4·sign(1 − 4) = 3;       m̂ = 1,    v̂ = 3/0.875 = 24/7
    # (Adam's v would be 0.5, 0.75, 2.375)
    eps = 1e-3
    out = feed(make_optimizer("yogi", lr=0.1, beta1=0.5, beta2=0.5), GRADS)
    th1 = -0.1 / (1 + eps)
    th2 = th1 + (0.1 / 3) / (math.sqrt(4 / 3) + eps)
    th3 = th2 - 0.1 / (math.sqrt(24 / 7) + eps)
    assert thetas(out) == pytest.approx([th1, th2, th3], abs=TOL)
    assert [float(o[1].v[0]) for o in out] == pytest.approx([0.5, 1.0, 3.0], abs=TOL)
    assert [float(o[1].m[0]) for o in out] == pytest.approx([0.5, -0.25, 0.875], abs=TOL)


def test_adamw_by_hand():
    # From θ₀ = 1, β₁ = β₂ = 0.5, ε = 1e-8, η = 0.1, λ = 0.5: θ ← (1 − ηλ)θ − η m̂/(√v̂ + ε)
    # with Adam's m̂, v̂ for g = 1, −1, 2: (1, 1), (−⅓, 1), (1, 19/7); 1 − ηλ = 0.95.
    eps = 1e-8
    out = feed(make_optimizer("adamw", lr=0.1, beta1=0.5, beta2=0.5, weight_decay=0.5), GRADS, theta0=1.0)
    th1 = 0.95 * 1.0 - 0.1 / (1 + eps)
    th2 = 0.95 * th1 + (0.1 / 3) / (1 + eps)
    th3 = 0.95 * th2 - 0.1 / (math.sqrt(19 / 7) + eps)
    assert thetas(out) == pytest.approx([th1, th2, th3], abs=TOL)
    # λ = 0 is Adam
    plain = feed(make_optimizer("adamw", lr=0.1, beta1=0.5, beta2=0.5, weight_decay=0.0), GRADS, 1.0)
    adam = feed(make_optimizer("adam", lr=0.1, beta1=0.5, beta2=0.5), GRADS, 1.0)
    assert thetas(plain) == thetas(adam)


def test_amsgrad_by_hand():
    # β₁ = β₂ = 0.5, ε = 1e-8, η = 0.1, g = 2, −1, 1 (v falls after the first step):
    # t=1: m = 1,   v = 2,    v_max = 2;  m̂ = 2,    v_max/(1 − ½) = 4;    Δ = 0.1·2/(2 + ε)
    # t=2: m = 0,   v = 1.5,  v_max = 2;  m̂ = 0;                          Δ = 0
    # t=3: m = 0.5, v = 1.25, v_max = 2;  m̂ = 4/7,  v_max/0.875 = 16/7;   Δ = 0.1·(4/7)/(4/√7 + ε)
    # (Adam's third step divides by √(1.25/0.875) = √(10/7) instead)
    eps = 1e-8
    grads = [2.0, -1.0, 1.0]
    for opt in (make_optimizer("amsgrad", lr=0.1, beta1=0.5, beta2=0.5),
                make_optimizer("adam", lr=0.1, beta1=0.5, beta2=0.5, amsgrad=True),
                make_optimizer("adam", lr=0.1, beta1=0.5, beta2=0.5, amsgrad="true")):
        assert opt.name == "amsgrad"
        out = feed(opt, grads)
        th1 = -0.2 / (2 + eps)
        th3 = th1 - 0.1 * (4 / 7) / (4 / math.sqrt(7) + eps)
        assert thetas(out) == pytest.approx([th1, th1, th3], abs=TOL)
        assert [float(o[1].v_max[0]) for o in out] == pytest.approx([2.0, 2.0, 2.0], abs=TOL)
        assert [float(o[1].v[0]) for o in out] == pytest.approx([2.0, 1.5, 1.25], abs=TOL)
    adam = feed(make_optimizer("adam", lr=0.1, beta1=0.5, beta2=0.5), grads)
    assert abs(thetas(adam)[2] - th3) > 1e-3


def test_nadam_by_hand():
    # β₁ = β₂ = 0.5, ψ = 1, ε = 1e-8, η = 0.1: μₜ = ½(1 − ½·0.96ᵗ)
    # μ₁ = 0.26, μ₂ = 0.2696, μ₃ = 0.278816, μ₄ = 0.28766336; Πₜ = μ₁⋯μₜ.
    # m = 0.5, −0.25, 0.875;  v̂ = v/(1 − ½ᵗ) = 1, 1, 19/7.
    # Δₜ = η [(1 − μₜ)/(1 − Πₜ)·g + μₜ₊₁/(1 − Πₜμₜ₊₁)·m] / (√v̂ + ε)
    eps = 1e-8
    mu = [0.26, 0.2696, 0.278816, 0.28766336]
    prod = [mu[0], mu[0] * mu[1], mu[0] * mu[1] * mu[2]]
    m, vhat = [0.5, -0.25, 0.875], [1.0, 1.0, 19 / 7]
    theta, want = 0.0, []
    for t in range(3):
        step = (1 - mu[t]) / (1 - prod[t]) * GRADS[t] + mu[t + 1] / (1 - prod[t] * mu[t + 1]) * m[t]
        theta -= 0.1 * step / (math.sqrt(vhat[t]) + eps)
        want.append(theta)
    out = feed(make_optimizer("nadam", lr=0.1, beta1=0.5, beta2=0.5, momentum_decay=1.0), GRADS)
    assert thetas(out) == pytest.approx(want, abs=TOL)
    # the first step in numbers: (0.74/0.74)·1 + 0.2696/(1 − 0.070096)·0.5 = 1.14496...
    assert out[0][0] == pytest.approx(-0.1 * (1 + 0.2696 / 0.929904 * 0.5) / (1 + eps), abs=1e-15)


def test_radam_by_hand():
    # β₁ = 0.5, β₂ = 0.999: ρₜ ≈ t − 1 early (ρ₁ = 1 exactly), so the first steps are plain
    # momentum, θ ← θ − η m̂ with m̂ = 1, −⅓, 1 (as Adam's):
    out = feed(make_optimizer("radam", lr=0.1, beta1=0.5), GRADS)
    assert thetas(out) == pytest.approx([-0.1, -0.1 + 0.1 / 3, -0.1 + 0.1 / 3 - 0.1], abs=TOL)


def test_radam_switches_to_the_rectified_step_at_rho_above_5():
    # g = 1 always, β₁ = 0.5: m̂ = 1 and v = 1 − β₂ᵗ, so step t moves by η while ρₜ ≤ 5 and by
    # η r_t √(1 − β₂ᵗ)/(√(1 − β₂ᵗ) + ε) after. ρ∞ = 2/(1 − β₂) − 1, ρₜ = ρ∞ − 2tβ₂ᵗ/(1 − β₂ᵗ).
    b2, eps, lr = 0.999, 1e-8, 0.1
    rho_inf = 2 / (1 - b2) - 1
    out = feed(make_optimizer("radam", lr=lr, beta1=0.5), [1.0] * 8)
    steps = -np.diff([0.0, *thetas(out)])
    for t in range(1, 9):
        rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho <= 5:
            want = lr
        else:
            r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            want = lr * r * math.sqrt(1 - b2**t) / (math.sqrt(1 - b2**t) + eps)
        assert steps[t - 1] == pytest.approx(want, abs=1e-15), t
    assert steps[4] == pytest.approx(lr, abs=1e-15) and steps[5] < 0.5 * lr  # ρ₅ ≈ 4.996 (plain), ρ₆ ≈ 5.994 (rectified, r ≈ 0.11)


def test_adamax_by_hand():
    # β₁ = 0.5, β₂ = 0.9, ε = 1e-8, η = 0.1, g = 2, −1, 1:
    # t=1: m = 1,   u = max(0, 2 + ε) = 2 + ε;                    Δ = 0.1/0.5 · 1/(2 + ε)
    # t=2: m = 0,   u = max(0.9(2 + ε), 1 + ε) = 1.8 + 0.9ε;      Δ = 0
    # t=3: m = 0.5, u = max(0.9(1.8 + 0.9ε), 1 + ε) = 1.62 + 0.81ε;  Δ = 0.1/0.875 · 0.5/u
    eps = 1e-8
    out = feed(make_optimizer("adamax", lr=0.1, beta1=0.5, beta2=0.9), [2.0, -1.0, 1.0])
    th1 = -0.2 / (2 + eps)
    th3 = th1 - 0.1 / 0.875 * 0.5 / (1.62 + 0.81 * eps)
    assert thetas(out) == pytest.approx([th1, th1, th3], abs=TOL)
    assert [float(o[1].u[0]) for o in out] == pytest.approx([2 + eps, 1.8 + 0.9 * eps, 1.62 + 0.81 * eps],
                                                            abs=TOL)


def test_lion_by_hand():
    # From θ₀ = 1, β₁ = 0.5, β₂ = 0.25, η = 0.1, λ = 0.5 (c uses the old m):
    # t=1: c = 0.5  → +1;  θ = 1 − 0.1(1 + 0.5)          = 0.85;     m = 0.75
    # t=2: c = 0.375 − 0.5 = −0.125 → −1;  θ = 0.85 − 0.1(−1 + 0.425) = 0.9075;  m = −0.5625
    # t=3: c = −0.28125 + 1 = 0.71875 → +1; θ = 0.9075 − 0.1(1 + 0.45375) = 0.762125; m = 1.359375
    out = feed(make_optimizer("lion", lr=0.1, beta1=0.5, beta2=0.25, weight_decay=0.5), GRADS, theta0=1.0)
    assert thetas(out) == pytest.approx([0.85, 0.9075, 0.762125], abs=TOL)
    assert [float(o[1].m[0]) for o in out] == pytest.approx([0.75, -0.5625, 1.359375], abs=TOL)
    # without decay every step is exactly ±η
    plain = feed(make_optimizer("lion", lr=0.1), GRADS)
    assert thetas(plain) == pytest.approx([-0.1, 0.0, -0.1], abs=TOL)


# --------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------
BAD = [
    ("adadelta", {"lr": 1.0, "rho": 1.0}),
    ("adadelta", {"lr": 1.0, "eps": 0.0}),
    ("yogi", {"lr": 0.1, "beta2": 1.0}),
    ("adamw", {"lr": 0.1, "weight_decay": -0.1}),
    ("adam", {"lr": 0.1, "amsgrad": "maybe"}),
    ("adam", {"lr": 0.1, "amsgrad": 2}),
    ("amsgrad", {"lr": 0.1, "amsgrad": False}),
    ("nadam", {"lr": 0.1, "momentum_decay": -1.0}),
    ("radam", {"lr": 0.1, "beta1": 1.5}),
    ("adamax", {"lr": 0.1, "eps": 0.0}),
    ("lion", {"lr": 0.1, "beta2": 1.0}),
    ("lion", {"lr": 0.1, "weight_decay": float("nan")}),
    ("muon", {"lr": 0.1, "momentum": 1.0}),
    ("muon", {"lr": 0.1, "ns_steps": 2.5}),
    ("muon", {"lr": 0.1, "ns_steps": 100}),
    ("muon", {"lr": np.array([[0.1], [0.2]])}),
    ("adamw", {"lr": 0.1, "beta": 0.5}),
]


@pytest.mark.parametrize(("name", "hp"), BAD, ids=[f"{n}-{'-'.join(map(str, h))}" for n, h in BAD])
def test_bad_settings_are_refused(name, hp):
    with pytest.raises(OptvizError):
        make_optimizer(name, **hp)


NEW = ["adadelta", "yogi", "adamw", "amsgrad", "nadam", "radam", "adamax", "lion"]


@pytest.mark.parametrize("name", NEW)
def test_state_starts_at_zero_and_rows_run_alone(name):
    """A batch of K points moves each row exactly as that row alone; dict keys as arrays alone."""
    rng = np.random.default_rng(1)
    X0 = rng.standard_normal((4, 3))
    grads = [rng.standard_normal((4, 3)) for _ in range(4)]
    opt = make_optimizer(name, lr=0.05)
    state = opt.init(X0)
    assert state.count == 0 and all(not np.any(s) for s in state[1:])
    X = X0.copy()
    for g in grads:
        X, state = opt.step(X, g, state)
    for k in range(4):
        x, s = X0[k].copy(), opt.init(X0[k])
        for g in grads:
            x, s = opt.step(x, g[k], s)
        np.testing.assert_array_equal(x, X[k])
    P, sp = {"W": X0[:2].copy(), "b": X0[2].copy()}, opt.init({"W": X0[:2], "b": X0[2]})
    for g in grads:
        P, sp = opt.step(P, {"W": g[:2], "b": g[2]}, sp)
    for key, rows in (("W", slice(0, 2)), ("b", 2)):
        x, s = X0[rows].copy(), opt.init(X0[rows])
        for g in grads:
            x, s = opt.step(x, g[rows], s)
        np.testing.assert_array_equal(P[key], x)


@pytest.mark.parametrize("name", NEW)
def test_one_rate_per_point_equals_separate_runs(name):
    lrs = np.array([0.01, 0.03, 0.07])
    X0 = np.tile([1.0, 0.5], (3, 1))
    opt = make_optimizer(name, lr=lrs[:, None])
    X, state = X0.copy(), opt.init(X0)
    for _ in range(5):
        X, state = opt.step(X, np.array([2.0, 20.0]) * X, state)
    for k, lr in enumerate(lrs):
        single = make_optimizer(name, lr=float(lr))
        x, s = X0[k].copy(), single.init(X0[k])
        for _ in range(5):
            x, s = single.step(x, np.array([2.0, 20.0]) * x, s)
        np.testing.assert_allclose(X[k], x, rtol=1e-15, atol=0)


def test_strings_from_the_command_line_are_converted():
    opt = make_optimizer("muon", lr="0.02", ns_steps="3", nesterov="false")
    assert opt.ns_steps == 3 and opt.nesterov is False and opt.lr == 0.02


@pytest.mark.parametrize("name", ["adadelta", "yogi", "adamw", "amsgrad", "nadam", "radam", "adamax", "lion"])
def test_each_rule_reports_every_setting_its_constructor_takes(name):
    """What a run records as the rule's settings: every keyword the rule takes (its keyword
    defaults), at its default; none left out."""
    opt = make_optimizer(name, lr=0.1)
    assert opt.extra_hyperparameters() == type(opt).keyword_defaults() != {}
