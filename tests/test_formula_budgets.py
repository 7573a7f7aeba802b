"""Formulas that would make sympy or numpy work forever, or silently wrong, are refused
at once with the part named; the derivatives stay within a size budget."""

import time

import numpy as np
import pytest

import optviz
from optviz import derivatives
from optviz.errors import OptvizError
from optviz.expr import parse_formula
from optviz.objective import objective_from_formula


@pytest.mark.parametrize("text, part, why", [
    ("x**exp(exp(exp(exp(exp(1)))))", "exp(exp(exp(exp(1))))", "too large for a float"),
    ("x**2 + exp(exp(exp(exp(exp(1)))))*y**2", "exp(exp(exp(exp(1))))", "too large for a float"),
    ("10**300*10**300 + x", "10**300*10**300", "too large for a float"),
    ("(1/3)**(-1000) + x", "(1/3)**(-1000)", "too large for a float"),
    ("sqrt(-1) + x", "sqrt(-1)", "not a real number"),
    ("log(-1)*x", "log(-1)", "not a real number"),
    ("(-8)**(1/3) + x**2", "(-8)**(1/3)", "not a real number"),
    ("x + asin(2)", "asin(2)", "not a real number"),
    ("x + 1/(2-2)", "1/(2-2)", "division by zero"),
])
def test_constants_are_checked_as_floats_before_sympy_evaluates_them(text, part, why):
    t0 = time.perf_counter()
    with pytest.raises(OptvizError) as info:
        parse_formula(text)
    assert time.perf_counter() - t0 < 2.0
    assert part in str(info.value) and why in str(info.value)


@pytest.mark.parametrize("text", ["sin(10**300) + x**2", "(10**300)**x + y**2", "x**2 * 10**200"])
def test_huge_exact_integers_reach_numpy_as_floats(text):
    res = optviz.run(text, "gd", lr=1e-3, steps=3)
    assert np.isfinite(res.runs[0].loss[0, 0]) or res.runs[0].status[0] == "diverged"


def product_of_sines(n: int) -> str:
    return "*".join(f"sin(x+{i}*y)" for i in range(1, n + 1))


def test_the_hessian_is_refused_before_it_is_formed():
    obj = objective_from_formula(product_of_sines(20))
    t0 = time.perf_counter()
    with pytest.raises(OptvizError) as info:
        obj.hess(np.array([[0.3, 0.2]]))
    assert time.perf_counter() - t0 < 10.0  # the gradient is formed; the Hessian is not
    assert "Hessian of 'sin(x + y)*sin(x + 2*y)" in str(info.value) and "first-order" in str(info.value)
    # the first-order path still works on the same formula
    assert np.all(np.isfinite(obj.value_and_grad(np.array([[0.3, 0.2]]))[1]))


def test_newton_on_a_formula_whose_hessian_is_too_large_is_one_line():
    with pytest.raises(OptvizError, match="choose a first-order optimizer"):
        optviz.run(objective_from_formula(product_of_sines(20)), "newton", start=[0.3, 0.2], steps=3)


def test_size_counts_nodes_and_the_budget_is_stated():
    x = parse_formula("x").symbols[0]
    assert derivatives.size([x + 1]) == 3
    assert derivatives.MAX_OPS >= 10_000


def test_the_library_fits_the_budget_with_its_hessians():
    from optviz.library import function_names, load_function

    for name in function_names():
        obj = load_function(name)
        H = obj.hess(np.array([list(obj.default_start())]))
        assert H.shape == (1, obj.dim, obj.dim), name
