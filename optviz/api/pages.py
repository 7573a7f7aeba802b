"""The explorable page of a function: :func:`explore` (the page itself is built by
:mod:`optviz.explorer`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from optviz import validate
from optviz.api.surface import run
from optviz.errors import OptvizError
from optviz.explorer import ExplorePage
from optviz.settings import resolve_function
from optviz.variants import parse_variants


def explore(fn: Any = "rosenbrock", opt: str | Iterable[str] = "gd,momentum,adam", *,
            lr: float | None = None, start=None, steps: int | None = None, tol: float = 1e-6,
            schedule: str | None = None, noise: float | None = None, batch_size: int | None = None,
            seed: int = 0, params: Mapping[str, Any] | None = None, labels: Sequence[str] | None = None,
            title: str | None = None, critical_points=None, domain=None) -> ExplorePage:
    """Build the explorable page of ``fn`` with the optimizers ``opt``.

    The options are those of :func:`optviz.api.run` (function, optimizers, lr,
    start points, steps, tol, schedule, noise, batch size, seed, ``params``
    such as ``{"adam.beta1": 0.8}``), checked by it the same way; each
    optimizer starts with the settings ``optviz run`` would use. ``labels``
    name the optimizers on the page; ``title``, ``critical_points`` and
    ``domain`` go to :func:`optviz.explorer.page.build_page`.
    """
    from optviz.explorer.fromrun import run_page
    from optviz.explorer.page import page_refusal

    names = opt if isinstance(opt, str) else ",".join(o for o in opt if isinstance(o, str))
    foreign = re.search(r"(?<![\w.])(?:torch|optax):[^,\s(]*", names)
    if foreign:  # refused as such, before the adapter would ask for its library
        raise OptvizError(page_refusal(foreign.group(0)), param="opt")
    for variant in parse_variants(opt):  # before any run: the page computes optviz's own rules only
        reason = page_refusal(variant.name)
        if reason:
            raise OptvizError(reason, param="opt")
    objective = resolve_function(fn)
    if steps is not None:
        validate.whole("steps", steps)
    # One step of optviz.run checks every shared option with run's own messages and
    # settles each optimizer's settings exactly as `optviz run` would.
    checked = run(objective, opt, lr=lr, start=start, steps=1, tol=tol, schedule=schedule,
                  noise=noise, batch_size=batch_size, seed=seed, params=params)
    return run_page(checked, steps=objective.steps if steps is None else int(steps), title=title, labels=labels,
                    critical_points=critical_points, domain=domain,
                    fn_spec=fn.strip() if isinstance(fn, str) else None)
