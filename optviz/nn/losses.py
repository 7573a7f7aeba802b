"""Losses and weight penalties (docs/math.md §6.6, §6.7).

Every loss takes the network output and the targets and returns
``(loss, dloss/doutput)``: the loss as a Python float, the gradient as an array of
the output's shape and dtype. Losses are means: over the n samples for the
classification losses, over all elements for the regression ones (torch's
``reduction="mean"``), and the gradients include that 1/n.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from optviz.errors import OptvizError


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log p_ic = z_ic − logsumexp_c(z_i), with the row maximum subtracted first (stable)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """p_ic = e^(z_ic) / Σ_c' e^(z_ic'), computed as exp(log_softmax(z))."""
    return np.exp(log_softmax(logits))


def _labels(y: np.ndarray, n: int, n_classes: int) -> np.ndarray:
    y = np.asarray(y)
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise OptvizError(f"class labels must be {n} integers, got shape {y.shape} of {y.dtype}")
    if n and (y.min() < 0 or y.max() >= n_classes):
        raise OptvizError(f"class labels must lie in 0..{n_classes - 1}, got {y.min()}..{y.max()}")
    return y


def softmax_cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """L = −(1/n) Σ_i log p_{i,y_i}, p = softmax(z); ∂L/∂z = (p − onehot(y)) / n.

    ``logits``: (n, C); ``y``: (n,) integer labels in 0..C−1. log p comes from
    logsumexp, so huge logits neither overflow nor give log(0).
    """
    n, c = logits.shape
    y = _labels(y, n, c)
    logp = log_softmax(logits)
    rows = np.arange(n)
    loss = -logp[rows, y].mean()
    grad = np.exp(logp)
    grad[rows, y] -= 1
    return float(loss), (grad / n).astype(logits.dtype, copy=False)


def _as_binary(logits: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=logits.dtype)
    if y.size == logits.size:
        y = y.reshape(logits.shape)
    else:
        raise OptvizError(
            f"targets of shape {y.shape} do not match outputs of shape {logits.shape}"
        )
    return logits, y


def binary_cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """BCE from logits: L = −mean[y log σ(z) + (1 − y) log(1 − σ(z))]; ∂L/∂z = (σ(z) − y)/N.

    Computed as mean[max(z, 0) − y z + log(1 + e^(−|z|))] (torch's
    ``binary_cross_entropy_with_logits``), finite for any z. ``y`` in [0, 1], same
    number of elements as ``logits`` (N of them).
    """
    z, y = _as_binary(logits, y)
    loss = np.mean(np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z))))
    p = np.exp(-np.logaddexp(0.0, -z))
    return float(loss), ((p - y) / z.size).astype(z.dtype, copy=False)


def focal_loss(
    logits: np.ndarray, y: np.ndarray, gamma: float = 2.0, alpha: float | np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Multi-class (softmax) focal loss: L = (1/n) Σ_i −α_t (1 − p_t)^γ log p_t.

    p_t = softmax(z_i)[y_i] is the probability of the true class, γ = 2 by default
    (γ = 0 and α = None give softmax cross-entropy). Convention for α_t: None → 1
    (no class weighting, the default here), a number a → a for every class (it only
    scales the loss), an array of C weights → α[y_i]. The binary form (docs/math.md §6.6),
    α_t = α for y = 1 and 1 − α otherwise with α = 0.25, is ``binary_focal_loss``.

    Gradient (with q = 1 − p_t, written so that no negative power of q appears when γ ≥ 1):

        ∂L_i/∂z_ij = −α_t [q^γ − γ p_t q^(γ−1) log p_t] (δ_{j,y_i} − p_ij),  then / n.
    """
    if gamma < 0:
        raise OptvizError(f"focal loss gamma must be ≥ 0, got {gamma}")
    n, c = logits.shape
    y = _labels(y, n, c)
    logp = log_softmax(logits)
    rows = np.arange(n)
    logpt = logp[rows, y]
    pt = np.exp(logpt)
    q = -np.expm1(logpt)  # 1 − p_t without cancellation when p_t is small
    if alpha is None:
        at = np.ones_like(pt)
    elif np.ndim(alpha) == 0:
        at = np.full_like(pt, float(alpha))
    else:
        weights = np.asarray(alpha, dtype=logits.dtype)
        if weights.shape != (c,):
            raise OptvizError(
                f"focal loss alpha must be a number or {c} class weights, got shape {weights.shape}"
            )
        at = weights[y]
    qg = q**gamma
    # q^(γ−1) log p_t → 0 as q → 0 for every γ > 0; guard the 0^(negative) case
    safe_q = np.where(q > 0, q, 1.0)
    qg1 = np.where(q > 0, safe_q ** (gamma - 1), 0.0) if gamma > 0 else np.zeros_like(q)
    loss = np.mean(-at * qg * logpt)
    coef = -at * (qg - gamma * pt * qg1 * logpt)
    onehot = np.zeros_like(logp)
    onehot[rows, y] = 1
    grad = coef[:, None] * (onehot - np.exp(logp)) / n
    return float(loss), grad.astype(logits.dtype, copy=False)


def binary_focal_loss(
    logits: np.ndarray, y: np.ndarray, gamma: float = 2.0, alpha: float = 0.25
) -> tuple[float, np.ndarray]:
    """Binary focal loss from logits (docs/math.md §6.6): FL = −α_t (1 − p_t)^γ log p_t, mean over N.

    p = σ(z); p_t = p if y = 1 else 1 − p; α_t = α if y = 1 else 1 − α (α = 0.25,
    γ = 2, torchvision's ``sigmoid_focal_loss``). With s = 2y − 1, p_t = σ(s z) and
    log p_t = −softplus(−s z), so:  ∂FL/∂z = −s α_t (1 − p_t)^γ [(1 − p_t) − γ p_t log p_t] / N.
    ``y`` holds 0/1 labels.
    """
    if gamma < 0:
        raise OptvizError(f"focal loss gamma must be ≥ 0, got {gamma}")
    z, y = _as_binary(logits, y)
    s = 2 * y - 1
    u = s * z
    logpt = -np.logaddexp(0.0, -u)
    pt = np.exp(logpt)
    q = np.exp(-np.logaddexp(0.0, u))  # 1 − p_t = σ(−u)
    at = np.where(y == 1, alpha, 1 - alpha)
    loss = np.mean(-at * q**gamma * logpt)
    grad = -s * at * q**gamma * (q - gamma * pt * logpt) / z.size
    return float(loss), grad.astype(z.dtype, copy=False)


def _regression(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    target = np.asarray(target, dtype=pred.dtype)
    if target.shape != pred.shape:
        raise OptvizError(
            f"targets of shape {target.shape} do not match outputs of shape {pred.shape}"
        )
    return pred - target


def mse_loss(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """MSE = (1/N) Σ (p − y)²; ∂/∂p = 2(p − y)/N (N = number of elements)."""
    d = _regression(pred, target)
    return float(np.mean(d**2)), (2 * d / d.size).astype(pred.dtype, copy=False)


def l1_loss(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """L1 = (1/N) Σ |p − y|; ∂/∂p = sign(p − y)/N (0 where p = y, as torch)."""
    d = _regression(pred, target)
    return float(np.mean(np.abs(d))), (np.sign(d) / d.size).astype(pred.dtype, copy=False)


def smooth_l1_loss(
    pred: np.ndarray, target: np.ndarray, beta: float = 1.0
) -> tuple[float, np.ndarray]:
    """Smooth L1 with torch's β convention, d = p − y, mean over N elements:

        ℓ(d) = 0.5 d²/β if |d| < β, else |d| − 0.5 β;   ℓ'(d) = d/β if |d| < β, else sign(d).

    β = 1 gives 0.5x² / |x| − 0.5 (docs/math.md §6.6).
    """
    if beta <= 0:
        raise OptvizError(f"smooth L1 beta must be > 0, got {beta}")
    d = _regression(pred, target)
    small = np.abs(d) < beta
    loss = np.where(small, 0.5 * d**2 / beta, np.abs(d) - 0.5 * beta)
    grad = np.where(small, d / beta, np.sign(d))
    return float(np.mean(loss)), (grad / d.size).astype(pred.dtype, copy=False)


LOSSES: dict[str, Callable[..., tuple[float, np.ndarray]]] = {
    "cross_entropy": softmax_cross_entropy,
    "focal": focal_loss,
    "bce": binary_cross_entropy,
    "binary_focal": binary_focal_loss,
    "mse": mse_loss,
    "l1": l1_loss,
    "smooth_l1": smooth_l1_loss,
}


def get_loss(name: str) -> Callable[..., tuple[float, np.ndarray]]:
    """The loss function called ``name``; unknown names raise OptvizError listing the choices."""
    try:
        return LOSSES[name]
    except KeyError:
        raise OptvizError(f"unknown loss {name!r}; choose one of: {', '.join(LOSSES)}") from None


def l2_penalty(
    params: dict[str, np.ndarray], kinds: dict[str, str], lam: float
) -> tuple[float, dict[str, np.ndarray]]:
    """P = λ Σ_w w² over the arrays of kind "weight" only (docs/math.md §6.7); ∂P/∂w = 2 λ w.

    Biases, norm parameters (γ, β) and PReLU slopes are not penalized and are absent
    from the returned grads dict. torch's ``weight_decay=wd`` adds wd·w to the
    gradient, i.e. it matches λ = wd/2 here.
    """
    penalty = 0.0
    grads: dict[str, np.ndarray] = {}
    for name, w in params.items():
        if kinds[name] == "weight":
            penalty += lam * float(np.sum(w.astype(np.float64) ** 2))
            grads[name] = (2 * lam) * w
    return penalty, grads


def l1_penalty(
    params: dict[str, np.ndarray], kinds: dict[str, str], lam: float
) -> tuple[float, dict[str, np.ndarray]]:
    """P = λ Σ_w |w| over the arrays of kind "weight" only; ∂P/∂w = λ sign(w) (0 at w = 0)."""
    penalty = 0.0
    grads: dict[str, np.ndarray] = {}
    for name, w in params.items():
        if kinds[name] == "weight":
            penalty += lam * float(np.sum(np.abs(w.astype(np.float64))))
            grads[name] = (lam * np.sign(w)).astype(w.dtype, copy=False)
    return penalty, grads


def accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    """Fraction of samples whose largest logit is the true class."""
    return float(np.mean(np.argmax(logits, axis=1) == np.asarray(y)))
