"""Safe parsing of formulas typed by a user into sympy expressions (docs/math.md §1.1).

No user text ever reaches ``eval``, ``exec``, ``sympify``, ``parse_expr`` or
``lambdify``: the text is parsed with :mod:`ast` (which only builds a tree) and
the tree is walked against a whitelist, building the sympy expression node by
node. Anything outside the whitelist is refused with a one-line message that
names the refused part and its (1-based) column.

Accepted: numbers, variable names, ``+ - * / **`` and unary ``-``/``+``, ``^`` as
a synonym of ``**``, the functions in :data:`FUNCTIONS` and the constants
``pi`` and ``e``.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
import re
import warnings
from dataclasses import dataclass

import sympy

from optviz.errors import OptvizError

MAX_LENGTH = 1000
MAX_DEPTH = 60
MAX_EXPONENT = 1000.0
MAX_LITERAL = 1e300

# name -> (sympy constructor, number of arguments)
FUNCTIONS: dict[str, tuple[object, int]] = {
    "sin": (sympy.sin, 1),
    "cos": (sympy.cos, 1),
    "tan": (sympy.tan, 1),
    "exp": (sympy.exp, 1),
    "log": (sympy.log, 1),
    "ln": (sympy.log, 1),
    "sqrt": (sympy.sqrt, 1),
    "sinh": (sympy.sinh, 1),
    "cosh": (sympy.cosh, 1),
    "tanh": (sympy.tanh, 1),
    "arcsin": (sympy.asin, 1),
    "asin": (sympy.asin, 1),
    "arccos": (sympy.acos, 1),
    "acos": (sympy.acos, 1),
    "arctan": (sympy.atan, 1),
    "atan": (sympy.atan, 1),
    "atan2": (sympy.atan2, 2),
    "arctan2": (sympy.atan2, 2),
    "abs": (sympy.Abs, 1),
    "Abs": (sympy.Abs, 1),
}
CONSTANTS: dict[str, sympy.Expr] = {"pi": sympy.pi, "e": sympy.E}

# The same functions on floats, to check a constant part of a formula before sympy
# evaluates it (sympy would compute exp(exp(exp(exp(exp(1))))) to the last digit).
FLOAT_FUNCTIONS: dict[str, object] = {
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "exp": math.exp, "log": math.log, "ln": math.log,
    "sqrt": math.sqrt, "sinh": math.sinh, "cosh": math.cosh, "tanh": math.tanh, "arcsin": math.asin,
    "asin": math.asin, "arccos": math.acos, "acos": math.acos, "arctan": math.atan, "atan": math.atan,
    "atan2": math.atan2, "arctan2": math.atan2, "abs": abs, "Abs": abs,
}
FLOAT_CONSTANTS = {"pi": math.pi, "e": math.e}

_ALLOWED_CHARS = re.compile(r"[0-9A-Za-z_+\-*/^().,\s]")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_PRIORITY = {"x": 0, "y": 1, "z": 2}


_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


@dataclass(frozen=True)
class Formula:
    """A parsed formula: the sympy expression and its variables in order."""

    text: str
    expr: sympy.Expr
    variables: tuple[str, ...]
    symbols: tuple[sympy.Symbol, ...]

    @property
    def dim(self) -> int:
        return len(self.variables)


def variable_order(name: str) -> tuple:
    """Sort key: x, y, z first; then by prefix and numeric suffix (x1 < x2 < x10)."""
    match = re.fullmatch(r"([A-Za-z_]*?)(\d*)", name)
    prefix, digits = (match.group(1), match.group(2)) if match else (name, "")
    return (_PRIORITY.get(prefix, 3), prefix, int(digits) if digits else -1, name)


def make_symbol(name: str) -> sympy.Symbol:
    """The one way a variable becomes a sympy symbol (real, so |x|' = sign(x))."""
    return sympy.Symbol(name, real=True)


class _Builder:
    def __init__(self, original: str, source: str, lead: int, reserved: frozenset[str]):
        self.original = original
        self.text = source
        self.lead = lead
        self.reserved = reserved
        self.symbols: dict[str, sympy.Symbol] = {}

    def refuse(self, node: ast.AST | None, what: str, why: str, col: int | None = None) -> OptvizError:
        """The error for ``node`` (at ``col`` of the parsed source when given: an operator)."""
        col = getattr(node, "col_offset", None) if col is None else col
        where = ""
        if col is not None:
            where = f" at column {_original_column(self.original, col + self.lead) + 1}"
        return OptvizError(f"formula {self.original!r}: {what}{where} is not allowed: {why}")

    def operator_col(self, node: ast.BinOp) -> int | None:
        """Column of a binary operator: the first character between its operands that is
        neither a space nor a parenthesis."""
        start, stop = getattr(node.left, "end_col_offset", None), getattr(node.right, "col_offset", None)
        if start is None or stop is None:
            return None
        for i in range(start, stop):
            if self.text[i] not in " ()":
                return i
        return None

    def part(self, node: ast.AST) -> str:
        segment = ast.get_source_segment(self.text, node) or type(node).__name__
        return repr(segment if len(segment) <= 40 else segment[:37] + "...")

    def build(self, node: ast.AST, depth: int = 0) -> sympy.Expr:
        return self.walk(node, depth)[0]

    def walk(self, node: ast.AST, depth: int) -> tuple[sympy.Expr, float | None]:
        """The sympy expression of ``node`` and, for a constant part, its float value
        (checked: a constant that overflows a float or is not real is refused)."""
        if depth > MAX_DEPTH:
            raise self.refuse(node, "nesting", f"more than {MAX_DEPTH} levels deep")
        if isinstance(node, ast.Expression):
            return self.walk(node.body, depth + 1)
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.Attribute):
            dot = getattr(node.value, "end_col_offset", None)
            raise self.refuse(node, self.part(node), "attribute access", col=dot)
        if isinstance(node, ast.UnaryOp):
            operand, value = self.walk(node.operand, depth + 1)
            if isinstance(node.op, ast.USub):
                return -operand, None if value is None else -value
            if isinstance(node.op, ast.UAdd):
                return operand, value
            raise self.refuse(node, self.part(node), "only unary - and + are allowed")
        if isinstance(node, ast.BinOp):
            return self.binop(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        kinds = {
            ast.Subscript: "subscripts",
            ast.Lambda: "lambdas",
            ast.ListComp: "comprehensions",
            ast.GeneratorExp: "comprehensions",
            ast.Compare: "comparisons",
            ast.BoolOp: "boolean operators",
            ast.JoinedStr: "strings",
        }
        why = kinds.get(type(node), "only numbers, variables, + - * / ** ^ and math functions")
        raise self.refuse(node, self.part(node), why)

    def checked(self, node: ast.AST, compute) -> float:
        """A constant part's float value, refused when it is not a finite real number."""
        try:
            value = compute()
        except OverflowError:
            raise self.refuse(node, self.part(node), "the number is too large for a float") from None
        except (ValueError, ZeroDivisionError, TypeError):
            raise self.refuse(node, self.part(node), "it is not a real number") from None
        if isinstance(value, complex):
            raise self.refuse(node, self.part(node), "it is not a real number")
        if not math.isfinite(value):
            raise self.refuse(node, self.part(node), "the number is too large for a float")
        return float(value)

    def number(self, node: ast.Constant) -> tuple[sympy.Expr, float]:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.refuse(node, self.part(node), "only real numbers are allowed")
        if isinstance(value, int):
            if value.bit_length() > 1000 or value > MAX_LITERAL:
                raise self.refuse(node, "number", f"larger than {MAX_LITERAL:g}")
            return sympy.Integer(value), float(value)
        if not math.isfinite(value) or abs(value) > MAX_LITERAL:
            raise self.refuse(node, "number", f"larger than {MAX_LITERAL:g}")
        return sympy.Float(repr(value)), float(value)

    def name(self, node: ast.Name) -> tuple[sympy.Expr, float | None]:
        name = node.id
        if name in CONSTANTS:
            return CONSTANTS[name], FLOAT_CONSTANTS[name]
        if name in FUNCTIONS:
            raise self.refuse(node, repr(name), "it is a function; call it like sin(x)")
        if name.startswith("_") or not _NAME.match(name) or name in self.reserved:
            raise self.refuse(node, repr(name), "variable names are letters and digits")
        if name not in self.symbols:
            self.symbols[name] = make_symbol(name)
        return self.symbols[name], None

    def binop(self, node: ast.BinOp, depth: int) -> tuple[sympy.Expr, float | None]:
        op = node.op
        if not isinstance(op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            col = self.operator_col(node)
            shown = repr(self.text[col:].split()[0].rstrip("()")) if col is not None else self.part(node)
            raise self.refuse(node, f"operator {shown}", "only + - * / ** ^ are allowed", col=col)
        if isinstance(op, ast.Pow):
            base, b = self.walk(node.left, depth + 1)
            exponent, p = self.walk(node.right, depth + 1)
            return self.power(node, base, exponent, b, p)
        return self.chain(node, depth)

    def chain(self, node: ast.BinOp, depth: int) -> tuple[sympy.Expr, float | None]:
        """``a + b - c + …`` or ``a * b / c * …`` as one level of nesting, walked without
        recursion along the chain: a long sum is flat to its reader, and to the depth limit."""
        family = (ast.Add, ast.Sub) if isinstance(node.op, (ast.Add, ast.Sub)) else (ast.Mult, ast.Div)
        spine = []
        while isinstance(node, ast.BinOp) and isinstance(node.op, family):
            spine.append(node)
            node = node.left
        expr, a = self.walk(node, depth + 1)
        for link in reversed(spine):
            right, b = self.walk(link.right, depth + 1)
            combine = _ARITHMETIC[type(link.op)]
            if isinstance(link.op, ast.Div) and (b == 0 or right == 0):
                raise self.refuse(link, self.part(link), "division by zero", col=link.right.col_offset)
            a = None if a is None or b is None else self.checked(link, functools.partial(combine, a, b))
            expr = combine(expr, right)
        return expr, a

    def power(self, node: ast.BinOp, base: sympy.Expr, exponent: sympy.Expr, b: float | None,
              p: float | None) -> tuple[sympy.Expr, float | None]:
        # Refuse huge powers before sympy tries to expand them (9**9**9**9).
        if p is not None and abs(p) > MAX_EXPONENT:
            raise self.refuse(node, self.part(node), f"exponent larger than {MAX_EXPONENT:g}",
                              col=node.right.col_offset)
        value = None
        if b is not None and p is not None:
            value = self.checked(node, lambda: math.pow(b, p))
        return sympy.Pow(base, exponent), value

    def call(self, node: ast.Call, depth: int) -> tuple[sympy.Expr, float | None]:
        if not isinstance(node.func, ast.Name):
            raise self.refuse(node, self.part(node.func), "only calls of plain function names")
        fname = node.func.id
        if fname not in FUNCTIONS:
            allowed = ", ".join(sorted(set(FUNCTIONS)))
            raise self.refuse(node, f"function {fname!r}", f"known functions are {allowed}")
        if node.keywords:
            raise self.refuse(node.keywords[0].value, "keyword arguments", "pass arguments by position")
        ctor, arity = FUNCTIONS[fname]
        if len(node.args) != arity or any(isinstance(a, ast.Starred) for a in node.args):
            raise self.refuse(node, self.part(node), f"{fname} takes {arity} argument(s)")
        built = [self.walk(a, depth + 1) for a in node.args]
        values = [v for _, v in built]
        value = None
        if all(v is not None for v in values):
            value = self.checked(node, lambda: FLOAT_FUNCTIONS[fname](*values))
        return ctor(*[e for e, _ in built]), value


def _source_for_ast(text: str) -> str:
    """Map the accepted surface syntax onto Python's: ``^`` is power."""
    return text.replace("^", "**")


def _original_column(text: str, col: int) -> int:
    """Column in ``text`` of 0-based column ``col`` of the ``^``→``**`` source."""
    shift = 0
    for i, ch in enumerate(text):
        if i + shift >= col:
            return i
        if ch == "^":
            shift += 1
    return len(text)


def _syntax_message(text: str, source: str, exc: SyntaxError) -> str:
    """Where Python's parser stopped, as a column of ``text``: the offending token, or
    just after the last character when the formula ends too soon (Python reports
    column 0 or one past the end for that)."""
    body = source.strip()
    lead = len(source) - len(source.lstrip())
    lines = body.split("\n")
    line = min(max(exc.lineno or 1, 1), len(lines))
    offset = exc.offset or 0
    if offset:
        offset += sum(len(previous) + 1 for previous in lines[: line - 1])
    if not 1 <= offset <= len(body):
        end = len(text.rstrip())
        last = text.rstrip().split()[-1] if text.split() else ""
        return (f"formula {text!r}: syntax error at column {end + 1}: the formula ends too soon, "
                f"after {last[-2:] if last.endswith('**') else last[-1:]!r}; something must follow it")
    col = _original_column(text, offset - 1 + lead)
    hint = " (write 2*x for a product)" if "decimal literal" in str(exc.msg) else ""
    return f"formula {text!r}: syntax error at column {col + 1}: {exc.msg}{hint}"


def parse_formula(text: str, *, reserved: frozenset[str] = frozenset()) -> Formula:
    """Parse ``text`` into a :class:`Formula`, or raise :class:`OptvizError`.

    ``reserved`` names cannot be used as variables (used for finite sums, where
    data symbols are given separately).
    """
    if not isinstance(text, str):
        raise OptvizError(f"formula must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise OptvizError(f"formula is {len(text)} characters long; at most {MAX_LENGTH} are allowed")
    if not text.strip():
        raise OptvizError("formula is empty; write an expression such as 'x**2 + 10*y**2'")
    for i, ch in enumerate(text):
        if not _ALLOWED_CHARS.match(ch):
            raise OptvizError(
                f"formula {text!r}: character {ch!r} at column {i + 1} is not allowed: "
                "use ASCII letters, digits, spaces and + - * / ^ ( ) , ."
            )
    source = _source_for_ast(text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "invalid decimal literal" for '2x'
            tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise OptvizError(_syntax_message(text, source, exc)) from None
    except (RecursionError, MemoryError, ValueError):
        raise OptvizError(f"formula {text!r}: too deeply nested to parse") from None
    lead = len(source) - len(source.lstrip())
    builder = _Builder(text, source.strip(), lead, reserved)
    try:
        expr = builder.build(tree)
    except RecursionError:
        raise OptvizError(f"formula {text!r}: too deeply nested to parse") from None
    # numpy computes in floats: an exact integer beyond 2⁵³ (10**300) would reach numpy as
    # a Python int that its functions cannot take; give it as the float it will be.
    expr = expr.replace(lambda a: a.is_Integer and abs(a) > 2**53, lambda a: sympy.Float(a))
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise OptvizError(f"formula {text!r} is undefined (a division by zero or an infinity)")
    names = sorted(builder.symbols, key=variable_order)
    return Formula(text, expr, tuple(names), tuple(builder.symbols[n] for n in names))

