"""Pooling and flattening of image batches, forward next to backward (docs/math.md §7.2).

Images are (N, C, H, W); every window is k×k, moved by the stride s (s = k unless
given), without padding: output side ⌊(n − k)/s⌋ + 1 (docs/math.md §7.8), a side < 1 is
refused naming the layer. The k² offsets of the windows are strided views of the
input; forward and backward loop over those k² offsets only, never over pixels. As torch
(``ceil_mode=False``), rows and columns that no window reaches get no output and a zero
gradient.
"""

from __future__ import annotations

import numpy as np

from optviz.errors import OptvizError
from optviz.nn.images import check_image, check_int, nchw, nhwc, output_side_or_refuse
from optviz.nn.module import Module


class _Pool2d(Module):
    """Shared settings, checks and window views of MaxPool2d and AvgPool2d."""

    def __init__(self, kernel_size: int, stride: int | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.k = check_int(name, "kernel_size", kernel_size, 1)
        self.stride = self.k if stride is None else check_int(name, "stride", stride, 1)
        self._cache: tuple | None = None

    def describe(self) -> str:
        return f"{type(self).__name__}(k={self.k}, s={self.stride})"

    def output_shape(self, h: int, w: int) -> tuple[int, int]:
        """(H', W') for an H×W input; refused (OptvizError) when a side would be < 1."""
        k, s = self.k, self.stride
        return (
            output_side_or_refuse(self.describe(), h, k, s, None, "height"),
            output_side_or_refuse(self.describe(), w, k, s, None, "width"),
        )

    def _offsets(self, x: np.ndarray) -> tuple[list, tuple[int, ...]]:
        """The k² strided views x[:, :, u::s, v::s] cut to (N, H', W', C), and (N, C, H, W, H', W').

        Entry u·k + v of the list is the value at offset (u, v) of every window: a max or
        a mean over windows is k² − 1 element-wise operations on these views, with no copy
        of the windows.
        """
        n, c, h, w = check_image(self.describe(), x, None)
        ho, wo = self.output_shape(h, w)
        k, s, xh = self.k, self.stride, nhwc(x)
        last_i, last_j = s * (ho - 1) + 1, s * (wo - 1) + 1
        views = [xh[:, u : u + last_i : s, v : v + last_j : s] for u in range(k) for v in range(k)]
        return views, (n, c, h, w, ho, wo)

    def _scatter(self, parts, shape: tuple[int, ...], dtype) -> np.ndarray:
        """Add ``parts(u, v)`` (N, H', W', C) back at window offset (u, v): the sum where windows overlap."""
        n, c, h, w, ho, wo = shape
        k, s = self.k, self.stride
        grad = np.zeros((n, h, w, c), dtype=dtype)
        for u in range(k):
            for v in range(k):
                grad[:, u : u + s * (ho - 1) + 1 : s, v : v + s * (wo - 1) + 1 : s] += parts(u, v)
        return nchw(grad)

    def __repr__(self) -> str:
        return self.describe()


class MaxPool2d(_Pool2d):
    """y[n,c,i,j] = max_{u,v<k} x[n,c, i·s + u, j·s + v]; stride s = k unless given.

    Backward: the whole ∂l/∂y of a window goes to its arg-max; of equal maxima the first
    in row-major order (u, then v) wins, as in torch. Where windows overlap (s < k) a
    pixel that is the maximum of several windows receives the sum of their gradients.
    (The textbook δˡ = upsample(δˡ⁺¹) is the case s = k.) A NaN is the maximum of its
    window and takes the gradient (the last NaN, by torch's rule "v > max or v is NaN").
    """

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        views, shape = self._offsets(x)
        best = views[0].copy()  # (N, H', W', C), channels-last
        arg = np.zeros(best.shape, dtype=np.int32)
        step = np.empty_like(arg)
        for i, view in enumerate(views[1:], start=1):
            better = view > best  # strict: of equal maxima the first stays
            better |= np.isnan(view)
            np.maximum(best, view, out=best)  # NaN wins here too
            # arg ← i where better: arithmetic, much faster than a masked copy
            np.subtract(i, arg, out=step)
            step *= better
            arg += step
        self._cache = (arg, shape, x.dtype)
        return nchw(best)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        arg, shape, dtype = self._cache
        dy_hwc = nhwc(dy)
        k = self.k
        return self._scatter(lambda u, v: dy_hwc * (arg == u * k + v), shape, dtype)


class AvgPool2d(_Pool2d):
    """y[n,c,i,j] = (1/k²) Σ_{u,v<k} x[n,c, i·s + u, j·s + v]; stride s = k unless given.

    Backward: each window spreads ∂l/∂y evenly, ∂l/∂y / k² to each of its k² pixels;
    overlapping windows (s < k) add up. torch's avg_pool2d agrees (no padding, so its
    ``count_include_pad`` does not matter).
    """

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        views, shape = self._offsets(x)
        self._cache = (shape, x.dtype)
        total = views[0].copy()
        for view in views[1:]:
            total += view
        total *= x.dtype.type(1.0 / (self.k * self.k))
        return nchw(total)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        shape, dtype = self._cache
        share = nhwc(dy) * dtype.type(1.0 / (self.k * self.k))
        return self._scatter(lambda u, v: share, shape, dtype)


class GlobalAvgPool2d(Module):
    """y[n,c] = (1/(H·W)) Σ_{i,j} x[n,c,i,j]: (N, C, H, W) → (N, C), for any H×W.

    Backward: ∂l/∂x[n,c,i,j] = ∂l/∂y[n,c] / (H·W). As torch's
    ``adaptive_avg_pool2d(x, 1)`` followed by a flatten.
    """

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        n, c, h, w = check_image("GlobalAvgPool2d", x, None)
        self._cache = (n, c, h, w, x.dtype)
        ones = np.full(h * w, 1.0 / (h * w), dtype=x.dtype)
        # the mean as a batched matrix-vector product, in whichever layout x is stored
        if nhwc(x).flags.c_contiguous:
            return np.matmul(ones, nhwc(x).reshape(n, h * w, c))
        return np.matmul(x.reshape(n, c, h * w), ones)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        n, c, h, w, dtype = self._cache
        grad = np.empty((n, h, w, c), dtype=dtype)
        grad[...] = (dy * dtype.type(1.0 / (h * w)))[:, None, None, :]
        return nchw(grad)

    def __repr__(self) -> str:
        return "GlobalAvgPool2d()"


class Flatten(Module):
    """(N, d₁, d₂, …) → (N, d₁·d₂·…) in row-major (C, H, W) order, as torch.flatten(x, 1).

    Backward: ∂l/∂x is ∂l/∂y reshaped back.
    """

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        shape = getattr(x, "shape", ())
        if len(shape) < 2:
            raise OptvizError(f"Flatten expects a batch (N, …), got an array of shape {shape}")
        self._shape = shape
        return x.reshape(shape[0], -1)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy.reshape(self._shape)

    def __repr__(self) -> str:
        return "Flatten()"
