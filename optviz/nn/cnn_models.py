"""The convolutional networks of docs/math.md §7.5–§7.7, as named layers for ``build_model``:
the small ResNet ("resnet-cnn"), the same network without shortcuts ("cnn"), DenseNet
and LeNet with normalization. Each starts with ``ToImage`` (the data stay flat samples of
C·H·W values) and ends with the features the Linear head reads; ``build_model`` adds the
head.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from optviz import validate
from optviz.errors import OptvizError
from optviz.nn.activations import make_activation
from optviz.nn.cnn import (
    NORMS_2D,
    SHORTCUTS,
    DenseLayer,
    ResidualBlock2d,
    ToImage,
    conv_norm_act,
    make_act2d,
    make_norm1d,
    make_norm2d,
    transition,
)
from optviz.nn.conv import Conv2d
from optviz.nn.layers import Linear
from optviz.nn.module import Module, Sequential
from optviz.nn.pool import Flatten, GlobalAvgPool2d, MaxPool2d

CONV_ARCHS = ("cnn", "resnet-cnn", "densenet", "lenet")
DEFAULT_CHANNELS = {"cnn": 32, "resnet-cnn": 32, "densenet": 16, "lenet": 6}
MAX_STAGES = 3


@dataclass(frozen=True)
class ConvSettings:
    """The settings of an image model (see ``build_model``); ``channels`` None is the arch's default."""

    image_shape: tuple[int, int, int]
    channels: int | None = None
    blocks: int = 1
    growth: int = 12
    groups: int = 2
    shortcut: str = "conv1x1"
    stages: int | None = None

    def check(self, arch: str, norm: str) -> None:
        validate.one_of("norm", norm, NORMS_2D)
        validate.one_of("shortcut", self.shortcut, SHORTCUTS)
        for name in ("channels", "stages"):
            if getattr(self, name) is not None:
                validate.whole(name, getattr(self, name), 1)
        for name in ("blocks", "growth", "groups"):
            validate.whole(name, getattr(self, name), 1)
        if len(self.image_shape) != 3:
            raise OptvizError(f"image_shape must be (C, H, W), got {self.image_shape}")
        for side in self.image_shape:
            validate.whole("image_shape", side, 1)


def image_shape_of(image_shape, in_dim: int) -> tuple[int, int, int]:
    """(C, H, W) of the samples: as given (C·H·W must be in_dim), or 1×s×s for in_dim = s²."""
    if image_shape is None:
        side = math.isqrt(int(in_dim))
        if side * side != in_dim:
            raise OptvizError(f"an image model needs the image shape of its {in_dim} inputs "
                              "({image_shape}=(C, H, W)); only a square number of inputs is read as 1×s×s",
                              param="image_shape")
        return (1, side, side)
    try:
        shape = tuple(validate.whole("image_shape", v) for v in image_shape)
    except TypeError:
        shape = ()
    if len(shape) != 3 or math.prod(shape) != in_dim:
        raise OptvizError(f"{{image_shape}}={tuple(image_shape)} must be (C, H, W) with C·H·W = {in_dim} "
                          "inputs", param="image_shape")
    return shape


def auto_stages(h: int, w: int) -> int:
    """Stages of a ResNet or DenseNet for H×W images: each later one halves the side, and the
    last works on sides of at least 4 pixels (8×8 digits: 2 stages, 8×8 then 4×4; 28×28: 3)."""
    side, stages = min(h, w), 1
    while stages < MAX_STAGES and side // 2 >= 4:
        side //= 2
        stages += 1
    return stages


@contextlib.contextmanager
def where(name: str) -> Iterator[None]:
    """Prefix the message of an OptvizError raised while building layer ``name`` with that name."""
    try:
        yield
    except OptvizError as exc:
        raise OptvizError(f"layer {name}: {exc.template}", param=exc.param, names=tuple(exc.names)) from None


def parameter_count(arch: str, cs: ConvSettings) -> int:
    """About how many weights ``arch`` has with these settings (the head aside), before it is built."""
    c, h, w = cs.image_shape
    ch = cs.channels or DEFAULT_CHANNELS[arch]
    if arch == "lenet":
        return 25 * c * ch + 25 * ch * 16 + 16 * max(1, h // 4) * max(1, w // 4) * 120 + 120 * 84
    stages = cs.stages or auto_stages(h, w)
    total, prev = 9 * c * ch, ch
    for i in range(stages):
        if arch == "densenet":
            total += sum(9 * (prev + j * cs.growth) * cs.growth for j in range(cs.blocks))
            prev += cs.blocks * cs.growth
            total += prev * (prev // 2) if i < stages - 1 else 0
            prev = max(1, prev // 2) if i < stages - 1 else prev
        else:
            width = ch * 2**i
            total += 9 * prev * width + prev * width + (2 * cs.blocks - 1) * 9 * width * width
            prev = width
    return total


def conv_layers(arch: str, cs: ConvSettings, norm: str, act: str, init: str, zero_init_residual: bool,
                rng: np.random.Generator, dtype) -> tuple[list[tuple[str, Module]], int]:
    """The layers of ``arch`` up to the head, and the number of features the head reads."""
    build = {"cnn": _resnet, "resnet-cnn": _resnet, "densenet": _densenet, "lenet": _lenet}[arch]
    c, h, w = cs.image_shape
    layers: list[tuple[str, Module]] = [("input", ToImage(c, h, w))]
    more, features = build(arch, cs, norm, act, init, zero_init_residual, rng, dtype)
    return layers + more, features


def _resnet(arch, cs: ConvSettings, norm, act, init, zero_init_residual, rng, dtype):
    """stem conv3×3–norm–act, ``stages`` stages of ``blocks`` residual blocks (the first block of
    each later stage doubles the channels with stride 2), global average pool."""
    c, h, w = cs.image_shape
    ch = cs.channels or DEFAULT_CHANNELS[arch]
    with where("stem"):
        stem, hw = conv_norm_act(c, ch, 3, 1, norm, act, (h, w), cs.groups, init, rng, dtype)
    layers: list[tuple[str, Module]] = [("stem", Sequential(stem))]
    c_prev = ch
    for i in range(1, (cs.stages or auto_stages(h, w)) + 1):
        c_out = ch * 2 ** (i - 1)
        blocks: list[tuple[str, Module]] = []
        for j in range(1, cs.blocks + 1):
            stride = 2 if (i > 1 and j == 1) else 1
            changes = c_prev != c_out or stride != 1
            kind = "none" if arch == "cnn" else (cs.shortcut if changes else "identity")
            with where(f"stage{i}.block{j}"):
                block = ResidualBlock2d(c_prev, c_out, stride, norm, act, kind, hw, cs.groups, init,
                                        zero_init_residual and kind != "none", rng, dtype)
            blocks.append((f"block{j}", block))
            hw, c_prev = block.out_hw, c_out
        layers.append((f"stage{i}", Sequential(blocks)))
    layers.append(("pool", GlobalAvgPool2d()))
    return layers, c_prev


def _densenet(arch, cs: ConvSettings, norm, act, init, zero_init_residual, rng, dtype):
    """stem conv3×3, dense blocks of ``blocks`` layers (growth k) with transitions that halve the
    channels and the side between them, then norm–act and global average pool (d2l's DenseNet)."""
    c, h, w = cs.image_shape
    ch = cs.channels or DEFAULT_CHANNELS[arch]
    layers: list[tuple[str, Module]] = [("stem", _conv(c, ch, 3, 1, init, rng, dtype, norm == "none"))]
    hw, c_cur = (h, w), ch
    stages = cs.stages or auto_stages(h, w)
    for i in range(1, stages + 1):
        dense = []
        for j in range(1, cs.blocks + 1):
            with where(f"dense{i}.layer{j}"):
                dense.append((f"layer{j}", DenseLayer(c_cur, cs.growth, norm, act, hw, cs.groups, init, rng,
                                                      dtype)))
            c_cur += cs.growth
        layers.append((f"dense{i}", Sequential(dense)))
        if i < stages:
            with where(f"trans{i}"):
                trans = transition(c_cur, max(1, c_cur // 2), norm, act, hw, cs.groups, init, rng, dtype)
                hw = trans.layers[-1][1].output_shape(*hw)
            c_cur = max(1, c_cur // 2)
            layers.append((f"trans{i}", trans))
    final: list[tuple[str, Module]] = []
    with where("final"):
        norm_layer = make_norm2d(norm, c_cur, *hw, cs.groups, dtype)
    if norm_layer is not None:
        final.append(("norm", norm_layer))
    final.append(("act", make_act2d(act, c_cur, dtype)))
    layers += [("final", Sequential(final)), ("pool", GlobalAvgPool2d())]
    return layers, c_cur


def _conv(c_in, c_out, k, s, init, rng, dtype, bias):
    return Conv2d(c_in, c_out, k, s, k // 2, init, rng, dtype, bias=bias)


def _lenet(arch, cs: ConvSettings, norm, act, init, zero_init_residual, rng, dtype):
    """LeNet with a normalization after each convolution and hidden Linear layer (docs/math.md §7.7):
    conv5×5(→6, padding 2)–norm–act, max-pool 2, conv5×5(→16, padding 2)–norm–act, max-pool 2,
    flatten, Linear(→120)–norm–act, Linear(120→84)–norm–act."""
    c, h, w = cs.image_shape
    layers: list[tuple[str, Module]] = []
    hw, c_prev = (h, w), c
    for i, c_out in ((1, cs.channels or 6), (2, 16)):
        with where(f"conv{i}"):
            block, hw = conv_norm_act(c_prev, c_out, 5, 1, norm, act, hw, cs.groups, init, rng, dtype)
        pool = MaxPool2d(2)
        with where(f"pool{i}"):
            hw = pool.output_shape(*hw)
        layers += [(f"conv{i}", Sequential(block)), (f"pool{i}", pool)]
        c_prev = c_out
    layers.append(("flatten", Flatten()))
    n_in = c_prev * hw[0] * hw[1]
    for i, n_out in ((1, 120), (2, 84)):
        fc: list[tuple[str, Module]] = [("linear", Linear(n_in, n_out, init, rng, dtype))]
        with where(f"fc{i}"):
            norm_layer = make_norm1d(norm, n_out, cs.groups, dtype)
        if norm_layer is not None:
            fc.append(("norm", norm_layer))
        fc.append(("act", make_activation(act, n_out, dtype)))
        layers.append((f"fc{i}", Sequential(fc)))
        n_in = n_out
    return layers, n_in


def conv_budget_terms(arch: str, cs: ConvSettings) -> tuple[int, str, str]:
    """The parameter count of the image model, the setting to name if it is too large (of
    those given, the one whose default shrinks the count most; channels when none is
    given) and what to do about it."""
    n_params = parameter_count(arch, cs)
    given = {name: getattr(cs, name) for name in ("stages", "blocks", "growth", "channels")
             if getattr(cs, name) is not None and getattr(cs, name) != getattr(ConvSettings, name, None)}
    shrink = {name: n_params - parameter_count(arch, dataclasses.replace(cs, **{name: getattr(ConvSettings, name)}))
              for name in given}
    param = max(shrink, key=shrink.get) if shrink and max(shrink.values()) > 0 else "channels"
    remedy = "choose fewer channels, blocks or stages" + (", or a smaller growth" if arch == "densenet" else "")
    return n_params, param, remedy
