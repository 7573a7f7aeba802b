"""SGD and minibatch SGD on the page: its own seeded generator, checked for statistics.

The page does not reproduce numpy's random bits; it must reproduce the
distributions of docs/math.md §2: N(0, σ²/b) gradient noise on a plain
function (so on a quadratic the mean over seeds is the noiseless path and the
spread is the one the linear recursion predicts, as in numpy's runs), one
uniformly drawn sample for SGD on a finite sum, and batches drawn without
replacement for minibatch SGD.
"""

from __future__ import annotations

import numpy as np
import pytest
from explore_helpers import write

import optviz
from optviz.api import explore
from optviz.library import load_function

SEEDS = 3000

RUN_SEEDS = """([name, hp, start, cfg, seeds, t]) => {
  const data = JSON.parse(document.getElementById("optviz-data").textContent);
  const obj = data.finite_sum ? OptvizObjective.make(data.finite_sum.rows) : OptvizObjective;
  const out = [];
  for (let s = 0; s < seeds; s++) {
    const r = OptvizOptim.run(obj, name, OptvizOptim.settings(name, hp.lr, hp.hyper), start,
                              Object.assign({}, cfg, { seed: s, k: 0 }));
    out.push(Array.from(r.theta.subarray(t * start.length, (t + 1) * start.length)));
  }
  return out;
}"""


def _open(open_page, tmp_path, fn, opt, **kw):
    return open_page(write(explore(fn, opt, **kw).html, tmp_path))


def _draws(o, name, lr, start, cfg, t, hyper=None):
    cfg = {"steps": t, "tol": 0, "schedule": "constant", "domainScale": None, **cfg}
    return np.array(o.eval(RUN_SEEDS, [name, {"lr": lr, "hyper": hyper or {}}, start, cfg, SEEDS, t]))


@pytest.mark.parametrize("name, b", [("sgd", 1), ("minibatch", 4)])
def test_gradient_noise_is_normal_with_variance_sigma2_over_b(open_page, tmp_path, name, b):
    fn, sigma, lr, start = "x**2 + 10*y**2", 2.0, 0.01, [1.5, -1.0]
    o = _open(open_page, tmp_path, fn, name)
    theta1 = _draws(o, name, lr, start, {"noise": sigma, "batch_size": b}, 1)
    g0 = np.array([2 * start[0], 20 * start[1]])
    z = (np.array(start) - lr * g0 - theta1) / (lr * sigma / np.sqrt(b))
    tol = 4 / np.sqrt(SEEDS)
    assert np.all(np.abs(z.mean(axis=0)) < tol), z.mean(axis=0)
    assert np.all(np.abs(z.var(axis=0) - 1) < 4 * np.sqrt(2 / SEEDS)), z.var(axis=0)
    assert abs(np.corrcoef(z.T)[0, 1]) < tol
    # Normal, not just the right variance: the fraction beyond 2σ (4.55 %).
    beyond = np.mean(np.abs(z) > 2)
    assert abs(beyond - 0.0455) < 4 * np.sqrt(0.0455 * 0.9545 / (2 * SEEDS))


def test_noisy_sgd_on_a_quadratic_averages_to_the_noiseless_path(open_page, tmp_path):
    """E[θ_t] is GD's path; Var θ_t = η²σ² Σ_s (1 − η aᵢ)^{2s}; numpy's runs agree."""
    fn, sigma, lr, start, t = "x**2 + 10*y**2", 3.0, 0.02, [1.5, -1.0], 40
    o = _open(open_page, tmp_path, fn, "sgd")
    theta = _draws(o, "sgd", lr, start, {"noise": sigma}, t)
    gd = optviz.run(fn, "gd", lr=lr, start=start, steps=t, tol=0).runs[0].theta[t, 0]
    a = np.array([2.0, 20.0])
    var = lr**2 * sigma**2 * np.sum((1 - lr * a[None, :]) ** (2 * np.arange(t)[:, None]), axis=0)
    assert np.all(np.abs(theta.mean(axis=0) - gd) < 4 * np.sqrt(var / SEEDS))
    assert np.all(np.abs(theta.var(axis=0) / var - 1) < 4 * np.sqrt(2 / SEEDS))
    ref = optviz.run(fn, "sgd", lr=lr, start=start, steps=t, tol=0, noise=sigma, seeds=400).runs[0]
    ref_t = ref.theta[t]
    assert np.all(np.abs(ref_t.mean(axis=0) - theta.mean(axis=0)) < 4 * np.sqrt(var / 400 + var / SEEDS))


def test_sgd_on_a_finite_sum_takes_one_uniformly_drawn_sample(open_page, tmp_path):
    obj = load_function("least_squares")
    start, lr = list(obj.start), 0.03
    o = _open(open_page, tmp_path, "least_squares", "sgd")
    theta1 = _draws(o, "sgd", lr, start, {}, 1)
    n = obj.finite_sum.n
    per_sample = np.array(start) - lr * obj.finite_sum.grad(np.array([start] * n), np.arange(n)[:, None])
    dist = np.abs(theta1[:, None, :] - per_sample[None, :, :]).max(axis=2)
    which = dist.argmin(axis=1)
    assert np.all(dist.min(axis=1) <= 1e-12 * np.abs(per_sample).max()), "a step that is no single sample's step"
    counts = np.bincount(which, minlength=n)
    expected = SEEDS / n
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    assert chi2 < 110, f"sample frequencies are not uniform (chi² = {chi2:.1f}, 49 degrees of freedom)"


def test_minibatch_on_a_finite_sum_samples_without_replacement(open_page, tmp_path):
    """The batch mean of b distinct samples out of n: unbiased, variance (σᵢ²/b)(n − b)/(n − 1)."""
    obj = load_function("least_squares")
    start, lr, b = list(obj.start), 0.05, 10
    o = _open(open_page, tmp_path, "least_squares", "minibatch")
    theta1 = _draws(o, "minibatch", lr, start, {"batch_size": b}, 1)
    g = (np.array(start) - theta1) / lr
    n = obj.finite_sum.n
    G = obj.finite_sum.grad(np.array([start] * n), np.arange(n)[:, None])
    full = G.mean(axis=0)
    var = G.var(axis=0) / b * (n - b) / (n - 1)
    assert np.all(np.abs(g.mean(axis=0) - full) < 4 * np.sqrt(var / SEEDS))
    assert np.all(np.abs(g.var(axis=0) / var - 1) < 4 * np.sqrt(2 / SEEDS)), g.var(axis=0) / var


def test_a_minibatch_epoch_uses_every_sample_once(open_page, tmp_path):
    """The n/b batch gradients of one epoch average to the full gradient; the next epoch reshuffles."""
    obj = load_function("least_squares")
    start, b = list(obj.start), 10
    n = obj.finite_sum.n
    o = _open(open_page, tmp_path, "least_squares", "minibatch")
    grads = np.array(o.eval("""([start, b, steps]) => {
      const data = JSON.parse(document.getElementById("optviz-data").textContent);
      const obj = OptvizObjective.make(data.finite_sum.rows);
      const oracle = OptvizOptim.makeOracle(obj, "minibatch", { seed: 11, batch_size: b }, 0);
      const out = [], g = new Float64Array(2);
      for (let t = 1; t <= steps; t++) { oracle(start, g, t, g); out.push(Array.from(g)); }
      return out; }""", [start, b, 2 * n // b]))
    full = obj.grad(np.array([start]))[0]
    epochs = grads.reshape(2, n // b, 2)
    np.testing.assert_allclose(epochs.mean(axis=1), [full, full], rtol=1e-12)
    assert not np.allclose(epochs[0], epochs[1]), "the second epoch did not reshuffle"
