"""Foreign optimizers through adapters (docs/math.md §4.10): torch:, optax:, plugins and objects.

The adapter is checked against optviz's own rules (torch.optim.Adam and optax.adam give
optviz's Adam within 1e-12 in float64, on a surface and on a network step), for the
independence of K start points, per-point rates, recorded state, default rates and the
refusals. Cross-checks skip only where torch or optax is absent.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import optviz
from optviz.errors import OptvizError
from optviz.nn.losses import softmax_cross_entropy
from optviz.nn.model import build_model
from optviz.optim import loader, make_optimizer, optimizer_class
from optviz.settings import optimizer_settings, resolve_function

START = [[-1.5, 2.0], [0.5, -0.5], [1.2, 1.9]]


def torch_or_skip():
    return pytest.importorskip("torch")


def _normalized_sgd_class():
    torch = torch_or_skip()

    class NormalizedSGD(torch.optim.Optimizer):
        """θ ← θ − η g/‖g‖: couples the entries of a tensor through the norm."""

        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    self.state[p]["direction"] = p.grad / p.grad.norm()
                    p.add_(self.state[p]["direction"], alpha=-group["lr"])

    return NormalizedSGD


def __getattr__(name):  # the test optimizer, importable as tests' module attribute
    if name == "NormalizedSGD":
        return _normalized_sgd_class()
    raise AttributeError(name)


# --------------------------------------------------------------------------------------
# torch
# --------------------------------------------------------------------------------------
def test_torch_adam_through_the_adapter_is_optviz_adam_on_a_surface():
    torch_or_skip()
    result = optviz.run("rosenbrock", "adam, torch:torch.optim.Adam", lr=0.02, start=START, steps=1000, tol=0)
    ours, theirs = result.runs
    assert theirs.optimizer == "torch:torch.optim.Adam"
    np.testing.assert_allclose(theirs.theta, ours.theta, rtol=0, atol=1e-12)
    # the state the adapter reads is recorded: torch's exp_avg is Adam's m
    assert set(theirs.state) == {"exp_avg", "exp_avg_sq"}
    opt = make_optimizer("adam", lr=0.02)
    X = np.array(START)
    state = opt.init(X)
    for _ in range(3):
        X, state = opt.step(X, resolve_function("rosenbrock").grad(X), state)
    np.testing.assert_allclose(theirs.state["exp_avg"][3], state.m, rtol=1e-12)


def network_step(opt, seed=0, steps=2):
    net = build_model("mlp", in_dim=4, out_dim=3, depth=2, width=6, norm="ln", seed=seed, dtype=np.float64)
    rng = np.random.default_rng(seed)
    params = {k: v.copy() for k, v in net.params.items()}
    state = opt.init(params)
    for _ in range(steps):
        net.params = params
        _, dout = softmax_cross_entropy(net.forward(rng.standard_normal((12, 4)), True), rng.integers(0, 3, 12))
        params, state = opt.step(params, net.backward(dout), state)
    return params


def test_torch_adam_through_the_adapter_is_optviz_adam_on_a_network_step():
    torch_or_skip()
    ours = network_step(make_optimizer("adam", lr=0.01))
    theirs = network_step(make_optimizer("torch:torch.optim.Adam", lr=0.01))
    for k in ours:
        np.testing.assert_allclose(theirs[k], ours[k], rtol=0, atol=1e-12, err_msg=k)


def test_training_with_an_adapter_and_its_default_rate():
    torch_or_skip()
    report = optviz.train("moons", "torch:torch.optim.AdamW, adamw", arch="mlp", depth=2, width=16, epochs=3,
                          samples=200)
    theirs, ours = report.first.runs
    # no rate given: AdamW's default training rate for both, and the same weights (float32)
    assert theirs.hyperparameters["lr"] == ours.hyperparameters["lr"] == optimizer_class("adamw").default_train_lr
    np.testing.assert_allclose(theirs.train_loss, ours.train_loss, rtol=1e-4)


def test_start_points_stay_independent_with_a_coupling_optimizer():
    torch_or_skip()
    name = "torch:test_optim_adapters.NormalizedSGD"
    batch = optviz.run("rosenbrock", name, lr=0.01, start=START, steps=50, tol=0).runs[0]
    for k, start in enumerate(START):
        alone = optviz.run("rosenbrock", name, lr=0.01, start=start, steps=50, tol=0).runs[0]
        np.testing.assert_allclose(batch.theta[:, k], alone.theta[:, 0], rtol=0, atol=1e-15)
        steps = np.linalg.norm(np.diff(alone.theta[:, 0], axis=0), axis=1)
        np.testing.assert_allclose(steps, 0.01, rtol=1e-12)  # each point's own norm
    assert "direction" in batch.state


def test_a_sweep_over_the_rate_runs_each_rate_alone():
    torch_or_skip()
    swept = optviz.sweep("rosenbrock", "torch:torch.optim.Adam, adam", lr="1e-3:0.3:7", steps=200)
    theirs, ours = swept.sweeps
    np.testing.assert_allclose(theirs.final_loss, ours.final_loss, rtol=1e-10)
    tuned = optviz.tune("beale", "torch:torch.optim.Adam, adam", steps=100)
    assert tuned.lrs["torch:torch.optim.Adam"] == tuned.lrs["adam"]


def test_keyword_arguments_are_literals_and_checked():
    torch_or_skip()
    cls = optimizer_class("torch:torch.optim.AdamW(lr=0.01, betas=(0.9, 0.99))")
    assert cls.name == "torch:torch.optim.AdamW(lr=0.01, betas=(0.9, 0.99))"
    opt = make_optimizer(cls.name)
    assert opt.lr == 0.01 and opt.hyperparameters["betas"] == (0.9, 0.99)
    assert make_optimizer("torch:torch.optim.AdamW", betas="(0.8, 0.9)").kwargs["betas"] == (0.8, 0.9)
    for bad, fragment in [("torch:torch.optim.AdamW(betas=__import__('os'))", "not a literal"),
                          ("torch:torch.optim.AdamW(beta=0.9)", "no parameter 'beta'"),
                          ("torch:torch.optim.AdamW(lr=-1.0)", "lr must be"),
                          ("torch:torch.optim.LBFGS", "closure"),
                          ("torch:torch.optim.SparseAdam", "sparse"),
                          ("torch:torch.optim.lr_scheduler.StepLR", "not a subclass"),
                          ("torch:numpy.linalg.norm", "not a subclass"),
                          ("torch:nosuchpackage_xyz.Opt", "no module named"),
                          ("torch:torch.optim.NoSuchThing", "has no"),
                          ("torch:AdamW", "import path"),
                          ("torch:", "name the optimizer")]:
        with pytest.raises(OptvizError, match=fragment):
            optimizer_class(bad)
    with pytest.raises(OptvizError, match="refused"):
        optviz.run("rosenbrock", "torch:torch.optim.Adam(betas=(2.0, 0.9))", steps=5)


def test_default_rate_is_the_nearest_rules_suggestion_else_1e_3():
    torch_or_skip()
    rosen = resolve_function("rosenbrock")
    assert optimizer_settings(rosen, "torch:torch.optim.AdamW")[0] == rosen.suggested["adamw"]["lr"]
    assert optimizer_settings(rosen, "torch:torch.optim.SGD(momentum=0.9)")[0] == rosen.suggested["momentum"]["lr"]
    assert optimizer_settings(rosen, "torch:torch.optim.Rprop")[0] == 1e-3
    assert optimizer_settings(rosen, "torch:torch.optim.AdamW(lr=0.05)")[0] == 0.05
    assert optimizer_settings(rosen, "torch:torch.optim.AdamW(lr=0.05)", lr=0.2)[0] == 0.2


def test_a_missing_extra_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setitem(sys.modules, "optax", None)
    loader._adapter_class.cache_clear()
    with pytest.raises(OptvizError, match=r'pip install "optviz\[torch\]"'):
        optimizer_class("torch:torch.optim.Adam")
    with pytest.raises(OptvizError, match=r'pip install "optviz\[optax\]"'):
        optimizer_class("optax:adam")
    loader._adapter_class.cache_clear()


# --------------------------------------------------------------------------------------
# optax
# --------------------------------------------------------------------------------------
def test_optax_adam_through_the_adapter_is_optviz_adam():
    pytest.importorskip("optax")
    result = optviz.run("rosenbrock", "adam, optax:adam", lr=0.02, start=START, steps=300, tol=0)
    ours, theirs = result.runs
    np.testing.assert_allclose(theirs.theta, ours.theta, rtol=0, atol=1e-12)
    assert {"mu", "nu"} <= set(theirs.state)
    on_net = network_step(make_optimizer("optax:adam", lr=0.01))
    for k, v in network_step(make_optimizer("adam", lr=0.01)).items():
        np.testing.assert_allclose(on_net[k], v, rtol=0, atol=1e-12, err_msg=k)


def test_optax_lion_with_a_schedule_and_per_point_rates():
    pytest.importorskip("optax")
    result = optviz.run("rosenbrock", "lion, optax:lion(weight_decay=0.0)", lr=0.01, schedule="exp:0.99",
                        start=START, steps=200, tol=0)
    ours, theirs = result.runs
    np.testing.assert_allclose(theirs.theta, ours.theta, rtol=0, atol=1e-12)
    swept = optviz.sweep("rosenbrock", "lion, optax:lion(weight_decay=0.0)", lr="1e-3:0.1:5", steps=100)
    np.testing.assert_allclose(swept.sweeps[1].final_loss, swept.sweeps[0].final_loss, rtol=1e-10)
    with pytest.raises(OptvizError, match="no optimizer"):
        optimizer_class("optax:no_such_alias")
    with pytest.raises(OptvizError, match="learning_rate"):
        optimizer_class("optax:scale_by_adam")


# --------------------------------------------------------------------------------------
# plugins and objects
# --------------------------------------------------------------------------------------
class FakeEntryPoint:
    def __init__(self, name, obj, value="plugin_pkg:Thing"):
        self.name, self.obj, self.value = name, obj, value

    def load(self):
        if isinstance(self.obj, Exception):
            raise self.obj
        return self.obj


def test_plugins_register_through_entry_points(monkeypatch):
    from optviz.optim import GD

    class HalfGD(GD):
        """θ ← θ − (η/2) g"""

        name = "halfgd"

        def rule(self, g, slots, lr, t, hessian=None, theta=None):
            return 0.5 * lr * g, ()

    import importlib.metadata

    eps = [FakeEntryPoint("halfgd", HalfGD), FakeEntryPoint("broken", ImportError("no module x"))]
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: eps if group == "optviz.optimizers" else [])
    loader._plugins.cache_clear()
    try:
        half, gd = optviz.run("quadratic", "halfgd, gd", lr=0.01, steps=1, tol=0).runs
        start = half.theta[0, 0]
        np.testing.assert_allclose(half.theta[1, 0] - start, 0.5 * (gd.theta[1, 0] - start), rtol=1e-15)
        with pytest.raises(OptvizError, match="plugin 'broken'.*no module x"):
            optimizer_class("broken")
        with pytest.raises(OptvizError, match="unknown optimizer"):
            optimizer_class("nothere")
    finally:
        loader._plugins.cache_clear()


class PlainSGD:
    """Not an optviz class: only init and step."""

    name = "plain"
    lr = 0.01

    def init(self, params):
        return {"steps": 0}

    def step(self, params, grad, state):
        if isinstance(params, dict):
            return {k: v - self.lr * grad[k] for k, v in params.items()}, {"steps": state["steps"] + 1}
        return params - self.lr * grad, {"steps": state["steps"] + 1}


def test_any_object_with_init_and_step():
    plain, gd = optviz.run("rosenbrock", [PlainSGD(), "gd"], steps=20, tol=0, params={"gd.lr": 0.01}).runs
    assert plain.optimizer == "plain"
    np.testing.assert_allclose(plain.theta, gd.theta, rtol=0, atol=0)
    built = make_optimizer("adam", lr=0.05)
    assert optviz.run("beale", [built], steps=5).runs[0].hyperparameters["lr"] == 0.05
    with pytest.raises(OptvizError, match="own settings"):
        optviz.run("rosenbrock", [PlainSGD()], lr=0.1)
    with pytest.raises(OptvizError, match="by name"):
        optviz.run("rosenbrock", [PlainSGD()], tune=True)
    report = optviz.train("moons", [PlainSGD(), "gd"], arch="mlp", depth=1, width=8, epochs=2, samples=100,
                          params={"gd.lr": 0.01})
    assert [r.optimizer for r in report.first.runs] == ["plain", "gd"]
    np.testing.assert_allclose(report.first.runs[0].train_loss, report.first.runs[1].train_loss, rtol=1e-6)
    with pytest.raises(OptvizError, match="own settings"):
        optviz.train("moons", [PlainSGD()], lr=0.1, epochs=1)


# --------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------
def _optviz(*args, cwd):
    import subprocess

    return subprocess.run([sys.executable, "-m", "optviz", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd)


def test_command_line_names_a_torch_optimizer_with_literal_arguments(tmp_path):
    torch_or_skip()
    import json

    proc = _optviz("run", "--opt", "torch:torch.optim.AdamW(lr=0.01, betas=(0.9, 0.99)), adamw", "--json",
                   "--no-plot", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    runs = json.loads(proc.stdout)["runs"]
    # the foreign keywords are part of the optimizer's name; lr is a setting as for every optimizer
    assert [r["optimizer"] for r in runs] == ["torch:torch.optim.AdamW(betas=(0.9, 0.99))", "adamw"]
    assert runs[0]["hyperparameters"]["lr"] == 0.01 and runs[0]["hyperparameters"]["betas"] == [0.9, 0.99]
    for bad, fragment in [("torch:torch.optim.AdamW(lr=__import__('os').getcwd())", "not a literal"),
                          ("torch:torch.optim.LBFGS", "closure"), ("muon", "networks only")]:
        proc = _optviz("run", "--opt", bad, "--no-plot", cwd=tmp_path)
        assert proc.returncode == 2 and fragment in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())  # nothing written


def test_command_line_lists_every_rule_and_says_which_decay_is_which(tmp_path):
    proc = _optviz("optimizers", cwd=tmp_path)
    assert proc.returncode == 0
    for name in ("adadelta", "yogi", "adamw", "amsgrad", "nadam", "radam", "adamax", "lion", "muon"):
        assert f"│ {name}" in proc.stdout, name
    help_text = " ".join(_optviz("train", "--help", cwd=tmp_path).stdout.split())
    assert "L2 penalty" in help_text and "decoupled" in help_text
