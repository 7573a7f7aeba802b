"""Animations: the paths growing over the contour (or curve, or surface) with the
loss and learning-rate curves growing beside them.

Everything is computed before the first frame: the figure with its static
parts is drawn once and cached as a background; each frame restores that
background, moves the changing artists with ``set_data``/``set_text`` and
draws only them (``draw_artist``), then hands the RGBA buffer to a writer.
matplotlib's ``Animation.save`` would redraw the whole figure twice per
frame; this is about ten times faster.

Writers take frames as (height, width, 4) uint8 arrays:

* :class:`GifWriter` — Pillow, one palette computed once from the final
  frame and applied to every frame (no per-frame colour quantization, no
  dithering noise, and Pillow stores only the changed rectangle per frame);
* :class:`Mp4Writer` — raw RGBA piped to ffmpeg (H.264);
* :class:`CountingWriter` — counts frames (tests, dry runs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from optviz.errors import OptvizError
from optviz.plot import _data, _files, _style

Progress = Callable[[int, int], None]

FFMPEG_HELP = (
    "MP4 needs ffmpeg, which was not found: install it (apt-get install ffmpeg, brew install ffmpeg "
    "or conda install ffmpeg), or pip install imageio-ffmpeg, or set matplotlib's "
    "rcParams['animation.ffmpeg_path'] to an ffmpeg binary; --animate gif needs nothing extra"
)


# --------------------------------------------------------------------------- writers


class FrameWriter:
    """Receives frames; ``open`` gets the size and a reference frame (the last one)."""

    def open(self, width: int, height: int, fps: int, count: int, reference: np.ndarray) -> None:
        raise NotImplementedError

    def write(self, rgba: np.ndarray) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Finish the file (called once after the last frame)."""

    def abort(self) -> None:
        """Give up after an error (release processes and memory)."""


class CountingWriter(FrameWriter):
    """Counts frames and remembers their size; ``keep=True`` keeps copies of them."""

    def __init__(self, keep: bool = False):
        self.keep = keep
        self.count = 0
        self.size: tuple[int, int] | None = None
        self.fps: int | None = None
        self.expected: int | None = None
        self.frames: list[np.ndarray] = []
        self.closed = False
        self.aborted = False

    def open(self, width, height, fps, count, reference):
        self.size, self.fps, self.expected = (width, height), fps, count

    def write(self, rgba):
        self.count += 1
        if self.keep:
            self.frames.append(np.array(rgba, copy=True))

    def close(self):
        self.closed = True

    def abort(self):
        self.aborted = True


class GifWriter(FrameWriter):
    """An animated GIF through Pillow, with one fixed palette for all frames.

    The palette (255 colours) comes from the reference frame once; each frame
    is mapped onto it without dithering. From the second frame on, pixels
    equal to the previous frame's are set to the 256th, transparent index, so
    a frame stores only what moved (GIF disposal 1 keeps the rest). The last
    frame is held ``hold`` seconds, so a looping slide shows where the runs
    ended before starting over.
    """

    TRANSPARENT = 255

    def __init__(self, path: str | Path, hold: float = 1.5):
        self.path = Path(path)
        self.hold = hold
        self._frames: list[Any] = []
        self._palette = None
        self._previous: np.ndarray | None = None
        self._fps = 20
        self._size = (0, 0)

    def open(self, width, height, fps, count, reference):
        from PIL import Image

        self._fps, self._size = fps, (width, height)
        rgb = Image.fromarray(np.ascontiguousarray(reference[..., :3]))
        self._palette = rgb.quantize(colors=255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        self._previous = None

    def write(self, rgba):
        from PIL import Image

        rgb = Image.frombuffer("RGBA", self._size, np.ascontiguousarray(rgba), "raw", "RGBA", 0, 1).convert("RGB")
        indexed = np.asarray(rgb.quantize(palette=self._palette, dither=Image.Dither.NONE))
        if self._previous is None:
            out = indexed
        else:
            out = np.where(indexed == self._previous, np.uint8(self.TRANSPARENT), indexed)
        self._previous = indexed
        frame = Image.fromarray(out, mode="P")
        frame.putpalette(self._palette.getpalette())
        self._frames.append(frame)

    def close(self):
        if not self._frames:
            raise OptvizError("no frames to write")
        frame_ms = max(20, int(round(1000 / self._fps)))
        durations = [frame_ms] * len(self._frames)
        durations[-1] = max(frame_ms, int(self.hold * 1000))
        first, rest = self._frames[0], self._frames[1:]
        first.save(self.path, format="GIF", save_all=True, append_images=rest, duration=durations,
                   loop=0, optimize=False, disposal=1, transparency=self.TRANSPARENT)
        self._frames = []

    def abort(self):
        self._frames = []


def find_ffmpeg() -> str | None:
    """ffmpeg from matplotlib's rcParams, the PATH, or the imageio-ffmpeg package."""
    try:
        import matplotlib

        configured = matplotlib.rcParams.get("animation.ffmpeg_path", "ffmpeg")
    except Exception:
        configured = "ffmpeg"
    for candidate in (configured, "ffmpeg"):
        found = shutil.which(candidate) if candidate else None
        if found:
            return found
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:
        return None


class Mp4Writer(FrameWriter):
    """H.264 MP4 by piping raw RGBA frames to ffmpeg."""

    def __init__(self, path: str | Path, ffmpeg: str | None = None, crf: int = 20):
        self.path = Path(path)
        self.ffmpeg = ffmpeg or find_ffmpeg()
        if not self.ffmpeg:
            raise OptvizError(FFMPEG_HELP)
        self.crf = crf
        self._proc: subprocess.Popen | None = None

    def open(self, width, height, fps, count, reference):
        cmd = [
            self.ffmpeg, "-y", "-loglevel", "error",
            "-f", "rawvideo", "-pix_fmt", "rgba", "-s", f"{width}x{height}", "-r", str(fps), "-i", "-",
            "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2:color=white",  # yuv420p needs even sides
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", str(self.crf), "-movflags", "+faststart",
            "-f", "mp4", str(self.path),
        ]
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE)
        except OSError as exc:
            raise OptvizError(f"cannot start ffmpeg ({self.ffmpeg}): {exc.strerror or exc}") from None

    def write(self, rgba):
        assert self._proc is not None and self._proc.stdin is not None
        try:
            self._proc.stdin.write(np.ascontiguousarray(rgba).tobytes())
        except BrokenPipeError:
            err = self._proc.stderr.read().decode(errors="replace").strip() if self._proc.stderr else ""
            raise OptvizError(f"ffmpeg stopped: {err.splitlines()[-1] if err else 'broken pipe'}") from None

    def close(self):
        assert self._proc is not None
        _, err = self._proc.communicate()
        if self._proc.returncode != 0:
            text = err.decode(errors="replace").strip().splitlines()
            raise OptvizError(f"ffmpeg failed: {text[-1] if text else f'exit code {self._proc.returncode}'}")

    def abort(self):
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()


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


def _grow(line: Any, xs: np.ndarray, ys: np.ndarray, counts: np.ndarray) -> Callable[[int], None]:
    """Frame i shows the first counts[i] points."""

    def fn(i: int) -> None:
        n = counts[i]
        line.set_data(xs[:n], ys[:n])

    return fn


def _grow3d(line: Any, xs: np.ndarray, ys: np.ndarray, zs: np.ndarray, counts: np.ndarray) -> Callable[[int], None]:
    def fn(i: int) -> None:
        n = counts[i]
        line.set_data_3d(xs[:n], ys[:n], zs[:n])

    return fn


def _head(marker: Any, xs: np.ndarray, ys: np.ndarray, counts: np.ndarray, zs: np.ndarray | None = None):
    """Frame i puts the marker on the newest point."""
    idx = np.maximum(counts - 1, 0)

    def fn(i: int) -> None:
        j = idx[i]
        if zs is None:
            marker.set_data(xs[j:j + 1], ys[j:j + 1])
        else:
            marker.set_data_3d(xs[j:j + 1], ys[j:j + 1], zs[j:j + 1])

    return fn


def _texts(text: Any, strings: Sequence[str]) -> Callable[[int], None]:
    def fn(i: int) -> None:
        text.set_text(strings[i])

    return fn


def _counts(n_points: int, steps: np.ndarray, first: int = 0) -> np.ndarray:
    """Points shown per frame of a series whose first point is step ``first``."""
    return np.clip(steps + 1 - first, 0, n_points)


def build_scene(result: Any, *, frames: int = 100, surface: bool = False, dpi: float = 100,
                resolution: int = 200) -> Scene:
    """The animated figure: picture (contour, curve or surface) | f − f* and η | run readout."""
    from matplotlib.lines import Line2D

    from optviz.plot import static

    objective, runs = result.objective, result.runs
    d = objective.dim
    if d > 2:
        raise OptvizError(f"an animation needs a function of 1 or 2 variables; {objective.name} has {d}")
    if surface and d != 2:
        raise OptvizError(f"an animated surface needs a function of 2 variables; {objective.name} has {d}")
    steps = _data.frame_steps(_data.last_step(runs), frames)
    styles = _style.run_styles(runs)
    f_star = objective.f_star

    fig = static.new_figure((13.5, 5.8), dpi=dpi)
    gs = fig.add_gridspec(2, 3, width_ratios=[1.35, 1.0, 0.62], height_ratios=[1.5, 1.0])
    scene = Scene(fig, steps)
    if surface:
        ax = fig.add_subplot(gs[:, 0], projection="3d")
    else:
        ax = fig.add_subplot(gs[:, 0])
    ax_loss = fig.add_subplot(gs[0, 1])
    ax_lr = fig.add_subplot(gs[1, 1], sharex=ax_loss)
    ax_info = fig.add_subplot(gs[:, 2])
    ax_info.set_axis_off()

    # --- the picture: paths drawn with all their points (limits fit them), then
    # marked animated, so the cached background holds only what never changes
    paths: list[tuple[Any, np.ndarray, np.ndarray, np.ndarray | None, Any]] = []
    if d == 2 and not surface:
        static.draw_contour(ax, objective, runs, resolution=resolution)
        art = static.draw_paths(ax, runs, detail=False, styles=styles)
        lines, ends = art.paths, art.ends
        if art.indefinite is not None:
            art.indefinite.remove()
        for line in ends:
            line.remove()
        for line in lines:
            xy = line.get_xydata()
            paths.append((line, xy[:, 0].copy(), xy[:, 1].copy(), None, line.get_color()))
    elif d == 1:
        art = static.draw_curve_1d(ax, objective, runs, detail=False, number_steps=False, styles=styles)
        for extra in art.ends + ([art.indefinite] if art.indefinite is not None else []):
            extra.remove()
        for line in art.paths:
            xy = line.get_xydata()
            paths.append((line, xy[:, 0].copy(), xy[:, 1].copy(), None, line.get_color()))
    else:
        art = static.draw_surface(ax, objective, runs, styles=styles, resolution=60)
        for line in art.paths:
            xs, ys, zs = (np.asarray(a, dtype=float).copy() for a in line.get_data_3d())
            paths.append((line, xs, ys, zs, line.get_color()))

    owners = [(color, marker) for traj, (color, marker) in zip(runs, styles) for _ in range(traj.K)]
    for (line, xs, ys, zs, color), (_, marker) in zip(paths, owners):
        counts = _counts(len(xs), steps)
        line.set_animated(True)
        head_kw = dict(color=color, marker=marker, markersize=11, markeredgecolor="black",
                       markeredgewidth=1.2, linestyle="none", zorder=9, animated=True)
        if zs is None:
            head = ax.plot(xs[:1], ys[:1], **head_kw)[0]
            scene.updates += [_grow(line, xs, ys, counts), _head(head, xs, ys, counts)]
        else:
            head = ax.plot(xs[:1], ys[:1], zs[:1], **head_kw)[0]
            scene.updates += [_grow3d(line, xs, ys, zs, counts), _head(head, xs, ys, counts, zs)]
        scene.animated += [line, head]

    # --- loss and learning rate: full curves fix scales and limits, then grow
    drawn = static.draw_loss([ax_loss, ax_lr], runs, styles=styles, panels=("loss", "lr"))
    ax_loss.set_xlabel("")
    ax_loss.tick_params(labelbottom=False)
    last = int(steps[-1])
    for a in (ax_loss, ax_lr):
        for extra in list(a.lines):
            if not any(extra is ln for lines in drawn.values() for ln in lines):
                extra.remove()  # the diverged markers: the readout says it
        a.set_xlim(-0.01 * max(1, last), 1.03 * max(1, last))  # room for the end markers
    ax_lr.set_title("")
    ax_loss.set_title("f − f*" if f_star is not None else "f", fontsize=12)
    for panel, lines in drawn.items():
        for line, (color, marker) in zip(lines, owners):
            xs, ys = (a.copy() for a in line.get_data())
            first = 1 if panel == "lr" else 0
            counts = _counts(len(xs), steps, first)
            line.set_animated(True)
            scene.updates.append(_grow(line, xs, ys, counts))
            scene.animated.append(line)
            if panel == "loss":
                head = ax_loss.plot(xs[:1], ys[:1], color=color, marker=marker, markersize=8,
                                    markeredgecolor="black", linestyle="none", animated=True)[0]
                scene.updates.append(_head(head, xs, ys, counts))
                scene.animated.append(head)

    # --- readout: the step, then per run η (static when constant) and how it ended
    step_text = ax_info.text(0.0, 1.0, "", transform=ax_info.transAxes, va="top", ha="left",
                             fontsize=16, fontweight="bold", animated=True)
    scene.updates.append(_texts(step_text, [f"step {t} of {last}" for t in steps]))
    scene.animated.append(step_text)
    slot = min(0.16, 0.88 / max(1, len(runs)))
    for r, (traj, (color, marker)) in enumerate(zip(runs, styles)):
        y = 0.87 - r * slot
        ax_info.add_line(Line2D([0.02], [y], transform=ax_info.transAxes, color=color, marker=marker,
                                markersize=9, markeredgecolor="white", linestyle="none"))
        ax_info.text(0.09, y, static.display_name_of(traj), transform=ax_info.transAxes, va="center",
                     ha="left", color=color, fontsize=12.5, fontweight="bold")
        lr_strings = _lr_readouts(traj, steps)
        kw = dict(transform=ax_info.transAxes, va="center", ha="left", fontsize=10.5, color="#222222")
        if len(set(lr_strings)) == 1:
            ax_info.text(0.09, y - 0.05, lr_strings[0], **kw)
        else:
            lr_text = ax_info.text(0.09, y - 0.05, "", animated=True, **kw)
            scene.updates.append(_texts(lr_text, lr_strings))
            scene.animated.append(lr_text)
            scene.sprites.add(id(lr_text))
        end_text = ax_info.text(0.09, y - 0.095, "", animated=True, **kw)
        scene.updates.append(_texts(end_text, _status_readouts(traj, steps)))
        scene.animated.append(end_text)
        scene.sprites.add(id(end_text))
    if surface:
        fig.get_layout_engine().set(wspace=0.06)  # the 3-D z label reaches past its axes
    static.figure_title(fig, objective)
    return scene


def _lr_readouts(traj: Any, steps: np.ndarray) -> list[str]:
    """'η = 0.1' per frame: the rate of the step that led to the shown point (start 0),
    frozen at the last step once the point stopped; the base rate before any step."""
    stop = min(int(traj.steps[0]), traj.lr.shape[0] - 1)
    base = np.asarray(traj.hyperparameters.get("lr", np.nan), dtype=float).reshape(-1)
    out = []
    for t in steps:
        value = float(traj.lr[int(min(max(t, 1), stop)), 0]) if stop >= 1 else float(base[0])
        out.append(f"η = {_style.fmt_number(value, 2)}" if np.isfinite(value) else "η = –")
    return out


def _status_readouts(traj: Any, steps: np.ndarray) -> list[str]:
    """'' while start 0 runs; 'converged at step 164' / 'diverged at step 5' once it stopped."""
    stop = int(traj.steps[0])
    text = {"converged": f"converged at step {stop}", "diverged": f"diverged at step {stop}"}.get(traj.status[0], "")
    return [text if t >= stop else "" for t in steps]


# --------------------------------------------------------------------------- rendering


def render_animation(result: Any, writer: FrameWriter, *, frames: int = 100, fps: int = 20,
                     surface: bool = False, progress: Progress | None = None, dpi: float = 100) -> int:
    """Render the animation of ``result`` into ``writer``; return the number of frames.

    Frames show ``frames`` evenly spaced steps (all steps if there are fewer),
    always the first and the last. ``progress(done, total)`` is called after
    each frame.
    """
    from optviz.plot.static import style

    with style():
        scene = build_scene(result, frames=frames, surface=surface, dpi=dpi)
        fig = scene.fig
        canvas = fig.canvas
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
        reference = render(total - 1).copy()
        writer.open(width, height, fps, total, reference)
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


def save_animation(result: Any, path: str | Path, *, fps: int = 20, frames: int = 100, surface: bool = False,
                   progress: Progress | None = None, dpi: float = 100) -> Path:
    """Write a GIF or MP4 (by the suffix of ``path``) atomically; MP4 needs ffmpeg."""
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    if kind not in _files.ANIMATIONS:
        raise OptvizError(f"animations are written as {' or '.join(_files.ANIMATIONS)}, not {path.suffix or path.name}")
    ffmpeg = None
    if kind == "mp4":
        ffmpeg = find_ffmpeg()
        if ffmpeg is None:
            raise OptvizError(FFMPEG_HELP)
    _files.prepare_dir(path.parent)
    with _files.atomic_path(path) as tmp:
        writer: FrameWriter = GifWriter(tmp) if kind == "gif" else Mp4Writer(tmp, ffmpeg=ffmpeg)
        try:
            render_animation(result, writer, frames=frames, fps=fps, surface=surface, progress=progress, dpi=dpi)
        except OSError as exc:
            raise OptvizError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
