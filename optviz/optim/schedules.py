"""Learning-rate schedules (docs/math.md §5): functions of the number of completed steps k.

Step t (t = 1, 2, ...) uses η = schedule(k) with k = t − 1, so the first step
uses the base rate η₀. Every schedule is a plain callable ``k -> η`` (``η₀``
may be a float or an array of rates, e.g. one per cell of a sweep) with a
``describe()`` for legends.

CLI syntax (``--schedule``), η₀ being ``--lr``:

=========================  ===============================================
``constant``               η₀
``step:K:G``               η₀ · G^⌊k/K⌋
``exp:G``                  η₀ · Gᵏ            (0.95ᵉ η₀ per epoch e, docs/math.md §5)
``inverse:D``              η₀ / (1 + D k)      (α₀ / (1 + d·e) per epoch e)
``poly:B:A``               η₀ · (1 + B k)^(−A)
``cosine:T[:MIN]``         MIN + (η₀ − MIN)(1 + cos(π min(k, T)/T)) / 2
``warmup:W+SCHEDULE``      linear ramp η·(k+1)/W for k < W, then SCHEDULE with
                           its clock started at the end of the warm-up
=========================  ===============================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from optviz.errors import OptvizError

SYNTAX = "constant | step:K:GAMMA | exp:GAMMA | inverse:D | poly:B:A | cosine:T[:MIN] | warmup:W+SCHEDULE"


@dataclass(frozen=True)
class Schedule:
    """Base: a learning rate that depends on the completed step count k."""

    lr0: Any

    def __call__(self, k: int):  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def with_lr(self, lr0) -> Schedule:
        """The same schedule from another base rate (sweeps, tuning)."""
        fields = {f: getattr(self, f) for f in self.__dataclass_fields__}
        fields["lr0"] = lr0
        if isinstance(self, Warmup):
            fields["then"] = self.then.with_lr(lr0)
        return type(self)(**fields)


@dataclass(frozen=True)
class Constant(Schedule):
    def __call__(self, k: int):
        return self.lr0

    def describe(self) -> str:
        return "constant"


@dataclass(frozen=True)
class StepDecay(Schedule):
    every: int = 100
    gamma: float = 0.5

    def __call__(self, k: int):
        return self.lr0 * self.gamma ** (k // self.every)

    def describe(self) -> str:
        return f"step:{self.every}:{self.gamma:g}"


@dataclass(frozen=True)
class Exponential(Schedule):
    gamma: float = 0.95

    def __call__(self, k: int):
        return self.lr0 * self.gamma**k

    def describe(self) -> str:
        return f"exp:{self.gamma:g}"


@dataclass(frozen=True)
class InverseTime(Schedule):
    decay: float = 0.01

    def __call__(self, k: int):
        return self.lr0 / (1.0 + self.decay * k)

    def describe(self) -> str:
        return f"inverse:{self.decay:g}"


@dataclass(frozen=True)
class Polynomial(Schedule):
    beta: float = 0.01
    alpha: float = 0.5

    def __call__(self, k: int):
        return self.lr0 * (1.0 + self.beta * k) ** (-self.alpha)

    def describe(self) -> str:
        return f"poly:{self.beta:g}:{self.alpha:g}"


@dataclass(frozen=True)
class Cosine(Schedule):
    total: int = 500
    lr_min: float = 0.0

    def __call__(self, k: int):
        frac = min(k, self.total) / self.total
        return self.lr_min + (self.lr0 - self.lr_min) * 0.5 * (1.0 + math.cos(math.pi * frac))

    def describe(self) -> str:
        return f"cosine:{self.total}" + (f":{self.lr_min:g}" if self.lr_min else "")


@dataclass(frozen=True)
class Warmup(Schedule):
    steps: int = 10
    then: Schedule | None = None

    def __call__(self, k: int):
        after = self.then if self.then is not None else Constant(self.lr0)
        if k < self.steps:
            return after(0) * (k + 1) / self.steps
        return after(k - self.steps)

    def describe(self) -> str:
        inner = self.then.describe() if self.then is not None else "constant"
        return f"warmup:{self.steps}+{inner}"


def constant(lr0) -> Schedule:
    return Constant(lr0)


def step_decay(lr0, every: int, gamma: float) -> Schedule:
    return StepDecay(lr0, every, gamma)


def exponential(lr0, gamma: float) -> Schedule:
    return Exponential(lr0, gamma)


def inverse_time(lr0, decay: float) -> Schedule:
    return InverseTime(lr0, decay)


def polynomial(lr0, beta: float, alpha: float) -> Schedule:
    return Polynomial(lr0, beta, alpha)


def cosine(lr0, total: int, lr_min: float = 0.0) -> Schedule:
    return Cosine(lr0, total, lr_min)


def warmup(lr0, steps: int, then: Schedule | None = None) -> Schedule:
    return Warmup(lr0, steps, then)


def _num(spec: str, text: str, kind: type = float, *, low=None, high=None, name="value"):
    try:
        value = kind(text)
    except ValueError:
        raise OptvizError(f"schedule {spec!r}: {name} {text!r} is not a {'whole ' if kind is int else ''}number; syntax: {SYNTAX}") from None
    if not (isinstance(value, int) or math.isfinite(value)):
        raise OptvizError(f"schedule {spec!r}: {name} must be finite")
    if low is not None and value <= low:
        raise OptvizError(f"schedule {spec!r}: {name} must be > {low}, got {text}")
    if high is not None and value > high:
        raise OptvizError(f"schedule {spec!r}: {name} must be ≤ {high}, got {text}")
    return value


def parse_schedule(spec: str | None, lr0) -> Schedule:
    """Parse the CLI syntax (see the module docstring) with base rate ``lr0``."""
    if spec is None or spec.strip() in ("", "constant", "none"):
        return Constant(lr0)
    spec = spec.strip()
    if spec.startswith("warmup:"):
        head, _, rest = spec.partition("+")
        parts = head.split(":")
        if len(parts) != 2:
            raise OptvizError(f"schedule {spec!r}: write warmup:W or warmup:W+SCHEDULE; syntax: {SYNTAX}")
        steps = _num(spec, parts[1], int, low=0, name="warm-up steps")
        if rest.startswith("warmup"):
            raise OptvizError(f"schedule {spec!r}: only one warm-up is allowed")
        return Warmup(lr0, steps, parse_schedule(rest, lr0) if rest else None)
    name, *args = spec.split(":")
    arity = {"step": (2, 2), "exp": (1, 1), "inverse": (1, 1), "poly": (2, 2), "cosine": (1, 2)}
    if name not in arity:
        raise OptvizError(f"unknown schedule {name!r}; syntax: {SYNTAX}")
    lo, hi = arity[name]
    if not lo <= len(args) <= hi:
        raise OptvizError(f"schedule {spec!r}: {name} takes {lo}{'-' + str(hi) if hi != lo else ''} value(s); syntax: {SYNTAX}")
    if name == "step":
        return StepDecay(lr0, _num(spec, args[0], int, low=0, name="K"), _num(spec, args[1], low=0, high=1, name="gamma"))
    if name == "exp":
        return Exponential(lr0, _num(spec, args[0], low=0, high=1, name="gamma"))
    if name == "inverse":
        return InverseTime(lr0, _num(spec, args[0], low=-1e-300, name="D"))
    if name == "poly":
        return Polynomial(lr0, _num(spec, args[0], low=-1e-300, name="B"), _num(spec, args[1], low=-1e-300, name="A"))
    lr_min = _num(spec, args[1], low=-1e-300, name="MIN") if len(args) > 1 else 0.0
    if np.any(np.asarray(lr0) < lr_min):
        raise OptvizError(f"schedule {spec!r}: MIN {lr_min:g} is above the base learning rate")
    return Cosine(lr0, _num(spec, args[0], int, low=0, name="T"), lr_min)
