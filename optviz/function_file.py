"""The checked contents of a function file (the format of ``functions/*.toml``).

:func:`check_function_data` takes the parsed TOML table and returns a
:class:`FunctionSpec` of plain, typed, finite values, or raises one
:class:`OptvizError` line naming the key, what it must be and what it is. It runs
before any symbolic work, so a file cannot make optviz compile, allocate or plot
anything its limits do not allow:

- a file is at most ``MAX_FILE_BYTES``; a finite sum at most ``MAX_ROWS`` data rows
  of at most ``MAX_COLUMNS`` columns and ``MAX_PARAMETERS`` parameters, and its rows
  times the operations of its per-sample expression (plus one) at most
  ``MAX_SAMPLE_WORK``: drawing the contour evaluates every row at each of the
  90,000 grid points, about 0.1 ms of CPU per unit (2.5 s at the limit);
- coordinates (domain, start, minima) are finite with ``|v| ≤ MAX_COORDINATE`` and a
  domain is wider than a millionth of its magnitude; ``steps`` is a whole number in
  1 … ``MAX_STEPS``; at most ``MAX_MINIMA`` minima;
- texts are strings without control characters (title and source on one line);
- ``suggested`` maps known optimizers to tables of their own settings, numbers where
  numbers go (lr > 0, batch_size a whole number ≥ 1, noise ≥ 0);
- unknown keys are refused (a misspelt key would otherwise be ignored silently).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any

from optviz.errors import OptvizError, printable

MAX_FILE_BYTES = 4 << 20
MAX_ROWS = 5_000
MAX_SAMPLE_WORK = 25_000  # rows × (1 + operations of the per-sample expression)
MAX_COLUMNS = 16
MAX_PARAMETERS = 16
MAX_MINIMA = 100
MAX_STEPS = 1_000_000
MAX_COORDINATE = 1e12
TEXT_LIMITS = {"title": 200, "description": 2000, "source": 1000}
KEYS = ("title", "expression", "variables", "description", "source", "domain", "start", "steps",
        "minima", "suggested", "samples")
SAMPLE_KEYS = ("expression", "parameters", "columns", "data")
ORACLE_SETTINGS = ("noise", "batch_size")


@dataclass
class FunctionSpec:
    """A function file's values, checked (``expression`` is the per-sample one for a finite sum)."""

    expression: str
    variables: tuple[str, ...] | None = None
    parameters: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    data: list[list[float]] | None = None
    domain: list[Any] | None = None
    start: list[Any] | None = None
    minima: list[tuple[Any, Any]] = field(default_factory=list)
    steps: int = 200
    suggested: dict[str, dict[str, Any]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)


def describe(value: Any) -> str:
    """What a TOML value is, for a message: 'the text "abc"', 'a table', 'a list of 3 values'."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}" if abs(value) < 1e16 or not isinstance(value, int) else "a huge integer"
    if isinstance(value, str):
        return f"the text {printable(repr(value), 40)}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return f"a list of {len(value)} value{'s' * (len(value) != 1)}"
    return f"a {type(value).__name__}"  # dates and times


class _Checker:
    def __init__(self, where: str):
        self.where = where

    def fail(self, key: str, expected: str, value: Any = None, *, got: str | None = None) -> OptvizError:
        got = got if got is not None else describe(value)
        return OptvizError(f"{self.where}: '{key}' must be {expected}, got {got}")

    def table(self, key: str, value: Any, allowed: tuple[str, ...] | None = None) -> dict:
        if not isinstance(value, dict):
            raise self.fail(key, "a table", value)
        for name in value if allowed is not None else ():
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"the keys are {', '.join(allowed)}"
                inside = f"'{key}' has" if key else "has"
                raise OptvizError(f"{self.where}: {inside} an unknown key '{printable(name, 40)}'; {hint}")
        return value

    def text(self, key: str, value: Any, limit: int, lines: bool = False) -> str:
        if not isinstance(value, str):
            raise self.fail(key, "text (a quoted string)", value)
        if len(value) > limit:
            raise self.fail(key, f"at most {limit} characters", got=f"{len(value)}")
        for i, ch in enumerate(value):
            if not (ch.isprintable() or ch == " " or (lines and ch == "\n")):
                raise self.fail(key, "printable text", got=f"the control character "
                                f"{printable(ch)} at position {i + 1}")
        return value

    def number(self, key: str, value: Any, *, bound: float = math.inf, positive: bool = False,
               whole: bool = False, low: float = -math.inf) -> float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        kind = "a whole number" if whole else "a number"
        if not ok:
            raise self.fail(key, kind, value)
        try:
            x = float(value)
        except OverflowError:
            x = math.inf
        if not math.isfinite(x) or abs(x) > bound:
            limit = f" with |value| ≤ {bound:g}" if math.isfinite(bound) else ""
            raise self.fail(key, f"a finite number{limit}", value)
        if whole and x != int(x):
            raise self.fail(key, kind, value)
        if (positive and x <= 0) or x < low:
            raise self.fail(key, "> 0" if positive else f"≥ {low:g}", value)
        return int(x) if whole else x

    def items(self, key: str, value: Any, count: int | None = None, *, most: int | None = None,
              least: int = 0, unit: str = "value", note: str = "") -> list:
        if not isinstance(value, list):
            raise self.fail(key, "a list", value)
        n = len(value)
        got = f"{n} {unit}{'s' * (n != 1)}"
        if count is not None and n != count:
            raise self.fail(key, f"a list of {count} {unit}{'s' * (count != 1)}{note}", got=got)
        if n < least or (most is not None and n > most):
            want = f"at least {least}" if n < least else f"at most {most}"
            raise self.fail(key, f"a list of {want} {unit}s", got=got)
        return value

    def point(self, key: str, value: Any, d: int, note: str = " (one per variable)") -> list[float]:
        return [self.number(f"{key}[{i}]", v, bound=MAX_COORDINATE)
                for i, v in enumerate(self.items(key, value, d, unit="number", note=note))]

    def names(self, key: str, value: Any, most: int) -> tuple[str, ...]:
        from optviz.expr import parse_formula

        out = []
        for i, name in enumerate(self.items(key, value, most=most, least=1, unit="name")):
            if not isinstance(name, str):
                raise self.fail(f"{key}[{i}]", "a name", name)
            try:
                ok = len(name) <= 40 and parse_formula(name).variables == (name,)
            except OptvizError:
                ok = False
            if not ok:
                raise self.fail(f"{key}[{i}]", "a variable name (a letter, then letters, digits "
                                "or _; not a function or constant)", name)
            if name in out:
                raise self.fail(key, "distinct names", got=f"'{name}' twice")
            out.append(name)
        return tuple(out)


def _samples(c: _Checker, value: Any, spec: FunctionSpec) -> None:
    samples = c.table("samples", value, SAMPLE_KEYS)
    for key in SAMPLE_KEYS:
        if key not in samples:
            raise OptvizError(f"{c.where}: [samples] needs '{key}' (and {', '.join(SAMPLE_KEYS)})")
    spec.expression = c.text("samples.expression", samples["expression"], 1000)
    spec.parameters = c.names("samples.parameters", samples["parameters"], MAX_PARAMETERS)
    spec.columns = c.names("samples.columns", samples["columns"], MAX_COLUMNS)
    both = set(spec.parameters) & set(spec.columns)
    if both:
        raise OptvizError(f"{c.where}: {sorted(both)[0]!r} is both a parameter and a column")
    rows = c.items("samples.data", samples["data"], least=1, most=MAX_ROWS, unit="row")
    m = len(spec.columns)
    spec.data = [[c.number(f"samples.data[{r}][{j}]", v, bound=1e300)
                  for j, v in enumerate(c.items(f"samples.data[{r}]", row, m, unit="number", note=" (one per column)"))]
                 for r, row in enumerate(rows)]


def _suggested(c: _Checker, value: Any) -> dict[str, dict[str, Any]]:
    from optviz.optim import OPTIMIZERS, defaults

    out: dict[str, dict[str, Any]] = {}
    for opt, settings in c.table("suggested", value, tuple(OPTIMIZERS)).items():
        known = {"lr": 1.0, "noise": 0.0, "batch_size": 1, **defaults(opt)}
        out[opt] = {}
        for key, v in c.table(f"suggested.{opt}", settings, tuple(known)).items():
            where, default = f"suggested.{opt}.{key}", known[key]
            if isinstance(default, bool):
                if not isinstance(v, bool):
                    raise c.fail(where, "true or false", v)
                out[opt][key] = v
            elif isinstance(default, str):
                out[opt][key] = c.text(where, v, 40)
            else:
                out[opt][key] = c.number(where, v, positive=key == "lr", whole=key == "batch_size",
                                         low=1 if key == "batch_size" else 0 if key == "noise" else -math.inf)
    return out


def _place(c: _Checker, data: dict, spec: FunctionSpec, d: int) -> None:
    """domain, start, minima and steps, now that the number of variables d is known."""
    if "domain" in data:
        spec.domain = []
        for i, pair in enumerate(c.items("domain", data["domain"], d, unit="pair", note=" [low, high] (one per variable)")):
            lo, hi = c.point(f"domain[{i}]", pair, 2, note=" [low, high]")
            if not hi - lo > 1e-6 * max(1.0, abs(lo), abs(hi)):
                raise c.fail(f"domain[{i}]", "[low, high] with low < high", got=f"[{lo:g}, {hi:g}]")
            spec.domain.append((lo, hi))
    if "start" in data:
        spec.start = c.point("start", data["start"], d)
    minima = c.items("minima", data.get("minima", []), most=MAX_MINIMA, unit="table")
    for i, m in enumerate(minima):
        m = c.table(f"minima[{i}]", m, ("point", "value"))
        if "point" not in m or "value" not in m:
            raise OptvizError(f"{c.where}: minima[{i}] needs 'point' and 'value'")
        spec.minima.append((c.point(f"minima[{i}].point", m["point"], d),
                            c.number(f"minima[{i}].value", m["value"])))
    if "steps" in data:
        spec.steps = c.number("steps", data["steps"], whole=True, low=1, bound=MAX_STEPS)


def check_function_data(data: Any, where: str, dim_of=None) -> FunctionSpec:
    """Check a parsed function file; ``where`` names it in messages. ``dim_of(spec)``
    returns the number of variables (it parses the expression) before the values
    whose length depends on it are checked."""
    c = _Checker(where)
    data = c.table("", data, KEYS)
    spec = FunctionSpec(expression="")
    if "samples" in data:
        if "expression" in data or "variables" in data:
            raise OptvizError(f"{where}: a finite sum has its expression in [samples]; remove the "
                              "top-level 'expression'/'variables'")
        _samples(c, data["samples"], spec)
    elif "expression" in data:
        spec.expression = c.text("expression", data["expression"], 1000)
        if "variables" in data:
            spec.variables = c.names("variables", data["variables"], MAX_PARAMETERS)
    else:
        raise OptvizError(f"{where}: missing 'expression' (or a [samples] table)")
    spec.texts = {key: c.text(key, data[key], limit, lines=key == "description")
                  for key, limit in TEXT_LIMITS.items() if key in data}
    spec.suggested = _suggested(c, data.get("suggested", {}))
    d = dim_of(spec) if dim_of is not None else len(spec.parameters or spec.variables or ())
    _place(c, data, spec, d)
    return spec
