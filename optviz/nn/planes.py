"""The planes a loss landscape is drawn on: the PCA plane of an optimizer's own path and
filter-normalized random planes (docs/math.md §10; the landscape module's docstring
says what each is)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optviz.errors import OptvizError
from optviz.nn.records import TrainResult, flatten_params, unflatten_params

PLANES = ("pca", "random")


@dataclass
class Plane:
    """Two directions through θ* (flattened, float64) and which entries they may touch."""

    kind: str
    d1: np.ndarray
    d2: np.ndarray
    mask: np.ndarray
    explained: np.ndarray | None = None

    def project(self, deltas: np.ndarray) -> np.ndarray:
        """Least-squares coordinates (a, b) of each row of ``deltas`` (θ_t − θ*), shape (S, 2)."""
        D = np.stack([self.d1[self.mask], self.d2[self.mask]], axis=1)
        R = np.atleast_2d(deltas)[:, self.mask].astype(np.float64)
        coef, *_ = np.linalg.lstsq(D, R.T, rcond=None)
        return coef.T


def param_mask(result: TrainResult, include_bn: bool) -> np.ndarray:
    """True for the flattened entries the directions may touch (weights; all with include_bn)."""
    net = result.model(state=result.initial_state)
    kinds = net.param_kinds
    return np.concatenate(
        [
            np.full(size, include_bn or kinds[name] == "weight")
            for name, size in ((k, int(np.prod(s, dtype=np.int64))) for k, s in result.param_layout)
        ]
    )


def final_vector(result: TrainResult, label: str | None) -> np.ndarray:
    run = result.run(label)
    if run.diverged:
        raise OptvizError(f"{run.label} {run.status}: its weights are not finite, no landscape")
    names = [k for k, _ in result.param_layout]
    return flatten_params({k: run.final_state[k] for k in names}).astype(np.float64)


def snapshots_of(result: TrainResult, label: str | None) -> tuple[np.ndarray, np.ndarray]:
    run = result.run(label)
    if run.snapshots is None:
        raise OptvizError(
            f"{run.label} has no recorded weights; train with record_weights=k (every k steps)"
        )
    return run.snapshots, run.snapshot_steps


def pca_plane(result: TrainResult, label: str | None = None, include_bn: bool = False) -> Plane:
    """The top two principal directions of the run's trajectory about θ* (see module docstring)."""
    theta = final_vector(result, label)
    snaps, _ = snapshots_of(result, label)
    mask = param_mask(result, include_bn)
    M = snaps[:, mask].astype(np.float64) - theta[mask]
    # S ≪ P: the eigenvectors of the S×S Gram matrix M Mᵀ give the right singular vectors
    gram = M @ M.T
    evals, evecs = np.linalg.eigh(gram)
    order = np.argsort(evals)[::-1]
    evals, evecs = np.clip(evals[order], 0.0, None), evecs[:, order]
    total = evals.sum()
    if len(evals) < 2 or evals[1] <= 1e-12 * max(total, 1e-300):
        raise OptvizError(
            f"the trajectory of {result.run(label).label} spans fewer than 2 directions; record more snapshots "
            "(more {epochs}, or {record_every}=K steps) or use the random plane ({plane=random})",
            param="plane", names=("epochs", "record_every"))
    dirs = []
    for k in range(2):
        v = M.T @ evecs[:, k] / np.sqrt(evals[k])
        full = np.zeros_like(theta)
        full[mask] = v
        first = M[0] @ v  # θ₀'s coordinate: make it ≤ 0 so the path runs left to right
        dirs.append(-full if first > 0 else full)
    return Plane("pca", dirs[0], dirs[1], mask, evals[:2] / total)


def filter_normalized(d: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The direction ``d`` with each filter rescaled to the norm of the same filter of ``w``
    (Li et al. 2018): for a Linear W (n_in, n_out) a filter is a column d[:, j] (the weights
    into output unit j); for a convolution W (c_out, c_in, k, k) it is d[o], the c_in·k²
    weights of output channel o. A filter of zeros in ``w`` gives a zero filter."""
    if w.ndim == 4:
        norm_d = np.sqrt(np.sum(np.square(d), axis=(1, 2, 3)))
        norm_w = np.sqrt(np.sum(np.square(w), axis=(1, 2, 3)))
        return d * (norm_w / np.where(norm_d > 0, norm_d, 1.0))[:, None, None, None]
    col = np.linalg.norm(d, axis=0)
    return d * (np.linalg.norm(w, axis=0) / np.where(col > 0, col, 1.0))


def random_plane(
    result: TrainResult, label: str | None = None, include_bn: bool = False, seed: int = 0
) -> Plane:
    """Two filter-normalized Gaussian directions (see module docstring), seeded."""
    theta = final_vector(result, label)
    params = unflatten_params(theta, result.param_layout)
    kinds = result.model(state=result.initial_state).param_kinds
    dirs = []
    for k in (1, 2):
        rng = np.random.default_rng([seed, k])
        parts = {}
        for name, w in params.items():
            if kinds[name] == "weight" and w.ndim in (2, 4):
                parts[name] = filter_normalized(rng.standard_normal(w.shape), w)
            elif include_bn:
                parts[name] = w.copy()  # Li et al.: a bias/BN direction is the vector itself
            else:
                parts[name] = np.zeros_like(w)
        dirs.append(flatten_params(parts))
    return Plane("random", dirs[0], dirs[1], param_mask(result, include_bn))
