"""The run loop (SPEC §6): stopping, divergence, batches, records, metrics, oracles.

Expected values are worked out in the test from closed forms: GD on f = x² with
rate η multiplies x by (1 − 2η) each step, so x_t = (1 − 2η)^t x₀ and
‖∇f(x_t)‖ = 2 |x_t|. Tolerances are stated where used.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from optviz.library import load_function
from optviz.optim import make_optimizer
from optviz.oracles import ExactOracle, NoisyOracle, SampleOracle
from optviz.runner import run_optimizer

ALL = ["gd", "sgd", "minibatch", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton"]
LRS_ROSEN = {"gd": 1e-3, "sgd": 1e-3, "minibatch": 1e-3, "momentum": 1e-3, "nesterov": 1e-3,
             "adagrad": 0.5, "rmsprop": 0.01, "adam": 0.05, "newton": 1.0}


def X2():
    return load_function("x**2")


# --------------------------------------------------------------------------------------
# Stopping
# --------------------------------------------------------------------------------------
def test_stops_at_tol():
    # η = 0.25: x_t = 0.5^t, ‖∇f‖ = 2·0.5^t ≤ 1e-3  ⇔  0.5^t ≤ 5e-4  ⇔  t ≥ 10.97 → step 11
    traj = run_optimizer(X2(), make_optimizer("gd", lr=0.25), [1.0], steps=100, tol=1e-3)
    assert traj.status == ["converged"]
    assert traj.steps.tolist() == [11]
    assert traj.metrics["steps_to_tol"].tolist() == [11]
    assert traj.theta.shape == (12, 1, 1)
    np.testing.assert_allclose(traj.theta[:, 0, 0], 0.5 ** np.arange(12), rtol=0, atol=0)
    np.testing.assert_allclose(traj.grad_norm[:, 0], 2 * 0.5 ** np.arange(12), rtol=0, atol=0)
    assert traj.final_theta[0, 0] == 0.5**11
    assert traj.final_loss[0] == 0.25**11
    assert "converged at step 11" in traj.status_text(0)


def test_tol_zero_runs_every_step():
    traj = run_optimizer(X2(), make_optimizer("gd", lr=0.25), [1.0], steps=30, tol=0)
    assert traj.status == ["max_steps"]
    assert traj.steps.tolist() == [30]
    assert traj.theta.shape == (31, 1, 1)
    assert traj.theta[30, 0, 0] == 0.5**30
    assert math.isnan(traj.metrics["steps_to_tol"][0])


def test_start_at_minimum_converges_at_step_zero():
    traj = run_optimizer(X2(), make_optimizer("adam", lr=0.1), [0.0], steps=10, tol=1e-6)
    assert traj.status == ["converged"] and traj.steps.tolist() == [0]
    assert traj.final_theta.tolist() == [[0.0]]


def test_gd_lr_1_1_on_x2_diverges_with_status_and_step():
    # η = 1.1: x_t = (−1.2)^t. Default bound for a formula without domain: 1e6 × max(|x₀|, 1) = 1e6.
    # 1.2^75 = 8.5e5 < 1e6 < 1.2^76 = 1.02e6 → diverged at step 76.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = run_optimizer(X2(), make_optimizer("gd", lr=1.1), [1.0], steps=1000)
    assert traj.status == ["diverged"]
    assert traj.steps.tolist() == [76]
    # the final point is the last one inside the bound, x_75 = (−1.2)^75
    np.testing.assert_allclose(traj.final_theta[0, 0], (-1.2) ** 75, rtol=1e-12)
    assert traj.metrics["auc"][0] == np.inf
    assert "diverged at step 76" in traj.status_text(0)


def test_divergence_to_overflow_is_a_status_not_a_warning():
    # With no bound the run goes on until f = x² overflows: (1.2^t)² > 1.797e308
    # ⇔ t > log(1.797e308) / (2 log 1.2) = 1946.4 → step 1947 (±1 for rounding of 1 − 2.2).
    t_star = math.ceil(math.log(np.finfo(float).max) / (2 * math.log(1.2)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = run_optimizer(X2(), make_optimizer("gd", lr=1.1), [1.0], steps=5000, bound=np.inf)
    assert traj.status == ["diverged"]
    assert abs(int(traj.steps[0]) - t_star) <= 1
    assert np.all(np.isfinite(traj.final_theta))


def test_explicit_bound():
    # bound 100: 1.2^25 = 95.4 < 100 < 1.2^26 = 114.5 → step 26
    traj = run_optimizer(X2(), make_optimizer("gd", lr=1.1), [1.0], steps=1000, bound=100.0)
    assert traj.status == ["diverged"] and traj.steps.tolist() == [26]


@pytest.mark.parametrize("start", [[np.nan], [np.inf], [-np.inf], [1e200]])
def test_nan_or_overflowing_start_is_diverged_at_step_zero(start):
    # 1e200: f = 1e400 overflows to inf.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = run_optimizer(X2(), make_optimizer("adam", lr=0.1), [start], steps=10)
    assert traj.status == ["diverged"]
    assert traj.steps.tolist() == [0]
    assert traj.metrics["auc"][0] == np.inf


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_bad_start_in_a_batch_does_not_spoil_the_others(bad):
    # The finite start must run exactly as on its own: converge at step 11 (η = 0.25,
    # tol 1e-3), and diverge at step 76 (η = 1.1, see above).
    for lr, status, step in ((0.25, "converged", 11), (1.1, "diverged", 76)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            traj = run_optimizer(X2(), make_optimizer("gd", lr=lr), [[bad], [1.0]], steps=1000, tol=1e-3)
        assert traj.status == ["diverged", status], (bad, lr)
        assert traj.steps.tolist() == [0, step], (bad, lr)


# --------------------------------------------------------------------------------------
# A batch of K starts = K single runs
# --------------------------------------------------------------------------------------
ROSEN_STARTS = np.array([[-1.5, 2.0], [0.5, -0.5], [1.2, 1.3], [-0.3, 0.8]])


def _assert_same_run(batch, k, single, exact_state=True):
    n = int(single.steps[0])
    assert int(batch.steps[k]) == n
    assert batch.status[k] == single.status[0]
    assert batch.notes[k] == single.notes[0]
    for name in ("theta", "loss", "grad_norm", "lr"):
        b, s = getattr(batch, name), getattr(single, name)
        np.testing.assert_allclose(b[: n + 1, k], s[: n + 1, 0], rtol=1e-15, atol=1e-300, err_msg=name)
        assert np.all(np.isnan(b[n + 1:, k])), f"{name} not NaN after the stop"
    for name, arr in single.state.items():
        b = batch.state[name]
        np.testing.assert_allclose(b[1: n + 1, k], arr[1: n + 1, 0], rtol=1e-15, atol=1e-300, err_msg=name)
    np.testing.assert_allclose(batch.final_theta[k], single.final_theta[0], rtol=1e-15, atol=0)
    np.testing.assert_allclose(batch.final_loss[k], single.final_loss[0], rtol=1e-15, atol=0)
    # Metrics are means over steps: a (T+1, K) column sum and a (T+1, 1) one may add in a
    # different order, so they agree to rounding of the sum (1e-13 absolute), not bitwise.
    for m in ("auc", "steps_to_tol"):
        np.testing.assert_allclose(batch.metrics[m][k], single.metrics[m][0], rtol=1e-12, atol=1e-13,
                                   equal_nan=True, err_msg=m)


@pytest.mark.parametrize("name", ALL)
def test_batch_equals_single_runs(name):
    obj = load_function("rosenbrock")
    batch = run_optimizer(obj, make_optimizer(name, lr=LRS_ROSEN[name]), ROSEN_STARTS, steps=300, tol=1e-4)
    assert batch.theta.shape[1:] == (4, 2)
    for k in range(4):
        single = run_optimizer(obj, make_optimizer(name, lr=LRS_ROSEN[name]), ROSEN_STARTS[k], steps=300,
                               tol=1e-4)
        _assert_same_run(batch, k, single)


def test_batch_equals_single_runs_with_divergence_on_a_library_function():
    # parabola: x², domain [−11, 11] → bound 1.1e7 for every start inside the domain.
    obj = load_function("parabola")
    starts = [[1.0], [10.0], [-3.0]]
    batch = run_optimizer(obj, make_optimizer("gd", lr=1.1), starts, steps=200)
    assert batch.status == ["diverged"] * 3
    for k, s in enumerate(starts):
        _assert_same_run(batch, k, run_optimizer(obj, make_optimizer("gd", lr=1.1), [s], steps=200))


def test_batch_equals_single_runs_when_the_default_bound_stops_them():
    # A formula has no domain, so the default bound comes from the starts. Each point of a
    # batch must still stop where its own run does: x₀ = 1 leaves 1e6 at step 76 (see above);
    # x₀ = 100 leaves 1e8 at step 76 as well (100·1.2^76 = 1.02e8).
    starts = [[1.0], [100.0]]
    batch = run_optimizer(X2(), make_optimizer("gd", lr=1.1), starts, steps=1000)
    for k, s in enumerate(starts):
        single = run_optimizer(X2(), make_optimizer("gd", lr=1.1), [s], steps=1000)
        assert single.steps.tolist() == [76]
        assert (batch.status[k], int(batch.steps[k])) == (single.status[0], 76), f"start {s}"


# --------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------
def test_record_shapes_and_nan_after_stop():
    # Two points, η = 0.25, tol 1e-3: x₀ = 1 stops at 11; x₀ = 8 = 2³ at 14 (2·8·0.5^t ≤ 1e-3).
    traj = run_optimizer(X2(), make_optimizer("momentum", lr=0.05), [[1.0], [-2.0]], steps=40, tol=0)
    T = 40
    assert traj.theta.shape == (T + 1, 2, 1)
    assert traj.loss.shape == traj.grad_norm.shape == traj.lr.shape == (T + 1, 2)
    assert traj.state["v"].shape == (T + 1, 2, 1)

    traj = run_optimizer(X2(), make_optimizer("gd", lr=0.25), [[1.0], [8.0]], steps=40, tol=1e-3)
    assert traj.steps.tolist() == [11, 14]
    assert traj.status == ["converged", "converged"]
    assert traj.theta.shape == (15, 2, 1)  # T + 1 with T the longest run
    assert np.all(np.isnan(traj.theta[12:, 0])) and np.all(np.isnan(traj.loss[12:, 0]))
    assert np.all(np.isnan(traj.grad_norm[12:, 0])) and np.all(np.isnan(traj.lr[12:, 0]))
    assert np.all(np.isfinite(traj.theta[:12, 0])) and np.all(np.isfinite(traj.theta[:, 1]))
    assert np.isnan(traj.lr[0]).all()
    assert np.all(traj.lr[1:12, 0] == 0.25) and np.all(traj.lr[1:, 1] == 0.25)
    np.testing.assert_array_equal(traj.theta[:15, 1, 0], 8 * 0.5 ** np.arange(15))
    np.testing.assert_array_equal(traj.loss[:12, 0], 0.25 ** np.arange(12))
    assert traj.path(0).shape == (12, 1) and traj.losses(1).shape == (15,)


def test_diverged_path_excludes_the_point_out_of_bounds():
    traj = run_optimizer(X2(), make_optimizer("gd", lr=1.1), [1.0], steps=1000)
    p = traj.path(0)
    assert p.shape == (76, 1)  # x_0 .. x_75
    np.testing.assert_allclose(p[-1, 0], (-1.2) ** 75, rtol=1e-12)


def test_adam_state_record_by_hand():
    # Adam (η = 0.1, β₁ = 0.9, β₂ = 0.999, ε = 1e-8) on x² from x = 1, written out again here.
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    traj = run_optimizer(X2(), make_optimizer("adam", lr=lr), [1.0], steps=5, tol=0)
    x, m, v = 1.0, 0.0, 0.0
    for t in range(1, 6):
        g = 2 * x
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        x = x - lr * m_hat / (math.sqrt(v_hat) + eps)
        assert traj.theta[t, 0, 0] == pytest.approx(x, rel=1e-14)
        assert traj.state["m_hat"][t, 0, 0] == pytest.approx(m_hat, rel=1e-14)
        assert traj.state["v_hat"][t, 0, 0] == pytest.approx(v_hat, rel=1e-14)
        assert traj.state["effective_lr"][t, 0, 0] == pytest.approx(lr / (math.sqrt(v_hat) + eps), rel=1e-14)
    # the first step: m̂ = g = 2, v̂ = g² = 4, effective η = 0.1 / (2 + 1e-8)
    assert traj.state["m_hat"][1, 0, 0] == pytest.approx(2.0, rel=1e-14)
    assert traj.state["v_hat"][1, 0, 0] == pytest.approx(4.0, rel=1e-14)
    assert traj.state["effective_lr"][1, 0, 0] == pytest.approx(0.05, rel=1e-8)
    for name in ("m_hat", "v_hat", "effective_lr"):
        assert traj.state[name].shape == (6, 1, 1)
        assert np.isnan(traj.state[name][0]).all()


@pytest.mark.parametrize(("name", "slots"), [("gd", set()), ("momentum", {"v"}), ("nesterov", {"v"}),
                                             ("adagrad", {"s", "effective_lr"}),
                                             ("rmsprop", {"s", "effective_lr"}),
                                             ("adam", {"m_hat", "v_hat", "effective_lr"}),
                                             ("newton", {"indefinite", "singular"})])
def test_state_record_names(name, slots):
    traj = run_optimizer(load_function("rosenbrock"), make_optimizer(name, lr=LRS_ROSEN[name]),
                         ROSEN_STARTS[:2], steps=5, tol=0)
    assert slots <= set(traj.state)
    for arr in traj.state.values():
        assert arr.shape[:2] == (6, 2)


def test_rmsprop_state_record_by_hand():
    # s = β s + (1 − β) g², effective η = η / √(s + ε); β = 0.9, ε = 1e-6, η = 0.01 on x² from 1.
    traj = run_optimizer(X2(), make_optimizer("rmsprop", lr=0.01), [1.0], steps=3, tol=0)
    x, s = 1.0, 0.0
    for t in range(1, 4):
        g = 2 * x
        s = 0.9 * s + 0.1 * g * g
        x = x - 0.01 * g / math.sqrt(s + 1e-6)
        assert traj.state["s"][t, 0, 0] == pytest.approx(s, rel=1e-14)
        assert traj.state["effective_lr"][t, 0, 0] == pytest.approx(0.01 / math.sqrt(s + 1e-6), rel=1e-14)
        assert traj.theta[t, 0, 0] == pytest.approx(x, rel=1e-14)


def _summary_kw():
    # auc in summary mode is computed only on request (metrics_every_step=True), when the
    # runner offers that switch; the finals never depend on it.
    import inspect

    return {"metrics_every_step": True} if "metrics_every_step" in inspect.signature(run_optimizer).parameters else {}


def _assert_same_finals(full, summ, auc=True):
    assert summ.theta.shape[0] == 1 and summ.loss.shape[0] == 1
    assert summ.mode == "summary" and not summ.recorded
    assert full.recorded
    assert summ.status == full.status and summ.notes == full.notes
    np.testing.assert_array_equal(summ.steps, full.steps)
    np.testing.assert_array_equal(summ.final_theta, full.final_theta)
    np.testing.assert_array_equal(summ.final_loss, full.final_loss)
    np.testing.assert_array_equal(summ.final_grad_norm, full.final_grad_norm)
    np.testing.assert_array_equal(summ.metrics["steps_to_tol"], full.metrics["steps_to_tol"])
    if auc:
        # a running sum and a sum over the record: equal to rounding of the sum
        np.testing.assert_allclose(summ.metrics["auc"], full.metrics["auc"], rtol=1e-12, atol=1e-13)
    for entry in summ.to_runs():
        assert entry["trajectory"] is None and entry["losses"] is None


@pytest.mark.parametrize("name", ["gd", "momentum", "adam", "newton"])
def test_summary_mode_has_no_per_step_arrays_and_same_finals(name):
    obj = load_function("rosenbrock")
    starts = np.vstack([ROSEN_STARTS, [[50.0, 50.0]]])
    lr = LRS_ROSEN[name] * (3 if name != "newton" else 1)  # some points diverge
    full = run_optimizer(obj, make_optimizer(name, lr=lr), starts, steps=200, tol=1e-4, mode="full")
    summ = run_optimizer(obj, make_optimizer(name, lr=lr), starts, steps=200, tol=1e-4, mode="summary",
                         **_summary_kw())
    _assert_same_finals(full, summ, auc=bool(_summary_kw()))
    plain = run_optimizer(obj, make_optimizer(name, lr=lr), starts, steps=200, tol=1e-4, mode="summary")
    _assert_same_finals(full, plain, auc=False)


@pytest.mark.parametrize("bound", [None, 100.0, np.inf])
def test_summary_mode_detects_divergence_at_the_same_step(bound):
    # GD η = 1.1 on x²: bound 1e6 → step 76, bound 100 → step 26, no bound → overflow of f
    # (about step 1947; see test_divergence_to_overflow_is_a_status_not_a_warning).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        full = run_optimizer(X2(), make_optimizer("gd", lr=1.1), [[1.0], [-2.0]], steps=5000, bound=bound)
        summ = run_optimizer(X2(), make_optimizer("gd", lr=1.1), [[1.0], [-2.0]], steps=5000, bound=bound,
                             mode="summary")
    assert full.status == ["diverged", "diverged"]
    _assert_same_finals(full, summ, auc=False)


def test_summary_mode_memory_does_not_grow_with_steps():
    traj = run_optimizer(X2(), make_optimizer("gd", lr=0.01), [[1.0], [2.0]], steps=5000, tol=0, mode="summary")
    assert traj.theta.shape == (1, 2, 1)
    assert all(v.shape[0] <= 1 for v in traj.state.values())


# --------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------
def test_auc_with_known_minimum():
    # parabola x² (f* = 0), η = 0.25 from x = 1: f_t = 0.25^t, log10 f_t = −t·log10 4.
    # tol 1e-3 stops at s = 11; budget N = 20: the stopped point counts with f_11 for
    # steps 12..20: auc = (Σ_{t=0..11} −t L + 9·(−11 L)) / 21 = −(66 + 99) L / 21.
    L = math.log10(4)
    traj = run_optimizer(load_function("parabola"), make_optimizer("gd", lr=0.25), [1.0], steps=20, tol=1e-3)
    assert traj.steps.tolist() == [11]
    assert traj.metrics["auc"][0] == pytest.approx(-165 * L / 21, rel=1e-12)


def test_auc_without_known_minimum_is_mean_f():
    # "x**2 + 1" has no stored minimum: auc is the mean of f itself, f_t = 1 + 0.25^t.
    traj = run_optimizer(load_function("x**2 + 1"), make_optimizer("gd", lr=0.25), [1.0], steps=20, tol=1e-3)
    f = [1 + 0.25**t for t in range(12)]
    want = (sum(f) + 9 * f[-1]) / 21
    assert traj.metrics["auc"][0] == pytest.approx(want, rel=1e-14)


def test_auc_runs_to_budget_and_orders_runs():
    obj = load_function("parabola")
    fast = run_optimizer(obj, make_optimizer("gd", lr=0.25), [1.0], steps=30, tol=0)
    slow = run_optimizer(obj, make_optimizer("gd", lr=0.05), [1.0], steps=30, tol=0)
    # no early stop: auc = mean_{t=0..30} log10(0.25^t) = −15 L  and  log10(0.81^t) → 15·log10 0.81
    assert fast.metrics["auc"][0] == pytest.approx(-15 * math.log10(4), rel=1e-12)
    assert slow.metrics["auc"][0] == pytest.approx(15 * math.log10(0.81), rel=1e-12)
    assert fast.metrics["auc"][0] < slow.metrics["auc"][0]


# --------------------------------------------------------------------------------------
# Newton's record
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", ["xcos", "x*cos(0.15*pi*x)"])
def test_newton_on_xcos_notes_indefinite_hessian(fn):
    traj = run_optimizer(load_function(fn), make_optimizer("newton"), [10.0], steps=50)
    assert "Hessian not positive definite" in traj.notes[0]
    assert "Hessian not positive definite" in traj.status_text(0)
    assert traj.status[0] != "diverged"
    # f''(10) = −0.3π sin(1.5π) − 10 (0.15π)² cos(1.5π) = 0.3π > 0 at the start, but the
    # path ends where f'' < 0 (a maximum): check it with the hand-written f''.
    x = float(traj.final_theta[0, 0])
    c = 0.15 * math.pi
    fpp = -2 * c * math.sin(c * x) - x * c * c * math.cos(c * x)
    assert fpp < 0


def test_newton_safeguard_avoids_maximum_on_xcos():
    traj = run_optimizer(load_function("xcos"), make_optimizer("newton", safeguard="abs"), [10.0], steps=50)
    obj = load_function("xcos")
    assert traj.final_loss[0] < obj.f(np.array([[10.0]]))[0]


# --------------------------------------------------------------------------------------
# Noisy and sampled gradients
# --------------------------------------------------------------------------------------
def _noisy_run(starts, seed, name="sgd", **kw):
    obj = load_function("x**2 + 10*y**2")
    oracle = NoisyOracle(1.0, seed=seed, **kw)
    return run_optimizer(obj, make_optimizer(name, lr=0.01), starts, steps=50, tol=0, oracle=oracle)


def test_noisy_sgd_same_seed_identical_different_seed_different():
    a = _noisy_run([[1.0, 1.0]], 7)
    b = _noisy_run([[1.0, 1.0]], 7)
    c = _noisy_run([[1.0, 1.0]], 8)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert not np.allclose(a.theta[1:], c.theta[1:])


def test_noisy_sgd_first_point_of_batch_equals_single_run():
    starts = [[1.0, 1.0], [2.0, -1.0], [0.5, 0.5]]
    for kw in ({}, {"batch_size": 10}):
        batch = _noisy_run(starts, 3, **kw)
        single = _noisy_run(starts[:1], 3, **kw)
        np.testing.assert_array_equal(batch.theta[:, 0], single.theta[:, 0])
        assert not np.allclose(batch.theta[1:, 1] - batch.theta[1:, 0], batch.theta[1, 1] - batch.theta[1, 0])


def test_noisy_oracle_noise_level():
    # ε ~ N(0, σ²/b): σ = 2, b = 4 → std 1; 200 000 draws, sample std within 1%.
    exact = np.zeros((100_000, 2))
    for b, want in ((1, 2.0), (4, 1.0)):
        eps = NoisyOracle(2.0, seed=0, batch_size=b)(exact, exact)
        assert abs(eps.std() - want) < 0.01 * want
        assert abs(eps.mean()) < 5 * want / math.sqrt(eps.size)


def test_sample_oracle_first_point_of_batch_equals_single_run():
    obj = load_function("least_squares")
    starts = [[4.5, -2.0], [0.0, 0.0], [1.0, 3.0]]
    for b in (1, 10):
        runs = []
        for X0 in (starts, starts[:1]):
            oracle = SampleOracle(obj.finite_sum, batch_size=b, seed=11)
            runs.append(run_optimizer(obj, make_optimizer("sgd", lr=0.02), X0, steps=120, tol=0, oracle=oracle))
        np.testing.assert_array_equal(runs[0].theta[:, 0], runs[1].theta[:, 0])


@pytest.mark.parametrize("b", [10, 7, 50])
def test_sample_oracle_epochs_visit_every_sample_once(b):
    # n = 50. Each epoch is a fresh shuffle per point; the n mod b samples left over are
    # dropped (documented), so an epoch is ⌊n/b⌋ batches covering ⌊n/b⌋·b distinct samples.
    fs = load_function("least_squares").finite_sum
    n, K = fs.n, 3
    per_epoch = n // b
    oracle = SampleOracle(fs, batch_size=b, seed=4)
    epochs = []
    for _ in range(3):
        batches = [oracle.indices(K) for _ in range(per_epoch)]
        assert all(idx.shape == (K, b) for idx in batches)
        epochs.append(np.concatenate(batches, axis=1))
    for ep in epochs:
        for k in range(K):
            assert len(np.unique(ep[k])) == per_epoch * b  # no sample twice within an epoch
            assert ep[k].min() >= 0 and ep[k].max() < n
    if b < n:
        # points draw their own shuffles, and epochs differ
        assert not np.array_equal(epochs[0][0], epochs[0][1])
        assert not np.array_equal(epochs[0][0], epochs[1][0])


def test_sample_oracle_gradient_is_the_minibatch_mean():
    # Least squares fᵢ = (w uᵢ + b − tᵢ)²: ∇fᵢ = 2 (w uᵢ + b − tᵢ) (uᵢ, 1), written by hand.
    fs = load_function("least_squares").finite_sum
    X = np.array([[1.0, 0.5], [2.5, -1.0]])
    twin = SampleOracle(fs, batch_size=10, seed=9)
    oracle = SampleOracle(fs, batch_size=10, seed=9)
    for _ in range(7):  # crosses an epoch boundary (5 batches per epoch)
        idx = twin.indices(2)
        got = oracle(X, None)
        for k in range(2):
            u, t = fs.data[idx[k], 0], fs.data[idx[k], 1]
            r = X[k, 0] * u + X[k, 1] - t
            want = np.array([np.mean(2 * r * u), np.mean(2 * r)])
            np.testing.assert_allclose(got[k], want, rtol=1e-13)


def test_single_sample_oracle_is_unbiased():
    # SGD draws i uniformly: the mean of many one-sample gradients → the full gradient.
    obj = load_function("least_squares")
    X = np.array([[1.0, 0.5]])
    oracle = SampleOracle(obj.finite_sum, batch_size=1, seed=2)
    draws = oracle(np.tile(X, (20_000, 1)), None)  # 20 000 points, one draw each
    full = obj.grad(X)[0]
    se = draws.std(axis=0) / math.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - full) < 5 * se)


def test_exact_oracle_passes_the_gradient():
    g = np.array([[1.0, 2.0]])
    assert ExactOracle()(np.zeros((1, 2)), g) is g
