"""Optimizer specs as text: ``name(key=literal, ...)``, read without evaluating anything."""

from __future__ import annotations

import pytest

from optviz.errors import OptvizError
from optviz.optim.spec import format_call, literal, split_call, split_list


@pytest.mark.parametrize(("text", "name", "kwargs"), [
    ("adam", "adam", {}),
    ("  adam  ", "adam", {}),
    ("adam()", "adam", {}),
    ("torch:torch.optim.AdamW(lr=0.01, betas=(0.9, 0.99))", "torch:torch.optim.AdamW",
     {"lr": 0.01, "betas": (0.9, 0.99)}),
    ("optax:lion(b1=0.95, weight_decay=1e-3)", "optax:lion", {"b1": 0.95, "weight_decay": 1e-3}),
    ("x(a='s,t', b=[1, 2], c={'k': (1,)}, d=None, e=True, f=-3)", "x",
     {"a": "s,t", "b": [1, 2], "c": {"k": (1,)}, "d": None, "e": True, "f": -3}),
    ("x(flag=true, other=FALSE)", "x", {"flag": True, "other": False}),
])
def test_split_call(text, name, kwargs):
    assert split_call(text) == (name, kwargs)


def test_bare_words_only_when_asked():
    assert split_call("sgd(schedule=inverse:0.01, label=decayed)", bare=True) == (
        "sgd", {"schedule": "inverse:0.01", "label": "decayed"})
    with pytest.raises(OptvizError, match="not a literal"):
        split_call("sgd(label=decayed)")


@pytest.mark.parametrize("text", [
    "x(lr=__import__('os').system('true'))",  # a call: never evaluated
    "x(lr=1+1)",
    "x(lr=a.b)",
    "x(lr=lambda: 1)",
    "x(lr=[i for i in range(3)])",
    "x(0.1)",  # positional
    "x(**k)",
    "x(lr=)",
    "x(lr=1, lr=2)",
    "x(lr=1",
    "x(lr=1))",
    "x(lr=(1, 2)",
    "x(lr='unclosed)",
    "(lr=1)",
    "x(1bad=2)",
    "x(lr=" + "(" * 500 + ")" * 500 + ")",
    "x(lr=" + "9" * 5000 + ")",
    "x" * 3000,
])
def test_hostile_text_is_refused_with_an_optviz_error(text):
    with pytest.raises(OptvizError):
        split_call(text)


def test_literal_and_format_round_trip():
    kwargs = {"lr": 0.01, "betas": (0.9, 0.99), "name": "a b"}
    assert split_call(format_call("torch:X", kwargs)) == ("torch:X", kwargs)
    assert format_call("adam", {}) == "adam"
    assert literal("1e-3") == 1e-3
    with pytest.raises(OptvizError, match="lr="):
        literal("open('f')", key="lr")


def test_split_list_respects_brackets_and_quotes():
    assert split_list("adam, torch:X(betas=(0.9, 0.99)), optax:lion") == [
        "adam", "torch:X(betas=(0.9, 0.99))", "optax:lion"]
    assert split_list("x(a='1,2'), y") == ["x(a='1,2')", "y"]
    with pytest.raises(OptvizError, match="unbalanced"):
        split_list("adam), sgd")
