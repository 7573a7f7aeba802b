"""An objective's f, ∇f and Hessian as JavaScript, for the explorable page.

The code is printed by sympy's JavaScript code printer from the objective's
expression tree (:meth:`optviz.objective.Objective.symbolic`: generated
symbols ``v0, v1, …``, data ``u0, u1, …``), never from the text a user typed.
It evaluates the same arithmetic as the numpy functions (docs/math.md §1.2 and
§11): the same lists go through the same common-subexpression elimination
(``sympy.cse``, as ``lambdify(..., cse=True)`` does), in the same order —
f with ∇f in one list and the Hessian in another for a formula; fᵢ, ∇fᵢ and
the Hessian of fᵢ each alone for a finite sum, whose page averages them over
the data rows with numpy's pairwise summation.

Powers follow numpy: ``x**2`` is ``x*x`` (numpy's square), ``x**-1`` is
``1/x``, ``x**0.5`` is ``Math.sqrt``; other integer powers use a correctly
rounded ``powi`` (numpy's and C's ``pow`` are within an ulp of it, where
JavaScript's ``Math.pow`` is often not); the rest is ``Math.pow``. A part of a
formula JavaScript cannot compute is refused with an :class:`OptvizError`
naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from optviz.errors import OptvizError

# sympy function name -> JavaScript function (numpy's semantics: log(-1) is NaN in both).
FUNCTIONS = {
    "sin": "Math.sin", "cos": "Math.cos", "tan": "Math.tan", "exp": "Math.exp",
    "log": "Math.log", "sinh": "Math.sinh", "cosh": "Math.cosh", "tanh": "Math.tanh",
    "asin": "Math.asin", "acos": "Math.acos", "atan": "Math.atan", "atan2": "Math.atan2",
    "Abs": "Math.abs", "sign": "Math.sign",
}
EXACT_INTEGER = 2**53
# What a printed expression may contain: identifiers, numbers, operators, parentheses.
_SAFE_CODE = re.compile(r"[A-Za-z0-9_ .,()+\-*/]*\Z")


@dataclass(frozen=True)
class ObjectiveCode:
    """The JavaScript of one objective: ``source`` defines ``OptvizObjective``."""

    source: str
    dim: int
    finite_sum: bool


def _printers():
    """A JavaScript printer that prints what lambdify's numpy printer would compute."""
    import sympy
    from sympy.printing.jscode import JavascriptCodePrinter
    from sympy.printing.numpy import NumPyPrinter
    from sympy.printing.precedence import precedence

    numpy_printer = NumPyPrinter({"fully_qualified_modules": False, "inline": True,
                                  "allow_unknown_functions": True, "user_functions": {}})

    class Printer(JavascriptCodePrinter):
        def _print_Float(self, expr):
            # The double the numpy code parses from its own literal, written so JS parses it back.
            return repr(float(numpy_printer.doprint(expr)))

        def _print_Rational(self, expr):
            p, q = int(expr.p), int(expr.q)
            if abs(p) <= EXACT_INTEGER and q <= EXACT_INTEGER:
                return f"{p}/{q}"  # the same division as the numpy code's p/q
            return f"({p / q!r})"

        def _print_Integer(self, expr):
            return str(int(expr))

        def _print_Pow(self, expr):
            base, exp = expr.base, expr.exp
            arg = self._print(base)
            if exp == sympy.S.Half:
                return f"Math.sqrt({arg})"
            if exp == -sympy.S.Half:
                return f"(1/Math.sqrt({arg}))"
            if exp.is_Number and float(exp).is_integer():
                n = int(exp)
                if n == -1:  # numpy: x**(-1.0) is 1/x
                    return f"(1/{self.parenthesize(base, precedence(expr))})"
                if n == 2 and base.free_symbols:  # numpy: x**2 on an array is x*x
                    return f"sq({arg})"
                if n in (0, 1):
                    return f"Math.pow({arg}, {n})"
                return f"powi({arg}, {n})"
            return f"Math.pow({arg}, {self._print(exp)})"

        def _print_Function(self, expr):
            name = type(expr).__name__
            return f"{FUNCTIONS[name]}({', '.join(self._print(a) for a in expr.args)})"

    return Printer({"strict": False})


def _check(objective, sym, exprs) -> None:
    """Refuse anything the printer would not turn into JavaScript with numpy's meaning."""
    import sympy

    allowed_symbols = set(sym.params) | set(sym.data)

    def name_part(node) -> str:
        back = {g: sympy.Symbol(n) for g, n in zip(sym.params, objective.variables)}
        text = str(node.xreplace(back))
        return text if len(text) <= 60 else text[:57] + "..."

    for expr in exprs:
        for node in sympy.preorder_traversal(expr):
            if isinstance(node, (sympy.Add, sympy.Mul, sympy.Pow)):
                continue
            if isinstance(node, sympy.Symbol):
                if node in allowed_symbols:
                    continue
                raise OptvizError(f"{objective.name}: symbol {name_part(node)!r} is not a variable "
                                  "of the function; the page cannot compute it")
            if node.is_Atom and node.is_number:
                if node is sympy.pi or node is sympy.E:
                    continue
                if isinstance(node, (sympy.Rational, sympy.Float)) and node.is_finite:
                    continue
                raise OptvizError(f"{objective.name}: the formula contains the value {name_part(node)!r}, "
                                  "which is not a finite real number; the page cannot compute it")
            if isinstance(node, sympy.Function) and type(node).__name__ in FUNCTIONS:
                continue
            known = ", ".join(sorted({"sqrt", *FUNCTIONS}))
            raise OptvizError(f"{objective.name}: {name_part(node)!r} has no JavaScript equivalent, so the "
                              f"explorable page cannot compute it; it computes + - * / ** and {known}")


def _body(printer, exprs, indent: str = "    ") -> tuple[list[str], list[str]]:
    """The statements of one compiled list: cse assignments, then one code string per expr."""
    import sympy

    replacements, reduced = sympy.cse(list(exprs), list=False)
    lines = [f"{indent}const {_code(printer, sym)} = {_code(printer, sub)};" for sym, sub in replacements]
    return lines, [_code(printer, e) for e in reduced]


def _code(printer, expr) -> str:
    code = printer.doprint(expr)
    if not _SAFE_CODE.match(code):  # pragma: no cover - a printer bug; user text never gets here
        raise OptvizError(f"the JavaScript printer produced unexpected code: {code[:60]!r}")
    return code


def _function(printer, name: str, args: str, unpack: list[str], exprs, *, single: bool = False) -> list[str]:
    if not exprs:  # a Hessian nobody asked for
        return [f"  function {name}({args}) {{ out.fill(NaN); }}"]
    lines, outs = _body(printer, exprs)
    head = [f"  function {name}({args}) {{", *unpack, *lines]
    if single:
        return [*head, f"    return {outs[0]};", "  }"]
    return [*head, *[f"    out[{i}] = {code};" for i, code in enumerate(outs)], "  }"]


def objective_code(objective, *, hessian: bool = True) -> ObjectiveCode:
    """Compile ``objective`` to JavaScript defining ``OptvizObjective`` (see the module doc).

    The script expects ``OptvizOptim`` (runloop.js) and, for a finite sum, reads
    its data rows from the page's data (``OptvizObjective.make(rows)``). Without
    ``hessian`` (no Newton on the page) the Hessian is neither derived nor
    compiled, and evaluates to NaN.
    """
    sym = objective.symbolic(hessian=hessian)
    d = len(sym.params)
    exprs = [sym.value, *sym.grad, *sym.hess]
    _check(objective, sym, exprs)
    printer = _printers()
    unpack = [f"    const v{i} = v[{i}];" for i in range(d)]
    lines = ["var OptvizObjective = (function () {", '  "use strict";',
             "  const sq = OptvizOptim.sq, powi = OptvizOptim.powi;"]
    if sym.rows is None:
        lines += _function(printer, "fg", "v, out", unpack, [sym.value, *sym.grad])
        lines += _function(printer, "hess", "v, out", unpack, sym.hess)
        lines += [f"  return OptvizOptim.formulaObjective({d}, fg, hess);", "})();"]
    else:
        unpack_u = unpack + [f"    const u{j} = u[{j}];" for j in range(len(sym.data))]
        lines += _function(printer, "value", "v, u", unpack_u, [sym.value], single=True)
        lines += _function(printer, "grad", "v, u, out", unpack_u, sym.grad)
        lines += _function(printer, "hess", "v, u, out", unpack_u, sym.hess)
        lines += [f"  return {{ make: function (rows) {{ return OptvizOptim.finiteSumObjective({d}, "
                  "value, grad, hess, rows); } };", "})();"]
    source = "\n".join(lines) + "\n"
    return ObjectiveCode(source, d, sym.rows is not None)
