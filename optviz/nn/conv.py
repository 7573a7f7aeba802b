"""The 2-D convolution layer, forward next to backward (docs/math.md §7.1).

im2col, as in Stanford CS231n's ``fast_layers.py``: every k×k×C window of the padded
input becomes one row of a matrix, so the convolution is a single matrix product. The
windows are a strided view (``numpy.lib.stride_tricks.sliding_window_view``); one copy
turns them into the matrix. No Python loop runs over pixels; in training the matrix is
built for a few samples at a time (``CHUNK_BYTES``), so that each part is multiplied
while it is in cache.

Shapes (torch's): x (N, C, H, W), W (c_out, c_in, k, k), b (c_out,), y (N, c_out, H', W')
with H' = ⌊(H + 2p − k)/s⌋ + 1 (docs/math.md §7.8). The values are kept channels-last in
memory (see optviz.nn.images): the window matrix then has rows (n, i, j) and columns
(u, v, c), and the output (N·H'·W', c_out) of the product *is* y in that layout.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from optviz.nn.images import (
    Workspace,
    check_image,
    check_int,
    nchw,
    nhwc,
    output_side_or_refuse,
    widen,
)
from optviz.nn.init import get_initializer
from optviz.nn.module import Module

# evaluation batches up to this size reuse scratch arrays (Model evaluates image models in
# chunks of this size)
EVAL_REUSE = 64
# in training the window matrix is built and multiplied a few samples at a time, at most
# this many bytes of it (a quarter of a 2 MB L2 cache), and built again in backward for
# ∂W: each part is used while it is still in cache, instead of one matrix of megabytes
# written to memory in forward and read back in backward. 0 turns it off.
CHUNK_BYTES = 512 * 1024


def pad_nhwc(x: np.ndarray, p: int, out: np.ndarray | None = None) -> np.ndarray:
    """Zero-pad the H and W axes of an (N, H, W, C) array by ``p`` on every side.

    ``out``, when given, is the padded array to fill: only its interior is written, so
    its border must already be 0.
    """
    if p == 0:
        return x
    n, h, w, c = x.shape
    if out is None:
        out = np.zeros((n, h + 2 * p, w + 2 * p, c), dtype=x.dtype)
    out[:, p : p + h, p : p + w] = x
    return out


def im2col(xp: np.ndarray, k: int, s: int, ws: Workspace | None = None) -> np.ndarray:
    """The window matrix of a padded (N, Hp, Wp, C) array: (N·H'·W', k·k·C), columns (u, v, c).

    Row (n, i, j) holds xp[n, i·s + u, j·s + v, c] for u, v < k: one copy of the strided
    window view (into ``ws``'s scratch array when given). A 1×1 window at stride 1 needs
    no copy at all. The copy moves runs of k·C consecutive values; when that is shorter
    than an output row W' (few channels, as a first layer's 1), the matrix is built
    transposed, (k·k·C, N·H'·W') with runs of W', and its transpose returned (a view
    that matmul reads as it is): twice as fast for one channel.
    """
    n, _, _, c = xp.shape
    if k == 1:
        windows = xp[:, ::s, ::s]
        if ws is None or windows.flags.c_contiguous:
            return np.ascontiguousarray(windows).reshape(-1, c)
        out = ws.array("cols", (windows.size // c, c), xp.dtype)
        np.copyto(out.reshape(windows.shape), windows)
        return out
    windows = sliding_window_view(xp, (k, k), axis=(1, 2))[:, ::s, ::s]  # N H' W' C k k
    rows, width = n * windows.shape[1] * windows.shape[2], k * k * c
    if k * c < windows.shape[2]:
        windows = windows.transpose(4, 5, 3, 0, 1, 2)  # k k C N H' W'
        shape = (width, rows)
        cols_t = np.empty(shape, xp.dtype) if ws is None else ws.array("cols_t", shape, xp.dtype)
        np.copyto(cols_t.reshape(windows.shape), windows)
        return cols_t.T
    ho, wo = windows.shape[1], windows.shape[2]
    windows = window_runs(xp, k, s, ho, wo)
    if windows is None:
        windows = sliding_window_view(xp, (k, k), axis=(1, 2))[:, ::s, ::s].transpose(0, 1, 2, 4, 5, 3)
    if ws is None:
        return windows.reshape(rows, width)
    cols = ws.array("cols", (rows, width), xp.dtype)
    np.copyto(cols.reshape(windows.shape), windows)
    return cols


def window_runs(xp: np.ndarray, k: int, s: int, ho: int, wo: int) -> np.ndarray | None:
    """The windows of an (N, Hp, Wp, C) array as an (N, H', W', k, k·C) view: for each window
    row u, the k·C values xp[n, i·s + u, j·s + v, c] (v, c) lie next to each other in
    memory, so a copy moves runs of k·C values (about 10 % faster than the (k, k, C) window
    view). None when the W and C axes of ``xp`` are not contiguous together."""
    s0, s1, s2, s3 = xp.strides
    if s2 != xp.shape[3] * s3:
        return None
    shape = (xp.shape[0], ho, wo, k, k * xp.shape[3])
    return as_strided(xp, shape, (s0, s * s1, s * s2, s1, s3), writeable=False)


class Conv2d(Module):
    """2-D convolution (cross-correlation, as in every deep-learning library):

        y[n,o,i,j] = b[o] + Σ_{c,u,v} W[o,c,u,v] · x̃[n,c, i·s + u, j·s + v],

    x̃ the input zero-padded by p on each side, output side ⌊(n + 2p − k)/s⌋ + 1; a
    configuration that leaves less than one output pixel is refused (OptvizError naming
    the layer and the formula). Square kernels k×k, the same stride and padding on
    both axes.

    Backward (docs/math.md §7.1):

    - ∂l/∂W[o,c,u,v] = Σ_{n,i,j} ∂l/∂y[n,o,i,j] · x̃[n,c,i·s+u,j·s+v]: the product of the
      window matrix with the upstream gradient (in training the windows of a few samples
      at a time, ``CHUNK_BYTES``, rebuilt from the padded input kept from forward, and the
      parts added; otherwise the matrix kept from the forward pass);
    - ∂l/∂b[o] = Σ_{n,i,j} ∂l/∂y[n,o,i,j];
    - ∂l/∂x: at stride 1 the full correlation of ∂l/∂y (zero-padded by k − 1) with
      rot180(W), cropped by p — the textbook δˡ = δˡ⁺¹ * rot180(wˡ) — again one im2col and
      one product; at stride s > 1 col2im: the product ∂l/∂y Wᵀ gives each window's
      share, and k² strided additions put the windows back (entries that no window reads,
      when (H + 2p − k) mod s ≠ 0, get 0). ``skip_input_grad`` (set on a first layer)
      skips ∂l/∂x, as for Linear.

    Initialization: ``init`` as for Linear with fan_in = c_in·k² and fan_out = c_out·k²
    (He uniform by default: U[−√(6/fan_in), +]); b = 0. ``bias=False`` leaves b out (a
    convolution followed by BatchNorm: the normalization subtracts any per-channel
    constant, so b would get a zero gradient). torch.nn.Conv2d's default draws
    W and b from U[−1/√fan_in, +1/√fan_in] (kaiming_uniform with a = √5) instead.
    """

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        init: str = "he",
        rng: np.random.Generator | None = None,
        dtype=np.float32,
        bias: bool = True,
    ) -> None:
        super().__init__()
        name = "Conv2d"
        self.c_in = check_int(name, "c_in", c_in, 1)
        self.c_out = check_int(name, "c_out", c_out, 1)
        self.k = check_int(name, "kernel_size", kernel_size, 1)
        self.stride = check_int(name, "stride", stride, 1)
        self.padding = check_int(name, "padding", padding, 0)
        rng = np.random.default_rng(0) if rng is None else rng
        k2 = self.k * self.k
        shape = (self.c_out, self.c_in, self.k, self.k)
        self.params = {
            "W": get_initializer(init)(self.c_in * k2, self.c_out * k2, rng, dtype, size=shape)
        }
        self.kinds = {"W": "weight"}
        if bias:
            self.params["b"] = np.zeros(self.c_out, dtype=dtype)
            self.kinds["b"] = "bias"
        self.skip_input_grad = False
        self._cache: tuple | None = None
        self._workspace = Workspace()
        self._eval_workspace = Workspace()

    def describe(self) -> str:
        """The layer's settings, as in error messages: Conv2d(1→16, k=3, s=1, p=1)."""
        no_bias = "" if "b" in self.params else ", no bias"
        return f"Conv2d({self.c_in}→{self.c_out}, k={self.k}, s={self.stride}, p={self.padding}{no_bias})"

    def output_shape(self, h: int, w: int) -> tuple[int, int]:
        """(H', W') for an H×W input; refused (OptvizError) when a side would be < 1."""
        k, s, p = self.k, self.stride, self.padding
        return (
            output_side_or_refuse(self.describe(), h, k, s, p, "height"),
            output_side_or_refuse(self.describe(), w, k, s, p, "width"),
        )

    def _weight_matrix(self) -> np.ndarray:
        """W as the (k·k·c_in, c_out) matrix whose rows match the window matrix's columns."""
        return self.params["W"].transpose(2, 3, 1, 0).reshape(-1, self.c_out)

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        n, _, h, w = check_image(self.describe(), x, self.c_in)
        ho, wo = self.output_shape(h, w)
        k, p, dtype = self.k, self.padding, x.dtype
        # training reuses the layer's scratch arrays (its batches keep their size);
        # evaluation has its own, so that evaluating never overwrites training's (batches
        # up to EVAL_REUSE samples; larger ones allocate and let go). backward
        # differentiates the last forward pass, whichever mode it ran in
        ws = self._workspace if train else (self._eval_workspace if n <= EVAL_REUSE else None)
        xp = None
        if ws is not None and p:
            xp = ws.array("x_pad", (n, h + 2 * p, w + 2 * p, self.c_in), dtype, zeros=True)
        xp = pad_nhwc(nhwc(x), p, xp)
        per = self._samples_per_chunk(xp, ho, wo) if train else None
        if per is not None:
            if not p:  # backward rebuilds the windows: keep the input, not a view of the caller's array
                xp = ws.array("x_copy", xp.shape, dtype)
                np.copyto(xp, nhwc(x))
            out = self._forward_in_chunks(xp, per, ho, wo)
            cols = ("chunks", xp, per)
        else:
            cols = im2col(xp, k, self.stride, ws)
            out = np.matmul(cols, self._weight_matrix())
        if "b" in self.params:
            wide, r = widen(out)  # a long-row view: the bias add runs long inner loops
            wide += np.tile(self.params["b"], r)
        self._cache = (cols, (n, h, w), (ho, wo))
        return nchw(out.reshape(n, ho, wo, self.c_out))

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        """Gradients of W and b; ∂l/∂x, or None when ``skip_input_grad`` (a first layer)."""
        cols, (n, h, w), (ho, wo) = self._cache
        k, c_in, c_out = self.k, self.c_in, self.c_out
        dy_rows = np.ascontiguousarray(nhwc(dy)).reshape(-1, c_out)
        if isinstance(cols, tuple):
            return self._backward_in_chunks(cols[1], cols[2], dy_rows, n, h, w, ho, wo)
        # (windows)ᵀ · ∂l/∂y rather than (∂l/∂y)ᵀ · windows: the same sums, and OpenBLAS runs
        # this orientation of the tall operands 10–20 % faster (benchmarks/conv_notes.md)
        dw = np.matmul(cols.T, dy_rows).reshape(k, k, c_in, c_out).transpose(3, 2, 0, 1)
        self.grads = {"W": np.ascontiguousarray(dw)}
        if "b" in self.params:
            # Σ over rows as a matrix-vector product: several times faster than sum(axis=0)
            # for a tall matrix of few columns
            self.grads["b"] = np.matmul(np.ones(dy_rows.shape[0], dtype=dy_rows.dtype), dy_rows)
        if self.skip_input_grad:
            return None
        if self.stride == 1:
            return self._input_grad_full_correlation(dy_rows, n, h, w, ho, wo)
        return self._input_grad_col2im(dy_rows, n, h, w, ho, wo)

    def _samples_per_chunk(self, xp: np.ndarray, ho: int, wo: int) -> int | None:
        """How many samples' windows fit in CHUNK_BYTES (None: no chunking for this layer)."""
        if not CHUNK_BYTES or self.k == 1 or self.k * self.c_in < wo or window_runs(xp, self.k, 1, 1, 1) is None:
            return None
        per_sample = ho * wo * self.k * self.k * self.c_in * xp.itemsize
        return max(1, min(xp.shape[0], CHUNK_BYTES // per_sample))

    def _forward_in_chunks(self, xp: np.ndarray, per: int, ho: int, wo: int) -> np.ndarray:
        n, c_out = xp.shape[0], self.c_out
        wm = np.ascontiguousarray(self._weight_matrix())
        out = np.empty((n * ho * wo, c_out), dtype=np.result_type(xp.dtype, wm.dtype))  # as matmul's
        rows = ho * wo
        buf = self._workspace.array("cols", (per * rows, self.k * self.k * self.c_in), xp.dtype)
        for i in range(0, n, per):
            windows = window_runs(xp[i : i + per], self.k, self.stride, ho, wo)
            part = buf[: windows.shape[0] * rows]
            np.copyto(part.reshape(windows.shape), windows)
            np.matmul(part, wm, out=out[i * rows : i * rows + part.shape[0]])
        return out

    def _backward_in_chunks(self, xp, per, dy_rows, n, h, w, ho, wo) -> np.ndarray | None:
        k, p, c_in, c_out, dtype = self.k, self.padding, self.c_in, self.c_out, dy_rows.dtype
        ws = self._workspace
        rows = ho * wo
        buf = ws.array("cols", (per * rows, k * k * c_in), dtype)
        dwt = np.zeros((k * k * c_in, c_out), dtype)
        tmp = ws.array("dw_part", dwt.shape, dtype)
        full = self.stride == 1 and not self.skip_input_grad
        if full:
            q = k - 1
            grad = pad_nhwc(dy_rows.reshape(n, ho, wo, c_out), q,
                            ws.array("dy_pad", (n, ho + 2 * q, wo + 2 * q, c_out), dtype, zeros=True))[:, p:, p:]
            rot = np.ascontiguousarray(self.params["W"][:, :, ::-1, ::-1].transpose(2, 3, 0, 1).reshape(-1, c_in))
            dbuf = ws.array("dy_cols", (per * h * w, k * k * c_out), dtype)
            dx = np.empty((n * h * w, c_in), dtype)
        for i in range(0, n, per):
            windows = window_runs(xp[i : i + per], k, self.stride, ho, wo)
            part = buf[: windows.shape[0] * rows]
            np.copyto(part.reshape(windows.shape), windows)
            np.matmul(part.T, dy_rows[i * rows : i * rows + part.shape[0]], out=tmp)
            dwt += tmp
            if full:
                windows = window_runs(grad[i : i + per], k, 1, h, w)
                dpart = dbuf[: windows.shape[0] * h * w]
                np.copyto(dpart.reshape(windows.shape), windows)
                np.matmul(dpart, rot, out=dx[i * h * w : i * h * w + dpart.shape[0]])
        self.grads = {"W": np.ascontiguousarray(dwt.reshape(k, k, c_in, c_out).transpose(3, 2, 0, 1))}
        if "b" in self.params:
            self.grads["b"] = np.matmul(np.ones(dy_rows.shape[0], dtype=dtype), dy_rows)
        if self.skip_input_grad:
            return None
        if full:
            return nchw(dx.reshape(n, h, w, c_in))
        return self._input_grad_col2im(dy_rows, n, h, w, ho, wo)

    def _input_grad_full_correlation(self, dy_rows, n, h, w, ho, wo) -> np.ndarray:
        """Stride 1: ∂l/∂x̃ = (∂l/∂y zero-padded by k − 1) ⋆ rot180(W), cropped by p.

        With W′[c,o,u,v] = W[o,c,k−1−u,k−1−v], this is a convolution of the padded
        gradient with W′ (c_out → c_in channels); only the windows of the H×W pixels
        that are not padding are formed.
        """
        k, p, c_out, dtype = self.k, self.padding, self.c_out, dy_rows.dtype
        ws = self._workspace
        rot = self.params["W"][:, :, ::-1, ::-1].transpose(2, 3, 0, 1).reshape(-1, self.c_in)
        if k == 1 and p == 0:  # a 1×1 convolution: ∂l/∂x = ∂l/∂y Wᵀ, no windows
            return nchw(np.matmul(dy_rows, rot).reshape(n, h, w, self.c_in))
        q = k - 1
        grad = dy_rows.reshape(n, ho, wo, c_out)
        if q:
            grad = pad_nhwc(
                grad, q, ws.array("dy_pad", (n, ho + 2 * q, wo + 2 * q, c_out), dtype, zeros=True)
            )
        cols = ws.array("dy_cols", (n * h * w, k * k * c_out), dtype)
        windows = window_runs(grad[:, p:, p:], k, 1, h, w)  # the padded gradient is contiguous
        np.copyto(cols.reshape(windows.shape), windows)
        return nchw(np.matmul(cols, rot).reshape(n, h, w, self.c_in))

    def _input_grad_col2im(self, dy_rows, n, h, w, ho, wo) -> np.ndarray:
        """Any stride: each window's share ∂l/∂y Wᵀ, added back where the window was read.

        The shares are written phase by phase: the pixels (r, c) with r ≡ a, c ≡ b (mod s)
        receive exactly the kernel taps (u, v) with u − p ≡ a, v − p ≡ b (mod s), so each
        phase's first tap is copied, the others added, and padding is never formed (no
        zero-filled padded array, no cropping copy); a phase no tap reaches is set to 0.
        """
        k, s, p, c_in = self.k, self.stride, self.padding, self.c_in
        share = np.matmul(dy_rows, self._weight_matrix().T).reshape(n, ho, wo, k, k, c_in)
        grad = np.empty((n, h, w, c_in), dtype=share.dtype)
        for a in range(s):
            for b in range(s):
                phase = grad[:, a::s, b::s]
                if phase.size:
                    _fill_phase(phase, share, [_tap_span(u, a, s, p, ho, phase.shape[1]) for u in range(k)],
                                [_tap_span(v, b, s, p, wo, phase.shape[2]) for v in range(k)])
        return nchw(grad)

    def __repr__(self) -> str:
        return self.describe()


def _tap_span(u: int, a: int, s: int, p: int, n_windows: int, n_phase: int) -> tuple[int, int, int] | None:
    """Where kernel tap ``u`` writes in phase ``a`` along one axis: (first window, first
    pixel of the phase, count), or None when the tap belongs to another phase or reaches
    no pixel. Window i's tap u reads padded pixel i·s + u, the image pixel r = i·s + u − p,
    which is pixel (r − a)/s = i + (u − p − a)/s of the phase."""
    if (u - p - a) % s:
        return None
    d = (u - p - a) // s
    first, end = max(0, -d), min(n_windows, n_phase - d)
    return (first, first + d, end - first) if end > first else None


def _fill_phase(phase: np.ndarray, share: np.ndarray, rows: list, cols: list) -> None:
    """phase[:, m, q] = Σ share[:, i, j, u, v] over the taps (u, v) whose spans reach it."""
    started = False
    for u, row in enumerate(rows):
        for v, col in enumerate(cols):
            if row is None or col is None:
                continue
            (i, m, ni), (j, q, nj) = row, col
            src = share[:, i : i + ni, j : j + nj, u, v]
            whole = (m, ni, q, nj) == (0, phase.shape[1], 0, phase.shape[2])
            if not started and not whole:
                phase[...] = 0
            if started or not whole:
                phase[:, m : m + ni, q : q + nj] += src
            else:
                np.copyto(phase, src)
            started = True
    if not started:
        phase[...] = 0
