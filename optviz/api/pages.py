"""The explorable page of a function: :func:`explore` (the page itself is built by
:mod:`optviz.explorer`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from optviz import validate
from optviz.api.surface import run
from optviz.errors import OptvizError
from optviz.explorer import ExplorePage
from optviz.settings import DEFAULT_BATCH, DEFAULT_NOISE, resolve_function


def _oracle_settings(objective, name: str, noise, batch_size) -> dict[str, Any]:
    """noise / batch_size of sgd and minibatch, chosen as optviz.api.make_oracle chooses them."""
    if name not in ("sgd", "minibatch"):
        return {}
    suggested = objective.suggested.get(name, {})
    out: dict[str, Any] = {}
    if objective.finite_sum is None:
        out["noise"] = float(noise if noise is not None else suggested.get("noise", DEFAULT_NOISE))
    elif noise is not None:
        raise OptvizError(f"the page draws samples of {objective.name}'s data for {name}; "
                          "{noise} is for functions without samples", param="noise")
    if name == "minibatch":
        out["batch_size"] = int(batch_size or suggested.get("batch_size", DEFAULT_BATCH))
    return out


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
    from optviz.explorer.page import build_page

    objective = resolve_function(fn)
    if steps is not None:
        validate.whole("steps", steps)
    # One step of optviz.run checks every shared option with run's own messages and
    # settles each optimizer's settings exactly as `optviz run` would.
    checked = run(objective, opt, lr=lr, start=start, steps=1, tol=tol, schedule=schedule,
                      noise=noise, batch_size=batch_size, seed=seed, params=params)
    if labels is not None and len(labels) != len(checked.runs):
        raise OptvizError(f"{len(labels)} label(s) for {len(checked.runs)} optimizer(s); give one label each",
                          param="labels")
    optimizers = []
    for i, traj in enumerate(checked.runs):
        hyper = dict(traj.hyperparameters)
        chosen_lr = hyper.pop("lr")
        hyper.update(_oracle_settings(objective, traj.optimizer, noise, batch_size))
        own = traj.label if traj.label != traj.optimizer else None  # a variant's label, else the display name
        optimizers.append((labels[i] if labels is not None else own, traj.optimizer, chosen_lr, hyper))
    if critical_points is None and objective.dim <= 2:
        critical_points = [p.to_json() for p in objective.critical_points()]
    text = build_page(objective, optimizers, starts=checked.runs[0].starts,
                      steps=objective.steps if steps is None else int(steps), tol=tol, schedule=schedule,
                      title=title, critical_points=critical_points, domain=domain, seed=seed,
                      fn_spec=fn.strip() if isinstance(fn, str) else None)
    return ExplorePage(text, str(objective.name))
