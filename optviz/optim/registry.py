"""Optimizers by name, their keyword names, and parsing of ``-p NAME=VALUE``."""

from __future__ import annotations

import difflib
import inspect

from optviz.errors import OptvizError
from optviz.optim.base import Optimizer
from optviz.optim.first_order import (
    GD,
    SGD,
    AdaGrad,
    Adam,
    MinibatchSGD,
    Momentum,
    Nesterov,
    RMSprop,
)
from optviz.optim.newton import Newton

OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (GD, SGD, MinibatchSGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam, Newton)
}
FIRST_ORDER = [name for name, cls in OPTIMIZERS.items() if not cls.needs_hessian]
STOCHASTIC = tuple(name for name, cls in OPTIMIZERS.items() if cls.oracle != "exact")


def optimizer_class(name: str) -> type[Optimizer]:
    key = name.strip().lower()
    if key not in OPTIMIZERS:
        close = difflib.get_close_matches(key, list(OPTIMIZERS), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise OptvizError(f"unknown optimizer {name!r}{hint}; choose from {', '.join(OPTIMIZERS)}", param="opt")
    return OPTIMIZERS[key]


def defaults(name: str) -> dict[str, object]:
    """Keyword defaults of an optimizer (without lr and schedule)."""
    sig = inspect.signature(optimizer_class(name).__init__)
    return {
        k: p.default for k, p in sig.parameters.items()
        if k not in ("self", "lr", "schedule") and p.default is not inspect.Parameter.empty
    }


def parameter_names(name: str) -> list[str]:
    return ["lr", *defaults(name)]


def _convert(opt: str, key: str, value, default):
    if not isinstance(value, str):
        return value
    text = value.strip()
    if isinstance(default, bool):
        if text.lower() in ("true", "1", "yes", "on"):
            return True
        if text.lower() in ("false", "0", "no", "off"):
            return False
        raise OptvizError(f"{opt}: {key} must be true or false, got {value!r}")
    if isinstance(default, str):
        return text
    try:
        return float(text)
    except ValueError:
        raise OptvizError(f"{opt}: {key} must be a number, got {value!r}") from None


def make_optimizer(name: str, lr=None, schedule=None, **hyper) -> Optimizer:
    """Build an optimizer by name, e.g. ``make_optimizer("adam", lr=0.01, beta1=0.8)``.

    ``lr`` may be a float, an array (one rate per point), a
    :class:`~optviz.optim.schedules.Schedule` or any callable of the step
    count; ``schedule`` is a Schedule or the CLI syntax (``"exp:0.95"``),
    built on ``lr``. Values may be strings (from ``-p NAME=VALUE``).
    """
    cls = optimizer_class(name)
    known = defaults(cls.name)
    for key in hyper:
        if key not in known:
            valid = ", ".join(["lr", *known]) or "lr"
            raise OptvizError(f"{cls.name} has no parameter {key!r}; its parameters are {valid}")
    kwargs = {k: _convert(cls.name, k, v, known[k]) for k, v in hyper.items()}
    if lr is None:
        lr = known.get("lr", 1.0) if cls is Newton else None
        if lr is None:
            raise OptvizError(f"{cls.name}: a learning rate is needed (lr=...)")
    lr = _convert(cls.name, "lr", lr, 0.0)
    if isinstance(schedule, str):
        from optviz.optim.schedules import parse_schedule

        schedule = parse_schedule(schedule, lr)
    return cls(lr, schedule=schedule, **kwargs)
