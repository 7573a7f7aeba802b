"""Evaluating a network without changing it: loss and accuracy with a choice of
BatchNorm statistics (running, per batch, or recomputed)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

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

    ``batch_size`` None evaluates X in one batch. With batch statistics a lone last
    sample joins the batch before it (its variance would be 0), as in training. The
    loss is the mean over samples.
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
        bounds = list(range(0, n, size)) + [n]
        if use_batch and len(bounds) > 2 and bounds[-1] - bounds[-2] == 1:
            bounds.pop(-2)  # a lone last sample joins the batch before it
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            xb, yb = X[lo:hi], y[lo:hi]
            if use_batch and len(yb) < 2:
                raise OptvizError(
                    "BatchNorm with batch statistics needs batches of 2 or more samples"
                )
            out = net.forward(xb, use_batch)
            value, _ = loss_fn(out, yb)
            total += value * len(yb)
            correct += int(np.sum(np.argmax(out, axis=1) == yb))
    return total / n, correct / n


EVAL_KINDS = ("running", "batch", "sorted")


@dataclass(frozen=True)
class EvalMode:
    """One way to evaluate the validation part: ``kind`` "running" (running statistics),
    "batch" (statistics of each batch of ``size`` samples, in a shuffled order fixed by
    the seed) or "sorted" (the same with the samples sorted by class, so a batch holds
    mostly one class). ``name``: "running", "batch:8", "sorted:64"; ``order``: the
    permutation of the validation part the batches are cut from."""

    name: str
    kind: str
    size: int | None = None
    order: Any = None


def parse_eval_bn(value: str | Iterable[str]) -> list[tuple[str, int | None]]:
    """(kind, batch size or None) from ``"running,batch:8,sorted"`` or a list of such words;
    each entry once. None stands for the training batch size."""
    items = [s.strip() for s in value.split(",")] if isinstance(value, str) else [str(s).strip() for s in value]
    out: list[tuple[str, int | None]] = []
    for item in items:
        kind, _, size = item.partition(":")
        if kind not in EVAL_KINDS or (size and not size.isdigit()) or (kind == "running" and size):
            raise OptvizError(f"{{eval_bn}} entry {item!r} is not one of running, batch, batch:N, sorted, "
                              "sorted:N (N: samples per batch)", param="eval_bn")
        entry = (kind, int(size) if size else None)
        if entry[1] is not None and entry[1] < 2:
            raise OptvizError(f"{{eval_bn}} {item!r}: batch statistics need batches of 2 or more samples",
                              param="eval_bn")
        if entry in out:
            raise OptvizError(f"{{eval_bn}} lists {item!r} twice", param="eval_bn")
        out.append(entry)
    if not out:
        raise OptvizError("{eval_bn} is empty; give running, batch[:N] or sorted[:N]", param="eval_bn")
    return out


def eval_modes(specs: list[tuple[str, int | None]], batch_size: int, y_val: np.ndarray, seed: int
               ) -> list[EvalMode]:
    """The modes of :func:`parse_eval_bn` for a validation part with labels ``y_val``."""
    shuffled = np.random.default_rng([seed, 11]).permutation(len(y_val))
    by_class = np.argsort(y_val, kind="stable")
    modes = []
    for kind, size in specs:
        if kind == "running":
            modes.append(EvalMode("running", "running"))
            continue
        n = min(size or batch_size, len(y_val))
        modes.append(EvalMode(f"{kind}:{n}", kind, n, shuffled if kind == "batch" else by_class))
    return modes


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
