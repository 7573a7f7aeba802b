"""Loss landscapes around a trained network: 2-D slices, projected paths, 1-D interpolation.

For an optimizer's final weights θ* (all parameters flattened into one vector) and two
directions d₁, d₂ the slice is

    L(a, b) = L(θ* + a·d₁ + b·d₂),

drawn as contours with the optimizer's recorded weights θ₀ … θ_T projected onto the
plane. L is the data loss of training (cross-entropy or focal, without the weight
penalty) on the whole training part, in evaluation mode: no dropout, and BatchNorm
normalizes with the running statistics of θ* at every point of the plane, so the
surface is a deterministic function of the weights. The same function gives the
"true" loss of each recorded θ_t in the honesty panel.

Two planes (``plane=``):

- ``"pca"``: the top two principal directions of the optimizer's own trajectory.
  The rows of M are θ_t − θ* (t over the snapshots); with the SVD M = U Σ Vᵀ the
  directions are the first two rows of Vᵀ (orthonormal), signed so that θ₀ lies at
  negative coordinates. The shares σ_k² / Σ_j σ_j² are "explained variance" about θ*
  (M is not centred, so the plane passes through θ* and a share is the fraction of
  Σ_t ‖θ_t − θ*‖² that lies along the direction); they sum to at most 1. Li et al.
  (2018) use scikit-learn's PCA, which centres M first.
- ``"random"``: Gaussian directions with filter normalization (Li et al. 2018): for
  every weight matrix W (n_in, n_out) and each output neuron j, the direction's column
  d[:, j] is rescaled to ‖W[:, j]‖, the norm of the weights into that neuron. A
  column of zeros (zero-initialized neuron) gives a zero direction column.

Biases, normalization parameters (γ, β) and PReLU slopes are left out of the
directions (their entries are 0, so they stay at θ* across the plane) unless
``include_bn=True``; then, as in Li et al.'s code, the random direction of such a
vector is a copy of its value at θ*, and the PCA uses their trajectory too.

A path is projected by least squares onto span(d₁, d₂) (an orthogonal projection
for the orthonormal PCA directions). ``off_plane`` is the distance from θ_t to the
plane point it is drawn at, relative to ‖θ_t − θ*‖: it counts the part of θ_t − θ*
outside the plane and the changes of the entries left out of the directions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optviz.errors import OptvizError
from optviz.nn.train import TRAIN_LOSSES, TrainResult, evaluate, flatten_params, unflatten_params

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


@dataclass
class Landscape:
    """One optimizer's 2-D slice and its projected path (plain arrays, for the figures).

    ``loss[j, i]`` is L at (alphas[i], betas[j]). ``path`` (S, 2) holds the projected
    snapshots taken after ``path_steps`` optimizer steps; ``path_loss`` is the true loss
    L(θ_t), ``plane_loss`` the loss of the plane at the projection, ``off_plane`` the
    relative distance to the plane (see the module docstring). ``explained`` is
    (share₁, share₂) for the PCA plane, None for the random one.
    """

    label: str
    optimizer: str
    plane: str
    alphas: np.ndarray
    betas: np.ndarray
    loss: np.ndarray
    path: np.ndarray
    path_steps: np.ndarray
    path_loss: np.ndarray
    plane_loss: np.ndarray
    off_plane: np.ndarray
    origin_loss: float
    explained: np.ndarray | None = None
    include_bn: bool = False
    steps_per_epoch: int = 0
    loss_name: str = "cross_entropy"
    step_loss: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def axis_labels(self) -> tuple[str, str]:
        if self.explained is not None:
            return (
                f"PC 1 ({100 * self.explained[0]:.1f}% of the path's variance)",
                f"PC 2 ({100 * self.explained[1]:.1f}%)",
            )
        return ("random direction 1 (filter-normalized)", "random direction 2 (filter-normalized)")


@dataclass
class Interpolation:
    """L((1 − t)·θ_a + t·θ_b) along a line; t = 0 is ``start``, t = 1 is ``end``.

    BatchNorm uses, at every t, the statistics of the whole training part computed at
    those weights (running statistics are not defined between two networks).
    """

    start: str
    end: str
    t: np.ndarray
    train_loss: np.ndarray
    train_acc: np.ndarray
    val_loss: np.ndarray
    val_acc: np.ndarray


def _param_mask(result: TrainResult, include_bn: bool) -> np.ndarray:
    """True for the flattened entries the directions may touch (weights; all with include_bn)."""
    net = result.model(state=result.initial_state)
    kinds = net.param_kinds
    return np.concatenate(
        [
            np.full(size, include_bn or kinds[name] == "weight")
            for name, size in ((k, int(np.prod(s, dtype=np.int64))) for k, s in result.param_layout)
        ]
    )


def _final_vector(result: TrainResult, label: str | None) -> np.ndarray:
    run = result.run(label)
    if run.diverged:
        raise OptvizError(f"{run.label} {run.status}: its weights are not finite, no landscape")
    names = [k for k, _ in result.param_layout]
    return flatten_params({k: run.final_state[k] for k in names}).astype(np.float64)


def _snapshots(result: TrainResult, label: str | None) -> tuple[np.ndarray, np.ndarray]:
    run = result.run(label)
    if run.snapshots is None:
        raise OptvizError(
            f"{run.label} has no recorded weights; train with record_weights=k (every k steps)"
        )
    return run.snapshots, run.snapshot_steps


def pca_plane(result: TrainResult, label: str | None = None, include_bn: bool = False) -> Plane:
    """The top two principal directions of the run's trajectory about θ* (see module docstring)."""
    theta = _final_vector(result, label)
    snaps, _ = _snapshots(result, label)
    mask = _param_mask(result, include_bn)
    M = snaps[:, mask].astype(np.float64) - theta[mask]
    # S ≪ P: the eigenvectors of the S×S Gram matrix M Mᵀ give the right singular vectors
    gram = M @ M.T
    evals, evecs = np.linalg.eigh(gram)
    order = np.argsort(evals)[::-1]
    evals, evecs = np.clip(evals[order], 0.0, None), evecs[:, order]
    total = evals.sum()
    if len(evals) < 2 or evals[1] <= 1e-12 * max(total, 1e-300):
        raise OptvizError(
            f"the trajectory of {result.run(label).label} spans fewer than 2 directions; "
            "record more snapshots (more epochs, or --record-every K steps) or use the random plane (--plane random)"
        )
    dirs = []
    for k in range(2):
        v = M.T @ evecs[:, k] / np.sqrt(evals[k])
        full = np.zeros_like(theta)
        full[mask] = v
        first = M[0] @ v  # θ₀'s coordinate: make it ≤ 0 so the path runs left to right
        dirs.append(-full if first > 0 else full)
    return Plane("pca", dirs[0], dirs[1], mask, evals[:2] / total)


def random_plane(
    result: TrainResult, label: str | None = None, include_bn: bool = False, seed: int = 0
) -> Plane:
    """Two filter-normalized Gaussian directions (see module docstring), seeded."""
    theta = _final_vector(result, label)
    params = unflatten_params(theta, result.param_layout)
    kinds = result.model(state=result.initial_state).param_kinds
    dirs = []
    for k in (1, 2):
        rng = np.random.default_rng([seed, k])
        parts = {}
        for name, w in params.items():
            if kinds[name] == "weight" and w.ndim == 2:
                g = rng.standard_normal(w.shape)
                col = np.linalg.norm(g, axis=0)
                scale = np.linalg.norm(w, axis=0) / np.where(col > 0, col, 1.0)
                parts[name] = g * scale
            elif include_bn:
                parts[name] = w.copy()  # Li et al.: a bias/BN direction is the vector itself
            else:
                parts[name] = np.zeros_like(w)
        dirs.append(flatten_params(parts))
    return Plane("random", dirs[0], dirs[1], _param_mask(result, include_bn))


class _Evaluator:
    """L(θ) for flattened θ: the training part, evaluation mode, BatchNorm statistics of θ*."""

    def __init__(self, result: TrainResult, label: str | None) -> None:
        if result.split is None:
            raise OptvizError("this result has no data to evaluate the loss on")
        self.net = result.model(label)  # running statistics of θ* stay fixed from here on
        self.layout = result.param_layout
        self.loss_fn = TRAIN_LOSSES[result.settings.get("loss", "cross_entropy")]
        self.X = np.ascontiguousarray(result.split.X_train, dtype=self.net.dtype)
        self.y = result.split.y_train
        self.dtype = self.net.dtype

    def loss(self, theta: np.ndarray) -> float:
        self.net.set_params(unflatten_params(np.asarray(theta, dtype=self.dtype), self.layout))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value, _ = self.loss_fn(self.net.infer(self.X), self.y)
        return value

    def grid(
        self,
        theta: np.ndarray,
        plane: Plane,
        alphas: np.ndarray,
        betas: np.ndarray,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        """loss[j, i] = L(θ* + alphas[i]·d₁ + betas[j]·d₂), the whole training part per point.

        ``progress(rows_done, rows)`` is called after every row of the grid.
        """
        base = theta.astype(self.dtype)
        d1, d2 = plane.d1.astype(self.dtype), plane.d2.astype(self.dtype)
        out = np.empty((len(betas), len(alphas)))
        point = np.empty_like(base)
        for j, b in enumerate(betas):
            row = base + self.dtype.type(b) * d2
            for i, a in enumerate(alphas):
                np.multiply(d1, self.dtype.type(a), out=point)
                point += row
                out[j, i] = self.loss(point)
            if progress is not None:
                progress(j + 1, len(betas))
        return out


def _span(
    coords: np.ndarray, plane: str, span: Any, margin: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    if span is not None:
        if np.ndim(span) == 0:
            s = float(span)
            if not s > 0:
                raise OptvizError(f"span must be > 0, got {span}")
            return (-s, s), (-s, s)
        a0, a1, b0, b1 = (float(v) for v in span)
        if not (a0 < 0 < a1 and b0 < 0 < b1):
            raise OptvizError("span (a_min, a_max, b_min, b_max) must contain 0 on both axes")
        return (a0, a1), (b0, b1)
    if plane == "random":
        return (-1.0, 1.0), (-1.0, 1.0)
    out = []
    for k in range(2):
        lo, hi = min(coords[:, k].min(), 0.0), max(coords[:, k].max(), 0.0)
        pad = margin * (hi - lo) if hi > lo else 1.0
        out.append((lo - pad, hi + pad))
    return out[0], out[1]


def landscape(
    result: TrainResult,
    label: str | None = None,
    plane: str = "pca",
    resolution: int = 41,
    span: Any = None,
    include_bn: bool = False,
    seed: int = 0,
    margin: float = 0.25,
    progress: Callable[[int, int], None] | None = None,
) -> Landscape:
    """The loss slice of one optimizer's run (the first run when ``label`` is None).

    ``plane``: "pca" (needs ``train(record_weights=k)``) or "random". ``resolution``
    points per axis. ``span``: a number s for [−s, s]² or (a_min, a_max, b_min, b_max);
    by default [−1, 1]² for the random plane (the scale of the weights themselves, with
    filter normalization) and the path's extent plus ``margin`` of it on each side for
    the PCA plane. Cost: resolution² forward passes over the training part (about
    10 s for 41×41 on digits with the default network on 2 cores); ``progress(rows_done,
    rows)`` is called after every row of the grid.
    """
    if plane not in PLANES:
        raise OptvizError(f"unknown plane {plane!r}; choose one of: {', '.join(PLANES)}")
    if int(resolution) != resolution or resolution < 3:
        raise OptvizError(f"resolution must be a whole number ≥ 3, got {resolution}")
    run = result.run(label)
    theta = _final_vector(result, label)
    if plane == "pca":
        the_plane = pca_plane(result, label, include_bn)
    else:
        the_plane = random_plane(result, label, include_bn, seed)
    if run.snapshots is not None:
        snaps, steps = run.snapshots, run.snapshot_steps
    else:  # a random plane without a recording: the path is just θ₀ → θ*
        layout_names = [k for k, _ in result.param_layout]
        snaps = np.stack(
            [
                flatten_params({k: result.initial_state[k] for k in layout_names}),
                theta.astype(np.float32),
            ]
        )
        steps = np.array([0, len(run.step_loss)], dtype=np.int64)
    deltas = snaps.astype(np.float64) - theta
    coords = the_plane.project(deltas)
    (a0, a1), (b0, b1) = _span(coords, plane, span, margin)
    alphas = np.linspace(a0, a1, int(resolution))
    betas = np.linspace(b0, b1, int(resolution))

    ev = _Evaluator(result, label)
    grid = ev.grid(theta, the_plane, alphas, betas, progress)
    on_plane = coords[:, :1] * the_plane.d1 + coords[:, 1:] * the_plane.d2
    path_loss = np.array([ev.loss(s) for s in snaps])
    plane_loss = np.array([ev.loss(theta + p) for p in on_plane])
    dist = np.linalg.norm(deltas, axis=1)
    off = np.linalg.norm(deltas - on_plane, axis=1) / np.where(dist > 0, dist, 1.0)
    return Landscape(
        label=run.label,
        optimizer=run.optimizer,
        plane=plane,
        alphas=alphas,
        betas=betas,
        loss=grid,
        path=coords,
        path_steps=np.asarray(steps),
        path_loss=path_loss,
        plane_loss=plane_loss,
        off_plane=off,
        origin_loss=ev.loss(theta),
        explained=the_plane.explained,
        include_bn=include_bn,
        steps_per_epoch=int(result.settings.get("steps_per_epoch", 0) or 0),
        loss_name=result.settings.get("loss", "cross_entropy"),
        step_loss=np.asarray(run.step_loss, dtype=np.float64),
    )


def landscapes(
    result: TrainResult,
    plane: str = "pca",
    progress: Callable[[str, int, int], None] | None = None,
    **kwargs: Any,
) -> list[Landscape]:
    """``landscape`` for every optimizer that did not diverge (and, for PCA, recorded weights).

    ``kwargs`` go to ``landscape``; ``progress(label, rows_done, rows)`` reports each row.
    """
    out = []
    for run in result.runs:
        if run.diverged or (plane == "pca" and run.snapshots is None):
            continue
        report = None
        if progress is not None:
            report = lambda done, total, label=run.label: progress(label, done, total)  # noqa: E731
        out.append(landscape(result, run.label, plane, progress=report, **kwargs))
    if not out:
        raise OptvizError(
            "no run to draw: every optimizer diverged"
            + ("" if plane != "pca" else " or none recorded its weights (record_weights=k)")
        )
    return out


def interpolate(
    result: TrainResult,
    start: str = "init",
    end: str | None = None,
    points: int = 41,
    extend: float = 0.25,
) -> Interpolation:
    """The loss along the line from ``start`` to ``end`` for t in [−extend, 1 + extend].

    ``start``/``end``: "init" (the common initial weights θ₀) or a run's label (its
    final weights); ``end`` None is the first run. Train and validation loss and
    accuracy; BatchNorm statistics recomputed from the training part at every t.
    """
    if int(points) != points or points < 2:
        raise OptvizError(f"points must be a whole number ≥ 2, got {points}")
    if extend < 0:
        raise OptvizError(f"extend must be ≥ 0, got {extend}")
    names = [k for k, _ in result.param_layout]

    def vector(which: str | None) -> tuple[str, np.ndarray]:
        if which == "init":
            return "initialization", flatten_params({k: result.initial_state[k] for k in names})
        return result.run(which).label, _final_vector(result, which)

    start_name, a = vector(start)
    end_name, b = vector(end)
    a, b = a.astype(np.float64), b.astype(np.float64)
    t = np.linspace(-extend, 1 + extend, int(points))
    net = result.model(state=result.initial_state)
    loss = result.settings.get("loss", "cross_entropy")
    split = result.split
    rows = []
    for ti in t:
        net.set_params(
            unflatten_params(((1 - ti) * a + ti * b).astype(net.dtype), result.param_layout)
        )
        tr = evaluate(net, split.X_train, split.y_train, loss=loss, bn="recompute")
        va = evaluate(
            net, split.X_val, split.y_val, loss=loss, bn="recompute", stats_from=split.X_train
        )
        rows.append((*tr, *va))
    arr = np.array(rows, dtype=np.float64)
    return Interpolation(start_name, end_name, t, arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])


def interpolations(
    result: TrainResult, points: int = 41, extend: float = 0.25
) -> list[Interpolation]:
    """The lines a landscape report shows: θ₀ → each solution, and between the first two solutions.

    Runs that diverged are left out.
    """
    labels = [r.label for r in result.runs if not r.diverged]
    lines = [interpolate(result, "init", label, points, extend) for label in labels]
    if len(labels) >= 2:
        lines.append(interpolate(result, labels[0], labels[1], points, extend))
    return lines


def landscape_report(
    result: TrainResult,
    planes: Sequence[str] = ("pca",),
    resolution: int = 41,
    include_bn: bool = False,
    seed: int = 0,
    interpolation: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[list[Landscape], list[Interpolation]]:
    """Everything ``optviz landscape`` draws: each plane for every usable run, and the 1-D lines.

    A PCA plane is skipped (not an error) when another plane is asked for too and no
    run recorded its weights.
    """
    lands: list[Landscape] = []
    for plane in planes:
        if plane == "pca" and len(planes) > 1 and all(r.snapshots is None for r in result.runs):
            continue
        lands += landscapes(
            result,
            plane,
            progress=progress,
            resolution=resolution,
            include_bn=include_bn,
            seed=seed,
        )
    return lands, (interpolations(result) if interpolation else [])
