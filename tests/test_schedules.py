"""Learning-rate schedules (SPEC §4) against values worked out by hand.

A schedule is a function of k, the number of completed steps: step t = 1, 2, …
uses η = schedule(t − 1), so the first step uses η₀. Expected values below are
written out in the test (with the arithmetic in comments); tolerance 1e-15
absolute (values are O(1)).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from optviz.errors import OptvizError
from optviz.library import load_function
from optviz.optim import (
    constant,
    cosine,
    exponential,
    inverse_time,
    make_optimizer,
    parse_schedule,
    polynomial,
    step_decay,
    warmup,
)
from optviz.runner import run_optimizer

C1 = (1 + math.sqrt(2) / 2) / 2  # (1 + cos(π/4)) / 2 = 0.8535533905932737
C3 = (1 - math.sqrt(2) / 2) / 2  # (1 + cos(3π/4)) / 2 = 0.1464466094067262

# (factory-built schedule, CLI spec, lr0, [η(k) for k = 0, 1, 2, …])
CASES = [
    ("constant", constant(0.3), "constant", 0.3, [0.3, 0.3, 0.3, 0.3]),
    # η₀ γ^⌊k/K⌋, K = 3, γ = 0.5, η₀ = 0.8
    ("step", step_decay(0.8, 3, 0.5), "step:3:0.5", 0.8, [0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2, 0.2]),
    # η₀ γᵏ, γ = 0.5, η₀ = 1
    ("exp", exponential(1.0, 0.5), "exp:0.5", 1.0, [1.0, 0.5, 0.25, 0.125, 0.0625]),
    # the notes' 0.95ᵉ η₀ with η₀ = 0.2: 0.2, 0.19, 0.1805
    ("exp-notes", exponential(0.2, 0.95), "exp:0.95", 0.2, [0.2, 0.19, 0.1805]),
    # η₀ / (1 + d k), d = 0.5: 1, 1/1.5, 1/2, 1/2.5, 1/3
    ("inverse", inverse_time(1.0, 0.5), "inverse:0.5", 1.0, [1.0, 2 / 3, 0.5, 0.4, 1 / 3]),
    # η₀ (1 + β k)^(−α), β = 1, α = 2: 1, 1/4, 1/9, 1/16
    ("poly", polynomial(1.0, 1.0, 2.0), "poly:1:2", 1.0, [1.0, 0.25, 1 / 9, 0.0625]),
    # β = 0.5, α = 0.5, η₀ = 2: 2/√1, 2/√1.5, 2/√2, 2/√2.5
    ("poly-sqrt", polynomial(2.0, 0.5, 0.5), "poly:0.5:0.5", 2.0,
     [2.0, 2 / math.sqrt(1.5), 2 / math.sqrt(2.0), 2 / math.sqrt(2.5)]),
    # MIN + (η₀ − MIN)(1 + cos(π min(k, T)/T))/2, T = 4, MIN = 0: clamped after T
    ("cosine", cosine(1.0, 4), "cosine:4", 1.0, [1.0, C1, 0.5, C3, 0.0, 0.0, 0.0]),
    # T = 4, MIN = 0.2: 0.2 + 0.8 · (1, C1, 0.5, C3, 0, 0)
    ("cosine-min", cosine(1.0, 4, 0.2), "cosine:4:0.2", 1.0,
     [1.0, 0.2 + 0.8 * C1, 0.6, 0.2 + 0.8 * C3, 0.2, 0.2]),
    # linear warm-up alone: η₀ (k+1)/W for k < W, W = 3, η₀ = 0.3
    ("warmup", warmup(0.3, 3), "warmup:3", 0.3, [0.1, 0.2, 0.3, 0.3, 0.3]),
    # W = 4 then cosine T = 4 with its clock starting after the warm-up:
    # 1/4, 2/4, 3/4, 4/4, then cosine(0..3) = 1, C1, 0.5, C3, then 0
    ("warmup-cosine", warmup(1.0, 4, cosine(1.0, 4)), "warmup:4+cosine:4", 1.0,
     [0.25, 0.5, 0.75, 1.0, 1.0, C1, 0.5, C3, 0.0, 0.0]),
    # W = 2 then exp γ = 0.5, η₀ = 0.4: 0.2, 0.4, then 0.4, 0.2, 0.1, 0.05
    ("warmup-exp", warmup(0.4, 2, exponential(0.4, 0.5)), "warmup:2+exp:0.5", 0.4,
     [0.2, 0.4, 0.4, 0.2, 0.1, 0.05]),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize(("label", "sched", "spec", "lr0", "values"), CASES, ids=IDS)
def test_schedule_values_by_hand(label, sched, spec, lr0, values):
    got = [float(sched(k)) for k in range(len(values))]
    assert got == pytest.approx(values, abs=1e-15, rel=0)


@pytest.mark.parametrize(("label", "sched", "spec", "lr0", "values"), CASES, ids=IDS)
def test_cli_syntax_parses_to_the_same(label, sched, spec, lr0, values):
    parsed = parse_schedule(spec, lr0)
    got = [float(parsed(k)) for k in range(len(values))]
    assert got == pytest.approx(values, abs=1e-15, rel=0)
    assert type(parsed) is type(sched)
    # the description is itself valid syntax for the same schedule
    again = parse_schedule(parsed.describe(), lr0)
    assert [float(again(k)) for k in range(len(values))] == pytest.approx(values, abs=1e-15, rel=0)


@pytest.mark.parametrize("spec", [None, "", "constant", "  constant  "])
def test_constant_spellings(spec):
    s = parse_schedule(spec, 0.25)
    assert [s(k) for k in range(3)] == [0.25, 0.25, 0.25]


def test_schedule_with_array_lr0():
    lr0 = np.array([[0.1], [0.4]])
    s = parse_schedule("exp:0.5", lr0)
    np.testing.assert_allclose(s(2), [[0.025], [0.1]], rtol=0, atol=1e-15)


def test_with_lr_rebases_warmup_and_inner():
    s = parse_schedule("warmup:2+exp:0.5", 1.0).with_lr(0.4)
    assert [float(s(k)) for k in range(5)] == pytest.approx([0.2, 0.4, 0.4, 0.2, 0.1], abs=1e-15)


MALFORMED = [
    "exp:2",  # γ > 1 grows
    "exp:0",  # γ must be > 0
    "exp:abc",
    "exp:nan",
    "exp:0.9:1",  # too many values
    "step:0:0.5",  # K must be ≥ 1
    "step:3",  # missing γ
    "step:2.5:0.5",  # K must be whole
    "step:3:1.5",
    "cosine",  # T missing
    "cosine:0",
    "cosine:10:5",  # MIN above η₀ = 1
    "inverse:-1",
    "poly:1",
    "warmup:10+warmup:5",
    "warmup:0+exp:0.9",
    "warmup:x",
    "warmup:3+foo:1",
    "foo:1",
    "exp",
]


@pytest.mark.parametrize("spec", MALFORMED)
def test_malformed_specs_raise(spec):
    with pytest.raises(OptvizError):
        parse_schedule(spec, 1.0)


@pytest.mark.parametrize("spec", ["exp:2", "step:0:0.5", "cosine", "warmup:10+warmup:5", "foo:1", "exp:abc"])
def test_malformed_specs_raise_through_make_optimizer_and_run(spec):
    import optviz

    with pytest.raises(OptvizError):
        make_optimizer("gd", lr=0.1, schedule=spec)
    with pytest.raises(OptvizError):
        optviz.run("x**2 + 10*y**2", "gd", lr=0.01, steps=3, schedule=spec)


def test_run_loop_records_the_schedule_lr():
    # GD on x² from x = 1, η₀ = 0.1, exp:0.5: step t uses η = 0.1 · 0.5^(t−1)
    # x_t = x_{t−1} (1 − 2 η_t): 0.8, 0.72, 0.684, 0.6669, 0.65856375
    obj = load_function("x**2")
    opt = make_optimizer("gd", lr=0.1, schedule="exp:0.5")
    traj = run_optimizer(obj, opt, [1.0], steps=5, tol=0)
    assert math.isnan(traj.lr[0, 0])
    assert traj.lr[1:, 0].tolist() == pytest.approx([0.1, 0.05, 0.025, 0.0125, 0.00625], abs=1e-16)
    assert traj.theta[1:, 0, 0].tolist() == pytest.approx([0.8, 0.72, 0.684, 0.6669, 0.65856375], abs=1e-15)


@pytest.mark.parametrize("spec", ["step:3:0.5", "inverse:0.5", "poly:1:2", "cosine:4:0.02",
                                  "warmup:4+cosine:4", "warmup:2+exp:0.5"])
def test_recorded_lr_is_schedule_of_previous_step(spec):
    obj = load_function("x**2 + 10*y**2")
    steps = 10
    traj = run_optimizer(obj, make_optimizer("gd", lr=0.04, schedule=spec), [[1.0, 0.5]], steps=steps, tol=0)
    sched = parse_schedule(spec, 0.04)
    assert traj.lr.shape == (steps + 1, 1)
    np.testing.assert_array_equal(traj.lr[1:, 0], [sched(t - 1) for t in range(1, steps + 1)])


def test_recorded_lr_through_the_api():
    import optviz

    # warmup:2+exp:0.5 on η₀ = 0.02: 0.01, 0.02, 0.02, 0.01, 0.005
    res = optviz.run("x**2 + 10*y**2", "gd,adam", lr=0.02, steps=5, tol=0, schedule="warmup:2+exp:0.5")
    for traj in res.runs:
        assert traj.lr[1:, 0].tolist() == pytest.approx([0.01, 0.02, 0.02, 0.01, 0.005], abs=1e-16)
        assert traj.schedule == "warmup:2+exp:0.5"


def test_array_lr_schedule_recorded_per_point():
    obj = load_function("x**2")
    lrs = np.array([[0.1], [0.2]])
    traj = run_optimizer(obj, make_optimizer("gd", lr=lrs, schedule="exp:0.5"), [[1.0], [1.0]], steps=3, tol=0)
    np.testing.assert_allclose(traj.lr[1:], [[0.1, 0.2], [0.05, 0.1], [0.025, 0.05]], rtol=0, atol=1e-16)
    # x_t per point: 1 − 2η applied with the point's own η
    np.testing.assert_allclose(traj.theta[3, :, 0], [0.8 * 0.9 * 0.95, 0.6 * 0.8 * 0.9], rtol=1e-15)
