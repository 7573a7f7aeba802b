"""Linear, BatchNorm1d, LayerNorm and inverted dropout (docs/math.md §6), forward next to backward.

Shapes: a batch is (m, d) — m samples, d features. ``l`` is the scalar loss and
``dy`` is ∂l/∂y for the layer's output y.
"""

from __future__ import annotations

import numpy as np

from optviz.errors import OptvizError
from optviz.nn.init import get_initializer
from optviz.nn.module import Module

NORM_EPS = 1e-5
BN_RHO = 0.9


class Linear(Module):
    """Affine map y = x W + b, W of shape (n_in, n_out), b of shape (n_out,).

    Backward: ∂l/∂W = xᵀ dy, ∂l/∂b = Σ_i dy_i, ∂l/∂x = dy Wᵀ.
    (torch.nn.Linear stores Wᵀ, shape (n_out, n_in), and computes x Wᵀ + b.)
    W is drawn by ``init`` (see optviz.nn.init); b starts at 0.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        init: str = "he",
        rng: np.random.Generator | None = None,
        dtype=np.float32,
    ) -> None:
        super().__init__()
        rng = np.random.default_rng(0) if rng is None else rng
        self.params = {
            "W": get_initializer(init)(n_in, n_out, rng, dtype),
            "b": np.zeros(n_out, dtype=dtype),
        }
        self.kinds = {"W": "weight", "b": "bias"}
        self._x: np.ndarray | None = None
        # set by Model on layers that read the network input: nobody needs ∂l/∂x there,
        # and dy Wᵀ is one of the larger products of a step
        self.skip_input_grad = False

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        self._x = x
        out = np.matmul(x, self.params["W"])
        out += self.params["b"]  # in place: one array per call, not two
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        """Gradients of W and b; ∂l/∂x, or None when ``skip_input_grad`` (a first layer)."""
        x = self._x
        self.grads = {"W": np.matmul(x.T, dy), "b": dy.sum(axis=0)}
        if self.skip_input_grad:
            return None
        return np.matmul(dy, self.params["W"].T)


def _normalize_backward(
    dy: np.ndarray, x: np.ndarray, mu: np.ndarray, var: np.ndarray, gamma: np.ndarray, axis: int
) -> np.ndarray:
    """∂l/∂x for y = γ x̂ + β, x̂ = (x − μ)/√(σ² + ε), μ and σ² taken over ``axis``.

    The closed form of docs/math.md §6.3, term by term (m = number of values averaged):

        ∂l/∂x̂_i = ∂l/∂y_i · γ
        ∂l/∂σ²  = Σ_i ∂l/∂x̂_i · (x_i − μ) · (−1/2)(σ² + ε)^(−3/2)
        ∂l/∂μ   = Σ_i ∂l/∂x̂_i · (−1/√(σ² + ε)) + ∂l/∂σ² · (−2/m) Σ_i (x_i − μ)
        ∂l/∂x_i = ∂l/∂x̂_i / √(σ² + ε) + ∂l/∂σ² · 2(x_i − μ)/m + ∂l/∂μ / m

    ``var`` is the biased σ² (without ε). The Σ_i (x_i − μ) term is 0 up to rounding
    but is kept so the code reads as the formula. The caller forms
    ∂l/∂γ = Σ_i ∂l/∂y_i x̂_i and ∂l/∂β = Σ_i ∂l/∂y_i.
    """
    m = x.shape[axis]
    centered = x - mu
    inv_std = 1.0 / np.sqrt(var + NORM_EPS)
    dxhat = dy * gamma
    dvar = np.sum(dxhat * centered, axis=axis, keepdims=True) * (-0.5) * inv_std**3
    dmu = np.sum(dxhat * -inv_std, axis=axis, keepdims=True) + dvar * (-2.0 / m) * np.sum(
        centered, axis=axis, keepdims=True
    )
    return dxhat * inv_std + dvar * 2.0 * centered / m + dmu / m


class BatchNorm1d(Module):
    """Batch normalization per feature over the batch (between the affine map and the activation).

    Training (batch of m ≥ 2 samples), for each feature j:

        μ = (1/m) Σ_i x_i,  σ² = (1/m) Σ_i (x_i − μ)²  (biased),
        x̂_i = (x_i − μ)/√(σ² + ε),  y_i = γ x̂_i + β,  ε = 1e-5, γ = 1, β = 0 at start,

    and the running averages move towards the batch statistics:
    running ← ρ·running + (1 − ρ)·batch with ρ = 0.9 (running_mean starts at 0,
    running_var at 1). The running variance averages the *biased* σ² — the statistic
    the batch was normalized with; torch.nn.BatchNorm1d(momentum=0.1) averages the
    unbiased m/(m − 1)·σ² instead, which only changes evaluation.

    Evaluation uses x̂ = (x − running_mean)/√(running_var + ε).

    Backward in training is the closed form of docs/math.md §6.3 (see ``_normalize_backward``)
    plus ∂l/∂γ = Σ_i ∂l/∂y_i · x̂_i and ∂l/∂β = Σ_i ∂l/∂y_i (the derivation writes out
    ∂l/∂β only; ∂l/∂γ follows from y_i = γx̂_i + β the same way). In evaluation μ and σ² are
    constants, so ∂l/∂x = γ ∂l/∂y / √(running_var + ε).

    A training batch of one sample is refused with OptvizError: its variance is 0 and
    x̂ would be identically 0, so the layer would learn nothing from it.
    """

    def __init__(self, dim: int, rho: float = BN_RHO, dtype=np.float32) -> None:
        super().__init__()
        self.rho = rho
        self.params = {"gamma": np.ones(dim, dtype=dtype), "beta": np.zeros(dim, dtype=dtype)}
        self.kinds = {"gamma": "norm", "beta": "norm"}
        self.buffers = {
            "running_mean": np.zeros(dim, dtype=dtype),
            "running_var": np.ones(dim, dtype=dtype),
        }
        self._cache: tuple | None = None

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        gamma, beta = self.params["gamma"], self.params["beta"]
        if train:
            m = x.shape[0]
            if m < 2:
                raise OptvizError(
                    f"BatchNorm in training needs at least 2 samples per batch, got {m} "
                    "(the variance of one sample is 0); use a batch size of 2 or more"
                )
            mu = x.sum(axis=0) * (1.0 / m)
            centered = x - mu
            var = np.einsum("ij,ij->j", centered, centered) * (1.0 / m)
            rho = self.rho
            self.buffers["running_mean"] = (
                rho * self.buffers["running_mean"] + (1 - rho) * mu
            ).astype(x.dtype, copy=False)
            self.buffers["running_var"] = (
                rho * self.buffers["running_var"] + (1 - rho) * var
            ).astype(x.dtype, copy=False)
            inv_std = (1.0 / np.sqrt(var + NORM_EPS)).astype(x.dtype, copy=False)
            # y = γ x̂ + β with x̂ = (x − μ)·inv_std, as (x − μ)·(γ inv_std) + β: one pass less
            out = centered * (gamma * inv_std)
            out += beta
            self._cache = (True, centered, inv_std)
            return out
        mu = self.buffers["running_mean"]
        inv_std = (1.0 / np.sqrt(self.buffers["running_var"] + NORM_EPS)).astype(
            x.dtype, copy=False
        )
        scale = gamma * inv_std
        out = x * scale
        out += beta - mu * scale
        self._cache = (False, x - mu, inv_std)
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """The closed form of docs/math.md §6.3, its terms collected (see the class docstring).

        With x̂ = (x − μ)·s, s = 1/√(σ² + ε), substituting ∂l/∂σ² and ∂l/∂μ into ∂l/∂x_i
        (the Σ_i (x_i − μ) term is exactly 0) gives

            ∂l/∂x_i = γ s · [∂l/∂y_i − (1/m) Σ_k ∂l/∂y_k − x̂_i (1/m) Σ_k ∂l/∂y_k x̂_k]
                    = γ s · [∂l/∂y_i − ∂l/∂β / m − (x_i − μ) · s ∂l/∂γ / m],

        since ∂l/∂β = Σ_k ∂l/∂y_k and ∂l/∂γ = Σ_k ∂l/∂y_k x̂_k. ``_normalize_backward``
        keeps the term-by-term form; the tests check that both agree.
        """
        train, centered, inv_std = self._cache
        gamma = self.params["gamma"]
        dbeta = dy.sum(axis=0)
        dgamma = np.einsum("ij,ij->j", dy, centered) * inv_std
        self.grads = {"gamma": dgamma, "beta": dbeta}
        scale = gamma * inv_std
        if not train:
            return dy * scale
        m = dy.shape[0]
        dx = centered * (-(inv_std * dgamma) * (1.0 / m))
        dx += dy
        dx -= dbeta * (1.0 / m)
        dx *= scale
        return dx


class LayerNorm(Module):
    """Layer normalization: BatchNorm's formulas per sample over its d features.

    μ_i = (1/d) Σ_j x_ij, σ²_i = (1/d) Σ_j (x_ij − μ_i)², x̂_ij = (x_ij − μ_i)/√(σ²_i + ε),
    y_ij = γ_j x̂_ij + β_j, ε = 1e-5, γ = 1, β = 0 at start. No running statistics:
    training and evaluation compute the same thing. Backward: the closed form of seed
    003 §8.3 with the sums over the features of a sample instead of over the batch;
    ∂l/∂γ_j = Σ_i ∂l/∂y_ij x̂_ij, ∂l/∂β_j = Σ_i ∂l/∂y_ij (sums over the batch).
    """

    def __init__(self, dim: int, dtype=np.float32) -> None:
        super().__init__()
        self.params = {"gamma": np.ones(dim, dtype=dtype), "beta": np.zeros(dim, dtype=dtype)}
        self.kinds = {"gamma": "norm", "beta": "norm"}
        self._cache: tuple | None = None

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        mu = x.mean(axis=1, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=1, keepdims=True)
        xhat = (x - mu) / np.sqrt(var + NORM_EPS)
        self._cache = (x, mu, var, xhat)
        return self.params["gamma"] * xhat + self.params["beta"]

    def backward(self, dy: np.ndarray) -> np.ndarray:
        x, mu, var, xhat = self._cache
        self.grads = {"gamma": np.sum(dy * xhat, axis=0), "beta": dy.sum(axis=0)}
        return _normalize_backward(dy, x, mu, var, self.params["gamma"], axis=1)


class Dropout(Module):
    """Inverted dropout with drop probability p, on only in training.

    Training: mask_ij = [u_ij ≥ p] / (1 − p), u ~ U[0, 1) from the layer's own seeded
    Generator ``rng``; y = x ⊙ mask, so E[y] = x and evaluation needs no rescaling.
    Evaluation: y = x. Backward: ∂l/∂x = ∂l/∂y ⊙ mask (the mask of the last forward).

    ``fixed_mask``, when set, is used instead of a fresh draw (for gradient checks).
    """

    def __init__(self, p: float, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise OptvizError(f"dropout must be in [0, 1), got {p}")
        self.p = float(p)
        self.rng = np.random.default_rng(0) if rng is None else rng
        self.fixed_mask: np.ndarray | None = None
        self._mask: np.ndarray | None = None

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        if not train or self.p == 0.0:
            self._mask = None
            return x
        if self.fixed_mask is not None:
            mask = self.fixed_mask
        else:
            keep = self.rng.random(x.shape) >= self.p
            mask = keep.astype(x.dtype) / x.dtype.type(1.0 - self.p)
        self._mask = mask
        return x * mask

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy if self._mask is None else dy * self._mask

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"
