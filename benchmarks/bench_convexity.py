"""What --show-convexity costs, and what a GIF costs at a given dpi.

Convexity: the shading needs the Hessian's smallest eigenvalue on the contour's grid
(300 × 300 points), from central differences of the exact gradient (four batched
gradient calls in 2-D). Timed against evaluating f on the same grid (the contour's own
work) and as the whole contour figure with and without the shading, medians of
interleaved repeats in one process, one BLAS thread.

GIF (``--gif``): peak resident memory of ``optviz run --animate gif`` at a few dpi,
each in a fresh process (frames are written one by one, so memory should follow the
frame size, not the number of frames).
Usage: python benchmarks/bench_convexity.py [--gif]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import optviz  # noqa: E402
from optviz.plot import _data, static  # noqa: E402

FUNCTIONS = ("rosenbrock", "himmelblau", "rastrigin")
REPEATS = 7


def _median_times(tasks: dict, repeats: int = REPEATS) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in tasks}
    for _ in range(repeats):  # interleaved, so a busy moment hits every task alike
        for name, task in tasks.items():
            t0 = time.perf_counter()
            task()
            times[name].append(time.perf_counter() - t0)
    return {name: float(np.median(v)) for name, v in times.items()}


def convexity_of(name: str) -> dict[str, float]:
    """Median times of f and λ_min on the 300 × 300 grid, and of the contour figure
    drawn without and with the shading."""
    result = optviz.run(name, "adam", steps=100)
    objective = result.objective
    objective.critical_points()  # computed once per function, outside the timing
    domain = _data.plot_domain(objective, result.runs)
    grid = _data.evaluate_grid(objective, domain, 300)
    X, Y = np.meshgrid(grid.x, grid.y)
    pts = np.column_stack([X.ravel(), Y.ravel()])

    def contour(show: bool) -> None:
        with static.style():
            static.contour_figure(result, show_convexity=show).canvas.draw()

    return _median_times({"f": lambda: _data.evaluate_grid(objective, domain, 300),
                          "lam": lambda: _data.not_convex(_data.min_curvature(objective, pts)),
                          "figure": lambda: contour(False), "shaded": lambda: contour(True)})


def convexity() -> None:
    for name in FUNCTIONS:
        t = convexity_of(name)
        print(f"{name:11s} f on 300²: {t['f'] * 1e3:6.1f} ms   λ_min: {t['lam'] * 1e3:6.1f} ms "
              f"({t['lam'] / t['f']:.1f}×)   contour figure drawn: {t['figure']:.2f} s, "
              f"with shading {t['shaded']:.2f} s (+{t['shaded'] - t['figure']:.2f} s)")


def gif_memory() -> None:
    for dpi, frames in ((100, 100), (150, 100), (190, 100), (190, 200)):
        with tempfile.TemporaryDirectory() as out:
            code = ("import resource, sys, optviz; from optviz.plot import save_run_figures; "
                    "r = optviz.run('rosenbrock', 'adam', steps=300); "
                    f"t = __import__('time').perf_counter(); save_run_figures(r, {out!r}, animate='gif', dpi={dpi}, "
                    f"frames={frames}); print(__import__('time').perf_counter() - t, "
                    "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
            seconds, rss_kb = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                             check=True).stdout.split()
        print(f"GIF dpi {dpi:3d}, {frames} frames: peak RSS {int(rss_kb) / 1024:5.0f} MB, {float(seconds):5.1f} s "
              "(all figures)")


if __name__ == "__main__":
    print(f"{platform.machine()}, {os.cpu_count()} cores, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, "
          f"numpy {np.__version__}, python {platform.python_version()}")
    if "--gif" in sys.argv:
        gif_memory()
    else:
        convexity()
    print(f"this process: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
