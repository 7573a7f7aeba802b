"""Objectives compiled for batches of points, and finite-sum objectives (docs/math.md §1).

An :class:`Objective` holds a sympy expression in d variables, its exact
gradient and Hessian, and numpy functions over a batch of K points:
``f(X) -> (K,)``, ``grad(X) -> (K, d)``, ``hess(X) -> (K, d, d)``.

Compilation uses ``lambdify`` on symbols whose names optviz generates
(``v0, v1, ...``, data ``u0, u1, ...``); the user's variable names never reach
the code generator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import sympy

from optviz.derivatives import gradient, hessian
from optviz.errors import OptvizError
from optviz.expr import Formula, make_symbol, parse_formula


@dataclass(frozen=True)
class Minimum:
    point: tuple[float, ...]
    value: float


@dataclass(frozen=True)
class Symbolic:
    """The expressions an objective's numpy functions are compiled from.

    ``params`` are the generated symbols (v0, v1, ...) standing for the
    variables, ``data`` those of a finite sum's columns (u0, u1, ...; empty
    otherwise). ``value``, ``grad`` (d entries) and ``hess`` (d·d, row-major)
    are the objective itself or, for a finite sum, one sample's fᵢ, whose mean
    over the ``rows`` of data is the objective. Other code generators (the
    explorable page's JavaScript) start from these, never from user text.
    """

    params: tuple[sympy.Symbol, ...]
    data: tuple[sympy.Symbol, ...]
    value: sympy.Expr
    grad: tuple[sympy.Expr, ...]
    hess: tuple[sympy.Expr, ...]
    rows: np.ndarray | None = None


def _generated(prefix: str, n: int) -> list[sympy.Symbol]:
    return [sympy.Symbol(f"{prefix}{i}", real=True) for i in range(n)]


def _compile(args: Sequence[sympy.Symbol], exprs: list[sympy.Expr]) -> Callable:
    """Compile a flat list of expressions; the result returns a list of arrays/scalars."""
    return sympy.lambdify(args, exprs, modules="numpy", cse=True)


BLOCK = 1 << 16  # values a finite sum evaluates at once (4 MiB per array of float64)


class FiniteSum:
    """f(θ) = (1/n) Σᵢ fᵢ(θ) with data rows dᵢ; fᵢ is one per-sample expression.

    ``sample_value(X, idx)`` and ``sample_grad(X, idx)`` evaluate the mean over
    the samples ``idx`` (shape (K, b)) of fᵢ and ∇fᵢ at each of the K points.
    """

    def __init__(self, per_sample: sympy.Expr, params: Sequence[sympy.Symbol],
                 data_symbols: Sequence[sympy.Symbol], data: np.ndarray):
        data = np.asarray(data, dtype=float)
        if data.ndim != 2 or data.shape[1] != len(data_symbols) or data.shape[0] < 1:
            raise OptvizError(
                f"finite-sum data must be a table of n rows and {len(data_symbols)} columns "
                f"({', '.join(map(str, data_symbols))}); got shape {data.shape}"
            )
        self.data = data
        self.n = data.shape[0]
        self._p_gen = _generated("v", len(params))
        self._d_gen = _generated("u", len(data_symbols))
        sub = dict(zip(params, self._p_gen)) | dict(zip(data_symbols, self._d_gen))
        self._expr = per_sample.xreplace(sub)
        self._shown = per_sample
        self.dim = len(params)

    # Derivatives and compiled functions are made on first use, within the size budget
    # of optviz.derivatives (the Hessian only for Newton).
    @cached_property
    def _grad_exprs(self) -> list[sympy.Expr]:
        return gradient(self._expr, self._p_gen, self._shown)

    @cached_property
    def _hess_exprs(self) -> list[sympy.Expr]:
        return hessian(self._expr, self._grad_exprs, self._p_gen, self._shown)

    @cached_property
    def _f(self) -> Callable:
        return _compile(self._p_gen + self._d_gen, [self._expr])

    @cached_property
    def _g(self) -> Callable:
        return _compile(self._p_gen + self._d_gen, self._grad_exprs)

    @cached_property
    def _h(self) -> Callable:
        return _compile(self._p_gen + self._d_gen, self._hess_exprs)

    def symbolic_parts(self, hessian: bool = True) -> Symbolic:
        """The expressions of one sample's fᵢ (see :class:`Symbolic`)."""
        hess = tuple(self._hess_exprs) if hessian else ()
        return Symbolic(tuple(self._p_gen), tuple(self._d_gen), self._expr, tuple(self._grad_exprs), hess,
                        self.data)

    def _eval(self, fn: Callable, X: np.ndarray, idx: np.ndarray | None) -> np.ndarray:
        """Per-sample values, stacked: shape (m, K, b) for m outputs."""
        X = np.asarray(X, dtype=float)
        if idx is None:
            rows = self.data[None, :, :]  # (1, n, m)
            shape = (X.shape[0], self.n)
        else:
            rows = self.data[idx]  # (K, b, m)
            shape = idx.shape
        args = [X[:, j, None] for j in range(self.dim)]
        args += [rows[..., k] for k in range(rows.shape[-1])]
        return np.stack([np.broadcast_to(np.asarray(o, dtype=float), shape) for o in fn(*args)])

    def _means(self, fn: Callable, outputs: int, X: np.ndarray, idx: np.ndarray | None) -> np.ndarray:
        """Mean over the samples of each output, shape (m, K), evaluated for blocks of
        points so that no array holds more than ``BLOCK`` values: a 300×300 contour grid
        against 20,000 rows would otherwise need 14 GB per output. Each point's mean is
        computed exactly as for the whole batch (the same reduction over its samples)."""
        X = np.asarray(X, dtype=float)
        per_point = outputs * (self.n if idx is None else idx.shape[1])
        step = max(1, BLOCK // per_point)
        if X.shape[0] <= step:
            return self._eval(fn, X, idx).mean(axis=-1)
        parts = [self._eval(fn, X[s:s + step], None if idx is None else idx[s:s + step]).mean(axis=-1)
                 for s in range(0, X.shape[0], step)]
        return np.concatenate(parts, axis=1)

    def value(self, X: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        return self._means(self._f, 1, X, idx)[0]

    def grad(self, X: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        return np.moveaxis(self._means(self._g, self.dim, X, idx), 0, -1)

    def hess(self, X: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        h = np.moveaxis(self._means(self._h, self.dim * self.dim, X, idx), 0, -1)
        return h.reshape(h.shape[0], self.dim, self.dim)


@dataclass
class Objective:
    """A function to minimize, compiled for batches of points.

    Attributes mirror a library file: ``name``, ``title``, ``description``,
    ``domain`` (one (lo, hi) per variable), ``minima``, ``start``, ``suggested`` (per
    optimizer a dict of settings, at least ``lr``), and ``finite_sum`` when the
    objective is a mean over samples. The function owns its defaults:
    :meth:`default_domain` and :meth:`default_start` say where to look and where to
    start when nothing else is said.
    """

    name: str
    expr: sympy.Expr
    variables: tuple[str, ...]
    description: str = ""
    domain: tuple[tuple[float, float], ...] | None = None
    minima: tuple[Minimum, ...] = ()
    start: tuple[float, ...] | None = None
    suggested: dict[str, dict[str, float]] = field(default_factory=dict)
    steps: int = 200
    finite_sum: FiniteSum | None = None
    formula_text: str = ""
    source: str = ""
    title: str = ""

    def __post_init__(self) -> None:
        if self.finite_sum is not None:
            return  # values and derivatives come from the per-sample expression
        gen = _generated("v", self.dim)
        symbols = [make_symbol(v) for v in self.variables]
        self._gen = gen
        self._expr_gen = self.expr.xreplace(dict(zip(symbols, gen)))

    # Derivatives and their compiled forms are made on first use: a run of Adam
    # needs only f and ∇f, and each compilation costs tens of milliseconds.
    @cached_property
    def _grad_exprs(self) -> list[sympy.Expr]:
        return gradient(self._expr_gen, self._gen, self.expr)

    @cached_property
    def _hess_exprs(self) -> list[sympy.Expr]:
        return hessian(self._expr_gen, self._grad_exprs, self._gen, self.expr)

    @cached_property
    def _f(self) -> Callable:
        return _compile(self._gen, self._expr_gen)

    @cached_property
    def _g(self) -> Callable:
        return _compile(self._gen, self._grad_exprs)

    @cached_property
    def _h(self) -> Callable:
        return _compile(self._gen, self._hess_exprs)

    @cached_property
    def _fg(self) -> Callable:
        return _compile(self._gen, [self._expr_gen, *self._grad_exprs])

    @property
    def dim(self) -> int:
        return len(self.variables)

    def default_domain(self) -> tuple[tuple[float, float], ...]:
        """The domain of the function file, else [−3, 3] per variable."""
        return self.domain or tuple((-3.0, 3.0) for _ in range(self.dim))

    def default_start(self) -> np.ndarray:
        """The start of the function file, else a point off the axes (where
        symmetric formulas are least special): (−2.5, 2, 1.5, −1, …)."""
        if self.start is not None:
            return np.array(self.start, dtype=float)
        pattern = [-2.5, 2.0, 1.5, -1.0]
        return np.array([pattern[i % 4] for i in range(self.dim)], dtype=float)

    @property
    def f_star(self) -> float | None:
        """The global minimum value, when the function lists its minima."""
        return min(m.value for m in self.minima) if self.minima else None

    def critical_points(self) -> list:
        """The stationary points of a function of 1 or 2 variables, found numerically and
        classified (see :mod:`optviz.critical`; computed once); [] in more dimensions."""
        if "_critical" not in self.__dict__:
            from optviz.critical import find_critical_points

            self.__dict__["_critical"] = find_critical_points(self)
        return self.__dict__["_critical"]

    @property
    def reference_value(self) -> float | None:
        """f* for "f − f*": the listed global minimum, else the lowest minimum found
        (:meth:`critical_points`), else None."""
        if self.minima:
            return self.f_star
        values = [p.value for p in self.critical_points() if p.kind == "minimum"]
        return min(values) if values else None

    @property
    def reference_is_listed(self) -> bool:
        """Whether :attr:`reference_value` is the function file's own minimum."""
        return bool(self.minima)

    def _points(self, X: np.ndarray) -> np.ndarray:
        if type(X) is np.ndarray and X.ndim == 2 and X.dtype == np.float64 and X.shape[1] == len(self.variables):
            return X  # the run loop's hot path
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.dim:
            raise OptvizError(f"{self.name} takes points of dimension {self.dim}; got shape {X.shape}")
        return X

    def f_unchecked(self, X: np.ndarray) -> np.ndarray:
        """:meth:`f` without silencing numpy (call inside ``np.errstate``)."""
        X = self._points(X)
        if self.finite_sum is not None:
            return self.finite_sum.value(X)
        out = self._f(*X.T)
        return np.broadcast_to(np.asarray(out, dtype=float), X.shape[:1]).copy()

    def grad_unchecked(self, X: np.ndarray) -> np.ndarray:
        """:meth:`grad` without silencing numpy (call inside ``np.errstate``)."""
        X = self._points(X)
        if self.finite_sum is not None:
            return self.finite_sum.grad(X)
        K = X.shape[0]
        out = np.empty((K, self.dim))
        for j, col in enumerate(self._g(*X.T)):
            out[:, j] = col
        return out

    def hess_unchecked(self, X: np.ndarray) -> np.ndarray:
        """:meth:`hess` without silencing numpy (call inside ``np.errstate``)."""
        X = self._points(X)
        if self.finite_sum is not None:
            return self.finite_sum.hess(X)
        K, d = X.shape
        out = np.empty((K, d * d))
        for j, col in enumerate(self._h(*X.T)):
            out[:, j] = col
        return out.reshape(K, d, d)

    def value_and_grad_unchecked(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`value_and_grad` without silencing numpy (call inside ``np.errstate``)."""
        X = self._points(X)
        if self.finite_sum is not None:
            return self.finite_sum.value(X), self.finite_sum.grad(X)
        K = X.shape[0]
        values = self._fg(*X.T)
        f = np.empty(K)
        f[:] = values[0]
        g = np.empty((K, self.dim))
        for j, col in enumerate(values[1:]):
            g[:, j] = col
        return f, g

    # The public evaluations are quiet: a pole or an overflow gives inf/nan, never a
    # RuntimeWarning on the terminal. The run loop, already inside np.errstate, calls the
    # *_unchecked forms (an errstate costs microseconds, a step of one point about 30).
    def f(self, X: np.ndarray) -> np.ndarray:
        """Values at a batch of points: (K, d) -> (K,)."""
        with np.errstate(all="ignore"):
            return self.f_unchecked(X)

    def grad(self, X: np.ndarray) -> np.ndarray:
        """Gradients at a batch of points: (K, d) -> (K, d)."""
        with np.errstate(all="ignore"):
            return self.grad_unchecked(X)

    def hess(self, X: np.ndarray) -> np.ndarray:
        """Hessians at a batch of points: (K, d) -> (K, d, d)."""
        with np.errstate(all="ignore"):
            return self.hess_unchecked(X)

    def value_and_grad(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """f and ∇f in one compiled call (shared subexpressions computed once)."""
        with np.errstate(all="ignore"):
            return self.value_and_grad_unchecked(X)

    def symbolic(self, *, hessian: bool = True) -> Symbolic:
        """The generated symbols and the f, ∇f, Hessian expressions the numpy
        functions are compiled from (see :class:`Symbolic`); without ``hessian``
        its expressions are left out (and not derived)."""
        if self.finite_sum is not None:
            return self.finite_sum.symbolic_parts(hessian)
        hess = tuple(self._hess_exprs) if hessian else ()
        return Symbolic(tuple(self._gen), (), self._expr_gen, tuple(self._grad_exprs), hess)

    def gradient_exprs(self) -> list[sympy.Expr]:
        """The gradient in the user's variable names (for display)."""
        symbols = [make_symbol(v) for v in self.variables]
        return [sympy.diff(self.expr, s) for s in symbols]

    def minimum_points(self) -> list[tuple[float, ...]]:
        """The listed minima, else the minima found (:meth:`critical_points`)."""
        if self.minima:
            return [m.point for m in self.minima]
        return [p.point for p in self.critical_points() if p.kind == "minimum"]

    def nearest_minimum(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index of the nearest minimum (:meth:`minimum_points`) and the distance to it, per point."""
        X = self._points(X)
        points = self.minimum_points()
        if not len(points):
            nan = np.full(X.shape[0], np.nan)
            return np.full(X.shape[0], -1), nan
        M = np.asarray(points, dtype=float)
        with np.errstate(over="ignore", invalid="ignore"):
            dist = np.linalg.norm(X[:, None, :] - M[None, :, :], axis=-1)
        return dist.argmin(axis=1), dist.min(axis=1)

    def latex(self) -> str:
        return sympy.latex(self.expr)


def objective_from_formula(text: str, name: str | None = None, **metadata) -> Objective:
    """Build an :class:`Objective` from a user's formula (parsed safely)."""
    formula: Formula = parse_formula(text)
    if formula.dim == 0:
        raise OptvizError(f"formula {text!r} has no variables; write it in x, or x and y")
    return Objective(
        name=name or text, expr=formula.expr, variables=formula.variables,
        formula_text=text, **metadata,
    )
