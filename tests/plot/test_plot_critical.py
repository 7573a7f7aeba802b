"""Critical points, f*, convexity and the drawn region on the pictures of a run."""

import numpy as np
import pytest

import optviz
from optviz.errors import OptvizError
from optviz.objective import Minimum, objective_from_formula
from optviz.plot import _data, _style, static
from optviz.plot.contour import NONCONVEX_LABEL


def _by_kind(lines):
    return {ln.get_gid().split()[-1]: ln for ln in lines}


@pytest.fixture(scope="module")
def quartic():
    """x⁴ − 3x² + x: minima at −1.30 (the lowest) and 1.13, a maximum at 0.17, f'' < 0 on |x| < 1/√2."""
    return optviz.run("x**4 - 3*x**2 + x", "gd,newton", start=-2.5, steps=30)


@pytest.fixture(scope="module")
def below():
    """A function file whose listed minimum (−0.7) is not its lowest value (−1)."""
    obj = objective_from_formula("(x - 1)**2 + (y + 0.5)**2 - 1", name="shifted", minima=(Minimum((1.0, -0.5), -0.7),),
                                 domain=((-3.0, 3.0), (-3.0, 3.0)))
    return optviz.run(obj, "gd", start="2,2", lr=0.25, steps=40)


def test_contour_marks_every_kind_with_the_lowest_minimum_on_top(himmelblau):
    fig = static.contour_figure(himmelblau, resolution=60)
    ax = fig.axes[0]
    kinds = _by_kind([ln for ln in ax.get_lines() if (ln.get_gid() or "").startswith("critical")])
    assert set(kinds) == {"lowest", "saddle", "maximum"}  # Himmelblau: 4 minima of value 0, 4 saddles, 1 maximum
    listed = np.array([m.point for m in himmelblau.objective.minima])
    np.testing.assert_allclose(np.sort(kinds["lowest"].get_xydata(), axis=0), np.sort(listed, axis=0), atol=1e-9)
    assert len(kinds["saddle"].get_xydata()) == 4 and len(kinds["maximum"].get_xydata()) == 1
    np.testing.assert_allclose(kinds["maximum"].get_xydata()[0], [-0.270845, -0.923039], atol=1e-5)
    ends = [ln for ln in ax.get_lines() if ln.get_markersize() == 11 and ln.get_markeredgecolor() == "black"]
    assert ends and all(kinds["lowest"].get_zorder() > ln.get_zorder() for ln in ends)
    assert kinds["lowest"].get_marker() == "*" and kinds["lowest"].get_markerfacecolor() == "#ffd700"
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "global minima (f* = 0)" in labels and "saddle points" in labels and "maximum" in labels


def test_many_critical_points_are_capped_to_the_nearest_and_the_legend_says_so():
    result = optviz.run("rastrigin", "gd", steps=20)
    fig = static.contour_figure(result, resolution=60)
    ax = fig.axes[0]
    kinds = _by_kind([ln for ln in ax.get_lines() if (ln.get_gid() or "").startswith("critical")])
    domain = (ax.get_xlim(), ax.get_ylim())
    found = [p for p in result.objective.critical_points() if p.kind == "saddle"
             and all(lo <= c <= hi for c, (lo, hi) in zip(p.point, domain))]
    shown = kinds["saddle"].get_xydata()
    assert len(shown) == _data.CRITICAL_CAP < len(found)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert f"saddle points: {_data.CRITICAL_CAP} of {len(found)} shown" in labels
    # the ones shown are the nearest to the path
    path = result.runs[0].path(0)
    dist = lambda p: np.min(np.linalg.norm(path - np.asarray(p), axis=1))  # noqa: E731
    shown_d = max(dist(p) for p in shown)
    hidden = [p.point for p in found if not np.any(np.all(np.isclose(shown, p.point), axis=1))]
    assert shown_d <= min(dist(p) for p in hidden) + 1e-12


def test_a_typed_formula_measures_from_the_lowest_minimum_found():
    result = optviz.run("0.1*x**2 + 2*y**2", "gd", steps=50)
    objective = result.objective
    assert not objective.reference_is_listed and abs(objective.reference_value) < 1e-20
    fig = static.contour_figure(result, resolution=60)
    assert "the lowest minimum found" in fig.axes[0].child_axes[0].get_ylabel()
    assert any(t.get_text().startswith("lowest minimum found (f* ≈") for t in fig.legends[0].get_texts())
    loss = static.loss_figure(result)
    assert "lowest minimum found" in loss.axes[0].get_title()
    traj = result.runs[0]
    shown = loss.axes[0].get_lines()[0].get_ydata()
    np.testing.assert_allclose(shown, traj.loss[: len(shown), 0] - objective.reference_value, rtol=1e-12)


def test_curve_marks_minima_and_maximum_and_shades_where_f_is_concave(quartic):
    fig = static.curve_figure(quartic, show_convexity=True)
    ax = fig.axes[0]
    kinds = _by_kind([ln for ln in ax.get_lines() if (ln.get_gid() or "").startswith("critical")])
    np.testing.assert_allclose(kinds["lowest"].get_xdata(), [-1.300839566], atol=1e-8)
    np.testing.assert_allclose(kinds["minimum"].get_xdata(), [1.130901122], atol=1e-8)
    np.testing.assert_allclose(kinds["maximum"].get_xdata(), [0.169938443], atol=1e-8)
    np.testing.assert_allclose(kinds["lowest"].get_ydata(), quartic.objective.f(np.array([[-1.300839566]])),
                               rtol=1e-9)
    spans = [p for p in ax.patches if p.get_label() in ("f'' < 0 (f not convex here)", "_concave")]
    assert len(spans) == 1
    x0, x1 = spans[0].get_x(), spans[0].get_x() + spans[0].get_width()
    step = np.diff(ax.get_xlim())[0] / 999
    assert abs(x0 + 0.5 ** 0.5) < step and abs(x1 - 0.5 ** 0.5) < step  # f'' = 12x² − 6 < 0 on |x| < 1/√2
    assert "f'' < 0 (f not convex here)" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_convexity_shading_matches_the_exact_hessian(himmelblau):
    objective = himmelblau.objective
    grid = _data.evaluate_grid(objective, objective.domain, 80)
    X, Y = np.meshgrid(grid.x, grid.y)
    pts = np.column_stack([X.ravel(), Y.ravel()])
    lam = _data.min_curvature(objective, pts)
    exact = np.linalg.eigvalsh(objective.hess(pts))[:, 0]
    np.testing.assert_allclose(lam, exact, atol=1e-5 * np.abs(exact).max())  # central differences of ∇f
    mask = _data.not_convex(lam)
    clear = np.abs(exact) > 1e-3 * np.abs(exact).max()
    np.testing.assert_array_equal(mask[clear], exact[clear] < 0)
    fig = static.contour_figure(himmelblau, resolution=60, show_convexity=True)
    assert NONCONVEX_LABEL in [t.get_text() for t in fig.legends[0].get_texts()]


def test_a_convex_function_has_nothing_shaded():
    result = optviz.run("sphere", "gd", steps=5)
    fig = static.new_figure((5, 5))
    art = static.draw_contour(fig.add_subplot(), result.objective, result.runs, resolution=50, convexity=True)
    assert art.nonconvex is None


def test_a_run_below_the_listed_minimum_says_so_in_legend_loss_panel_and_table(below):
    fig = static.contour_figure(below, resolution=40)
    label = " ".join(fig.legends[0].get_texts()[0].get_text().split())
    assert "f = -1: below the listed minimum f* = -0.7 by 0.3" in label
    loss = static.loss_figure(below)
    ax = loss.axes[0]
    assert ax.get_title() == "loss: a run went below f*" and ax.get_yscale() == "linear"
    traj = below.runs[0]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), traj.loss[: len(traj.path(0)), 0])  # f, not f − f*
    assert any(np.allclose(ln.get_ydata(), -0.7) for ln in ax.get_lines()[1:])  # f* as a line
    from rich.console import Console

    from optviz.report import run_table

    console = Console(width=200, record=True)
    console.print(run_table(below))
    assert "(below the listed f*)" in console.export_text()


def test_an_exact_hit_is_drawn_on_the_floor_with_a_note():
    result = optviz.run("sphere", "newton", steps=3)
    ax = static.loss_figure(result).axes[0]
    values = ax.get_lines()[0].get_ydata()
    assert values[-1] == _data.loss_floor(0.0)
    assert any("f* reached to rounding" in t.get_text() for t in ax.texts)


def test_gap_text_never_hides_a_negative_gap(himmelblau):
    obj = himmelblau.objective
    assert _style.gap_text(1e-9, obj) == "f − f* = 10⁻⁹"
    assert "below f* by rounding" in _style.gap_text(-1e-15, obj)
    assert "below the listed minimum" in _style.gap_text(-0.5, obj)


def test_domain_xlim_and_ylim_fix_the_region(quartic, himmelblau):
    ax = static.contour_figure(himmelblau, resolution=40, domain="-1:1,-2:0.5").axes[0]
    assert ax.get_xlim() == (-1.0, 1.0) and ax.get_ylim() == (-2.0, 0.5)
    ax = static.contour_figure(himmelblau, resolution=40, xlim="0:4").axes[0]
    assert ax.get_xlim() == (0.0, 4.0) and ax.get_ylim() == himmelblau.objective.domain[1]
    ax = static.curve_figure(quartic, xlim="-2:2", ylim="-5:5").axes[0]
    assert ax.get_xlim() == (-2.0, 2.0) and ax.get_ylim() == (-5.0, 5.0)
    with pytest.raises(OptvizError) as err:
        static.contour_figure(himmelblau, domain="-1:1")
    assert err.value.param == "domain" and "2 variable" in str(err.value)
    with pytest.raises(OptvizError) as err:
        static.curve_figure(quartic, domain="1:0")
    assert err.value.param == "domain" and "LO must be below HI" in str(err.value)


def test_automatic_domain_of_a_typed_formula_holds_its_critical_points(quartic):
    short = optviz.run("x**4 - 3*x**2 + x", "gd", start=1.2, steps=3)
    (lo, hi), = _data.plot_domain(short.objective, short.runs)
    assert lo < -1.30 and hi > 1.13


def test_the_animation_keeps_the_star_above_the_moving_markers(rosen_single):
    from optviz.plot.animation import build_scene

    with static.style():
        scene = build_scene(rosen_single, frames=3, dpi=30, resolution=40)
    star = [a for a in scene.animated if getattr(a, "get_gid", lambda: None)() == "critical lowest"]
    assert len(star) == 1
    heads = [i for i, a in enumerate(scene.animated) if a.axes is star[0].axes and a is not star[0]
             and getattr(a, "get_markersize", lambda: 0)() == 11]
    assert heads and scene.animated.index(star[0]) > max(heads)  # drawn after every moving head


def test_save_run_figures_and_the_command_line_take_the_region_and_convexity(tmp_path, himmelblau):
    from optviz.cli import main
    from optviz.plot import save_run_figures

    paths = save_run_figures(himmelblau, tmp_path / "a", dpi=30, domain="-1:1,-1:1", show_convexity=True)
    assert any(p.name.endswith("_contour.png") for p in paths)
    main(["run", "--fn", "xcos", "--opt", "gd", "--steps", "5", "--xlim", "0:12", "--ylim=-10:15",
          "--show-convexity", "--dpi", "30", "--out", str(tmp_path / "b")])
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["xcos_gd_curve.png", "xcos_gd_loss.png"]
