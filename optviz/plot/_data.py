"""Numbers for figures, computed before anything is drawn (no matplotlib here).

Plot domains, function values on a grid, contour levels, the steps an
animation shows, and the per-step series of the loss figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from optviz.errors import OptvizError

Domain = tuple[tuple[float, float], ...]


def _all_paths(runs: Sequence[Any]) -> list[tuple[np.ndarray, bool]]:
    """Every (path, diverged) of every run and start point."""
    out = []
    for traj in runs:
        for k in range(traj.K):
            out.append((traj.path(k), traj.status[k] == "diverged"))
    return out


def plot_domain(objective: Any, runs: Sequence[Any] = (), *, margin: float = 0.08,
                fixed: Sequence[Any] | None = None) -> Domain:
    """The box to draw: the function's domain, grown to hold the paths that stay nearby.

    Without a domain (a typed formula) the box is fitted to the paths, the start points
    and the critical points found. A diverging path never stretches the box: it is
    drawn until it leaves. ``fixed``: a range per variable that the caller chose (None
    where the box decides).
    """
    auto = _auto_domain(objective, runs, margin)
    if fixed is None:
        return auto
    return tuple(tuple(map(float, f)) if f is not None else a for f, a in zip(fixed, auto))


def _auto_domain(objective: Any, runs: Sequence[Any], margin: float) -> Domain:
    d = objective.dim
    base = getattr(objective, "domain", None)
    pts, far = [], []
    for path, diverged in _all_paths(runs):
        if len(path) == 0:
            continue
        (far if diverged else pts).append(path)
    starts = [traj.starts for traj in runs]
    if base is None:
        chosen = pts + starts
        if not pts and far:
            # Only diverging paths: keep their first points, before they blow up.
            scale = max(1.0, max(float(np.max(np.abs(s))) for s in starts)) if starts else 1.0
            chosen += [p[np.all(np.abs(p) <= 10 * scale, axis=1)] for p in far]
        chosen += [np.array([m.point]) for m in getattr(objective, "minima", ())]
        chosen += [np.array([p.point]) for p in _critical(objective)]
        chosen = [c for c in chosen if len(c)]
        if not chosen:
            return tuple(tuple(map(float, r)) for r in objective.default_domain())
        allp = np.concatenate(chosen)
        lo, hi = allp.min(axis=0), allp.max(axis=0)
        centre = (lo + hi) / 2
        span = np.maximum(hi - lo, np.maximum(1.0, 0.2 * np.abs(centre)))
        half = 0.5 * span * (1 + 2 * 0.15)
        return tuple((float(centre[i] - half[i]), float(centre[i] + half[i])) for i in range(d))
    lo = np.array([r[0] for r in base], dtype=float)
    hi = np.array([r[1] for r in base], dtype=float)
    if pts:
        allp = np.concatenate(pts)
        plo, phi = allp.min(axis=0), allp.max(axis=0)
        width = hi - lo
        # Grow to hold a path that leaves the box a little; a far excursion
        # (more than half the width) would shrink the picture of the function.
        grow_lo = (plo < lo) & (lo - plo <= 0.5 * width)
        grow_hi = (phi > hi) & (phi - hi <= 0.5 * width)
        lo = np.where(grow_lo, plo - margin * width, lo)
        hi = np.where(grow_hi, phi + margin * width, hi)
    return tuple((float(lo[i]), float(hi[i])) for i in range(d))


def _critical(objective: Any) -> list:
    """The function's stationary points (1 or 2 variables), [] for objectives without them."""
    finder = getattr(objective, "critical_points", None)
    return list(finder()) if finder is not None and objective.dim <= 2 else []


@dataclass
class Grid:
    x: np.ndarray  # (n,)
    y: np.ndarray  # (m,)
    z: np.ndarray  # (m, n): f(x_j, y_i); NaN where not finite


def evaluate_grid(objective: Any, domain: Domain, resolution: int = 300) -> Grid:
    """f on a resolution × resolution grid over a 2-D domain (one batched call)."""
    (x0, x1), (y0, y1) = domain
    x = np.linspace(x0, x1, resolution)
    y = np.linspace(y0, y1, resolution)
    X, Y = np.meshgrid(x, y)
    with np.errstate(all="ignore"):
        z = objective.f(np.column_stack([X.ravel(), Y.ravel()])).reshape(X.shape)
    z = np.where(np.isfinite(z), z, np.nan)
    if not np.isfinite(z).any():
        raise OptvizError(f"{objective.name} has no finite value on the plot domain {domain}")
    return Grid(x, y, z)


def evaluate_curve(objective: Any, domain: Domain, resolution: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    (x0, x1), = domain
    x = np.linspace(x0, x1, resolution)
    with np.errstate(all="ignore"):
        y = objective.f(x[:, None])
    return x, np.where(np.isfinite(y), y, np.nan)


@dataclass
class Levels:
    """Contour levels of ``z - shift``: log-spaced when the values span decades."""

    values: np.ndarray  # levels of z - shift (log) or of z (linear)
    log: bool
    shift: float  # subtracted from z before a log contour (f* when known, else min z)
    floor: float  # smallest value of z - shift drawn on a log contour

    def transform(self, z: np.ndarray) -> np.ndarray:
        """The values to contour: z itself (linear) or max(z − shift, floor) (log)."""
        if not self.log:
            return z
        with np.errstate(invalid="ignore"):
            return np.maximum(z - self.shift, self.floor)


def contour_levels(z: np.ndarray, f_star: float | None = None, count: int = 24) -> Levels:
    """Levels that show the shape of the function, valley included.

    Linear levels put most of a steep function (Rosenbrock: 0 to 2,500) into
    one flat band and hide its valley. When the median height above the
    minimum is under a fifth of the range, levels are log-spaced in z − f*
    (z − min z when f* is unknown) from the 0.5 % quantile to the maximum.
    """
    finite = z[np.isfinite(z)]
    zmin, zmax = float(finite.min()), float(finite.max())
    shift = zmin
    if f_star is not None and np.isfinite(f_star) and f_star <= zmin + 1e-9 * max(1.0, abs(zmin)):
        shift = float(f_star)
    heights = finite - shift
    span = float(zmax - shift)
    if span <= 0:
        return Levels(np.array([zmin - 1, zmin, zmin + 1]), False, shift, 0.0)
    median = float(np.median(heights))
    if median < 0.2 * span:
        floor = max(float(np.quantile(heights, 0.005)), span * 1e-8)
        if floor <= 0 or not np.isfinite(floor):
            floor = span * 1e-8
        values = np.geomspace(floor, span, count)
        return Levels(values, True, shift, floor)
    from matplotlib.ticker import MaxNLocator  # cheap submodule, already loaded by any figure

    values = MaxNLocator(nbins=count - 4).tick_values(zmin, zmax)
    return Levels(values, False, shift, 0.0)


def frame_steps(last_step: int, frames: int) -> np.ndarray:
    """The steps an animation shows: all of 0..last_step, or ``frames`` of them
    evenly spaced, always the first and the last."""
    if frames < 2:
        raise OptvizError(f"{{frames}} must be ≥ 2, got {frames}", param="frames")
    last_step = int(last_step)
    if last_step + 1 <= frames:
        return np.arange(last_step + 1)
    return np.round(np.linspace(0, last_step, frames)).astype(int)


def last_step(runs: Sequence[Any]) -> int:
    return int(max(int(np.max(t.steps)) for t in runs))


def finite_count(traj: Any, k: int) -> int:
    """Number of steps (points) of start k that are drawn: the finite path."""
    return len(traj.path(k))


def loss_series(traj: Any, k: int, f_star: float | None) -> tuple[np.ndarray, np.ndarray]:
    """(steps, f − f*) of start k up to its last finite point (plain f when f* is
    unknown); nothing is clamped here (see :func:`log_gaps`)."""
    n = finite_count(traj, k)
    values = np.asarray(traj.loss[:n, k], dtype=float)
    if f_star is not None:
        values = values - f_star
    return traj.steps_of_rows(n), values


def loss_floor(f_star: float) -> float:
    """Smallest f − f* drawn on a log axis: the precision of f near f* (an exact hit,
    or a value a rounding error below f*, sits on the floor instead of vanishing)."""
    return max(1e-16 * abs(f_star), 1e-30)


def log_gaps(gaps: np.ndarray, f_star: float) -> tuple[np.ndarray, int]:
    """f − f* as a log axis can show it: values at or below :func:`loss_floor` (an exact
    hit, or below f* by rounding) raised to the floor; returns them and how many were raised."""
    floor = loss_floor(f_star)
    with np.errstate(invalid="ignore"):
        low = gaps < floor
    return np.where(low, floor, gaps), int(np.count_nonzero(low))


def below_reference(runs: Sequence[Any], f_star: float | None) -> bool:
    """Whether some run went below f* by more than rounding (the listed minimum is not
    the lowest value, or the lowest minimum found was not the lowest there is)."""
    if f_star is None:
        return False
    slack = 1e-12 * max(1.0, abs(f_star))
    for traj in runs:
        for k in range(traj.K):
            values = np.asarray(traj.loss[: finite_count(traj, k), k], dtype=float)
            if values.size and np.nanmin(values) < f_star - slack:
                return True
    return False


def positive_series(values: np.ndarray) -> np.ndarray:
    """The values a log axis can show: non-positive and non-finite ones become NaN (a gap)."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(values) & (values > 0), values, np.nan)


def spans_decades(values: np.ndarray, decades: float = 2.0) -> bool:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    return v.size > 1 and float(np.log10(v.max() / v.min())) >= decades


# --------------------------------------------------------------------------- critical points

CRITICAL_CAP = 12  # saddles, maxima, degenerate points: the nearest of each kind
MINIMA_CAP = 150
KIND_ORDER = ("lowest", "minimum", "saddle", "maximum", "degenerate")


@dataclass
class Marked:
    """Critical points of one kind to mark: ``kind`` is lowest (the lowest minima, f*),
    minimum, saddle, maximum or degenerate; ``total`` how many of that kind lie in the
    picture (more than ``len(points)`` when capped)."""

    kind: str
    points: np.ndarray  # (n, d)
    values: np.ndarray  # (n,)
    total: int


def marked_points(objective: Any, domain: Domain, runs: Sequence[Any] = (), *, cap: int = CRITICAL_CAP,
                  minima_cap: int = MINIMA_CAP) -> list[Marked]:
    """The critical points inside ``domain`` grouped by kind; where a kind has more than
    its cap, the ones nearest the paths (or the lowest minimum) are kept."""
    inside = [p for p in _critical(objective)
              if all(lo <= c <= hi for c, (lo, hi) in zip(p.point, domain))]
    ref = objective.reference_value if inside else None
    tol = 1e-9 * max(1.0, abs(ref)) if ref is not None else 0.0
    groups: dict[str, list] = {}
    for p in inside:
        lowest = p.kind == "minimum" and ref is not None and p.value <= ref + tol
        groups.setdefault("lowest" if lowest else p.kind, []).append(p)
    focus = _focus(runs, groups, domain)
    out = []
    for kind in KIND_ORDER:
        members = groups.get(kind, [])
        if not members:
            continue
        X = np.array([p.point for p in members], dtype=float).reshape(len(members), -1)
        v = np.array([p.value for p in members], dtype=float)
        limit = minima_cap if kind in ("lowest", "minimum") else cap
        if len(X) > limit:
            dist = np.min(np.linalg.norm(X[:, None, :] - focus[None, :, :], axis=-1), axis=1)
            keep = np.sort(np.argsort(dist, kind="stable")[:limit])
            X, v = X[keep], v[keep]
        out.append(Marked(kind, X, v, len(members)))
    return out


def _focus(runs: Sequence[Any], groups: dict[str, list], domain: Domain) -> np.ndarray:
    """Where the reader looks: the paths' points (at most 2000), else the lowest minima,
    else the middle of the picture."""
    paths = [traj.path(k) for traj in runs for k in range(traj.K)]
    paths = [p for p in paths if len(p)]
    if paths:
        allp = np.concatenate(paths)
        return allp[:: max(1, len(allp) // 2000)]
    if groups.get("lowest"):
        return np.array([p.point for p in groups["lowest"]], dtype=float)
    return np.array([[(lo + hi) / 2 for lo, hi in domain]])


def min_curvature(objective: Any, X: np.ndarray) -> np.ndarray:
    """The smallest eigenvalue of the Hessian at each row of X (1 or 2 variables), from
    central differences of the exact gradient; NaN where it is not finite."""
    from optviz.critical import gradient_jacobian

    with np.errstate(all="ignore"):
        H = gradient_jacobian(objective, X)
        if X.shape[1] == 1:
            lam = H[:, 0, 0]
        else:
            a, b, c = H[:, 0, 0], 0.5 * (H[:, 0, 1] + H[:, 1, 0]), H[:, 1, 1]
            lam = 0.5 * (a + c) - np.hypot(0.5 * (a - c), b)
    return np.where(np.isfinite(lam), lam, np.nan)


def not_convex(lam: np.ndarray) -> np.ndarray:
    """Where the Hessian is not positive semidefinite: the smallest eigenvalue below zero
    by more than the differencing error (10⁻⁶ of the curvature's typical size)."""
    finite = np.abs(lam[np.isfinite(lam)])
    scale = float(np.percentile(finite, 99)) if finite.size else 0.0
    with np.errstate(invalid="ignore"):
        return lam < -1e-6 * max(scale, 1e-300)
