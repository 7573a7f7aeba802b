"""Shared helpers of the explorable-page tests: build a page, read its paths, compare."""

from __future__ import annotations

from pathlib import Path

import numpy as np

REL, ABS = 1e-9, 1e-12
DETERMINISTIC = "gd,momentum,nesterov,adagrad,rmsprop,adam,newton"
PARITY_FUNCTIONS = ("rosenbrock", "beale", "himmelblau")


def floats(values) -> np.ndarray:
    """The page's numbers (non-finite ones arrive as 'NaN', 'Infinity', null)."""
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def assert_close(got, ref, what: str, *, floor: float = ABS) -> None:
    """Equal within 1e-9 relative, ``floor`` absolute near zero; NaN where the reference is NaN."""
    got = floats(got)
    ref = np.asarray(ref, dtype=float).ravel()
    assert got.shape == ref.shape, f"{what}: {got.shape} values, reference has {ref.shape}"
    with np.errstate(invalid="ignore"):
        ok = (got == ref) | (np.isnan(got) & np.isnan(ref)) | (np.abs(got - ref) <= REL * np.abs(ref) + floor)
    if not ok.all():
        i = int(np.argmin(ok))
        raise AssertionError(f"{what}: {int((~ok).sum())} value(s) differ; first at {i}: page {got[i]!r}, numpy {ref[i]!r}")


def assert_same_run(page_run: dict, traj, k: int, what: str) -> None:
    """One start point of a page's run against the numpy core's trajectory."""
    n = int(traj.steps[k])
    assert page_run["steps"] == n, f"{what}: page took {page_run['steps']} steps, numpy {n}"
    status = str(getattr(traj.status[k], "value", traj.status[k]))
    assert page_run["status"] == status, f"{what}: page {page_run['status']}, numpy {status}"
    assert page_run["text"] == traj.status_text(k), f"{what}: page says {page_run['text']!r}"
    assert_close(page_run["theta"], traj.theta[: n + 1, k], f"{what} θ")
    assert_close(page_run["loss"], traj.loss[: n + 1, k], f"{what} f")
    # ‖∇f‖ near a minimum is a difference of large terms: its error scales with the largest gradient.
    gnorm = traj.grad_norm[: n + 1, k]
    assert_close(page_run["gnorm"], gnorm, f"{what} ‖∇f‖", floor=max(ABS, REL * np.nanmax(gnorm, initial=0.0)))
    assert_close(page_run["lr"], traj.lr[: n + 1, k], f"{what} η")
    assert set(page_run["state"]) == set(traj.state), f"{what}: state {sorted(page_run['state'])} vs {sorted(traj.state)}"
    for key, values in page_run["state"].items():
        assert_close(values, np.asarray(traj.state[key][: n + 1, k], dtype=float), f"{what} state {key}")


def write(html: str, tmp_path: Path, name: str = "page.html") -> Path:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return path
