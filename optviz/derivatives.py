"""Exact derivatives of a formula, within a budget of size (docs/math.md §1.2).

A short formula can have a huge Hessian: the product of 55 sines has a gradient of
24,000 operations and a Hessian of about a million, which sympy needs minutes to form
and compile. The budget is a size, not a time: the same formula is accepted or refused
on every machine, in a sweep worker or a notebook alike, and the Hessian is refused
before it is formed, from the growth the gradient showed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy

from optviz.errors import OptvizError

MAX_OPS = 60_000  # operations in all of a gradient's or a Hessian's expressions


def size(exprs: Sequence[sympy.Expr]) -> int:
    """Number of nodes in the expression trees."""
    return sum(1 for e in exprs for _ in sympy.preorder_traversal(e))


def drop_distributions(expr: sympy.Expr) -> sympy.Expr:
    # d|x|/dx = sign(x); its derivative is 2*DiracDelta(x), zero almost everywhere.
    return expr.replace(sympy.DiracDelta, lambda *args: sympy.S.Zero)


def _largest_term(shown: sympy.Expr | None) -> str:
    if shown is None:
        return "the formula"
    terms = sympy.Add.make_args(shown)
    term = max(terms, key=lambda t: size([t]))
    text = sympy.sstr(term)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def gradient(expr: sympy.Expr, symbols: Sequence[sympy.Symbol], shown: sympy.Expr | None = None) -> list[sympy.Expr]:
    """∂expr/∂s for each symbol, refused beyond :data:`MAX_OPS` operations. ``shown`` is
    the formula in the user's own names, for the message."""
    grad = [drop_distributions(sympy.diff(expr, v)) for v in symbols]
    ops = size(grad)
    if ops > MAX_OPS:
        raise OptvizError(f"the gradient of {_largest_term(shown)} has {ops:,} operations; optviz compiles at most "
                          f"{MAX_OPS:,}: write a shorter formula")
    return grad


def hessian(expr: sympy.Expr, grad: Sequence[sympy.Expr], symbols: Sequence[sympy.Symbol],
            shown: sympy.Expr | None = None) -> list[sympy.Expr]:
    """The Hessian (row-major), refused before it is formed when the growth from f to ∇f
    predicts more than :data:`MAX_OPS` operations."""
    f_ops, g_ops = max(1, size([expr])), size(grad)
    estimate = int(g_ops * max(1.0, g_ops / f_ops))
    if estimate > MAX_OPS:
        raise OptvizError(f"the Hessian of {_largest_term(shown)} would have about {estimate:,} operations; "
                          f"optviz compiles at most {MAX_OPS:,}: choose a first-order optimizer (newton needs "
                          "the Hessian) or write a shorter formula")
    hess = [drop_distributions(sympy.diff(g, w)) for g in grad for w in symbols]
    ops = size(hess)
    if ops > MAX_OPS:
        raise OptvizError(f"the Hessian of {_largest_term(shown)} has {ops:,} operations; optviz compiles at most "
                          f"{MAX_OPS:,}: choose a first-order optimizer or write a shorter formula")
    return hess
