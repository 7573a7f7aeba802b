"""Any object with ``init``/``step`` as an optviz optimizer.

The Python API accepts optimizer objects besides names: an
:class:`~optviz.optim.base.Optimizer` is used as it is; any other object with
``init(params) -> state`` and ``step(params, grad, state) -> (params, state)`` is wrapped
by :class:`External`, so the run loop and training cannot tell the difference. An object
carries its own settings: optviz never changes its rate or hyperparameters.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from optviz.errors import OptvizError
from optviz.optim.base import Optimizer
from optviz.optim.foreign import slot_state


def is_optimizer_object(obj: Any) -> bool:
    return isinstance(obj, Optimizer) or (callable(getattr(obj, "init", None))
                                          and callable(getattr(obj, "step", None)))


def as_optimizer(obj: Any) -> Optimizer:
    """``obj`` if it is an optviz Optimizer, else the :class:`External` wrapper of it."""
    if isinstance(obj, Optimizer):
        return obj
    if not is_optimizer_object(obj):
        raise OptvizError(f"{obj!r} is not an optimizer: give a name (adam, torch:..., optax:...) or an "
                          "object with init(params) and step(params, grad, state)")
    return External(obj)


class External(Optimizer):
    """An object with ``init(params) -> state`` and ``step(params, grad, state) -> (params, state)``.

    Its ``name`` is the object's ``name`` attribute (else its class name); its rate, for
    tables, the object's ``learning_rate(count)`` or ``lr`` (else NaN); it receives
    ``hessian=`` if its ``step`` takes that keyword. Its state is kept whole and passed
    back; nothing of it is recorded.
    """

    elementwise = False
    summary = "an optimizer object given through the Python API"

    def __init__(self, obj: Any) -> None:
        self.obj = obj
        self.name = str(getattr(obj, "name", "") or type(obj).__name__.lower())
        lr = getattr(obj, "lr", None)
        self.lr = lr if isinstance(lr, (int, float, np.floating)) else None
        self.schedule = None
        self.needs_hessian = bool(getattr(obj, "needs_hessian", False))
        try:
            params = inspect.signature(obj.step).parameters
        except (TypeError, ValueError):
            params = {}
        self._hessian_kw = "hessian" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
        self.State = slot_state([])

    @property
    def hyperparameters(self) -> dict[str, Any]:
        own = getattr(self.obj, "hyperparameters", None)
        return dict(own) if isinstance(own, dict) else {"lr": self.lr}

    def learning_rate(self, count: int):
        own = getattr(self.obj, "learning_rate", None)
        if callable(own):
            return own(count)
        return self.lr if self.lr is not None else float("nan")

    def describe_schedule(self) -> str:
        return "its own"

    def init(self, params):
        state = self.State(0)
        state.inner = self.obj.init(params)
        return state

    def step(self, params, grad, state, *, hessian=None, lr=None):
        extra = {"hessian": hessian} if self._hessian_kw else {}
        new_params, inner = self.obj.step(params, grad, state.inner, **extra)
        out = self.State(state.count + 1)
        out.inner = inner
        return new_params, out


def with_objects(build, names: list, params, lr, schedule) -> list:
    """``build(names, params, lr, schedule)`` for the optimizers given by name, with the
    optimizer objects kept in their place (they carry their own settings: a common ``lr`` or
    ``schedule`` is refused for them)."""
    objects = [as_optimizer(n) for n in names if not isinstance(n, str)]
    if objects and (lr is not None or schedule is not None):
        raise OptvizError(f"{objects[0].name} is an optimizer object with its own settings: lr and schedule "
                          "apply to optimizers given by name", param="lr" if lr is not None else "schedule")
    built = iter(build([n for n in names if isinstance(n, str)], params, lr, schedule) if len(objects) < len(names)
                 else [])
    return [next(built) if isinstance(n, str) else as_optimizer(n) for n in names]
