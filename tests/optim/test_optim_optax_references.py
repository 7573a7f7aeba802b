"""Yogi and Lion against optax in float64 (jax's 64-bit mode).

1,000 steps on Rosenbrock from (−1.5, 2) (optviz's compiled gradient, jax's autodiff of the
same formula) and on the random 50-dimensional quadratic of the torch references; every
iterate to 1e-10 absolute. The reference is configured to the rule of docs/math.md §4.2 and
§4.8: optax.yogi starts m and v at 1e-6 (``initial_accumulator_value``), so the reference is
``scale_by_yogi(initial_accumulator_value=0)`` followed by the learning rate; optax.lion's
default ``weight_decay`` is 1e-3, so the reference sets optviz's λ. The documented
differences of the library defaults are checked too.
"""

from __future__ import annotations

import numpy as np
import pytest

from optviz.library import load_function
from optviz.optim import make_optimizer
from optviz.runner import run_optimizer
from tests.optim.problems import quadratic

optax = pytest.importorskip("optax")
jax = pytest.importorskip("jax")
jnp = jax.numpy

START = (-1.5, 2.0)
STEPS = 1000
ATOL = 1e-10


def rosen_j(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def optax_path(tx, loss, start, steps=STEPS):
    with jax.enable_x64(True):
        grad = jax.grad(loss)

        @jax.jit
        def step(p, state):
            updates, state = tx.update(grad(p), state, p)
            return optax.apply_updates(p, updates), state

        p = jnp.asarray(np.asarray(start, dtype=float))
        state = tx.init(p)
        out = [np.asarray(p)]
        for _ in range(steps):
            p, state = step(p, state)
            out.append(np.asarray(p))
    return np.array(out)


def optviz_rosenbrock(name, **hp):
    traj = run_optimizer(load_function("rosenbrock"), make_optimizer(name, **hp), [START], steps=STEPS, tol=0)
    assert traj.status == ["max_steps"]
    return traj.theta[:, 0]


def yogi_reference(lr, **kw):
    """optax's Yogi with the zero start of docs/math.md §4.2."""
    return optax.chain(optax.scale_by_yogi(initial_accumulator_value=0.0, **kw), optax.scale_by_learning_rate(lr))


CASES = {
    # name: (optviz settings, optax reference) on Rosenbrock; the rate on the quadratic
    "yogi": (dict(lr=0.05), lambda lr: yogi_reference(lr), 0.1),
    "yogi-betas": (dict(lr=0.02, beta1=0.8, beta2=0.99, eps=1e-4),
                   lambda lr: yogi_reference(lr, b1=0.8, b2=0.99, eps=1e-4), 0.02),
    "lion": (dict(lr=1e-3), lambda lr: optax.lion(lr, weight_decay=0.0), 1e-3),
    "lion-decay": (dict(lr=1e-3, weight_decay=0.5, beta1=0.8, beta2=0.95),
                   lambda lr: optax.lion(lr, b1=0.8, b2=0.95, weight_decay=0.5), 1e-3),
}


@pytest.mark.parametrize("case", list(CASES))
def test_matches_optax_on_rosenbrock(case):
    hp, tx, _ = CASES[case]
    ours = optviz_rosenbrock(case.split("-")[0], **hp)
    theirs = optax_path(tx(hp["lr"]), rosen_j, START)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=ATOL)
    assert np.linalg.norm(ours[-1] - ours[0]) > 0.2


@pytest.mark.parametrize("case", list(CASES))
def test_matches_optax_on_a_random_50d_quadratic(case):
    hp, tx, lr = CASES[case]
    A, b, x0 = quadratic()
    opt = make_optimizer(case.split("-")[0], **{**hp, "lr": lr})
    x, state, ours = x0.copy(), opt.init(x0), [x0]
    for _ in range(STEPS):
        x, state = opt.step(x, A @ x - b, state)
        ours.append(x)
    with jax.enable_x64(True):
        Aj, bj = jnp.asarray(A), jnp.asarray(b)
        theirs = optax_path(tx(lr), lambda p: 0.5 * p @ (Aj @ p) - bj @ p, x0)
    np.testing.assert_allclose(np.array(ours), theirs, rtol=0, atol=ATOL)
    x_star = np.linalg.solve(A, b)
    assert np.linalg.norm(ours[-1] - x_star) < np.linalg.norm(x0 - x_star)


def test_optax_yogi_default_start_differs_as_documented():
    """optax.yogi starts m and v at 1e-6: its first steps are not the zero-start rule's (3e-8
    apart after five steps: small, but 300 times the tolerance of the comparisons above)."""
    ours = optviz_rosenbrock("yogi", lr=0.05)
    theirs = optax_path(optax.yogi(0.05), rosen_j, START, steps=5)
    assert np.max(np.abs(ours[1:6] - theirs[1:])) > 1e-8


def test_optax_lion_default_decay_differs_as_documented():
    """optax.lion decays by 1e-3 unless told; optviz's λ defaults to 0."""
    ours = optviz_rosenbrock("lion", lr=1e-3)
    theirs = optax_path(optax.lion(1e-3), rosen_j, START)
    assert np.max(np.abs(ours - theirs)) > 1e-6
    np.testing.assert_allclose(optviz_rosenbrock("lion", lr=1e-3, weight_decay=1e-3), theirs, rtol=0, atol=ATOL)
