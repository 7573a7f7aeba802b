"""Normalizations of image batches (N, C, H, W), forward next to backward (docs/math.md §7.3–§7.4).

All of them compute x̂ = (x − μ)/√(σ² + ε) with the *biased* variance σ² and ε = 1e-5,
then y = γ x̂ + β; they differ in the set of values μ and σ² are taken over:

- BatchNorm2d(c): the N·H·W values of a channel in the batch; γ, β per channel;
  running statistics for evaluation;
- GroupNorm(g, c): the (C/g)·H·W values of a group of channels in one sample; γ, β per
  channel;
- InstanceNorm2d(c): the H·W values of a channel in one sample; γ, β per channel;
- LayerNorm2d(c, h, w): the C·H·W values of one sample; γ, β of shape (C, H, W).

The last three keep no running statistics: training and evaluation compute the same.
GroupNorm with one group normalizes as LayerNorm2d (with a per-channel affine map),
with c groups as InstanceNorm2d. Statistics over a single value (σ² = 0, x̂ ≡ 0: the
layer could learn nothing) are refused with OptvizError naming the layer.

The backward of each is BatchNorm's closed form (docs/math.md §6.3) with m the number of
values the statistics cover, its terms collected as in BatchNorm1d.backward:

    ∂l/∂x = s · [∂l/∂x̂ − mean(∂l/∂x̂) − x̂ · mean(∂l/∂x̂ · x̂)],  ∂l/∂x̂ = γ ∂l/∂y,

s = 1/√(σ² + ε), the means over the same m values. For BatchNorm2d and InstanceNorm2d γ
is constant over those values and factors out; for GroupNorm (several channels per
group) and LayerNorm2d it does not.
"""

from __future__ import annotations

import numpy as np

from optviz.errors import OptvizError
from optviz.nn.images import (
    channel_rows,
    check_image,
    check_int,
    fold,
    from_channel_rows,
    nchw,
    nhwc,
    widen,
)
from optviz.nn.layers import BN_RHO, NORM_EPS, BatchNorm1d
from optviz.nn.module import Module


class BatchNorm2d(BatchNorm1d):
    """Batch normalization per channel over the N·H·W values of the batch (docs/math.md §7.3).

    Exactly BatchNorm1d applied to the (N·H·W, C) matrix whose rows are the pixels of the
    batch: m → m·p·q in every formula of BatchNorm1d (biased variance, ε = 1e-5, γ = 1,
    β = 0 at start; running ← ρ·running + (1 − ρ)·batch with ρ = 0.9, running_mean from
    0 and running_var from 1; evaluation normalizes with the running statistics). Hence
    the class is a BatchNorm1d: code that sets ``rho`` or looks for batch normalization
    finds this one too.

    The running variance averages the *biased* σ² over the m·p·q values; torch's
    batch_norm / nn.BatchNorm2d(momentum=0.1) averages the unbiased m·p·q/(m·p·q − 1)·σ²
    instead (only evaluation differs).

    In training, statistics over a single value per channel (N·H·W = 1) are refused.
    """

    def __init__(self, c: int, rho: float = BN_RHO, dtype=np.float32) -> None:
        super().__init__(check_int("BatchNorm2d", "c", c, 1), rho=rho, dtype=dtype)
        self.c = c
        self._shape: tuple[int, int, int] | None = None

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        n, c, h, w = check_image(f"BatchNorm2d({self.c})", x, self.c)
        if train and n * h * w < 2:
            raise OptvizError(
                f"BatchNorm2d({self.c}) in training needs at least 2 values per channel "
                f"(N·H·W), got a batch of shape {tuple(x.shape)}; use a batch size of 2 or more"
            )
        self._shape = (n, h, w)
        rows = channel_rows(x)
        if not train:
            return from_channel_rows(super().forward(rows, False), n, h, w)
        # BatchNorm1d's forward on the m·p·q rows, seen wide (optviz.nn.images.widen) and
        # summed by matrix-vector products: several times faster than sum(axis=0) and
        # broadcasting over a tall matrix of few columns
        m = rows.shape[0]
        wide, r = widen(rows)
        ones = np.ones(wide.shape[0], dtype=rows.dtype)
        mu = fold(np.matmul(ones, wide), r) * (1.0 / m)
        centered = wide - np.tile(mu, r)
        var = fold(np.matmul(ones, np.square(centered)), r) * (1.0 / m)
        rho = self.rho
        for key, batch in (("running_mean", mu), ("running_var", var)):
            self.buffers[key] = (rho * self.buffers[key] + (1 - rho) * batch).astype(
                rows.dtype, copy=False
            )
        inv_std = (1.0 / np.sqrt(var + NORM_EPS)).astype(rows.dtype, copy=False)
        out = centered * np.tile(self.params["gamma"] * inv_std, r)
        out += np.tile(self.params["beta"], r)
        self._cache = (True, centered, inv_std)
        self._r = r
        return from_channel_rows(out.reshape(m, self.c), n, h, w)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """BatchNorm1d.backward on the pixel rows (m = N·H·W), computed as the forward is."""
        n, h, w = self._shape
        dy_rows = channel_rows(dy)
        train, centered, inv_std = self._cache
        if not train:
            return from_channel_rows(super().backward(dy_rows), n, h, w)
        m, r = dy_rows.shape[0], self._r
        dwide = dy_rows.reshape(centered.shape)
        ones = np.ones(dwide.shape[0], dtype=dwide.dtype)
        dbeta = fold(np.matmul(ones, dwide), r)
        dgamma = fold(np.matmul(ones, dwide * centered), r) * inv_std
        self.grads = {"gamma": dgamma, "beta": dbeta}
        dx = centered * np.tile(-(inv_std * dgamma) * (1.0 / m), r)
        dx += dwide
        dx -= np.tile(dbeta * (1.0 / m), r)
        dx *= np.tile(self.params["gamma"] * inv_std, r)
        return from_channel_rows(dx.reshape(m, self.c), n, h, w)

    def __repr__(self) -> str:
        return f"BatchNorm2d({self.c})"


class _SampleNorm(Module):
    """Statistics per sample over groups of channels (GroupNorm, InstanceNorm2d, LayerNorm2d).

    The batch is seen as the (N, H·W·C) matrix of its channels-last values (a view when
    the memory is channels-last). Sums over the H·W pixels of each sample and channel are
    one batched matrix-vector product with a vector of ones; the C/g channels of a group
    are then added. numpy broadcasts an (N, 1) column or an (H·W·C,) row over that matrix
    quickly, but a value per sample and channel badly (inner loops of C elements): such
    values are first spread into a full (N, H·W·C) array (``_spread``).

    The forward and backward here are the plain formulas with x̂ and ∂l/∂x̂ = γ ∂l/∂y, for
    one group (LayerNorm2d, whose statistics are per sample); GroupNorm overrides them.
    """

    groups: int
    c: int

    def _affine(self, key: str) -> np.ndarray:
        raise NotImplementedError

    def _fold(self, g: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.describe()

    def _pixels(self, x: np.ndarray) -> np.ndarray:
        n, c, h, w = check_image(self.describe(), x, self.c)
        if h * w * (c // self.groups) < 2:
            raise OptvizError(
                f"{self.describe()} would normalize over a single value (σ² = 0) for images "
                f"of shape {tuple(x.shape)}; it needs at least 2 values per group"
            )
        self._shape = (n, c, h, w)
        return channel_rows(x).reshape(n, h * w * c)

    def _channel_sums(self, a: np.ndarray) -> np.ndarray:
        """(N, H·W·C) → (N, C): the sum over each sample's pixels, per channel."""
        n, c, h, w = self._shape
        return np.matmul(np.ones(h * w, dtype=a.dtype), a.reshape(n, h * w, c))

    def _group_mean(self, per_channel: np.ndarray) -> np.ndarray:
        """(N, C) pixel totals → (N, g): the mean over each sample's group."""
        n, c, h, w = self._shape
        size = c // self.groups
        return per_channel.reshape(n, self.groups, size).sum(axis=2) * (1.0 / (h * w * size))

    def _spread(self, per_group: np.ndarray) -> np.ndarray:
        """(N, g) or (N, C) values → broadcastable against (N, H·W·C): (N, 1) or a full array."""
        n, c, h, w = self._shape
        if per_group.shape[1] == 1:
            return per_group
        per_channel = np.repeat(per_group, c // per_group.shape[1], axis=1)
        return np.tile(per_channel, (1, h * w))

    def _normalize(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x − μ and 1/√(σ² + ε) (per sample and group, (N, g)) of the (N, H·W·C) batch."""
        centered = xs - self._spread(self._group_mean(self._channel_sums(xs)))
        var = self._group_mean(self._channel_sums(np.square(centered)))
        return centered, (1.0 / np.sqrt(var + NORM_EPS)).astype(xs.dtype, copy=False)

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        centered, inv_std = self._normalize(self._pixels(x))
        xhat = centered
        xhat *= inv_std
        self._cache = (xhat, inv_std)
        out = xhat * self._affine("gamma")
        out += self._affine("beta")
        n, c, h, w = self._shape
        return nchw(out.reshape(n, h, w, c))

    def backward(self, dy: np.ndarray) -> np.ndarray:
        xhat, inv_std = self._cache
        n, c, h, w = self._shape
        dys = channel_rows(dy).reshape(xhat.shape)
        self.grads = {"gamma": self._fold(dys * xhat), "beta": self._fold(dys)}
        dxhat = dys * self._affine("gamma")
        dx = dxhat - self._group_mean(self._channel_sums(dxhat))
        dx -= xhat * self._group_mean(self._channel_sums(dxhat * xhat))
        dx *= inv_std
        return nchw(dx.reshape(n, h, w, c))


class GroupNorm(_SampleNorm):
    """Group normalization (docs/math.md §7.4): the C channels split into ``groups`` groups of
    C/g consecutive channels; per sample and group, μ and the biased σ² over its
    (C/g)·H·W values; y = γ_c x̂ + β_c with γ = 1, β = 0 per channel at start, ε = 1e-5.
    No running statistics: training and evaluation compute the same thing. As torch's
    ``group_norm``. ``groups`` must divide ``c``.
    """

    def __init__(self, groups: int, c: int, dtype=np.float32) -> None:
        super().__init__()
        name = type(self).__name__
        self.groups = check_int(name, "groups", groups, 1)
        self.c = check_int(name, "c", c, 1)
        if self.c % self.groups:
            raise OptvizError(f"{name}: groups ({groups}) must divide the channels ({c})")
        self.params = {"gamma": np.ones(c, dtype=dtype), "beta": np.zeros(c, dtype=dtype)}
        self.kinds = {"gamma": "norm", "beta": "norm"}

    def _per_channel(self, per_group: np.ndarray) -> np.ndarray:
        """(N, g) → (N, C): each channel gets its group's value."""
        return np.repeat(per_group, self.c // self.groups, axis=1)

    def forward(self, x: np.ndarray, train: bool) -> np.ndarray:
        """y = (x − μ)·(s γ) + β, s = 1/√(σ² + ε): one product with a per-(sample, channel) factor."""
        centered, inv_std = self._normalize(self._pixels(x))
        self._cache = (centered, inv_std)
        n, c, h, w = self._shape
        out = centered * self._spread(self._per_channel(inv_std) * self.params["gamma"])
        wide, r = widen(out.reshape(n * h * w, c))
        wide += np.tile(self.params["beta"], r)
        return nchw(out.reshape(n, h, w, c))

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """The closed form with every mean taken from two sums per sample and channel.

        With S₁ = Σ_pixels ∂l/∂y and S₂ = Σ_pixels ∂l/∂y·(x − μ) per sample and channel:
        ∂l/∂β = Σ_n S₁, ∂l/∂γ = Σ_n s S₂, mean(∂l/∂x̂) = A = group mean of γ S₁,
        mean(∂l/∂x̂ · x̂) = B = group mean of γ s S₂, and
        ∂l/∂x = s (∂l/∂x̂ − A − x̂ B) = ∂l/∂y · sγ − (x − μ) · s²B − sA.
        """
        centered, inv_std = self._cache
        n, c, h, w = self._shape
        dys = channel_rows(dy).reshape(centered.shape)
        s1 = self._channel_sums(dys)  # (N, C)
        s2 = self._channel_sums(dys * centered)
        inv_c = self._per_channel(inv_std)
        gamma = self.params["gamma"]
        self.grads = {"gamma": (s2 * inv_c).sum(axis=0), "beta": s1.sum(axis=0)}
        mean_dxhat = self._group_mean(gamma * s1)  # (N, g)
        mean_dxhat_xhat = self._group_mean(gamma * s2 * inv_c)
        dx = dys * self._spread(inv_c * gamma)
        dx -= centered * self._spread(inv_std * inv_std * mean_dxhat_xhat)
        dx -= self._spread(inv_std * mean_dxhat)
        return nchw(dx.reshape(n, h, w, c))

    def describe(self) -> str:
        return f"GroupNorm({self.groups}, {self.c})"


class InstanceNorm2d(GroupNorm):
    """Instance normalization (docs/math.md §7.4): per sample and channel, μ and the biased σ²
    over its H·W values; y = γ_c x̂ + β_c, ε = 1e-5, no running statistics — GroupNorm with
    one group per channel. As torch's ``instance_norm`` with γ and β (torch's
    nn.InstanceNorm2d has neither by default). A 1×1 map is refused (one value).
    """

    def __init__(self, c: int, dtype=np.float32) -> None:
        c = check_int("InstanceNorm2d", "c", c, 1)
        super().__init__(c, c, dtype=dtype)

    def describe(self) -> str:
        return f"InstanceNorm2d({self.c})"


class LayerNorm2d(_SampleNorm):
    """Layer normalization of images (docs/math.md §7.4): per sample, μ and the biased σ² over
    its C·H·W values; y = γ ⊙ x̂ + β with γ, β of shape (C, H, W) (γ = 1, β = 0 at start),
    ε = 1e-5, no running statistics. As torch's ``layer_norm(x, (C, H, W), γ, β)``; the
    image size is fixed when the layer is made.
    """

    groups = 1

    def __init__(self, c: int, h: int, w: int, dtype=np.float32) -> None:
        super().__init__()
        name = "LayerNorm2d"
        self.c = check_int(name, "c", c, 1)
        self.h = check_int(name, "h", h, 1)
        self.w = check_int(name, "w", w, 1)
        shape = (self.c, self.h, self.w)
        self.params = {"gamma": np.ones(shape, dtype=dtype), "beta": np.zeros(shape, dtype=dtype)}
        self.kinds = {"gamma": "norm", "beta": "norm"}

    def _pixels(self, x: np.ndarray) -> np.ndarray:
        n, c, h, w = check_image(self.describe(), x, self.c)
        if (h, w) != (self.h, self.w):
            raise OptvizError(
                f"{self.describe()} expects {self.h}×{self.w} images, got shape {tuple(x.shape)}"
            )
        return super()._pixels(x)

    def _affine(self, key: str) -> np.ndarray:
        # (C, H, W) → the (H·W·C,) channels-last order of a sample's values
        return np.ascontiguousarray(nhwc(self.params[key][None])).reshape(-1)

    def _fold(self, g: np.ndarray) -> np.ndarray:
        summed = g.sum(axis=0).reshape(self.h, self.w, self.c)
        return np.ascontiguousarray(summed.transpose(2, 0, 1))

    def describe(self) -> str:
        return f"LayerNorm2d({self.c}, {self.h}, {self.w})"
