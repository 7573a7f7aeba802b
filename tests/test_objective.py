"""Compiled objectives: shapes, broadcasting, and derivatives against finite differences."""

import numpy as np
import pytest

from optviz.errors import OptvizError
from optviz.objective import objective_from_formula

FORMULAS = [
    "x**2 + 10*y**2",
    "sin(x)*cos(y)",
    "(1-x)^2 + 100*(y-x^2)^2",
    "x*cos(0.15*pi*x)",
    "0.1*x1**2 + 2*x2**2",
    "exp(0.3*x) + log(2 + y**2) + sqrt(3 + x**2) + atan2(y, 2 + x**2)",
    "tanh(x*y) + sinh(0.5*x) + cosh(0.2*y) + abs(x - 5)",
    "x1**2 + x2**2 + x3**2 + x1*x3",
]


def central_grad(f, X, h):
    K, d = X.shape
    out = np.empty((K, d))
    for j in range(d):
        e = np.zeros(d)
        e[j] = h
        out[:, j] = (f(X + e) - f(X - e)) / (2 * h)
    return out


@pytest.mark.parametrize("text", FORMULAS)
def test_gradient_and_hessian_match_central_differences(text):
    obj = objective_from_formula(text)
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(20, obj.dim))
    h = 1e-5
    # tolerance: central differences have error O(h²)·f''' plus rounding O(eps·|f|/h)
    np.testing.assert_allclose(obj.grad(X), central_grad(obj.f, X, h), rtol=1e-6, atol=1e-6)
    H = obj.hess(X)
    for j in range(obj.dim):
        e = np.zeros(obj.dim)
        e[j] = h
        fd = (obj.grad(X + e) - obj.grad(X - e)) / (2 * h)
        np.testing.assert_allclose(H[:, :, j], fd, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(H, np.swapaxes(H, 1, 2), atol=1e-12)


def test_shapes_and_constant_derivatives_broadcast():
    obj = objective_from_formula("3*x + 2*y + 1")
    X = np.arange(10.0).reshape(5, 2)
    assert obj.f(X).shape == (5,)
    g = obj.grad(X)
    assert g.shape == (5, 2)
    np.testing.assert_array_equal(g, np.tile([3.0, 2.0], (5, 1)))
    H = obj.hess(X)
    assert H.shape == (5, 2, 2)
    np.testing.assert_array_equal(H, 0.0)
    f, g2 = obj.value_and_grad(X)
    np.testing.assert_array_equal(f, 3 * X[:, 0] + 2 * X[:, 1] + 1)
    np.testing.assert_array_equal(g2, g)


def test_one_dimensional_objective():
    obj = objective_from_formula("x**2")
    X = np.array([[1.0], [-2.0], [3.0]])
    np.testing.assert_array_equal(obj.f(X), [1.0, 4.0, 9.0])
    np.testing.assert_array_equal(obj.grad(X)[:, 0], [2.0, -4.0, 6.0])
    np.testing.assert_array_equal(obj.hess(X)[:, 0, 0], [2.0, 2.0, 2.0])


def test_abs_derivative_has_no_distribution():
    obj = objective_from_formula("abs(x) + y**2")
    H = obj.hess(np.array([[0.0, 1.0], [2.0, 1.0]]))
    np.testing.assert_array_equal(H[:, 0, 0], 0.0)


def test_compiled_code_uses_generated_names_only():
    # A variable named like a numpy attribute must not leak into the generated code.
    obj = objective_from_formula("pi*x + e*y")
    np.testing.assert_allclose(obj.grad(np.array([[0.0, 0.0]])), [[np.pi, np.e]])
    # Were these names used in the generated code, they would shadow the modules it calls.
    obj = objective_from_formula("numpy*sin(np) + builtins + x")
    assert obj.variables == ("x", "builtins", "np", "numpy")
    value = obj.f(np.array([[1.0, 2.0, 0.5, 3.0]]))
    np.testing.assert_allclose(value, [3.0 * np.sin(0.5) + 2.0 + 1.0])


def test_points_of_the_wrong_dimension_are_refused():
    obj = objective_from_formula("x**2 + y**2")
    with pytest.raises(OptvizError, match="dimension 2"):
        obj.f(np.zeros((3, 3)))


def test_formula_without_variables_is_refused():
    with pytest.raises(OptvizError, match="no variables"):
        objective_from_formula("2 + 3")
