"""Optimizers and learning-rate schedules (numpy only).

``make_optimizer(name, lr=..., **hyper)`` builds one; every optimizer offers
``init(params) -> state`` and ``step(params, grad, state, *, hessian=None) ->
(params, state)`` for an array, a batch of points or a dict of arrays.
"""

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
from optviz.optim.registry import (
    FIRST_ORDER,
    OPTIMIZERS,
    STOCHASTIC,
    defaults,
    make_optimizer,
    optimizer_class,
    parameter_names,
)
from optviz.optim.schedules import (
    Schedule,
    constant,
    cosine,
    exponential,
    inverse_time,
    parse_schedule,
    polynomial,
    step_decay,
    warmup,
)

__all__ = [
    "FIRST_ORDER", "GD", "OPTIMIZERS", "SGD", "STOCHASTIC", "AdaGrad", "Adam", "MinibatchSGD",
    "Momentum", "Nesterov", "Newton", "Optimizer", "RMSprop", "Schedule", "constant", "cosine",
    "defaults", "exponential", "inverse_time", "make_optimizer", "optimizer_class",
    "parameter_names", "parse_schedule", "polynomial", "step_decay", "warmup",
]
