"""Blocks of convolutional networks, forward next to backward: the residual block of
docs/math.md §7.5, DenseNet's dense layer and transition (§7.6), the normalization of
images chosen by name (§7.3–§7.4), and the reshape of flat samples into images.

Every block is a container (``children`` lists its layers, so parameters are named
``stage1.block2.conv1.W``); its ``forward`` and ``backward`` say how the layers are
wired.
"""

from __future__ import annotations

import numpy as np

from optviz.errors import OptvizError
from optviz.nn.activations import PReLU, make_activation
from optviz.nn.conv import Conv2d
from optviz.nn.images import check_int, nchw, nhwc
from optviz.nn.layers import BatchNorm1d, LayerNorm
from optviz.nn.module import Module, Residual, Sequential
from optviz.nn.norm2d import BatchNorm2d, GroupNorm, InstanceNorm2d, LayerNorm2d
from optviz.nn.pool import AvgPool2d

NORMS_2D = ("bn", "gn", "in", "ln", "none")
SHORTCUTS = ("conv1x1", "none")


def make_norm2d(norm: str, c: int, h: int, w: int, groups: int, dtype=np.float32) -> Module | None:
    """The normalization of (N, c, h, w) images called ``norm``: bn, gn (``groups``), in, ln, none.

    Statistics per sample over a single value (σ² = 0: the layer would learn nothing) are
    refused here, before any training: InstanceNorm of 1×1 maps, GroupNorm with (c/g)·h·w = 1.
    """
    single = {"in": h * w, "gn": (c // groups) * h * w if c % groups == 0 else 2}.get(norm, 2)
    if single < 2:
        raise OptvizError(f"{{norm={norm}}} on {c}×{h}×{w} images would normalize single values (σ² = 0); "
                          "use bn, ln or none there, or larger images", param="norm")
    if norm == "bn":
        return BatchNorm2d(c, dtype=dtype)
    if norm == "gn":
        if c % groups:
            raise OptvizError(f"GroupNorm: {{groups}}={groups} must divide the {c} channels of the layer "
                              f"it follows; choose a divisor of {c}", param="groups")
        return GroupNorm(groups, c, dtype=dtype)
    if norm == "in":
        return InstanceNorm2d(c, dtype=dtype)
    if norm == "ln":
        return LayerNorm2d(c, h, w, dtype=dtype)
    if norm == "none":
        return None
    raise OptvizError(f"unknown {{norm}} {norm!r}; choose one of: {', '.join(NORMS_2D)}", param="norm")


class PReLU2d(PReLU):
    """PReLU of images: one learned slope α_c per channel, y = x if x > 0 else α_c x.
    ∂l/∂α_c = Σ_{n,i,j} ∂l/∂y · x · [x ≤ 0]."""

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        return nchw(super().forward(nhwc(x), train))

    def backward(self, dy: np.ndarray) -> np.ndarray:
        dy = nhwc(dy)
        self.grads = {"alpha": np.sum(np.where(self._pos, 0, dy * self._x), axis=(0, 1, 2))}
        return nchw(dy * np.where(self._pos, 1, self.params["alpha"]))


def make_act2d(act: str, c: int, dtype=np.float32) -> Module:
    """The activation called ``act`` for images of ``c`` channels (PReLU: one slope per channel)."""
    layer = make_activation(act, c, dtype)
    return PReLU2d(c, dtype=dtype) if isinstance(layer, PReLU) else layer


class GroupNorm1d(GroupNorm):
    """GroupNorm of features (N, F): F/g consecutive features per group, per sample — the
    GroupNorm of (N, F, 1, 1) images."""

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        return super().forward(x[:, :, None, None], train).reshape(x.shape)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return super().backward(dy[:, :, None, None]).reshape(dy.shape)

    def describe(self) -> str:
        return f"GroupNorm1d({self.groups}, {self.c})"


def make_norm1d(norm: str, dim: int, groups: int, dtype=np.float32) -> Module | None:
    """The normalization of features after a Linear layer (LeNet's): bn, gn, ln or none.

    Instance normalization of a single feature would normalize one value (σ² = 0): refused.
    """
    if norm == "bn":
        return BatchNorm1d(dim, dtype=dtype)
    if norm == "ln":
        return LayerNorm(dim, dtype=dtype)
    if norm == "gn":
        if dim % groups or dim // groups < 2:
            raise OptvizError(f"GroupNorm: {{groups}}={groups} must divide the {dim} features of a Linear layer "
                              "into groups of 2 or more", param="groups")
        return GroupNorm1d(groups, dim, dtype=dtype)
    if norm == "none":
        return None
    raise OptvizError("{norm=in} normalizes each feature of a Linear layer over one value (σ² = 0); "
                      "LeNet's Linear layers take bn, gn, ln or none", param="norm")


class ToImage(Module):
    """(N, C·H·W) flat samples → (N, C, H, W) images, in row-major (C, H, W) order; backward
    reshapes back. The first layer of the image models: data stay flat (N, d) everywhere else."""

    shape_only = True

    def __init__(self, c: int, h: int, w: int) -> None:
        super().__init__()
        self.shape = (check_int("ToImage", "c", c, 1), check_int("ToImage", "h", h, 1),
                      check_int("ToImage", "w", w, 1))

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        size = self.shape[0] * self.shape[1] * self.shape[2]
        if x.ndim != 2 or x.shape[1] != size:
            raise OptvizError(f"the model takes samples of {size} values ({'×'.join(map(str, self.shape))} "
                              f"images), got an array of shape {x.shape}")
        return x.reshape(x.shape[0], *self.shape)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy.reshape(dy.shape[0], -1)

    def __repr__(self) -> str:
        return f"ToImage({'×'.join(map(str, self.shape))})"


def conv_norm_act(c_in: int, c_out: int, k: int, stride: int, norm: str, act: str, hw: tuple[int, int],
                  groups: int, init: str, rng, dtype) -> tuple[list[tuple[str, Module]], tuple[int, int]]:
    """conv k×k (padding k//2) → norm → act as named layers, and the output (H, W).

    The convolution has no bias when a normalization follows (its β takes that role).
    """
    conv = Conv2d(c_in, c_out, k, stride, k // 2, init, rng, dtype, bias=norm == "none")
    hw = conv.output_shape(*hw)
    layers: list[tuple[str, Module]] = [("conv", conv)]
    norm_layer = make_norm2d(norm, c_out, *hw, groups, dtype)
    if norm_layer is not None:
        layers.append(("norm", norm_layer))
    layers.append(("act", make_act2d(act, c_out, dtype)))
    return layers, hw


class ResidualBlock2d(Residual):
    """The residual block of docs/math.md §7.5 (d2l's ``Residual``), every 3×3 convolution
    with padding 1:

        Y   = act(norm₁(conv3×3, stride s (X))),  Y = norm₂(conv3×3(Y)),
        out = act(Y + shortcut(X)).

    ``shortcut``: "identity" (X itself: only when the channels and the stride stay, else
    refused — an identity cannot be added to a branch of another shape), "conv1x1" (a
    1×1 convolution with the same stride s and a bias, no normalization, as in d2l) or
    "none" (no shortcut: the block is two plain convolutional layers, out = act(Y)).

    ``zero_init_second``: the second convolution starts at 0, so the block starts as
    act(shortcut(X)) (for networks without normalization, as in ``ResidualBlock``).

    Backward: with Z = Y + shortcut(X), ∂l/∂Z = act'(Z) ⊙ ∂l/∂out; ∂l/∂X is the main
    path's gradient plus the shortcut's — the two branches' gradients add (§6.5).
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1, norm: str = "bn", act: str = "relu",
                 shortcut: str = "identity", hw: tuple[int, int] = (8, 8), groups: int = 1, init: str = "he",
                 zero_init_second: bool = False, rng=None, dtype=np.float32) -> None:
        super().__init__()
        rng = np.random.default_rng(0) if rng is None else rng
        first, hw_out = conv_norm_act(c_in, c_out, 3, stride, norm, act, hw, groups, init, rng, dtype)
        main = [(name + "1", layer) for name, layer in first]
        second_init = "zeros" if zero_init_second else init
        main.append(("conv2", Conv2d(c_out, c_out, 3, 1, 1, second_init, rng, dtype, bias=norm == "none")))
        norm2 = make_norm2d(norm, c_out, *hw_out, groups, dtype)
        if norm2 is not None:
            main.append(("norm2", norm2))
        self.main = main
        self.out_hw = hw_out
        changes = c_in != c_out or stride != 1
        if shortcut == "identity" and changes:
            raise OptvizError(
                f"an identity shortcut cannot add a {c_in}×{hw[0]}×{hw[1]} input to the block's "
                f"{c_out}×{hw_out[0]}×{hw_out[1]} output; use a 1×1 convolution ({{shortcut=conv1x1}}) "
                "or no shortcut", param="shortcut")
        if shortcut not in ("identity", *SHORTCUTS):
            raise OptvizError(f"unknown {{shortcut}} {shortcut!r}; choose one of: {', '.join(SHORTCUTS)}",
                              param="shortcut")
        self.kind = shortcut
        self.shortcut = Conv2d(c_in, c_out, 1, stride, 0, init, rng, dtype) if shortcut == "conv1x1" else None
        self.act = make_act2d(act, c_out, dtype)

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        h = x
        for _, layer in self.main:
            h = layer.forward(h, train)
        if self.kind == "identity":
            h = h + x
        elif self.shortcut is not None:
            h = h + self.shortcut.forward(x, train)
        return self.act.forward(h, train)

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        dz = self.act.backward(dy)
        dh = dz
        for _, layer in reversed(self.main):
            dh = layer.backward(dh)
            if dh is None:  # a first layer that skips ∂l/∂x
                break
        if self.kind == "none":
            return dh
        dskip = dz if self.shortcut is None else self.shortcut.backward(dz)
        if dh is None or dskip is None:
            return dskip if dh is None else dh
        return dh + dskip


class DenseLayer(Module):
    """One convolution block of a dense block (docs/math.md §7.6), pre-activation:

        X' = [X, conv3×3(act(norm(X)))]   (concatenated along the channels),

    the convolution (padding 1) making ``growth`` new channels. Backward:
    ∂l/∂X' splits along the channels; the first c_in go to X directly, the last
    ``growth`` back through the branch, and the two add.

    The convolutions of a DenseNet have a bias only without normalization: every channel
    they make reaches a later normalization, which removes a per-channel constant.
    """

    def __init__(self, c_in: int, growth: int, norm: str = "bn", act: str = "relu", hw: tuple[int, int] = (8, 8),
                 groups: int = 1, init: str = "he", rng=None, dtype=np.float32) -> None:
        super().__init__()
        rng = np.random.default_rng(0) if rng is None else rng
        self.c_in, self.growth = c_in, growth
        branch: list[tuple[str, Module]] = []
        norm_layer = make_norm2d(norm, c_in, *hw, groups, dtype)
        if norm_layer is not None:
            branch.append(("norm", norm_layer))
        branch.append(("act", make_act2d(act, c_in, dtype)))
        branch.append(("conv", Conv2d(c_in, growth, 3, 1, 1, init, rng, dtype, bias=norm == "none")))
        self.branch = Sequential(branch)

    def children(self) -> list[tuple[str, Module]]:
        return self.branch.layers

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        new = self.branch.forward(x, train)
        # channels-last memory: the concatenation joins each pixel's two channel runs
        return nchw(np.concatenate([nhwc(x), nhwc(new)], axis=3))

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        d_new = self.branch.backward(dy[:, self.c_in :])
        d_x = dy[:, : self.c_in]
        return d_x if d_new is None else d_new + d_x


def transition(c_in: int, c_out: int, norm: str, act: str, hw: tuple[int, int], groups: int, init: str, rng,
               dtype) -> Sequential:
    """DenseNet's transition layer (docs/math.md §7.6): norm → act → conv 1×1 → AvgPool(2, stride 2)."""
    layers: list[tuple[str, Module]] = []
    norm_layer = make_norm2d(norm, c_in, *hw, groups, dtype)
    if norm_layer is not None:
        layers.append(("norm", norm_layer))
    layers.append(("act", make_act2d(act, c_in, dtype)))
    layers.append(("conv", Conv2d(c_in, c_out, 1, 1, 0, init, rng, dtype, bias=norm == "none")))
    layers.append(("pool", AvgPool2d(2)))
    return Sequential(layers)
