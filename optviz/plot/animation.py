"""Animations: the paths growing over the contour (or curve, or surface) with the
loss and learning-rate curves growing beside them.

Everything is computed before the first frame: the figure with its static
parts is drawn once and cached as a background; each frame restores that
background, moves the changing artists with ``set_data``/``set_text`` and
draws only them (``draw_artist``), then hands the RGBA buffer to a writer
(:mod:`optviz.plot.writers`). matplotlib's ``Animation.save`` would redraw the
whole figure twice per frame; this is about ten times faster. :func:`render_scene`
is the one blit loop of optviz: the landscape animations use it too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from optviz import interrupts
from optviz.errors import OptvizError
from optviz.plot import _data, _files, _style
from optviz.plot.writers import (
    FFMPEG_HELP,
    CountingWriter,
    FrameWriter,
    GifWriter,
    Mp4Writer,
    check_frame_size,
    find_ffmpeg,
)
from optviz.status import Status

__all__ = ["FFMPEG_HELP", "CountingWriter", "FrameWriter", "GifWriter", "Mp4Writer", "Scene", "build_scene",
           "find_ffmpeg", "render_animation", "render_scene", "save_animation", "save_scene"]

Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------- the scene


@dataclass
class Scene:
    """A figure with its static parts, the artists that change, and what each frame sets."""

    fig: Any
    steps: np.ndarray  # the step shown by each frame
    animated: list[Any] = field(default_factory=list)
    sprites: set[int] = field(default_factory=set)  # ids of texts on a plain background: cached bitmaps
    updates: list[Callable[[int], None]] = field(default_factory=list)  # each takes the frame index

    def update(self, i: int) -> None:
        for fn in self.updates:
            fn(i)


def grow(line: Any, xs: np.ndarray, ys: np.ndarray, counts: np.ndarray) -> Callable[[int], None]:
    """Frame i shows the first counts[i] points."""

    def fn(i: int) -> None:
        n = counts[i]
        line.set_data(xs[:n], ys[:n])

    return fn


def grow3d(line: Any, xs: np.ndarray, ys: np.ndarray, zs: np.ndarray, counts: np.ndarray) -> Callable[[int], None]:
    def fn(i: int) -> None:
        n = counts[i]
        line.set_data_3d(xs[:n], ys[:n], zs[:n])

    return fn


def head(marker: Any, xs: np.ndarray, ys: np.ndarray, counts: np.ndarray, zs: np.ndarray | None = None):
    """Frame i puts the marker on the newest point."""
    idx = np.maximum(counts - 1, 0)

    def fn(i: int) -> None:
        j = idx[i]
        if zs is None:
            marker.set_data(xs[j:j + 1], ys[j:j + 1])
        else:
            marker.set_data_3d(xs[j:j + 1], ys[j:j + 1], zs[j:j + 1])

    return fn


def texts(text: Any, strings: Sequence[str]) -> Callable[[int], None]:
    def fn(i: int) -> None:
        text.set_text(strings[i])

    return fn


def _counts(n_points: int, steps: np.ndarray, first: int = 0, stride: int = 1) -> np.ndarray:
    """Points shown per frame of a series whose first point is step ``first`` (a record
    thinned to every ``stride``-th step holds one point per ``stride`` steps)."""
    return np.clip(steps // stride + 1 - first, 0, n_points)


def build_scene(result: Any, *, frames: int = 100, surface: bool = False, dpi: float = 100,
                resolution: int = 200, domain: Any = None, xlim: Any = None, ylim: Any = None,
                show_convexity: bool = False) -> Scene:
    """The animated figure: picture (contour, curve or surface) | f − f* and η | run readout.
    ``domain`` (or ``xlim``/``ylim``) and ``show_convexity`` as for the static pictures
    (see :func:`optviz.plot.static.picture_domain`)."""
    from optviz.plot import static
    from optviz.plot.options import ANIMATION_INCHES

    objective, runs = result.objective, result.runs
    d = objective.dim
    if d > 2:
        raise OptvizError(f"an animation needs a function of 1 or 2 variables; {objective.name} has {d}")
    if surface and d != 2:
        raise OptvizError(f"an animated surface needs a function of 2 variables; {objective.name} has {d}")
    steps = _data.frame_steps(_data.last_step(runs), frames)
    styles = _style.run_styles(runs)
    fig = static.new_figure(ANIMATION_INCHES, dpi=dpi)
    gs = fig.add_gridspec(2, 3, width_ratios=[1.35, 1.0, 0.62], height_ratios=[1.5, 1.0])
    scene = Scene(fig, steps)
    ax = fig.add_subplot(gs[:, 0], projection="3d") if surface else fig.add_subplot(gs[:, 0])
    ax_loss = fig.add_subplot(gs[0, 1])
    ax_lr = fig.add_subplot(gs[1, 1], sharex=ax_loss)
    ax_info = fig.add_subplot(gs[:, 2])
    ax_info.set_axis_off()
    owners = [(color, marker, traj.stride) for traj, (color, marker) in zip(runs, styles) for _ in range(traj.K)]
    region = _Region(domain, xlim, ylim, show_convexity)
    _animate_paths(scene, ax, result, styles, owners, surface=surface, resolution=resolution, region=region)
    _animate_losses(scene, ax_loss, ax_lr, result, styles, owners)
    _readout(scene, ax_info, runs, styles)
    if surface:
        fig.get_layout_engine().set(wspace=0.06)  # the 3-D z label reaches past its axes
    static.figure_title(fig, objective)
    return scene


@dataclass(frozen=True)
class _Region:
    domain: Any = None
    xlim: Any = None
    ylim: Any = None
    show_convexity: bool = False


def _picture_paths(ax: Any, result: Any, styles, *, surface: bool, resolution: int, region: _Region) -> list[tuple]:
    """Draw the picture with every path at full length (limits fit them); return
    (line, xs, ys, zs or None, color) per path, the end markers removed."""
    from optviz.domain import View
    from optviz.plot import static

    objective, runs = result.objective, result.runs
    box = static.picture_domain(objective, runs, region.domain, region.xlim, region.ylim)
    paths: list[tuple[Any, np.ndarray, np.ndarray, np.ndarray | None, Any]] = []
    if surface:
        art = static.draw_surface(ax, objective, runs, styles=styles, resolution=60, domain=box)
        for line in art.paths:
            xs, ys, zs = (np.asarray(a, dtype=float).copy() for a in line.get_data_3d())
            paths.append((line, xs, ys, zs, line.get_color()))
        return paths
    if objective.dim == 2:
        static.draw_contour(ax, objective, runs, resolution=resolution, domain=box, convexity=region.show_convexity)
        art = static.draw_paths(ax, runs, detail=False, styles=styles)
    else:
        value_range = View.parse(region.domain, region.xlim, region.ylim).value_range(1)
        art = static.draw_curve_1d(ax, objective, runs, detail=False, number_steps=False, styles=styles, domain=box,
                                   ylim=value_range, convexity=region.show_convexity)
    for extra in art.ends + ([art.indefinite] if art.indefinite is not None else []):
        extra.remove()
    for line in art.paths:
        xy = line.get_xydata()
        paths.append((line, xy[:, 0].copy(), xy[:, 1].copy(), None, line.get_color()))
    return paths


def _animate_paths(scene: Scene, ax: Any, result: Any, styles, owners, *, surface: bool, resolution: int,
                   region: _Region) -> None:
    """The paths grow with a marker on the newest point; the background keeps only what never changes."""
    steps = scene.steps
    paths = _picture_paths(ax, result, styles, surface=surface, resolution=resolution, region=region)
    for (line, xs, ys, zs, color), (_, marker, stride) in zip(paths, owners):
        counts = _counts(len(xs), steps, stride=stride)
        line.set_animated(True)
        head_kw = dict(color=color, marker=marker, markersize=11, markeredgecolor="black",
                       markeredgewidth=1.2, linestyle="none", zorder=9, animated=True)
        if zs is None:
            tip = ax.plot(xs[:1], ys[:1], **head_kw)[0]
            scene.updates += [grow(line, xs, ys, counts), head(tip, xs, ys, counts)]
        else:
            tip = ax.plot(xs[:1], ys[:1], zs[:1], **head_kw)[0]
            scene.updates += [grow3d(line, xs, ys, zs, counts), head(tip, xs, ys, counts, zs)]
        scene.animated += [line, tip]
    # The star of the lowest minimum is drawn after the moving markers, so it stays on top.
    stars = [ln for ln in ax.get_lines() if ln.get_gid() == "critical lowest"]
    for star in stars:
        star.set_animated(True)
    scene.animated += stars


def _animate_losses(scene: Scene, ax_loss: Any, ax_lr: Any, result: Any, styles, owners) -> None:
    """Loss and learning rate: the full curves fix scales and limits, then they grow."""
    from optviz.plot import static

    drawn = static.draw_loss([ax_loss, ax_lr], result.runs, styles=styles, panels=("loss", "lr"))
    ax_loss.set_xlabel("")
    ax_loss.tick_params(labelbottom=False)
    last = int(scene.steps[-1])
    for a in (ax_loss, ax_lr):
        for extra in list(a.lines):
            if not any(extra is ln for lines in drawn.values() for ln in lines):
                extra.remove()  # the diverged markers: the readout says it
        a.set_xlim(-0.01 * max(1, last), 1.03 * max(1, last))  # room for the end markers
    ax_lr.set_title("")
    ax_loss.set_title(_loss_title(result), fontsize=12)
    for panel, lines in drawn.items():
        for line, (color, marker, stride) in zip(lines, owners):
            xs, ys = (a.copy() for a in line.get_data())
            counts = _counts(len(xs), scene.steps, 1 if panel == "lr" else 0, stride)
            line.set_animated(True)
            scene.updates.append(grow(line, xs, ys, counts))
            scene.animated.append(line)
            if panel == "loss":
                tip = ax_loss.plot(xs[:1], ys[:1], color=color, marker=marker, markersize=8,
                                   markeredgecolor="black", linestyle="none", animated=True)[0]
                scene.updates.append(head(tip, xs, ys, counts))
                scene.animated.append(tip)


def _loss_title(result: Any) -> str:
    """'f − f*', 'f − f* (f* = the lowest minimum found)', or 'f' (as draw_loss draws it)."""
    objective = result.objective
    ref = objective.reference_value
    if ref is None or _data.below_reference(result.runs, ref):
        return "f"
    return "f − f*" if objective.reference_is_listed else "f − f*  (f* = the lowest minimum found)"


def _readout(scene: Scene, ax_info: Any, runs, styles) -> None:
    """The step, then per run its name, η (static when constant) and how it ended."""
    from matplotlib.lines import Line2D

    steps = scene.steps
    last = int(steps[-1])
    step_text = ax_info.text(0.0, 1.0, "", transform=ax_info.transAxes, va="top", ha="left",
                             fontsize=16, fontweight="bold", animated=True)
    scene.updates.append(texts(step_text, [f"step {t} of {last}" for t in steps]))
    scene.animated.append(step_text)
    slot = min(0.16, 0.88 / max(1, len(runs)))
    for r, (traj, (color, marker)) in enumerate(zip(runs, styles)):
        y = 0.87 - r * slot
        ax_info.add_line(Line2D([0.02], [y], transform=ax_info.transAxes, color=color, marker=marker,
                                markersize=9, markeredgecolor="white", linestyle="none"))
        ax_info.text(0.09, y, _style.run_name(traj), transform=ax_info.transAxes, va="center",
                     ha="left", color=color, fontsize=12.5, fontweight="bold")
        lr_strings = _lr_readouts(traj, steps)
        kw = dict(transform=ax_info.transAxes, va="center", ha="left", fontsize=10.5, color="#222222")
        if len(set(lr_strings)) == 1:
            ax_info.text(0.09, y - 0.05, lr_strings[0], **kw)
        else:
            lr_text = ax_info.text(0.09, y - 0.05, "", animated=True, **kw)
            scene.updates.append(texts(lr_text, lr_strings))
            scene.animated.append(lr_text)
            scene.sprites.add(id(lr_text))
        end_text = ax_info.text(0.09, y - 0.095, "", animated=True, **kw)
        scene.updates.append(texts(end_text, _status_readouts(traj, steps)))
        scene.animated.append(end_text)
        scene.sprites.add(id(end_text))


def _lr_readouts(traj: Any, steps: np.ndarray) -> list[str]:
    """'η = 0.1' per frame: the rate of the step that led to the shown point (start 0),
    frozen at the last step once the point stopped; the base rate before any step."""
    stop = min(traj.rows(0) - 1, traj.lr.shape[0] - 1)
    base = np.asarray(traj.hyperparameters.get("lr", np.nan), dtype=float).reshape(-1)
    out = []
    for t in steps:
        row = int(min(max(t // traj.stride, 1), stop))
        value = float(traj.lr[row, 0]) if stop >= 1 else float(base[0])
        out.append(f"η = {_style.fmt_number(value, 2)}" if np.isfinite(value) else "η = –")
    return out


def _status_readouts(traj: Any, steps: np.ndarray) -> list[str]:
    """'' while start 0 runs; 'converged at step 164' / 'diverged at step 5' once it stopped."""
    stop = int(traj.steps[0])
    status = Status(traj.status[0])
    text = status.describe(stop) if status.stopped_early else ""
    return [text if t >= stop else "" for t in steps]


# --------------------------------------------------------------------------- rendering


def render_scene(scene: Scene, writer: FrameWriter, *, fps: int = 20, progress: Progress | None = None) -> int:
    """The one blit loop: draw ``scene``'s static parts once, then per frame restore them,
    update and draw only the animated artists, and hand the pixels to ``writer``.

    The writer opens with the last frame as its reference (a GIF's palette comes from
    it). ``progress(done, total)`` is called after each frame. Returns the frame count.
    """
    fig = scene.fig
    canvas = fig.canvas
    check_frame_size(*(int(round(v * fig.dpi)) for v in fig.get_size_inches()))
    canvas.draw()  # static parts only: the changing artists are animated
    fig.set_layout_engine("none")  # frozen: nothing may move between frames
    background = canvas.copy_from_bbox(fig.bbox)
    width, height = (int(v) for v in canvas.get_width_height())
    renderer = canvas.get_renderer()
    # Text is slow to rasterize (~0.2 ms a glyph); a text that sits on a plain
    # background and repeats (η under a schedule, "converged at step 40") is
    # drawn once and then pasted from its cached bitmap.
    sprites: dict[tuple[int, str], Any] = {}

    def render(i: int) -> np.ndarray:
        interrupts.check()  # a Ctrl-C swallowed while drawing still stops the animation
        canvas.restore_region(background)
        scene.update(i)
        for artist in scene.animated:
            if id(artist) in scene.sprites:
                key = (id(artist), artist.get_text())
                if not key[1]:
                    continue
                region = sprites.get(key)
                if region is not None:
                    canvas.restore_region(region)
                    continue
                fig.draw_artist(artist)
                sprites[key] = canvas.copy_from_bbox(artist.get_window_extent(renderer).padded(2))
            else:
                fig.draw_artist(artist)
        return np.asarray(canvas.buffer_rgba())

    total = len(scene.steps)
    writer.open(width, height, fps, total, render(total - 1).copy())
    try:
        for i in range(total):
            writer.write(render(i))
            if progress is not None:
                progress(i + 1, total)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return total


def save_scene(path: str | Path, make_scene: Callable[[], Scene], *, fps: int = 20,
               progress: Progress | None = None) -> Path:
    """Render ``make_scene()`` into a GIF or MP4 (by the suffix of ``path``) atomically; MP4 needs ffmpeg."""
    from optviz.plot.static import style

    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    if kind not in _files.ANIMATIONS:
        raise OptvizError(f"animations are written as {' or '.join(_files.ANIMATIONS)}, not {path.suffix or path.name}")
    ffmpeg = None
    if kind == "mp4":
        ffmpeg = find_ffmpeg()
        if ffmpeg is None:
            raise OptvizError(FFMPEG_HELP, param="animate")
    _files.prepare_dir(path.parent)
    with _files.atomic_path(path) as tmp, style():
        writer: FrameWriter = GifWriter(tmp) if kind == "gif" else Mp4Writer(tmp, ffmpeg=ffmpeg)
        render_scene(make_scene(), writer, fps=fps, progress=progress)  # atomic_path names a failed write
    return path


def render_animation(result: Any, writer: FrameWriter, *, frames: int = 100, fps: int = 20,
                     surface: bool = False, progress: Progress | None = None, dpi: float = 100,
                     **region: Any) -> int:
    """Render the animation of ``result`` into ``writer``; return the number of frames.

    Frames show ``frames`` evenly spaced steps (all steps if there are fewer),
    always the first and the last. ``progress(done, total)`` is called after
    each frame. ``region``: ``domain``, ``xlim``, ``ylim``, ``show_convexity`` (see
    :func:`build_scene`).
    """
    from optviz.plot.static import style

    with style():
        scene = build_scene(result, frames=frames, surface=surface, dpi=dpi, **region)
        return render_scene(scene, writer, fps=fps, progress=progress)


def save_animation(result: Any, path: str | Path, *, fps: int = 20, frames: int = 100, surface: bool = False,
                   progress: Progress | None = None, dpi: float = 100, **region: Any) -> Path:
    """Write the animation of ``result`` as a GIF or MP4 (by the suffix of ``path``) atomically;
    ``region`` as for :func:`render_animation`."""
    return save_scene(path, lambda: build_scene(result, frames=frames, surface=surface, dpi=dpi, **region), fps=fps,
                      progress=progress)
