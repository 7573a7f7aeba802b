"""100-frame GIF of three optimizers on Rosenbrock (300 steps).

Target (issue #4): within 1.5× of a hand-written blit loop in the same
process. The reference draws the same kind of picture (a 200 × 200 contourf
with a colorbar, the growing paths with a marker at their head, growing
loss and learning-rate curves, a step counter) at the same size, caches the
background once, draws only the changing artists per frame and gives Pillow
frames quantized to one fixed palette. ``--naive`` also times matplotlib's
FuncAnimation + PillowWriter (what the issue calls 17 s for 100 frames).
Usage: python benchmarks/bench_animation.py [--naive]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import optviz
from optviz.plot import _data
from optviz.plot.animation import CountingWriter, render_animation, save_animation

FRAMES, FIGSIZE, DPI = 100, (13.5, 5.8), 100


def reference_gif(result, out: Path) -> None:
    """A hand-written blit loop: the floor any animation pipeline can reach."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    obj, runs = result.objective, result.runs
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 3, 1)
    ax_loss = fig.add_subplot(2, 3, 2)
    ax_lr = fig.add_subplot(2, 3, 5)
    (x0, x1), (y0, y1) = obj.domain
    X, Y = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
    Z = obj.f(np.column_stack([X.ravel(), Y.ravel()])).reshape(X.shape)
    cs = ax.contourf(X, Y, np.log10(Z + 1e-3), levels=24)
    fig.colorbar(cs, ax=ax)
    series = []
    for traj in runs:
        p = traj.path(0)
        n = len(p)
        line = ax.plot(p[:, 0], p[:, 1], "o-", markevery=8, animated=True)[0]
        head = ax.plot(p[:1, 0], p[:1, 1], "s", markersize=10, animated=True)[0]
        loss = ax_loss.semilogy(np.arange(n), traj.loss[:n, 0], animated=True)[0]
        lr = ax_lr.plot(np.arange(1, n), traj.lr[1:n, 0], animated=True)[0]
        series.append((line, head, loss, lr, p, np.arange(n), traj.loss[:n, 0], traj.lr[1:n, 0]))
    text = ax_loss.set_title("", animated=True)
    steps = _data.frame_steps(_data.last_step(runs), FRAMES)
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    w, h = canvas.get_width_height()
    frames, palette = [], None
    for t in list(steps[-1:]) + list(steps):
        canvas.restore_region(background)
        for line, head, loss, lr, p, s, fv, lv in series:
            k = min(t + 1, len(p))
            line.set_data(p[:k, 0], p[:k, 1])
            head.set_data(p[k - 1:k, 0], p[k - 1:k, 1])
            loss.set_data(s[:k], fv[:k])
            lr.set_data(s[1:k], lv[: max(k - 1, 0)])
            for a in (line, head, loss, lr):
                fig.draw_artist(a)
        text.set_text(f"step {t}")
        fig.draw_artist(text)
        rgb = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
        if palette is None:  # the first pass renders the last frame: its colours make the palette
            palette = rgb.quantize(255, method=Image.Quantize.MEDIANCUT)
            continue
        frames.append(rgb.quantize(palette=palette, dither=Image.Dither.NONE))
    frames[0].save(out, save_all=True, append_images=frames[1:], duration=50, loop=0)


def naive_gif(result, out: Path) -> None:
    """matplotlib's own animation machinery: redraws the whole figure every frame."""
    from matplotlib.animation import FuncAnimation, PillowWriter
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    obj, runs = result.objective, result.runs
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 2, 1)
    (x0, x1), (y0, y1) = obj.domain
    X, Y = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
    Z = obj.f(np.column_stack([X.ravel(), Y.ravel()])).reshape(X.shape)
    ax.contourf(X, Y, np.log10(Z + 1e-3), levels=24)
    paths = [t.path(0) for t in runs]
    lines = [ax.plot([], [], "o-")[0] for _ in paths]
    steps = _data.frame_steps(_data.last_step(runs), FRAMES)

    def update(t):
        for line, p in zip(lines, paths):
            line.set_data(p[: t + 1, 0], p[: t + 1, 1])
        return lines

    FuncAnimation(fig, update, frames=steps, blit=True).save(out, writer=PillowWriter(fps=20))


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="optviz-bench-"))
    result = optviz.run("rosenbrock", "adam,momentum,gd", steps=300)
    reference_gif(result, tmp / "warm.gif")  # fonts, mathtext and Pillow warm for both
    save_animation(result, tmp / "warm2.gif", frames=3)
    t_ref = min(timed(lambda: reference_gif(result, tmp / "ref.gif")) for _ in range(2))
    t_ours = min(timed(lambda: save_animation(result, tmp / "ours.gif", frames=FRAMES, dpi=DPI)) for _ in range(2))
    t_count = timed(lambda: render_animation(result, CountingWriter(), frames=FRAMES, dpi=DPI))
    size_ref = (tmp / "ref.gif").stat().st_size / 1024
    size_ours = (tmp / "ours.gif").stat().st_size / 1024
    print(f"{FRAMES}-frame GIF, 3 optimizers × 300 steps on Rosenbrock, {FIGSIZE[0] * DPI:.0f}×{FIGSIZE[1] * DPI:.0f} px, best of 2:")
    print(f"  hand-written blit reference  {t_ref:6.2f} s  {size_ref:7.0f} KiB")
    print(f"  optviz save_animation        {t_ours:6.2f} s  {size_ours:7.0f} KiB  ratio {t_ours / t_ref:.2f}; "
          f"target ≤ 1.5 {'OK' if t_ours <= 1.5 * t_ref else 'MISSED'}")
    print(f"  optviz frames only (no GIF)  {t_count:6.2f} s")
    if "--naive" in sys.argv:
        t_naive = timed(lambda: naive_gif(result, tmp / "naive.gif"))
        size_naive = (tmp / "naive.gif").stat().st_size / 1024
        print(f"  FuncAnimation + PillowWriter {t_naive:6.2f} s  {size_naive:7.0f} KiB  "
              f"({t_naive / t_ours:.1f}× optviz's time)")


if __name__ == "__main__":
    main()
