"""Figures of loss landscapes (``optviz landscape``): contour slices, honesty panel, 1-D lines, GIF.

Reads the plain records of :mod:`optviz.nn.landscape` (``Landscape``,
``Interpolation``); nothing is computed here but what is drawn. matplotlib is
imported inside the functions; figures live on their own Agg canvas (no pyplot).
The GIF is rendered by blitting: the static picture is drawn once, and every frame
restores it and draws only the growing path and the moving markers; Pillow writes
the frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optviz.errors import OptvizError
from optviz.plot._files import check_format, prepare_dir, save_figure
from optviz.plot._style import slug
from optviz.plot.figure import contour_cmap, new_figure, style

LOSS_NAMES = {"cross_entropy": "cross-entropy", "focal": "focal loss"}


def _color(land: Any) -> str:
    from optviz.plot import _style

    return _style.OPTIMIZER_STYLE.get(land.optimizer, ("", "#d62728", ""))[1]


def _colors(lands: Sequence[Any]) -> list[str]:
    from optviz.plot import _style

    return [c for c, _ in _style.run_styles([land.optimizer for land in lands])]


def _name(land: Any) -> str:
    from optviz.plot import _style

    return land.label if land.label != land.optimizer else _style.display_name(land.optimizer)


def _x_axis(land: Any) -> tuple[np.ndarray, str]:
    """Epochs (fractional) when the steps per epoch are known, else optimizer steps."""
    steps = np.asarray(land.path_steps, dtype=float)
    if land.steps_per_epoch:
        return steps / land.steps_per_epoch, "epoch"
    return steps, "optimizer step"


def loss_levels(loss: np.ndarray, n: int = 24) -> np.ndarray:
    """Log-spaced levels from the smallest to the largest finite positive loss of the grid."""
    finite = loss[np.isfinite(loss) & (loss > 0)]
    if finite.size == 0:
        raise OptvizError("the loss is not finite anywhere on this plane; choose a smaller span")
    lo, hi = float(finite.min()), float(finite.max())
    if hi <= lo * 1.0001:
        hi = lo * 1.01
    return np.geomspace(lo, hi, n)


def draw_landscape(
    ax: Any, land: Any, color: str | None = None, colorbar: bool = True
) -> dict[str, Any]:
    """Filled log-scale contours of the slice, the projected path, the start and θ*.

    Returns ``{"filled", "lines", "path", "start", "final", "colorbar"}``; ``path`` is a
    Line2D whose data are exactly ``land.path``.
    """
    import matplotlib.patheffects as pe
    from matplotlib.colors import LogNorm

    from optviz.plot import _style

    color = color or _color(land)
    levels = loss_levels(land.loss)
    grid = np.clip(np.where(np.isfinite(land.loss), land.loss, levels[-1]), levels[0], levels[-1])
    norm = LogNorm(levels[0], levels[-1])
    filled = ax.contourf(
        land.alphas,
        land.betas,
        grid,
        levels=levels,
        norm=norm,
        cmap=contour_cmap(),
        extend="neither",
    )
    lines = ax.contour(
        land.alphas,
        land.betas,
        grid,
        levels=levels[::2],
        norm=norm,
        colors="white",
        linewidths=0.5,
        alpha=0.55,
    )
    stroke = [pe.Stroke(linewidth=4.2, foreground="white"), pe.Normal()]
    path = ax.plot(
        land.path[:, 0],
        land.path[:, 1],
        "-o",
        color=color,
        lw=2.2,
        ms=3.2,
        path_effects=stroke,
        zorder=4,
        label=f"{_name(land)} path (projected)",
    )[0]
    start = ax.plot(
        land.path[:1, 0], land.path[:1, 1], zorder=5, label="start θ₀", **_style.START_STYLE
    )[0]
    final = ax.plot([0], [0], zorder=6, label="θ* (final weights)", **_style.MINIMUM_STYLE)[0]
    xl, yl = land.axis_labels()
    ax.set_xlabel(xl)
    ax.set_ylabel(yl)
    ax.set_xlim(land.alphas[0], land.alphas[-1])
    ax.set_ylim(land.betas[0], land.betas[-1])
    bar = None
    if colorbar:
        from matplotlib.ticker import LogLocator

        bar = ax.figure.colorbar(filled, ax=ax, pad=0.01, fraction=0.06)
        bar.set_label(f"training loss ({LOSS_NAMES.get(land.loss_name, land.loss_name)})")
        bar.locator = LogLocator()
        bar.update_ticks()
    return {
        "filled": filled,
        "lines": lines,
        "path": path,
        "start": start,
        "final": final,
        "colorbar": bar,
    }


def draw_honesty(ax: Any, land: Any, color: str | None = None) -> dict[str, Any]:
    """The true loss L(θ_t) at every recorded step beside the plane's loss at its projection.

    Where the two curves part, the drawn path is not where the network was: the
    contour map shows the plane, not the trajectory. Returns ``{"true", "plane"}`` (Line2D).
    """
    color = color or _color(land)
    x, xlabel = _x_axis(land)
    true = ax.plot(x, land.path_loss, "-o", color=color, ms=3.5, label="true loss L(θ_t)")[0]
    plane = ax.plot(
        x, land.plane_loss, "--", color="0.25", lw=1.8, label="loss of the plane at the projection"
    )[0]
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("training loss")
    off = 100 * float(np.median(land.off_plane[:-1])) if len(land.off_plane) > 1 else 0.0
    ax.set_title(
        f"How far the path leaves the plane\n(median distance off it: {off:.0f}% of ‖θ_t − θ*‖)",
        fontsize=11,
    )
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right", fontsize=10)
    return {"true": true, "plane": plane}


def _plane_title(land: Any) -> str:
    if land.plane == "pca":
        share = 100 * float(np.sum(land.explained))
        return f"PCA plane of its own path ({share:.1f}% of the variance)"
    return "random filter-normalized plane"


def landscape_figure(lands: Any, dpi: float = 100) -> Any:
    """One column per optimizer: the contour slice with the path above, the honesty panel below."""
    lands = [lands] if not isinstance(lands, (list, tuple)) else list(lands)
    if not lands:
        raise OptvizError("no landscape to draw")
    n = len(lands)
    fig = new_figure((6.4 * n + 0.4, 10.2), dpi)
    colors = _colors(lands)
    with style():
        axes = fig.subplots(2, n, squeeze=False, height_ratios=[1.6, 1])
        for k, (land, color) in enumerate(zip(lands, colors, strict=True)):
            draw_landscape(axes[0, k], land, color)
            axes[0, k].set_title(
                f"{_name(land)}: loss around θ*\n{_plane_title(land)}", fontsize=12
            )
            if k == 0:
                axes[0, k].legend(loc="upper left", fontsize=9, frameon=True, framealpha=0.85)
            draw_honesty(axes[1, k], land, color)
        extra = "" if not lands[0].include_bn else " (biases and BatchNorm parameters included)"
        fig.suptitle(
            "Loss landscape: L(θ* + a·d₁ + b·d₂) on the training data, BatchNorm with the running "
            f"statistics of θ*{extra}",
            fontsize=13,
        )
    return fig


def draw_interpolation(ax_loss: Any, ax_acc: Any, line: Any, color: str) -> dict[str, Any]:
    """Loss (log) and accuracy along one line; training solid, validation dashed."""
    from optviz.plot import _style

    def shown(name: str) -> str:
        if name == "initialization":
            return "θ₀"
        return _style.display_name(name) if name in _style.OPTIMIZER_STYLE else name

    label = f"{shown(line.start)} → {shown(line.end)}"
    arts = {
        "train_loss": ax_loss.plot(line.t, line.train_loss, "-", color=color, label=label)[0],
        "val_loss": ax_loss.plot(line.t, line.val_loss, "--", color=color, lw=1.6)[0],
        "train_acc": ax_acc.plot(line.t, line.train_acc, "-", color=color, label=label)[0],
        "val_acc": ax_acc.plot(line.t, line.val_acc, "--", color=color, lw=1.6)[0],
    }
    return arts


def interpolation_figure(lines: Sequence[Any], dpi: float = 100) -> Any:
    """L((1 − t)θ_a + tθ_b) for each line: from θ₀ to a solution, or between two solutions."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    from optviz.plot import _style

    if not lines:
        raise OptvizError("no interpolation to draw")
    fig = new_figure((13, 5.6), dpi)
    with style():
        ax_loss, ax_acc = fig.subplots(1, 2)
        spare = iter(["#393b79", "#637939", "#7b4173", "#843c39", "#3182bd"])
        for line in lines:
            key = next(
                (
                    k
                    for k, v in _style.OPTIMIZER_STYLE.items()
                    if line.start == "initialization" and line.end in (k, v[0])
                ),
                None,
            )
            color = _style.OPTIMIZER_STYLE[key][1] if key else next(spare, "0.3")
            draw_interpolation(ax_loss, ax_acc, line, color)
        for ax in (ax_loss, ax_acc):
            for t0 in (0.0, 1.0):
                ax.axvline(t0, color="0.5", lw=1, ls=":")
            ax.set_xlabel("t   (0 = start, 1 = end of each line)")
            ax.grid(True, alpha=0.3)
        ax_loss.set_yscale("log")
        ax_loss.set_ylabel("loss")
        ax_loss.set_title("Loss along the line")
        ax_acc.set_ylabel("accuracy")
        ax_acc.set_title("Accuracy along the line")
        ax_acc.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.0f}%"))
        handles, labels = ax_loss.get_legend_handles_labels()
        key = [Line2D([], [], color="0.3", ls="-"), Line2D([], [], color="0.3", ls="--")]
        fig.legend(
            key + handles,
            ["training", "validation"] + labels,
            loc="outside lower center",
            ncol=min(4, len(labels) + 2),
        )
        fig.suptitle(
            "1-D interpolation  θ(t) = (1 − t)·θ_start + t·θ_end  "
            "(BatchNorm statistics recomputed on the training data at each t)",
            fontsize=13,
        )
    return fig


# ----------------------------------------------------------------------------- animation
def animation_frames(land: Any, max_frames: int = 48) -> np.ndarray:
    """Indices of the snapshots the GIF shows: evenly spaced, the first and the last included."""
    n = len(land.path)
    if n <= max_frames:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, max_frames)).astype(int))


def landscape_scene(land: Any, max_frames: int = 48, dpi: float = 72) -> Any:
    """The animated figure of one path over its landscape, with its loss growing beside it."""
    from optviz.plot import _style
    from optviz.plot.animation import Scene, grow, head, texts

    color = _color(land)
    fig = new_figure((10.5, 4.4), dpi)
    ax_map, ax_loss = fig.subplots(1, 2, width_ratios=[1.15, 1])
    drawn = draw_landscape(ax_map, land, color, colorbar=False)
    drawn["path"].remove()
    ax_map.set_title(f"{_name(land)}: path over the loss around θ*", fontsize=12)
    x, xlabel = _x_axis(land)
    ax_loss.plot(x, land.path_loss, "-", color=color, alpha=0.15, lw=1.5)  # the whole, faint
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel(xlabel)
    ax_loss.set_ylabel("training loss L(θ_t)")
    ax_loss.set_title("Loss along the way", fontsize=12)
    ax_loss.grid(True, alpha=0.3)
    frames = animation_frames(land, max_frames)
    counts = frames + 1
    path = ax_map.plot([], [], "-", color=color, lw=2.4, animated=True, zorder=4)[0]
    marker = ax_map.plot([], [], "o", color=color, ms=9, mec="white", mew=1.5, animated=True, zorder=7)[0]
    curve = ax_loss.plot([], [], "-", color=color, lw=2.2, animated=True)[0]
    dot = ax_loss.plot([], [], "o", color=color, ms=7, animated=True)[0]
    label = ax_loss.text(0.97, 0.95, "", transform=ax_loss.transAxes, ha="right", va="top", fontsize=11,
                         animated=True)
    readouts = [f"{xlabel} {x[i]:.3g}   L = {_style.fmt_number(land.path_loss[i])}" for i in frames]
    px, py = land.path[:, 0], land.path[:, 1]
    updates = [grow(path, px, py, counts), head(marker, px, py, counts), grow(curve, x, land.path_loss, counts),
               head(dot, x, land.path_loss, counts), texts(label, readouts)]
    return Scene(fig, frames, [path, marker, curve, dot, label], set(), updates)


def render_animation_frames(land: Any, max_frames: int = 48, dpi: float = 72) -> list[Any]:
    """The animation's frames as RGB Pillow images (through the one blit loop)."""
    from PIL import Image

    from optviz.plot.animation import render_scene
    from optviz.plot.writers import CountingWriter

    writer = CountingWriter(keep=True)
    with style():
        render_scene(landscape_scene(land, max_frames, dpi), writer)
    return [Image.fromarray(np.ascontiguousarray(f[..., :3])) for f in writer.frames]


def save_animation(land: Any, path: str | Path, max_frames: int = 48, fps: float = 8, dpi: float = 72) -> Path:
    """Write the GIF atomically (the one GIF writer of optviz: see :mod:`optviz.plot.writers`)."""
    from optviz.plot.animation import save_scene

    return save_scene(path, lambda: landscape_scene(land, max_frames, dpi), fps=int(round(fps)))


def save_landscape_figures(
    lands: Sequence[Any],
    out_dir: str | Path,
    fmt: str = "png",
    dpi: float = 150,
    stem: str = "landscape",
    interpolations: Sequence[Any] = (),
    gif: bool = False,
) -> list[Path]:
    """Write ``{stem}_landscape-{plane}.{fmt}`` (all optimizers side by side), with
    ``interpolations`` ``{stem}_interpolation.{fmt}``, with ``gif`` one
    ``{stem}_landscape-{plane}-{label}.gif`` per optimizer; atomically. Returns the paths."""
    fmt = check_format(fmt)
    out = prepare_dir(out_dir)
    lands = list(lands)
    paths = []
    by_plane: dict[str, list[Any]] = {}
    for land in lands:
        by_plane.setdefault(land.plane, []).append(land)
    for plane, group in by_plane.items():
        fig = landscape_figure(group, dpi=dpi)
        paths.append(save_figure(fig, out / f"{stem}_landscape-{plane}.{fmt}", fmt, dpi))
    if interpolations:
        fig = interpolation_figure(list(interpolations), dpi=dpi)
        paths.append(save_figure(fig, out / f"{stem}_interpolation.{fmt}", fmt, dpi))
    if gif:
        for land in lands:
            paths.append(
                save_animation(
                    land, out / f"{stem}_landscape-{land.plane}-{slug(land.label, 30)}.gif"
                )
            )
    return paths
