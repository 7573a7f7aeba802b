"""What the torch and optax adapters share (docs/math.md §4.10).

An adapter is not a second copy of any rule: it hands the foreign optimizer the gradient
and reads back the parameters. Its settings are the foreign optimizer's own keyword
arguments (literals only, see :mod:`optviz.optim.spec`); the learning rate is optviz's,
so schedules and per-point rates (sweeps) work as for every optimizer. Without an explicit
rate the adapter takes the function's suggested rate for the nearest built-in rule, else
1e-3. Importing a class by its path runs that package's own code: the user's choice.
"""

from __future__ import annotations

import collections
import importlib
import inspect
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from optviz.errors import OptvizError
from optviz.optim.base import Optimizer
from optviz.optim.builtin import BUILTIN

EXTRAS = {"torch": 'pip install "optviz[torch]"', "optax": 'pip install "optviz[optax]"'}
FALLBACK_LR = 1e-3
# foreign names whose nearest optviz rule is not simply their lower-cased name
NEAREST = {"sgd": "gd", "asgd": "gd"}


def import_extra(module: str):
    """``import torch`` / ``import optax``, or an error naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise OptvizError(f"{module}: optimizers need {module}, which is not installed: "
                          f"{EXTRAS[module]}") from None


def import_path(path: str) -> Any:
    """The object at a dotted import path ``package.module.Name``: the longest importable
    module, then attributes."""
    parts = path.split(".")
    if len(parts) < 2 or not all(p.isidentifier() for p in parts):
        raise OptvizError(f"torch:{path}: write the class's import path, e.g. torch:torch.optim.AdamW")
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            obj = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # a shorter prefix may be the module
            raise OptvizError(f"torch:{path}: importing {module_name} failed: {exc}") from None
        except Exception as exc:  # the user's package failed while importing
            raise OptvizError(f"torch:{path}: importing {module_name} failed: "
                              f"{type(exc).__name__}: {exc}") from None
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                raise OptvizError(f"torch:{path}: {module_name} has no {attr!r}")
            obj = getattr(obj, attr)
        return obj
    raise OptvizError(f"torch:{path}: no module named {parts[0]!r}")


def nearest_rule(name: str, kwargs: Mapping[str, Any]) -> str | None:
    """The built-in rule closest to a foreign optimizer (for its default learning rate)."""
    key = name.rsplit(".", 1)[-1].lower()
    if key == "sgd" and kwargs.get("momentum"):
        key = "nesterov" if kwargs.get("nesterov") else "momentum"
    if key == "adam" and kwargs.get("amsgrad"):
        key = "amsgrad"
    key = NEAREST.get(key, key)
    return key if key in BUILTIN and not BUILTIN[key].needs_hessian else None


def keyword_parameters(fn, skip: tuple[str, ...]) -> tuple[dict[str, Any], bool]:
    """Keyword parameters of ``fn`` with their defaults (None where it has none; ``skip``
    left out), and whether it also takes ``**kwargs``."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}, True
    out = {k: (None if p.default is inspect.Parameter.empty else p.default) for k, p in params.items()
           if k not in skip and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return out, any(p.kind is p.VAR_KEYWORD for p in params.values())


def state_session(name: str, state: Any) -> Any:
    """The adapter's session kept in ``state`` (what init or the previous step returned)."""
    session = getattr(state, "session", None)
    if session is None:
        raise OptvizError(f"{name}: step needs the state that init (or the previous step) returned")
    return session


def slot_state(slots: list[str]) -> type:
    """A State NamedTuple type (count, *slots) whose instances can also carry the live
    foreign optimizer (attribute ``session``), which the recorder never sees."""
    base = collections.namedtuple("State", ["count", *slots])
    return type("State", (base,), {"__doc__": "count, then the foreign optimizer's readable state"})


class ForeignOptimizer(Optimizer):
    """Base of the classes :func:`optviz.optim.loader.adapter_class` makes, one per spec.

    The foreign optimizer lives in the state (``state.session``): ``step`` must be given
    the state the previous step returned, and ``init`` starts a fresh foreign optimizer.
    The state's fields are what the adapter can read of the foreign state (torch's
    ``optimizer.state``, optax's arrays), for ``--show-state``.
    """

    elementwise = False
    kind: ClassVar[str] = ""
    target: ClassVar[Any] = None  # the torch class or the optax alias
    spec_kwargs: ClassVar[dict[str, Any]] = {}
    known: ClassVar[dict[str, Any]] = {}  # the foreign keyword parameters and their defaults
    open_ended: ClassVar[bool] = False
    nearest: ClassVar[str | None] = None
    foreign_lr: ClassVar[float | None] = None

    def __init__(self, lr=None, schedule=None, **kwargs):
        if lr is None and schedule is None:
            lr = self.default_lr()
        super().__init__(lr, schedule)
        for key, value in kwargs.items():
            if key not in self.known and not self.open_ended:
                raise OptvizError(f"{self.name} has no parameter {key!r}; its parameters are "
                                  f"{', '.join(['lr', *self.known])}")
            if isinstance(value, np.ndarray) and value.ndim:
                raise OptvizError(f"{self.name}: only lr can differ between points; {key} must be one value")
        self.kwargs = {k: v for k, v in {**self.spec_kwargs, **kwargs}.items() if k != "lr"}

    @classmethod
    def keyword_defaults(cls) -> dict[str, Any]:
        return {**cls.known, **{k: v for k, v in cls.spec_kwargs.items() if k != "lr"}}

    @classmethod
    def default_lr(cls) -> float:
        """The rate written in the spec, else the foreign optimizer's default, else 1e-3."""
        return cls.spec_kwargs.get("lr", cls.foreign_lr or FALLBACK_LR)

    @classmethod
    def suggested_settings(cls, suggested: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        if "lr" in cls.spec_kwargs:
            return {"lr": cls.spec_kwargs["lr"]}
        lr = suggested.get(cls.nearest, {}).get("lr") if cls.nearest else None
        return {"lr": lr if lr is not None else FALLBACK_LR}

    def extra_hyperparameters(self) -> dict[str, Any]:
        return dict(self.kwargs)

    def observe(self, state, lr) -> dict[str, np.ndarray]:
        return {name: getattr(state, name) for name in state._fields[1:]}


def foreign_class(base: type[ForeignOptimizer], spec_name: str, target: Any, kwargs: dict[str, Any],
                  known: dict[str, Any], open_ended: bool, **facts: Any) -> type[ForeignOptimizer]:
    """A subclass of ``base`` for one spec: its name is the canonical spec text."""
    kwargs = dict(kwargs)
    if "learning_rate" in kwargs:
        kwargs["lr"] = kwargs.pop("learning_rate")
    for key in kwargs:
        if key != "lr" and key not in known and not open_ended:
            raise OptvizError(f"{spec_name} has no parameter {key!r}; its parameters are "
                              f"{', '.join(['lr', *known]) or 'lr'}")
    nearest = nearest_rule(spec_name.partition(":")[2].partition("(")[0], kwargs)
    lr = kwargs.get("lr")
    if lr is not None and not (isinstance(lr, (int, float)) and np.isfinite(lr) and lr > 0):
        raise OptvizError(f"{spec_name}: lr must be a number > 0, got {lr!r}", param="lr")
    default_train_lr = lr if lr is not None else BUILTIN[nearest].default_train_lr if nearest else FALLBACK_LR
    attrs = {"name": spec_name, "target": staticmethod(target), "spec_kwargs": kwargs, "known": known,
             "open_ended": open_ended, "nearest": nearest, "default_train_lr": default_train_lr,
             "lr_family": BUILTIN[nearest].lr_family if nearest else "adaptive", **facts}
    return type(base.__name__, (base,), attrs)
