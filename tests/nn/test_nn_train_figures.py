"""Training figures, headless: what was drawn (lines, data, scales), and the files written."""

import numpy as np
import pytest

from optviz.errors import OptvizError
from optviz.nn import load_digits, make_blobs, make_moons
from optviz.nn.train import train
from optviz.plot.train import (
    boundary_figure,
    curves_figure,
    decision_grid,
    diagnostics_figure,
    draw_boundary,
    draw_curves,
    draw_grad_norms,
    draw_running_stats,
    new_figure,
    save_train_figures,
    weight_layers,
)


@pytest.fixture(scope="module")
def moons():
    return train(
        make_moons(120, seed=2),
        [("adam", {"lr": 0.02}), ("momentum", {"lr": 0.1}), ("sgd", {"lr": 1e3})],
        model={"arch": "mlp", "depth": 3, "width": 64, "norm": "bn"},
        epochs=4,
        batch_size=16,
    )


@pytest.fixture(scope="module")
def diverging():
    return train(
        make_moons(200),
        [("sgd", {"lr": 1e3}), ("adam", {"lr": 0.01})],
        model={"depth": 3, "width": 64, "norm": "none"},
        epochs=3,
        batch_size=16,
    )


def test_curves_show_every_epoch_of_every_run(moons):
    fig = new_figure((10, 4))
    ax_loss, ax_acc = fig.subplots(1, 2)
    arts = draw_curves(ax_loss, ax_acc, moons)
    assert set(arts) == {r.label for r in moons.runs}
    for run in moons.runs:
        a = arts[run.label]
        for key in ("train_loss", "val_loss", "train_acc", "val_acc"):
            np.testing.assert_array_equal(a[key].get_ydata(), getattr(run, key))
            np.testing.assert_array_equal(a[key].get_xdata(), np.arange(1, len(run.val_acc) + 1))
        assert a["val_loss"].get_color() == a["train_loss"].get_color()
        assert a["val_loss"].get_linestyle() == "-" and a["train_loss"].get_linestyle() == "--"
    colors = {arts[r.label]["val_loss"].get_color() for r in moons.runs}
    assert len(colors) == len(moons.runs)  # one color per optimizer
    assert ax_loss.get_yscale() == "log"
    assert len(ax_loss.get_lines()) >= 2 * len(moons.runs)


def test_a_diverged_run_is_marked(diverging):
    bad = diverging.runs[0]
    assert bad.diverged
    fig = curves_figure(diverging)
    ax_loss, ax_acc = fig.axes[:2]
    labels = [line.get_label() for line in ax_loss.get_lines()]
    assert any(bad.status in lab for lab in labels)
    fig2 = new_figure((10, 4))
    arts = draw_curves(*fig2.subplots(1, 2), diverging)
    assert len(arts[bad.label]["diverged"]) == 2
    marks = arts[bad.label]["diverged"]
    assert all(m.get_marker() == "x" for m in marks)
    # the good run stays readable: the loss axis is not stretched by the blow-up
    good = diverging.runs[1]
    lo, hi = fig.axes[0].get_ylim()
    assert hi < 1e3 * max(good.val_loss + good.train_loss)


def test_decision_boundary_panels_show_the_data(moons):
    fig = boundary_figure(moons)
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(axes) == len(moons.runs)
    f = new_figure((4, 4))
    ax = f.subplots()
    arts = draw_boundary(ax, moons, moons.runs[0], resolution=40)
    np.testing.assert_array_equal(arts["train"].get_offsets(), moons.split.X_train)
    np.testing.assert_array_equal(arts["val"].get_offsets(), moons.split.X_val)
    assert arts["regions"] is not None
    xs, ys, cls, conf = decision_grid(moons, moons.runs[0].label, resolution=40)
    assert cls.shape == (40, 40) and set(np.unique(cls)) <= {0, 1}
    assert np.all((conf >= 0.5 - 1e-9) & (conf <= 1 + 1e-9))
    # the predicted class at the training points matches the network's accuracy on them
    net = moons.model(moons.runs[0].label)
    pred = np.argmax(net.forward(moons.split.X_val, False), axis=1)
    assert np.mean(pred == moons.split.y_val) == pytest.approx(moons.runs[0].val_acc[-1])


def test_decision_boundary_needs_2d_data():
    res = train(load_digits(), ["adam"], model={"depth": 1, "width": 8}, epochs=1, batch_size=256)
    with pytest.raises(OptvizError, match="2-D"):
        boundary_figure(res)


def test_diagnostics_draw_the_records(moons):
    run = moons.runs[1]
    fig = new_figure((12, 4))
    ax_g, ax_m, ax_v = fig.subplots(1, 3)
    lines = draw_grad_norms(ax_g, moons, run)
    layers = weight_layers(moons, run)
    assert layers == ["layer1.linear", "layer2.linear", "layer3.linear", "head"]  # input → output
    assert len(lines) == len(layers)
    for line, layer in zip(lines, layers):
        np.testing.assert_array_equal(line.get_ydata(), run.grad_norms[layer])
    assert ax_g.get_yscale() == "log"
    # sequential colors: the first and last layers differ
    assert lines[0].get_color() != lines[-1].get_color()
    stats = draw_running_stats(ax_m, ax_v, run)
    assert len(stats["mean"]) == len(stats["var"]) == 3
    np.testing.assert_allclose(
        stats["var"][0].get_ydata(), run.running_stats["layer1.norm.running_var"].mean(axis=1)
    )
    full = diagnostics_figure(moons)
    finished = [r for r in moons.runs if r.val_acc]  # a run that diverged in epoch 1 has no rows
    assert len(finished) == 2
    assert len([ax for ax in full.axes if ax.get_label() != "<colorbar>"]) == 3 * len(finished)


def test_save_train_figures_writes_the_files(moons, tmp_path):
    paths = save_train_figures(moons, tmp_path, fmt="png", dpi=40, diagnostics=True, stem="m")
    assert [p.name for p in paths] == ["m_curves.png", "m_boundary.png", "m_diagnostics.png"]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)
    blobs = train(make_blobs(90), ["adam"], model={"depth": 1, "width": 8}, epochs=2, batch_size=30)
    svg = save_train_figures(blobs, tmp_path / "sub", fmt="svg", dpi=40)
    assert [p.suffix for p in svg] == [".svg", ".svg"] and svg[0].name.startswith("blobs_mlp1")
    with pytest.raises(OptvizError, match="fmt must be one of png, svg, pdf"):
        save_train_figures(moons, tmp_path, fmt="bmp")
