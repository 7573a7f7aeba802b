"""Loss landscapes: planes, projections, the surface at θ*, run files, interpolation, the GIF.

Tolerances: geometry in float64 to 1e-10; losses evaluated in float32 through two code
paths (Model.infer vs Model.forward) agree to 1e-5 relative.
"""

import numpy as np
import pytest

from optviz.errors import OptvizError
from optviz.nn import build_model, load_digits, make_moons
from optviz.nn.landscape import (
    interpolate,
    landscape,
    landscapes,
    pca_plane,
    random_plane,
)
from optviz.nn.runfile import load_run, save_run
from optviz.nn.train import evaluate, flatten_params, train


@pytest.fixture(scope="module")
def result():
    return train(
        make_moons(160, seed=3),
        [("adam", {"lr": 0.02}), ("momentum", {"lr": 0.1})],
        model={"arch": "resnet", "depth": 2, "width": 12, "norm": "bn"},
        epochs=6,
        batch_size=16,
        record_weights=2,
        max_snapshots=20,
    )


def weights_vector(result, state):
    return flatten_params({k: state[k] for k, _ in result.param_layout}).astype(np.float64)


# -- recording ------------------------------------------------------------------------
def test_snapshots_are_bounded_even_and_end_at_the_final_weights(result):
    steps_total = 6 * result.settings["steps_per_epoch"]
    for run in result.runs:
        steps = run.snapshot_steps
        assert len(run.snapshots) == len(steps) <= 20
        assert steps[0] == 0 and steps[-1] == steps_total
        gaps = np.diff(steps[:-1])
        assert np.all(gaps == gaps[0])  # evenly spaced (the last one may be closer)
        assert run.snapshots.dtype == np.float32
        np.testing.assert_array_equal(
            run.snapshots[0], weights_vector(result, result.initial_state)
        )
        np.testing.assert_array_equal(run.snapshots[-1], weights_vector(result, run.final_state))


def test_no_recording_by_default_and_bad_settings_refused():
    res = train(make_moons(60), ["adam"], model={"depth": 1, "width": 4}, epochs=1, batch_size=20)
    assert res.runs[0].snapshots is None
    with pytest.raises(OptvizError, match="record_weights"):
        train(make_moons(60), ["adam"], epochs=1, record_weights=0)
    with pytest.raises(OptvizError, match="max_snapshots"):
        train(make_moons(60), ["adam"], epochs=1, record_weights=1, max_snapshots=2)


# -- planes ---------------------------------------------------------------------------
def test_pca_directions_are_orthonormal_and_shares_sum_to_at_most_one(result):
    plane = pca_plane(result, "adam")
    assert abs(plane.d1 @ plane.d2) < 1e-10
    np.testing.assert_allclose([plane.d1 @ plane.d1, plane.d2 @ plane.d2], 1.0, rtol=1e-10)
    assert np.all(plane.explained > 0) and plane.explained.sum() <= 1 + 1e-12
    assert plane.explained[0] >= plane.explained[1]
    # biases and BatchNorm parameters are not in the directions by default
    assert np.all(plane.d1[~plane.mask] == 0) and np.all(plane.d2[~plane.mask] == 0)
    with_bn = pca_plane(result, "adam", include_bn=True)
    assert with_bn.mask.all() and np.any(with_bn.d1[~plane.mask] != 0)


def test_projection_of_theta_star_is_the_origin(result):
    theta = weights_vector(result, result.run("adam").final_state)
    for plane in (pca_plane(result, "adam"), random_plane(result, "adam", seed=1)):
        np.testing.assert_allclose(plane.project(np.zeros_like(theta)), [[0.0, 0.0]], atol=1e-12)
        # and a point of the plane projects to its own coordinates
        point = 0.3 * plane.d1 - 1.7 * plane.d2
        np.testing.assert_allclose(plane.project(point), [[0.3, -1.7]], rtol=1e-9, atol=1e-12)
    land = landscape(result, "adam", resolution=5)
    np.testing.assert_allclose(land.path[-1], [0.0, 0.0], atol=1e-9)
    assert land.off_plane[-1] == 0.0


def test_filter_normalization_matches_each_neurons_weight_norm(result):
    run = result.run("momentum")
    plane = random_plane(result, "momentum", seed=4)
    net = build_model(**result.model_spec)
    kinds = net.param_kinds
    offset = 0
    for name, shape in result.param_layout:
        size = int(np.prod(shape))
        for d in (plane.d1, plane.d2):
            part = d[offset : offset + size].reshape(shape)
            if kinds[name] == "weight":
                want = np.linalg.norm(run.final_state[name].astype(np.float64), axis=0)
                np.testing.assert_allclose(np.linalg.norm(part, axis=0), want, rtol=1e-10)
            else:
                assert np.all(part == 0)
        offset += size
    other = random_plane(result, "momentum", seed=5)
    assert not np.allclose(other.d1, plane.d1)  # seeded, and the seed matters
    with_bn = random_plane(result, "momentum", include_bn=True, seed=4)
    gamma = "block1.norm1.gamma"
    lo = sum(
        int(np.prod(s))
        for n, s in result.param_layout[: [n for n, _ in result.param_layout].index(gamma)]
    )
    np.testing.assert_allclose(with_bn.d1[lo : lo + 12], run.final_state[gamma], rtol=1e-7)


# -- the surface ----------------------------------------------------------------------
def test_plane_loss_at_the_origin_is_the_networks_loss_in_evaluation_mode(result):
    net = result.model("adam")
    want, _ = evaluate(net, result.split.X_train, result.split.y_train)  # running stats of θ*
    for plane in ("pca", "random"):
        land = landscape(
            result, "adam", plane=plane, resolution=5, span=0.5 if plane == "random" else None
        )
        assert land.origin_loss == pytest.approx(want, rel=1e-5)
        assert land.path_loss[-1] == pytest.approx(want, rel=1e-5)
        assert land.plane_loss[-1] == pytest.approx(want, rel=1e-5)
        if plane == "random":  # the grid's middle point is the origin
            assert land.alphas[2] == 0 and land.betas[2] == 0
            assert land.loss[2, 2] == pytest.approx(want, rel=1e-5)
        assert land.loss.shape == (5, 5) and np.all(np.isfinite(land.loss))


def test_grid_values_are_the_loss_at_those_weights(result):
    land = landscape(
        result, "momentum", plane="random", resolution=3, span=(-0.4, 0.6, -0.2, 0.3), seed=2
    )
    plane = random_plane(result, "momentum", seed=2)
    theta = weights_vector(result, result.run("momentum").final_state)
    net = result.model("momentum")
    j, i = 0, 2  # b = −0.2, a = 0.6
    point = theta + land.alphas[i] * plane.d1 + land.betas[j] * plane.d2
    names = [k for k, _ in result.param_layout]
    sizes = [int(np.prod(s)) for _, s in result.param_layout]
    parts = np.split(point, np.cumsum(sizes)[:-1])
    net.set_params({k: p.reshape(s) for k, p, (_, s) in zip(names, parts, result.param_layout)})
    want, _ = evaluate(net, result.split.X_train, result.split.y_train)
    assert land.loss[j, i] == pytest.approx(want, rel=1e-5)


def test_honesty_panel_records_true_and_plane_loss_per_snapshot(result):
    land = landscape(result, "adam", resolution=3)
    run = result.run("adam")
    assert land.path.shape == (len(run.snapshots), 2)
    np.testing.assert_array_equal(land.path_steps, run.snapshot_steps)
    assert land.path_loss.shape == land.plane_loss.shape == land.off_plane.shape
    assert np.all((land.off_plane >= 0) & (land.off_plane <= 1 + 1e-9))
    # the start is far from θ*: the true loss there is above the final loss
    assert land.path_loss[0] > land.path_loss[-1]


def test_pca_without_recording_and_diverged_runs_are_refused():
    res = train(
        make_moons(200),
        [("sgd", {"lr": 1e3}), ("adam", {"lr": 0.01})],
        model={"depth": 3, "width": 64, "norm": "none"},
        epochs=2,
        batch_size=16,
    )
    with pytest.raises(OptvizError, match="no recorded weights"):
        landscape(res, "adam", plane="pca")
    with pytest.raises(OptvizError, match="diverged"):
        landscape(res, "sgd", plane="random")
    with pytest.raises(OptvizError, match="plane must be one of pca, random"):
        landscape(res, "adam", plane="hessian")
    only = landscapes(res, plane="random", resolution=3)
    assert [x.label for x in only] == ["adam"]
    assert only[0].path.shape == (2, 2)  # θ₀ and θ* when nothing was recorded


def test_fast_inference_equals_forward_in_evaluation_mode():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6)).astype(np.float32)
    for spec in (
        {"arch": "resnet", "depth": 4, "width": 16, "norm": "bn"},
        {"arch": "mlp", "depth": 3, "width": 8, "norm": "bn", "act": "tanh", "dropout": 0.4},
        {"arch": "resnet", "depth": 3, "width": 8, "norm": "ln", "act": "prelu"},
        {"arch": "mlp", "depth": 0},
    ):
        net = build_model(in_dim=6, out_dim=3, **spec)
        net.forward(3 * x + 1, True)  # running statistics away from 0 and 1
        np.testing.assert_allclose(net.infer(x), net.forward(x, False), rtol=1e-5, atol=1e-5)


# -- run files ------------------------------------------------------------------------
def test_saved_run_reloads_and_redraws_the_same_data(result, tmp_path):
    path = save_run(tmp_path / "run.npz", result)
    assert not [p for p in tmp_path.iterdir() if p.name != "run.npz"]  # no temp file left
    back = load_run(path)
    assert back.model_spec == result.model_spec
    for a, b in zip(result.runs, back.runs, strict=True):
        assert (a.label, a.status, a.val_acc, a.step_loss) == (
            b.label,
            b.status,
            b.val_acc,
            b.step_loss,
        )
        np.testing.assert_array_equal(a.snapshots, b.snapshots)
        for k in a.grad_norms:
            np.testing.assert_array_equal(a.grad_norms[k], b.grad_norms[k])
    for plane in ("pca", "random"):
        x = landscape(result, "momentum", plane=plane, resolution=5)
        y = landscape(back, "momentum", plane=plane, resolution=5)
        for field in ("alphas", "betas", "loss", "path", "path_loss", "plane_loss"):
            np.testing.assert_array_equal(getattr(x, field), getattr(y, field))


def test_bad_run_files_raise_one_line_errors(result, tmp_path):
    good = save_run(tmp_path / "good.npz", result)
    data = good.read_bytes()
    (tmp_path / "truncated.npz").write_bytes(data[: len(data) // 2])
    (tmp_path / "noise.npz").write_bytes(np.random.default_rng(0).bytes(5000))
    np.savez(tmp_path / "other.npz", a=np.arange(3))
    # a run whose weights belong to another architecture (the spec says width 13)
    with np.load(good) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["meta"] = np.array(str(arrays["meta"]).replace('"width": 12', '"width": 13'))
    np.savez_compressed(tmp_path / "foreign.npz", **arrays)
    cases = {
        "missing.npz": "no such file",
        "truncated.npz": "truncated or corrupt",
        "noise.npz": "not a zip",
        "other.npz": "not an optviz run file",
        "foreign.npz": "do not fit",
    }
    for name, message in cases.items():
        with pytest.raises(OptvizError, match=message) as info:
            load_run(tmp_path / name)
        assert "\n" not in str(info.value) and name in str(info.value)


def test_save_run_is_atomic_on_failure(result, tmp_path, monkeypatch):
    target = tmp_path / "run.npz"
    target.write_bytes(b"old")

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(RuntimeError):
        save_run(target, result)
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["run.npz"]


# -- 1-D interpolation ----------------------------------------------------------------
def test_interpolation_endpoints_are_the_two_networks(result):
    line = interpolate(result, "init", "adam", points=5, extend=0.25)
    np.testing.assert_allclose(line.t, [-0.25, 0.125, 0.5, 0.875, 1.25], rtol=1e-12)
    exact = interpolate(result, "init", "adam", points=3, extend=0.0)  # t = 0, 0.5, 1
    split = result.split
    end, _ = evaluate(result.model("adam"), split.X_train, split.y_train, bn="recompute")
    start, _ = evaluate(
        result.model(state=result.initial_state), split.X_train, split.y_train, bn="recompute"
    )
    assert exact.train_loss[2] == pytest.approx(end, rel=1e-5)
    assert exact.train_loss[0] == pytest.approx(start, rel=1e-5)
    assert exact.train_loss[2] < exact.train_loss[0]
    both = interpolate(result, "adam", "momentum", points=3, extend=0.0)
    assert (both.start, both.end) == ("adam", "momentum")
    assert np.all((both.val_acc >= 0) & (both.val_acc <= 1))


def test_evaluate_with_batch_statistics_leaves_the_model_unchanged(result):
    net = result.model("adam")
    before = net.get_state()
    X, y = result.split.X_val, result.split.y_val
    running = evaluate(net, X, y)
    order = np.argsort(y, kind="stable")
    evaluate(net, X[order], y[order], batch_size=8, bn="batch")
    for k, v in net.get_state().items():
        np.testing.assert_array_equal(v, before[k])
    assert evaluate(net, X, y) == running
    with pytest.raises(OptvizError, match="bn must be"):
        evaluate(net, X, y, bn="train")


# -- figures --------------------------------------------------------------------------
def test_landscape_figure_draws_the_path_and_the_honesty_panel(result):
    from optviz.plot.landscape import draw_honesty, draw_landscape, landscape_figure

    lands = landscapes(result, "pca", resolution=5)
    fig = landscape_figure(lands)
    assert len([ax for ax in fig.axes if ax.get_label() != "<colorbar>"]) == 4
    from optviz.plot.train import new_figure

    f = new_figure((8, 4))
    ax1, ax2 = f.subplots(1, 2)
    arts = draw_landscape(ax1, lands[0])
    np.testing.assert_array_equal(
        np.c_[arts["path"].get_xdata(), arts["path"].get_ydata()], lands[0].path
    )
    assert "PC 1" in ax1.get_xlabel() and "%" in ax1.get_xlabel()
    honest = draw_honesty(ax2, lands[0])
    np.testing.assert_array_equal(honest["true"].get_ydata(), lands[0].path_loss)
    np.testing.assert_array_equal(honest["plane"].get_ydata(), lands[0].plane_loss)
    assert ax2.get_yscale() == "log"


def test_gif_and_files_are_written(result, tmp_path):
    from PIL import Image

    from optviz.plot.landscape import (
        animation_frames,
        render_animation_frames,
        save_landscape_figures,
    )

    land = landscape(result, "adam", resolution=5)
    frames = render_animation_frames(land, max_frames=6)
    assert len(frames) == len(animation_frames(land, 6)) == 6
    assert frames[0].size == frames[-1].size
    assert np.any(np.asarray(frames[0]) != np.asarray(frames[-1]))  # the path grew
    line = interpolate(result, "init", "adam", points=4)
    paths = save_landscape_figures(
        [land], tmp_path, fmt="png", dpi=50, stem="t", interpolations=[line], gif=True
    )
    assert [p.name for p in paths] == [
        "t_landscape-pca.png",
        "t_interpolation.png",
        "t_landscape-pca-adam.gif",
    ]
    with Image.open(paths[-1]) as gif:
        assert gif.format == "GIF" and gif.n_frames == len(animation_frames(land))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)


def test_digits_landscape_is_fast_enough_for_a_small_grid():
    # a smoke test on the real data (the 41×41 timing lives in benchmarks/bench_landscape.py)
    res = train(
        load_digits(),
        [("adam", {"lr": 1e-3})],
        model={"arch": "resnet", "depth": 2, "width": 32},
        epochs=1,
        batch_size=128,
        record_weights=3,
    )
    land = landscape(res, resolution=5)
    assert np.all(np.isfinite(land.loss)) and np.all(np.isfinite(land.path_loss))


def test_grouped_update_is_bit_for_bit_the_per_array_update(monkeypatch):
    import importlib

    from optviz.optim import AdaGrad, Adam, Momentum

    packing = importlib.import_module("optviz.optim.packing")

    kw = dict(model={"arch": "resnet", "depth": 4, "width": 24}, epochs=2, batch_size=16, seed=1)
    opts = [("adam", {"lr": 0.01}), ("momentum", {"lr": 0.05}), ("adagrad", {"lr": 0.05})]
    monkeypatch.setattr(packing, "GROUP", 300)  # several groups even on this small net
    grouped = train(make_moons(100), opts, **kw)
    for cls in (Adam, Momentum, AdaGrad):  # no packing: one update per array
        monkeypatch.setattr(cls, "elementwise", False)
    plain = train(make_moons(100), opts, **kw)
    for a, b in zip(grouped.runs, plain.runs, strict=True):
        assert a.step_loss == b.step_loss
        for k in a.final_state:
            np.testing.assert_array_equal(a.final_state[k], b.final_state[k])


def test_record_every_epoch_and_progress_reports():
    res = train(
        make_moons(90),
        ["adam"],
        model={"depth": 2, "width": 8},
        epochs=3,
        batch_size=20,
        record_weights="epoch",
    )
    spe = res.settings["steps_per_epoch"]
    np.testing.assert_array_equal(res.runs[0].snapshot_steps, [0, spe, 2 * spe, 3 * spe])
    rows = []
    landscape(
        res, plane="random", resolution=4, progress=lambda done, total: rows.append((done, total))
    )
    assert rows == [(1, 4), (2, 4), (3, 4), (4, 4)]
    with pytest.raises(OptvizError, match="record_weights"):
        train(make_moons(60), ["adam"], epochs=1, record_weights="step")
