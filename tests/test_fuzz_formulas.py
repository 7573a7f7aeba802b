"""Hostile formulas through the public parser (hypothesis).

Properties: nothing outside the whitelist is ever evaluated (a canary file
never appears), only OptvizError escapes, and parsing takes bounded time.
The marked slow test runs many more examples.
"""

import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optviz.errors import OptvizError
from optviz.expr import parse_formula

CANARY = Path(os.environ.get("TMPDIR", "/tmp")) / f"optviz-canary-{os.getpid()}"
PAYLOADS = [
    f"__import__('os').system('touch {CANARY}')",
    f"open('{CANARY}', 'w')",
    f"exec(\"open('{CANARY}','w')\")",
    f"eval(\"__import__('pathlib').Path('{CANARY}').touch()\")",
    f"(lambda: open('{CANARY}','w'))()",
    f"[open('{CANARY}','w') for _ in [1]]",
    f"f\"{{open('{CANARY}','w')}}\"",
    "x.__class__.__mro__[1].__subclasses__()",
    "().__class__.__bases__[0].__subclasses__()",
    "sin.__globals__",
    "x.__dict__",
    "getattr(x, 'real')",
    "Symbol('x')",
    "sympify('x')",
    "x if x else y",
    "x @ y",
    "x := 1",
    "*x",
    "x; import os",
    "9**9**9**9",
    "(((((x)))))" * 3,
    "x" + "**x" * 400,
    "1e309*x",
    "ｘ**2",  # full-width look-alike
    "х**2",  # Cyrillic х
    "x\x00y",
    "x\\\ny",
    "sin(x)(y)",
    "exp(exp(exp(exp(exp(exp(x))))))",
]
TOKENS = ["x", "y", "x1", "x2", "1", "2.5", "1e3", "pi", "e", "sin", "cos", "exp", "log", "sqrt", "abs", "atan2",
          "(", ")", "+", "-", "*", "/", "**", "^", ",", ".", " ", "_", "__import__", "os", "'", '"', "[", "]",
          "lambda", ":", "=", "for", "in", "if", "else", "{", "}", "@", "%", "<", "!", "\\", "\n", "\x00", "é"]


def check(text: str) -> None:
    t0 = time.perf_counter()
    try:
        parse_formula(text)
    except OptvizError as exc:
        assert "\n" not in str(exc)
    assert time.perf_counter() - t0 < 2.0, f"parsing took too long: {text[:80]!r}"
    assert not CANARY.exists(), f"canary created by {text[:80]!r}"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_structured_attacks(payload):
    check(payload)


def test_huge_inputs_are_refused_fast():
    for text in ("x+" * 500_000 + "x", "(" * 10**6, "9" * 10**6, "x" * 10**6):
        t0 = time.perf_counter()
        with pytest.raises(OptvizError):
            parse_formula(text)
        assert time.perf_counter() - t0 < 1.0


soup = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)
nested = st.recursive(
    st.sampled_from(["x", "y", "1", "2", "pi", "x1"]),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**", "^"]), inner).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
        st.tuples(st.sampled_from(["sin", "cos", "exp", "log", "sqrt", "abs", "tanh", "evil", "__import__"]), inner)
        .map(lambda t: f"{t[0]}({t[1]})"),
        inner.map(lambda s: f"{s}.__class__"),
        inner.map(lambda s: f"-{s}"),
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(soup, nested, st.text(max_size=60)))
def test_random_formulas_only_raise_optviz_error(text):
    check(text)


@pytest.mark.slow
@settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(soup, nested, st.text(max_size=200), st.sampled_from(PAYLOADS)))
def test_random_formulas_many_examples(text):
    check(text)
