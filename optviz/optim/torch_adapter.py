"""Any ``torch.optim.Optimizer`` subclass as an optviz optimizer (docs/math.md §4.10).

Each parameter array is shared with a torch tensor (``torch.from_numpy``: no copy); a step
sets ``.grad`` to the gradient (shared too), the learning rate of every parameter group to
optviz's scheduled rate, and calls the optimizer's ``step()``. On a surface the new points
are a fresh array (one copy per step: the run loop keeps the previous points); on a
network the weight arrays are updated in place.

The K start points of a surface run stay independent: torch's own element-wise optimizers
(SGD, Adam, AdamW, ...) update the (K, d) array as one tensor; any other optimizer (it may
couple the entries of a tensor, through norms or matrix operations) and any run with one
rate per point gets one tensor, and one parameter group, per point.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from optviz.errors import OptvizError
from optviz.optim.foreign import (
    ForeignOptimizer,
    foreign_class,
    import_extra,
    import_path,
    keyword_parameters,
    slot_state,
    state_session,
)

# torch.optim classes whose update treats every number alone
ELEMENTWISE = ("SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adadelta", "Adagrad", "RMSprop",
               "Rprop", "ASGD")


def torch_adapter(path: str, kwargs: dict[str, Any], spec_name: str) -> type[ForeignOptimizer]:
    """The adapter class of ``torch:path(kwargs)``, after checking the class can run here."""
    torch = import_extra("torch")
    target = import_path(path)
    if not (isinstance(target, type) and issubclass(target, torch.optim.Optimizer)):
        raise OptvizError(f"{spec_name}: {path} is not a subclass of torch.optim.Optimizer")
    if issubclass(target, torch.optim.SparseAdam):
        raise OptvizError(f"{spec_name} needs sparse gradients, and optviz's gradients are dense: "
                          "choose a dense optimizer such as torch.optim.Adam")
    closure = inspect.signature(target.step).parameters.get("closure")
    if closure is not None and closure.default is inspect.Parameter.empty:
        raise OptvizError(f"{spec_name} needs a closure that re-evaluates the loss (a line search), "
                          "which optviz's step-by-step runs do not provide: choose another optimizer")
    known, open_ended = keyword_parameters(target.__init__, ("self", "params", "lr"))
    foreign_lr = inspect.signature(target.__init__).parameters.get("lr")
    default_lr = foreign_lr.default if foreign_lr is not None else None
    elementwise = target.__module__.startswith("torch.optim") and target.__name__ in ELEMENTWISE
    return foreign_class(TorchOptimizer, spec_name, target, kwargs, known, open_ended, kind="torch",
                         foreign_lr=default_lr if isinstance(default_lr, (int, float)) else None,
                         elementwise=elementwise,
                         summary=f"{target.__module__}.{target.__name__}, run by the torch adapter")


class Session:
    """One live torch optimizer: its parameters (views of numpy arrays) and groups."""

    def __init__(self, torch, optimizer, params: list, per_point: bool, dtype, names=()) -> None:
        self.torch, self.optimizer, self.params = torch, optimizer, params
        self.per_point, self.dtype, self.names = per_point, dtype, list(names)
        self.bound: list[np.ndarray | None] = [None] * len(params)
        self.last_lr = None  # the rate the groups hold (a step given the same object skips setting it)


def shared(array: np.ndarray, dtype=None) -> np.ndarray:
    """``array`` itself when torch can share it (C-contiguous, writable, of ``dtype``), else a copy."""
    out = np.ascontiguousarray(array, dtype=dtype)
    return out if out.flags.writeable else out.copy()


class TorchOptimizer(ForeignOptimizer):
    """A torch.optim optimizer run by optviz (see :mod:`optviz.optim.torch_adapter`)."""

    def __init__(self, lr=None, schedule=None, **kwargs):
        super().__init__(lr, schedule, **kwargs)
        torch = import_extra("torch")
        # torch checks its settings when it is built: build it once now, before any work
        self._build([torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))],
                    [float(np.max(self.learning_rate(0)))])

    def _build(self, tensors: list, lrs: list[float]):
        groups = [{"params": [t], "lr": lr} for t, lr in zip(tensors, lrs)] if len(lrs) > 1 else \
            [{"params": tensors, "lr": lrs[0]}]
        try:
            return self.target(groups, lr=lrs[0], **self.kwargs)
        except Exception as exc:
            raise OptvizError(f"{self.name} refused its settings or parameters: {type(exc).__name__}: {exc}") from None

    def _lrs(self, lr, n: int) -> list[float]:
        if np.ndim(lr) == 0:
            return [float(lr)]
        flat = np.broadcast_to(np.asarray(lr, dtype=float).reshape(-1), (n,))
        return [float(x) for x in flat]

    def init(self, params):
        torch = import_extra("torch")
        if isinstance(params, dict):
            arrays = {k: shared(v) for k, v in params.items()}
            tensors = [torch.nn.Parameter(torch.from_numpy(a)) for a in arrays.values()]
            session = Session(torch, self._build(tensors, self._lrs(self.learning_rate(0), 1)), tensors, False,
                              None, arrays)
            slots = self._probe(torch, {k: a.shape for k, a in arrays.items()}, next(iter(arrays.values())).dtype)
            state = slot_state(slots)
            out = state(0, *[{k: np.zeros_like(a) for k, a in arrays.items()} for _ in slots])
        else:
            X = np.array(params, dtype=float)
            lr0 = self.learning_rate(0)
            per_point = X.ndim == 2 and (np.ndim(lr0) > 0 or not self.elementwise)
            rows = list(X) if per_point else [X]
            tensors = [torch.nn.Parameter(torch.from_numpy(np.array(r))) for r in rows]
            n = len(rows)
            session = Session(torch, self._build(tensors, self._lrs(lr0, n) if per_point else [float(lr0)]),
                              tensors, per_point, X.dtype)
            slots = self._probe(torch, {"x": rows[0].shape}, X.dtype)
            state = slot_state(slots)
            out = state(0, *[np.zeros_like(X) for _ in slots])
        self.State, self.slots = state, tuple(slots)
        out.session = session
        return out

    def _probe(self, torch, shapes: dict[str, tuple], dtype) -> list[str]:
        """The state entries shaped like their parameter, found by one step of a scratch copy."""
        scratch = [torch.nn.Parameter(torch.zeros(s, dtype=torch.from_numpy(np.zeros(0, dtype)).dtype))
                   for s in shapes.values()]
        opt = self._build(scratch, [float(np.max(self.learning_rate(0)))])
        for p in scratch:
            p.grad = torch.zeros_like(p)
        try:
            opt.step()
        except Exception as exc:
            raise OptvizError(f"{self.name} failed on its first step: {type(exc).__name__}: {exc}") from None
        first = opt.state[scratch[0]]
        return [k for k, v in first.items() if torch.is_tensor(v) and tuple(v.shape) == tuple(scratch[0].shape)
                and k.isidentifier() and not k.startswith("_")]

    def step(self, params, grad, state, *, hessian=None, lr=None):
        session = state_session(self.name, state)
        if lr is None:
            lr = self.learning_rate(state.count)
        if isinstance(params, dict):
            return self._step_dict(session, params, grad, state, lr)
        from_numpy = session.torch.from_numpy
        X = np.array(params, dtype=session.dtype)  # the new points; torch writes into them
        G = shared(grad, session.dtype)  # torch only reads the gradient
        if session.per_point:
            for p, x, g in zip(session.params, X, G):
                p.data, p.grad = from_numpy(x), from_numpy(g)
        else:
            p = session.params[0]
            p.data, p.grad = from_numpy(X), from_numpy(G)
        if lr is not session.last_lr:
            self._set_lrs(session, self._lrs(lr, len(session.params)))
            session.last_lr = lr
        self._run(session)
        return X, self._state(state, session, X)

    def _run(self, session) -> None:
        try:
            session.optimizer.step()
        except Exception as exc:  # the foreign code failed on these parameters
            raise OptvizError(f"{self.name} failed: {type(exc).__name__}: {exc}") from None

    def _set_lrs(self, session, lrs: list[float]) -> None:
        groups = session.optimizer.param_groups
        for group, value in zip(groups, lrs if len(lrs) == len(groups) else lrs[:1] * len(groups)):
            group["lr"] = value

    def _step_dict(self, session, params, grad, state, lr):
        torch = session.torch
        for i, (p, key) in enumerate(zip(session.params, session.names, strict=True)):
            array = params[key]
            if session.bound[i] is not array:
                array = shared(array)
                p.data = torch.from_numpy(array)
                session.bound[i] = array
            p.grad = torch.from_numpy(shared(grad[key], array.dtype))
        self._set_lrs(session, self._lrs(lr, 1))
        self._run(session)
        out = {key: session.bound[i] for i, key in enumerate(session.names)}
        slots = [{key: session.optimizer.state[p][slot].numpy() for p, key in zip(session.params, session.names)}
                 for slot in state._fields[1:]]
        new = type(state)(state.count + 1, *slots)
        new.session = session
        return out, new

    def _state(self, state, session, X):
        fields = state._fields[1:]
        opt_state = session.optimizer.state
        if session.per_point:
            slots = [np.stack([opt_state[p][f].numpy() for p in session.params]) for f in fields]
        else:
            slots = [opt_state[session.params[0]][f].numpy() for f in fields]
        new = type(state)(state.count + 1, *slots)
        new.session = session
        return new
