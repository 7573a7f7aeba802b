"""Safe formula parsing: the whitelist, the refusals, and attacks that must not run."""

import os
import time

import pytest
import sympy

from optviz.errors import OptvizError
from optviz.expr import MAX_LENGTH, parse_formula

x, y, x1, x2 = (sympy.Symbol(n, real=True) for n in ("x", "y", "x1", "x2"))


@pytest.mark.parametrize(
    "text, expected, variables",
    [
        ("x**2 + 10*y**2", x**2 + 10 * y**2, ("x", "y")),
        ("sin(x)*cos(y)", sympy.sin(x) * sympy.cos(y), ("x", "y")),
        ("(1-x)^2 + 100*(y-x^2)^2", (1 - x) ** 2 + 100 * (y - x**2) ** 2, ("x", "y")),
        ("x*cos(0.15*pi*x)", x * sympy.cos(sympy.Float("0.15") * sympy.pi * x), ("x",)),
        ("0.1*x1**2 + 2*x2**2", sympy.Float("0.1") * x1**2 + 2 * x2**2, ("x1", "x2")),
        ("-x + +y", -x + y, ("x", "y")),
        ("abs(x) + Abs(y)", sympy.Abs(x) + sympy.Abs(y), ("x", "y")),
        ("atan2(y, x) + arctan(x) + asin(0.5)", sympy.atan2(y, x) + sympy.atan(x) + sympy.asin(sympy.Float("0.5")), ("x", "y")),
        ("exp(x) + log(y) + sqrt(x) + e + pi", sympy.exp(x) + sympy.log(y) + sympy.sqrt(x) + sympy.E + sympy.pi, ("x", "y")),
        ("y + x", x + y, ("x", "y")),
        ("x10 + x2 + x1", x1 + x2 + sympy.Symbol("x10", real=True), ("x1", "x2", "x10")),
    ],
)
def test_accepted_formulas_build_the_expected_expression(text, expected, variables):
    f = parse_formula(text)
    assert sympy.simplify(f.expr - expected) == 0
    assert f.variables == variables


@pytest.mark.parametrize(
    "text, fragment, column",
    [
        ("x.real + 1", "attribute access", 2),  # the dot
        ("x + y[0]", "'['", 6),
        ("x + lambda: 1", "':'", 11),
        ("[x for x in y]", "'['", 1),
        ("x + 'a'", "\"'\"", 5),
        ("x + _y", "'_y'", 5),
        ("x + foo(y)", "function 'foo'", 5),
        ("sin(x, y)", "sin takes 1", 1),
        ("x % 2", "'%'", 3),
        ("x // 2", "operator '//'", 3),  # the operator, not the expression
        ("x < y", "'<'", 3),
        ("x + 1j", "real numbers", 5),
        ("x + True", "True", 5),
        ("x + sin", "it is a function", 5),
        ("x ^^ 2", "syntax error", 4),
        ("x + (y", "syntax error", 5),
        ("1/0 + x", "division by zero", 3),  # the divisor
        ("9**9**9**9", "exponent larger", 7),  # the exponent 9**9
        ("x**100000", "exponent larger", 4),
        ("x + é", "'é'", 5),
        ("x + ｘ", "'ｘ'", 5),
        ("x\x00", "'\\x00'", 2),
    ],
)
def test_refused_formulas_name_the_part_and_column(text, fragment, column):
    with pytest.raises(OptvizError) as err:
        parse_formula(text)
    message = str(err.value)
    assert "\n" not in message
    assert fragment in message
    assert f"column {column}" in message or "syntax error" in message and f"column {column}" in message


@pytest.mark.parametrize("text, column, last", [
    ("x**2 + 10*y**2 +", 17, "'+'"),
    ("x + y + ", 8, "'+'"),
    ("x ^", 4, "'^'"),
    ("x ** ", 5, "'**'"),
    ("  sin(x) *", 11, "'*'"),
])
def test_a_formula_that_ends_too_soon_points_just_after_its_end(text, column, last):
    with pytest.raises(OptvizError) as err:
        parse_formula(text)
    message = str(err.value)
    assert f"column {column}:" in message and "ends too soon" in message and f"after {last}" in message


@pytest.mark.parametrize("text, column", [
    ("x +* y", 4),       # the second operator
    ("x y", 3),          # the name that follows a name
    ("sin(x))", 7),      # the unmatched parenthesis
    ("x + 1.2.3", 8),    # the second decimal point
    ("x + (y", 5),       # the parenthesis never closed
])
def test_a_syntax_error_points_at_the_offending_token(text, column):
    with pytest.raises(OptvizError, match=f"syntax error at column {column}:"):
        parse_formula(text)


def test_keyword_arguments_are_refused():
    # '=' is outside the character whitelist, so this is refused before parsing.
    with pytest.raises(OptvizError, match="'='"):
        parse_formula("sin(x=1)")


def test_length_limit():
    with pytest.raises(OptvizError, match=f"at most {MAX_LENGTH}"):
        parse_formula("x+" * 600 + "x")
    with pytest.raises(OptvizError, match="at most"):
        parse_formula("x" * 10**6)


def test_deep_nesting_is_refused_quickly():
    t0 = time.perf_counter()
    with pytest.raises(OptvizError):
        parse_formula("(" * 400 + "x" + ")" * 400)
    with pytest.raises(OptvizError):
        parse_formula("-" * 900 + "x")
    assert time.perf_counter() - t0 < 5


@pytest.mark.parametrize(
    "attack",
    [
        "__import__('os').system('touch {canary}')",
        "open('{canary}', 'w').write('x')",
        "exec(\"open('{canary}','w')\")",
        "eval(\"open('{canary}','w')\")",
        "(lambda: open('{canary}', 'w'))()",
        "x.__class__.__base__.__subclasses__()",
        "[c for c in ().__class__.__base__.__subclasses__()]",
        "Symbol('x').__init__.__globals__['os'].system('touch {canary}')",
        "f\"{{open('{canary}','w')}}\"",
    ],
)
def test_attack_strings_are_refused_and_never_run(attack, tmp_path):
    canary = tmp_path / "canary"
    text = attack.format(canary=canary)
    with pytest.raises(OptvizError):
        parse_formula(text)
    assert not canary.exists()
    assert not os.path.exists("canary")


def test_sympify_would_have_run_the_attack(tmp_path):
    # The reason for the whitelist: sympy's own parser executes Python.
    canary = tmp_path / "canary"
    try:
        sympy.sympify(f"__import__('pathlib').Path('{canary}').touch()")
    except Exception:
        pass
    assert canary.exists()
    canary.unlink()
    with pytest.raises(OptvizError):
        parse_formula(f"__import__('pathlib').Path('{canary}').touch()")
    assert not canary.exists()


def test_non_text_is_refused():
    with pytest.raises(OptvizError, match="text"):
        parse_formula(3)  # type: ignore[arg-type]


def test_a_long_sum_or_product_is_one_level_of_nesting():
    """A chain of + − or * / is flat to its reader: 250 terms parse (the depth limit is for
    parentheses and function calls), and their value is the value of the sum."""
    text = "+".join(["x**2", "y**2"] * 125)[:999]
    formula = parse_formula(text)
    terms = text.split("+")
    expected = sum(1 if t == "x**2" else 4 for t in terms)
    x, y = formula.symbols
    assert float(formula.expr.subs({x: 1, y: 2})) == expected
    product = parse_formula("*".join(["(1 + x/7)"] * 90) + "/2-y/3+y**2")
    x, y = product.symbols
    assert float(product.expr.subs({x: 0, y: 3})) == 0.5 - 1 + 9
    with pytest.raises(OptvizError, match="levels deep"):
        parse_formula("sin(" * 70 + "x" + ")" * 70)
