"""The explorable page of a :class:`~optviz.api.RunResult`: the same function,
optimizers (with their settings and labels), starts and run settings, every path
recomputed live on the page (docs/math.md §11).

The run's settings (steps, tol, seed, gradient noise) are read from the result's
``settings``; what :func:`optviz.run` chose for each optimizer (its learning rate,
hyperparameters and schedule) from each trajectory.
"""

from __future__ import annotations

from typing import Any

from optviz.errors import OptvizError
from optviz.explorer import ExplorePage
from optviz.settings import DEFAULT_BATCH, DEFAULT_NOISE


def oracle_settings(objective, name: str, noise, batch_size) -> dict[str, Any]:
    """noise / batch_size of sgd and minibatch, chosen as the run's oracles choose them."""
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


def run_page(result, *, steps: int | None = None, title: str | None = None, labels=None, critical_points=None,
             domain=None, fn_spec: str | None = None) -> ExplorePage:
    """The page of ``result`` (see the module doc). ``steps``: the most steps a run on the page takes (the
    run's by default); ``labels`` rename the optimizers; the rest as
    :func:`optviz.explorer.page.build_page`."""
    from optviz.explorer.page import build_page

    objective, runs = result.objective, result.runs
    settings = dict(getattr(result, "settings", None) or {})
    if labels is not None and len(labels) != len(runs):
        raise OptvizError(f"{len(labels)} label(s) for {len(runs)} optimizer(s); give one label each",
                          param="labels")
    schedules = {t.schedule for t in runs}
    if len(schedules) > 1:
        raise OptvizError("the page runs every optimizer with one schedule; these runs have "
                          f"{', '.join(sorted(map(str, schedules)))}", param="schedule")
    optimizers = []
    for i, traj in enumerate(runs):
        hyper = dict(traj.hyperparameters)
        chosen_lr = hyper.pop("lr")
        hyper.update(oracle_settings(objective, traj.optimizer, settings.get("noise"), settings.get("batch_size")))
        own = traj.label if traj.label != traj.optimizer else None  # a variant's label, else the display name
        optimizers.append((labels[i] if labels is not None else own, traj.optimizer, chosen_lr, hyper))
    if critical_points is None and objective.dim <= 2:
        critical_points = [p.to_json() for p in objective.critical_points()]
    budget = steps if steps is not None else settings.get("steps", runs[0].theta.shape[0] - 1)
    text = build_page(objective, optimizers, starts=runs[0].starts, steps=budget,
                      tol=settings.get("tol", 1e-6), schedule=schedules.pop(), title=title,
                      critical_points=critical_points, domain=domain, seed=settings.get("seed", 0),
                      fn_spec=fn_spec)
    return ExplorePage(text, str(objective.name))
