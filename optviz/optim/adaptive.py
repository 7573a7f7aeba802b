"""Adadelta and Lion (docs/math.md §4.1, §4.8): rules whose step has the units of θ.

Adadelta scales each gradient by a ratio of two running averages that carries θ's units;
Lion takes the sign of a momentum, so every coordinate moves by exactly η. Notation as in
:mod:`optviz.optim.first_order`; every slot starts at zero.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from optviz.optim.base import Optimizer, non_negative, positive, unit_interval


class Adadelta(Optimizer):
    """Adadelta (docs/math.md §4.1), as torch.optim.Adadelta.

    s ← ρ s + (1 − ρ) g²;  g′ = √(Δ + ε)/√(s + ε) ⊙ g;  θ ← θ − η g′;
    Δ ← ρ Δ + (1 − ρ) g′².

    Defaults: ρ = 0.9 (``rho``), ε = 1e-6 (``eps``); torch's default rate is η = 1. Δ
    averages the squared rescaled steps, so the first step moves each coordinate by about
    η√(ε/(1 − ρ)) whatever the gradient's size, and the steps grow as Δ fills. The
    observed ``effective_lr`` is η√(Δ + ε)/√(s + ε) with the state after the step.
    Libraries differ: d2l §12.9 writes the same rule with ε = 1e-5 and no η;
    optax.adadelta is this rule.
    """

    name = "adadelta"
    lr_family = "adadelta"
    default_train_lr = 5.0
    summary = "gradient rescaled by √(mean squared step)/√(mean squared gradient): steps carry θ's units"
    update_rule = "s ← ρs + (1−ρ)g²;  g′ = √(Δ+ε)/√(s+ε)·g;  θ ← θ − η g′;  Δ ← ρΔ + (1−ρ)g′²"

    class State(NamedTuple):
        count: int
        s: object
        delta: object

    def __init__(self, lr, rho=0.9, eps=1e-6, schedule=None):
        super().__init__(lr, schedule)
        unit_interval("rho", rho, self.name)
        positive("eps", eps, self.name)
        self.rho, self.eps = rho, eps

    def extra_hyperparameters(self):
        return {"rho": self.rho, "eps": self.eps}

    def rule(self, g, slots, lr, t, hessian=None, theta=None):
        s, delta = slots
        s = self.rho * s + (1.0 - self.rho) * (g * g)
        step = np.sqrt(delta + self.eps) / np.sqrt(s + self.eps) * g
        delta = self.rho * delta + (1.0 - self.rho) * (step * step)
        return lr * step, (s, delta)

    def observe(self, state, lr):
        return {"delta": state.delta, "s": state.s,
                "effective_lr": lr * np.sqrt(state.delta + self.eps) / np.sqrt(state.s + self.eps)}


class Lion(Optimizer):
    """Lion (docs/math.md §4.8; Chen et al. 2023), as optax.lion.

    c = β₁ m + (1 − β₁) g;  θ ← θ − η (sign(c) + λθ);  m ← β₂ m + (1 − β₂) g.

    Defaults: β₁ = 0.9, β₂ = 0.99, λ = 0 (``weight_decay``, decoupled as AdamW's). The
    step uses the old m, which is updated afterwards with the other coefficient; every
    coordinate moves by exactly η (plus the decay), except where c = 0. Lion's rate has
    θ's units and is usually 3–10 times smaller than AdamW's. Libraries differ:
    optax.lion's default ``weight_decay`` is 1e-3; torch.optim has no Lion.
    """

    name = "lion"
    lr_family = "sign"
    default_train_lr = 1e-4
    summary = "sign of a momentum blend: every coordinate moves by exactly η"
    update_rule = "c = β₁m + (1−β₁)g;  θ ← θ − η (sign(c) + λθ);  m ← β₂m + (1−β₂)g"

    class State(NamedTuple):
        count: int
        m: object

    def __init__(self, lr, beta1=0.9, beta2=0.99, weight_decay=0.0, schedule=None):
        super().__init__(lr, schedule)
        unit_interval("beta1", beta1, self.name)
        unit_interval("beta2", beta2, self.name)
        non_negative("weight_decay", weight_decay, self.name)
        self.beta1, self.beta2, self.weight_decay = beta1, beta2, weight_decay
        self._decay = not (np.ndim(weight_decay) == 0 and weight_decay == 0)

    def extra_hyperparameters(self):
        return {"beta1": self.beta1, "beta2": self.beta2, "weight_decay": self.weight_decay}

    def rule(self, g, slots, lr, t, hessian=None, theta=None):
        (m,) = slots
        direction = np.sign((1.0 - self.beta1) * g + self.beta1 * m)
        if self._decay:
            direction = direction + self.weight_decay * theta
        m = self.beta2 * m + (1.0 - self.beta2) * g
        return lr * direction, (m,)

    def observe(self, state, lr):
        return {"m": state.m}
