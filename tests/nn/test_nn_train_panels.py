"""The training figure tells a whole story: medians and bands over seeds, the epoch
budget and the epoch of divergence, the panels added for BatchNorm evaluation, unit
symmetry and per-layer gradients, and titles and labels that fit."""

from __future__ import annotations

import numpy as np
import pytest

import optviz
from optviz.plot.boundary import boundary_figure
from optviz.plot.train import curves_figure, draw_curves, new_figure, save_train_figures

SMALL = dict(arch="mlp", depth=2, width=8, epochs=3)


def _axis(fig, title_start: str):
    found = [ax for ax in fig.axes if ax.get_title().startswith(title_start)]
    assert len(found) == 1, [ax.get_title() for ax in fig.axes]
    return found[0]


def assert_fits(fig) -> None:
    """Every panel (its title, labels and tick labels as drawn), legend and the figure
    title inside the figure, and the figure title above every panel."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox

    def inside(ext, what):
        assert ext.x0 >= box.x0 - 1 and ext.x1 <= box.x1 + 1 and ext.y0 >= box.y0 - 1 and ext.y1 <= box.y1 + 1, \
            (what, ext, box)

    title = fig._suptitle.get_window_extent(renderer)
    inside(title, "figure title")
    for legend in fig.legends:
        inside(legend.get_window_extent(renderer), "legend")
    for ax in fig.axes:
        tight = ax.get_tightbbox(renderer)
        inside(tight, ax.get_title())
        assert tight.y1 <= title.y0 + 1, ("the figure title overlaps", ax.get_title())


@pytest.fixture(scope="module")
def seeds():
    return optviz.train("moons", "adam,sgd", seeds=3, **SMALL)


def test_several_seeds_draw_the_median_and_a_band(seeds):
    fig = new_figure((10, 4))
    ax_loss, ax_acc = fig.subplots(1, 2)
    arts = draw_curves(ax_loss, ax_acc, seeds.results)
    for i, label in enumerate(["adam", "sgd"]):
        per_seed = np.array([res.runs[i].val_loss for res in seeds.results])
        np.testing.assert_allclose(arts[label]["val_loss"].get_ydata(), np.median(per_seed, axis=0))
        acc = np.array([res.runs[i].train_acc for res in seeds.results])
        np.testing.assert_allclose(arts[label]["train_acc"].get_ydata(), np.median(acc, axis=0))
        assert len(arts[label]["bands"]) == 2  # validation loss and accuracy
        band = arts[label]["bands"][0].get_paths()[0].vertices[:, 1]
        lo, hi = np.percentile(per_seed, [10, 90], axis=0)
        assert band.min() == pytest.approx(lo.min()) and band.max() == pytest.approx(hi.max())
    fig = curves_figure(seeds.results)
    assert "median of 3 seeds, band 10–90 %" in fig._suptitle.get_text()


def test_one_seed_draws_no_band(seeds):
    fig = new_figure((10, 4))
    arts = draw_curves(*fig.subplots(1, 2), seeds.first)
    assert arts["adam"]["bands"] == []
    np.testing.assert_array_equal(arts["adam"]["val_loss"].get_ydata(), seeds.first.runs[0].val_loss)


@pytest.fixture(scope="module")
def diverged():
    return optviz.train("moons", "sgd", arch="mlp", depth=3, width=64, norm="none", lr="1000,0.1", epochs=6,
                        batch_size=16, samples=200)


def test_divergence_is_marked_at_its_epoch_on_the_whole_budget(diverged):
    bad = diverged.first.runs[0]
    assert bad.diverged
    k = bad.outcome.epoch
    fig = curves_figure(diverged.results)
    ax_loss, ax_acc = fig.axes[:2]
    for ax in (ax_loss, ax_acc):
        lo, hi = ax.get_xlim()
        assert lo < 1 and hi > 6 and hi - lo < 7  # the budget of 6 epochs, not the epochs done
        assert ax.get_xlabel() == "epoch (of 6)"
        verticals = [line for line in ax.get_lines() if list(line.get_xdata()) == [k, k]]
        assert verticals, "a vertical line at the epoch of divergence"
    crosses = [line for line in ax_loss.get_lines() if line.get_marker() == "x"]
    assert [list(c.get_xdata()) for c in crosses] == [[k]]
    assert 0 <= ax_acc.get_ylim()[0] and ax_acc.get_ylim()[1] <= 1.02
    assert any(f"epoch {k}" in t.get_text() for t in ax_loss.texts)
    assert any("diverged at epoch" in text for text in [t.get_text() for t in fig.legends[0].get_texts()])


def test_every_run_diverged_in_epoch_one_still_makes_a_readable_figure():
    report = optviz.train("moons", "sgd", arch="mlp", depth=3, width=64, norm="none", lr=1e4, epochs=5,
                          batch_size=16, samples=200)
    assert report.first.runs[0].outcome.epoch == 1
    fig = curves_figure(report.results)
    ax_loss, ax_acc = fig.axes[:2]
    assert ax_acc.get_ylim() == (0.0, 1.0)  # not −4 % … 4 %
    assert ax_loss.get_xlim()[1] > 5 and ax_loss.get_xlim()[0] < 1
    lo, hi = ax_loss.get_ylim()
    assert 0 < lo < np.log(2) < hi
    assert any("no epoch finished" in t.get_text() for t in ax_loss.texts)
    assert_fits(fig)


def test_zero_init_adds_a_symmetry_panel_where_zero_is_zero():
    report = optviz.train("moons", "momentum", arch="mlp", depth=2, width=6, norm="none", init="zeros,he",
                          act="sigmoid", epochs=3, lr=0.5, batch_size=8)
    fig = curves_figure(report.results)
    ax = _axis(fig, "Symmetry between units")
    lines = {line.get_color(): np.asarray(line.get_ydata()) for line in ax.get_lines()}
    assert len(lines) == 2
    zeros, he = report.first.runs
    want_he = np.max(np.stack(list(he.unit_spread.values())), axis=0)
    assert any(np.array_equal(y, np.zeros(3)) for y in lines.values())
    assert any(np.allclose(y, want_he) for y in lines.values())
    assert ax.get_ylim()[0] < 0 < ax.get_ylim()[1]  # exactly 0 is drawn above the axis
    assert any("exactly 0" in t.get_text() for t in ax.texts)
    assert not any(a.get_title().startswith("Symmetry") for a in curves_figure(optviz.train(
        "moons", "sgd", **SMALL).results).axes)
    assert_fits(fig)


def test_diagnostics_add_the_gradient_norm_per_layer(seeds):
    fig = curves_figure(seeds.results, diagnostics=True)
    ax = _axis(fig, "Gradient norm per layer")
    assert ax.get_yscale() == "log"
    lines = [line for line in ax.get_lines() if line.get_label() in ("Adam (η=0.001)", "SGD (η=0.1)")]
    assert len(lines) == 2
    for line, i in zip(lines, (0, 1), strict=True):
        np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])  # two hidden Linear layers and the head
        want = np.median([[res.runs[i].grad_norms[k][0] for k in ("layer1.linear", "layer2.linear", "head")]
                          for res in seeds.results], axis=0)
        np.testing.assert_allclose(line.get_ydata(), want)
    # the same color for a run in every panel
    loss_colors = [line.get_color() for line in fig.axes[0].get_lines() if not line.get_label().startswith("_")]
    assert [line.get_color() for line in lines] == loss_colors


def test_eval_bn_adds_a_panel_with_one_line_per_statistics_and_bn_run():
    report = optviz.train("moons", "adam", arch="mlp", depth=2, width=8, norm="bn,none", epochs=3,
                          eval_bn="running,batch:8,sorted:8")
    fig = curves_figure(report.results)
    ax = _axis(fig, "Validation accuracy: which BatchNorm")
    bn = report.first.runs[0]
    chance = [line for line in ax.get_lines() if line.get_color() == "0.45"]
    assert [list(line.get_ydata()) for line in chance] == [[0.5, 0.5]]  # two classes
    styles = {line.get_linestyle(): np.asarray(line.get_ydata()) for line in ax.get_lines() if line not in chance}
    assert set(styles) == {"-", "-.", ":"}  # the run without BatchNorm is left out
    np.testing.assert_array_equal(styles["-"], bn.val_acc)
    np.testing.assert_array_equal(styles["-."], bn.evals["batch:8"]["val_acc"])
    np.testing.assert_array_equal(styles[":"], bn.evals["sorted:8"]["val_acc"])
    legend = [t.get_text() for t in fig.axes[-1].get_legend().get_texts()]
    assert "validation, class-sorted batches, batches of 8" in legend
    assert_fits(fig)


def test_the_boundary_figure_fits_its_titles_and_labels(seeds):
    fig = boundary_figure(seeds.results, dpi=60)
    assert "(seed 0 of 3)" in fig._suptitle.get_text()
    assert_fits(fig)
    many = optviz.train("moons", "adam", arch="mlp", depth=2, width=8, norm="bn,none,ln", act="relu,tanh",
                        epochs=1)
    fig = boundary_figure(many.results, dpi=60)
    assert len(fig.axes) == 6
    assert_fits(fig)


def test_save_train_figures_of_all_seeds(seeds, tmp_path):
    paths = save_train_figures(seeds.results, tmp_path, dpi=40, diagnostics=True)
    assert sorted(p.name.rsplit("_", 1)[1] for p in paths) == ["boundary.png", "curves.png", "diagnostics.png"]
    assert all(p.stat().st_size > 0 for p in paths)


def test_diagnostics_of_a_network_without_batchnorm_say_so():
    from optviz.plot.diagnostics import diagnostics_figure

    report = optviz.train("moons", "adam", arch="mlp", depth=2, width=8, norm="bn,none", act="relu,sigmoid",
                          epochs=2)
    fig = diagnostics_figure(report.results, dpi=50)
    assert_fits(fig)  # long labels: the panel titles stay inside the figure
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 12
    bn_row, none_row = panels[:3], panels[6:9]
    assert bn_row[1].get_title() == "BatchNorm running mean" and bn_row[1].get_lines()
    assert [t.get_text() for t in none_row[1].texts] == ["no BatchNorm in this network"]
    assert not none_row[1].axison and not none_row[2].axison
    assert none_row[0].get_title().startswith("Adam · norm=none, act=relu")


def test_past_a_seed_that_diverged_the_median_of_the_others_is_faded(seeds):
    from dataclasses import replace

    from optviz.status import Outcome, Status

    results = [replace(res, runs=list(res.runs)) for res in seeds.results]
    cut = results[2].runs[0]
    results[2].runs[0] = replace(cut, outcome=Outcome(Status.DIVERGED, 2), val_loss=cut.val_loss[:1],
                                 train_loss=cut.train_loss[:1], val_acc=cut.val_acc[:1], train_acc=cut.train_acc[:1])
    fig = new_figure((10, 4))
    arts = draw_curves(*fig.subplots(1, 2), results)["adam"]
    both = np.array([res.runs[0].val_loss for res in seeds.results[:2]])
    all_three = np.median([res.runs[0].val_loss[:1] for res in seeds.results], axis=0)
    np.testing.assert_allclose(arts["val_loss"].get_ydata(), all_three)  # the epoch all three finished
    np.testing.assert_array_equal(arts["val_loss_rest"].get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(arts["val_loss_rest"].get_ydata()[1:], np.median(both, axis=0)[1:])
    assert arts["val_loss_rest"].get_alpha() < arts["val_loss"].get_alpha()
    assert [list(m.get_xdata()) for m in arts["diverged"]] == [[2], [2]]


def test_a_long_subtitle_is_broken_into_lines_that_fit(seeds):
    from dataclasses import replace

    results = [replace(res, data_info={**res.data_info, "name": "a-rather-long-name-of-a-csv-file-" * 2})
               for res in seeds.results]
    fig = curves_figure(results, diagnostics=True)
    text = fig._suptitle.get_text()
    assert text.startswith("Training\n") and text.count("\n") >= 2 and "median of 3 seeds" in text
    assert_fits(fig)
