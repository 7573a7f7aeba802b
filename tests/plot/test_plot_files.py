"""save_run_figures: names, formats, validation, and atomic writes."""

import os

import pytest
from matplotlib.figure import Figure
from PIL import Image

from optviz.errors import OptvizError
from optviz.plot import animation, figure_paths, save_run_figures


def _names(paths):
    return [p.name for p in paths]


def test_2d_run_writes_contour_and_loss(tmp_path, rosen_single):
    out = tmp_path / "new" / "dir"  # created on demand
    paths = save_run_figures(rosen_single, out, dpi=40)
    assert _names(paths) == ["rosenbrock_adam-momentum_contour.png", "rosenbrock_adam-momentum_loss.png"]
    for p in paths:
        with Image.open(p) as im:
            assert im.format == "PNG"
    assert sorted(os.listdir(out)) == sorted(_names(paths))  # nothing else, no temporary files


def test_1d_run_writes_curve_and_loss_with_stem(tmp_path, xcos):
    paths = save_run_figures(xcos, tmp_path, dpi=40, stem="newton fails")
    assert _names(paths) == ["newton-fails_curve.png", "newton-fails_loss.png"]


def test_all_kinds_and_the_names_say_what_they_show(tmp_path, himmelblau):
    paths = save_run_figures(himmelblau, tmp_path, dpi=30, surface=True, show_state=True, animate="gif",
                             frames=3, fmt="png")
    assert _names(paths) == [
        "himmelblau_adam-newton_contour.png",
        "himmelblau_adam-newton_loss.png",
        "himmelblau_adam-newton_state.png",
        "himmelblau_adam-newton_surface.png",
        "himmelblau_adam-newton_surface.gif",  # surface + animate: the surface is animated
    ]
    with Image.open(paths[-1]) as im:
        assert im.n_frames == 3
    assert sorted(os.listdir(tmp_path)) == sorted(_names(paths))


@pytest.mark.parametrize("fmt,magic", [("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_vector_formats(tmp_path, xcos, fmt, magic):
    paths = save_run_figures(xcos, tmp_path, fmt=fmt)
    assert all(p.suffix == f".{fmt}" for p in paths)
    for p in paths:
        assert p.read_bytes()[:5].startswith(magic[:4])


def test_more_than_two_variables_gives_the_loss_figure_only(tmp_path, three_d):
    paths = save_run_figures(three_d, tmp_path, dpi=30)
    assert len(paths) == 1 and paths[0].name.endswith("_loss.png")
    with pytest.raises(OptvizError, match="surface need a function of 1 or 2 variables"):
        save_run_figures(three_d, tmp_path, surface=True)
    with pytest.raises(OptvizError, match="animate need a function of 1 or 2 variables"):
        save_run_figures(three_d, tmp_path, animate="gif")


def test_progress_reaches_the_frame_count(tmp_path, rosen_single):
    seen = []
    save_run_figures(rosen_single, tmp_path, dpi=30, animate="gif", frames=5, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (5, 5) and len(seen) == 5


@pytest.mark.parametrize("kwargs,match", [
    ({"fmt": "jpg"}, "fmt must be one of png, svg, pdf"),
    ({"animate": "avi"}, "animate must be one of gif, mp4"),
    ({"animate": "gif", "frames": 1}, "frames must be ≥ 2"),
    ({"animate": "gif", "fps": 0}, "fps must be between 1 and 120"),
    ({"dpi": 0}, "dpi must be between 10 and 2400"),
])
def test_bad_options_raise_before_anything_is_written(tmp_path, rosen_single, kwargs, match):
    with pytest.raises(OptvizError, match=match):
        save_run_figures(rosen_single, tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_surface_needs_two_variables(tmp_path, xcos):
    with pytest.raises(OptvizError, match="surface needs a function of 2 variables"):
        save_run_figures(xcos, tmp_path, surface=True)


def test_show_state_needs_an_optimizer_with_state(tmp_path, xcos):
    with pytest.raises(OptvizError, match="carry no state"):
        save_run_figures(xcos, tmp_path, show_state=True)  # newton and gd


def test_output_dir_that_is_a_file(tmp_path, rosen_single):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OptvizError, match=str(blocker)):
        save_run_figures(rosen_single, blocker)
    with pytest.raises(OptvizError, match="cannot create output directory"):
        save_run_figures(rosen_single, blocker / "sub")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_output_dir(tmp_path, rosen_single):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(OptvizError, match="not writable"):
            save_run_figures(rosen_single, locked)
    finally:
        locked.chmod(0o700)


def test_failed_render_leaves_no_file(tmp_path, monkeypatch, rosen_single):
    """A savefig that dies half-way: neither the final name nor a temporary file remains."""
    real = Figure.savefig

    def broken(self, fname, **kwargs):
        with open(fname, "wb") as fh:
            fh.write(b"\x89PNG half a file")
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        save_run_figures(rosen_single, tmp_path, dpi=30)
    assert os.listdir(tmp_path) == []
    monkeypatch.setattr(Figure, "savefig", real)


def test_interrupted_animation_leaves_no_file(tmp_path, monkeypatch, rosen_single):
    real_write = animation.GifWriter.write
    calls = []

    def interrupted(self, rgba):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real_write(self, rgba)

    monkeypatch.setattr(animation.GifWriter, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_run_figures(rosen_single, tmp_path, dpi=30, animate="gif", frames=6)
    names = os.listdir(tmp_path)
    assert not any(n.endswith(".gif") or ".tmp" in n for n in names)
    assert sorted(names) == ["rosenbrock_adam-momentum_contour.png", "rosenbrock_adam-momentum_loss.png"]


def test_existing_file_is_replaced_only_when_the_new_one_is_complete(tmp_path, monkeypatch, rosen_single):
    target = figure_paths(rosen_single, tmp_path)["contour"]
    target.write_bytes(b"old picture")

    def broken(self, fname, **kwargs):
        open(fname, "wb").write(b"partial")
        raise RuntimeError("boom")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(RuntimeError):
        save_run_figures(rosen_single, tmp_path, dpi=30)
    assert target.read_bytes() == b"old picture"
    assert os.listdir(tmp_path) == [target.name]


def test_written_files_are_readable_by_others(tmp_path, rosen_single):
    paths = save_run_figures(rosen_single, tmp_path, dpi=30)
    umask = os.umask(0)
    os.umask(umask)
    assert paths[0].stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_run_that_stops_at_its_start_still_draws(tmp_path):
    """Started at the minimum: one point per path, an empty lr series, a one-frame GIF."""
    import optviz

    result = optviz.run("x**2 + y**2", "gd,adam", start=[0.0, 0.0], steps=10)
    assert all(int(t.steps[0]) == 0 for t in result.runs)
    paths = save_run_figures(result, tmp_path, dpi=30, animate="gif", frames=5, stem="AtMin")
    assert _names(paths) == ["AtMin_contour.png", "AtMin_loss.png", "AtMin_contour.gif"]
    with Image.open(paths[-1]) as im:
        assert im.n_frames == 1
