"""Variants of foreign optimizers and optimizer objects: ``--opt "torch:torch.optim.AdamW(lr=0.01,
betas=(0.9, 0.99)), adam(label=mine)"``; their keywords are literals, never evaluated."""

import numpy as np
import pytest

import optviz
from optviz.errors import OptvizError
from optviz.optim import GD
from optviz.variants import parse_variants, split_top_level


def test_brackets_and_nested_parentheses_stay_in_one_item():
    assert split_top_level("torch:a.b.C(betas=(0.9, (1, 2)), xs=[1, 2], d={'a': 1}), adam(label=x[1)") == [
        "torch:a.b.C(betas=(0.9, (1, 2)), xs=[1, 2], d={'a': 1})", "adam(label=x[1)"]


def test_a_torch_optimizer_with_literal_keywords_and_a_labelled_adam():
    pytest.importorskip("torch")
    v = parse_variants("torch:torch.optim.AdamW(lr=0.01, betas=(0.9, 0.99)), adam(label=mine)")
    assert [x.name for x in v] == ["torch:torch.optim.AdamW(betas=(0.9, 0.99))", "adam"]
    assert [x.label for x in v] == ["torch:torch.optim.AdamW(betas=(0.9, 0.99))", "mine"]
    assert v[0].settings == {"lr": "0.01"}
    res = optviz.run("quadratic", "torch:torch.optim.AdamW(lr=0.01, betas=(0.9, 0.99), weight_decay=0), "
                     "adam(label=mine, lr=0.01), torch:torch.optim.Adam(lr=0.01, label=theirs)", steps=50)
    torch_adamw, mine, theirs = res.runs
    assert (mine.label, theirs.label) == ("mine", "theirs")
    assert torch_adamw.hyperparameters["betas"] == (0.9, 0.99) and torch_adamw.hyperparameters["lr"] == 0.01
    # torch's Adam through the adapter is optviz's Adam (same settings, float64)
    np.testing.assert_allclose(theirs.theta, mine.theta, rtol=1e-12, atol=1e-14)


def test_the_same_foreign_optimizer_twice_is_told_apart_by_its_keywords():
    pytest.importorskip("torch")
    v = parse_variants("torch:torch.optim.SGD(momentum=0.5), torch:torch.optim.SGD(momentum=0.9)")
    assert len({x.name for x in v}) == 2 and len({x.label for x in v}) == 2
    with pytest.raises(OptvizError, match="listed twice"):
        parse_variants("torch:torch.optim.SGD(momentum=0.5), torch:torch.optim.SGD(momentum=0.5)")


def test_params_reach_a_dotted_foreign_name():
    pytest.importorskip("torch")
    res = optviz.run("quadratic", "torch:torch.optim.AdamW, adam",
                     params={"torch:torch.optim.AdamW.weight_decay": "0.5"}, steps=3)
    assert res.runs[0].hyperparameters["weight_decay"] == 0.5


@pytest.mark.parametrize("text, fragment", [pytest.param(t, f, id=f"{t[:40]}") for t, f in [
    ("torch:torch.optim.AdamW(betas=__import__('os').getcwd())", "not a literal"),
    ("torch:torch.optim.AdamW(lr=__import__('os'))", "not a literal"),
    ("optax:adam(b1=(1).__class__)", "not a literal"),
    ("torch:torch.optim.AdamW(betas=" + "(" * 3000 + ")" * 3000 + ")", "not a literal"),
    ("adam(label=" + "x" * 20000 + ")", "too long"),
    ("torch:torch.optim.AdamW(betas=(0.9, 0.99)", "without its ')'"),
    ("torch:torch.optim.AdamW(betas=(0.9, 0.99)))", "without its '('"),
    ("adam(beta1=0.9)(beta2=0.9)", "without its '('"),
]])
def test_hostile_foreign_variants_are_refused_in_one_line(text, fragment):
    with pytest.raises(OptvizError) as info:
        parse_variants(text)
    message = str(info.value)
    assert fragment in message and "\n" not in message and info.value.param == "opt"


class Halving:
    """An optimizer object: θ ← θ − g/2."""

    name = "halving"

    def init(self, params):
        return None

    def step(self, params, grad, state):
        return params - 0.5 * grad, state


def test_optimizer_objects_run_beside_variants():
    res = optviz.run("quadratic", [Halving(), "gd(label=slow, lr=0.01)", GD(0.1)], steps=5)
    assert [t.label for t in res.runs] == ["halving", "slow", "gd"]
    assert res.runs[0].theta.shape == res.runs[1].theta.shape
    theta = res.runs[0].theta
    _, g = res.runs[0].objective.value_and_grad(theta[0])
    np.testing.assert_allclose(theta[1], theta[0] - 0.5 * g, rtol=1e-15)  # the object's own rule ran
    with pytest.raises(OptvizError, match="its own settings"):
        optviz.run("quadratic", [Halving(), "gd"], lr=0.1, steps=5)
    with pytest.raises(OptvizError, match="needs optimizers by name"):
        optviz.run("quadratic", [Halving()], tune=True, steps=5)
    with pytest.raises(OptvizError, match="labelled 'halving'"):
        optviz.run("quadratic", [Halving(), Halving()], steps=5)
