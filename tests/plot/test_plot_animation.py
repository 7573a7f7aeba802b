"""Animations: which steps become frames, what each frame sets, and the GIF/MP4 writers."""

import os
import stat
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

import optviz
from optviz.errors import OptvizError
from optviz.plot import _data, animation
from optviz.plot.animation import (
    CountingWriter,
    GifWriter,
    Mp4Writer,
    build_scene,
    render_animation,
)


def test_frame_steps_are_even_and_keep_first_and_last():
    steps = _data.frame_steps(300, 100)
    assert len(steps) == 100 and steps[0] == 0 and steps[-1] == 300
    assert np.all(np.diff(steps) >= 1)
    gaps = np.diff(steps)
    assert gaps.max() - gaps.min() <= 1  # evenly spaced up to rounding
    np.testing.assert_array_equal(_data.frame_steps(20, 100), np.arange(21))  # short run: every step
    assert list(_data.frame_steps(7, 2)) == [0, 7]
    with pytest.raises(OptvizError, match="frames"):
        _data.frame_steps(10, 1)


def test_counting_writer_gets_one_frame_per_shown_step_and_progress(rosen_single):
    calls = []
    writer = CountingWriter()
    n = render_animation(rosen_single, writer, frames=12, progress=lambda done, total: calls.append((done, total)))
    assert n == writer.count == 12 == writer.expected
    assert writer.closed and not writer.aborted
    assert calls == [(i, 12) for i in range(1, 13)]
    w, h = writer.size
    assert w > 500 and h > 200


def test_each_frame_shows_the_paths_up_to_its_step(rosen):
    scene = build_scene(rosen, frames=7)
    last = _data.last_step(rosen.runs)
    np.testing.assert_array_equal(scene.steps, _data.frame_steps(last, 7))
    ax = scene.fig.axes[0]
    path_lines = [a for a in scene.animated if a in ax.get_lines() and a.get_markevery() is not None
                  and len(a.get_xydata()) > 1]
    expected = [traj.path(k) for traj in rosen.runs for k in range(traj.K)]
    assert len(path_lines) == len(expected)
    for i, t in enumerate(scene.steps):
        scene.update(i)
        for line, path in zip(path_lines, expected):
            np.testing.assert_array_equal(line.get_xydata(), path[: min(t + 1, len(path))])


def test_gif_has_the_frames_and_opens_with_pillow(tmp_path, rosen_single):
    path = animation.save_animation(rosen_single, tmp_path / "rosen.gif", frames=8, fps=10, dpi=40)
    assert path.exists()
    with Image.open(path) as im:
        assert im.n_frames == 8
        assert im.info["loop"] == 0
        first_size = im.size
        im.seek(7)
        assert im.size == first_size
    assert [p.name for p in tmp_path.iterdir()] == ["rosen.gif"]  # no temporary file left


def test_short_runs_give_one_frame_per_step(tmp_path, xcos):
    last = _data.last_step(xcos.runs)
    assert last < 10  # Newton and GD stop within a few steps
    path = animation.save_animation(xcos, tmp_path / "xcos.gif", frames=50, dpi=40)
    with Image.open(path) as im:
        assert im.n_frames == last + 1


def test_gif_frames_match_the_rendered_frames(tmp_path, rosen_single):
    keep = CountingWriter(keep=True)
    render_animation(rosen_single, keep, frames=5, dpi=40)
    path = tmp_path / "r.gif"
    writer = GifWriter(path)
    render_animation(rosen_single, writer, frames=5, dpi=40)
    with Image.open(path) as im:
        for i in (0, 4):
            im.seek(i)
            decoded = np.asarray(im.convert("RGB"), dtype=int)
            rendered = keep.frames[i][..., :3].astype(int)
            # one fixed 255-colour palette, no dithering: close to the rendered frame
            assert np.mean(np.abs(decoded - rendered)) < 3.0


def test_surface_and_curve_animations(tmp_path, himmelblau, xcos):
    w = CountingWriter()
    assert render_animation(himmelblau, w, frames=4, surface=True, dpi=40) == 4 == w.count
    w = CountingWriter()
    assert render_animation(xcos, w, frames=5, dpi=40) == 5


def test_animation_refuses_more_than_two_variables(three_d):
    with pytest.raises(OptvizError, match="1 or 2 variables"):
        render_animation(three_d, CountingWriter(), frames=3)


def test_a_failing_writer_is_aborted(rosen_single):
    class Failing(CountingWriter):
        def write(self, rgba):
            super().write(rgba)
            if self.count == 3:
                raise RuntimeError("disk full")

    w = Failing()
    with pytest.raises(RuntimeError, match="disk full"):
        render_animation(rosen_single, w, frames=6, dpi=40)
    assert w.aborted and not w.closed


# --------------------------------------------------------------------------- mp4


def test_mp4_without_ffmpeg_says_how_to_get_it(tmp_path, monkeypatch, rosen_single):
    from optviz.plot import writers

    monkeypatch.setattr(animation, "find_ffmpeg", lambda: None)
    monkeypatch.setattr(writers, "find_ffmpeg", lambda: None)
    with pytest.raises(OptvizError) as info:
        animation.save_animation(rosen_single, tmp_path / "a.mp4", frames=3)
    message = str(info.value)
    assert "ffmpeg" in message and "apt-get install ffmpeg" in message and "imageio-ffmpeg" in message
    assert "\n" not in message
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OptvizError, match="ffmpeg"):
        Mp4Writer(tmp_path / "b.mp4")


def test_mp4_frames_are_piped_as_raw_rgba(tmp_path, rosen_single):
    """A stand-in ffmpeg records its arguments and the bytes it was sent."""
    fake = tmp_path / "ffmpeg"
    log = tmp_path / "log.txt"
    fake.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import sys
        data = sys.stdin.buffer.read()
        open({str(log)!r}, "w").write(" ".join(sys.argv[1:]) + "\\n" + str(len(data)))
        open(sys.argv[-1], "wb").write(b"fake mp4")
    """))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    out = tmp_path / "out"
    out.mkdir()
    keep = CountingWriter()
    render_animation(rosen_single, keep, frames=4, dpi=40)
    w, h = keep.size
    render_animation(rosen_single, Mp4Writer(out / "a.mp4", ffmpeg=str(fake)), frames=4, dpi=40)
    args, nbytes = log.read_text().splitlines()
    assert int(nbytes) == 4 * w * h * 4
    assert f"-s {w}x{h}" in args and "-pix_fmt rgba" in args and "libx264" in args
    assert (out / "a.mp4").read_bytes() == b"fake mp4"


def test_mp4_failure_reports_ffmpeg_error(tmp_path, rosen_single):
    fake = tmp_path / "ffmpeg"
    fake.write_text(f"#!{sys.executable}\nimport sys\nsys.stdin.buffer.read()\nsys.stderr.write('Unknown encoder libx264\\n')\nsys.exit(1)\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(OptvizError, match="ffmpeg failed: Unknown encoder"):
        render_animation(rosen_single, Mp4Writer(tmp_path / "a.mp4", ffmpeg=str(fake)), frames=3, dpi=30)


@pytest.mark.skipif(animation.find_ffmpeg() is None, reason="ffmpeg not installed")
def test_real_mp4(tmp_path, rosen_single):
    path = animation.save_animation(rosen_single, tmp_path / "r.mp4", frames=5, dpi=40)
    assert path.stat().st_size > 1000
    assert os.listdir(tmp_path) == ["r.mp4"]


def test_import_is_light():
    """``import optviz.plot`` must not import matplotlib (the CLI imports it at startup)."""
    import subprocess

    code = "import sys, optviz.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_gif_writer_alone(tmp_path):
    """The writer takes any RGBA frames; unchanged pixels become transparent, frames stay distinct."""
    frames = np.full((3, 20, 30, 4), 255, dtype=np.uint8)
    frames[1, 5:8, 5:8, :3] = (200, 0, 0)
    frames[2, 5:8, 5:8, :3] = (200, 0, 0)
    frames[2, 10:12, 20:25, :3] = (0, 0, 200)
    w = GifWriter(tmp_path / "t.gif")
    w.open(30, 20, 10, 3, frames[-1])
    for f in frames:
        w.write(f)
    w.close()
    with Image.open(tmp_path / "t.gif") as im:
        assert im.n_frames == 3
        im.seek(2)
        rgb = np.asarray(im.convert("RGB"))
        assert tuple(rgb[6, 6]) == (200, 0, 0) and tuple(rgb[11, 22]) == (0, 0, 200)
        assert tuple(rgb[0, 0]) == (255, 255, 255)


def test_optviz_run_example_is_animatable(tmp_path):
    result = optviz.run("himmelblau", "adam", start=[[0, 0], [-1, -1]], steps=15)
    path = animation.save_animation(result, tmp_path / "h.gif", frames=4, dpi=30)
    with Image.open(path) as im:
        assert im.n_frames == 4
