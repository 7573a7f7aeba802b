"""The optimizers optviz implements itself, by name (docs/math.md §3, §4)."""

from __future__ import annotations

from optviz.optim.adam_variants import Adamax, AdamW, NAdam, RAdam, Yogi
from optviz.optim.adaptive import Adadelta, Lion
from optviz.optim.base import Optimizer
from optviz.optim.first_order import (
    GD,
    SGD,
    AdaGrad,
    Adam,
    AMSGrad,
    MinibatchSGD,
    Momentum,
    Nesterov,
    RMSprop,
)
from optviz.optim.muon import Muon
from optviz.optim.newton import Newton

BUILTIN: dict[str, type[Optimizer]] = {
    cls.name: cls
    for cls in (GD, SGD, MinibatchSGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam,
                Adadelta, Yogi, AdamW, AMSGrad, NAdam, RAdam, Adamax, Lion, Muon, Newton)
}
