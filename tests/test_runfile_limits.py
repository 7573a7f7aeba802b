"""Run files are read within budgets checked before decompression; malformed contents
are one line; nothing is unpickled."""

from __future__ import annotations

import io
import json
import os
import pickle
import stat
import struct
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from optviz.errors import OptvizError
from optviz.nn.runarchive import MAX_SNAPSHOTS
from optviz.nn.runfile import load_run, save_run


@pytest.fixture(scope="module")
def saved(tmp_path_factory, tiny_run) -> Path:
    return save_run(tmp_path_factory.mktemp("run") / "good.npz", tiny_run)


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert text and "\n" not in text and "Traceback" not in text, text
    return text


def refused(path: Path, *fragments: str, seconds: float = 2.0, mib: float = 64.0) -> str:
    """load_run refuses ``path`` with one line holding ``fragments``, in time and memory."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(OptvizError) as exc:
            load_run(path)
        elapsed, peak = time.perf_counter() - start, tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    line = one_line(exc)
    assert path.name[:20] in line, line
    for fragment in fragments:
        assert fragment in line, line
    assert elapsed < seconds and peak < mib, (elapsed, peak)
    return line


def arrays_of(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    return arrays, json.loads(str(arrays["meta"]))


def rewrite(saved: Path, dst: Path, change=None, *, meta_text: str | None = None, **kwargs) -> Path:
    arrays, meta = arrays_of(saved)
    if change is not None:
        change(arrays, meta)
    arrays["meta"] = np.array(meta_text if meta_text is not None else json.dumps(meta))
    with open(dst, "wb") as f:
        np.savez_compressed(f, **arrays, **kwargs)
    return dst


# -- archives that would inflate --------------------------------------------------------------
def _zeros_deflated(header: bytes, blocks: int, block: int = 16 << 20) -> bytes:
    """A raw deflate stream of ``header`` then blocks × block zero bytes, made without
    compressing them all: after a full flush the compressor starts afresh, so one
    flushed block of zeros is repeated."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(header) + c.flush(zlib.Z_FULL_FLUSH)
    zeros = c.compress(bytes(block)) + c.flush(zlib.Z_FULL_FLUSH)
    return first + zeros * blocks + c.flush(zlib.Z_FINISH)


def _zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip of (name, deflated data, crc, size) built by hand (sizes as declared)."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, data, crc, size in members:
        offset = out.tell()
        raw = name.encode()
        out.write(struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data), size,
                              len(raw), 0) + raw + data)
        central.write(struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(data),
                                  size, len(raw), 0, 0, 0, 0, 0, offset) + raw)
    cd = central.getvalue()
    eocd = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(members), len(members), len(cd), out.tell(), 0)
    return out.getvalue() + cd + eocd


def _npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _small(name: str, array: np.ndarray) -> tuple[str, bytes, int, int]:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array)
    raw = buf.getvalue()
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return name, c.compress(raw) + c.flush(), zlib.crc32(raw), len(raw)


def test_a_small_file_that_inflates_to_4_gib_is_refused_before_decompression(tmp_path, saved):
    arrays, _ = arrays_of(saved)
    members = [_small("format.npy", arrays["format"]), _small("meta.npy", arrays["meta"])]
    gib = 1 << 30
    for name in ("split/X_train", "split/X_val", "initial/a", "initial/b"):  # 4 × 1 GiB of float64 zeros
        header = _npy_header((gib // 8,))
        members.append((f"{name}.npy", _zeros_deflated(header, 64), 0, len(header) + gib))
    bomb = tmp_path / "bomb.npz"
    bomb.write_bytes(_zip(members))
    assert bomb.stat().st_size < 5 << 20
    refused(bomb, "would take 4 GiB once decompressed", "at most 512 MiB")


def test_an_unknown_member_is_refused_without_reading_it(tmp_path, saved):
    arrays, _ = arrays_of(saved)
    header = _npy_header(((1 << 30) // 8,))
    members = [_small("format.npy", arrays["format"]), _small("meta.npy", arrays["meta"]),
               ("evil.npy", _zeros_deflated(header, 8, 1 << 20), 0, len(header) + (8 << 20))]
    path = tmp_path / "unknown.npz"
    path.write_bytes(_zip(members))
    refused(path, "holds a member optviz does not write ('evil.npy')")


def test_a_header_that_claims_more_than_its_member_is_refused(tmp_path, saved):
    arrays, _ = arrays_of(saved)
    raw = _npy_header((10**12,)) + bytes(80)  # a header declaring 10^12 values over 80 bytes
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    members = [_small("format.npy", arrays["format"]), _small("meta.npy", arrays["meta"]),
               ("split/X_train.npy", c.compress(raw) + c.flush(), zlib.crc32(raw), len(raw))]
    path = tmp_path / "lie.npz"
    path.write_bytes(_zip(members))
    refused(path, "declares the shape (1000000000000,), which does not fit its size")


def test_a_directory_of_too_many_members_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "many.npz"
    path.write_bytes(b"PK\x03\x04" + bytes(100) + struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 65535, 65535,
                                                              10_000_000, 0, 0))
    refused(path, "lists 65535 members")


# -- snapshots ---------------------------------------------------------------------------
def _snapshots(count: int):
    def change(arrays, meta):
        snaps = arrays["run0/snapshots"]
        arrays["run0/snapshots"] = np.resize(snaps, (count, snaps.shape[1])).astype(snaps.dtype)
        arrays["run0/snapshot_steps"] = np.arange(count, dtype=np.int64)

    return change


def test_20000_snapshots_are_refused_before_they_are_read(tmp_path, saved):
    refused(rewrite(saved, tmp_path / "many.npz", _snapshots(20_000)), "20000 weight snapshots",
            f"at most {MAX_SNAPSHOTS}")


def test_the_snapshot_limit_is_exact(tmp_path, saved):
    refused(rewrite(saved, tmp_path / "101.npz", _snapshots(MAX_SNAPSHOTS + 1)), "101 weight snapshots")
    loaded = load_run(rewrite(saved, tmp_path / "100.npz", _snapshots(MAX_SNAPSHOTS)))
    assert loaded.runs[0].snapshots.shape[0] == MAX_SNAPSHOTS


def test_save_run_refuses_what_load_run_would_refuse(tmp_path, tiny_run):
    import copy

    result = copy.copy(tiny_run)
    run = copy.copy(result.runs[0])
    run.snapshots = np.zeros((MAX_SNAPSHOTS + 1, run.snapshots.shape[1]), np.float32)
    result.runs = [run]
    with pytest.raises(OptvizError) as exc:
        save_run(tmp_path / "r.npz", result)
    assert "at most 100 weight snapshots" in one_line(exc)
    assert not any(tmp_path.iterdir())


# -- malformed contents --------------------------------------------------------------------
def _set(path: list, value):
    def change(arrays, meta):
        target = meta
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _array(name: str, value):
    def change(arrays, meta):
        arrays[name] = value(arrays[name]) if callable(value) else value

    return change


MALFORMED = [
    ("string-snapshots", _array("run0/snapshots", lambda a: a.astype(str)), ["holds <U", "real numbers"]),
    ("complex-snapshots", _array("run0/snapshots", lambda a: a.astype(np.complex64)), ["complex64"]),
    ("complex-weights", _array("initial/head.W", lambda a: a.astype(np.complex128)), ["complex128"]),
    ("bool-labels", _array("split/y_train", lambda a: a > 0), ["bool"]),
    ("1d-snapshots", _array("run0/snapshots", lambda a: a.ravel()), ["2-D"]),
    ("wrong-width-snapshots", _array("run0/snapshots", lambda a: a[:, :-1]), ["do not fit"]),
    ("steps-not-increasing", _array("run0/snapshot_steps", lambda a: a[::-1].copy()), ["not increasing"]),
    ("X-1d", _array("split/X_train", lambda a: a.ravel()), ["training data do not fit"]),
    ("X-nan", _array("split/X_val", lambda a: np.full_like(a, np.nan)), ["non-finite"]),
    ("labels-out-of-range", _array("split/y_val", lambda a: a + 100), ["labels are not classes"]),
    ("settings-text", _set(["settings"], "abc"), ["'settings' in its metadata is not a table"]),
    ("runs-text", _set(["runs"], "abc"), ["'runs' in its metadata must be a non-empty list"]),
    ("run-not-table", _set(["runs", 0], [1, 2]), ["'runs[0]' in its metadata is not a table"]),
    ("nan-steps-per-epoch", _set(["settings", "steps_per_epoch"], float("nan")), ["steps_per_epoch"]),
    ("width-nan", _set(["model_spec", "width"], float("nan")), ["'model_spec.width'", "whole number"]),
    ("in-dim-half", _set(["model_spec", "in_dim"], 2.5), ["'model_spec.in_dim'"]),
    ("width-bool", _set(["model_spec", "width"], True), ["'model_spec.width'"]),
    ("spec-unknown", _set(["model_spec", "heads"], 8), ["unknown model setting 'heads'"]),
    ("unknown-loss", _set(["settings", "loss"], "hinge"), ["'settings.loss'", "cross_entropy"]),
    ("n-classes-text", _set(["data_info", "n_classes"], "ten"), ["'data_info.n_classes'"]),
    ("losses-text", _set(["runs", 0, "train_loss"], ["a", "b"]), ["'runs[0].train_loss'", "numbers"]),
    ("hyper-nested", _set(["runs", 0, "hyperparameters"], {"lr": {"a": 1}}), ["hyperparameters"]),
    ("label-escape", _set(["runs", 0, "label"], "adam\x1b[2J"), ["'runs[0].label'", "printable"]),
    ("label-table", _set(["runs", 0, "label"], {"a": 1}), ["'runs[0].label'"]),
    ("version-text", _set(["version"], "abc"), ["format version is not a whole number"]),
    ("newer", _set(["version"], 99), ["newer optviz"]),
    ("names-missing", _set(["runs", 0, "final_names"], ["nope"]), ["missing 'run0/final/nope'"]),
    ("names-not-list", _set(["initial_names"], 5), ["'initial_names'", "list of names"]),
]


@pytest.mark.parametrize("kind, change, fragments", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_contents_are_one_line(tmp_path, saved, kind, change, fragments):
    line = refused(rewrite(saved, tmp_path / f"{kind}.npz", change), *fragments)
    assert "\x1b" not in line


@pytest.mark.parametrize("text, fragment", [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("{not json", "not valid JSON"),
    ("[1, 2]", "metadata is not a table"),
], ids=["deep", "broken", "list"])
def test_bad_metadata_text(tmp_path, saved, text, fragment):
    refused(rewrite(saved, tmp_path / "meta.npz", meta_text=text), fragment)


def test_object_arrays_are_never_unpickled(tmp_path, saved):
    arrays, meta = arrays_of(saved)
    arrays["split/X_train"] = np.array([{"a": 1}, None], dtype=object)
    path = tmp_path / "objects.npz"
    np.savez(path, **arrays)
    refused(path, "holds object values")


@pytest.mark.parametrize("content, fragment", [
    (pickle.dumps({"a": np.arange(3)}), "a Python pickle, which optviz never loads"),
    (b"hello, this is text\n", "not a zip (.npz) archive"),
    (b"", "the file is empty"),
], ids=["pickle", "text", "empty"])
def test_files_that_are_not_archives_say_what_they_are(tmp_path, content, fragment):
    path = tmp_path / "x.npz"
    path.write_bytes(content)
    line = refused(path, fragment)
    assert "pickled" not in line or "pickle" in fragment


def test_a_single_npy_array_is_named(tmp_path):
    path = tmp_path / "x.npz"
    with open(path, "wb") as f:
        np.save(f, np.arange(3))
    refused(path, "a single .npy array")


def test_special_files_are_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "fifo.npz")
    try:
        os.mknod(tmp_path / "zero.npz", stat.S_IFCHR | 0o666, os.makedev(1, 5))
        kinds = [("zero.npz", "character device")]
    except PermissionError:
        kinds = []
    for name, word in [("fifo.npz", "pipe"), *kinds]:
        refused(tmp_path / name, word, seconds=1)


def test_a_round_trip_is_exact_and_big_endian_files_are_read(tmp_path, saved, tiny_run):
    loaded = load_run(saved)
    for a, b in zip(tiny_run.runs, loaded.runs):
        assert np.array_equal(a.snapshots, b.snapshots) and a.snapshots.dtype == b.snapshots.dtype
        assert a.train_loss == b.train_loss and a.hyperparameters == b.hyperparameters
    assert np.array_equal(loaded.split.y_train, tiny_run.split.y_train)
    swapped = rewrite(saved, tmp_path / "be.npz", _array("run0/snapshots", lambda a: a.astype(">f4")))
    assert np.array_equal(load_run(swapped).runs[0].snapshots, tiny_run.runs[0].snapshots)


def test_a_zip_of_one_member_twice_is_refused(tmp_path, saved):
    path = tmp_path / "twice.npz"
    with zipfile.ZipFile(saved) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Duplicate name"
            dst.writestr("meta.npy", src.read("meta.npy"))
    refused(path, "lists the member 'meta' twice")


def test_save_run_refuses_a_run_over_the_size_budget(tmp_path, tiny_run, monkeypatch):
    from optviz.nn import runarchive

    monkeypatch.setattr(runarchive, "MAX_TOTAL_BYTES", 10_000)
    with pytest.raises(OptvizError) as exc:
        save_run(tmp_path / "r.npz", tiny_run)
    assert "a run file holds at most 9.77 KiB" in one_line(exc) and not any(tmp_path.iterdir())
