"""First-order optimizers, exactly as in docs/math.md §3.

Notation: θ parameters, g the gradient used at step t (t = 1, 2, ...), η the
learning rate of step t after its schedule; squares, roots and divisions are
element-wise. Every state slot starts at zero.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from optviz.errors import OptvizError
from optviz.optim.base import Optimizer, closed_unit_interval, positive, unit_interval


class GD(Optimizer):
    """Gradient descent (docs/math.md §3.1): θ ← θ − η g, with g the full gradient ∇f(θ).

    Defaults: none besides ``lr``. torch.optim.SGD with momentum=0 is the same.
    """

    name = "gd"
    default_train_lr = 0.1
    summary = "gradient descent on the full gradient"
    update_rule = "θ ← θ − η g"

    class State(NamedTuple):
        count: int

    def rule(self, g, slots, lr, t, hessian=None, theta=None):
        return lr * g, ()


class SGD(GD):
    """Stochastic gradient descent: θ ← θ − η g, g = ∇fᵢ(θ) for one sample i.

    On a finite sum, i is drawn uniformly each step; on a plain function,
    g = ∇f(θ) + ε with ε ~ N(0, σ²I), σ = ``noise`` (seeded). The update is
    GD's; only the gradient oracle differs (see :mod:`optviz.oracles`).
    torch.optim.SGD is the same update.
    """

    name = "sgd"
    oracle = "sample"
    summary = "one sample's gradient (or the gradient plus N(0, σ²) noise)"


class MinibatchSGD(GD):
    """Minibatch SGD: θ ← θ − η g, g = (1/b) Σ_{i∈B} ∇fᵢ(θ).

    B comes from a per-epoch shuffle with batch size b; on a plain function
    g = ∇f(θ) + ε, ε ~ N(0, σ²/b · I). torch.optim.SGD is the same update.
    """

    name = "minibatch"
    oracle = "minibatch"
    summary = "mean gradient of a shuffled minibatch of b samples"


class Momentum(Optimizer):
    """Momentum (heavy ball), optionally Nesterov (docs/math.md §3.2).

    v ← β v + (1 − dampening) g;  θ ← θ − η v.
    Nesterov: θ ← θ − η (g + β v), with v already updated.

    Defaults: β = 0.9 (``beta``), dampening = 0, nesterov = False.
    dampening = β gives the moving average V = βV + (1 − β) dθ (docs/math.md §3.2, §3.7);
    dampening = 0 is the form of d2l and torch.optim.SGD(momentum=β). torch
    applies dampening from its second step on (its first step sets v = g);
    here every step, the first included, uses (1 − dampening) g.
    """

    name = "momentum"
    lr_family = "momentum"
    default_train_lr = 0.05
    summary = "velocity v accumulates gradients; Nesterov looks ahead"
    update_rule = "v ← β v + (1 − dampening) g;  θ ← θ − η v   (Nesterov: θ ← θ − η (g + β v))"

    class State(NamedTuple):
        count: int
        v: object

    def __init__(self, lr, beta=0.9, dampening=0.0, nesterov=False, schedule=None):
        super().__init__(lr, schedule)
        unit_interval("beta", beta, self.name)
        closed_unit_interval("dampening", dampening, self.name)
        self.beta, self.dampening, self.nesterov = beta, dampening, bool(nesterov)
        self._g_scale = None if np.ndim(dampening) == 0 and dampening == 0 else 1.0 - np.asarray(dampening)

    def extra_hyperparameters(self):
        return {"beta": self.beta, "dampening": self.dampening, "nesterov": self.nesterov}

    def rule(self, g, slots, lr, t, hessian=None, theta=None):
        (v,) = slots
        v = self.beta * v + (g if self._g_scale is None else self._g_scale * g)
        direction = g + self.beta * v if self.nesterov else v
        return lr * direction, (v,)

    def observe(self, state, lr):
        return {"v": state.v}


class Nesterov(Momentum):
    """Nesterov momentum: Momentum with nesterov=True (see :class:`Momentum`).

    v ← β v + (1 − dampening) g;  θ ← θ − η (g + β v).  Defaults β = 0.9.
    torch.optim.SGD(momentum=β, nesterov=True) takes the same step.
    """

    name = "nesterov"
    summary = "momentum with the look-ahead gradient correction"

    def __init__(self, lr, beta=0.9, dampening=0.0, nesterov=True, schedule=None):
        super().__init__(lr, beta, dampening, nesterov, schedule)


class AdaGrad(Optimizer):
    """AdaGrad (docs/math.md §3.3): s ← s + g²;  θ ← θ − η g / √(s + ε).

    Defaults: ε = 1e-6 (``eps``). torch.optim.Adagrad puts ε outside the root,
    η g / (√s + ε), with ε = 1e-10, and has an lr_decay that optviz leaves to schedules (docs/math.md §3.3, §5).
    """

    name = "adagrad"
    lr_family = "adagrad"
    default_train_lr = 0.05
    summary = "per-coordinate rate shrinks with the sum of squared gradients"
    update_rule = "s ← s + g²;  θ ← θ − η g / √(s + ε)"

    class State(NamedTuple):
        count: int
        s: object

    def __init__(self, lr, eps=1e-6, schedule=None):
        super().__init__(lr, schedule)
        positive("eps", eps, self.name)
        self.eps = eps

    def extra_hyperparameters(self):
        return {"eps": self.eps}

    def rule(self, g, slots, lr, t, hessian=None, theta=None):
        (s,) = slots
        s = s + g * g
        return lr * g / np.sqrt(s + self.eps), (s,)

    def observe(self, state, lr):
        return {"s": state.s, "effective_lr": lr / np.sqrt(state.s + self.eps)}


class RMSprop(Optimizer):
    """RMSprop (docs/math.md §3.4): s ← β s + (1 − β) g²;  θ ← θ − η g / √(s + ε).

    Defaults: β = 0.9 (``beta``), ε = 1e-6 (``eps``). torch.optim.RMSprop uses
    α = 0.99 for β and puts ε outside the root: η g / (√s + ε), ε = 1e-8.
    """

    name = "rmsprop"
    lr_family = "adaptive"
    default_train_lr = 1e-3
    summary = "per-coordinate rate from a moving average of squared gradients"
    update_rule = "s ← β s + (1 − β) g²;  θ ← θ − η g / √(s + ε)"

    class State(NamedTuple):
        count: int
        s: object

    def __init__(self, lr, beta=0.9, eps=1e-6, schedule=None):
        super().__init__(lr, schedule)
        unit_interval("beta", beta, self.name)
        positive("eps", eps, self.name)
        self.beta, self.eps = beta, eps

    def extra_hyperparameters(self):
        return {"beta": self.beta, "eps": self.eps}

    def rule(self, g, slots, lr, t, hessian=None, theta=None):
        (s,) = slots
        s = self.beta * s + (1.0 - self.beta) * (g * g)
        return lr * g / np.sqrt(s + self.eps), (s,)

    def observe(self, state, lr):
        return {"s": state.s, "effective_lr": lr / np.sqrt(state.s + self.eps)}


class Adam(Optimizer):
    """Adam (docs/math.md §3.5): m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;
    m̂ = m / (1 − β₁ᵗ);  v̂ = v / (1 − β₂ᵗ);  θ ← θ − η m̂ / (√v̂ + ε).

    Defaults: β₁ = 0.9, β₂ = 0.999, ε = 1e-8, bias_correction = True, amsgrad = False
    (``beta1``, ``beta2``, ``eps``, ``bias_correction``; without correction
    m̂ = m and v̂ = v). torch.optim.Adam takes the same step (it folds the
    corrections into the step size; the results agree to rounding).
    ``amsgrad=True`` builds :class:`AMSGrad` (docs/math.md §4.4), as torch's flag does.
    """

    name = "adam"
    lr_family = "adaptive"
    default_train_lr = 1e-3
    summary = "momentum (m) and RMSprop scaling (v), both bias-corrected"
    update_rule = "m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − η m̂ / (√v̂ + ε)"

    class State(NamedTuple):
        count: int
        m: object
        v: object

    def __new__(cls, *args, **kwargs):
        if cls is Adam and amsgrad_flag(kwargs.get("amsgrad", args[5] if len(args) > 5 else False)):
            cls = AMSGrad
        return super().__new__(cls)

    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True, amsgrad=False,
                 schedule=None):
        super().__init__(lr, schedule)
        if amsgrad_flag(amsgrad) != isinstance(self, AMSGrad):
            raise OptvizError(f"{self.name}: {{amsgrad}} must be {isinstance(self, AMSGrad)} here, got {amsgrad!r} "
                              "(adam with amsgrad=true is amsgrad)", param="amsgrad")
        unit_interval("beta1", beta1, self.name)
        unit_interval("beta2", beta2, self.name)
        positive("eps", eps, self.name)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.bias_correction = bool(bias_correction)

    def extra_hyperparameters(self):
        return {"beta1": self.beta1, "beta2": self.beta2, "eps": self.eps,
                "bias_correction": self.bias_correction}

    def corrections(self, t: int):
        if not self.bias_correction:
            return 1.0, 1.0
        return 1.0 - self.beta1**t, 1.0 - self.beta2**t

    def rule(self, g, slots, lr, t, hessian=None, theta=None):
        m, v = slots
        m = self.beta1 * m + (1.0 - self.beta1) * g
        v = self.beta2 * v + (1.0 - self.beta2) * (g * g)
        c1, c2 = self.corrections(t)
        return lr * (m / c1) / (np.sqrt(v / c2) + self.eps), (m, v)

    def observe(self, state, lr):
        c1, c2 = self.corrections(state.count)
        m_hat, v_hat = state.m / c1, state.v / c2
        return {"m_hat": m_hat, "v_hat": v_hat, "effective_lr": lr / (np.sqrt(v_hat) + self.eps)}


def amsgrad_flag(value) -> bool:
    """``amsgrad`` as a bool (a bool, or 0/1): anything else is refused."""
    if isinstance(value, (bool, np.bool_)) or (np.ndim(value) == 0 and value in (0, 1)):
        return bool(value)
    raise OptvizError(f"adam: {{amsgrad}} must be true or false, got {value!r}", param="amsgrad")


class AMSGrad(Adam):
    """AMSGrad (docs/math.md §4.4): Adam whose second moment only grows.

    m, v as Adam;  v_max ← max(v_max, v);  θ ← θ − η m̂ / (√(v_max / (1 − β₂ᵗ)) + ε).

    Defaults: Adam's (β₁ = 0.9, β₂ = 0.999, ε = 1e-8, bias_correction = True); the same
    as ``adam`` with ``amsgrad=true``. torch.optim.Adam(amsgrad=True) takes this step.
    Libraries differ: optax.amsgrad keeps the maximum of the bias-corrected v̂ instead of
    the raw v; the paper uses no bias correction (``bias_correction=false`` here).
    """

    name = "amsgrad"
    summary = "Adam whose second moment v_max never decreases"
    update_rule = "m, v as Adam;  v_max ← max(v_max, v);  θ ← θ − η m̂ / (√(v_max/(1−β₂ᵗ)) + ε)"

    class State(NamedTuple):
        count: int
        m: object
        v: object
        v_max: object

    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True, amsgrad=True,
                 schedule=None):
        super().__init__(lr, beta1, beta2, eps, bias_correction, amsgrad, schedule)

    @classmethod
    def keyword_defaults(cls):
        out = super().keyword_defaults()
        out.pop("amsgrad")
        return out

    def rule(self, g, slots, lr, t, hessian=None, theta=None):
        m, v, v_max = slots
        m = self.beta1 * m + (1.0 - self.beta1) * g
        v = self.beta2 * v + (1.0 - self.beta2) * (g * g)
        v_max = np.maximum(v_max, v)
        c1, c2 = self.corrections(t)
        return lr * (m / c1) / (np.sqrt(v_max / c2) + self.eps), (m, v, v_max)

    def observe(self, state, lr):
        c1, c2 = self.corrections(state.count)
        v_hat = state.v_max / c2
        return {"m_hat": state.m / c1, "v_hat": v_hat, "effective_lr": lr / (np.sqrt(v_hat) + self.eps)}
