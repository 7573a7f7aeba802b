"""Central finite differences, to check every backward pass against its forward.

For a scalar function f of an array x, the numerical gradient is

    ∂f/∂x_k ≈ (f(x + h e_k) − f(x − h e_k)) / (2h),

whose error is O(h²) from truncation plus O(ε_machine·|f|/h) from rounding; in
float64 with h = 1e-6 both are around 1e-10 relative, so agreement within 1e-6
tells a correct backward from a wrong one. Use float64 models for checks.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from optviz.nn.losses import softmax_cross_entropy


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of ``f()`` w.r.t. the array ``x``, which f must read.

    ``x`` is perturbed in place one entry at a time and restored afterwards.
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    flat = x.reshape(-1)  # a view: writing to it perturbs x
    if not np.shares_memory(flat, x):
        raise ValueError("x must be contiguous so it can be perturbed in place")
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + h
        f_plus = f()
        flat[k] = old - h
        f_minus = f()
        flat[k] = old
        grad.reshape(-1)[k] = (f_plus - f_minus) / (2 * h)
    return grad


def gradient_error(analytic: np.ndarray, numeric: np.ndarray, floor: float = 1e-2) -> float:
    """Relative error of two gradients: ‖a − n‖₂ / max(‖a‖₂, ‖n‖₂, floor).

    The floor keeps gradients that are zero up to rounding (e.g. a bias just before
    BatchNorm) from turning finite-difference noise into a relative error of 1:
    below a norm of ``floor`` the result is the absolute error divided by ``floor``.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(n)), floor)
    return float(np.linalg.norm(a - n)) / scale


def check_model_gradients(
    model,
    x: np.ndarray,
    y: np.ndarray,
    loss: Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]] = softmax_cross_entropy,
    train: bool = True,
    h: float = 1e-6,
    dropout_seed: int = 0,
) -> dict[str, float]:
    """Relative error (``gradient_error``) of ``model.backward`` for every parameter, by name.

    Dropout streams are reseeded before every forward so each evaluation of the loss
    sees the same masks. BatchNorm running statistics are restored afterwards.
    """
    state = model.get_state()

    def value() -> float:
        model.seed_dropout(dropout_seed)
        return loss(model.forward(x, train), y)[0]

    model.seed_dropout(dropout_seed)
    _, dout = loss(model.forward(x, train), y)
    analytic = {k: v.copy() for k, v in model.backward(dout).items()}
    errors = {}
    for name, array in model.params.items():
        errors[name] = gradient_error(analytic[name], numerical_gradient(value, array, h))
    model.set_state(state)
    return errors
