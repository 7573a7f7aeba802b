"""Tune the suggested learning rates of the library files, and write them into ``[suggested]``.

Run ``python functions/_tune_suggested.py OPT [OPT ...] [--write]`` from the checkout. For
each function and each optimizer (deterministic ones: every step sees the exact gradient)
the rates of a log grid (1e-5 … 1e3, 97 points) run as one batch from the function's
start over its own step budget, every step recorded. A rate is *acceptable* when its run

- stays finite and ends below the start value,
- ends where the run from the start moved by 1e-12 ends (within 1e-6 of the domain's
  diagonal): its end does not depend on rounding (Adadelta's paths are chaotic at many
  rates, and a rate whose picture changes with the last bit of the start is not robust),
- stays inside the domain enlarged by 25 % of its width on each side (the picture), and
- on the functions where every method must reach a minimum (``CONVERGES``, as in
  tests/test_library_functions.py) ends within 5 % of the domain's diagonal of one.

A rate is *robust* when every grid rate from half of it to 8 times it is acceptable: a
margin of 8 to the rates that misbehave (with it, this procedure gives the suggestions of
the notes' methods to within a factor of 1.0–1.5 on average, 2–3 either way). The score
of a rate is the worst ``auc`` (the mean of log10(f − f*) over the run, of f where f* is
unknown) over the grid rates within a factor of √2, so a rate wins by being good in a
neighbourhood, not by one lucky run. The suggestion is the best-scored robust rate, rounded
to 1, 2, 3 or 5 times a power of ten (the rounded rate must be acceptable too).

Where no rate is robust, the margin shrinks to 4, then 2; where still none is, the last
condition (reaching a minimum) is dropped, with margins 8, 4, 2 (RAdam, whose first five
steps are plain momentum steps η m̂ of the raw gradient's size, on steep functions; Lion,
whose steps are all of length η); then rates with no margin at all. The script prints the
tier of each suggestion; tests/test_library_functions.py lists the pairs that do not reach
a minimum.

This script is not part of the library: only the TOML files it writes are read.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

from optviz.library import function_names, load_function
from optviz.optim import make_optimizer
from optviz.runner import run_optimizer

GRID = np.geomspace(1e-5, 1e3, 97)
NICE = np.array([m * 10.0**e for e in range(-6, 4) for m in (1, 2, 3, 5)])
CONVERGES = {"beale", "booth", "cosh", "easom", "goldstein_price", "himmelblau", "ill_conditioned",
             "least_squares", "logistic", "matyas", "mccormick", "parabola", "quadratic", "six_hump_camel",
             "sphere", "styblinski_tang", "xcos"}


def runs(name: str, opt: str, lrs: np.ndarray):
    """Every rate of ``lrs`` from the function's start, as one batch with full records, and
    the same from the start moved by 1e-12 (relative): where the two end apart, the end
    depends on rounding, not on the rate."""
    obj = load_function(name)
    start = np.array([obj.start], dtype=float)
    K = len(lrs)
    X = np.concatenate([np.repeat(start, K, axis=0), np.repeat(start * (1 + 1e-12) + 1e-12, K, axis=0)])
    rates = np.concatenate([lrs, lrs])[:, None]
    return obj, run_optimizer(obj, make_optimizer(opt, lr=rates), X, steps=obj.steps, tol=0)


def acceptable(obj, traj, reach: bool = True) -> np.ndarray:
    lo, hi = np.array(obj.domain, dtype=float).T
    margin = 0.25 * (hi - lo)
    K = len(traj.status) // 2
    apart = np.linalg.norm(traj.final_theta[:K] - traj.final_theta[K:], axis=1)
    traj = _first(traj, K)
    theta = traj.theta  # (T + 1, K, d)
    ok = np.array([s != "diverged" for s in traj.status]) & np.all(np.isfinite(theta), axis=(0, 2))
    ok &= apart <= 1e-6 * float(np.linalg.norm(hi - lo))
    ok &= np.all((theta >= lo - margin) & (theta <= hi + margin), axis=(0, 2))
    ok &= traj.final_loss < obj.f(np.array([obj.start]))[0]
    if reach and obj.name in CONVERGES:
        _, dist = obj.nearest_minimum(traj.final_theta)
        ok &= dist <= 0.05 * float(np.linalg.norm(hi - lo))
    return ok


class _first:
    """The first K runs of a batch (the unperturbed starts)."""

    def __init__(self, traj, K: int) -> None:
        self.status, self.theta = traj.status[:K], traj.theta[:, :K]
        self.final_loss, self.final_theta = traj.final_loss[:K], traj.final_theta[:K]
        self.metrics = {k: v[:K] for k, v in traj.metrics.items()}


def robust(ok: np.ndarray, up: float) -> np.ndarray:
    """Rates whose grid neighbours from half of them to ``up`` times them are all acceptable
    (the whole window inside the grid)."""
    logs = np.log10(GRID)
    lo, hi = logs - np.log10(2), logs + np.log10(up)
    inside = (lo >= logs[0] - 1e-9) & (hi <= logs[-1] + 1e-9)
    return inside & np.array([ok[(logs >= a - 1e-9) & (logs <= b + 1e-9)].all() for a, b in zip(lo, hi)])


TIERS = ((True, 8, ""), (True, 4, " (margin 4)"), (True, 2, " (margin 2)"),
         (False, 8, " (does not reach a minimum)"), (False, 4, " (does not reach a minimum, margin 4)"),
         (False, 2, " (does not reach a minimum, margin 2)"), (True, 1, " (no margin)"),
         (False, 1, " (does not reach a minimum, no margin)"))


def suggest(name: str, opt: str) -> tuple[float, str]:
    """The suggested rate and a note saying which tier of :data:`TIERS` it came from."""
    obj, traj = runs(name, opt, GRID)
    logs = np.log10(GRID)
    for tier in TIERS:
        reach, up, note = tier
        ok = acceptable(obj, traj, reach)
        pool = robust(ok, up) if up > 1 else ok
        if pool.any():
            break
    else:
        return float("nan"), " (no acceptable rate)"
    auc = np.where(ok, traj.metrics["auc"][: len(ok)], -np.inf)
    score = np.array([auc[np.abs(logs - x) <= np.log10(2) / 2 + 1e-9].max() for x in logs])
    best = GRID[np.argmin(np.where(pool, score, np.inf))]
    for nice in sorted(NICE, key=lambda v: abs(np.log10(v / best))):
        obj, check = runs(name, opt, np.array([nice]))
        if acceptable(obj, check, reach)[0]:
            return float(nice), note
    return float(best), note + " (not rounded)"


def write(name: str, opt: str, lr: float) -> None:
    """Set ``opt = { lr = ... }`` in the [suggested] table of the function's file."""
    path = Path(__file__).resolve().parent / f"{name}.toml"
    text = path.read_text(encoding="utf-8")
    text_lr = f"{lr:g}" if any(c in f"{lr:g}" for c in ".e") else f"{lr:g}.0"  # a TOML float
    line = f"{opt} = {{ lr = {text_lr} }}"
    pattern = re.compile(rf"^{opt} = \{{.*\}}$", re.M)
    if pattern.search(text):
        text = pattern.sub(line, text)
    else:
        head, sep, tail = text.partition("[suggested]\n")
        body, rest = (tail.split("\n\n", 1) + [""])[:2]
        text = head + sep + body.rstrip("\n") + "\n" + line + "\n" + ("\n" + rest if rest else "")
    path.write_text(text, encoding="utf-8")


def main(argv: list[str]) -> None:
    opts = [a for a in argv if not a.startswith("--")]
    for opt in opts:
        for name in function_names():
            lr, note = suggest(name, opt)
            print(f"{name:18s} {opt:9s} lr = {lr:g}{note}", flush=True)
            if "--write" in argv and np.isfinite(lr):
                write(name, opt, lr)


if __name__ == "__main__":
    main(sys.argv[1:])
