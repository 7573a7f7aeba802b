"""Stationary points of a function of one or two variables, found numerically and
classified by the Hessian (docs/math.md §9).

Newton's method on ∇f = 0 runs from a grid of starts over a generous region around the
function's domain (and from any extra points given, such as where runs ended), all as
one batch; the Jacobian of the gradient is taken by central differences of the exact
gradient, so no Hessian has to be compiled. Points where Newton settles are
deduplicated and classified by the eigenvalues λ of the Hessian there: all λ > 0 a
minimum, all λ < 0 a maximum, both signs a saddle. Where some |λ| is too small to trust
its sign, f on a small ring around the point decides: no lower value is a minimum, no
higher value a maximum, both (in 2-D) a saddle; otherwise the kind is ``degenerate``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KINDS = ("minimum", "maximum", "saddle", "degenerate")
STARTS_PER_AXIS = {1: 300, 2: 24}
ITERATIONS = 32
MAX_POINTS = 2000


@dataclass(frozen=True)
class CriticalPoint:
    """A point where ∇f = 0, its value and its kind (minimum, maximum, saddle, degenerate)."""

    point: tuple[float, ...]
    value: float
    kind: str

    def to_json(self) -> dict:
        return {"point": list(self.point), "value": self.value, "kind": self.kind}


def _box(objective, margin: float = 0.5) -> np.ndarray:
    """The search region: the function's domain grown by ``margin`` of its width on each side."""
    dom = np.array(objective.default_domain(), dtype=float)
    width = dom[:, 1] - dom[:, 0]
    return np.stack([dom[:, 0] - margin * width, dom[:, 1] + margin * width], axis=1)


def _grid(box: np.ndarray) -> np.ndarray:
    d = len(box)
    n = STARTS_PER_AXIS[d]
    axes = [np.linspace(lo, hi, n) for lo, hi in box]
    return np.stack([a.ravel() for a in np.meshgrid(*axes, indexing="ij")], axis=1)


def _step_sizes(X: np.ndarray) -> np.ndarray:
    return 1e-5 * np.maximum(1.0, np.abs(X))


def gradient_jacobian(objective, X: np.ndarray) -> np.ndarray:
    """The Hessian at each row of X by central differences of the exact gradient: (K, d, d)."""
    K, d = X.shape
    h = _step_sizes(X)
    J = np.empty((K, d, d))
    for j in range(d):
        E = np.zeros_like(X)
        E[:, j] = h[:, j]
        _, gp = objective.value_and_grad(X + E)
        _, gm = objective.value_and_grad(X - E)
        J[:, :, j] = (gp - gm) / (2 * h[:, j : j + 1])
    return 0.5 * (J + np.swapaxes(J, 1, 2))


def _newton(objective, X: np.ndarray, box: np.ndarray, g_tol: float) -> np.ndarray:
    """Newton on ∇f = 0 from every row; returns the points where it settled: a step below
    1e-11 of the coordinates, or ‖∇f‖ ≤ ``g_tol`` (degenerate roots converge only linearly).
    Settled and escaped points leave the batch at once."""
    width = box[:, 1] - box[:, 0]
    limit = 0.25 * width
    done = []
    for _ in range(ITERATIONS):
        if not len(X):
            break
        _, g = objective.value_and_grad(X)
        small = np.all(np.isfinite(g), axis=1) & (np.linalg.norm(g, axis=1) <= g_tol)
        done.append(X[small])
        X, g = X[~small], g[~small]
        J = gradient_jacobian(objective, X)
        ok = np.all(np.isfinite(J), axis=(1, 2)) & np.all(np.isfinite(g), axis=1)
        step = _solve(np.where(ok[:, None, None], J, np.eye(X.shape[1])), np.where(ok[:, None], g, 0.0))
        X = X - np.clip(step, -limit, limit)
        settled = ok & np.all(np.abs(step) <= 1e-11 * np.maximum(1.0, np.abs(X)), axis=1)
        done.append(X[settled])
        inside = np.all((X >= box[:, 0] - width) & (X <= box[:, 1] + width), axis=1)
        X = X[ok & ~settled & inside]
    return np.concatenate(done) if done else np.zeros((0, len(box)))


def _solve(J: np.ndarray, g: np.ndarray) -> np.ndarray:
    """J p = g per row, least squares where J is singular."""
    w, V = np.linalg.eigh(J)
    scale = np.maximum(1.0, np.abs(w).max(axis=1, keepdims=True))
    tiny = np.abs(w) <= 1e-12 * scale
    inv = np.where(tiny, 0.0, 1.0 / np.where(tiny, 1.0, w))
    return np.einsum("kij,kj->ki", V, np.einsum("kji,kj->ki", V, g) * inv)


def _dedupe(X: np.ndarray, box: np.ndarray) -> np.ndarray:
    """One row per cluster of points closer than 1e-6 of the region's size (the first kept)."""
    if len(X) < 2:
        return X
    tol = 1e-6 * float(np.max(box[:, 1] - box[:, 0]))
    _, first = np.unique(np.round(X / tol).astype(np.int64), axis=0, return_index=True)
    X = X[np.sort(first)]
    near = np.max(np.abs(X[:, None, :] - X[None, :, :]), axis=2) <= 10 * tol
    earlier = np.tril(near, k=-1).any(axis=1)
    return X[~earlier]


def classify(objective, X: np.ndarray, exact: np.ndarray | None = None) -> list[str]:
    """The kind of each stationary point (row of X): minimum, maximum, saddle or degenerate
    ("flat" for a point on a plateau, where f does not change around it).

    At a point found exactly (``exact``, default all: Newton settled, ∇f ≈ 0 to rounding)
    an eigenvalue counts by its sign when it exceeds 1e-6 of the largest; otherwise, and
    at every point found only approximately (a degenerate root, where Newton creeps), f
    on a small ring around the point decides.
    """
    if len(X) == 0:
        return []
    exact = np.ones(len(X), bool) if exact is None else exact
    H = gradient_jacobian(objective, X)
    finite = np.all(np.isfinite(H), axis=(1, 2))
    w = np.linalg.eigvalsh(np.where(finite[:, None, None], H, 0.0))
    scale = np.maximum(1.0, np.abs(w).max(axis=1))
    sure = (np.abs(w) > 1e-6 * scale[:, None]) & exact[:, None]
    pos, neg = np.all(sure & (w > 0), axis=1), np.all(sure & (w < 0), axis=1)
    mixed = np.any(sure & (w > 0), axis=1) & np.any(sure & (w < 0), axis=1)
    kinds = np.where(pos, "minimum", np.where(neg, "maximum", np.where(mixed, "saddle", ""))).astype(object)
    kinds[~finite] = "degenerate"
    unsure = np.flatnonzero(kinds == "")
    if len(unsure):
        kinds[unsure] = _ring_kinds(objective, X[unsure])
    return [str(k) for k in kinds]


def _ring_kinds(objective, X: np.ndarray) -> list[str]:
    """Decide points whose Hessian is (nearly) singular by f on a small ring around each."""
    K, d = X.shape
    r = 1e-3 * np.maximum(1.0, np.max(np.abs(X), axis=1))
    if d == 1:
        dirs = np.array([[1.0], [-1.0]])
    else:
        angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        dirs = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    ring = (X[:, None, :] + r[:, None, None] * dirs[None]).reshape(-1, d)
    f0 = objective.f(X)
    values = objective.f(ring).reshape(K, len(dirs))
    slack = 1e-12 * np.maximum(1.0, np.abs(f0))
    lower = np.any(values < (f0 - slack)[:, None], axis=1)
    higher = np.any(values > (f0 + slack)[:, None], axis=1)
    ok = np.isfinite(f0) & np.all(np.isfinite(values), axis=1)
    out = []
    for k in range(K):
        if not ok[k]:
            out.append("degenerate")
        elif not (lower[k] or higher[k]):
            out.append("flat")  # a plateau, not an isolated stationary point
        elif not lower[k]:
            out.append("minimum")
        elif not higher[k]:
            out.append("maximum")
        else:
            out.append("saddle" if d == 2 else "degenerate")
    return out


def _merge_degenerate(X: np.ndarray, kinds: list[str], slow: np.ndarray, box: np.ndarray):
    """Points found only by a small gradient (a degenerate root, where Newton creeps) scatter
    around the true point: merge those of one kind within 1e-3 of the region's size."""
    radius = 1e-3 * float(np.max(box[:, 1] - box[:, 0]))
    keep = np.ones(len(X), bool)
    for i in range(len(X)):
        if not keep[i] or not slow[i]:
            continue
        near = slow & keep & (np.max(np.abs(X - X[i]), axis=1) <= radius)
        near &= np.array([k == kinds[i] for k in kinds])
        near[i] = False
        keep &= ~near
    return X[keep], [k for k, on in zip(kinds, keep) if on]


def find_critical_points(objective, extra: np.ndarray | None = None) -> list[CriticalPoint]:
    """The stationary points of a function of 1 or 2 variables inside the search region
    (its domain grown by half its width on each side), minima first by value, then the
    others; [] for other dimensions. The listed minima and ``extra`` points (where runs
    ended) join the starts; a listed minimum Newton cannot reach (a cusp, where ∇f is not
    defined) is kept as the function file says."""
    d = objective.dim
    if d not in STARTS_PER_AXIS:
        return []
    box = _box(objective)
    listed = np.array([m.point for m in objective.minima], dtype=float).reshape(-1, d)
    starts = np.vstack([_grid(box), listed])
    if extra is not None and len(extra):
        extra = np.asarray(extra, dtype=float).reshape(-1, d)
        starts = np.vstack([starts, extra[np.all(np.isfinite(extra), axis=1)]])
    with np.errstate(all="ignore"):
        _, g0 = objective.value_and_grad(starts)
        norms = np.linalg.norm(g0, axis=1)
        scale = max(1.0, float(np.median(norms[np.isfinite(norms)]))) if np.isfinite(norms).any() else 1.0
        X = _newton(objective, starts, box, 1e-12 * scale)
        _, g = objective.value_and_grad(X) if len(X) else (None, np.zeros((0, d)))
        gn = np.linalg.norm(g, axis=1)
        good = np.isfinite(gn) & (gn <= 1e-8 * scale) & np.all((X >= box[:, 0]) & (X <= box[:, 1]), axis=1)
        X = _dedupe(X[good], box)
        slow = np.linalg.norm(objective.value_and_grad(X)[1], axis=1) > 1e-13 * scale if len(X) else np.zeros(0, bool)
        kinds = classify(objective, X, ~slow)
        X, kinds = _merge_degenerate(X, kinds, slow, box)
        X, kinds = _with_listed(objective, X, kinds, box)
        values = objective.f(X) if len(X) else np.zeros(0)
    points = [CriticalPoint(tuple(float(v) for v in x), float(f), kind) for x, f, kind in zip(X, values, kinds)
              if np.isfinite(f) and kind != "flat"]
    order = sorted(range(len(points)), key=lambda i: (KINDS.index(points[i].kind), points[i].value))
    return [points[i] for i in order][:MAX_POINTS]


def _with_listed(objective, X: np.ndarray, kinds: list[str], box: np.ndarray):
    """Add each listed minimum that no found point matches (within 1e-6 of the region)."""
    tol = 1e-6 * float(np.max(box[:, 1] - box[:, 0]))
    for m in objective.minima:
        point = np.array(m.point, dtype=float)
        if not len(X) or np.min(np.max(np.abs(X - point), axis=1)) > tol:
            X = np.vstack([X.reshape(-1, len(point)), point])
            kinds = [*kinds, "minimum"]
    return X, kinds


def polish(objective, X: np.ndarray, iterations: int = ITERATIONS) -> tuple[np.ndarray, np.ndarray]:
    """Newton on ∇f = 0 from each row, keeping every row: the nearby stationary point and
    whether it was reached to rounding (True) or only approached (a degenerate root). A
    row whose Newton steps leave its neighbourhood keeps its own point, not exact."""
    X = np.array(X, dtype=float)
    start = X.copy()
    exact = np.zeros(len(X), bool)
    active = np.ones(len(X), bool)
    with np.errstate(all="ignore"):
        for _ in range(iterations):
            if not active.any():
                break
            Y = X[active]
            _, g = objective.value_and_grad(Y)
            J = gradient_jacobian(objective, Y)
            ok = np.all(np.isfinite(J), axis=(1, 2)) & np.all(np.isfinite(g), axis=1)
            step = _solve(np.where(ok[:, None, None], J, np.eye(X.shape[1])), np.where(ok[:, None], g, 0.0))
            Y = Y - step
            settled = ok & np.all(np.abs(step) <= 1e-11 * np.maximum(1.0, np.abs(Y)), axis=1)
            idx = np.flatnonzero(active)
            X[idx] = Y
            exact[idx[settled]] = True
            active[idx[settled | ~ok]] = False
    far = ~np.all(np.abs(X - start) <= 0.1 * np.maximum(1.0, np.abs(start)), axis=1) | ~np.all(np.isfinite(X), axis=1)
    X[far], exact[far] = start[far], False
    return X, exact


def smallest_around(objective, X: np.ndarray) -> np.ndarray:
    """Whether f at each row is no larger than on a small ring around it."""
    if not len(X):
        return np.zeros(0, bool)
    with np.errstate(all="ignore"):
        return np.array([k in ("minimum", "flat") for k in _ring_kinds(objective, np.asarray(X, dtype=float))])


def endpoint_kinds(objective, X: np.ndarray) -> list[str]:
    """The kind of stationary point each run endpoint (‖∇f‖ ≤ tol) sits at: its nearby
    stationary point is polished by Newton and classified. Endpoints equal to about 1e-5
    (cells of a sweep that reached the same point) are classified once."""
    if not len(X):
        return []
    keys = np.round(X / (1e-5 * np.maximum(1.0, np.abs(X)))).astype(np.int64)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    unique = X[first]
    polished, exact = polish(objective, unique)
    kinds = classify(objective, polished, exact)
    return [kinds[i] for i in np.ravel(inverse)]
