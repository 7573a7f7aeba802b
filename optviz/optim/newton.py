"""Newton's method with optional damping and a safeguard for indefinite Hessians."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from optviz.errors import OptvizError
from optviz.optim.base import Optimizer, non_negative

SAFEGUARDS = ("none", "abs", "damp")


class Newton(Optimizer):
    """Newton's method (docs/math.md §3.6): solve (H + λI) p = g;  θ ← θ − η p.

    Defaults: η = 1 (``lr``), λ = 0 (``damping``), ``safeguard`` = "none".
    The default is the plain step with the signed Hessian, so Newton's
    failure on a non-convex function shows (it walks to maxima and saddles).
    Where H + λI is not positive definite the step is not a descent direction;
    the state records it per point (``indefinite``), and the run reports it.
    Safeguards (opt-in): "abs" replaces H + λI by V |Λ| Vᵀ (absolute
    eigenvalues, floored at 1e-8·max(1, |Λ|max)); "damp" raises λ to
    −λ_min(H) + 1e-3·max(1, |Λ|max) where H + λI is not positive definite.
    A singular system (no safeguard) takes the least-squares step and is
    recorded as ``singular``. torch.optim has no Newton method.
    """

    name = "newton"
    summary = "second order: the step solves (H + λI) p = g"
    update_rule = "(H + λI) p = g;  θ ← θ − η p"
    needs_hessian = True
    elementwise = False
    lr_family = "newton"
    events = ("indefinite", "singular")

    class State(NamedTuple):
        count: int
        indefinite: object
        singular: object

    def __init__(self, lr=1.0, damping=0.0, safeguard="none", schedule=None):
        super().__init__(lr, schedule)
        non_negative("damping", damping, self.name)
        if safeguard not in SAFEGUARDS:
            raise OptvizError(f"newton: safeguard must be one of {', '.join(SAFEGUARDS)}, got {safeguard!r}")
        self.damping, self.safeguard = damping, safeguard

    @classmethod
    def default_lr(cls) -> float:
        return 1.0

    def extra_hyperparameters(self):
        return {"damping": self.damping, "safeguard": self.safeguard}

    def init(self, params):
        if isinstance(params, dict):
            raise OptvizError("newton needs a Hessian, which a network does not provide; "
                              "choose a first-order optimizer")
        batch = np.asarray(params).shape[:-1]
        return self.State(0, np.zeros(batch, bool), np.zeros(batch, bool))

    def step(self, params, grad, state, *, hessian=None, lr=None):
        if hessian is None:
            raise OptvizError("newton needs the Hessian: pass hessian=... (the run loop does)")
        return super().step(params, grad, state, hessian=hessian, lr=lr)

    def rule(self, g, slots, lr, t, hessian=None, theta=None):
        H = np.asarray(hessian, dtype=float)
        d = H.shape[-1]
        eye = np.eye(d)
        lam = np.asarray(self.damping, dtype=float)
        A = H + lam[..., None, None] * eye if lam.ndim else H + lam * eye
        with np.errstate(all="ignore"):
            finite = np.all(np.isfinite(A), axis=(-2, -1))
            A = np.where(finite[..., None, None], A, eye)
            w, V = np.linalg.eigh(A)
        indefinite = (w[..., 0] <= 0) & finite
        scale = np.maximum(1.0, np.abs(w).max(axis=-1))
        if self.safeguard == "abs":
            w = np.maximum(np.abs(w), 1e-8 * scale[..., None])
        elif self.safeguard == "damp":
            shift = np.where(indefinite, -w[..., 0] + 1e-3 * scale, 0.0)
            w = w + shift[..., None]
        # Solve in the eigenbasis: p = V diag(1/w) Vᵀ g, least squares where w ≈ 0.
        tiny = np.abs(w) <= 1e-12 * scale[..., None]
        singular = tiny.any(axis=-1)
        inv = np.where(tiny, 0.0, 1.0 / np.where(tiny, 1.0, w))
        coeff = np.einsum("...ji,...j->...i", V, g) * inv
        p = np.einsum("...ij,...j->...i", V, coeff)
        p = np.where(finite[..., None], p, np.nan)
        return lr * p, (indefinite, singular)

    def observe(self, state, lr):
        return {"indefinite": state.indefinite, "singular": state.singular}

    def describe_events(self, counts: dict[str, int]) -> str:
        parts = []
        if counts.get("indefinite"):
            parts.append(f"Hessian not positive definite at {counts['indefinite']} step(s)")
        if counts.get("singular"):
            parts.append(f"singular Hessian at {counts['singular']} step(s)")
        return "; ".join(parts)
