"""Static figures: the contour PNG, the loss PNG, and `optviz run` end to end.

Targets (issue #4): a contour PNG ≤ 0.5 s; `optviz run` ≤ 2.5 s including
imports. Each optviz number is printed next to a reference measured in the
same process (or the same interpreter, for start-up): a bare matplotlib
Figure with a 300 × 300 contourf, a colorbar and a 1,000-point path, and
`python -c "import matplotlib.pyplot"` (what pyplot alone costs at start-up).
Usage: python benchmarks/bench_plot.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import optviz
from optviz.plot import _files, save_run_figures, static


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def reference_contour(objective, path: np.ndarray, out: Path) -> None:
    """The least a contour PNG can cost: contourf + colorbar + one path, no layout engine."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 7.6))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    (x0, x1), (y0, y1) = objective.domain
    X, Y = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
    Z = objective.f(np.column_stack([X.ravel(), Y.ravel()])).reshape(X.shape)
    cs = ax.contourf(X, Y, Z, levels=np.geomspace(0.3, Z.max(), 24))
    fig.colorbar(cs)
    ax.plot(path[:, 0], path[:, 1], "o-", markevery=25)
    fig.savefig(out, dpi=150)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="optviz-bench-"))
    result = optviz.run("rosenbrock", "adam", steps=1000, tol=0)
    path = result.runs[0].path(0)
    assert len(path) == 1001
    objective = result.objective

    def ours_contour():
        with static.style():
            fig = static.contour_figure(result, dpi=150)
            _files.save_figure(fig, tmp / "contour.png", fmt="png", dpi=150)

    def ours_loss():
        with static.style():
            fig = static.loss_figure(result, dpi=150)
            _files.save_figure(fig, tmp / "loss.png", fmt="png", dpi=150)

    reference_contour(objective, path, tmp / "ref.png")  # warm caches (fonts, mathtext) for both
    ours_contour()
    t_ref = best_of(lambda: reference_contour(objective, path, tmp / "ref.png"))
    t_contour = best_of(ours_contour)
    t_loss = best_of(ours_loss)
    three = optviz.run("rosenbrock", "adam,momentum,gd", steps=300)
    t_run = best_of(lambda: save_run_figures(three, tmp, dpi=150))
    print("Static figures (300 × 300 grid, 1,000-point path, PNG at 150 dpi), best of 3:")
    print(f"  reference contourf + colorbar + path {t_ref:6.3f} s")
    print(f"  optviz contour figure                {t_contour:6.3f} s  ratio {t_contour / t_ref:.2f}; "
          f"target ≤ 0.5 s {'OK' if t_contour <= 0.5 else 'MISSED'}")
    print(f"  optviz loss figure (3 panels)        {t_loss:6.3f} s")
    print(f"  save_run_figures, 3 optimizers       {t_run:6.3f} s  (contour + loss)")

    env = dict(os.environ, MPLBACKEND="Agg")
    pyplot = best_of(lambda: subprocess.run([sys.executable, "-c", "import matplotlib.pyplot"], check=True,
                                            env=env), repeat=2)
    cmd = [sys.executable, "-m", "optviz", "run", "--opt", "adam,momentum,gd", "--out", str(tmp / "cli")]
    ok = subprocess.run(cmd, capture_output=True, env=env).returncode == 0
    if ok:
        t_cli = best_of(lambda: subprocess.run(cmd, check=True, capture_output=True, env=env), repeat=2)
        print("End to end (new interpreter each time), best of 2:")
        print(f"  python -c 'import matplotlib.pyplot'  {pyplot:6.3f} s  (reference)")
        print(f"  optviz run --opt adam,momentum,gd     {t_cli:6.3f} s  ratio {t_cli / pyplot:.2f}; "
              f"target ≤ 2.5 s {'OK' if t_cli <= 2.5 else 'MISSED'}")
        print(f"  wrote {sorted(p.name for p in (tmp / 'cli').iterdir())}")
    else:
        code = ("import optviz; from optviz.plot import save_run_figures; "
                f"save_run_figures(optviz.run('rosenbrock', 'adam,momentum,gd'), {str(tmp / 'api')!r})")
        t_api = best_of(lambda: subprocess.run([sys.executable, "-c", code], check=True, env=env), repeat=2)
        print("End to end through the API (`optviz run` not available), best of 2:")
        print(f"  python -c 'import matplotlib.pyplot'  {pyplot:6.3f} s  (reference)")
        print(f"  run + save_run_figures                {t_api:6.3f} s  target ≤ 2.5 s")


if __name__ == "__main__":
    main()
