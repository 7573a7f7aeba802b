"""Shared pieces of the image layers: argument checks, output sizes and the memory layout.

Images are (N, C, H, W) arrays, as torch's are. Internally the image layers keep the
values *channels-last* in memory, (N, H, W, C) with C varying fastest, and hand back
(N, C, H, W)-shaped views of that memory (``nchw``): the values and shapes are the
torch ones, only the strides differ. In that layout the N·H·W "pixels" of a batch are
the rows of an (N·H·W, C) matrix (``channel_rows``): a convolution is one matrix
product with it, and BatchNorm2d is BatchNorm1d over its rows — both without a copy.
Element-wise numpy operations (ReLU, the residual sum) keep the layout of their inputs,
so it survives between layers. An ordinary (N, C, H, W)-contiguous array is accepted
everywhere; it costs one transposing copy where rows are needed.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from optviz.errors import OptvizError

# width of the rows ``widen`` makes: long enough that numpy's inner loops are long
WIDE_ROW = 1024


def check_int(owner: str, name: str, value, minimum: int) -> int:
    """``value`` as an int ≥ ``minimum``; anything else (bool, float, text) is an OptvizError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise OptvizError(f"{owner}: {name} must be an integer ≥ {minimum}, got {value!r}")
    return int(value)


def conv_output_size(n: int, kernel: int, stride: int, padding: int = 0) -> int:
    """Output side of a convolution or pooling window: ⌊(n + 2p − f)/s⌋ + 1 (docs/math.md §7.8).

    Python's floor division rounds towards −∞, as the formula does, so a window larger
    than the padded image gives a side ≤ 0.
    """
    return (n + 2 * padding - kernel) // stride + 1


def output_side_or_refuse(
    layer: str, n: int, kernel: int, stride: int, padding: int | None, axis: str
) -> int:
    """The output side along ``axis`` ("height"/"width"); a side < 1 is refused, naming the layer.

    ``padding`` None is a layer without padding (pooling): its formula is ⌊(n − f)/s⌋ + 1.
    The message writes the formula with the numbers filled in, e.g.
    ``⌊(n + 2p − f)/s⌋ + 1 = ⌊(3 + 2·0 − 5)/1⌋ + 1 = -1 < 1``.
    """
    side = conv_output_size(n, kernel, stride, padding or 0)
    if side >= 1:
        return side
    if padding is None:
        formula = f"⌊(n − f)/s⌋ + 1 = ⌊({n} − {kernel})/{stride}⌋ + 1"
        fix = "a larger image or a smaller window"
    else:
        formula = f"⌊(n + 2p − f)/s⌋ + 1 = ⌊({n} + 2·{padding} − {kernel})/{stride}⌋ + 1"
        fix = "a larger image, more padding or a smaller kernel"
    raise OptvizError(
        f"{layer} cannot take an image of {axis} {n}: output side {formula} = {side} < 1; use {fix}"
    )


def check_image(layer: str, x: np.ndarray, channels: int | None) -> tuple[int, int, int, int]:
    """(N, C, H, W) of ``x``; refuses anything that is not a batch of images with ``channels``."""
    shape = getattr(x, "shape", None)
    if shape is None or len(shape) != 4:
        raise OptvizError(
            f"{layer} expects images of shape (N, C, H, W), got an array of shape {shape}"
        )
    n, c, h, w = shape
    if channels is not None and c != channels:
        raise OptvizError(
            f"{layer} expects {channels} channel(s), got images of shape {tuple(shape)}"
        )
    if min(shape) < 1:
        raise OptvizError(f"{layer} got an empty batch of images, shape {tuple(shape)}")
    return n, c, h, w


def nhwc(x: np.ndarray) -> np.ndarray:
    """The (N, H, W, C) view of an (N, C, H, W) array (no copy, any memory layout)."""
    return x.transpose(0, 2, 3, 1)


def nchw(x: np.ndarray) -> np.ndarray:
    """The (N, C, H, W) view of an (N, H, W, C) array (no copy)."""
    return x.transpose(0, 3, 1, 2)


def channel_rows(x: np.ndarray) -> np.ndarray:
    """The (N·H·W, C) matrix of an (N, C, H, W) batch: one row per pixel, one column per channel.

    A view when ``x`` is channels-last in memory, else a transposing copy.
    """
    c = x.shape[1]
    return np.ascontiguousarray(nhwc(x)).reshape(-1, c)


def from_channel_rows(rows: np.ndarray, n: int, h: int, w: int) -> np.ndarray:
    """The (N, C, H, W) view of an (N·H·W, C) matrix of pixel rows (inverse of ``channel_rows``)."""
    return nchw(rows.reshape(n, h, w, rows.shape[1]))


def widen(rows: np.ndarray) -> tuple[np.ndarray, int]:
    """A contiguous (M, C) matrix as the (M/r, r·C) view of the same memory, and r.

    r is the largest divisor of M with r·C ≤ 1024 (at least 1). A length-C vector
    broadcast over (M, C) makes numpy run M inner loops of only C elements; over the
    wide view, with the vector tiled r times (``np.tile(v, r)``), the loops are r times
    longer and the operation up to twice as fast for C = 16 (benchmarks/conv_notes.md).
    Per-channel sums of the wide view's columns come back with ``fold``.
    """
    m, c = rows.shape
    r = math.gcd(m, max(1, WIDE_ROW // c))
    return rows.reshape(m // r, r * c), r


def fold(column_sums: np.ndarray, r: int) -> np.ndarray:
    """Per-channel totals from the r·C column sums of a ``widen``ed matrix."""
    return column_sums.reshape(r, -1).sum(axis=0)


class Workspace:
    """Scratch arrays a layer reuses from one call to the next, by name.

    Allocating a fresh multi-megabyte array for every call costs more than filling it:
    the C library hands such blocks back to the system when they are freed, so each new
    one is zero-filled page by page (about 600 page faults for the 2.4 MB window matrix
    of a 16-channel 3×3 convolution of 64 8×8 images, which doubled its forward and
    backward; benchmarks/conv_notes.md). An array is made on first use and again only
    when the shape or dtype asked for changes; ``zeros`` arrays start at 0 (callers
    that write only their interior keep a zero border).
    """

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def array(self, name: str, shape: tuple[int, ...], dtype, zeros: bool = False) -> np.ndarray:
        a = self._arrays.get(name)
        if a is None or a.shape != shape or a.dtype != dtype:
            a = np.zeros(shape, dtype=dtype) if zeros else np.empty(shape, dtype=dtype)
            self._arrays[name] = a
        return a
