"""Objectives printed to JavaScript: numpy's arithmetic, the same cse lists, refusals."""

from __future__ import annotations

import inspect
import re

import pytest
import sympy

from optviz.errors import OptvizError
from optviz.explorer.jscode import objective_code
from optviz.library import function_names, load_function
from optviz.objective import Objective, objective_from_formula


def _fg_body(text: str) -> str:
    src = objective_code(objective_from_formula(text)).source
    return src.split("function fg")[1].split("function hess")[0]


@pytest.mark.parametrize("formula, expected", [
    ("x**2 + y", "sq(v0)"),                     # numpy squares an array: x*x
    ("x**3 + y", "powi(v0, 3)"),                # correctly rounded, like C's pow
    ("x**(-2) + y", "powi(v0, -2)"),
    ("1/(x + y) + 1/x", "(1/v0)"),              # numpy: x**(-1.0) is a reciprocal
    ("sqrt(x*x + y*y)", "Math.sqrt(sq(v0) + sq(v1))"),
    ("x**(1/3) + y", "Math.pow(v0, 1/3)"),      # not Math.cbrt: numpy calls power
    ("2**x + y", "Math.pow(2, v0)"),
    ("pi**2*x + y", "powi(Math.PI, 2)"),        # Python's float ** int is C's pow
    ("abs(x) + atan2(y, x)", "Math.abs(v0) + Math.atan2(v1, v0)"),
    ("log(x) + exp(y)", "Math.log(v0)"),
    ("log(x) + exp(y)", "Math.exp(v1)"),
])
def test_powers_and_functions_print_as_numpy_computes_them(formula, expected):
    assert expected in _fg_body(formula)


def test_float_literals_are_the_doubles_the_numpy_code_uses():
    body = _fg_body("0.30000000000000004*x + 1e-300*y + 123456789.123456789*x*y")
    literals = sorted(float(v) for v in re.findall(r"(?<![\w.])\d+\.\d+(?:e[-+]?\d+)?|\d+e[-+]?\d+", body))
    assert 0.30000000000000004 in literals and 1e-300 in literals and 123456789.12345679 in literals


def test_huge_rationals_become_correctly_rounded_literals():
    x, y = sympy.symbols("x y", real=True)
    big = sympy.Rational(2**80 + 1, 3)
    src = objective_code(Objective("big", big * x + y, ("x", "y"))).source
    assert repr((2**80 + 1) / 3) in src


@pytest.mark.parametrize("name", function_names())
def test_the_cse_lists_are_lambdifys(name):
    """Same assignments, same names, same number of outputs as the numpy functions."""
    obj = load_function(name)
    src = objective_code(obj).source
    if obj.finite_sum is not None:
        numpy_sources = [inspect.getsource(f) for f in (obj.finite_sum._f, obj.finite_sum._g, obj.finite_sum._h)]
        js_parts = src.split("  function ")[1:4]
    else:
        numpy_sources = [inspect.getsource(obj._fg), inspect.getsource(obj._h)]
        js_parts = src.split("  function ")[1:3]
    for py, js in zip(numpy_sources, js_parts):
        py_names = re.findall(r"^\s+(x\d+) = ", py, re.M)
        js_names = re.findall(r"const (x\d+) = ", js)
        assert py_names == js_names
        py_outputs = py.split("return [", 1)[1].count(",") + 1 if "return [" in py else 1
        js_outputs = len(re.findall(r"out\[\d+\] = ", js)) or js.count("return ")
        assert js_outputs == py_outputs


def test_symbolic_gives_the_generated_tree():
    obj = load_function("beale")
    sym = obj.symbolic()
    assert [str(s) for s in sym.params] == ["v0", "v1"] and sym.data == () and sym.rows is None
    assert len(sym.grad) == 2 and len(sym.hess) == 4
    assert sympy.simplify(sym.grad[0] - sympy.diff(sym.value, sym.params[0])) == 0
    fs = load_function("logistic").symbolic()
    assert fs.rows is not None and fs.rows.shape[1] == len(fs.data)


@pytest.mark.parametrize("expr, part", [
    (lambda x, y: sympy.gamma(x) + y, "'gamma(x)' has no JavaScript equivalent"),
    (lambda x, y: sympy.Max(x, y), "'Max(x, y)' has no JavaScript equivalent"),
    (lambda x, y: x + y + sympy.zoo, "the value 'zoo'"),
    (lambda x, y: sympy.I * x + y, "the value 'I'"),
    (lambda x, y: sympy.Function("g")(x) + y, "'g(x)' has no JavaScript equivalent"),
    (lambda x, y: x + sympy.Symbol("q") * y, "symbol 'q' is not a variable"),
])
def test_what_javascript_cannot_compute_is_refused_by_name(expr, part):
    x, y = sympy.symbols("x y", real=True)
    with pytest.raises(OptvizError, match=re.escape(part)):
        objective_code(Objective("odd", expr(x, y), ("x", "y")))
