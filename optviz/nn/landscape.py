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
  d[:, j] is rescaled to ‖W[:, j]‖, the norm of the weights into that neuron; for every
  convolution W (c_out, c_in, k, k) and each output channel o, the filter d[o] is
  rescaled to ‖W[o]‖. A filter of zeros (zero-initialized) gives a zero direction.

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

from optviz import validate
from optviz.errors import OptvizError
from optviz.nn.evaluation import TRAIN_LOSSES
from optviz.nn.interpolation import Interpolation, interpolate, interpolations
from optviz.nn.planes import PLANES, Plane, final_vector, pca_plane, random_plane
from optviz.nn.records import TrainResult, flatten_params, unflatten_params

__all__ = ["PLANES", "Interpolation", "Landscape", "interpolate", "interpolations", "LandscapeOptions", "Plane", "check_resolution", "landscape",
           "landscape_report", "landscapes", "pca_plane", "random_plane"]

_final_vector = final_vector  # the name the module used before the planes had their own

MAX_RESOLUTION = 401


def check_resolution(resolution: int) -> int:
    """Grid points per axis of a landscape: 3 to 401 (401² forward passes take minutes)."""
    return validate.whole("resolution", resolution, 3, MAX_RESOLUTION)


@dataclass(frozen=True)
class LandscapeOptions:
    """Which landscapes to compute: ``plane`` ("pca", "random" or "both"), ``include_bn``
    (let the directions move biases and normalization parameters) and ``resolution``
    (grid points per axis). Checked on construction, before any training."""

    plane: str = "pca"
    include_bn: bool = False
    resolution: int = 41

    def __post_init__(self) -> None:
        validate.one_of("plane", self.plane, (*PLANES, "both"))
        check_resolution(self.resolution)

    @property
    def planes(self) -> tuple[str, ...]:
        return PLANES if self.plane == "both" else (self.plane,)


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

    def __repr__(self) -> str:
        return f"<Landscape {self.label} ({self.plane} plane): {len(self.betas)}×{len(self.alphas)} points>"

    def axis_labels(self) -> tuple[str, str]:
        if self.explained is not None:
            return (
                f"PC 1 ({100 * self.explained[0]:.1f}% of the path's variance)",
                f"PC 2 ({100 * self.explained[1]:.1f}%)",
            )
        return ("random direction 1 (filter-normalized)", "random direction 2 (filter-normalized)")


class _Evaluator:
    """L(θ) for flattened θ: the training part, evaluation mode, BatchNorm statistics of θ*."""

    def __init__(self, result: TrainResult, label: str | None) -> None:
        if result.split is None:
            raise OptvizError("this result has no data to evaluate the loss on")
        self.net = result.model(label)  # running statistics of θ* stay fixed from here on
        self.layout = result.param_layout
        self.loss_fn = TRAIN_LOSSES[result.settings.loss]
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
    validate.one_of("plane", plane, PLANES)
    check_resolution(resolution)
    run = result.run(label)
    theta = final_vector(result, label)
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
        steps_per_epoch=int(result.settings.steps_per_epoch or 0),
        loss_name=result.settings.loss,
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
