"""Adam's relatives, exactly as in docs/math.md §4.2–§4.7: AdamW, NAdam, RAdam, Adamax, Yogi.

Notation as in :mod:`optviz.optim.first_order`: θ parameters, g the gradient of step t
(t = 1, 2, ...), η the scheduled learning rate; element-wise operations; every slot starts
at zero. Each class names the library it matches and where libraries differ.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from optviz.optim.base import Optimizer, non_negative, positive, unit_interval
from optviz.optim.first_order import Adam


class BiasCorrectedAdam(Adam):
    """An Adam relative whose moments are always bias-corrected: its settings are β₁, β₂
    and ε (and the class's own), never Adam's bias_correction switch."""

    def extra_hyperparameters(self):
        return {"beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


class AdamW(Adam):
    """AdamW (docs/math.md §4.3): decoupled weight decay, then Adam's step.

    θ ← θ − ηλθ;  m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;
    θ ← θ − η m̂ / (√v̂ + ε).  Together: θ ← (1 − ηλ)θ − η m̂ / (√v̂ + ε).

    Defaults: Adam's (β₁ = 0.9, β₂ = 0.999, ε = 1e-8, bias_correction = True) and
    λ = 0.01 (``weight_decay``), as torch.optim.AdamW. The decay never enters m or v
    and uses the scheduled η of the step; on a network it applies to every array (biases
    and normalization parameters too), as torch's AdamW with one parameter group does.
    It is not ``optviz train --weight-decay``, an L2 penalty added to the loss (§6.7).
    Libraries differ: optax.adamw's default λ is 1e-4; the paper scales λ by the
    schedule's factor only, torch, optax and optviz by the whole η.
    """

    name = "adamw"
    summary = "Adam with decoupled weight decay: θ shrinks by ηλθ outside the adaptive scaling"
    update_rule = "θ ← θ − ηλθ;  then Adam:  θ ← θ − η m̂ / (√v̂ + ε)"

    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True, weight_decay=0.01,
                 schedule=None):
        super().__init__(lr, beta1, beta2, eps, bias_correction, False, schedule)
        non_negative("weight_decay", weight_decay, self.name)
        self.weight_decay = weight_decay

    def extra_hyperparameters(self):
        return {**super().extra_hyperparameters(), "weight_decay": self.weight_decay}

    def rule(self, g, slots, lr, t, hessian=None, theta=None):
        delta, slots = super().rule(g, slots, lr, t)
        return delta + (lr * self.weight_decay) * theta, slots


class NAdam(BiasCorrectedAdam):
    """NAdam (docs/math.md §4.5), as torch.optim.NAdam: Adam with Nesterov's look-ahead.

    μₜ = β₁(1 − ½·0.96^{tψ});  Πₜ = μ₁⋯μₜ;  m, v as Adam;  v̂ = v / (1 − β₂ᵗ);
    θ ← θ − η(1 − μₜ)/(1 − Πₜ) · g/(√v̂ + ε) − η μₜ₊₁/(1 − Πₜμₜ₊₁) · m/(√v̂ + ε).

    Defaults: β₁ = 0.9, β₂ = 0.999, ε = 1e-8, ψ = 4e-3 (``momentum_decay``); torch's
    default rate is 2e-3. Π is a running product of numbers, kept in float64 (torch keeps
    it in its default dtype, float32 unless changed). Libraries differ: optax.nadam uses a
    constant β₁ (no ψ warm-up of the momentum coefficient).
    """

    name = "nadam"
    default_train_lr = 2e-3
    summary = "Adam with a Nesterov look-ahead on m and a slowly warming momentum coefficient"
    update_rule = ("μₜ = β₁(1 − ½·0.96^{tψ});  θ ← θ − η(1−μₜ)/(1−Πₜ)·g/(√v̂+ε) "
                   "− η μₜ₊₁/(1−Πₜμₜ₊₁)·m/(√v̂+ε)")

    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=4e-3, schedule=None):
        super().__init__(lr, beta1, beta2, eps, True, False, schedule)
        non_negative("momentum_decay", momentum_decay, self.name)
        self.momentum_decay = momentum_decay
        self._products = [1.0]  # Π₀, Π₁, ...: a function of t and the settings only

    def extra_hyperparameters(self):
        return {**super().extra_hyperparameters(), "momentum_decay": self.momentum_decay}

    def mu(self, t):
        """The momentum coefficient μₜ (an array of t works too)."""
        return self.beta1 * (1.0 - 0.5 * 0.96 ** (t * self.momentum_decay))

    def product(self, t: int):
        """Πₜ = μ₁⋯μₜ, multiplied in order as torch does."""
        while len(self._products) <= t:
            self._products.append(self._products[-1] * self.mu(len(self._products)))
        return self._products[t]

    def rule(self, g, slots, lr, t, hessian=None, theta=None):
        m, v = slots
        m = self.beta1 * m + (1.0 - self.beta1) * g
        v = self.beta2 * v + (1.0 - self.beta2) * (g * g)
        mu, mu_next, prod = self.mu(t), self.mu(t + 1), self.product(t)
        denom = np.sqrt(v / (1.0 - self.beta2**t)) + self.eps
        step = ((1.0 - mu) / (1.0 - prod)) * g + (mu_next / (1.0 - prod * mu_next)) * m
        return lr * step / denom, (m, v)

    def observe(self, state, lr):
        v_hat = state.v / (1.0 - self.beta2**state.count)
        return {"m": state.m, "v_hat": v_hat, "effective_lr": lr / (np.sqrt(v_hat) + self.eps)}


class RAdam(BiasCorrectedAdam):
    """RAdam (docs/math.md §4.6), as torch.optim.RAdam: Adam while v̂ can be trusted,
    plain momentum before.

    ρ∞ = 2/(1 − β₂) − 1;  ρₜ = ρ∞ − 2tβ₂ᵗ/(1 − β₂ᵗ);  m, v as Adam;  m̂ = m/(1 − β₁ᵗ).
    If ρₜ > 5: r = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ)),
    θ ← θ − η m̂ r √(1 − β₂ᵗ)/(√v + ε) (ε before the bias correction); else θ ← θ − η m̂.

    Defaults: β₁ = 0.9, β₂ = 0.999, ε = 1e-8; for β₂ = 0.999 the first five steps are
    plain momentum steps of size η|m̂|. Libraries differ: the paper switches at ρₜ > 4;
    optax.radam switches at ρₜ ≥ 5 and adds ε after the correction.
    """

    name = "radam"
    default_train_lr = 5e-3
    summary = "Adam with a rectified step: plain momentum until v's variance is small enough"
    update_rule = "ρₜ > 5:  θ ← θ − η m̂ r √(1−β₂ᵗ)/(√v + ε);  else  θ ← θ − η m̂"

    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-8, schedule=None):
        super().__init__(lr, beta1, beta2, eps, True, False, schedule)

    def factor(self, v, t):
        """What multiplies η m̂: r √(1 − β₂ᵗ)/(√v + ε) where ρₜ > 5, else 1."""
        b2 = self.beta2
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        rho = rho_inf - 2.0 * t * b2**t / (1.0 - b2**t)
        adaptive = np.sqrt(1.0 - b2**t) / (np.sqrt(v) + self.eps)
        if np.ndim(rho) == 0:
            if rho <= 5.0:
                return 1.0
            return adaptive * np.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        rect = np.sqrt(np.maximum((rho - 4) * (rho - 2), 0.0) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        return np.where(rho > 5.0, adaptive * rect, 1.0)

    def rule(self, g, slots, lr, t, hessian=None, theta=None):
        m, v = slots
        m = self.beta1 * m + (1.0 - self.beta1) * g
        v = self.beta2 * v + (1.0 - self.beta2) * (g * g)
        return (m / (1.0 - self.beta1**t)) * lr * self.factor(v, t), (m, v)

    def observe(self, state, lr):
        t = np.maximum(state.count, 1)  # the record's row 0 (no step yet) is not shown
        return {"m_hat": state.m / (1.0 - self.beta1**t), "v_hat": state.v / (1.0 - self.beta2**t),
                "effective_lr": lr * self.factor(state.v, t)}


class Adamax(Optimizer):
    """Adamax (docs/math.md §4.7), as torch.optim.Adamax: Adam with an ∞-norm.

    m ← β₁ m + (1 − β₁) g;  u ← max(β₂ u, |g| + ε);  θ ← θ − η/(1 − β₁ᵗ) · m/u.

    Defaults: β₁ = 0.9, β₂ = 0.999, ε = 1e-8; torch's default rate is 2e-3. Libraries
    differ: the paper's u ← max(β₂u, |g|) has no ε; optax.adamax is this rule.
    """

    name = "adamax"
    lr_family = "adaptive"
    default_train_lr = 5e-3
    summary = "Adam with a decaying maximum of |g| in place of √v"
    update_rule = "m ← β₁m + (1−β₁)g;  u ← max(β₂u, |g| + ε);  θ ← θ − η/(1−β₁ᵗ) · m/u"

    class State(NamedTuple):
        count: int
        m: object
        u: object

    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-8, schedule=None):
        super().__init__(lr, schedule)
        unit_interval("beta1", beta1, self.name)
        unit_interval("beta2", beta2, self.name)
        positive("eps", eps, self.name)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def extra_hyperparameters(self):
        return {"beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}

    def rule(self, g, slots, lr, t, hessian=None, theta=None):
        m, u = slots
        m = self.beta1 * m + (1.0 - self.beta1) * g
        u = np.maximum(self.beta2 * u, np.abs(g) + self.eps)
        return (lr / (1.0 - self.beta1**t)) * m / u, (m, u)

    def observe(self, state, lr):
        t = np.maximum(state.count, 1)
        return {"m_hat": state.m / (1.0 - self.beta1**t), "u": state.u, "effective_lr": lr / state.u}


class Yogi(BiasCorrectedAdam):
    """Yogi (docs/math.md §4.2): Adam whose v moves towards g² by a fixed fraction of g².

    m ← β₁ m + (1 − β₁) g;  v ← v − (1 − β₂) g² ⊙ sign(v − g²);
    m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ);  θ ← θ − η m̂ / (√v̂ + ε).

    Defaults: β₁ = 0.9, β₂ = 0.999, ε = 1e-3 (d2l §12.10, optax.yogi). m and v start at 0,
    as in d2l. Libraries differ: optax.yogi starts both at 1e-6
    (``initial_accumulator_value``), so its first steps differ from these.
    """

    name = "yogi"
    default_train_lr = 3e-3
    summary = "Adam whose v changes by (1−β₂)g² towards g², so its rate cannot jump up"
    update_rule = "v ← v − (1−β₂) g² ⊙ sign(v − g²);  m, m̂, v̂ and the step as Adam (ε = 1e-3)"

    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-3, schedule=None):
        super().__init__(lr, beta1, beta2, eps, True, False, schedule)

    def rule(self, g, slots, lr, t, hessian=None, theta=None):
        m, v = slots
        m = self.beta1 * m + (1.0 - self.beta1) * g
        g2 = g * g
        v = v - (1.0 - self.beta2) * np.sign(v - g2) * g2
        return lr * (m / (1.0 - self.beta1**t)) / (np.sqrt(v / (1.0 - self.beta2**t)) + self.eps), (m, v)
