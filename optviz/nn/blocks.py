"""Blocks built from layers: the normalization chosen by name and the MLP form of the
residual block (docs/math.md §6.5)."""

from __future__ import annotations

import numpy as np

from optviz.errors import OptvizError
from optviz.nn.activations import make_activation
from optviz.nn.layers import BatchNorm1d, Dropout, LayerNorm, Linear
from optviz.nn.module import Module, Residual

NORMS = ("bn", "ln", "none")


def make_norm(norm: str, dim: int, dtype=np.float32) -> Module | None:
    """BatchNorm1d for "bn", LayerNorm for "ln", nothing for "none"."""
    if norm == "bn":
        return BatchNorm1d(dim, dtype=dtype)
    if norm == "ln":
        return LayerNorm(dim, dtype=dtype)
    if norm == "none":
        return None
    raise OptvizError(f"unknown norm {norm!r}; choose one of: {', '.join(NORMS)}")


class ResidualBlock(Residual):
    """MLP form of the residual block (docs/math.md §6.5, d2l ``Residual``):

        h   = act(norm₁(x W₁ + b₁))            (then dropout, if any)
        out = act(norm₂(h W₂ + b₂) + shortcut(x))

    shortcut(x) = x when the width does not change, otherwise a Linear projection
    x P + c (the MLP form of the 1×1 convolution, docs/math.md §7.5). With norm "none" the norm layers are left out.

    ``zero_init_second``: start W₂ at 0 so the block starts as act(shortcut(x)).
    ``build_model`` turns it on when there is no normalization: with He init each
    block adds a branch of about the same variance as its input, so the signal
    variance roughly doubles per block and a deep net without BatchNorm overflows;
    a zero W₂ keeps every block an identity-like map at the start, while W₂ still
    gets the gradient hᵀ ∂l/∂z and grows from the first step.

    Backward: with z the sum before the last activation, ∂l/∂z = act'(z) ⊙ ∂l/∂out;
    ∂l/∂x = (main path)ᵀ ∂l/∂z + (shortcut)ᵀ ∂l/∂z — the two branches' gradients add.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        norm: str = "bn",
        act: str = "relu",
        init: str = "he",
        dropout: float = 0.0,
        zero_init_second: bool = False,
        rng: np.random.Generator | None = None,
        dropout_rng: np.random.Generator | None = None,
        dtype=np.float32,
    ) -> None:
        super().__init__()
        rng = np.random.default_rng(0) if rng is None else rng
        main: list[tuple[str, Module]] = [("linear1", Linear(n_in, n_out, init, rng, dtype))]
        norm1 = make_norm(norm, n_out, dtype)
        if norm1 is not None:
            main.append(("norm1", norm1))
        main.append(("act1", make_activation(act, n_out, dtype)))
        if dropout > 0:
            main.append(("drop1", Dropout(dropout, dropout_rng)))
        linear2 = Linear(n_out, n_out, "zeros" if zero_init_second else init, rng, dtype)
        main.append(("linear2", linear2))
        norm2 = make_norm(norm, n_out, dtype)
        if norm2 is not None:
            main.append(("norm2", norm2))
        self.main = main
        self.shortcut = Linear(n_in, n_out, init, rng, dtype) if n_in != n_out else None
        self.act = make_activation(act, n_out, dtype)

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        h = x
        for _, layer in self.main:
            h = layer.forward(h, train)
        skip = x if self.shortcut is None else self.shortcut.forward(x, train)
        return self.act.forward(h + skip, train)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        dz = self.act.backward(dy)
        dh = dz
        for _, layer in reversed(self.main):
            dh = layer.backward(dh)
        dskip = dz if self.shortcut is None else self.shortcut.backward(dz)
        if dh is None or dskip is None:  # first layers that skip ∂l/∂x
            return dskip if dh is None else dh
        return dh + dskip
