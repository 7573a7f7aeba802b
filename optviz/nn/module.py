"""The layer protocol shared by every building block of optviz.nn.

A layer ("module") keeps its forward next to its backward, micrograd-style:

- ``forward(x, train)`` computes the output for a batch ``x`` of shape (m, d) and
  caches what the backward pass needs; ``train`` selects batch statistics and
  dropout (True) or running statistics and no dropout (False).
- ``backward(dy)`` takes ∂l/∂y for the last forward and returns ∂l/∂x; it stores the
  gradients of the layer's own parameters in ``grads`` (same keys as ``params``).

Parameters, gradients and buffers are plain dicts of numpy arrays. ``kinds`` tells
for each parameter whether it is a "weight", a "bias", a "norm" parameter (γ, β)
or a "prelu" slope, so weight decay and L1 can skip everything but weights.
``buffers`` holds non-learned state (BatchNorm running statistics).

A container (``Sequential``, ``ResidualBlock``) has no parameters of its own, only
named children; ``named_leaves`` walks the tree and gives every leaf a dotted
prefix such as ``"block2.linear1"``, so its parameter ``W`` is ``"block2.linear1.W"``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


class Module:
    """Base class: a leaf layer with params/grads/kinds/buffers dicts (empty by default)."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.kinds: dict[str, str] = {}
        self.buffers: dict[str, np.ndarray] = {}

    def children(self) -> list[tuple[str, Module]]:
        """Named sub-layers, in forward order; a leaf has none."""
        return []

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        kids = self.children()
        if not kids:
            shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in self.params.items())
            return f"{type(self).__name__}({shapes})"
        inner = "\n".join(f"  ({name}): {layer!r}".replace("\n", "\n  ") for name, layer in kids)
        return f"{type(self).__name__}(\n{inner}\n)"


class Sequential(Module):
    """Named layers applied in order: y = f_k(… f_2(f_1(x)))."""

    def __init__(self, layers: list[tuple[str, Module]]) -> None:
        super().__init__()
        names = [name for name, _ in layers]
        if len(set(names)) != len(names):
            raise ValueError(f"layer names must be unique, got {names}")
        self.layers = list(layers)

    def children(self) -> list[tuple[str, Module]]:
        return self.layers

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        for _, layer in self.layers:
            x = layer.forward(x, train)
        return x

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """Chain rule in reverse order: ∂l/∂x = J_1ᵀ … J_kᵀ ∂l/∂y."""
        for _, layer in reversed(self.layers):
            dy = layer.backward(dy)
            if dy is None:  # a first layer that skips ∂l/∂x (see Linear.skip_input_grad)
                break
        return dy


class Residual(Module):
    """What the residual blocks share (the MLP form in optviz.nn.blocks, the convolutional
    one in optviz.nn.cnn): a main branch ``main`` (named layers), a ``shortcut`` layer or
    None, and the activation ``act`` applied to their sum. Its children, in forward
    order, are the main branch's layers, then the shortcut, then ``act2``."""

    main: list[tuple[str, Module]]
    shortcut: Module | None
    act: Module

    def children(self) -> list[tuple[str, Module]]:
        kids = list(self.main)
        if self.shortcut is not None:
            kids.append(("shortcut", self.shortcut))
        kids.append(("act2", self.act))
        return kids


def named_leaves(module: Module, prefix: str = "") -> Iterator[tuple[str, Module]]:
    """Yield (dotted prefix, leaf) for every leaf under ``module``, in forward order."""
    kids = module.children()
    if not kids:
        yield prefix, module
        return
    for name, child in kids:
        yield from named_leaves(child, f"{prefix}.{name}" if prefix else name)
