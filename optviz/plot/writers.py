"""Frame writers: every animation (paths on a surface, paths on a loss landscape) is
rendered by one blit loop (:mod:`optviz.plot.animation`) into one of these.

Writers take frames as (height, width, 4) uint8 arrays:

* :class:`GifWriter` — Pillow, one palette computed once from a reference frame (the
  last) and applied to every frame (no per-frame colour quantization, no dithering
  noise), and each frame stores only the pixels that changed;
* :class:`Mp4Writer` — raw RGBA piped to ffmpeg (H.264);
* :class:`CountingWriter` — counts frames (tests, dry runs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from optviz.errors import OptvizError

FFMPEG_HELP = (
    "MP4 needs ffmpeg, which was not found: install it (apt-get install ffmpeg, brew install ffmpeg "
    "or conda install ffmpeg), or pip install imageio-ffmpeg, or set matplotlib's "
    "rcParams['animation.ffmpeg_path'] to an ffmpeg binary; {animate=gif} needs nothing extra"
)



# The largest frame an animation renders: the figure's pixel buffer and its copies
# (background, frame) take about 12 bytes a pixel, so about 250 MB at this size.
MAX_FRAME_PIXELS = 20_000_000


def check_frame_size(width: int, height: int) -> None:
    """Refuse a frame larger than :data:`MAX_FRAME_PIXELS` before its pixels are allocated."""
    if width * height > MAX_FRAME_PIXELS:
        raise OptvizError(f"an animation frame of {width}×{height} pixels is larger than the "
                          f"{MAX_FRAME_PIXELS / 1e6:.0f} million pixels allowed (about 250 MB to render): lower {{dpi}}",
                          names=("dpi",))


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
    """An animated GIF, streamed to its file frame by frame, with one fixed palette.

    The palette (255 colours) comes from the reference frame once; each frame
    is mapped onto it without dithering. From the second frame on, only the
    rectangle that changed is stored, its unchanged pixels set to the 256th,
    transparent index (GIF disposal 1 keeps the rest). Each frame is written as it
    comes (Pillow's per-frame encoder), so memory holds one frame, whatever the
    resolution and the number of frames. The last frame is held ``hold`` seconds,
    so a looping slide shows where the runs ended before starting over.
    """

    TRANSPARENT = 255

    def __init__(self, path: str | Path, hold: float = 1.5):
        self.path = Path(path)
        self.hold = hold
        self._file: Any = None
        self._palette = None
        self._previous: np.ndarray | None = None
        self._fps = 20
        self._size = (0, 0)
        self._count = 0
        self._written = 0

    def open(self, width, height, fps, count, reference):
        from PIL import Image

        self._fps, self._size, self._count, self._written = fps, (width, height), count, 0
        rgb = Image.fromarray(np.ascontiguousarray(reference[..., :3]))
        self._palette = rgb.quantize(colors=255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        self._previous = None
        colors = (self._palette.getpalette() or [])[: 3 * 256]
        colors += [0] * (3 * 256 - len(colors))
        self._file = open(self.path, "wb")
        self._file.write(b"GIF89a" + _u16(width) + _u16(height) + bytes([0x80 | 7, 0, 0]) + bytes(colors)
                         + b"!\xff\x0bNETSCAPE2.0\x03\x01" + _u16(0) + b"\x00")  # loop forever

    def write(self, rgba):
        from PIL import GifImagePlugin, Image

        rgb = Image.frombuffer("RGBA", self._size, np.ascontiguousarray(rgba), "raw", "RGBA", 0, 1).convert("RGB")
        indexed = np.asarray(rgb.quantize(palette=self._palette, dither=Image.Dither.NONE))
        offset, region = (0, 0), indexed
        if self._previous is not None:
            changed = indexed != self._previous
            if changed.any():
                rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
                y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
                region = np.where(changed, indexed, np.uint8(self.TRANSPARENT))[y0:y1, x0:x1]
                offset = (int(x0), int(y0))
            else:  # nothing moved: one transparent pixel keeps the frame's time
                region = np.full((1, 1), self.TRANSPARENT, np.uint8)
        self._previous = indexed
        frame_ms = max(20, int(round(1000 / self._fps)))
        last = self._written == self._count - 1
        duration = max(frame_ms, int(self.hold * 1000)) if last else frame_ms
        frame = Image.fromarray(np.ascontiguousarray(region), mode="P")
        for chunk in GifImagePlugin.getdata(frame, offset, duration=duration, disposal=1,
                                            transparency=self.TRANSPARENT):
            self._file.write(chunk)
        self._written += 1

    def close(self):
        if self._file is None or not self._written:
            self.abort()
            raise OptvizError("no frames to write")
        self._file.write(b";")
        self._file.close()
        self._file = None

    def abort(self):
        if self._file is not None:
            self._file.close()
            self._file = None


def _u16(value: int) -> bytes:
    return int(value).to_bytes(2, "little")


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
            raise OptvizError(FFMPEG_HELP, param="animate")
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


