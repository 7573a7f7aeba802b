"""Shared runs for the plot tests (computed once per session: drawing is what is tested)."""

import pytest

import optviz


@pytest.fixture(scope="session")
def rosen():
    """Three optimizers on Rosenbrock, two start points each."""
    return optviz.run("rosenbrock", "adam,momentum,gd", steps=60, start=[[-1.5, 2.0], [0.5, -0.5]])


@pytest.fixture(scope="session")
def rosen_single():
    return optviz.run("rosenbrock", "adam,momentum", steps=40)


@pytest.fixture(scope="session")
def diverging():
    """GD with η = 0.01 leaves Rosenbrock's domain after a few steps; Adam does not."""
    return optviz.run("rosenbrock", "gd,adam", lr=0.01, steps=30)


@pytest.fixture(scope="session")
def xcos():
    """Newton from x = 10 on x·cos(0.15πx) walks to a local maximum (d2l.ai's example)."""
    return optviz.run("x*cos(0.15*pi*x)", "newton,gd", start=10, steps=20)


@pytest.fixture(scope="session")
def himmelblau():
    return optviz.run("himmelblau", "adam,newton", start=[[0.0, 0.0], [-1.0, -1.0]], steps=40)


@pytest.fixture(scope="session")
def three_d():
    return optviz.run("x**2 + 2*y**2 + 0.5*z**2", "gd,adam", steps=30)
