"""The image models: blocks and whole networks against central differences in float64, their
structure (shapes, shortcuts, summary, receptive fields) and the configurations refused."""

import numpy as np
import pytest

from optviz.errors import OptvizError
from optviz.nn import build_model, softmax_cross_entropy
from optviz.nn.cnn import DenseLayer, ResidualBlock2d, make_norm2d
from optviz.nn.gradcheck import check_model_gradients, gradient_error, numerical_gradient
from optviz.nn.images import nchw

TOL = 1e-6
F64 = np.float64


def channels_last(a):
    return nchw(np.ascontiguousarray(a.transpose(0, 2, 3, 1)))


def block_check(block, x, rng):
    """Relative errors of ∂l/∂x and every parameter gradient for l = Σ dy ⊙ block(x)."""
    dy = rng.normal(size=block.forward(x, True).shape)

    def value():
        return float(np.sum(block.forward(x, True) * dy))

    block.forward(x, True)
    dx = block.backward(dy)
    errors = {"x": gradient_error(dx, numerical_gradient(value, x))}
    leaves = [(name, leaf) for name, leaf in block.children()]
    grads = {f"{n}.{k}": leaf.grads[k].copy() for n, leaf in leaves for k in leaf.params}
    for n, leaf in leaves:
        for k, p in leaf.params.items():
            errors[f"{n}.{k}"] = gradient_error(grads[f"{n}.{k}"], numerical_gradient(value, p))
    return errors


@pytest.mark.parametrize(("c_in", "c_out", "stride", "shortcut", "norm"), [
    (3, 3, 1, "identity", "bn"),
    (3, 4, 2, "conv1x1", "bn"),
    (2, 4, 1, "conv1x1", "gn"),
    (3, 3, 2, "none", "in"),
    (2, 2, 1, "identity", "ln"),
    (2, 3, 2, "conv1x1", "none"),
])
def test_residual_block_backward_matches_central_differences(c_in, c_out, stride, shortcut, norm):
    rng = np.random.default_rng(0)
    block = ResidualBlock2d(c_in, c_out, stride, norm, "relu", shortcut, (5, 6), groups=2, rng=rng, dtype=F64)
    x = rng.normal(size=(3, c_in, 5, 6))
    errors = block_check(block, x, rng)
    assert max(errors.values()) < TOL, errors


def test_residual_block_takes_channels_last_input_and_adds_the_branches():
    rng = np.random.default_rng(1)
    block = ResidualBlock2d(2, 2, 1, "bn", "relu", "identity", (4, 4), rng=rng, dtype=F64)
    x = rng.normal(size=(2, 2, 4, 4))
    plain = block.forward(x, True)
    assert np.array_equal(block.forward(channels_last(x), True), plain)
    # the block is act(main(x) + x): with the main path's output known, the sum is checkable
    h = x
    for _, layer in block.main:
        h = layer.forward(h, True)
    assert np.allclose(plain, np.maximum(h + x, 0))


def test_dense_layer_concatenates_and_its_backward_matches_central_differences():
    rng = np.random.default_rng(2)
    layer = DenseLayer(3, 2, "bn", "relu", (4, 5), rng=rng, dtype=F64)
    x = rng.normal(size=(3, 3, 4, 5))
    out = layer.forward(x, True)
    assert out.shape == (3, 5, 4, 5)
    assert np.array_equal(out[:, :3], x)  # the input channels pass unchanged
    errors = block_check(layer, x, rng)
    assert max(errors.values()) < TOL, errors


MODELS = [
    ("resnet-cnn", "bn", "relu"), ("resnet-cnn", "gn", "prelu"), ("resnet-cnn", "in", "relu"),
    ("resnet-cnn", "ln", "tanh"), ("resnet-cnn", "none", "relu"), ("cnn", "bn", "relu"),
    ("densenet", "bn", "relu"), ("densenet", "gn", "elu"), ("lenet", "bn", "sigmoid"),
    ("lenet", "ln", "relu"), ("lenet", "none", "tanh"),
]


def sampled_errors(model, x, y, per_array=10, h=1e-6, seed=0):
    """``check_model_gradients`` on up to ``per_array`` random entries of each parameter array
    (every entry of the whole model would take minutes for the larger ones)."""
    rng = np.random.default_rng(seed)

    def value():
        return softmax_cross_entropy(model.forward(x, True), y)[0]

    state = model.get_state()
    _, dout = softmax_cross_entropy(model.forward(x, True), y)
    analytic = {k: v.copy() for k, v in model.backward(dout).items()}
    errors = {}
    for name, array in model.params.items():
        flat = array.reshape(-1)
        picks = rng.choice(flat.size, size=min(per_array, flat.size), replace=False)
        numeric = []
        for i in picks:
            old = flat[i]
            flat[i] = old + h
            up = value()
            flat[i] = old - h
            down = value()
            flat[i] = old
            numeric.append((up - down) / (2 * h))
        errors[name] = gradient_error(analytic[name].reshape(-1)[picks], np.array(numeric))
    model.set_state(state)
    return errors


@pytest.mark.parametrize(("arch", "norm", "act"), MODELS)
def test_models_backward_matches_central_differences(arch, norm, act):
    rng = np.random.default_rng(3)
    model = build_model(arch, in_dim=64, out_dim=3, channels=4, blocks=1, growth=4, groups=2, norm=norm, act=act,
                        seed=1, dtype=F64, zero_init_residual=False)
    x, y = rng.normal(size=(4, 64)), rng.integers(0, 3, 4)
    errors = sampled_errors(model, x, y)
    assert max(errors.values()) < TOL, {k: v for k, v in errors.items() if v >= TOL}


def test_a_whole_small_model_matches_central_differences_entry_by_entry():
    rng = np.random.default_rng(6)
    model = build_model("resnet-cnn", in_dim=25, out_dim=2, channels=2, blocks=1, seed=2, dtype=F64, stages=2)
    x, y = rng.normal(size=(3, 25)), rng.integers(0, 2, 3)
    errors = check_model_gradients(model, x, y)
    assert max(errors.values()) < TOL, errors


def test_input_gradient_of_an_image_model_matches_central_differences():
    rng = np.random.default_rng(4)
    model = build_model("resnet-cnn", in_dim=36, out_dim=2, channels=2, seed=2, dtype=F64)
    x, y = rng.normal(size=(3, 36)), rng.integers(0, 2, 3)
    _, dout = softmax_cross_entropy(model.forward(x, True), y)
    model.backward(dout, input_grad=True)
    assert model.input_grad.shape == x.shape
    numeric = numerical_gradient(lambda: softmax_cross_entropy(model.forward(x, True), y)[0], x)
    assert gradient_error(model.input_grad, numeric) < TOL
    # without input_grad the stem skips ∂l/∂x
    model.forward(x, True)
    model.backward(dout)
    assert model.input_grad is None


def test_zero_initialized_residual_blocks_start_as_their_shortcut():
    model = build_model("resnet-cnn", in_dim=64, out_dim=3, channels=2, norm="none", dtype=F64)
    assert model.spec["zero_init_residual"] is True
    assert not model.params["stage1.block1.conv2.W"].any()
    plain = build_model("cnn", in_dim=64, out_dim=3, channels=2, norm="none", dtype=F64)
    assert plain.params["stage1.block1.conv2.W"].any()  # a plain network would start dead


# -- structure -------------------------------------------------------------------------------
def test_resnet_stages_double_channels_and_halve_the_side():
    model = build_model("resnet-cnn", in_dim=64, out_dim=10, channels=8, blocks=2)
    rows = {r.name: r for r in model.summary_rows()}
    assert rows["stage1.block2.act2"].shape == (8, 8, 8)
    assert rows["stage2.block1.conv1"].shape == (16, 4, 4)
    assert rows["stage2.block1.shortcut"].layer.startswith("Conv2d(8→16, k=1, s=2")
    assert "stage2.block2.shortcut" not in rows  # channels and stride stay: identity
    assert rows["head"].shape == (10,)
    assert sum(r.params for r in model.summary_rows()) == model.num_params()
    big = build_model("resnet-cnn", in_dim=28 * 28, out_dim=10, channels=4)
    assert [r.shape for r in big.summary_rows() if r.name.endswith("block1.act2")] == [
        (4, 28, 28), (8, 14, 14), (16, 7, 7)]


def test_the_plain_cnn_has_the_resnets_layers_without_shortcuts():
    res = build_model("resnet-cnn", in_dim=64, out_dim=10, channels=4, blocks=3)
    plain = build_model("cnn", in_dim=64, out_dim=10, channels=4, blocks=3)
    convs = [k for k in res.params if k.endswith(".W") and "shortcut" not in k]
    assert convs == [k for k in plain.params if k.endswith(".W")]
    assert not any("shortcut" in k for k in plain.params)
    assert len(convs) == 2 + 2 * 2 * 3  # stem, 2 stages × 3 blocks × 2 convolutions, head


def test_shortcut_none_leaves_the_changing_blocks_without_a_shortcut():
    model = build_model("resnet-cnn", in_dim=64, out_dim=10, channels=4, blocks=2, shortcut="none")
    kinds = {name: layer for name, layer in model.layers}
    stage2 = dict(kinds["stage2"].children())
    assert stage2["block1"].kind == "none" and stage2["block2"].kind == "identity"
    assert not any("shortcut" in k for k in model.params)


def test_an_identity_shortcut_across_a_shape_change_is_refused():
    with pytest.raises(OptvizError, match=r"identity shortcut cannot add a 4×8×8 input .* 8×4×4 output"):
        ResidualBlock2d(4, 8, 2, shortcut="identity", hw=(8, 8))


def test_receptive_fields_follow_the_backward_formula():
    """LeNet on 8×8: conv5 → 5, pool2 → 6, conv5 → 14, pool2 → 16 (RF_i = (RF_{i+1} − 1)·s_i + f_i)."""
    rows = {r.name: r for r in build_model("lenet", in_dim=64, out_dim=10).summary_rows()}
    assert [rows[k].rf for k in ("conv1.conv", "pool1", "conv2.conv", "pool2")] == [5, 6, 14, 16]
    rf = 1
    for f, s in reversed([(5, 1), (2, 2), (5, 1), (2, 2)]):
        rf = (rf - 1) * s + f
    assert rf == 16
    assert rows["fc1.linear"].rf is None and rows["pool2"].shape == (16, 2, 2)
    res = {r.name: r for r in build_model("resnet-cnn", in_dim=64, out_dim=10).summary_rows()}
    # stem 3, block 1 → 5, 7; block 2 (stride 2) → 9, then jump 2: 13; its shortcut sees 7
    assert [res[k].rf for k in ("stem.conv", "stage1.block1.conv2", "stage2.block1.conv1",
                                "stage2.block1.conv2", "stage2.block1.shortcut")] == [3, 7, 9, 13, 7]


def test_the_summary_prints_shapes_parameters_and_fields():
    text = build_model("densenet", in_dim=64, out_dim=10, channels=4, growth=2).summary()
    assert "dense1.layer1.concat" in text and "6×8×8" in text and "trans1.pool" in text
    assert text.splitlines()[-1].startswith("total: ")


def test_an_image_shrunk_below_one_pixel_is_refused_naming_layer_and_formula():
    with pytest.raises(OptvizError) as err:
        build_model("lenet", in_dim=1, out_dim=2)
    text = str(err.value)
    assert text.startswith("layer pool1: MaxPool2d(k=2, s=2) cannot take an image of height 1")
    assert "⌊(n − f)/s⌋ + 1 = ⌊(1 − 2)/2⌋ + 1 = 0 < 1" in text
    with pytest.raises(OptvizError, match="layer trans1: .*AvgPool2d"):
        build_model("densenet", in_dim=3, out_dim=2, image_shape=(3, 1, 1), stages=2)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"arch": "resnet-cnn", "norm": "gn", "groups": 3}, "groups=3 must divide the 32 channels"),
    ({"arch": "lenet", "norm": "in"}, "LeNet's Linear layers take bn, gn, ln or none"),
    ({"arch": "resnet-cnn", "shortcut": "identity"}, "shortcut"),
    ({"arch": "resnet-cnn", "norm": "batch"}, "norm"),
    ({"arch": "resnet-cnn", "channels": 0}, "channels must be ≥ 1"),
    ({"arch": "resnet-cnn", "in_dim": 60}, "image shape of its 60 inputs"),
    ({"arch": "resnet-cnn", "image_shape": (2, 4, 4)}, r"image_shape=\(2, 4, 4\) must be"),
    ({"arch": "resnet-cnn", "image_shape": (1, 8, "a")}, "image_shape"),
])
def test_bad_image_model_settings_are_refused(kwargs, match):
    kwargs = {"in_dim": 64, "out_dim": 10, **kwargs}
    with pytest.raises(OptvizError, match=match):
        build_model(**kwargs)


def test_single_value_statistics_are_refused_when_the_model_is_built():
    with pytest.raises(OptvizError, match="would normalize single values"):
        make_norm2d("in", 4, 1, 1, 1)
    with pytest.raises(OptvizError, match="layer stage2.block1: norm='in' on 8×1×1"):
        build_model("resnet-cnn", in_dim=4, out_dim=2, channels=4, norm="in", image_shape=(1, 2, 2), stages=3)


def test_evaluation_of_many_samples_is_chunked_with_the_same_outputs():
    rng = np.random.default_rng(5)
    model = build_model("resnet-cnn", in_dim=64, out_dim=3, channels=2, dtype=F64)
    model.forward(rng.normal(size=(8, 64)), True)  # running statistics away from their start
    x = rng.normal(size=(600, 64))
    whole = model.net.forward(x, False)
    assert np.allclose(model.forward(x, False), whole, rtol=1e-12, atol=1e-12)
    assert np.allclose(model.infer(x), whole, rtol=1e-12, atol=1e-12)


def test_a_block_without_shortcut_is_never_zero_initialized():
    model = build_model("resnet-cnn", in_dim=64, out_dim=3, channels=2, norm="none", shortcut="none")
    assert not model.params["stage1.block1.conv2.W"].any()  # identity shortcut: starts as act(x)
    assert model.params["stage2.block1.conv2.W"].any()  # no shortcut: a zero branch would output 0
