"""The optimizer protocol shared by 2-D runs and networks.

An optimizer is a pair ``init(params) -> state`` and
``step(params, grad, state, *, hessian=None) -> (params, state)``. ``params``
is one array of any shape (a single point, a batch of K points (K, d)) or a
dict of arrays (a network's weights); the same update rule serves all three.
The state is a NamedTuple holding the step ``count`` and the per-parameter
slots (Adam's m and v, AdaGrad's s, ...), so a run loop can record it.

Hyperparameters may be arrays that broadcast against the parameters (a
column (K, 1) gives each of K points its own value): that is how a sweep runs
all its cells as one batch.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NamedTuple

import numpy as np

from optviz.errors import OptvizError
from optviz.optim.schedules import Constant, Schedule

Params = Any  # np.ndarray | dict[str, np.ndarray]


def _check(name: str, value, ok: Callable[[np.ndarray], np.ndarray], expected: str, opt: str) -> None:
    arr = np.asarray(value, dtype=float)
    if arr.size == 0 or not np.all(np.isfinite(arr)) or not np.all(ok(arr)):
        shown = value if np.ndim(value) == 0 else f"{np.min(arr):g}..{np.max(arr):g}"
        raise OptvizError(f"{opt}: {{{name}}} must be {expected}, got {shown}", param=name)


def positive(name: str, value, opt: str) -> None:
    _check(name, value, lambda a: a > 0, "> 0", opt)


def non_negative(name: str, value, opt: str) -> None:
    _check(name, value, lambda a: a >= 0, "≥ 0", opt)


def unit_interval(name: str, value, opt: str) -> None:
    _check(name, value, lambda a: (a >= 0) & (a < 1), "in [0, 1)", opt)


def closed_unit_interval(name: str, value, opt: str) -> None:
    _check(name, value, lambda a: (a >= 0) & (a <= 1), "in [0, 1]", opt)


class Optimizer:
    """Base class. Subclasses define ``State`` (the step ``count``, then one field per
    slot: their names are the slots) and ``rule``.

    ``rule(g, slots, lr, t, hessian, theta)`` works on plain arrays and returns
    ``(delta, new_slots)``; the parameters move by ``θ ← θ − delta`` (``theta`` is θ
    before the step, for rules that read it).

    Class facts the rest of optviz reads instead of optimizer names: ``elementwise``
    (the rule treats every number alone, so parameters may be packed into flat
    groups), ``needs_hessian``, ``oracle`` (which gradient it sees: "exact", "sample"
    for one sample's gradient, "minibatch"), ``lr_family`` (how a learning rate is
    estimated for a function without suggestions), ``default_train_lr`` (the rate that
    trains the default network well: for the rules of docs/math.md §4 the 1, 2, 3 or 5 times a
    power of ten nearest the best median final validation loss over 15 epochs and 2 seeds on
    a log grid of rates; AdamW and AMSGrad, whose curves match Adam's, keep Adam's), ``events`` (boolean state fields counted per
    point over a run and described by :meth:`describe_events`) and ``network_only``
    (the rule needs a network's weight matrices and is refused on a surface).
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    update_rule: ClassVar[str] = ""
    slots: ClassVar[tuple[str, ...]] = ()
    needs_hessian: ClassVar[bool] = False
    elementwise: ClassVar[bool] = True
    oracle: ClassVar[str] = "exact"
    lr_family: ClassVar[str] = "gradient"
    default_train_lr: ClassVar[float] = 0.01
    events: ClassVar[tuple[str, ...]] = ()
    network_only: ClassVar[bool] = False
    network_reason: ClassVar[str] = ""

    class State(NamedTuple):
        count: int

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.slots = tuple(cls.State._fields[1:])

    def __init__(self, lr, schedule: Schedule | Callable | None = None):
        if isinstance(lr, Schedule):
            schedule, lr = lr, lr.lr0
        if callable(lr):
            schedule, lr = lr, getattr(lr, "lr0", None)
        if lr is not None:
            positive("lr", lr, self.name)
        self.lr = lr
        self.schedule = schedule if schedule is not None else Constant(lr)

    @classmethod
    def keyword_defaults(cls) -> dict[str, Any]:
        """The keyword settings with their defaults (without ``lr`` and ``schedule``)."""
        sig = inspect.signature(cls.__init__)
        return {
            k: p.default for k, p in sig.parameters.items()
            if k not in ("self", "lr", "schedule") and p.default is not inspect.Parameter.empty
        }

    @classmethod
    def default_lr(cls) -> float | None:
        """The rate used when none is given (None: a rate must be given)."""
        return None

    @classmethod
    def suggested_settings(cls, suggested: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        """This optimizer's entry of a function's ``[suggested]`` table (empty if none)."""
        return dict(suggested.get(cls.name, {}))

    # -- the learning rate is decided here, once -------------------------------------
    def learning_rate(self, count: int):
        """η for the step after ``count`` completed steps."""
        return self.schedule(count)

    @property
    def hyperparameters(self) -> dict[str, Any]:
        """The settings that define the update (for legends, tables and JSON)."""
        out = {"lr": self.lr}
        out.update(self.extra_hyperparameters())
        return out

    def extra_hyperparameters(self) -> dict[str, Any]:
        return {}

    def describe_schedule(self) -> str:
        return self.schedule.describe() if isinstance(self.schedule, Schedule) else "custom"

    # -- protocol -------------------------------------------------------------------
    def init(self, params: Params):
        """The starting state: count 0 and every slot zero, shaped like the parameters."""
        if isinstance(params, dict):
            return self.State(0, *[{k: np.zeros_like(v) for k, v in params.items()} for _ in self.slots])
        arr = np.asarray(params, dtype=float)
        return self.State(0, *[np.zeros_like(arr) for _ in self.slots])

    def rule(self, g, slots, lr, t, hessian=None, theta=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def describe_events(self, counts: dict[str, int]) -> str:
        """A note on the counted ``events`` of one point ("" when nothing happened)."""
        return ""

    def step(self, params: Params, grad: Params, state, *, hessian=None, lr=None):
        """One update: returns the new parameters and the new state.

        ``lr`` overrides the scheduled rate of this step (a run loop that has
        already asked :meth:`learning_rate` passes it to avoid asking twice).
        """
        t = state.count + 1
        if lr is None:
            lr = self.learning_rate(state.count)
        slot_values = state[1:]
        if isinstance(params, dict):
            if self.needs_hessian:
                raise OptvizError(f"{self.name} needs a Hessian, which a network does not provide; "
                                  "choose a first-order optimizer")
            new_params = {}
            new_slots = [{} for _ in self.slots]
            for key, p in params.items():
                delta, slots = self.rule(grad[key], [s[key] for s in slot_values], lr, t, None, p)
                new_params[key] = (p - delta).astype(p.dtype, copy=False)
                for store, value in zip(new_slots, slots):
                    store[key] = value
            return new_params, self.State(t, *new_slots)
        delta, slots = self.rule(grad, slot_values, lr, t, hessian, params)
        return params - delta, self.State(t, *slots)

    def observe(self, state, lr) -> dict[str, np.ndarray]:
        """Quantities worth plotting after a step (for arrays only).

        Works element-wise, so it also takes a whole recording at once: a state
        whose count is an array (T+1, 1, 1) and slots (T+1, K, d), with lr (T+1, K, 1).
        """
        return {}

    def __repr__(self) -> str:
        hp = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.hyperparameters.items())
        return f"{self.name}({hp})"
