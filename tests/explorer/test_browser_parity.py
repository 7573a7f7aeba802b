"""The page's JavaScript against the numpy core, trajectory by trajectory, in Chromium.

Every deterministic optimizer on rosenbrock, beale and himmelblau × 500 steps
from the function's default start with its suggested settings: θ, f, the
recorded state, steps and status equal ``optviz.run``'s within 1e-9 relative
(1e-12 absolute near zero). Then variants (dampening, Nesterov, no bias
correction, Newton's safeguards), every schedule, finite sums, transcendental
and 1-D functions, and the compiled f, ∇f, Hessian of every library function.
"""

from __future__ import annotations

import numpy as np
import pytest
from explore_helpers import (
    DETERMINISTIC,
    PARITY_FUNCTIONS,
    assert_same_run,
    floats,
    write,
)

import optviz
from optviz.api import explore
from optviz.explorer.page import build_page
from optviz.library import function_names, load_function


def _page_runs(open_page, tmp_path, html):
    o = open_page(write(html, tmp_path))
    return o, o.eval("optvizPage.results()")


@pytest.mark.parametrize("fn", PARITY_FUNCTIONS)
def test_every_deterministic_optimizer_matches_numpy(open_page, tmp_path, fn):
    page = explore(fn, DETERMINISTIC, steps=500)
    _, runs = _page_runs(open_page, tmp_path, page.html)
    ref = optviz.run(fn, DETERMINISTIC, steps=500)
    assert len(runs) == len(ref.runs) == 7
    for page_runs, traj in zip(runs, ref.runs):
        assert_same_run(page_runs[0], traj, 0, f"{fn}/{traj.optimizer}")


VARIANTS = [
    ("momentum", None, {"dampening": 0.5}),
    ("momentum", None, {"nesterov": True, "dampening": 0.3, "beta": 0.8}),
    ("nesterov", None, {"beta": 0.5}),
    ("adam", None, {"bias_correction": False, "beta1": 0.8}),
    ("adam", 0.01, {"beta2": 0.99, "eps": 1e-3}),
    ("rmsprop", None, {"beta": 0.5}),
    ("adagrad", None, {"eps": 1e-3}),
    ("newton", 0.5, {"damping": 0.5}),
    ("newton", None, {"safeguard": "abs"}),
    ("newton", None, {"safeguard": "damp"}),
]


@pytest.mark.parametrize("fn", PARITY_FUNCTIONS)
def test_variants_match_numpy(open_page, tmp_path, fn):
    obj = load_function(fn)
    entries, refs = [], []
    for name, lr, hyper in VARIANTS:
        traj = optviz.run(fn, name, lr=lr, steps=500, params=hyper).runs[0]
        settings = dict(traj.hyperparameters)
        entries.append((f"{name} {hyper}", name, settings.pop("lr"), settings))
        refs.append(traj)
    html = build_page(obj, entries, starts=obj.start, steps=500, tol=1e-6)
    _, runs = _page_runs(open_page, tmp_path, html)
    for page_runs, traj, (label, *_) in zip(runs, refs, entries):
        assert_same_run(page_runs[0], traj, 0, f"{fn}/{label}")


SCHEDULES = ["step:50:0.5", "exp:0.99", "inverse:0.01", "poly:0.1:0.5", "cosine:300",
             "cosine:300:0.0001", "warmup:20", "warmup:20+exp:0.995"]


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_schedules_match_numpy(open_page, tmp_path, schedule):
    page = explore("rosenbrock", "gd,momentum,adam", steps=500, schedule=schedule)
    _, runs = _page_runs(open_page, tmp_path, page.html)
    ref = optviz.run("rosenbrock", "gd,momentum,adam", steps=500, schedule=schedule)
    for page_runs, traj in zip(runs, ref.runs):
        assert_same_run(page_runs[0], traj, 0, f"{schedule}/{traj.optimizer}")


@pytest.mark.parametrize("fn, opts, start", [
    ("least_squares", "gd,momentum,adam,newton", None),
    ("logistic", "gd,rmsprop,adam,newton", None),
    ("ackley", "gd,momentum,adam,newton", None),
    ("six_hump_camel", DETERMINISTIC, [[-1.0, 0.5], [1.5, -0.5]]),
    ("x**2 + 10*y**2 - sin(3*x)*y", "gd,adagrad,adam,newton", [1.0, -1.5]),
    ("xcos", "gd,momentum,adam,newton", None),
    ("saddle", "gd,momentum,newton", None),
])
def test_more_functions_match_numpy(open_page, tmp_path, fn, opts, start):
    page = explore(fn, opts, steps=300, start=start)
    _, runs = _page_runs(open_page, tmp_path, page.html)
    ref = optviz.run(fn, opts, steps=300, start=start)
    for page_runs, traj in zip(runs, ref.runs):
        assert len(page_runs) == traj.K
        for k in range(traj.K):
            assert_same_run(page_runs[k], traj, k, f"{fn}/{traj.optimizer}/start {k}")


def test_compiled_objectives_match_numpy(open_page, tmp_path):
    """f, ∇f and the Hessian of every library function at 40 points of its domain."""
    o = open_page(write(explore("rosenbrock", "gd").html, tmp_path))
    rng = np.random.default_rng(7)
    for name in function_names():
        obj = load_function(name)
        if obj.dim > 2:
            continue
        from optviz.explorer.jscode import objective_code

        code = objective_code(obj).source
        lo, hi = np.array(obj.domain or [(-3, 3)] * obj.dim).T
        X = rng.uniform(lo, hi, size=(40, obj.dim))
        rows = obj.finite_sum.data.tolist() if obj.finite_sum is not None else None
        got = o.eval("""([code, X, rows]) => {
            const OBJ = new Function(code + "; return OptvizObjective;")();
            const obj = rows ? OBJ.make(rows) : OBJ, d = X[0].length;
            const fg = new Float64Array(1 + d), h = new Float64Array(d * d), out = [];
            for (const x of X) { obj.fg(x, fg); obj.hess(x, h); out.push(Array.from(fg).concat(Array.from(h)).map(String)); }
            return out; }""", [code, X.tolist(), rows])
        f, g = obj.value_and_grad(X)
        ref = np.column_stack([f, g, obj.hess(X).reshape(len(X), -1)])
        page = np.array([floats(row) for row in got])
        scale = np.maximum(1.0, np.abs(ref).max(axis=0))
        with np.errstate(invalid="ignore"):
            bad = ~((page == ref) | (np.abs(page - ref) <= 1e-12 * scale))
        assert not bad.any(), f"{name}: {int(bad.sum())} values differ, e.g. {page[bad][:3]} vs {ref[bad][:3]}"


def test_numeric_helpers_follow_numpy(open_page, tmp_path):
    """powi is correctly rounded; pairwiseSum is numpy's sum to the bit; eigh2 is numpy's eigh."""
    from fractions import Fraction

    o = open_page(write(explore("rosenbrock", "gd").html, tmp_path))
    rng = np.random.default_rng(3)
    x = rng.uniform(-3, 3, 300) * np.exp(rng.normal(size=300))
    n = rng.integers(-9, 12, 300)
    got = floats(o.eval("([x, n]) => x.map((v, i) => String(OptvizOptim.powi(v, n[i])))", [x.tolist(), n.tolist()]))
    exact = np.array([float(Fraction(v) ** int(k)) for v, k in zip(x, n)])
    assert np.array_equal(got, exact)
    arrays = [rng.normal(size=m) * np.exp(3 * rng.normal(size=m)) for m in (1, 5, 8, 9, 100, 128, 129, 300, 1000)]
    sums = o.eval("(arrays) => arrays.map((a) => OptvizOptim.pairwiseSum(a, 0, a.length))", [a.tolist() for a in arrays])
    assert sums == [float(np.sum(a)) for a in arrays]
    mats = rng.normal(size=(200, 3)) * np.exp(2 * rng.normal(size=(200, 3)))
    mats[::5, 1] = 0.0
    mats[1::5, 2] = mats[1::5, 0]
    got = o.eval("(m) => m.map(([a, b, c]) => OptvizOptim.eigh2(a, b, c))", mats.tolist())
    A = np.stack([mats[:, [0, 1]], mats[:, [1, 2]]], axis=1)
    w, V = np.linalg.eigh(A)
    np.testing.assert_allclose([r["w"] for r in got], w, rtol=1e-13, atol=1e-300)
    dots = np.abs(np.einsum("kij,kij->kj", np.array([r["V"] for r in got]).reshape(-1, 2, 2), V))
    np.testing.assert_allclose(dots, 1.0, rtol=1e-12)


@pytest.mark.parametrize("fn, opt, start, expected", [
    ("xcos", "newton", None, "stopped at a maximum at step 6 (Hessian not positive definite at 4 step(s))"),
    ("saddle", "newton", None, "stopped at a saddle point at step 1 (Hessian not positive definite at 1 step(s))"),
    ("saddle", "gd", [1.0, 0.0], "stopped at a saddle point at step"),
    ("x**3", "newton", [1.0], "stopped at a degenerate stationary point at step 11"),
    ("-x**2", "newton", [1.0], "stopped at a maximum at step 1"),
    ("sqrt(x**2 + y**2)", "gd", [0.0, 0.0], "gradient undefined at step 0 (f is smallest around this point)"),
    ("(x**2+y**2)**2", "newton", [1.0, 1.0], "converged at step 14"),
])
def test_statuses_name_what_the_run_reached_as_the_core_does(open_page, tmp_path, fn, opt, start, expected):
    """Newton from the default start on xcos reaches a local maximum: the page says so, in the core's words."""
    ref = optviz.run(fn, opt, start=start, steps=500)
    assert ref.runs[0].status_text(0).startswith(expected)
    o, runs = _page_runs(open_page, tmp_path, explore(fn, opt, start=start, steps=500).html)
    assert_same_run(runs[0][0], ref.runs[0], 0, f"{fn}/{opt}")
    shown = o.page.locator(".opt .status").first.text_content()
    assert shown == ref.runs[0].status_text(0)
