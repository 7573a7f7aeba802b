"""Datasets: digits, generated 2-D sets, CSV loading with its errors, split and standardization."""

import numpy as np
import pytest

from optviz.errors import OptvizError
from optviz.nn import (
    Standardizer,
    load_csv,
    load_dataset,
    load_digits,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    split_and_standardize,
    stratified_split,
)

GENERATORS = [make_moons, make_circles, make_spirals, make_xor, make_blobs]


def test_digits():
    d = load_digits()
    assert d.X.shape == (1797, 64) and d.y.shape == (1797,)
    assert d.n_classes == 10 and set(np.unique(d.y)) == set(range(10))
    assert d.X.min() == 0 and d.X.max() == 16
    assert np.bincount(d.y).min() >= 170  # each digit has 174..183 images
    assert load_dataset("digits").X.shape == (1797, 64)


@pytest.mark.parametrize("make", GENERATORS)
def test_generated_sets_are_seeded(make):
    a, b, c = make(n=101, seed=1), make(n=101, seed=1), make(n=101, seed=2)
    assert a.X.shape == (101, 2) and a.y.shape == (101,)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)
    assert a.n_classes == (3 if make is make_blobs else 2)
    smallest = 0.35 * 101 if make is make_xor else 101 // a.n_classes  # xor: random quadrants
    assert np.bincount(a.y).min() >= smallest


def test_generated_sets_without_noise_follow_their_shapes():
    moons = make_moons(n=50, noise=0.0)
    outer = moons.X[moons.y == 0]
    np.testing.assert_allclose(np.hypot(outer[:, 0], outer[:, 1]), 1.0, rtol=1e-12)
    circles = make_circles(n=40, noise=0.0, factor=0.3)
    radius = np.hypot(circles.X[:, 0], circles.X[:, 1])
    np.testing.assert_allclose(radius, np.where(circles.y == 0, 1.0, 0.3), rtol=1e-12)
    xor = make_xor(n=80, noise=0.0)
    np.testing.assert_array_equal(xor.y, (xor.X[:, 0] > 0) ^ (xor.X[:, 1] > 0))


def test_generated_sets_refuse_bad_arguments():
    with pytest.raises(OptvizError, match="number of samples"):
        make_moons(n=1)
    with pytest.raises(OptvizError, match="noise"):
        make_spirals(noise=-1)
    with pytest.raises(OptvizError, match="unknown dataset 'iris'"):
        load_dataset("iris")


def test_split_is_stratified_seeded_and_disjoint():
    d = load_digits()
    ids = np.arange(len(d.y))[:, None].astype(float)  # rows labelled by their index
    split = stratified_split(ids, d.y, 0.2, seed=3)
    n_c = np.bincount(d.y)
    val_c = np.bincount(split.y_val, minlength=10)
    train_c = np.bincount(split.y_train, minlength=10)
    assert np.all(np.abs(val_c - 0.2 * n_c) <= 1)  # class proportions within 1 sample
    assert np.all(np.abs(train_c - 0.8 * n_c) <= 1)
    all_ids = np.concatenate([split.X_train[:, 0], split.X_val[:, 0]])
    assert sorted(all_ids.astype(int)) == list(range(len(d.y)))
    np.testing.assert_array_equal(d.y[split.X_val[:, 0].astype(int)], split.y_val)
    again = stratified_split(ids, d.y, 0.2, seed=3)
    np.testing.assert_array_equal(again.X_val, split.X_val)
    assert not np.array_equal(stratified_split(ids, d.y, 0.2, seed=4).X_val, split.X_val)
    with pytest.raises(OptvizError, match="validation fraction"):
        stratified_split(ids, d.y, 1.0)


def test_standardization_uses_only_training_statistics():
    d = load_digits()
    raw = stratified_split(d.X, d.y, 0.2, seed=0)
    split, scaler = split_and_standardize(d, 0.2, seed=0)
    np.testing.assert_allclose(scaler.mean, raw.X_train.mean(0), rtol=1e-12)
    assert not np.allclose(scaler.mean, d.X.mean(0))
    std = raw.X_train.std(0)
    np.testing.assert_allclose(
        split.X_val, (raw.X_val - raw.X_train.mean(0)) / np.where(std > 0, std, 1), rtol=1e-12
    )
    varying = std > 0
    np.testing.assert_allclose(split.X_train.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(split.X_train.std(0)[varying], 1, rtol=1e-12)
    # digits has always-blank pixels: constant columns stay finite (they become 0)
    assert (~varying).any()
    assert np.all(np.isfinite(split.X_train)) and np.all(np.isfinite(split.X_val))
    np.testing.assert_array_equal(split.X_train[:, ~varying], 0)


def test_standardizer_of_a_constant_column():
    s = Standardizer.fit(np.array([[1.0, 5.0], [3.0, 5.0]]))
    np.testing.assert_array_equal(s.scale, [1.0, 1.0])
    np.testing.assert_array_equal(s.transform(np.array([[2.0, 6.0]])), [[0.0, 1.0]])


# -- CSV ---------------------------------------------------------------------------------
def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_with_text_labels(tmp_path):
    path = write(tmp_path, "a,b,species\n1,2.5,cat\n3,-1e2,dog\n0.5,0,cat\n")
    d = load_csv(path, target="species")
    np.testing.assert_array_equal(d.X, [[1, 2.5], [3, -100], [0.5, 0]])
    np.testing.assert_array_equal(d.y, [0, 1, 0])
    assert d.classes == ["cat", "dog"] and d.feature_names == ["a", "b"]


def test_csv_numeric_labels_sort_numerically_and_target_can_be_anywhere(tmp_path):
    path = write(tmp_path, "label,x\n10,1\n2,2\n1,3\n2,4\n")
    d = load_csv(path, target="label")
    assert d.classes == ["1", "2", "10"]
    np.testing.assert_array_equal(d.y, [2, 1, 0, 1])
    np.testing.assert_array_equal(d.X[:, 0], [1, 2, 3, 4])


def test_csv_default_target_is_the_last_column(tmp_path):
    d = load_csv(write(tmp_path, "x,y,t\n1,2,a\n3,4,b\n"))
    assert d.feature_names == ["x", "y"] and d.classes == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("x,y,t\n1,2,a\n3,,b\n", r"column 'y' has a missing value in row 2 \(line 3\)"),
        ("x,y,t\n1,2,a\n3,4,b\nfoo,5,a\n", r"column 'x' has a non-numeric value 'foo' in row 3"),
        ("x,y,t\n1,inf,a\n3,4,b\n", r"column 'y' .* 'inf' in row 1"),
        ("x,y,t\n1,2,a\n3,4\n", r"row 2 \(line 3\) has 2 fields, the header has 3"),
        ("x,y,t\n1,2,a\n3,4,\n", r"target column 't' is missing a value in row 2"),
        ("x,y,t\n1,2,a\n3,4,a\n", "single class"),
        ("", "empty"),
    ],
)
def test_csv_errors_name_column_and_row(tmp_path, text, match):
    with pytest.raises(OptvizError, match=match):
        load_csv(write(tmp_path, text), target="t" if text else None)


def test_csv_missing_target_names_the_columns(tmp_path):
    path = write(tmp_path, "x,y,t\n1,2,a\n3,4,b\n")
    with pytest.raises(OptvizError, match="no column 'label'; the columns are: x, y, t"):
        load_csv(path, target="label")


def test_csv_missing_file(tmp_path):
    with pytest.raises(OptvizError, match="no such file"):
        load_csv(tmp_path / "nope.csv", target="t")
