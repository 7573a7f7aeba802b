"""Adadelta, AdamW, AMSGrad, NAdam, RAdam and Adamax against torch.optim in float64.

1,000 steps on Rosenbrock from (−1.5, 2) (optviz's compiled gradient, torch's autograd of
the same formula) and on a random 50-dimensional quadratic ½θᵀAθ − bᵀθ (eigenvalues
0.1 … 10). Every iterate must agree to 1e-10 absolute. Each rate is one where torch agrees
with itself after a 1e-15 change of the start to 1e-11 or better (checked here too), so a difference
is a difference of rules, not amplified rounding: Adadelta at its default η = 1 is chaotic
on both (torch against itself drifts by 6e-3 on Rosenbrock and 2.5e-2 on the quadratic),
NAdam from η = 0.03 on, AdamW with β = (0.8, 0.99) at η = 0.03. torch's default dtype is float64 here, because NAdam keeps its
running product μ₁⋯μₜ in it.
"""

from __future__ import annotations

import numpy as np
import pytest

from optviz.library import load_function
from optviz.optim import make_optimizer
from optviz.runner import run_optimizer
from tests.optim.problems import quadratic

torch = pytest.importorskip("torch")

START = (-1.5, 2.0)
STEPS = 1000
ATOL = 1e-10
STABLE = 1e-11  # torch against itself, start moved by 1e-15 (RAdam amplifies it to 7e-13)


@pytest.fixture(autouse=True)
def float64_default():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def rosen_t(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def torch_path(make, loss, start, steps=STEPS):
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = make([p])
    out = [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        loss(p).backward()
        opt.step()
        out.append(p.detach().numpy().copy())
    return np.array(out)


def optviz_quadratic_path(name, A, b, x0, **hp):
    opt = make_optimizer(name, **hp)
    x, state, out = x0.copy(), opt.init(x0), [x0]
    for _ in range(STEPS):
        x, state = opt.step(x, A @ x - b, state)
        out.append(x)
    return np.array(out)


T = torch.optim if torch else None
# name: (optviz settings, torch optimizer) on Rosenbrock, and the rate on the quadratic
CASES = {
    "adadelta": (dict(lr=0.05), lambda ps, lr: T.Adadelta(ps, lr=lr), 0.3),
    "adamw": (dict(lr=0.1), lambda ps, lr: T.AdamW(ps, lr=lr), 0.1),
    "adamw-decay": (dict(lr=0.03, weight_decay=0.2), lambda ps, lr: T.AdamW(ps, lr=lr, weight_decay=0.2), 0.03),
    "amsgrad": (dict(lr=0.1), lambda ps, lr: T.Adam(ps, lr=lr, amsgrad=True), 0.1),
    "nadam": (dict(lr=0.01), lambda ps, lr: T.NAdam(ps, lr=lr), 0.01),
    "radam": (dict(lr=0.01), lambda ps, lr: T.RAdam(ps, lr=lr), 0.1),
    "adamax": (dict(lr=0.1), lambda ps, lr: T.Adamax(ps, lr=lr), 0.1),
}


@pytest.mark.parametrize("case", list(CASES))
def test_matches_torch_on_rosenbrock(case):
    name = case.split("-")[0]
    hp, make, _ = CASES[case]
    traj = run_optimizer(load_function("rosenbrock"), make_optimizer(name, **hp), [START], steps=STEPS, tol=0)
    ours = traj.theta[:, 0]
    theirs = torch_path(lambda ps: make(ps, hp["lr"]), rosen_t, START)
    assert traj.status == ["max_steps"] and ours.shape == theirs.shape == (STEPS + 1, 2)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=ATOL)
    assert np.linalg.norm(ours[-1] - ours[0]) > 0.2  # the path went somewhere
    nudged = torch_path(lambda ps: make(ps, hp["lr"]), rosen_t, (START[0] * (1 + 1e-15), START[1]))
    assert np.max(np.abs(nudged - theirs)) < STABLE  # a rate where rounding is not amplified


@pytest.mark.parametrize("case", list(CASES))
def test_matches_torch_on_a_random_50d_quadratic(case):
    name = case.split("-")[0]
    hp, make, lr = CASES[case]
    A, b, x0 = quadratic()
    At, bt = torch.tensor(A), torch.tensor(b)
    ours = optviz_quadratic_path(name, A, b, x0, **{**hp, "lr": lr})
    theirs = torch_path(lambda ps: make(ps, lr), lambda p: 0.5 * p @ (At @ p) - bt @ p, x0)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=ATOL)
    x_star = np.linalg.solve(A, b)
    assert np.linalg.norm(ours[-1] - x_star) < 0.8 * np.linalg.norm(x0 - x_star)


def test_adadelta_at_its_default_rate_is_chaotic_in_torch_itself():
    """Why the comparison above uses η = 0.05: at η = 1 a 1e-15 change of the start moves
    torch's own path by more than 1e-3 on Rosenbrock, so no rule could be checked to 1e-10."""
    make = lambda ps: T.Adadelta(ps, lr=1.0)  # noqa: E731
    a = torch_path(make, rosen_t, START)
    b = torch_path(make, rosen_t, (START[0] * (1 + 1e-15), START[1]))
    assert np.max(np.abs(a - b)) > 1e-3


def test_nadam_product_in_float32_differs_as_documented():
    """torch keeps μ₁⋯μₜ in its default dtype: with float32 the path moves away from the float64
    rule, which optviz follows."""
    torch.set_default_dtype(torch.float32)
    theirs = torch_path(lambda ps: T.NAdam(ps, lr=0.01), rosen_t, START)
    torch.set_default_dtype(torch.float64)
    ours = run_optimizer(load_function("rosenbrock"), make_optimizer("nadam", lr=0.01), [START], steps=STEPS,
                         tol=0).theta[:, 0]
    assert np.max(np.abs(ours - theirs)) > 1e-9
