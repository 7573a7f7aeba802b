"""An optax optimizer alias (``optax.adamw``, ``optax.lion``, ...) as an optviz optimizer
(docs/math.md §4.10).

The alias is wrapped in ``optax.inject_hyperparams`` so that optviz's learning rate (a
schedule, or one rate per point) is set before every step; a step is
``updates, state = tx.update(g, state, θ)`` and ``θ ← θ + updates`` (optax's updates are
added), compiled once with ``jax.jit``. On a surface the K start points are mapped with
``jax.vmap``, so they stay independent whatever the transformation couples. float64
parameters are computed in float64 (jax's 64-bit mode for these calls only).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optviz.errors import OptvizError
from optviz.optim.foreign import (
    ForeignOptimizer,
    foreign_class,
    import_extra,
    keyword_parameters,
    slot_state,
    state_session,
)


def optax_adapter(alias: str, kwargs: dict[str, Any], spec_name: str) -> type[ForeignOptimizer]:
    """The adapter class of ``optax:alias(kwargs)``."""
    optax = import_extra("optax")
    if not alias.isidentifier() or alias.startswith("_") or not callable(getattr(optax, alias, None)):
        raise OptvizError(f"{spec_name}: optax has no optimizer {alias!r} (write an alias such as "
                          "optax:adamw or optax:lion)")
    target = getattr(optax, alias)
    known, open_ended = keyword_parameters(target, ("learning_rate",))
    params = keyword_parameters(target, ())[0]
    if "learning_rate" not in params:
        raise OptvizError(f"{spec_name}: optax.{alias} takes no learning_rate; name an optimizer alias "
                          "such as optax:adamw")
    return foreign_class(OptaxOptimizer, spec_name, target, kwargs, known, open_ended, kind="optax",
                         foreign_lr=None, summary=f"optax.{alias}, run by the optax adapter")


def _names(paths: list) -> list[str]:
    """Readable, unique names for state leaves from their tree paths (``mu``, ``nu``, ...)."""
    names = []
    for path in paths:
        parts = [str(getattr(k, "name", getattr(k, "key", getattr(k, "idx", "")))) for k in path]
        words = [p for p in parts if p and not p.isdigit()]
        name = words[-1] if words else "state"
        while name in names:
            name = "_".join([*words[:-1][-1:], name]) if len(words) > 1 and words[-2] not in name else f"{name}2"
        names.append(name)
    return [n if n.isidentifier() else f"slot{i}" for i, n in enumerate(names)]


class Session:
    """The compiled update of one run and optax's current state."""

    def __init__(self, jax, tx, batched: bool, x64: bool, dtype) -> None:
        self.jax, self.tx, self.batched, self.x64, self.dtype = jax, tx, batched, x64, dtype
        optax = import_extra("optax")

        def apply(params, grads, state):
            updates, state = tx.update(grads, state, params)
            return optax.apply_updates(params, updates), state

        self.apply = jax.jit(jax.vmap(apply) if batched else apply)
        self.opt_state = None
        self.slot_index: list[int] = []  # the leaves of optax's state shaped like the parameters


class OptaxOptimizer(ForeignOptimizer):
    """An optax alias run by optviz (see :mod:`optviz.optim.optax_adapter`)."""

    def __init__(self, lr=None, schedule=None, **kwargs):
        super().__init__(lr, schedule, **kwargs)
        # optax checks its settings only when it runs: one step on one number now, before any work
        tx = self._transformation(import_extra("optax"), float(np.max(self.learning_rate(0))))
        jnp = import_extra("jax").numpy
        try:
            x = jnp.zeros(1)
            tx.update(jnp.ones(1), tx.init(x), x)
        except Exception as exc:
            raise OptvizError(f"{self.name} refused its settings: {type(exc).__name__}: {exc}") from None

    def _transformation(self, optax, lr0: float):
        try:
            return optax.inject_hyperparams(self.target)(learning_rate=lr0, **self.kwargs)
        except Exception as exc:
            raise OptvizError(f"{self.name} refused its settings: {type(exc).__name__}: {exc}") from None

    def init(self, params):
        jax = import_extra("jax")
        optax = import_extra("optax")
        is_dict = isinstance(params, dict)
        arrays = {k: np.asarray(v) for k, v in params.items()} if is_dict else np.array(params, dtype=float)
        dtype = next(iter(arrays.values())).dtype if is_dict else arrays.dtype
        batched = not is_dict and arrays.ndim == 2
        session = Session(jax, self._transformation(optax, float(np.max(self.learning_rate(0)))), batched,
                          dtype == np.float64, dtype)
        with jax.enable_x64(session.x64):
            init = jax.vmap(session.tx.init) if batched else session.tx.init
            try:
                session.opt_state = init(jax.tree_util.tree_map(jax.numpy.asarray, arrays))
            except Exception as exc:
                raise OptvizError(f"{self.name} failed to start: {type(exc).__name__}: {exc}") from None
        shape = None if is_dict else arrays.shape
        leaves = jax.tree_util.tree_flatten_with_path(session.opt_state.inner_state)[0]
        session.slot_index = [i for i, (_, leaf) in enumerate(leaves) if shape is not None and leaf.shape == shape]
        slots = _names([leaves[i][0] for i in session.slot_index])
        self.State, self.slots = slot_state(slots), tuple(slots)
        out = self.State(0, *[np.zeros_like(arrays) for _ in slots])
        out.session = session
        return out

    def step(self, params, grad, state, *, hessian=None, lr=None):
        session = state_session(self.name, state)
        if lr is None:
            lr = self.learning_rate(state.count)
        jax = session.jax
        jnp = jax.numpy
        with jax.enable_x64(session.x64):
            hyper = session.opt_state.hyperparams
            if session.batched:
                k = np.shape(params)[0]
                hyper["learning_rate"] = jnp.asarray(np.broadcast_to(np.reshape(lr, -1), (k,)), dtype=session.dtype)
            else:
                hyper["learning_rate"] = jnp.asarray(lr, dtype=session.dtype)
            to_jax = (lambda tree: {k: jnp.asarray(v) for k, v in tree.items()}) if isinstance(params, dict) \
                else jnp.asarray
            try:
                new, session.opt_state = session.apply(to_jax(params), to_jax(grad), session.opt_state)
            except Exception as exc:  # the foreign code failed on these parameters
                raise OptvizError(f"{self.name} failed: {type(exc).__name__}: {exc}") from None
        if isinstance(params, dict):
            out = {k: np.array(v) for k, v in new.items()}
            slots = []
        else:
            out = np.array(new, dtype=session.dtype)
            leaves = jax.tree_util.tree_leaves(session.opt_state.inner_state)
            slots = [np.asarray(leaves[i]) for i in session.slot_index]
        new_state = type(state)(state.count + 1, *(slots or [{} for _ in state._fields[1:]]))
        new_state.session = session
        return out, new_state
