"""Critical points of any formula (docs/math.md §9) and statuses that name what a run reached (§8.2)."""

import json
import subprocess
import sys
import time

import numpy as np
import pytest

import optviz
from optviz.critical import classify, endpoint_kinds, find_critical_points
from optviz.library import load_function
from optviz.status import Status


def kinds_of(points):
    out = {}
    for p in points:
        out[p.kind] = out.get(p.kind, 0) + 1
    return out


def test_a_quartic_has_two_minima_and_one_maximum_at_the_roots_of_its_derivative():
    points = find_critical_points(load_function("x**4 - 3*x**2 + x"))
    assert [p.kind for p in points] == ["minimum", "minimum", "maximum"]
    roots = np.sort(np.roots([4, 0, -6, 1]).real)  # f' = 4x³ − 6x + 1
    found = np.sort([p.point[0] for p in points])
    np.testing.assert_allclose(found, roots, atol=1e-10)
    assert points[0].value < points[1].value  # the lowest minimum first


def test_himmelblau_has_four_minima_four_saddles_and_one_maximum():
    points = find_critical_points(load_function("himmelblau"))
    assert kinds_of(points) == {"minimum": 4, "saddle": 4, "maximum": 1}
    for p in points:
        _, g = load_function("himmelblau").value_and_grad(np.array([p.point]))
        assert np.linalg.norm(g) < 1e-8


@pytest.mark.parametrize("formula, expected", [
    ("x**2 - y**2", {"saddle": 1}),
    ("x**3", {"degenerate": 1}),
    ("x**4 + y**4", {"minimum": 1}),
    ("-(x**4) - y**2", {"maximum": 1}),
    ("x**3 - 3*x*y**2", {"saddle": 1}),  # the monkey saddle: a singular Hessian
    ("x + y", {}),
    ("0*x + 0*y + 1", {}),  # a plateau has no isolated stationary point
])
def test_classification_including_degenerate_points(formula, expected):
    assert kinds_of(find_critical_points(load_function(formula))) == expected


def test_listed_minima_are_always_among_the_points_even_at_a_cusp():
    points = find_critical_points(load_function("ackley"))
    assert points[0].point == (0.0, 0.0) and points[0].kind == "minimum"
    for name in ("rastrigin", "levi13", "bohachevsky", "rosenbrock", "beale"):
        obj = load_function(name)
        found = [p.point for p in find_critical_points(obj) if p.kind == "minimum"]
        for m in obj.minima:
            assert any(np.allclose(m.point, q, atol=1e-6) for q in found), (name, m.point)


def test_endpoints_are_classified_by_the_stationary_point_they_sit_at():
    assert endpoint_kinds(load_function("xcos"), np.array([[26.83]])) == ["maximum"]
    assert endpoint_kinds(load_function("x**4"), np.array([[0.0063]])) == ["minimum"]
    assert endpoint_kinds(load_function("x**3"), np.array([[5.8e-4]])) == ["degenerate"]
    assert classify(load_function("saddle"), np.zeros((1, 2))) == ["saddle"]


def test_newton_from_the_default_start_on_xcos_reports_a_maximum():
    res = optviz.run("xcos", "newton,gd")
    newton, gd = res.runs
    assert newton.status == [Status.MAXIMUM]
    assert abs(newton.final_theta[0, 0] - 26.83) < 0.01
    assert "maximum" in newton.status_text(0)
    assert gd.status[0] in (Status.CONVERGED, Status.MAX_STEPS)


def test_converged_only_at_a_minimum_and_saddle_at_a_saddle():
    res = optviz.run("x**2 - y**2", "gd", start=[1.0, 0.0], lr=0.1, steps=500)
    assert res.runs[0].status == [Status.SADDLE]
    res = optviz.run("x**2 + y**2", "gd", start=[1.0, 1.0], lr=0.1, steps=500)
    assert res.runs[0].status == [Status.CONVERGED]


def test_a_start_at_a_cusp_is_an_undefined_gradient_not_a_divergence():
    res = optviz.run("ackley", "adam", start=[0.0, 0.0], steps=5)
    traj = res.runs[0]
    assert traj.status == [Status.UNDEFINED_GRADIENT] and int(traj.steps[0]) == 0
    assert "f is smallest" in traj.notes[0]
    res = optviz.run("abs(x) + abs(y)", "gd", start=[0.0, 0.0], steps=5)
    assert res.runs[0].status[0] in (Status.UNDEFINED_GRADIENT, Status.CONVERGED)


def test_run_json_lists_the_critical_points_with_kinds():
    out = subprocess.run([sys.executable, "-m", "optviz", "run", "--fn", "x**4 - 3*x**2 + x", "--no-plot", "--json"],
                         capture_output=True, text=True, timeout=120)
    doc = json.loads(out.stdout)
    assert [p["kind"] for p in doc["critical_points"]] == ["minimum", "minimum", "maximum"]
    assert all(set(p) == {"point", "value", "kind"} for p in doc["critical_points"])


def test_f_star_of_a_typed_formula_is_the_lowest_minimum_found_not_the_grids_minimum():
    obj = load_function("0.1*x**2 + 2*y**2")
    assert obj.f_star is None and abs(obj.reference_value) < 1e-12
    assert obj.nearest_minimum(np.array([[3.0, 4.0]]))[1][0] == pytest.approx(5.0)


def test_the_search_costs_little():
    for name in ("rosenbrock", "himmelblau", "x**2 + 10*y**2"):
        obj = load_function(name)
        obj.value_and_grad(np.zeros((1, obj.dim)))  # compiled, as after a run
        t0 = time.perf_counter()
        find_critical_points(obj)
        assert time.perf_counter() - t0 < 1.0, name  # ≤ 0.2 s measured; CI machines are slower
