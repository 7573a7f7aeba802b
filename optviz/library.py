"""The function library: one TOML file per named objective in ``functions/``.

A file holds::

    title = "Rosenbrock"
    expression = "(1 - x)^2 + 100*(y - x^2)^2"
    description = "Curved, narrow valley ..."
    source = "H. H. Rosenbrock (1960), The Computer Journal 3(3)"
    domain = [[-2.0, 2.0], [-1.0, 3.0]]
    start = [-1.5, 2.0]
    steps = 500
    [[minima]]
    point = [1.0, 1.0]
    value = 0.0
    [suggested]                 # per optimizer: lr and any other settings
    adam = { lr = 0.05 }

A finite-sum objective replaces ``expression`` by a ``[samples]`` table with the
per-sample ``expression``, its ``parameters``, the ``columns`` of the data and the
``data`` rows. ``--fn`` accepts a library name, a formula or the path of such a file
(see :func:`load_function`); what a file may hold and its limits are in
:mod:`optviz.function_file`.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from functools import lru_cache
from pathlib import Path

from optviz.errors import OptvizError, printable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_BARE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*\Z")


def functions_dir() -> Path:
    """Where the library files are: inside the installed package, or the checkout."""
    try:
        from importlib.resources import files

        path = Path(str(files("optviz.functions")))
        if path.is_dir() and any(path.glob("*.toml")):
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / "functions"


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


@lru_cache(maxsize=1)
def library_files() -> dict[str, Path]:
    """Library name -> file, sorted by name."""
    return {p.stem: p for p in sorted(functions_dir().glob("*.toml"))}


def function_names() -> list[str]:
    return list(library_files())


def read_toml(path: str | Path) -> dict:
    """Parse a function file: a regular file of at most ``MAX_FILE_BYTES``, UTF-8 (a
    byte-order mark is allowed), valid TOML; anything else is one OptvizError line."""
    from optviz.function_file import MAX_FILE_BYTES
    from optviz.io import read_user_bytes, utf8_text

    where = printable(path)
    text = utf8_text(read_user_bytes(path, MAX_FILE_BYTES, "function file"), where)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise OptvizError(f"{where}: invalid TOML: {printable(exc)}") from None
    except RecursionError:
        raise OptvizError(f"{where}: invalid TOML: nested too deeply") from None


def _dim(spec, formulas: dict) -> int:
    """Parse the expression (once) and return the number of variables."""
    from optviz.expr import parse_formula

    formula = formulas["f"] = parse_formula(spec.expression)
    if spec.parameters:
        unknown = set(formula.variables) - set(spec.parameters) - set(spec.columns)
        if unknown:
            raise OptvizError(f"sample expression uses {sorted(unknown)}, which are neither "
                              "parameters nor columns")
        unused = [p for p in spec.parameters if p not in formula.variables]
        if unused:
            raise OptvizError(f"parameter {unused[0]!r} does not appear in the sample expression")
        _check_work(len(spec.data), formula.expr)
        return len(spec.parameters)
    if formula.dim == 0:
        raise OptvizError(f"expression {printable(spec.expression, 60)!r} has no variables; "
                          "write it in x, or x and y")
    if spec.variables is not None and set(spec.variables) != set(formula.variables):
        raise OptvizError(f"'variables' {list(spec.variables)} do not match the expression's "
                          f"{list(formula.variables)}")
    return formula.dim


def _check_work(rows: int, expr) -> None:
    """Refuse a finite sum whose full-batch value would take too long on a contour grid."""
    import sympy

    from optviz.function_file import MAX_SAMPLE_WORK

    ops = 1 + int(sympy.count_ops(expr))
    if rows * ops > MAX_SAMPLE_WORK:
        raise OptvizError(
            f"'samples.data' has {rows} rows for a sample expression of {ops - 1} operations; "
            f"rows × (operations + 1) must be ≤ {MAX_SAMPLE_WORK:,} to draw it in time: use at most "
            f"{MAX_SAMPLE_WORK // ops} rows")


def objective_from_data(data: dict, name: str, path: str | Path):
    """Build an Objective from the parsed contents of a function file (checked first:
    see :mod:`optviz.function_file`)."""
    import numpy as np

    from optviz.expr import make_symbol
    from optviz.function_file import check_function_data
    from optviz.objective import FiniteSum, Minimum, Objective

    where = printable(path)
    formulas: dict = {}

    def dim_of(spec) -> int:
        try:
            return _dim(spec, formulas)
        except OptvizError as exc:
            raise OptvizError(f"{where}: {exc}") from None

    spec = check_function_data(data, where, dim_of)
    formula = formulas["f"]
    finite_sum = None
    if spec.parameters:
        finite_sum = FiniteSum(formula.expr, [make_symbol(p) for p in spec.parameters],
                               [make_symbol(c) for c in spec.columns], np.asarray(spec.data, dtype=float))
        variables = spec.parameters
    else:
        variables = spec.variables or formula.variables
    return Objective(
        name=name, expr=formula.expr, variables=tuple(variables),
        description=spec.texts.get("description", ""),
        domain=tuple(spec.domain) if spec.domain is not None else None,
        minima=tuple(Minimum(tuple(p), v) for p, v in spec.minima),
        start=tuple(spec.start) if spec.start is not None else None, suggested=spec.suggested,
        steps=spec.steps, finite_sum=finite_sum, formula_text=spec.expression,
        source=spec.texts.get("source", ""),
        title=spec.texts.get("title", ""),
    )


def load_file(path: str | Path):
    """Load a function file (``~`` expanded; see :func:`read_toml` and :mod:`optviz.function_file`)."""
    from optviz.io import user_path

    path = user_path(path)
    return objective_from_data(read_toml(path), path.stem, path)


@lru_cache(maxsize=64)
def load_named(name: str):
    files = library_files()
    return load_file(files[name])


def looks_like_path(text: str) -> bool:
    """Whether ``--fn`` text names a file: it ends in ``.toml`` or holds a path
    separator (``/``, or ``\\`` on Windows) or starts with ``~``. A bare name (``x``,
    ``rosenbrock``) is a library name or a formula, never a file, even when a file
    of that name is in the current directory."""
    seps = {"/", os.sep, os.altsep or "/"}
    return text.lower().endswith(".toml") or text.startswith("~") or any(s in text for s in seps)


def _is_file(text: str) -> bool:
    """Whether ``text`` names an existing file; never raises (a 300-character formula
    is not a valid file name and that is not an error)."""
    try:
        from optviz.io import user_path

        return os.path.isfile(user_path(text))
    except (OptvizError, OSError, ValueError):
        return False


def load_function(spec: str):
    """Resolve ``--fn``: a library name, the path of a function file, or a formula.

    A library name wins; text that ends in ``.toml`` is a file (missing: an error);
    text with a path separator is a file when one exists there and a formula
    otherwise (``x/y``); anything else is a formula (a bare name that is neither a
    library name nor a usable formula gets the closest library names).
    """
    from optviz.objective import objective_from_formula

    if not isinstance(spec, str):
        raise OptvizError(f"{{fn}} must be text, got {type(spec).__name__}", param="fn")
    spec = spec.strip()
    files = library_files()
    if _key(spec) in files:
        return load_named(_key(spec))
    if spec.lower().endswith(".toml") or (looks_like_path(spec) and _is_file(spec)):
        return load_file(spec)
    if _BARE_NAME.match(spec) and len(spec) > 2:
        close = difflib.get_close_matches(_key(spec), list(files), n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}?" if close else "see 'optviz functions' for the names"
        raise OptvizError(f"unknown function {printable(spec, 60)!r}: {hint} (or type a formula such "
                          "as 'x**2 + 10*y**2')")
    return objective_from_formula(spec)
