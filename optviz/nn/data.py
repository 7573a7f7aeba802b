"""Classification data for ``train``: the digits set, generated 2-D sets, a user's CSV.

Every dataset is a ``Dataset`` (X float64 of shape (n, d), y int64 labels 0..C−1,
the original class names, the feature names). ``split_and_standardize`` makes a
seeded stratified train/validation split and standardizes both parts with the
training part's mean and standard deviation only.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from optviz.errors import OptvizError

DIGITS_FILE = "digits.csv.gz"


@dataclass(frozen=True)
class Dataset:
    """Features X (n, d) float64, labels y (n,) int64 in 0..C−1, ``classes[k]`` the name of label k.

    ``image_shape`` (C, H, W) for images: each row of X is one image's C·H·W values in
    row-major order (the image models read them back as images); None for other data.
    """

    X: np.ndarray
    y: np.ndarray
    classes: list[str] = field(default_factory=list)
    feature_names: list[str] = field(default_factory=list)
    name: str = ""
    image_shape: tuple[int, int, int] | None = None

    @property
    def n_classes(self) -> int:
        return len(self.classes)


class Split(NamedTuple):
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray


# -- the UCI optical digits ---------------------------------------------------------
def _digits_bytes() -> bytes:
    try:
        from importlib.resources import files

        return files("optviz.nn").joinpath("data", DIGITS_FILE).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError, TypeError):
        return (Path(__file__).parent / "data" / DIGITS_FILE).read_bytes()


def load_digits() -> Dataset:
    """The UCI optical-recognition digits (scikit-learn's copy, CC BY 4.0).

    1797 images of 8×8 pixels with values 0..16, flattened to 64 features, and the
    digit 0..9 as label (10 classes).
    """
    table = np.loadtxt(io.StringIO(gzip.decompress(_digits_bytes()).decode("ascii")), delimiter=",")
    return Dataset(
        X=table[:, :64].astype(np.float64),
        y=table[:, 64].astype(np.int64),
        classes=[str(k) for k in range(10)],
        feature_names=[f"pixel_{r}_{c}" for r in range(8) for c in range(8)],
        name="digits",
        image_shape=(1, 8, 8),
    )


# -- generated 2-D sets ------------------------------------------------------------
def _finish(
    X: np.ndarray, y: np.ndarray, rng: np.random.Generator, noise: float, name: str
) -> Dataset:
    X = X + rng.normal(0.0, noise, size=X.shape) if noise > 0 else X
    order = rng.permutation(len(y))
    n_classes = int(y.max()) + 1 if len(y) else 0
    return Dataset(
        X=X[order].astype(np.float64),
        y=y[order].astype(np.int64),
        classes=[str(k) for k in range(n_classes)],
        feature_names=["x1", "x2"],
        name=name,
    )


def _check(n: int, noise: float, min_n: int = 2) -> None:
    if int(n) != n or n < min_n:
        raise OptvizError(f"number of samples must be an integer ≥ {min_n}, got {n}")
    if not noise >= 0:
        raise OptvizError(f"{{noise}} must be ≥ 0, got {noise}", param="noise")


def _halves(n: int) -> tuple[int, int]:
    return n // 2, n - n // 2


def make_moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two interleaving half circles: (cos t, sin t) and (1 − cos t, 1/2 − sin t), t ∈ [0, π]."""
    _check(n, noise)
    rng = np.random.default_rng(seed)
    n0, n1 = _halves(n)
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    X = np.concatenate([np.c_[np.cos(t0), np.sin(t0)], np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]])
    y = np.r_[np.zeros(n0), np.ones(n1)]
    return _finish(X, y, rng, noise, "moons")


def make_circles(n: int = 200, noise: float = 0.05, seed: int = 0, factor: float = 0.5) -> Dataset:
    """Two concentric circles, radius 1 (class 0) and ``factor`` (class 1)."""
    _check(n, noise)
    if not 0 < factor < 1:
        raise OptvizError(f"circles factor must be in (0, 1), got {factor}")
    rng = np.random.default_rng(seed)
    n0, n1 = _halves(n)
    t0 = np.linspace(0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0, 2 * np.pi, n1, endpoint=False)
    X = np.concatenate([np.c_[np.cos(t0), np.sin(t0)], factor * np.c_[np.cos(t1), np.sin(t1)]])
    y = np.r_[np.zeros(n0), np.ones(n1)]
    return _finish(X, y, rng, noise, "circles")


def make_spirals(n: int = 200, noise: float = 0.05, seed: int = 0, turns: float = 1.5) -> Dataset:
    """Two interleaved spirals: r = s, angle = 2π·turns·s + kπ for class k, s ∈ [0.05, 1]."""
    _check(n, noise)
    rng = np.random.default_rng(seed)
    parts, labels = [], []
    for k, m in enumerate(_halves(n)):
        s = np.linspace(0.05, 1.0, m)
        angle = 2 * np.pi * turns * s + k * np.pi
        parts.append(np.c_[s * np.cos(angle), s * np.sin(angle)])
        labels.append(np.full(m, k))
    return _finish(np.concatenate(parts), np.concatenate(labels), rng, noise, "spirals")


def make_xor(n: int = 200, noise: float = 0.05, seed: int = 0) -> Dataset:
    """Points uniform in [−1, 1]², label = [x₁ > 0] xor [x₂ > 0] (taken before the noise)."""
    _check(n, noise)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64)
    return _finish(X, y, rng, noise, "xor")


def make_blobs(n: int = 200, noise: float = 0.5, seed: int = 0, centers: int = 3) -> Dataset:
    """``centers`` Gaussian blobs of standard deviation ``noise`` centred on a circle of radius 2."""
    _check(n, noise, min_n=centers)
    if int(centers) != centers or centers < 2:
        raise OptvizError(f"blobs need an integer number of centers ≥ 2, got {centers}")
    rng = np.random.default_rng(seed)
    sizes = [n // centers + (k < n % centers) for k in range(centers)]
    angles = 2 * np.pi * np.arange(centers) / centers
    means = 2 * np.c_[np.cos(angles), np.sin(angles)]
    X = np.concatenate([np.repeat(means[k : k + 1], m, axis=0) for k, m in enumerate(sizes)])
    y = np.concatenate([np.full(m, k) for k, m in enumerate(sizes)])
    return _finish(X, y, rng, noise, "blobs")


GENERATED = {
    "moons": make_moons,
    "circles": make_circles,
    "spirals": make_spirals,
    "xor": make_xor,
    "blobs": make_blobs,
}
DATASETS = ("digits", *GENERATED)


def load_dataset(
    name: str, n: int | None = None, noise: float | None = None, seed: int = 0
) -> Dataset:
    """A named dataset: "digits" (n and noise ignored) or a generated 2-D set."""
    if name == "digits":
        return load_digits()
    if name not in GENERATED:
        raise OptvizError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    kwargs: dict = {"seed": seed}
    if n is not None:
        kwargs["n"] = n
    if noise is not None:
        kwargs["noise"] = noise
    return GENERATED[name](**kwargs)


def load_data(data: str, target: str | None = None, n: int | None = None, noise: float | None = None,
              seed: int = 0) -> Dataset:
    """``data`` as ``optviz train`` takes it: a dataset name (see :data:`DATASETS`) or the path
    of a CSV file (``target`` names its label column). A setting that does not apply to
    the data (``target`` with a built-in set, ``n``/``noise`` with the digits or a CSV
    file) is an error, not silently ignored."""
    if data in DATASETS:
        if target is not None:
            raise OptvizError(f"{{target}} names the label column of a CSV file; {data} has its own labels",
                              param="target")
        for name, given in (("samples", n), ("noise", noise)):
            if data not in GENERATED and given is not None:
                raise OptvizError(f"{{{name}}} shapes a generated 2-D set; {data} is a fixed data set",
                                  param=name)
        return load_dataset(data, n=n, noise=noise, seed=seed)
    if data.lower().endswith(".csv") or "/" in data or data.startswith("~") or Path(data).suffix:
        for name, given in (("samples", n), ("noise", noise)):
            if given is not None:
                raise OptvizError(f"{{{name}}} shapes a generated 2-D set, not the rows of a CSV file",
                                  param=name)
        try:
            return load_csv(data, target)
        except OptvizError as error:  # a file's fault is the data argument's
            error.param = error.param or "data"
            raise
    raise OptvizError(f"{{data}} {data!r}: choose one of {', '.join(DATASETS)} or give a CSV file", param="data")


# -- a user's CSV -----------------------------------------------------------------
def load_csv(path: str | Path, target: str | None = None) -> Dataset:
    """A CSV file with a header row: numeric feature columns and a ``target`` column.

    ``target`` names the label column (default: the last column). Labels may be
    numbers or text; they are mapped to 0..C−1 in sorted order (numerically when all
    are numbers) and ``classes`` keeps the original values. Rows are numbered from 1
    after the header (so data row 1 is line 2 of the file). A missing, non-numeric,
    infinite or too large feature value, a missing label, a row with the wrong number
    of fields, a target column that is not in the header, and a file beyond the
    limits of :mod:`optviz.nn.csvdata` (size, columns, classes, field length, text
    encoding, special files) raise OptvizError saying where, in one line.
    """
    from optviz.nn.csvdata import read_csv

    return Dataset(*read_csv(path, target))


# -- split and standardization -------------------------------------------------------
def stratified_split(
    X: np.ndarray, y: np.ndarray, val_fraction: float = 0.2, seed: int = 0
) -> Split:
    """Seeded stratified split: each class c of n_c samples sends round(val_fraction·n_c) to validation.

    Class proportions in each part thus match those of the whole set within one sample.
    Both parts are shuffled.
    """
    if not 0 < val_fraction < 1:
        raise OptvizError(f"validation fraction must be in (0, 1), got {val_fraction}")
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    train_idx, val_idx = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = int(round(val_fraction * len(idx)))
        val_idx.append(idx[:k])
        train_idx.append(idx[k:])
    tr = rng.permutation(np.concatenate(train_idx))
    va = rng.permutation(np.concatenate(val_idx))
    if len(va) == 0 or len(tr) == 0:
        raise OptvizError(
            f"the split of {len(y)} samples with validation fraction {val_fraction} leaves one part empty"
        )
    return Split(X[tr], y[tr], X[va], y[va])


@dataclass(frozen=True)
class Standardizer:
    """x ↦ (x − mean)/scale with mean and std of the training data; scale = 1 where std = 0.

    Per feature by default; per channel for images (``fit(X, image_shape)``: one mean and
    one std over all pixels of a channel, as image models expect: a convolution applies
    the same weights at every pixel, so every pixel should be on the same scale).
    """

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray, image_shape: tuple[int, int, int] | None = None) -> Standardizer:
        if image_shape is None:
            mean, std = X.mean(axis=0), X.std(axis=0)
        else:
            c, h, w = image_shape
            pixels = X.reshape(len(X), c, h * w)
            mean = np.repeat(pixels.mean(axis=(0, 2)), h * w)
            std = np.repeat(pixels.std(axis=(0, 2)), h * w)
        # a constant column stays finite (it becomes 0) instead of 0/0
        return cls(mean=mean, scale=np.where(std > 0, std, 1.0))

    def transform(self, X: np.ndarray) -> np.ndarray:
        return (X - self.mean) / self.scale


def split_and_standardize(
    data: Dataset, val_fraction: float = 0.2, seed: int = 0, per_channel: bool = False
) -> tuple[Split, Standardizer]:
    """Stratified split, then standardization fitted on the training part only (per channel
    of the images with ``per_channel``, for the image models; else per feature)."""
    split = stratified_split(data.X, data.y, val_fraction, seed)
    scaler = Standardizer.fit(split.X_train, data.image_shape if per_channel else None)
    return (
        Split(
            scaler.transform(split.X_train),
            split.y_train,
            scaler.transform(split.X_val),
            split.y_val,
        ),
        scaler,
    )
