"""What optviz offers, as plain data: the function library and the optimizers.

These are the documents of ``optviz functions --json`` and ``optviz optimizers --json``;
:mod:`optviz.report` draws the same facts as tables.
"""

from __future__ import annotations

from typing import Any

from optviz.export import jsonable


def function_record(objective: Any, *, full: bool = False) -> dict[str, Any]:
    """One function: name, variables, formula, minima, domain, start and steps; with
    ``full`` also its title, description, source, gradient and suggested settings."""
    record: dict[str, Any] = {
        "name": objective.name,
        "variables": list(objective.variables),
        "formula": objective.formula_text,
        "finite_sum": None if objective.finite_sum is None else {"samples": int(objective.finite_sum.n)},
        "minima": [{"point": list(m.point), "value": m.value} for m in objective.minima],
        "domain": None if objective.domain is None else [list(r) for r in objective.domain],
        "start": None if objective.start is None else list(objective.start),
        "steps": objective.steps,
    }
    if full:
        record["title"] = objective.title
        record["description"] = objective.description
        record["source"] = objective.source
        record["gradient"] = [str(g) for g in objective.gradient_exprs()]
        record["suggested"] = {opt: dict(s) for opt, s in objective.suggested.items()}
    return jsonable(record)


def functions_document(name: str | None = None) -> dict[str, Any]:
    """``{"functions": [...]}`` for the whole library, or one function in full."""
    from optviz.library import function_names, load_function, load_named

    if name is not None:
        return function_record(load_function(name), full=True)
    return {"functions": [function_record(load_named(n)) for n in function_names()]}


def optimizers_document() -> dict[str, Any]:
    """``{"optimizers": [...]}``: each optimizer's name, update rule, defaults, what it
    does, and the gradient it needs (exact, noisy, or the Hessian too)."""
    from optviz.optim import OPTIMIZERS, defaults

    return jsonable({"optimizers": [
        {"name": name, "update_rule": cls.update_rule or "θ ← θ − η g", "defaults": defaults(name),
         "summary": cls.summary, "oracle": cls.oracle, "needs_hessian": cls.needs_hessian}
        for name, cls in OPTIMIZERS.items()]})
