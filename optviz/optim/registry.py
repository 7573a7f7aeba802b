"""Optimizers by name, their keyword names, and parsing of ``-p NAME=VALUE``.

A name is a built-in rule (``adam``), a foreign optimizer (``torch:torch.optim.AdamW``,
``optax:lion``, see :mod:`optviz.optim.loader`) or a plugin's; the Python API also takes
optimizer objects (see :mod:`optviz.optim.objects`) wherever it takes names.
"""

from __future__ import annotations

import difflib
from typing import Any

from optviz.errors import OptvizError
from optviz.optim.base import Optimizer
from optviz.optim.builtin import BUILTIN
from optviz.optim.loader import adapter_class, is_foreign, plugin_class, plugin_names
from optviz.optim.objects import as_optimizer
from optviz.optim.spec import literal

OPTIMIZERS: dict[str, type[Optimizer]] = BUILTIN
# what `compare` runs by default: every first-order rule that works on a function
FIRST_ORDER = [name for name, cls in OPTIMIZERS.items() if not cls.needs_hessian and not cls.network_only]
STOCHASTIC = tuple(name for name, cls in OPTIMIZERS.items() if cls.oracle != "exact")


def optimizer_class(name: Any) -> type[Optimizer]:
    """The class of a name (``"adam"``, ``"torch:torch.optim.AdamW(betas=(0.9, 0.99))"``, a
    plugin's), or of an optimizer object."""
    if not isinstance(name, str):
        return type(as_optimizer(name))
    if is_foreign(name):
        return adapter_class(name)
    key = name.strip().lower()
    if key in OPTIMIZERS:
        return OPTIMIZERS[key]
    found = plugin_class(key)
    if found is not None:
        return found
    known = [*OPTIMIZERS, *plugin_names()]
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise OptvizError(f"unknown optimizer {name!r}{hint}; choose from {', '.join(known)}, "
                      "torch:IMPORT.PATH or optax:NAME", param="opt")


def defaults(name: Any) -> dict[str, object]:
    """Keyword defaults of an optimizer (without lr and schedule); none for an object,
    which carries its own settings."""
    if not isinstance(name, str):
        return {}
    return optimizer_class(name).keyword_defaults()


def parameter_names(name: Any) -> list[str]:
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
    if default is None or isinstance(default, (tuple, list, dict)):
        return literal(text, bare=True, key=f"{opt}: {key}")
    try:
        return float(text)
    except ValueError:
        raise OptvizError(f"{opt}: {key} must be a number, got {value!r}") from None


def make_optimizer(name: Any, lr=None, schedule=None, **hyper) -> Optimizer:
    """Build an optimizer by name, e.g. ``make_optimizer("adam", lr=0.01, beta1=0.8)``.

    ``lr`` may be a float, an array (one rate per point), a
    :class:`~optviz.optim.schedules.Schedule` or any callable of the step
    count; ``schedule`` is a Schedule or the CLI syntax (``"exp:0.95"``),
    built on ``lr``. Values may be strings (from ``-p NAME=VALUE``). An optimizer
    object is returned as it is (settings for it are refused: it carries its own).
    """
    if not isinstance(name, str):
        opt = as_optimizer(name)
        if lr is not None or schedule is not None or hyper:
            given = ", ".join(k for k, v in (("lr", lr), ("schedule", schedule)) if v is not None) or \
                ", ".join(hyper)
            raise OptvizError(f"{opt.name} is an optimizer object with its own settings; {given} cannot be "
                              "set for it (build it with the settings you want)")
        return opt
    cls = optimizer_class(name)
    known = cls.keyword_defaults()
    for key in hyper:
        if key not in known and not getattr(cls, "open_ended", False):
            valid = ", ".join(["lr", *known]) or "lr"
            raise OptvizError(f"{cls.name} has no parameter {key!r}; its parameters are {valid}")
    kwargs = {k: _convert(cls.name, k, v, known.get(k)) for k, v in hyper.items()}
    if lr is None:
        lr = cls.default_lr()
        if lr is None:
            raise OptvizError(f"{cls.name}: a learning rate is needed (lr=...)")
    lr = _convert(cls.name, "lr", lr, 0.0)
    if isinstance(schedule, str):
        from optviz.optim.schedules import parse_schedule

        schedule = parse_schedule(schedule, lr)
    return cls(lr, schedule=schedule, **kwargs)
