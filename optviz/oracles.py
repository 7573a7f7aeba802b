"""Gradient oracles: what each optimizer sees as "the gradient" (SPEC §2).

=================================  ===========================================
GD and every non-stochastic method  ∇f(θ)
SGD on a finite sum                 ∇fᵢ(θ), i drawn uniformly each step
minibatch SGD on a finite sum       (1/b) Σ_{i∈B} ∇fᵢ(θ); B from a per-epoch
                                    shuffle (each point its own), batch size b;
                                    the n mod b samples left over are dropped
SGD / minibatch on a plain function ∇f(θ) + ε, ε ~ N(0, σ²I) (minibatch σ²/b)
=================================  ===========================================

Randomness comes from one generator seeded with ``seed``; each step draws for
the whole batch at once, point k taking row k, so a single run equals the
first point of a batch run with the same seed.
"""

from __future__ import annotations

import numpy as np

from optviz.objective import FiniteSum


class ExactOracle:
    description = "exact gradient"

    def __call__(self, X: np.ndarray, exact_grad: np.ndarray) -> np.ndarray:
        return exact_grad


class NoisyOracle:
    """∇f(θ) + ε, ε ~ N(0, σ²/b · I)."""

    def __init__(self, sigma: float, seed: int = 0, batch_size: int = 1):
        self.sigma, self.batch_size = float(sigma), int(batch_size)
        self.scale = self.sigma / np.sqrt(self.batch_size)
        self.rng = np.random.default_rng(seed)
        b = f", b={self.batch_size}" if self.batch_size > 1 else ""
        self.description = f"gradient + N(0, σ²{'/b' if b else ''}) noise, σ={self.sigma:g}{b}"

    def __call__(self, X: np.ndarray, exact_grad: np.ndarray) -> np.ndarray:
        return exact_grad + self.scale * self.rng.standard_normal(exact_grad.shape)


class SampleOracle:
    """Mean per-sample gradient of a finite sum over drawn samples."""

    def __init__(self, finite_sum: FiniteSum, batch_size: int = 1, seed: int = 0, shuffle: bool = True):
        self.fs = finite_sum
        self.batch_size = int(batch_size)
        self.shuffle = shuffle and self.batch_size > 1
        self.rng = np.random.default_rng(seed)
        self._perm: np.ndarray | None = None
        self._pos = 0
        n = finite_sum.n
        self.description = (f"minibatches of {self.batch_size} from a per-epoch shuffle of {n} samples"
                            if self.shuffle else f"one sample of {n}, drawn uniformly")

    def indices(self, K: int) -> np.ndarray:
        n, b = self.fs.n, self.batch_size
        if not self.shuffle:
            return self.rng.integers(n, size=(K, 1))
        if self._perm is None or self._perm.shape[0] != K or self._pos + b > n:
            self._perm = self.rng.permuted(np.tile(np.arange(n), (K, 1)), axis=1)
            self._pos = 0
        idx = self._perm[:, self._pos:self._pos + b]
        self._pos += b
        return idx

    def __call__(self, X: np.ndarray, exact_grad: np.ndarray) -> np.ndarray:
        return self.fs.grad(X, self.indices(X.shape[0]))
