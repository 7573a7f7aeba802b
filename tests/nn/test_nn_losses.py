"""Loss values and gradients against hand computation on small examples (tolerance 1e-12 relative)."""

import numpy as np
import pytest

from optviz.errors import OptvizError
from optviz.nn import (
    accuracy,
    binary_cross_entropy,
    binary_focal_loss,
    build_model,
    focal_loss,
    get_loss,
    l1_loss,
    l1_penalty,
    l2_penalty,
    log_softmax,
    mse_loss,
    smooth_l1_loss,
    softmax,
    softmax_cross_entropy,
)

LN3 = np.log(3.0)


def approx(x):
    return pytest.approx(x, rel=1e-12, abs=1e-15)


def test_softmax_cross_entropy_by_hand():
    # logits (0, ln 3) give p = (1/4, 3/4)
    logits = np.array([[0.0, LN3], [0.0, LN3]])
    loss, grad = softmax_cross_entropy(logits, np.array([1, 0]))
    assert loss == approx((-np.log(0.75) - np.log(0.25)) / 2)
    np.testing.assert_allclose(grad, np.array([[0.25, -0.25], [-0.75, 0.75]]) / 2, rtol=1e-12)
    np.testing.assert_allclose(softmax(logits)[0], [0.25, 0.75], rtol=1e-12)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    loss, grad = softmax_cross_entropy(np.array([[1000.0, 0.0, -1000.0]]), np.array([1]))
    assert loss == approx(1000.0)
    np.testing.assert_allclose(grad, [[1.0, -1.0, 0.0]], atol=1e-300)
    assert np.all(np.isfinite(log_softmax(np.array([[1e5, -1e5, 0.0]]))))


def test_softmax_cross_entropy_keeps_float32():
    loss, grad = softmax_cross_entropy(np.zeros((3, 4), dtype=np.float32), np.array([0, 1, 2]))
    assert grad.dtype == np.float32 and isinstance(loss, float)
    assert loss == pytest.approx(np.log(4), rel=1e-6)


def test_labels_are_checked():
    with pytest.raises(OptvizError, match=r"0\.\.2"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(OptvizError, match="integers"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))


def test_binary_cross_entropy_by_hand():
    loss, grad = binary_cross_entropy(np.array([0.0, LN3]), np.array([1, 0]))
    # σ(0) = 1/2 with y = 1: ln 2;  σ(ln 3) = 3/4 with y = 0: −ln(1/4) = ln 4
    assert loss == approx((np.log(2) + np.log(4)) / 2)
    np.testing.assert_allclose(grad, np.array([0.5 - 1, 0.75 - 0]) / 2, rtol=1e-12)
    loss, grad = binary_cross_entropy(np.array([[800.0], [-800.0]]), np.array([0, 0]))
    assert loss == approx(400.0) and np.all(np.isfinite(grad))


def test_focal_loss_by_hand():
    logits = np.array([[0.0, LN3]])  # p = (1/4, 3/4)
    y = np.array([1])
    # γ = 2, α_t = 1: (1 − 3/4)² · (−ln 3/4)
    loss, _ = focal_loss(logits, y)
    assert loss == approx(np.log(4 / 3) / 16)
    assert focal_loss(logits, y, alpha=0.25)[0] == approx(0.25 * np.log(4 / 3) / 16)
    assert focal_loss(logits, y, alpha=np.array([0.9, 0.2]))[0] == approx(0.2 * np.log(4 / 3) / 16)
    # γ = 0 without α is the cross-entropy, value and gradient
    z = np.random.default_rng(0).normal(size=(5, 3))
    t = np.array([0, 2, 1, 1, 0])
    fl, fl_grad = focal_loss(z, t, gamma=0.0)
    ce, ce_grad = softmax_cross_entropy(z, t)
    assert fl == approx(ce)
    np.testing.assert_allclose(fl_grad, ce_grad, rtol=1e-12, atol=1e-15)


def test_focal_loss_of_a_certain_prediction_is_finite():
    loss, grad = focal_loss(np.array([[60.0, -60.0]]), np.array([0]), gamma=0.5)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))


def test_binary_focal_loss_by_hand():
    z = np.array([LN3, LN3])  # p = 3/4
    loss, _ = binary_focal_loss(z, np.array([1, 0]))
    positive = 0.25 * (1 / 4) ** 2 * np.log(4 / 3)  # y = 1: α_t = α, p_t = 3/4
    negative = 0.75 * (3 / 4) ** 2 * np.log(4)  # y = 0: α_t = 1 − α, p_t = 1/4
    assert loss == approx((positive + negative) / 2)
    # γ = 0, α = 1/2 is half the binary cross-entropy
    bce, bce_grad = binary_cross_entropy(z, np.array([1, 0]))
    fl, fl_grad = binary_focal_loss(z, np.array([1, 0]), gamma=0.0, alpha=0.5)
    assert fl == approx(bce / 2)
    np.testing.assert_allclose(fl_grad, bce_grad / 2, rtol=1e-12)


def test_regression_losses_by_hand():
    pred = np.array([1.0, 2.0, 3.0])
    target = np.array([1.0, 0.0, 0.0])
    loss, grad = mse_loss(pred, target)
    assert loss == approx(13 / 3)
    np.testing.assert_allclose(grad, [0.0, 4 / 3, 2.0], rtol=1e-12)
    loss, grad = l1_loss(pred, target)
    assert loss == approx(5 / 3)
    np.testing.assert_allclose(grad, [0.0, 1 / 3, 1 / 3], rtol=1e-12)
    loss, grad = smooth_l1_loss(np.array([0.5, -2.0, 0.0]), np.zeros(3))
    assert loss == approx((0.125 + 1.5 + 0.0) / 3)
    np.testing.assert_allclose(grad, np.array([0.5, -1.0, 0.0]) / 3, rtol=1e-12)
    # torch's β: 0.5 d²/β inside |d| < β, |d| − β/2 outside
    loss, _ = smooth_l1_loss(np.array([0.1, 3.0]), np.zeros(2), beta=0.5)
    assert loss == approx((0.5 * 0.01 / 0.5 + 3.0 - 0.25) / 2)
    with pytest.raises(OptvizError, match="shape"):
        mse_loss(np.zeros(3), np.zeros(4))


def test_penalties_touch_only_weights():
    model = build_model("resnet", 3, 2, 2, 4, "bn", "prelu", dtype=np.float64)
    params, kinds = model.params, model.param_kinds
    weights = [k for k, kind in kinds.items() if kind == "weight"]
    assert set(weights) == {"block1.linear1.W", "block1.linear2.W", "block1.shortcut.W", "head.W"}
    pen, grads = l2_penalty(params, kinds, 0.1)
    assert set(grads) == set(weights)
    assert pen == approx(0.1 * sum(np.sum(params[k] ** 2) for k in weights))
    np.testing.assert_allclose(grads["head.W"], 0.2 * params["head.W"], rtol=1e-12)
    pen, grads = l1_penalty(params, kinds, 0.1)
    assert set(grads) == set(weights)
    assert pen == approx(0.1 * sum(np.sum(np.abs(params[k])) for k in weights))
    np.testing.assert_allclose(grads["head.W"], 0.1 * np.sign(params["head.W"]), rtol=1e-12)


def test_accuracy_and_names():
    assert accuracy(np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]]), np.array([0, 1, 1])) == approx(
        2 / 3
    )
    assert get_loss("focal") is focal_loss
    with pytest.raises(OptvizError, match="unknown loss 'hinge'"):
        get_loss("hinge")
