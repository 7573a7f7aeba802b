"""The model summary: each layer's output shape, parameter count and receptive field
(docs/math.md §7.8), found by walking the layers without running them.

The receptive field (RF) of a unit is the side of the input patch it depends on. Walking
forwards from RF = 1 with the cumulative stride ("jump") J = 1, a layer of kernel f and
stride s makes RF ← RF + (f − 1)·J, then J ← J·s — the same numbers as the backward rule
RF_i = (RF_{i+1} − 1)·s_i + f_i. It follows the main path: a residual block's two 3×3
convolutions (its shortcut row shows the shortcut's own, smaller field), a dense block's
chain of convolutions. After global average pooling or a Linear layer every unit sees the
whole input (``rf`` None, printed "all"). Padding does not change the receptive field.
"""

from __future__ import annotations

from dataclasses import dataclass

from optviz.nn.module import Module


@dataclass(frozen=True)
class SummaryRow:
    """One layer: its dotted name, a description, the output shape of one sample (C, H, W) or
    (F,), its number of parameters and its receptive field (None: the whole input);
    ``window``: for a convolution, the size of its window matrix per sample (H'·W'·k²·c_in)."""

    name: str
    layer: str
    shape: tuple[int, ...]
    params: int
    rf: int | None
    window: int = 0


@dataclass
class _Walk:
    shape: tuple[int, ...]
    rf: int | None = 1
    jump: int = 1

    def step(self, f: int, s: int) -> None:
        if self.rf is not None:
            self.rf += (f - 1) * self.jump
            self.jump *= s


def describe(layer: Module) -> str:
    """A one-line description of a leaf layer: Conv2d(1→16, k=3, s=1, p=1), Linear(64→10), ReLU."""
    if hasattr(layer, "describe"):
        return layer.describe()
    kind = type(layer).__name__
    if kind == "Linear":
        n_in, n_out = layer.params["W"].shape
        return f"Linear({n_in}→{n_out})"
    if type(layer).__repr__ is not Module.__repr__:
        return repr(layer)
    if "gamma" in layer.params:  # BatchNorm1d, LayerNorm
        return f"{kind}({layer.params['gamma'].shape[0]})"
    return f"{kind}()"


def _leaf(layer: Module, walk: _Walk) -> None:
    """Move ``walk`` through one leaf: its output shape and receptive field."""
    kind = type(layer).__name__
    if kind == "ToImage":
        walk.shape, walk.rf, walk.jump = layer.shape, 1, 1
    elif hasattr(layer, "output_shape"):  # Conv2d, MaxPool2d, AvgPool2d
        c = getattr(layer, "c_out", walk.shape[0])
        walk.shape = (c, *layer.output_shape(*walk.shape[1:]))
        walk.step(layer.k, layer.stride)
    elif kind == "GlobalAvgPool2d":
        walk.shape, walk.rf = walk.shape[:1], None
    elif kind == "Flatten":
        size = 1
        for side in walk.shape:
            size *= side
        walk.shape = (size,)
    elif kind == "Linear":
        walk.shape, walk.rf = (layer.params["W"].shape[1],), None


def _walk(module: Module, name: str, walk: _Walk, rows: list[SummaryRow]) -> None:
    kids = module.children()
    if not kids:
        _leaf(module, walk)
        params = sum(int(v.size) for v in module.params.values())
        window = walk.shape[1] * walk.shape[2] * module.k**2 * module.c_in if hasattr(module, "c_in") else 0
        rows.append(SummaryRow(name, describe(module), tuple(walk.shape), params, walk.rf, window))
        return
    prefix = f"{name}." if name else ""
    if hasattr(module, "main") and hasattr(module, "shortcut"):  # residual blocks
        start = _Walk(walk.shape, walk.rf, walk.jump)
        for child, layer in module.main:
            _walk(layer, prefix + child, walk, rows)
        if module.shortcut is not None:
            _walk(module.shortcut, prefix + "shortcut", start, rows)
        _walk(module.act, prefix + "act2", walk, rows)
        return
    c_in = walk.shape[0]
    for child, layer in kids:
        _walk(layer, prefix + child, walk, rows)
    if hasattr(module, "growth"):  # a dense layer: its input and its new channels, concatenated
        walk.shape = (c_in + module.growth, *walk.shape[1:])
        rows.append(SummaryRow(prefix + "concat", f"concatenate {c_in} + {module.growth} channels",
                               tuple(walk.shape), 0, walk.rf))


def summarize(net: Module, in_shape: tuple[int, ...]) -> list[SummaryRow]:
    """The rows of the summary of ``net`` for samples of shape ``in_shape`` ((d,) flat samples)."""
    rows: list[SummaryRow] = []
    walk = _Walk(tuple(in_shape), None if len(in_shape) == 1 else 1)
    for name, layer in net.children():
        _walk(layer, name, walk, rows)
    return rows


def activation_values(rows: list[SummaryRow]) -> int:
    """About how many numbers a training step keeps per sample: each layer's output, its cached
    input and its gradient, and each convolution's window matrices (of the input and of ∂l/∂y)."""
    total = 0
    for row in rows:
        size = 1
        for side in row.shape:
            size *= side
        total += 3 * size + 2 * row.window
    return total


def format_summary(rows: list[SummaryRow]) -> str:
    """The rows as a text table, with the total number of parameters."""
    head = ("layer", "type", "output", "params", "RF")
    table = [head] + [(r.name, r.layer, "×".join(map(str, r.shape)), f"{r.params:,}",
                       "all" if r.rf is None else f"{r.rf}×{r.rf}") for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    lines = []
    for row in table:
        cells = [row[i].ljust(widths[i]) if i < 3 else row[i].rjust(widths[i]) for i in range(len(head))]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(f"total: {sum(r.params for r in rows):,} parameters")
    return "\n".join(lines)
