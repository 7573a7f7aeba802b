"""Image data of the user's: .npz files and MNIST's idx files (written here, small), the digits
as 1×8×8 images, per-channel standardization, and every bad file refused in one line."""

import gzip
import os
import struct
import zipfile

import numpy as np
import pytest

from optviz.errors import OptvizError
from optviz.nn import load_digits, split_and_standardize, train
from optviz.nn.data import Standardizer
from optviz.nn.image_data import DATA_LIMIT, load_idx, load_npz, load_training_data, read_idx


def idx_bytes(a: np.ndarray, code: int = 0x08) -> bytes:
    dtype = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    return bytes([0, 0, code, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.astype(dtype).tobytes()


@pytest.fixture
def mnist_like(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(30, 6, 7)).astype(np.uint8)
    y = (np.arange(30) % 3).astype(np.uint8)
    images, labels = tmp_path / "train-images-idx3-ubyte.gz", tmp_path / "train-labels-idx1-ubyte"
    images.write_bytes(gzip.compress(idx_bytes(X)))
    labels.write_bytes(idx_bytes(y))
    return X, y, images, labels


def test_idx_files_become_flat_images_in_row_major_order(mnist_like):
    X, y, images, labels = mnist_like
    data = load_training_data(str(images), labels=str(labels))
    assert data.image_shape == (1, 6, 7)
    assert data.X.shape == (30, 42) and data.X.dtype == np.float64
    assert np.array_equal(data.X.reshape(30, 6, 7), X)
    assert np.array_equal(data.y, y) and data.classes == ["0", "1", "2"]


@pytest.mark.parametrize("code", [0x09, 0x0B, 0x0C, 0x0D, 0x0E])
def test_every_idx_type_code_is_read_big_endian(tmp_path, code):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(np.float64)
    path = tmp_path / "a.idx"
    path.write_bytes(idx_bytes(a, code))
    assert np.array_equal(read_idx(path, "idx file"), a)


def test_npz_images_with_channels_and_text_labels(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(12, 2, 3, 4)).astype(np.float32)
    y = np.array(["cat", "dog", "emu"] * 4)
    np.savez(tmp_path / "pets.npz", X=X, y=y)
    data = load_training_data(str(tmp_path / "pets.npz"))
    assert data.image_shape == (2, 3, 4) and data.classes == ["cat", "dog", "emu"]
    assert np.array_equal(data.X, X.reshape(12, -1).astype(np.float64))
    np.savez_compressed(tmp_path / "gray.npz", X=X[:, 0], y=np.arange(12) % 2)
    assert load_npz(tmp_path / "gray.npz").image_shape == (1, 3, 4)


def test_digits_are_one_channel_8x8_images_standardized_per_channel():
    data = load_digits()
    assert data.image_shape == (1, 8, 8)
    split, scaler = split_and_standardize(data, 0.2, 0, per_channel=True)
    assert np.ptp(scaler.mean) == 0 and np.ptp(scaler.scale) == 0  # one mean and std for all pixels
    assert split.X_train.mean() == pytest.approx(0, abs=1e-12) and split.X_train.std() == pytest.approx(1)
    per_pixel = Standardizer.fit(split.X_train)
    assert np.ptp(per_pixel.scale) > 0


def test_image_models_train_on_idx_files(mnist_like):
    _, _, images, labels = mnist_like
    result = train(load_idx(images, labels), ["adam"], model={"arch": "lenet", "norm": "none"}, epochs=1,
                   batch_size=8)
    assert result.model_spec["image_shape"] == [1, 6, 7]
    assert len(result.runs[0].val_acc) == 1


def npz_with(tmp_path, name="bad.npz", **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


BAD_NPZ = [
    ({"X": np.zeros((4, 3, 3))}, "needs arrays X and y"),
    ({"X": np.zeros((4, 9)), "y": np.arange(4)}, r"shape \(N, H, W\) or \(N, C, H, W\)"),
    ({"X": np.zeros((4, 3, 3)), "y": np.arange(3)}, "3 labels of shape"),
    ({"X": np.zeros((4, 3, 3)), "y": np.zeros(4)}, "single class"),
    ({"X": np.full((4, 3, 3), np.nan), "y": np.arange(4)}, "image 0 has the value nan"),
    ({"X": np.full((4, 3, 3), 1e200), "y": np.arange(4)}, "at most 1e"),
    ({"X": np.zeros((4, 3, 3)), "y": np.array([0.5, 1, 2, 3])}, "whole numbers or text"),
    ({"X": np.zeros((4, 3, 3), dtype=complex), "y": np.arange(4)}, "dtype complex128"),
    ({"X": np.zeros((1, 3, 3)), "y": np.arange(1)}, "at least 2 images"),
    ({"X": np.zeros((2001, 1, 1)), "y": np.arange(2001)}, "2,001 classes"),
]


@pytest.mark.parametrize(("arrays", "match"), BAD_NPZ)
def test_bad_npz_contents_are_refused(tmp_path, arrays, match):
    with pytest.raises(OptvizError, match=match):
        load_npz(npz_with(tmp_path, **arrays))


def test_object_arrays_are_refused_without_unpickling(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, X=np.array([{"a": 1}] * 3, dtype=object), y=np.arange(3))
    with pytest.raises(OptvizError, match="X has dtype object"):
        load_npz(path)


def test_a_header_declaring_more_than_the_member_is_refused_before_allocation(tmp_path):
    path = tmp_path / "lying.npz"
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**6, 1000, 1000)}
    with zipfile.ZipFile(path, "w") as z:
        with z.open("X.npy", "w") as f:
            np.lib.format.write_array_header_1_0(f, header)
            f.write(b"\0" * 64)
        z.writestr("y.npy", b"")
    with pytest.raises(OptvizError, match="declares more values than the archive holds"):
        load_npz(path)


def test_members_declaring_more_than_the_budget_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("optviz.nn.image_data.DATA_LIMIT", 100)
    path = npz_with(tmp_path, X=np.zeros((4, 3, 3)), y=np.arange(4))
    with pytest.raises(OptvizError, match="more than the 100 bytes"):
        load_npz(path)
    assert DATA_LIMIT >= 1 << 30


@pytest.mark.parametrize(("content", "match"), [
    (b"", "not an idx file"),
    (b"PK\3\4 hello", "not an idx file"),
    (bytes([0, 0, 8, 3]) + struct.pack(">3I", 2, 2, 2) + b"\0" * 7, "declares 2 × 2 × 2 values"),
    (bytes([0, 0, 8, 3, 0, 0]), "header is cut short"),
    (bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 7]), "not an idx file"),
    (gzip.compress(b"x")[:-6], "not a readable gzip file"),
])
def test_bad_idx_files_are_refused(tmp_path, content, match):
    path = tmp_path / "f-ubyte"
    path.write_bytes(content)
    with pytest.raises(OptvizError, match=match):
        read_idx(path, "idx image file")


def test_idx_images_and_labels_must_match(tmp_path, mnist_like):
    _, _, images, _ = mnist_like
    short = tmp_path / "short-labels"
    short.write_bytes(idx_bytes(np.arange(5, dtype=np.uint8)))
    with pytest.raises(OptvizError, match="5 labels of shape .* for 30 images"):
        load_idx(images, short)


def test_a_gzip_bomb_is_refused_past_the_budget(tmp_path, monkeypatch):
    monkeypatch.setattr("optviz.nn.image_data.DATA_LIMIT", 1000)
    path = tmp_path / "bomb-ubyte.gz"
    path.write_bytes(gzip.compress(bytes(100_000)))
    with pytest.raises(OptvizError, match="inflates to more than the 1,000 bytes"):
        read_idx(path, "idx image file")


def test_files_that_are_not_regular_or_too_large_are_refused(tmp_path, monkeypatch):
    with pytest.raises(OptvizError, match="is a directory"):
        read_idx(tmp_path, "idx image file")
    with pytest.raises(OptvizError, match="no such file"):
        load_npz(tmp_path / "missing.npz")
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    with pytest.raises(OptvizError, match="read from a regular file only"):
        load_npz(fifo)
    monkeypatch.setattr("optviz.nn.image_data.FILE_LIMIT", 10)
    path = npz_with(tmp_path, X=np.zeros((4, 3, 3)), y=np.arange(4))
    with pytest.raises(OptvizError, match="more than the 10 bytes"):
        load_npz(path)


def test_labels_go_with_image_files_only(tmp_path):
    with pytest.raises(OptvizError, match="digits has its own labels"):
        load_training_data("digits", labels="x")
    with pytest.raises(OptvizError, match="looks like an idx image file"):
        load_training_data(str(tmp_path / "t10k-images-idx3-ubyte"))
    with pytest.raises(OptvizError, match="not a readable .npz archive"):
        (tmp_path / "x.npz").write_bytes(b"not a zip")
        load_training_data(str(tmp_path / "x.npz"))


def test_file_names_are_printed_safely(tmp_path):
    path = tmp_path / "evil\x1b[31m.npz"
    path.write_bytes(b"junk")
    with pytest.raises(OptvizError) as err:
        load_npz(path)
    assert "\x1b" not in str(err.value) and "\\x1b" in str(err.value)


def test_huge_training_batches_of_large_images_are_refused_before_training(tmp_path):
    np.savez(tmp_path / "big.npz", X=np.zeros((10, 3, 256, 256), dtype=np.uint8), y=np.arange(10) % 2)
    with pytest.raises(OptvizError, match="batch_size: a training batch of 64 images would need about"):
        train(load_npz(tmp_path / "big.npz"), ["adam"], model={"arch": "resnet-cnn"}, epochs=1)
