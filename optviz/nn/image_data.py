"""Images of the user's for the image models: a NumPy ``.npz`` with ``X`` and ``y``, or the
idx files of MNIST and Fashion-MNIST (``.gz`` or not).

Each becomes a ``Dataset`` of flat samples (N, C·H·W) in row-major (C, H, W) order with its
``image_shape``. Files are read within a size budget before anything is decoded: only
regular files, at most ``FILE_LIMIT`` bytes on disk and ``DATA_LIMIT`` bytes of decoded
arrays (a compressed member or a header that declares more is refused before it is
inflated or allocated); ``.npz`` arrays are read without pickle (object arrays refused).
The bytes come through :func:`optviz.io.read_user_bytes`. Every problem is one
OptvizError naming the file and what is wrong.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from optviz.errors import OptvizError, printable
from optviz.io import read_user_bytes, user_path
from optviz.nn.data import Dataset

MIB = 1 << 20
FILE_LIMIT = 256 * MIB
DATA_LIMIT = 1024 * MIB
MAX_CLASSES = 1000
MAX_ABS = 1e100  # larger values overflow the standardization's squares
# idx type codes: numpy dtype (big-endian) of each
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _gunzip(raw: bytes, path: Path) -> bytes:
    """The content of a gzip file, refused past ``DATA_LIMIT`` bytes before it is all inflated."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
            data = f.read(DATA_LIMIT + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise OptvizError(f"{printable(path)}: not a readable gzip file ({exc})") from None
    if len(data) > DATA_LIMIT:
        raise OptvizError(f"{printable(path)}: inflates to more than the {DATA_LIMIT:,} bytes optviz reads")
    return data


def read_idx(path: str | os.PathLike, what: str) -> np.ndarray:
    """The array of an idx file (MNIST's format; gzip-compressed or not).

    Layout: two zero bytes, a type code (0x08 unsigned byte, 0x09 signed byte, 0x0B
    int16, 0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions d, then d
    big-endian int32 sizes and the values, big-endian, in row-major order. The size of
    the values must be exactly what the header declares.
    """
    path = user_path(path)
    data = read_user_bytes(path, FILE_LIMIT, what)
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, path)
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in IDX_TYPES or data[3] == 0:
        raise OptvizError(f"{printable(path)}: not an idx file (it must start with 0, 0, a type code and the number of "
                          "dimensions, as MNIST's files do)")
    dtype, ndim = np.dtype(IDX_TYPES[data[2]]), data[3]
    head = 4 + 4 * ndim
    if len(data) < head:
        raise OptvizError(f"{printable(path)}: the idx header is cut short")
    shape = struct.unpack(f">{ndim}I", data[4:head])
    need = math.prod(shape) * dtype.itemsize
    if need != len(data) - head:
        raise OptvizError(f"{printable(path)}: the header declares {' × '.join(map(str, shape))} values "
                          f"({need:,} bytes), the file holds {len(data) - head:,} bytes of them")
    return np.frombuffer(data, dtype=dtype, offset=head).reshape(shape)


def _npz_members(data: bytes, path: Path) -> dict[str, zipfile.ZipInfo]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = {info.filename: info for info in archive.infolist()}
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise OptvizError(f"{printable(path)}: not a readable .npz archive ({exc})") from None
    missing = [k for k in ("X.npy", "y.npy") if k not in members]
    if missing:
        found = printable(", ".join(sorted(k.removesuffix(".npy") for k in members)) or "nothing")
        raise OptvizError(f"{printable(path)}: the .npz needs arrays X and y (np.savez(path, X=..., y=...)); it holds {found}")
    if sum(members[k].file_size for k in ("X.npy", "y.npy")) > DATA_LIMIT:
        raise OptvizError(f"{printable(path)}: X and y hold more than the {DATA_LIMIT:,} bytes optviz reads")
    return members


def _npz_array(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> np.ndarray:
    """One member, its .npy header checked against the member's size before the array is made."""
    name = info.filename.removesuffix(".npy")
    try:
        with archive.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version not in ((1, 0), (2, 0)):
                raise OptvizError(f"{printable(path)}: {name} is in .npy format {version[0]}.{version[1]}; "
                                  "save it with np.savez (format 1.0)")
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            shape, _, dtype = read_header(f)
            if dtype.hasobject or dtype.kind not in "biufU":
                raise OptvizError(f"{printable(path)}: {name} has dtype {dtype}; give numbers (or text labels for y)")
            if math.prod(shape) * dtype.itemsize > info.file_size:
                raise OptvizError(f"{printable(path)}: the header of {name} declares more values than the archive holds")
        with archive.open(info) as f:
            return np.lib.format.read_array(f, allow_pickle=False)
    except OptvizError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise OptvizError(f"{printable(path)}: cannot read {name} ({exc})") from None


def load_npz(path: str | os.PathLike) -> Dataset:
    """A ``.npz`` with ``X`` of shape (N, C, H, W) or (N, H, W) (one channel) and labels ``y`` (N,)."""
    path = user_path(path)
    data = read_user_bytes(path, FILE_LIMIT, ".npz file")
    members = _npz_members(data, path)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        X = _npz_array(archive, members["X.npy"], path)
        y = _npz_array(archive, members["y.npy"], path)
    return images_dataset(X, y, path, path.stem)


def load_idx(images: str | os.PathLike, labels: str | os.PathLike) -> Dataset:
    """MNIST-style idx files: ``images`` of shape (N, H, W) or (N, C, H, W), ``labels`` (N,)."""
    X = read_idx(images, "idx image file")
    y = read_idx(labels, "idx label file")
    images, labels = user_path(images), user_path(labels)
    return images_dataset(X, y, images, images.name.split(".")[0], labels_path=labels)


def _class_labels(y: np.ndarray, where: str) -> tuple[np.ndarray, list[str]]:
    """Labels 0..C−1 (in sorted order of the values) and the class names."""
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise OptvizError(f"{printable(where)}: the labels must be whole numbers or text")
        y = y.astype(np.int64)
    keys, index = np.unique(y, return_inverse=True)
    if len(keys) < 2:
        raise OptvizError(f"{printable(where)}: the labels have a single class ({keys[0] if len(keys) else 'none'}); need 2 or more")
    if len(keys) > MAX_CLASSES:
        raise OptvizError(f"{printable(where)}: {len(keys):,} classes; optviz trains at most {MAX_CLASSES}")
    return index.astype(np.int64).reshape(-1), [str(k) for k in keys]


def images_dataset(X: np.ndarray, y: np.ndarray, path: Path, name: str, labels_path: Path | None = None) -> Dataset:
    """Check images X ((N, H, W) or (N, C, H, W)) and labels y (N,) and make the flat Dataset."""
    where = str(labels_path or path)
    if X.ndim not in (3, 4) or X.dtype.kind not in "biuf":
        raise OptvizError(f"{printable(path)}: the images must be numbers of shape (N, H, W) or (N, C, H, W), "
                          f"got {X.dtype} of shape {X.shape}")
    if X.ndim == 3:
        X = X[:, None]
    if y.ndim != 1 or len(y) != len(X):
        raise OptvizError(f"{printable(where)}: {y.size} labels of shape {y.shape} for {len(X)} images; "
                          "give one label per image")
    if len(X) < 2 or min(X.shape[1:]) < 1:
        raise OptvizError(f"{printable(path)}: needs at least 2 images of at least 1×1 pixels, got shape {X.shape}")
    flat = X.reshape(len(X), -1).astype(np.float64)
    bad = ~np.isfinite(flat) | (np.abs(flat) > MAX_ABS)
    if bad.any():
        n, k = divmod(int(np.argmax(bad)), flat.shape[1])
        raise OptvizError(f"{printable(path)}: image {n} has the value {float(flat[n, k]):g} (values must be finite, "
                          f"at most {MAX_ABS:g} in size)")
    labels, classes = _class_labels(y, where)
    c, h, w = X.shape[1:]
    names = [f"c{k}_{i}_{j}" if c > 1 else f"pixel_{i}_{j}" for k in range(c) for i in range(h) for j in range(w)]
    return Dataset(X=flat, y=labels, classes=classes, feature_names=names, name=name, image_shape=(c, h, w))


def load_training_data(data: str, target: str | None = None, n: int | None = None, noise: float | None = None,
                       seed: int = 0, labels: str | None = None) -> Dataset:
    """``data`` as ``optviz train`` takes it: what ``optviz.nn.data.load_data`` reads (a data
    set's name or a CSV file), a ``.npz`` of images, or, with ``labels``, idx image and label
    files (MNIST's)."""
    from optviz.nn.data import DATASETS, load_data

    text = str(data)
    if labels is not None:
        if text in DATASETS:
            raise OptvizError(f"{{labels}} names the idx label file of the images in {{data}}; {text} has its own "
                              "labels", param="labels", names=("data",))
        return load_idx(text, labels)
    if text.lower().endswith(".npz"):
        return load_npz(text)
    if text.lower().endswith(("ubyte", "ubyte.gz", ".idx", ".idx.gz")):
        raise OptvizError(f"{{data}} {printable(text)} looks like an idx image file: give its labels with {{labels}}",
                          param="labels", names=("data",))
    return load_data(text, target, n, noise, seed)
