"""The palette under simulated colour blindness, compact legends, GIF resolution, and the
sweep and basin maps."""

import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import optviz
from optviz.errors import OptvizError
from optviz.plot import _style, color_distance, static
from optviz.plot.options import FigureOptions

# Machado, Oliveira & Fernandes (2009), full severity, applied to linear RGB.
CVD = {
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
    "normal": np.eye(3).tolist(),
}
MIN_DISTANCE = 15.0  # CIELAB ΔE (CIE 1976): well above the ~2.3 just-noticeable difference


def _lab(hexes, vision):
    rgb = np.array([[int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)] for h in hexes])
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    seen = np.clip(linear @ np.array(CVD[vision]).T, 0, 1)
    xyz = seen @ np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                           [0.0193339, 0.1191920, 0.9503041]]).T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)


def _distances(hexes, vision):
    lab = _lab(hexes, vision)
    return {(a, b): float(np.linalg.norm(lab[i] - lab[j]))
            for (i, a), (j, b) in itertools.combinations(enumerate(hexes), 2)}


def test_the_simulation_reproduces_a_known_confusion():
    # tab10's red and green, the classic pair deuteranopes confuse, collapse; white stays white.
    assert _distances(["#d62728", "#2ca02c"], "deuteranopia")[("#d62728", "#2ca02c")] < 20
    np.testing.assert_allclose(_lab(["#ffffff"], "deuteranopia")[0], [100, 0, 0], atol=0.5)


@pytest.mark.parametrize("vision", list(CVD))
def test_every_pair_of_optimizer_colors_stays_apart(vision):
    distances = _distances(list(_style.PALETTE), vision)
    worst = min(distances, key=distances.get)
    assert distances[worst] >= MIN_DISTANCE, (vision, worst, distances[worst])


# Pairs a teacher compares most: under red-green blindness their hues must differ, not
# only their lightness (the old red Adam and orange Momentum both turned olive).
KEY_PAIRS = [("adam", "momentum"), ("gd", "momentum"), ("gd", "adam"), ("sgd", "minibatch"),
             ("momentum", "nesterov"), ("adam", "rmsprop"), ("adam", "adagrad"), ("gd", "newton")]


def _chroma_distance(a, b, vision):
    lab = _lab([a, b], vision)
    return float(np.hypot(*(lab[0, 1:] - lab[1, 1:])))


@pytest.mark.parametrize("vision", ["deuteranopia", "protanopia"])
def test_pairs_compared_most_differ_in_hue_under_red_green_blindness(vision):
    color = {name: c for name, (_, c, _) in _style.OPTIMIZER_STYLE.items()}
    for a, b in KEY_PAIRS:
        assert _chroma_distance(color[a], color[b], vision) >= 20, (a, b, vision)
    # the old palette failed exactly here: Adam red and Momentum orange, 2 units of hue apart
    assert _chroma_distance("#d62728", "#ff7f0e", "deuteranopia") < 25


def test_colors_and_markers_are_unique_per_optimizer():
    styles = list(_style.OPTIMIZER_STYLE.values())
    assert len({c for _, c, _ in styles}) == len(styles) == len({m for _, _, m in styles})


def test_many_optimizers_get_a_compact_legend():
    from optviz.optim import FIRST_ORDER

    result = optviz.compare("rosenbrock", steps=20)
    assert len(result.runs) == len(FIRST_ORDER) == 16
    fig = static.contour_figure(result, resolution=40)
    legend = fig.legends[0]
    assert legend._ncols == 4 and legend.get_texts()[0].get_fontsize() <= 9.5
    width = legend.get_window_extent(fig.canvas.get_renderer()).width / fig.dpi
    assert width <= fig.get_size_inches()[0]


def test_no_step_budget_wording_is_left():
    package = Path(optviz.__file__).parent
    offenders = [p for p in package.rglob("*.py") if "step budget" in p.read_text(encoding="utf-8").lower()]
    assert offenders == []


# --------------------------------------------------------------------------- GIF resolution


def test_gif_dpi_is_honoured(tmp_path, rosen_single):
    from optviz.plot import save_run_figures
    from optviz.plot.options import ANIMATION_INCHES

    paths = save_run_figures(rosen_single, tmp_path, dpi=30, animate="gif", frames=3)
    gif = next(p for p in paths if p.suffix == ".gif")
    with Image.open(gif) as im:
        assert im.size == (round(ANIMATION_INCHES[0] * 30), round(ANIMATION_INCHES[1] * 30))
    assert FigureOptions(animate="gif").animation_dpi == 100 and FigureOptions().image_dpi == 150


def test_a_frame_too_large_is_refused_before_any_work():
    with pytest.raises(OptvizError) as err:
        FigureOptions(animate="gif", dpi=600)
    assert err.value.param == "dpi" and "dpi 505 or lower" in str(err.value)
    FigureOptions(animate="gif", dpi=500, frames=2000)  # many frames cost time, not memory


def test_the_gif_is_streamed_frame_by_frame(tmp_path):
    from optviz.plot.writers import GifWriter

    frames = np.full((4, 40, 60, 4), 255, dtype=np.uint8)
    for i in range(1, 4):
        frames[i, 5 * i:5 * i + 4, 10:20, :3] = (0, 114, 178)
    frames[3] = frames[2]  # nothing moved: the frame keeps its time
    writer = GifWriter(tmp_path / "s.gif", hold=1.0)
    writer.open(60, 40, 10, 4, frames[-1])
    sizes = []
    for f in frames:
        writer.write(f)
        writer._file.flush()
        sizes.append((tmp_path / "s.gif").stat().st_size)
    writer.close()
    assert sizes == sorted(sizes) and len(set(sizes)) == 4  # each frame reaches the file as it comes
    with Image.open(tmp_path / "s.gif") as im:
        assert im.n_frames == 4 and im.info["loop"] == 0
        durations = []
        for i in range(4):
            im.seek(i)
            durations.append(im.info["duration"])
        assert durations == [100, 100, 100, 1000]
        im.seek(2)
        rgb = np.asarray(im.convert("RGB"))
        assert tuple(rgb[11, 15]) == (0, 114, 178) and tuple(rgb[6, 15]) == (255, 255, 255)


# --------------------------------------------------------------------------- sweep and basins


def test_heatmap_has_a_diverged_entry_and_flags_a_best_cell_on_the_edge():
    from optviz.plot.maps import draw_sweep

    report = optviz.sweep("rosenbrock", "momentum", lr="1e-5:1e-2:8", params=["beta=0:0.99:6"], steps=100,
                          metric="gap")
    result = report.sweeps[0]
    fig = static.new_figure((5, 5))
    art = draw_sweep(fig.add_subplot(), result)
    labels = [t.get_text() for t in art["legend"].get_texts()]
    assert any(label.startswith("diverged (") for label in labels)
    edge = optviz.sweep("rosenbrock", "adam", lr="1e-5:1e-3:5", steps=100).sweeps[0]
    assert edge.best_on_edge() == ["lr"] and edge.to_json()["best"]["on_edge"] == ["lr"]
    art = draw_sweep(static.new_figure((5, 5)).add_subplot(), edge)
    assert any("optimum may lie outside" in t.get_text() for t in art["legend"].get_texts())
    from rich.console import Console

    from optviz.report import sweep_table

    console = Console(width=200, record=True)
    console.print(sweep_table([edge]))
    text = console.export_text()
    assert "(edge: lr)" in text and "the optimum may lie outside the grid" in text


def test_basin_stars_are_numbered_as_in_the_legend():
    report = optviz.basins("himmelblau", "gd", grid=12, steps=30)
    from optviz.plot.maps import basins_figure

    fig = basins_figure(report.basins)
    ax = fig.axes[0]
    numbers = {t.get_text(): t.xy for t in ax.texts}
    for i, m in enumerate(report.objective.minima, 1):
        np.testing.assert_allclose(numbers[str(i)], m.point)
        assert any(t.get_text().startswith(f"minimum {i} (") for t in fig.legends[0].get_texts())


def test_basin_panels_share_one_colour_scale():
    report = optviz.basins("x**4 - 2*x**2 + y**2 + 0.3*x", "gd,adam", grid=12, steps=30)
    from optviz.plot.maps import basins_figure

    fig = basins_figure(report.basins)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 2 and images[0].norm is images[1].norm
    values = np.concatenate([np.ravel(r.final_loss) for r in report.basins])
    assert images[0].norm.vmin == pytest.approx(values.min()) and images[0].norm.vmax == pytest.approx(values.max())


def test_basins_take_a_domain():
    report = optviz.basins("himmelblau", "gd", grid=5, steps=5, domain="-1:1,0:2")
    result = report.basins[0]
    assert (result.xs[0], result.xs[-1], result.ys[0], result.ys[-1]) == (-1.0, 1.0, 0.0, 2.0)
    with pytest.raises(OptvizError) as err:
        optviz.basins("himmelblau", "gd", grid=5, steps=5, domain="-1:1")
    assert err.value.param == "domain"


@pytest.mark.parametrize("optimizer", list(_style.OPTIMIZER_STYLE))
def test_repeated_runs_of_one_optimizer_get_distinct_colors_and_markers(optimizer):
    """Comparisons of settings (--norm bn,none --opt sgd) draw one optimizer several times:
    its second to fourth runs get spare colors far from the colors already used (not a
    second blue beside SGD's) and markers no earlier run has."""
    styles = _style.run_styles([optimizer] * 4)
    colors, markers = [c for c, _ in styles], [m for _, m in styles]
    assert colors[0] == _style.OPTIMIZER_STYLE[optimizer][1]
    assert len(set(markers)) == len(markers) == len(set(colors))
    for vision in ("normal", "deuteranopia", "protanopia"):
        distances = _distances(colors, vision)
        assert min(distances.values()) >= MIN_DISTANCE, (optimizer, vision, distances)
    # the second run is as far from the first as the spare colors allow (SGD: not Momentum's blue)
    assert _distances(colors[:2], "normal")[tuple(colors[:2])] >= 50


def test_the_module_lab_agrees_with_the_test_simulation():
    for color in ("#56B4E9", "#D55E00", "#000000", "#9922FF"):
        for k, vision in enumerate(("normal", "deuteranopia", "protanopia")):
            np.testing.assert_allclose(color_distance.lab(color, k), _lab([color], vision)[0], atol=1e-9)


@pytest.mark.parametrize("names", [["adam", "adam", "rmsprop"], ["sgd", "sgd", "newton"], ["gd", "momentum", "gd", "adam"],
                                   ["momentum", "momentum", "momentum", "gd", "sgd"]])
def test_a_spare_style_never_takes_that_of_an_optimizer_in_the_same_figure(names):
    styles = _style.run_styles(names)
    first = {}
    for name, style in zip(names, styles):
        first.setdefault(name, style)
    for name, style in first.items():
        assert style == _style.OPTIMIZER_STYLE[name][1:], name
    assert len(set(styles)) == len(styles)
    assert len({c for c, _ in styles}) == len(styles) and len({m for _, m in styles}) == len(styles)
