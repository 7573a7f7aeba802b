"""Gradient oracles: what each optimizer sees as "the gradient" (docs/math.md §2).

=================================  ===========================================
GD and every non-stochastic method  ∇f(θ)
SGD on a finite sum                 ∇fᵢ(θ), i drawn uniformly each step
minibatch SGD on a finite sum       (1/b) Σ_{i∈B} ∇fᵢ(θ); B from a per-epoch
                                    shuffle (each point its own), batch size b;
                                    the n mod b samples left over are dropped
SGD / minibatch on a plain function ∇f(θ) + ε, ε ~ N(0, σ²I) (minibatch σ²/b)
=================================  ===========================================

Randomness is counter-based: the draws of step t come from a Philox stream
keyed by ``seed`` and positioned by t, and each step draws for the whole batch
at once (point k taking row k). So a single run equals the first point of a
batch run with the same seed, and nothing depends on how many steps other
points took. ``seed`` may also be a list of N seeds (``--seeds N``): the batch
is then N equal groups of rows, group i keyed by ``seeds[i]``, so group i
equals a run with that seed.
"""

from __future__ import annotations

import numpy as np

from optviz.objective import FiniteSum


class ExactOracle:
    description = "exact gradient"

    def __call__(self, X: np.ndarray, exact_grad: np.ndarray) -> np.ndarray:
        return exact_grad


def _seeds(seed) -> list[int]:
    return [int(seed)] if np.ndim(seed) == 0 else [int(s) for s in seed]


def _stream(seed: int, counter: int) -> np.random.Generator:
    """The generator of draw number ``counter`` (a step, an epoch) of a seed.

    The counter sits in Philox's second counter word, so streams of
    consecutive counters are 2⁶⁴ blocks apart and never overlap.
    """
    return np.random.Generator(np.random.Philox(key=seed, counter=[0, counter, 0, 0]))


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
        self.seeds = _seeds(seed)
        self.step = 0
        b = f", b={self.batch_size}" if self.batch_size > 1 else ""
        self.description = f"gradient + N(0, σ²{'/b' if b else ''}) noise, σ={self.sigma:g}{b}"

    def __call__(self, X: np.ndarray, exact_grad: np.ndarray) -> np.ndarray:
        self.step += 1
        if len(self.seeds) == 1:
            return exact_grad + self.scale * _stream(self.seeds[0], self.step).standard_normal(exact_grad.shape)
        noise = np.empty_like(exact_grad)
        for seed, rows in zip(self.seeds, _groups(len(exact_grad), len(self.seeds))):
            noise[rows] = _stream(seed, self.step).standard_normal(noise[rows].shape)
        return exact_grad + self.scale * noise


class SampleOracle:
    """Mean per-sample gradient of a finite sum over drawn samples."""

    def __init__(self, finite_sum: FiniteSum, batch_size: int = 1, seed=0, shuffle: bool = True):
        self.fs = finite_sum
        self.batch_size = int(batch_size)
        self.shuffle = shuffle and self.batch_size > 1
        self.seeds = _seeds(seed)
        self.step = 0
        self.epoch = 0
        self._perm: list[np.ndarray] | None = None
        self._pos = 0
        n = finite_sum.n
        self.description = (f"minibatches of {self.batch_size} from a per-epoch shuffle of {n} samples"
                            if self.shuffle else f"one sample of {n}, drawn uniformly")

    def indices(self, K: int) -> np.ndarray:
        """Sample indices for this step, shape (K, b); rows of a seed group share a generator."""
        n, b = self.fs.n, self.batch_size
        groups = _groups(K, len(self.seeds))
        if not self.shuffle:
            self.step += 1
            return np.concatenate([_stream(s, self.step).integers(n, size=(g.stop - g.start, 1))
                                   for s, g in zip(self.seeds, groups)])
        if self._perm is None or sum(p.shape[0] for p in self._perm) != K or self._pos + b > n:
            self.epoch += 1
            self._perm = [_stream(s, self.epoch).permuted(np.tile(np.arange(n), (g.stop - g.start, 1)), axis=1)
                          for s, g in zip(self.seeds, groups)]
            self._pos = 0
        idx = np.concatenate([p[:, self._pos:self._pos + b] for p in self._perm])
        self._pos += b
        return idx

    def __call__(self, X: np.ndarray, exact_grad: np.ndarray) -> np.ndarray:
        return self.fs.grad(X, self.indices(X.shape[0]))
