"""The explorable page: drag the start, slide the learning rate, watch every optimizer move.

>>> from optviz.explore import explore
>>> explore("beale", "gd,momentum,adam").save("out")   # out/beale_explore.html

One self-contained HTML file (no network, works from ``file://``) whose
JavaScript recomputes every path with the same update rules as the numpy core
(docs/math.md §11). :func:`explore` takes the options of ``optviz.run`` and
checks them the same way; :func:`optviz.explore.page.build_page` is the
lower-level builder.
"""

from __future__ import annotations

import html as _html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ExplorePage", "explore"]


@dataclass(frozen=True)
class ExplorePage:
    """A built page: ``html`` is the whole file; ``save`` writes it atomically."""

    html: str
    name: str

    @property
    def filename(self) -> str:
        from optviz.plot import slug

        return f"{slug(self.name)}_explore.html"

    def save(self, out: str | Path = ".") -> Path:
        """Write the page into the directory ``out`` (or to ``out`` if it names an .html file)."""
        from optviz.io import check_writable_file, ensure_dir, write_text

        out = Path(out).expanduser()
        if out.suffix.lower() in (".html", ".htm"):
            path = check_writable_file(out)
        else:
            path = ensure_dir(out) / self.filename
        return write_text(path, self.html)

    def __repr__(self) -> str:
        return f"ExplorePage({self.name!r}, {len(self.html.encode()) // 1024} KB)"

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{_html.escape(self.html, quote=True)}" title="optviz explore" '
                'style="width:100%;height:900px;border:0" sandbox="allow-scripts"></iframe>')


def _oracle_settings(objective, name: str, noise, batch_size) -> dict[str, Any]:
    """noise / batch_size of sgd and minibatch, chosen as optviz.api.make_oracle chooses them."""
    from optviz.api import DEFAULT_BATCH, DEFAULT_NOISE
    from optviz.errors import OptvizError

    if name not in ("sgd", "minibatch"):
        return {}
    suggested = objective.suggested.get(name, {})
    out: dict[str, Any] = {}
    if objective.finite_sum is None:
        out["noise"] = float(noise if noise is not None else suggested.get("noise", DEFAULT_NOISE))
    elif noise is not None:
        raise OptvizError(f"the page draws samples of {objective.name}'s data for {name}; "
                          "--noise is for functions without samples")
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
    ``domain`` go to :func:`optviz.explore.page.build_page`.
    """
    from optviz import api
    from optviz.errors import OptvizError
    from optviz.explore.page import build_page

    objective = api.resolve_function(fn)
    if steps is not None and (isinstance(steps, bool) or int(steps) < 1):
        raise OptvizError(f"--steps must be ≥ 1, got {steps}")
    # One step of optviz.run checks every shared option with run's own messages and
    # settles each optimizer's settings exactly as `optviz run` would.
    checked = api.run(objective, opt, lr=lr, start=start, steps=1, tol=tol, schedule=schedule,
                      noise=noise, batch_size=batch_size, seed=seed, params=params)
    if labels is not None and len(labels) != len(checked.runs):
        raise OptvizError(f"{len(labels)} label(s) for {len(checked.runs)} optimizer(s); give one label each")
    optimizers = []
    for i, traj in enumerate(checked.runs):
        hyper = dict(traj.hyperparameters)
        chosen_lr = hyper.pop("lr")
        hyper.update(_oracle_settings(objective, traj.optimizer, noise, batch_size))
        optimizers.append((labels[i] if labels is not None else None, traj.optimizer, chosen_lr, hyper))
    text = build_page(objective, optimizers, starts=checked.runs[0].starts,
                      steps=objective.steps if steps is None else int(steps), tol=tol, schedule=schedule,
                      title=title, critical_points=critical_points, domain=domain, seed=seed,
                      fn_spec=fn.strip() if isinstance(fn, str) else None)
    return ExplorePage(text, str(objective.name))
