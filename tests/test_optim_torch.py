"""Agreement with torch.optim in float64 (skipped when torch is not installed).

1,000 steps on Rosenbrock from (−1.5, 2) with small learning rates. optviz takes
its gradient from the compiled sympy derivative, torch from autograd on the same
formula; the paths must agree to 1e-10 absolute at every step (they differ only
in rounding; the rates are small enough that Rosenbrock does not amplify it).

Where the SPEC and torch differ by convention (ε inside the root for RMSprop and
AdaGrad; dampening on the first momentum step) the test checks that each side
follows its own documented formula and that the two really differ.
"""

from __future__ import annotations

import numpy as np
import pytest

from optviz.library import load_function
from optviz.optim import make_optimizer
from optviz.runner import run_optimizer

torch = pytest.importorskip("torch")

START = (-1.5, 2.0)
STEPS = 1000
ATOL = 1e-10


def rosen_t(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def torch_path(make, steps=STEPS):
    p = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    opt = make([p])
    out = [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        rosen_t(p).backward()
        opt.step()
        out.append(p.detach().numpy().copy())
    return np.array(out)


def optviz_path(name, steps=STEPS, **hp):
    traj = run_optimizer(load_function("rosenbrock"), make_optimizer(name, **hp), [START], steps=steps, tol=0)
    assert traj.status == ["max_steps"]
    return traj.theta[:, 0]


CASES = {
    "sgd": (dict(lr=1e-3), lambda ps: torch.optim.SGD(ps, lr=1e-3)),
    "gd": (dict(lr=5e-4), lambda ps: torch.optim.SGD(ps, lr=5e-4)),
    "momentum": (dict(lr=2e-4, beta=0.9),
                 lambda ps: torch.optim.SGD(ps, lr=2e-4, momentum=0.9, dampening=0.0)),
    "nesterov": (dict(lr=2e-4, beta=0.9),
                 lambda ps: torch.optim.SGD(ps, lr=2e-4, momentum=0.9, nesterov=True)),
    "adam": (dict(lr=1e-2), lambda ps: torch.optim.Adam(ps, lr=1e-2)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch_on_rosenbrock(name):
    hp, make = CASES[name]
    ours = optviz_path("sgd" if name == "sgd" else name, **hp)
    theirs = torch_path(make)
    assert ours.shape == theirs.shape == (STEPS + 1, 2)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=ATOL)
    # the run went somewhere (a frozen path would agree trivially)
    assert np.linalg.norm(ours[-1] - ours[0]) > 0.1


def test_adam_with_other_betas_matches_torch():
    ours = optviz_path("adam", lr=5e-3, beta1=0.8, beta2=0.99, eps=1e-6)
    theirs = torch_path(lambda ps: torch.optim.Adam(ps, lr=5e-3, betas=(0.8, 0.99), eps=1e-6))
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=ATOL)


# --------------------------------------------------------------------------------------
# Documented differences
# --------------------------------------------------------------------------------------
def _grad_np(theta):
    x, y = theta
    return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])


def _reference(eps_inside: bool, beta, eps, lr, steps):
    """RMSprop (beta given) or AdaGrad (beta None), ε inside or outside the root."""
    theta, s, out = np.array(START), np.zeros(2), [np.array(START)]
    for _ in range(steps):
        g = _grad_np(theta)
        s = s + g * g if beta is None else beta * s + (1 - beta) * g * g
        denom = np.sqrt(s + eps) if eps_inside else np.sqrt(s) + eps
        theta = theta - lr * g / denom
        out.append(theta)
    return np.array(out)


@pytest.mark.parametrize("name", ["rmsprop", "adagrad"])
def test_eps_convention_differs_from_torch_as_documented(name):
    # A large ε makes the convention matter: SPEC g/√(s + ε), torch g/(√s + ε).
    eps, steps = 10.0, 200
    if name == "rmsprop":
        lr, beta = 1e-3, 0.9
        ours = optviz_path("rmsprop", steps=steps, lr=lr, beta=beta, eps=eps)
        theirs = torch_path(lambda ps: torch.optim.RMSprop(ps, lr=lr, alpha=beta, eps=eps), steps)
    else:
        lr, beta = 0.05, None
        ours = optviz_path("adagrad", steps=steps, lr=lr, eps=eps)
        theirs = torch_path(lambda ps: torch.optim.Adagrad(ps, lr=lr, eps=eps), steps)
    np.testing.assert_allclose(ours, _reference(True, beta, eps, lr, steps), rtol=0, atol=1e-9)
    np.testing.assert_allclose(theirs, _reference(False, beta, eps, lr, steps), rtol=0, atol=1e-9)
    assert np.max(np.abs(ours - theirs)) > 1e-3


def test_dampening_first_step_differs_from_torch_as_documented():
    # torch sets v = g on its first step; the SPEC uses (1 − dampening) g from step 1 on.
    lr, beta, d = 1e-4, 0.9, 0.5
    ours = optviz_path("momentum", steps=1, lr=lr, beta=beta, dampening=d)
    theirs = torch_path(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=beta, dampening=d), 1)
    g = _grad_np(np.array(START))
    np.testing.assert_allclose(theirs[1], np.array(START) - lr * g, rtol=0, atol=1e-14)
    np.testing.assert_allclose(ours[1], np.array(START) - lr * (1 - d) * g, rtol=0, atol=1e-14)
