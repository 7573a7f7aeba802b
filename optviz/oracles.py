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
first point of a batch run with the same seed. ``seed`` may also be a list of
N seeds (``--seeds N``): the batch is then N equal groups of rows, group i
drawing from its own generator, so group i equals a run with seed ``seeds[i]``.
"""

from __future__ import annotations

import numpy as np

from optviz.objective import FiniteSum


class ExactOracle:
    description = "exact gradient"

    def __call__(self, X: np.ndarray, exact_grad: np.ndarray) -> np.ndarray:
        return exact_grad


def _generators(seed) -> list[np.random.Generator]:
    seeds = [seed] if np.ndim(seed) == 0 else list(seed)
    return [np.random.default_rng(int(s)) for s in seeds]


def _groups(K: int, n: int) -> list[slice]:
    if K % n:
        raise ValueError(f"a batch of {K} rows cannot be split into {n} seed groups")
    size = K // n
    return [slice(i * size, (i + 1) * size) for i in range(n)]


class NoisyOracle:
    """∇f(θ) + ε, ε ~ N(0, σ²/b · I)."""

    def __init__(self, sigma: float, seed=0, batch_size: int = 1):
        self.sigma, self.batch_size = float(sigma), int(batch_size)
        self.scale = self.sigma / np.sqrt(self.batch_size)
        self.rngs = _generators(seed)
        b = f", b={self.batch_size}" if self.batch_size > 1 else ""
        self.description = f"gradient + N(0, σ²{'/b' if b else ''}) noise, σ={self.sigma:g}{b}"

    def __call__(self, X: np.ndarray, exact_grad: np.ndarray) -> np.ndarray:
        if len(self.rngs) == 1:
            return exact_grad + self.scale * self.rngs[0].standard_normal(exact_grad.shape)
        noise = np.empty_like(exact_grad)
        for rng, rows in zip(self.rngs, _groups(len(exact_grad), len(self.rngs))):
            noise[rows] = rng.standard_normal(noise[rows].shape)
        return exact_grad + self.scale * noise


class SampleOracle:
    """Mean per-sample gradient of a finite sum over drawn samples."""

    def __init__(self, finite_sum: FiniteSum, batch_size: int = 1, seed=0, shuffle: bool = True):
        self.fs = finite_sum
        self.batch_size = int(batch_size)
        self.shuffle = shuffle and self.batch_size > 1
        self.rngs = _generators(seed)
        self._perm: list[np.ndarray] | None = None
        self._pos = 0
        n = finite_sum.n
        self.description = (f"minibatches of {self.batch_size} from a per-epoch shuffle of {n} samples"
                            if self.shuffle else f"one sample of {n}, drawn uniformly")

    def indices(self, K: int) -> np.ndarray:
        """Sample indices for this step, shape (K, b); rows of a seed group share a generator."""
        n, b = self.fs.n, self.batch_size
        groups = _groups(K, len(self.rngs))
        if not self.shuffle:
            return np.concatenate([rng.integers(n, size=(g.stop - g.start, 1)) for rng, g in zip(self.rngs, groups)])
        if self._perm is None or sum(p.shape[0] for p in self._perm) != K or self._pos + b > n:
            self._perm = [rng.permuted(np.tile(np.arange(n), (g.stop - g.start, 1)), axis=1)
                          for rng, g in zip(self.rngs, groups)]
            self._pos = 0
        idx = np.concatenate([p[:, self._pos:self._pos + b] for p in self._perm])
        self._pos += b
        return idx

    def __call__(self, X: np.ndarray, exact_grad: np.ndarray) -> np.ndarray:
        return self.fs.grad(X, self.indices(X.shape[0]))
