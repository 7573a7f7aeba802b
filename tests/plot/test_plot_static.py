"""Static figures, checked by what was drawn (artists and their data), not by pixels."""

import numpy as np
import pytest

import optviz
from optviz.plot import _data, _style, static


@pytest.fixture
def ax():
    fig = static.new_figure((6, 5))
    return fig.add_subplot()


def _path_lines(runs):
    return [traj.path(k) for traj in runs for k in range(traj.K)]


# --------------------------------------------------------------------------- contour and paths


def test_one_path_line_per_run_and_start_with_the_trajectory_data(ax, rosen):
    art = static.draw_paths(ax, rosen.runs)
    expected = _path_lines(rosen.runs)
    assert len(art.paths) == 3 * 2 == len(expected)
    for line, path in zip(art.paths, expected):
        np.testing.assert_array_equal(line.get_xydata(), path)  # exact: the data is passed through
    # one legend entry per optimizer, with its hyperparameters
    assert len(art.labels) == 3
    assert art.labels[0].startswith("Adam") and "η=" in art.labels[0] and "β₁=0.9" in art.labels[0]
    # both start points marked once
    np.testing.assert_array_equal(np.unique(art.starts.get_xydata(), axis=0),
                                  np.unique(rosen.runs[0].starts, axis=0))


def test_each_optimizer_has_its_own_color(ax, rosen):
    art = static.draw_paths(ax, rosen.runs)
    colors = [line.get_color() for line in art.paths]
    assert colors[0] == colors[1]  # same optimizer, two starts
    assert len({colors[0], colors[2], colors[4]}) == 3


def test_contour_marks_every_known_minimum_and_has_a_colorbar(ax, himmelblau):
    art = static.draw_contour(ax, himmelblau.objective, himmelblau.runs, resolution=80)
    assert art.colorbar is not None
    assert art.colorbar.ax in ax.child_axes  # inset: it moves with the picture
    lowest = [line for line in art.critical if line.get_gid() == "critical lowest"]
    marked = np.concatenate([line.get_xydata() for line in lowest])
    listed = np.array([m.point for m in himmelblau.objective.minima])
    assert len(marked) == len(listed) == 4
    np.testing.assert_allclose(np.sort(marked, axis=0), np.sort(listed, axis=0), rtol=0, atol=0)
    assert ax.get_xlim() == himmelblau.objective.domain[0]


def test_rosenbrock_contours_are_log_spaced_and_show_the_valley(ax, rosen_single):
    art = static.draw_contour(ax, rosen_single.objective, resolution=100)
    assert art.levels.log
    ratios = art.levels.values[1:] / art.levels.values[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)  # geometric spacing
    # the valley floor (f < 1 along y = x²) spans several levels, not one flat band
    assert np.sum(art.levels.values < 1.0) >= 3
    assert "log" in art.colorbar.ax.get_ylabel() and art.colorbar.ax.get_yscale() == "log"


def test_levels_are_linear_when_values_do_not_span_decades():
    x = np.linspace(-5, 5, 50)
    z = np.cos(x)[None, :] + np.cos(x)[:, None]  # median height ~ half the range
    levels = _data.contour_levels(z, f_star=None)
    assert not levels.log
    assert levels.values.min() <= z.min() and levels.values.max() >= z.max()


def test_diverged_run_is_drawn_to_its_last_finite_point_and_says_so(diverging):
    fig = static.contour_figure(diverging)
    ax = fig.axes[0]
    gd = diverging.runs[0]
    assert gd.status[0] == "diverged"
    lines = [ln for ln in ax.get_lines() if len(ln.get_xydata()) > 1]
    drawn = [ln.get_xydata() for ln in lines]
    assert any(d.shape == gd.path(0).shape and np.array_equal(d, gd.path(0)) for d in drawn)
    assert np.all(np.isfinite(gd.path(0)))
    legend_text = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    assert f"diverged at step {int(gd.steps[0])}" in legend_text
    # the diverging path does not stretch the picture: the function's own domain is kept
    assert ax.get_xlim() == diverging.objective.domain[0]


def test_markers_are_thinned_for_long_runs_and_eight_optimizers_stay_distinct():
    names = "gd,sgd,momentum,nesterov,adagrad,rmsprop,adam,newton"
    result = optviz.run("rosenbrock", names, steps=400)
    fig = static.new_figure((6, 5))
    art = static.draw_paths(fig.add_subplot(), result.runs)
    colors = {line.get_color() for line in art.paths}
    markers = {line.get_marker() for line in art.paths}
    assert len(colors) == 8 and len(markers) == 8
    for line in art.paths:
        n = len(line.get_xydata())
        every = line.get_markevery()
        assert len(range(0, n, every)) <= 41


def test_duplicate_optimizers_get_spare_colors():
    class T:
        def __init__(self, name):
            self.optimizer = name

    styles = _style.run_styles([T("adam"), T("adam"), T("gd")])
    assert len({c for c, _ in styles}) == 3


def test_contour_figure_title_is_the_formula_in_mathtext(rosen_single):
    fig = static.contour_figure(rosen_single, resolution=60)
    title = fig.get_suptitle()
    assert title.startswith("Rosenbrock") and "$f(x, y) = " in title


@pytest.mark.parametrize("name", optviz.function_names())
def test_every_library_formula_renders_as_mathtext_or_plain_text(name):
    objective = optviz.load_function(name)
    text = _style.formula_mathtext(objective)
    assert text.startswith("$f(") or text.startswith("f(")
    assert _style._mathtext_ok(text) or "$" not in text.replace(r"\$", "")


def test_plot_domain_fits_a_formula_without_domain_and_ignores_divergence():
    result = optviz.run("x**2 + 3*y**2", "gd,adam", start=[4.0, -1.0], steps=30)
    domain = _data.plot_domain(result.objective, result.runs)
    for traj in result.runs:
        p = traj.path(0)
        for i, (lo, hi) in enumerate(domain):
            assert lo < p[:, i].min() and p[:, i].max() < hi
    blown = optviz.run("x**2 + y**2", "gd", lr=1.5, start=[1.0, 1.0], steps=200)
    assert blown.runs[0].status[0] == "diverged"
    domain = _data.plot_domain(blown.objective, blown.runs)
    assert all(hi - lo < 1e4 for lo, hi in domain)


# --------------------------------------------------------------------------- loss


def test_loss_panels_log_f_minus_fstar_grad_norm_and_lr(rosen_single):
    fig = static.new_figure((12, 4))
    axes = fig.subplots(1, 3)
    lines = static.draw_loss(axes, rosen_single.runs)
    assert axes[0].get_yscale() == "log" and axes[1].get_yscale() == "log"
    f_star = rosen_single.objective.f_star
    for line, traj in zip(lines["loss"], rosen_single.runs):
        n = len(traj.path(0))
        np.testing.assert_allclose(line.get_ydata(), np.maximum(traj.loss[:n, 0] - f_star, 1e-30), rtol=1e-15)
    for line, traj in zip(lines["grad_norm"], rosen_single.runs):
        np.testing.assert_allclose(line.get_ydata(), traj.grad_norm[: len(traj.path(0)), 0], rtol=1e-15)
    for line, traj in zip(lines["lr"], rosen_single.runs):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, len(traj.path(0))))
        np.testing.assert_array_equal(line.get_ydata(), traj.lr[1: len(traj.path(0)), 0])


def test_loss_without_fstar_plots_f(three_d):
    assert three_d.objective.f_star is None
    fig = static.loss_figure(three_d)
    ax = fig.axes[0]
    assert "f*" not in ax.get_ylabel()
    traj = three_d.runs[0]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), traj.loss[: len(traj.path(0)), 0])


def test_loss_figure_legend_has_hyperparameters_and_schedule():
    result = optviz.run("rosenbrock", "adam", steps=20, schedule="exp:0.99")
    fig = static.loss_figure(result)
    text = fig.legends[0].get_texts()[0].get_text()
    assert "η=" in text and "schedule exp:0.99" in text and "used all 20 steps" in text


# --------------------------------------------------------------------------- 1-D


def test_curve_1d_has_the_iterates_and_shows_newton_at_a_maximum(xcos):
    fig = static.new_figure((8, 5))
    ax = fig.add_subplot()
    art = static.draw_curve_1d(ax, xcos.objective, xcos.runs)
    newton, gd = xcos.runs
    xy = art.paths[0].get_xydata()
    np.testing.assert_array_equal(xy[:, 0], newton.path(0)[:, 0])
    np.testing.assert_allclose(xy[:, 1], newton.loss[: len(xy), 0], rtol=1e-12)
    np.testing.assert_array_equal(art.paths[1].get_xydata()[:, 0], gd.path(0)[:, 0])
    # Newton ends where f'' < 0 (a local maximum near x = 26.83) and the figure marks it
    end = newton.path(0)[-1, 0]
    assert 26.5 < end < 27.2
    assert art.indefinite is not None and len(art.indefinite.get_xydata()) >= 1
    lo, hi = ax.get_xlim()
    assert lo < 5 and hi > 27.8  # every iterate, including the jump to x ≈ 27.8, is in view
    # the curve is the function
    cx, cy = art.curve.get_xydata().T
    np.testing.assert_allclose(cy, cx * np.cos(0.15 * np.pi * cx), rtol=1e-9, atol=1e-9)


def test_curve_figure_marks_the_library_minima():
    result = optviz.run("xcos", "gd", steps=10)
    fig = static.curve_figure(result)
    stars = [ln for ln in fig.axes[0].get_lines() if ln.get_marker() == "*"]
    marked = np.sort(np.concatenate([ln.get_xdata() for ln in stars]))
    np.testing.assert_allclose(marked, np.sort([m.point[0] for m in result.objective.minima]))


# --------------------------------------------------------------------------- state and surface


def test_state_panels_for_adam_and_momentum():
    result = optviz.run("rosenbrock", "adam,momentum,gd", steps=300)
    fig = static.new_figure((14, 8))
    panels = static.draw_state(fig, result.runs)
    assert set(panels) == {("adam", "m_hat"), ("adam", "v_hat"), ("adam", "effective_lr"), ("momentum", "v")}
    adam = result.runs[0]
    for key in ("m_hat", "v_hat", "effective_lr"):
        ax = panels[("adam", key)]
        lines = ax.get_lines()
        coordinate_lines = [ln for ln in lines if len(ln.get_xdata()) > 2]
        assert len(coordinate_lines) == 2  # one per coordinate
        np.testing.assert_allclose(coordinate_lines[0].get_ydata(), adam.state[key][1:, 0, 0])
    v_hat = adam.state["v_hat"][1:, 0]
    assert np.log10(v_hat.max() / v_hat.min()) > 2
    assert panels[("adam", "v_hat")].get_yscale() == "log"  # v̂ spans decades on Rosenbrock
    assert "v̂" in panels[("adam", "v_hat")].get_title(loc="left")
    assert "effective" in panels[("adam", "effective_lr")].get_title(loc="left")


def test_surface_lifts_each_path_onto_the_function(himmelblau):
    fig = static.new_figure((7, 6))
    ax = fig.add_subplot(projection="3d")
    art = static.draw_surface(ax, himmelblau.objective, himmelblau.runs, resolution=30)
    assert len(art.paths) == 4
    xs, ys, zs = art.paths[0].get_data_3d()
    traj = himmelblau.runs[0]
    np.testing.assert_array_equal(np.column_stack([xs, ys]), traj.path(0))
    height = static.surface_height(himmelblau.objective, art.levels, traj.loss[: len(xs), 0])
    assert np.all(zs > height) and np.allclose(zs - height, zs[0] - height[0])


def test_fmt_number():
    assert _style.fmt_number(0.1) == "0.1"
    assert _style.fmt_number(2.389e-5) == "2.39×10⁻⁵"
    assert _style.fmt_number(1e-8) == "10⁻⁸"
    assert _style.fmt_number(0) == "0"


def test_a_formula_mathtext_cannot_typeset_falls_back_to_plain_text(rosen_single, monkeypatch):
    objective = rosen_single.objective
    monkeypatch.setattr(objective, "latex", lambda: r"\left( x \notacommand{y")
    fig = static.new_figure((6, 4))
    title = static.figure_title(fig, objective)
    assert "$" not in title.get_text() and objective.formula_text in title.get_text()
    fig.canvas.draw()  # and it draws


def test_a_long_formula_is_shrunk_to_the_figure_width():
    objective = optviz.load_function("goldstein_price")
    fig = static.new_figure((9, 7))  # the contour figure's width
    title = static.figure_title(fig, objective)
    assert title.get_fontsize() < 15
    fig.canvas.draw()
    assert title.get_window_extent().width <= fig.bbox.width
