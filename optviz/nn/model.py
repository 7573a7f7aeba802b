"""The Model wrapper (flat dicts of named arrays) and ``build_model``. A ``Model`` is what
the training loop and the optimizers see:

- ``model.params``: ``dict[str, ndarray]`` keyed by dotted names ("block2.linear1.W");
  assign a whole new dict to move the model, as an optimizer's ``step`` returns new arrays.
- ``model.forward(x, train)`` → output; ``model.backward(dout)`` → grads, keyed as ``params``.
- ``model.param_kinds``: name → "weight" | "bias" | "norm" | "prelu".
- ``model.running_stats``: BatchNorm running means/variances ("layer1.norm.running_var").
- ``model.get_state()`` / ``model.set_state(state)``: copies of params and running
  statistics together, to evaluate the model at other weights and come back.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optviz import budget, validate
from optviz.errors import OptvizError
from optviz.nn.activations import ReLU, make_activation
from optviz.nn.blocks import NORMS, ResidualBlock, make_norm
from optviz.nn.cnn import ResidualBlock2d
from optviz.nn.cnn_models import (
    CONV_ARCHS,
    ConvSettings,
    conv_budget_terms,
    conv_layers,
    image_shape_of,
)
from optviz.nn.conv import EVAL_REUSE, Conv2d
from optviz.nn.init import get_initializer
from optviz.nn.layers import NORM_EPS, BatchNorm1d, Dropout, Linear
from optviz.nn.module import Module, Sequential, named_leaves
from optviz.nn.summary import SummaryRow, activation_values, format_summary, summarize

ARCHS = ("mlp", "resnet", *CONV_ARCHS)
# samples per evaluation-mode pass of an image model: the size of a training batch, so the
# convolutions reuse their scratch arrays (optviz.nn.conv.EVAL_REUSE)
EVAL_CHUNK = EVAL_REUSE


class Model:
    """A Sequential network seen through flat dicts of named arrays (see module docstring).

    ``layers`` are (name, layer) pairs applied in order; ``spec`` records how the model
    was built (``build_model``'s arguments).
    """

    def __init__(
        self, layers: list[tuple[str, Module]], spec: dict[str, Any] | None = None, dtype=np.float32
    ) -> None:
        self.net = Sequential(layers)
        self.spec = dict(spec or {})
        self.dtype = np.dtype(dtype)
        leaves = list(named_leaves(self.net))
        self._param_slots = [(f"{p}.{k}", leaf, k) for p, leaf in leaves for k in leaf.params]
        self._buffer_slots = [(f"{p}.{k}", leaf, k) for p, leaf in leaves for k in leaf.buffers]
        self._dropouts = [leaf for _, leaf in leaves if isinstance(leaf, Dropout)]
        self.has_batchnorm = any(isinstance(leaf, BatchNorm1d) for _, leaf in leaves)
        self.has_conv = any(isinstance(leaf, Conv2d) for _, leaf in leaves)
        self._input_linears = [leaf for leaf in _input_leaves(self.net) if isinstance(leaf, (Linear, Conv2d))]
        self.input_grad: np.ndarray | None = None

    # -- named arrays -------------------------------------------------------------
    @property
    def params(self) -> dict[str, np.ndarray]:
        """Name → parameter array (the model's own arrays, not copies)."""
        return {name: leaf.params[k] for name, leaf, k in self._param_slots}

    @params.setter
    def params(self, new: dict[str, np.ndarray]) -> None:
        self.set_params(new)

    def set_params(self, new: dict[str, np.ndarray]) -> None:
        """Use the arrays of ``new`` (same names and shapes) as the parameters, cast to the model's dtype."""
        missing = [name for name, _, _ in self._param_slots if name not in new]
        extra = sorted(set(new) - {name for name, _, _ in self._param_slots})
        if missing or extra:
            raise OptvizError(
                f"parameter names do not match the model: missing {missing}, unknown {extra}"
            )
        for name, leaf, k in self._param_slots:
            value = np.asarray(new[name], dtype=self.dtype)
            if value.shape != leaf.params[k].shape:
                raise OptvizError(
                    f"parameter {name} has shape {value.shape}, the model needs {leaf.params[k].shape}"
                )
            leaf.params[k] = value

    @property
    def param_kinds(self) -> dict[str, str]:
        """Name → "weight" | "bias" | "norm" | "prelu" (decay and L1 touch only "weight")."""
        return {name: leaf.kinds[k] for name, leaf, k in self._param_slots}

    @property
    def running_stats(self) -> dict[str, np.ndarray]:
        """BatchNorm running statistics by name, e.g. "layer1.norm.running_mean" (empty without BN)."""
        return {name: leaf.buffers[k] for name, leaf, k in self._buffer_slots}

    def num_params(self) -> int:
        return sum(leaf.params[k].size for _, leaf, k in self._param_slots)

    def get_state(self) -> dict[str, np.ndarray]:
        """Copies of all parameters and running statistics, by name."""
        state = {name: leaf.params[k].copy() for name, leaf, k in self._param_slots}
        state.update({name: leaf.buffers[k].copy() for name, leaf, k in self._buffer_slots})
        return state

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what ``get_state`` returned (copies in, so the state can be reused)."""
        buffer_names = {name for name, _, _ in self._buffer_slots}
        self.set_params(
            {k: np.array(v, dtype=self.dtype) for k, v in state.items() if k not in buffer_names}
        )
        for name, leaf, k in self._buffer_slots:
            if name not in state:
                raise OptvizError(f"state has no running statistic {name}")
            leaf.buffers[k] = np.array(state[name], dtype=self.dtype)

    @property
    def layers(self) -> list[tuple[str, Module]]:
        return self.net.layers

    def __repr__(self) -> str:
        return "Model" + repr(self.net).removeprefix("Sequential")

    def summary_rows(self) -> list[SummaryRow]:
        """Each layer's output shape, parameter count and receptive field (optviz.nn.summary)."""
        return summarize(self.net, (int(self.spec.get("in_dim", 0)),))

    def memory_per_sample(self) -> int:
        """About how many bytes a training step needs per sample (optviz.nn.summary.activation_values)."""
        return activation_values(self.summary_rows()) * self.dtype.itemsize

    def summary(self) -> str:
        """The summary as a text table (docs/math.md §7.8)."""
        return format_summary(self.summary_rows())

    def seed_dropout(self, seed: int) -> None:
        """Restart every dropout layer's random stream (same masks for each optimizer)."""
        for i, layer in enumerate(self._dropouts):
            layer.rng = np.random.default_rng([seed, i])

    # -- computation --------------------------------------------------------------
    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        """Output for a batch x of shape (m, in_dim), computed in the model's dtype.

        An image model evaluates (``train`` False) more than ``EVAL_CHUNK`` samples a chunk
        at a time: the same outputs (evaluation treats samples one by one) within bounded
        memory; only the last chunk's values are kept for a backward pass.
        """
        x = np.asarray(x, dtype=self.dtype)
        if train or not self.has_conv or len(x) <= EVAL_CHUNK:
            return self.net.forward(x, train)
        return np.concatenate([self.net.forward(x[i : i + EVAL_CHUNK], False)
                               for i in range(0, len(x), EVAL_CHUNK)])

    def infer(self, x: np.ndarray) -> np.ndarray:
        """Evaluation-mode output, fast: ``forward(x, train=False)`` up to float rounding.

        Every Linear followed by BatchNorm is folded into one affine map,
        z = x (W ⊙ k) + ((b − μ_run) ⊙ k + β) with k = γ / √(σ²_run + ε) per output
        feature; ReLU and the residual sums work in place, dropout is skipped and no
        backward caches are kept. For many evaluations of large batches (loss
        landscapes); ``forward`` stays the reference. An image model is evaluated by
        ``forward`` itself, in chunks of ``EVAL_CHUNK`` samples.
        """
        if self.has_conv:
            return self.forward(x, False)
        return _infer(self.net, np.asarray(x, dtype=self.dtype))

    def backward(self, dout: np.ndarray, input_grad: bool = False) -> dict[str, np.ndarray]:
        """Gradients of the loss w.r.t. every parameter, given ∂l/∂out of the last forward.

        ``input_grad=True`` also stores ∂l/∂x for the network input in ``self.input_grad``
        (otherwise the layers that read the input skip that product and it is None).
        """
        for leaf in self._input_linears:
            leaf.skip_input_grad = not input_grad
        dx = self.net.backward(np.asarray(dout, dtype=self.dtype))
        self.input_grad = dx if input_grad else None
        return {name: leaf.grads[k] for name, leaf, k in self._param_slots}


def _infer(module: Module, x: np.ndarray) -> np.ndarray:
    """Model.infer for one module; the result is always a new array (x is never written)."""
    if isinstance(module, ResidualBlock):
        h = _infer_chain(module.main, x)
        h += x if module.shortcut is None else _infer(module.shortcut, x)
        return _infer_chain([("act", module.act)], h, owned=True)
    kids = module.children()
    if kids:
        return _infer_chain(kids, x)
    return _infer_chain([("leaf", module)], x)


def _infer_chain(items: list[tuple[str, Module]], x: np.ndarray, owned: bool = False) -> np.ndarray:
    """Apply ``items`` in order; ``owned`` says whether x may be overwritten in place."""
    i = 0
    while i < len(items):
        layer = items[i][1]
        after = items[i + 1][1] if i + 1 < len(items) else None
        if isinstance(layer, Linear):
            W, b = layer.params["W"], layer.params["b"]
            if isinstance(after, BatchNorm1d):
                bn = after.params
                k = bn["gamma"] / np.sqrt(after.buffers["running_var"] + NORM_EPS)
                k = k.astype(x.dtype, copy=False)
                x = np.matmul(x, W * k)
                x += (b - after.buffers["running_mean"]) * k + bn["beta"]
                i += 2
            else:
                x = np.matmul(x, W)
                x += b
                i += 1
            owned = True
            continue
        if isinstance(layer, Dropout):
            pass
        elif isinstance(layer, ReLU) and owned:
            np.maximum(x, 0, out=x)
        elif layer.children() or isinstance(layer, ResidualBlock):
            x, owned = _infer(layer, x), True
        else:
            y = layer.forward(x, False)
            owned = owned or y is not x
            x = y
        i += 1
    return x if owned else x.copy()


def _input_leaves(module: Module) -> list[Module]:
    """The leaves that read ``module``'s input directly (first layers, residual shortcuts);
    a layer that only reshapes its input (``shape_only``) passes it on to the next."""
    if isinstance(module, (ResidualBlock, ResidualBlock2d)):
        first = _input_leaves(module.main[0][1])
        return first + ([module.shortcut] if module.shortcut is not None else [])
    kids = module.children()
    if not kids:
        return [module]
    first = 0
    while getattr(kids[first][1], "shape_only", False) and first + 1 < len(kids):
        first += 1
    return _input_leaves(kids[first][1])


def parameter_count(arch: str, in_dim: int, out_dim: int, depth: int, width: int, norm: str = "none",
                    act: str = "relu") -> int:
    """The number of parameters ``build_model`` makes with these arguments (running
    statistics not counted), before building it: nothing of the network's size is allocated."""
    per_norm = width * sum(v.size for v in norm_layer.params.values()) if (norm_layer := make_norm(norm, 1)) else 0
    per_act = width * sum(v.size for v in make_activation(act, 1).params.values())
    if arch == "mlp":
        dims = [in_dim] + [width] * depth
        body = sum((n_in + 1) * width + per_norm + per_act for n_in in dims[:-1])
        return body + dims[-1] * out_dim + out_dim
    body, prev = 0, in_dim
    for _ in range(resnet_blocks(depth)):
        shortcut = (prev + 1) * width if prev != width else 0
        body += (prev + 1) * width + (width + 1) * width + shortcut + 2 * per_norm + 2 * per_act
        prev = width
    return body + prev * out_dim + out_dim


def resnet_blocks(depth: int) -> int:
    """Number of residual blocks for a trunk of ``depth`` Linear layers: ⌈depth/2⌉, at least 1."""
    return max(1, math.ceil(depth / 2))


def build_model(
    arch: str = "mlp",
    in_dim: int = 2,
    out_dim: int = 2,
    depth: int = 2,
    width: int = 32,
    norm: str = "bn",
    act: str = "relu",
    init: str = "he",
    dropout: float = 0.0,
    seed: int = 0,
    dtype=np.float32,
    zero_init_residual: bool | None = None,
    *,
    image_shape: tuple[int, int, int] | None = None,
    channels: int | None = None,
    blocks: int = 1,
    growth: int = 12,
    groups: int = 2,
    shortcut: str = "conv1x1",
    stages: int | None = None,
) -> Model:
    """Build a classifier network whose output is the logits (no softmax: the loss has it).

    ``arch="mlp"``: ``depth`` hidden layers, each Linear → norm → act → dropout, named
    ``layer1`` … ``layerD`` (``layer1.linear.W``, ``layer1.norm.gamma``, ``layer1.act.alpha``),
    then the Linear head ``head`` (``head.W``, ``head.b``). depth = 0 is logistic regression.

    ``arch="resnet"``: ``depth`` counts the Linear layers of the trunk, in
    ⌈depth/2⌉ residual blocks (at least one) of two Linear layers each, so an odd depth
    rounds up to the next even number; blocks are ``block1`` … (``block1.linear1.W``,
    ``block1.norm2.gamma``); the first block maps in_dim → width and has a projection
    ``block1.shortcut`` (not counted in depth) when in_dim ≠ width. Then the head.

    Image models (docs/math.md §7.5–§7.7) read each sample's in_dim = C·H·W values as a
    C×H×W image (``image_shape``; default 1×s×s when in_dim = s²); ``depth`` and ``width``
    do not apply:

    - ``"resnet-cnn"``: stem conv3×3 (``channels``, default 32)–norm–act, then ``stages``
      stages (default: halve the side while it stays ≥ 4, at most 3: two for 8×8) of
      ``blocks`` residual blocks (optviz.nn.cnn.ResidualBlock2d); each later stage doubles
      the channels and halves H and W in its first block, whose shortcut is ``shortcut``
      ("conv1x1", or "none": that block has no shortcut); global average pool; head.
    - ``"cnn"``: the same network without any shortcut (same depth: 2 + 2·stages·blocks
      layers with weights).
    - ``"densenet"``: stem conv3×3 (``channels``, default 16), ``stages`` dense blocks of
      ``blocks`` layers of ``growth`` channels, transitions halving channels and side,
      norm–act, global average pool, head.
    - ``"lenet"``: LeNet of docs/math.md §7.7 (``channels``: the first convolution's, 6).

    ``norm``: "bn" (BatchNorm1d), "ln" (LayerNorm) or "none", always between the
    affine map and the activation; image models also take "gn" (GroupNorm with
    ``groups`` groups) and "in" (InstanceNorm), and "bn"/"ln" are BatchNorm2d and
    LayerNorm over (C, H, W) there. ``init`` names an initializer of optviz.nn.init
    for every W (biases start at 0). ``dropout`` is the drop probability after each
    hidden activation (after the first activation inside a residual block; before the
    head of an image model). ``zero_init_residual`` (default: True exactly when norm is
    "none") starts the second Linear or convolution of every residual block at 0; see
    ``ResidualBlock`` (an image model's block without a shortcut keeps its He init: at 0 it
    would pass nothing on). ``seed`` fixes the initial weights and the dropout masks.
    Parameters are stored in ``dtype`` (float32 by default; float64 for gradient checks).
    A configuration that shrinks an image below 1×1 is refused, naming the layer.
    """
    validate.one_of("arch", arch, ARCHS)
    if arch not in CONV_ARCHS:
        validate.one_of("norm", norm, NORMS)
    get_initializer(init)
    make_activation(act, 1)
    for name, number, low in (("in_dim", in_dim, 1), ("out_dim", out_dim, 1), ("width", width, 1), ("depth", depth, 0)):
        validate.whole(name, number, low)
    validate.between("dropout", dropout, 0.0, 1.0, high_open=True)
    if arch in CONV_ARCHS:
        cs = ConvSettings(image_shape_of(image_shape, in_dim), channels, blocks, growth, groups, shortcut, stages)
        cs.check(arch, norm)
        n_params, param, remedy = conv_budget_terms(arch, cs)
    else:
        n_params, param, remedy = parameter_count(arch, in_dim, out_dim, depth, width, norm, act), "width", \
            "choose a smaller width or depth"
    # weights, gradients, two optimizer slots and the packed copies of them
    budget.fits(f"a network of {budget.count(n_params)} parameters", n_params * np.dtype(dtype).itemsize * 8, param,
                remedy)
    if zero_init_residual is None:
        zero_init_residual = norm == "none"
    rng = np.random.default_rng(seed)
    spec = {"arch": arch, "in_dim": in_dim, "out_dim": out_dim, "depth": depth, "width": width, "norm": norm,
            "act": act, "init": init, "dropout": dropout, "seed": seed, "dtype": np.dtype(dtype).name,
            "zero_init_residual": zero_init_residual}
    if arch in CONV_ARCHS:
        layers, prev = conv_layers(arch, cs, norm, act, init, zero_init_residual, rng, dtype)
        if dropout > 0:
            layers.append(("drop", Dropout(dropout, np.random.default_rng([seed, 0]))))
        spec.update(image_shape=list(cs.image_shape), channels=channels, blocks=blocks, growth=growth,
                    groups=groups, shortcut=shortcut, stages=stages)
    else:
        build = _mlp_layers if arch == "mlp" else _resnet_layers
        layers, prev = build(in_dim, depth, width, norm, act, init, dropout, zero_init_residual, seed, rng, dtype)
    layers.append(("head", Linear(prev, out_dim, init, rng, dtype)))
    return Model(layers, spec, dtype)


def _mlp_layers(in_dim, depth, width, norm, act, init, dropout, zero_init_residual, seed, rng, dtype):
    """``layer1`` … ``layerD``: Linear → norm → act → dropout; returns the layers and the last width."""
    layers: list[tuple[str, Module]] = []
    prev = in_dim
    for i in range(1, depth + 1):
        block: list[tuple[str, Module]] = [("linear", Linear(prev, width, init, rng, dtype))]
        norm_layer = make_norm(norm, width, dtype)
        if norm_layer is not None:
            block.append(("norm", norm_layer))
        block.append(("act", make_activation(act, width, dtype)))
        if dropout > 0:
            block.append(("drop", Dropout(dropout, np.random.default_rng([seed, i - 1]))))
        layers.append((f"layer{i}", Sequential(block)))
        prev = width
    return layers, prev


def _resnet_layers(in_dim, depth, width, norm, act, init, dropout, zero_init_residual, seed, rng, dtype):
    """``block1`` … : ⌈depth/2⌉ residual blocks; returns the layers and the last width."""
    layers: list[tuple[str, Module]] = []
    prev = in_dim
    for i in range(1, resnet_blocks(depth) + 1):
        drop_rng = np.random.default_rng([seed, i - 1]) if dropout > 0 else None
        layers.append((f"block{i}", ResidualBlock(prev, width, norm, act, init, dropout, zero_init_residual, rng,
                                                  drop_rng, dtype)))
        prev = width
    return layers, prev

