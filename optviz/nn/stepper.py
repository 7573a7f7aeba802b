"""One optimizer training one network, a minibatch at a time: the inner loop of training."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from optviz.nn.losses import l1_penalty, l2_penalty
from optviz.nn.model import Model
from optviz.optim.packing import Packer


def layer_of(name: str) -> str:
    """'block2.linear1' for the parameter 'block2.linear1.W'."""
    return name.rsplit(".", 1)[0]


def objective_grads(ctx, params, grads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """∇ of the data loss plus λ₂ Σ w² + λ₁ Σ |w| (weights only)."""
    if not (ctx.weight_decay or ctx.l1):
        return grads
    grads = dict(grads)
    for lam, penalty in ((ctx.weight_decay, l2_penalty), (ctx.l1, l1_penalty)):
        if lam:
            _, extra = penalty(params, ctx.kinds, lam)
            grads.update({k: grads[k] + g for k, g in extra.items()})
    return grads


def add_layer_squares(squares: dict[str, float], grads: dict[str, np.ndarray]) -> None:
    """squares[layer] += ‖∂l/∂(layer's parameters)‖² for one step."""
    step: dict[str, float] = {}
    for name, g in grads.items():
        flat = g.ravel()
        layer = layer_of(name)
        step[layer] = step.get(layer, 0.0) + float(np.dot(flat, flat))
    for layer, sq in step.items():
        squares[layer] += np.sqrt(sq)


class Stepper:
    """One optimizer training one network, a minibatch at a time (the inner loop of ``train``).

    ``step(X_B, y_B)`` does forward (training mode), the loss, backward, adds the
    penalty gradients and takes one optimizer step; it returns (loss, output). A
    non-finite loss returns before the update. ``params`` are the current weights.
    Exposed so that benchmarks time exactly what ``train`` runs.
    """

    def __init__(
        self,
        net: Model,
        opt,
        loss_fn: Callable,
        kinds: dict[str, str],
        weight_decay: float = 0.0,
        l1: float = 0.0,
    ) -> None:
        self.net, self.opt, self.loss_fn = net, opt, loss_fn
        self.kinds, self.weight_decay, self.l1 = kinds, weight_decay, l1
        self.params = net.params
        self.packer = Packer(self.params) if getattr(opt, "elementwise", False) else None
        self._opt_params = self.packer.pack(self.params) if self.packer else self.params
        # an optimizer whose init takes the parameter kinds (muon: which arrays are weight matrices) gets them
        takes_kinds = "kinds" in inspect.signature(opt.init).parameters
        self.state = opt.init(self._opt_params, kinds=kinds) if takes_kinds else opt.init(self._opt_params)
        self.count = 0
        self.last_lr = opt.learning_rate(0)

    def step(self, xb: np.ndarray, yb: np.ndarray, norm_sums: dict[str, float] | None = None):
        net = self.net
        out = net.forward(xb, True)
        loss, dout = self.loss_fn(out, yb)
        if not np.isfinite(loss):
            return loss, out
        grads = net.backward(dout)
        if norm_sums is not None:
            add_layer_squares(norm_sums, grads)
        grads = objective_grads(self, self.params, grads)
        self.last_lr = self.opt.learning_rate(self.state.count)
        packed = self.packer.pack(grads) if self.packer else grads
        self._opt_params, self.state = self.opt.step(
            self._opt_params, packed, self.state, lr=self.last_lr
        )
        self.params = self.packer.unpack(self._opt_params) if self.packer else self._opt_params
        net.params = self.params
        self.count += 1
        return loss, out
