"""Optimizers and learning-rate schedules (numpy only).

``make_optimizer(name, lr=..., **hyper)`` builds one; every optimizer offers
``init(params) -> state`` and ``step(params, grad, state, *, hessian=None) ->
(params, state)`` for an array, a batch of points or a dict of arrays. Names are the
built-in rules, ``torch:IMPORT.PATH`` and ``optax:NAME`` adapters, and plugins'.
"""

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
from optviz.optim.loader import adapter_class, is_foreign, plugin_names
from optviz.optim.muon import Muon
from optviz.optim.newton import Newton
from optviz.optim.objects import as_optimizer, is_optimizer_object
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
from optviz.optim.spec import literal, split_call, split_list

__all__ = [
    "FIRST_ORDER", "GD", "OPTIMIZERS", "SGD", "STOCHASTIC", "AMSGrad", "AdaGrad", "Adadelta", "Adam",
    "AdamW", "Adamax", "Lion", "MinibatchSGD", "Momentum", "Muon", "NAdam", "Nesterov", "Newton",
    "Optimizer", "RAdam", "RMSprop", "Schedule", "Yogi", "adapter_class", "as_optimizer", "constant",
    "cosine", "defaults", "exponential", "inverse_time", "is_foreign", "is_optimizer_object", "literal", "make_optimizer",
    "optimizer_class", "parameter_names", "parse_schedule", "plugin_names", "polynomial", "split_call",
    "split_list", "step_decay", "warmup",
]
