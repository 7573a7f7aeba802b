"""Weight initialization for a Linear layer's W of shape (n_in, n_out) (docs/math.md §6.1).

n_in is the number of inputs of the layer (nodes of the previous layer), n_out the
number of its outputs. Every initializer also takes ``size``, the shape to draw when it
is not (n_in, n_out): a convolution's W of shape (c_out, c_in, k, k) is drawn with the
fans n_in = c_in·k², n_out = c_out·k² (docs/math.md §7.1). Each function takes a
numpy ``Generator`` so a run is reproducible from its seed. Biases are always initialized to
zero: once W is random the symmetry is already broken (docs/math.md §6.1).

==================  =======================================  ====================
name                distribution                             variance
==================  =======================================  ====================
``zeros``           W = 0 (shows the symmetry problem)       0
``xavier``          U[-sqrt(6/(n_in+n_out)), +sqrt(...)]     2/(n_in+n_out)
``he``              U[-sqrt(6/n_in), +sqrt(6/n_in)]          2/n_in
``xavier_normal``   N(0, 2/(n_in+n_out))                     2/(n_in+n_out)
``he_normal``       N(0, 2/n_in)                             2/n_in
==================  =======================================  ====================

``xavier_uniform`` and ``he_uniform`` are aliases of ``xavier`` and ``he``.
torch's ``kaiming_uniform_`` uses the same He bound with its default gain for ReLU.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from optviz.errors import OptvizError

# (n_in, n_out, rng, dtype, size=None) -> W of shape size, by default (n_in, n_out)
Initializer = Callable[..., np.ndarray]


def zeros(
    n_in: int,
    n_out: int,
    rng: np.random.Generator | None = None,
    dtype=np.float64,
    size: tuple[int, ...] | None = None,
) -> np.ndarray:
    """W = 0. Every unit of a layer then computes the same thing forever (symmetry)."""
    return np.zeros((n_in, n_out) if size is None else size, dtype=dtype)


def xavier_uniform(
    n_in: int,
    n_out: int,
    rng: np.random.Generator,
    dtype=np.float64,
    size: tuple[int, ...] | None = None,
) -> np.ndarray:
    """W ~ U[-a, a], a = sqrt(6 / (n_in + n_out)); Var W = 2 / (n_in + n_out)."""
    bound = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-bound, bound, size=(n_in, n_out) if size is None else size).astype(dtype)


def he_uniform(
    n_in: int,
    n_out: int,
    rng: np.random.Generator,
    dtype=np.float64,
    size: tuple[int, ...] | None = None,
) -> np.ndarray:
    """W ~ U[-a, a], a = sqrt(6 / n_in); Var W = 2 / n_in (suited to ReLU)."""
    bound = np.sqrt(6.0 / n_in)
    return rng.uniform(-bound, bound, size=(n_in, n_out) if size is None else size).astype(dtype)


def xavier_normal(
    n_in: int,
    n_out: int,
    rng: np.random.Generator,
    dtype=np.float64,
    size: tuple[int, ...] | None = None,
) -> np.ndarray:
    """W ~ N(0, 2 / (n_in + n_out)) (the argument is the variance)."""
    std = np.sqrt(2.0 / (n_in + n_out))
    return rng.normal(0.0, std, size=(n_in, n_out) if size is None else size).astype(dtype)


def he_normal(
    n_in: int,
    n_out: int,
    rng: np.random.Generator,
    dtype=np.float64,
    size: tuple[int, ...] | None = None,
) -> np.ndarray:
    """W ~ N(0, 2 / n_in) (the argument is the variance)."""
    std = np.sqrt(2.0 / n_in)
    return rng.normal(0.0, std, size=(n_in, n_out) if size is None else size).astype(dtype)


INITIALIZERS: dict[str, Initializer] = {
    "zeros": zeros,
    "xavier": xavier_uniform,
    "xavier_uniform": xavier_uniform,
    "he": he_uniform,
    "he_uniform": he_uniform,
    "xavier_normal": xavier_normal,
    "he_normal": he_normal,
}


def get_initializer(name: str) -> Initializer:
    """The initializer called ``name``; an unknown name raises OptvizError listing the choices."""
    try:
        return INITIALIZERS[name]
    except KeyError:
        choices = ", ".join(INITIALIZERS)
        raise OptvizError(f"unknown init {name!r}; choose one of: {choices}") from None
