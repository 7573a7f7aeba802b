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
``data`` rows. ``--fn`` accepts a library name, a formula or the path of such a file.
"""

from __future__ import annotations

import difflib
import re
import sys
from functools import lru_cache
from pathlib import Path

from optviz.errors import OptvizError

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


def read_toml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OptvizError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise OptvizError(f"{path}: cannot read: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise OptvizError(f"{path}: invalid TOML: {exc}") from None


def _floats(path: Path, key: str, value, length: int | None = None) -> tuple[float, ...]:
    try:
        out = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise OptvizError(f"{path}: '{key}' must be a list of numbers, got {value!r}") from None
    if length is not None and len(out) != length:
        raise OptvizError(f"{path}: '{key}' must have {length} numbers (one per variable), got {len(out)}")
    return out


def objective_from_data(data: dict, name: str, path: Path):
    """Build an Objective from the parsed contents of a library file."""
    import numpy as np

    from optviz.expr import make_symbol, parse_formula
    from optviz.objective import FiniteSum, Minimum, Objective

    finite_sum = None
    if "samples" in data:
        samples = data["samples"]
        try:
            params = [str(p) for p in samples["parameters"]]
            columns = [str(c) for c in samples["columns"]]
            text = str(samples["expression"])
            rows = samples["data"]
        except (KeyError, TypeError) as exc:
            raise OptvizError(f"{path}: [samples] needs expression, parameters, columns and data ({exc} missing)") from None
        formula = parse_formula(text)
        unknown = set(formula.variables) - set(params) - set(columns)
        if unknown:
            raise OptvizError(f"{path}: sample expression uses {sorted(unknown)}, which are neither parameters nor columns")
        finite_sum = FiniteSum(formula.expr, [make_symbol(p) for p in params],
                               [make_symbol(c) for c in columns], np.asarray(rows, dtype=float))
        variables, expr, shown = tuple(params), formula.expr, text
    else:
        if "expression" not in data:
            raise OptvizError(f"{path}: missing 'expression' (or a [samples] table)")
        formula = parse_formula(str(data["expression"]))
        variables, expr, shown = formula.variables, formula.expr, str(data["expression"])
        if "variables" in data:
            declared = tuple(str(v) for v in data["variables"])
            if set(declared) != set(variables):
                raise OptvizError(f"{path}: 'variables' {list(declared)} do not match the expression's {list(variables)}")
            variables = declared
    d = len(variables)
    minima = []
    for i, m in enumerate(data.get("minima", [])):
        if "point" not in m or "value" not in m:
            raise OptvizError(f"{path}: minima[{i}] needs 'point' and 'value'")
        minima.append(Minimum(_floats(path, f"minima[{i}].point", m["point"], d), float(m["value"])))
    domain = None
    if "domain" in data:
        domain = tuple(_floats(path, "domain", r, 2) for r in data["domain"])
        if len(domain) != d or any(lo >= hi for lo, hi in domain):
            raise OptvizError(f"{path}: 'domain' must be {d} pairs [low, high] with low < high")
    start = _floats(path, "start", data["start"], d) if "start" in data else None
    suggested = {str(k): dict(v) for k, v in data.get("suggested", {}).items()}
    return Objective(
        name=name, expr=expr, variables=variables,
        description=str(data.get("description", "")), domain=domain, minima=tuple(minima),
        start=start, suggested=suggested, steps=int(data.get("steps", 200)),
        finite_sum=finite_sum, formula_text=shown, source=str(data.get("source", "")),
        title=str(data.get("title", "")),
    )


def load_file(path: str | Path):
    path = Path(path)
    return objective_from_data(read_toml(path), path.stem, path)


@lru_cache(maxsize=64)
def load_named(name: str):
    files = library_files()
    return load_file(files[name])


def load_function(spec: str):
    """Resolve ``--fn``: a library name, a path to a TOML file, or a formula."""
    from optviz.objective import objective_from_formula

    spec = spec.strip()
    files = library_files()
    if _key(spec) in files:
        return load_named(_key(spec))
    if spec.endswith(".toml") or Path(spec).is_file():
        return load_file(spec)
    if _BARE_NAME.match(spec) and len(spec) > 2:
        close = difflib.get_close_matches(_key(spec), list(files), n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}?" if close else "see 'optviz functions' for the names"
        raise OptvizError(f"unknown function {spec!r}: {hint} (or type a formula such as 'x**2 + 10*y**2')")
    return objective_from_formula(spec)
