"""Muon (docs/math.md §4.9): orthogonalized momentum for a network's weight matrices."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from optviz import validate
from optviz.errors import OptvizError
from optviz.optim.adam_variants import AdamW
from optviz.optim.base import Optimizer, non_negative, positive, unit_interval

NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def newton_schulz(X: np.ndarray, steps: int, eps: float) -> np.ndarray:
    """The quintic Newton–Schulz iteration on a stack of wide matrices (n, r, c), r ≤ c.

    X₀ = X / max(‖X‖_F, eps) per matrix; then ``steps`` times: A = X Xᵀ,
    X ← a X + (b A + c A²) X. Every singular value is pushed towards 1 (to about
    0.5–1.5) while the singular vectors stay: X ends near the orthogonal factor of the
    polar decomposition. Computed in X's own dtype.
    """
    a, b, c = NS_COEFFICIENTS
    norms = np.sqrt(np.einsum("nij,nij->n", X, X))
    X = X / np.maximum(norms, eps).astype(X.dtype)[:, None, None]
    for _ in range(steps):  # in place where possible: the temporaries cost as much as a product
        A = np.matmul(X, X.transpose(0, 2, 1))
        B = np.matmul(A, A)
        B *= c
        A *= b
        B += A
        Y = np.matmul(B, X)
        X *= a
        Y += X
        X = Y
    return X


def torch_matrix(array: np.ndarray) -> np.ndarray:
    """The (out, in) matrix torch would see: a Linear W (in, out) transposed, a convolution
    filter (c_out, c_in, k, k) as (c_out, c_in·k·k). A view where possible."""
    return array.T if array.ndim == 2 else array.reshape(array.shape[0], -1)


def from_torch_matrix(matrix: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return matrix.T if len(shape) == 2 else matrix.reshape(shape)


class Muon(Optimizer):
    """Muon (docs/math.md §4.9), as the code of torch.optim.Muon; for networks only.

    For each weight matrix G (gradient) in torch's layout (out, in), with momentum buffer B:
    B ← μ B + (1 − μ) G;  U = (1 − μ) G + μ B if nesterov else B;
    O = Newton–Schulz(U) (5 quintic steps on U / max(‖U‖_F, eps), transposed while
    out > in so that the Gram matrix is the smaller one);
    θ ← θ (1 − ηλ);  θ ← θ − η √max(1, out/in) · O.

    optviz's Linear stores W as (in, out): its gradient is transposed and the result
    transposed back; a convolution filter (c_out, c_in, k, k) is used as the matrix
    (c_out, c_in·k·k). A matrix is every parameter of kind "weight" with two or more
    axes (every array with two or more axes when no kinds are given).
    Every other parameter (biases, normalization γ and β, PReLU slopes) is updated by
    AdamW (§4.3) with AdamW's defaults (β₁ = 0.9, β₂ = 0.999, ε = 1e-8, λ = 0.01) at the
    rate ``adamw_lr`` (default 1e-3, torch.optim.AdamW's), which follows Muon's schedule
    (it is scaled by η/η₀).

    Defaults: η = 1e-3 (torch's), μ = 0.95 (``momentum``), nesterov = True,
    λ = 0.1 (``weight_decay``), eps = 1e-7, 5 Newton–Schulz steps (``ns_steps``).
    The iteration runs in the parameters' dtype (float32 for the default network).
    Libraries differ: torch runs it in bfloat16 (1–40 % from float64 in a layer's
    orthogonalized update); torch's docstring writes B ← μB + g and g + μB, its code (and
    this class) the (1 − μ)-weighted forms; torch refuses parameters that are not 2-D and
    has no AdamW part (one pairs it with a separate AdamW); Jordan's reference also leaves
    the first and last layers to AdamW, where optviz gives every weight matrix to Muon.
    On a surface (one point, or a batch of points) there is no matrix to orthogonalize:
    Muon is refused there.
    """

    name = "muon"
    lr_family = "adaptive"
    default_train_lr = 1e-3
    elementwise = False
    network_only = True
    network_reason = ("it orthogonalizes the weight matrices of a network, and a point on a function is a "
                      "vector with no matrix to orthogonalize")
    summary = "networks only: momentum orthogonalized by Newton–Schulz on each weight matrix"
    update_rule = ("B ← μB + (1−μ)G;  O = NS₅((1−μ)G + μB);  θ ← θ(1 − ηλ) − η√max(1, out/in)·O  "
                   "(AdamW for non-matrices)")

    class State(NamedTuple):
        count: int
        momentum: object
        m: object
        v: object

    def __init__(self, lr, momentum=0.95, nesterov=True, weight_decay=0.1, eps=1e-7, ns_steps=5,
                 adamw_lr=1e-3, schedule=None):
        super().__init__(lr, schedule)
        unit_interval("momentum", momentum, self.name)
        non_negative("weight_decay", weight_decay, self.name)
        positive("eps", eps, self.name)
        positive("adamw_lr", adamw_lr, self.name)
        for key, value in (("momentum", momentum), ("weight_decay", weight_decay), ("eps", eps),
                           ("adamw_lr", adamw_lr), ("lr", self.lr)):
            if value is not None and np.ndim(value):
                raise OptvizError(f"muon: {{{key}}} must be one number (muon trains one network)", param=key)
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self.weight_decay, self.eps, self.adamw_lr = float(weight_decay), float(eps), float(adamw_lr)
        self.ns_steps = validate.whole("ns_steps", ns_steps, 0, 99)
        self.adamw = AdamW(self.adamw_lr)

    def extra_hyperparameters(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov, "weight_decay": self.weight_decay,
                "eps": self.eps, "ns_steps": self.ns_steps, "adamw_lr": self.adamw_lr}

    def init(self, params, kinds: dict[str, str] | None = None):
        """Zero momentum for every weight matrix, zero m and v for every other array.

        ``kinds`` (name → "weight", "bias", "norm", ...) tells which arrays are weights.
        """
        if not isinstance(params, dict):
            raise OptvizError(f"muon trains networks only: {self.network_reason}; use it with train, "
                              "or adamw or lion here")
        matrices = {k for k, p in params.items()
                    if np.ndim(p) >= 2 and (kinds is None or kinds.get(k) == "weight")}
        zeros = {k: np.zeros_like(p) for k, p in params.items()}
        others = {k: z for k, z in zeros.items() if k not in matrices}
        return self.State(0, {k: zeros[k] for k in matrices}, others, {k: np.zeros_like(z) for k, z in others.items()})

    def step(self, params, grad, state, *, hessian=None, lr=None):
        if not isinstance(params, dict):
            self.init(params)  # refuses with the reason
        t = state.count + 1
        if lr is None:
            lr = self.learning_rate(state.count)
        new_params = dict(params)
        m, v = dict(state.m), dict(state.v)
        adamw_lr = self.adamw_lr * (lr / self.lr if self.lr else 1.0)
        for key in state.m:
            p = params[key]
            delta, (m[key], v[key]) = self.adamw.rule(grad[key], (m[key], v[key]), adamw_lr, t, None, p)
            new_params[key] = (p - delta).astype(p.dtype, copy=False)
        momentum = self._update_matrices(params, grad, state.momentum, lr, new_params)
        return new_params, self.State(t, momentum, m, v)

    def _update_matrices(self, params, grad, buffers, lr, out) -> dict[str, np.ndarray]:
        """Momentum, orthogonalization (matrices of one shape as one stack) and the update."""
        mu = self.momentum
        new_buffers, groups = {}, {}
        for key, buf in buffers.items():
            g = grad[key]
            buf = buf + (1.0 - mu) * (g - buf)
            new_buffers[key] = buf
            update = torch_matrix(g + mu * (buf - g) if self.nesterov else buf)
            flipped = update.shape[0] > update.shape[1]
            wide = update.T if flipped else update
            groups.setdefault(wide.shape, []).append((key, wide, flipped, update.shape))
        for members in groups.values():
            ortho = newton_schulz(np.stack([wide for _, wide, _, _ in members]), self.ns_steps, self.eps)
            for (key, _, flipped, (rows, cols)), X in zip(members, ortho):
                p = params[key]
                O = from_torch_matrix(X.T if flipped else X, p.shape)
                step = lr * math.sqrt(max(1.0, rows / cols))
                out[key] = (p * (1.0 - lr * self.weight_decay) - step * O).astype(p.dtype, copy=False)
        return new_buffers
