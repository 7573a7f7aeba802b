"""One self-contained HTML file where every optimizer path is recomputed live.

The page holds the contour of the function (drawn once by matplotlib), the
objective's f, ∇f and Hessian compiled to JavaScript from its sympy tree
(:mod:`optviz.explorer.jscode`), the optimizers, schedules, oracles and run loop
mirrored in JavaScript (``MATH_SCRIPTS``, one file each), the page's own scripts
(``PAGE_SCRIPTS``) and the settings as JSON data. Nothing is fetched: no network request of any kind, and
it works from ``file://`` (docs/math.md §11).

Safety: text a user chose (title, labels, the function's name) reaches the page
only as escaped HTML text or inside the JSON data block (with ``<``, ``>``,
``&``, U+2028 and U+2029 escaped); the page's script puts data into the
document with ``textContent`` only, and a Content-Security-Policy allows exactly
the page's own scripts (by hash), no eval and no connection.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from optviz import validate
from optviz.errors import OptvizError

# The mirror of the numpy core, in the order the page loads them (each defines one global).
MATH_SCRIPTS = ("numeric.js", "objectives.js", "schedules.js", "optimizers.js", "oracles.js", "critical.js",
                "runloop.js")
PAGE_SCRIPTS = ("draw.js", "command.js", "controls.js", "link.js", "page.js")
ASSETS = (*MATH_SCRIPTS, *PAGE_SCRIPTS, "page.css", "page.html")
ORACLE_KEYS = ("noise", "batch_size")
MAX_LABEL = 80
MAX_TITLE = 200
MAX_STARTS = 8
MAX_STEPS = 100_000
KINDS = ("minimum", "local minimum", "saddle", "maximum", "degenerate")
_TOKEN = re.compile(r"\{\{([A-Z_]+)\}\}")


def asset(name: str) -> str:
    """The text of one of the page's files (shipped as package data)."""
    from importlib.resources import files

    return (files("optviz.explorer") / name).read_text(encoding="utf-8")


def script_json(data: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``</script>``, no
    comment or CDATA openers, no JavaScript line separators."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def _number(value: Any, what: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise OptvizError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(out):
        raise OptvizError(f"{what} must be a finite number, got {value!r}")
    return out


def _text(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str):
        raise OptvizError(f"{what} must be text, got {type(value).__name__}")
    text = " ".join(value.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _starts(objective, starts) -> list[list[float]]:
    import numpy as np

    from optviz.settings import parse_starts

    if starts is None or np.size(starts) == 0:
        raise OptvizError("the page needs at least one start point", param="start")
    X = parse_starts(objective, starts)
    if len(X) > MAX_STARTS:
        raise OptvizError(f"the page takes at most {MAX_STARTS} start points, got {len(X)}", param="start")
    return X.tolist()


def _oracle(objective, name: str, extra: Mapping[str, Any]) -> dict[str, Any] | None:
    if name not in ("sgd", "minibatch"):
        if extra:
            raise OptvizError(f"{name} has no parameter {next(iter(extra))!r}; noise and batch_size are for sgd and minibatch")
        return None
    suggested = objective.suggested.get(name, {})
    fs = objective.finite_sum
    out: dict[str, Any] = {}
    if fs is None:
        out["noise"] = validate.non_negative("noise", extra.get("noise", suggested.get("noise", 1.0)))
    if name == "minibatch":
        b = validate.whole("batch_size", extra.get("batch_size", suggested.get("batch_size", 10)))
        if fs is not None and b > fs.n:
            raise OptvizError(f"{{batch_size}} {b} is larger than the {fs.n} samples of {objective.name}",
                              param="batch_size")
        out["batch_size"] = b
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, bool) or isinstance(value, str):
        return value
    return float(value)


def page_optimizers(objective, optimizers: Sequence[Sequence[Any]], schedule: str | None) -> list[dict[str, Any]]:
    """Check ``(label, name, lr, hyperparameters)`` entries as ``optviz run`` would and
    complete them with every default; each gets its color."""
    from types import SimpleNamespace

    from optviz.optim import make_optimizer
    from optviz.plot import display_name, run_styles
    from optviz.settings import optimizer_settings

    if not optimizers:
        raise OptvizError("no optimizer given; choose from gd, sgd, minibatch, momentum, nesterov, adagrad, rmsprop, adam, newton")
    out = []
    for entry in optimizers:
        if len(entry) != 4:
            raise OptvizError(f"an optimizer entry is (label, name, lr, hyperparameters); got {entry!r}")
        label, name, lr, hyper = entry
        hyper = dict(hyper or {})
        extra = {k: hyper.pop(k) for k in ORACLE_KEYS if k in hyper}
        optimizer = make_optimizer(name, lr=lr, schedule=schedule, **hyper)
        settings = {k: _plain(v) for k, v in optimizer.hyperparameters.items()}
        base_lr, base_hyper = optimizer_settings(objective, optimizer.name)
        baseline = {k: _plain(v) for k, v in make_optimizer(optimizer.name, lr=base_lr or 1.0, **base_hyper)
                    .hyperparameters.items() if k != "lr"}
        out.append({
            "label": _text(label or display_name(optimizer.name), "optimizer label", MAX_LABEL),
            "label_arg": _text(label, "optimizer label", MAX_LABEL) if label else None,  # for the command
            "name": optimizer.name, "lr": settings.pop("lr"), "hyper": settings,
            "oracle": _oracle(objective, optimizer.name, extra), "baseline": baseline,
        })
    colors = run_styles([SimpleNamespace(optimizer=o["name"]) for o in out])
    for entry, (color, _marker) in zip(out, colors):
        entry["color"] = color
    return out


def _critical_points(objective, critical_points) -> list[dict[str, Any]]:
    if critical_points is None:
        f_star = objective.f_star
        return [{"point": list(map(float, m.point)), "value": float(m.value),
                 "kind": "minimum" if m.value <= f_star + 1e-9 * max(1.0, abs(f_star)) else "local minimum"}
                for m in objective.minima]
    out = []
    for cp in critical_points:
        get = cp.get if isinstance(cp, Mapping) else (lambda key, default=None, cp=cp: getattr(cp, key, default))
        point = [_number(v, "critical point coordinate") for v in get("point", ())]
        if len(point) != objective.dim:
            raise OptvizError(f"a critical point needs {objective.dim} coordinate(s), got {point}")
        kind = str(getattr(get("kind", "minimum"), "value", get("kind", "minimum"))).replace("_", " ")
        value = get("value", None)
        out.append({"point": point, "kind": kind if kind in KINDS else "degenerate",
                    "value": None if value is None else _number(value, "critical point value")})
    return out


def _domain(objective, domain, starts, points) -> list[list[float]]:
    if domain is None:
        domain = objective.domain
    if domain is None:
        import numpy as np

        from optviz.plot import plot_domain

        class _Starts:  # what plot_domain reads of a run: the start points as one-point paths
            def __init__(self, X):
                self.starts, self.K, self.status = X, len(X), ["max_steps"] * len(X)

            def path(self, k):
                return self.starts[k:k + 1]

        extra = [p["point"] for p in points]
        domain = plot_domain(objective, [_Starts(np.array(starts + extra, dtype=float))])
    out = [[_number(lo, "domain"), _number(hi, "domain")] for lo, hi in domain]
    if len(out) != objective.dim or any(lo >= hi for lo, hi in out):
        raise OptvizError(f"the domain must be {objective.dim} pairs (low, high) with low < high")
    return out


def _fn_spec(objective) -> str:
    """What ``--fn`` needs to name ``objective``: its library name, else its formula."""
    from optviz.library import function_names

    if objective.name in function_names() or not objective.formula_text:
        return str(objective.name)
    return str(objective.formula_text)


def page_data(objective, optimizers, *, starts, steps, tol, schedule, title, critical_points=None,
              domain=None, seed: int = 0, fn_spec: str | None = None) -> dict[str, Any]:
    """Everything the page's script reads, checked (see :func:`build_page`)."""
    from optviz.optim.schedules import parse_schedule
    from optviz.plot import objective_title

    if objective.dim not in (1, 2):
        raise OptvizError(f"the explorable page draws functions of 1 or 2 variables; {objective.name} has "
                          f"{objective.dim} ({', '.join(objective.variables)})")
    steps = validate.whole("steps", steps, 1, MAX_STEPS)
    tol = validate.non_negative("tol", tol)
    seed = validate.whole("seed", seed, -(2**63))
    if schedule is not None:
        parse_schedule(schedule, 1.0)
    points = _critical_points(objective, critical_points)
    start_list = _starts(objective, starts)
    box = _domain(objective, domain, start_list, points)
    bound_scale = max(max(abs(lo), abs(hi)) for lo, hi in objective.domain) if objective.domain else None
    name = objective_title(objective) or objective.name
    formula = str(objective.formula_text or objective.expr)
    if objective.finite_sum is not None:
        formula = f"mean over {objective.finite_sum.n} samples of {formula}"
    return {
        "version": 1,
        "title": _text(title if title is not None else f"{name}: explore the optimizers", "title", MAX_TITLE),
        "function": {"name": _text(str(objective.name), "function name", 300),
                     "spec": str(fn_spec if fn_spec is not None else _fn_spec(objective)),
                     "formula": f"f({', '.join(objective.variables)}) = {formula}",
                     "description": objective.description, "variables": list(objective.variables)},
        "dim": objective.dim, "domain": box, "f_star": objective.f_star, "bound_scale": bound_scale,
        "critical_points": points, "starts": start_list, "steps": int(steps), "tol": tol,
        "schedule": (schedule or "constant").strip(), "seed": int(seed),
        "optimizers": page_optimizers(objective, optimizers, schedule),
        "finite_sum": None if objective.finite_sum is None else {
            "n": objective.finite_sum.n, "rows": objective.finite_sum.data.tolist()},
    }


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def build_page(objective, optimizers, *, starts, steps, tol=1e-6, schedule=None, title=None,
               critical_points=None, domain=None, seed: int = 0, fn_spec: str | None = None) -> str:
    """The explorable page of ``objective`` as one HTML string.

    ``optimizers``: ``(label, name, lr, hyperparameters)`` per optimizer, checked as
    ``optviz run`` checks them (``noise`` and ``batch_size`` may join the
    hyperparameters of sgd and minibatch). ``starts``: a point or up to 8 points.
    ``schedule``: the CLI syntax. ``critical_points``: items with ``point``, ``kind``
    (minimum, local minimum, saddle, maximum, degenerate) and ``value`` (the
    objective's minima when None). ``domain``: the box to draw (the function's,
    else one around the starts and critical points). ``fn_spec``: what ``--fn``
    says in the page's ``optviz run`` command (the function's name or formula).
    """
    from optviz.explorer.background import render_background
    from optviz.explorer.jscode import objective_code

    data = page_data(objective, optimizers, starts=starts, steps=steps, tol=tol, schedule=schedule,
                     title=title, critical_points=critical_points, domain=domain, seed=seed, fn_spec=fn_spec)
    code = objective_code(objective, hessian=any(o["name"] == "newton" for o in data["optimizers"]))
    if objective.dim == 2:
        data["background"] = render_background(objective, tuple(map(tuple, data["domain"]))).to_json()
    else:
        data["background"] = None
    scripts = {"OPTIM_JS": "\n".join(asset(name) for name in MATH_SCRIPTS), "OBJECTIVE_JS": code.source,
               "PAGE_JS": "\n".join(asset(name) for name in PAGE_SCRIPTS)}
    style = asset("page.css")
    csp = ("default-src 'none'; img-src data:; style-src " + _sha256(style) + "; script-src "
           + " ".join(_sha256(s) for s in scripts.values()) + "; base-uri 'none'; form-action 'none'")
    parts = {
        "CSP": html.escape(csp, quote=False), "STYLE": style, "DATA": script_json(data),
        "TITLE": html.escape(data["title"], quote=True),
        "FORMULA": html.escape(data["function"]["formula"], quote=True),
        "DESCRIPTION": html.escape(data["function"]["description"], quote=True), **scripts,
    }
    return _TOKEN.sub(lambda m: parts[m.group(1)], asset("page.html"))


def write_page(path: str | Path, objective, optimizers, **options) -> Path:
    """Write :func:`build_page` to ``path`` atomically (whole or not at all)."""
    from optviz.io import check_writable_file, write_text

    path = check_writable_file(Path(path).expanduser())
    text = build_page(objective, optimizers, **options)
    return write_text(path, text)
