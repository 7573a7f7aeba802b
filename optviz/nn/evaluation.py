"""Evaluating a network without changing it: loss and accuracy with a choice of
BatchNorm statistics (running, per batch, or recomputed)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from optviz.errors import OptvizError
from optviz.nn.layers import BatchNorm1d, Dropout
from optviz.nn.losses import focal_loss, softmax, softmax_cross_entropy
from optviz.nn.model import Model
from optviz.nn.module import named_leaves

TRAIN_LOSSES = {"cross_entropy": softmax_cross_entropy, "focal": focal_loss}


@contextlib.contextmanager
def no_dropout_keep_stats(net: Model) -> Iterator[None]:
    """Dropout off and BatchNorm running statistics (and ρ) restored on exit."""
    leaves = [leaf for _, leaf in named_leaves(net.net)]
    saved = [(leaf, dict(leaf.buffers), getattr(leaf, "rho", None)) for leaf in leaves]
    drops = [(leaf, leaf.p) for leaf in leaves if isinstance(leaf, Dropout)]
    for leaf, _ in drops:
        leaf.p = 0.0
    try:
        yield
    finally:
        for leaf, p in drops:
            leaf.p = p
        for leaf, buffers, rho in saved:
            leaf.buffers = buffers
            if rho is not None:
                leaf.rho = rho


def evaluate(
    net: Model,
    X: np.ndarray,
    y: np.ndarray,
    *,
    loss: str = "cross_entropy",
    batch_size: int | None = None,
    bn: str = "running",
    stats_from: np.ndarray | None = None,
) -> tuple[float, float]:
    """Loss and accuracy of ``net`` on (X, y) without changing the model; no dropout.

    ``bn`` says which statistics BatchNorm normalizes with:

    - ``"running"``: the running averages kept during training (evaluation mode, the
      default and what ``train`` reports);
    - ``"batch"``: the statistics of each evaluation batch of ``batch_size`` samples
      (what a network left in training mode does at test time; batches are taken in
      the order of X, so sort X to get class-sorted batches);
    - ``"recompute"``: the statistics of all of ``stats_from`` (default X) in one
      batch, then evaluation mode with them (BatchNorm "recalibration").

    ``batch_size`` None evaluates X in one batch. The loss is the mean over samples.
    """
    if bn not in ("running", "batch", "recompute"):
        raise OptvizError(f"bn must be 'running', 'batch' or 'recompute', got {bn!r}")
    loss_fn = TRAIN_LOSSES[loss]
    n = len(y)
    size = n if batch_size is None else int(batch_size)
    if size < 1:
        raise OptvizError(f"batch size must be ≥ 1, got {batch_size}")
    total, correct = 0.0, 0
    with no_dropout_keep_stats(net), np.errstate(over="ignore", invalid="ignore"):
        if bn == "recompute" and net.has_batchnorm:
            for _, leaf in named_leaves(net.net):
                if isinstance(leaf, BatchNorm1d):
                    leaf.rho = 0.0  # running ← batch: the statistics of the whole set
            net.forward(X if stats_from is None else stats_from, True)
        use_batch = bn == "batch" and net.has_batchnorm
        for lo in range(0, n, size):
            xb, yb = X[lo : lo + size], y[lo : lo + size]
            if use_batch and len(yb) < 2:
                raise OptvizError(
                    "BatchNorm with batch statistics needs batches of 2 or more samples"
                )
            out = net.forward(xb, use_batch)
            value, _ = loss_fn(out, yb)
            total += value * len(yb)
            correct += int(np.sum(np.argmax(out, axis=1) == yb))
    return total / n, correct / n


def decision_grid(result, label: str, resolution: int = 200, pad: float = 0.5):
    """(xs, ys, predicted class (R, R), max probability (R, R)) over the data's extent."""
    split = result.split
    X = np.concatenate([split.X_train, split.X_val])
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    xs = np.linspace(lo[0], hi[0], resolution)
    ys = np.linspace(lo[1], hi[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    net = result.model(label)
    with np.errstate(over="ignore", invalid="ignore"):
        logits = net.forward(np.c_[gx.ravel(), gy.ravel()], False).astype(np.float64)
        prob = softmax(logits)
    return xs, ys, prob.argmax(axis=1).reshape(gx.shape), prob.max(axis=1).reshape(gx.shape)
