"""Hostile files on every file surface, generated with hypothesis.

For function files (random TOML structures and mutated bytes), CSV files (random
rows and bytes), run files (mutated members, metadata and bytes) and output paths
(random names over every kind of existing file): the only outcomes are a result or
an OptvizError of one printable line, within 2 s and a memory budget, with no
warning, and (for outputs) nothing changed on refusal. The slow tests run many
more examples.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import socket
import stat
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optviz.expr  # noqa: F401  (imported here, not inside the first timed example)
import optviz.objective  # noqa: F401
import optviz.optim  # noqa: F401
from optviz.errors import OptvizError
from optviz.io import write_text
from optviz.library import load_file
from optviz.nn.data import load_csv, split_and_standardize
from optviz.nn.runfile import load_run, save_run

FAST = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SLOW = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
CPU_SECONDS, WALL_SECONDS, MIB = 2.0, 10.0, 256  # wall time catches a blocked read


@contextlib.contextmanager
def budget(what: str):
    """Time, traced memory and no warnings; an OptvizError must be one printable line."""
    tracemalloc.start()
    start, cpu = time.perf_counter(), time.process_time()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                yield
            except OptvizError as exc:
                text = str(exc)
                assert text and "\n" not in text and "\r" not in text, text
                assert "\x1b" not in text and text.isprintable(), repr(text)
    finally:
        elapsed, peak = time.perf_counter() - start, tracemalloc.get_traced_memory()[1] / 2**20
        cpu = time.process_time() - cpu
        tracemalloc.stop()
    assert cpu < CPU_SECONDS and elapsed < WALL_SECONDS, f"{what}: {cpu:.1f} s CPU, {elapsed:.1f} s"
    assert peak < MIB, f"{what}: {peak:.0f} MiB"


# -- function files -------------------------------------------------------------------------
def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) \
            else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


KEYS = ["title", "expression", "variables", "description", "source", "domain", "start", "steps",
        "minima", "suggested", "samples", "point", "value", "lr", "adam", "parameters", "columns",
        "data", "batch_size", "noise", "beta1", "x", "", "\x1b[2J", "é"]
FORMULAS = ["x^2 + 3*y^2", "(w*u + b - t)^2", "x", "3", "sin(x)*y", "log(x)", "1/x + y",
            "x**1000", "__import__('os')", "x\x1b[31m", "w*u", "exp(exp(exp(x)))"]
scalars = st.one_of(
    st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(FORMULAS), st.text(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=6),
                            st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)),
    max_leaves=30,
)
points = st.lists(st.one_of(st.floats(-10, 10), st.floats(), st.integers(-5, 5), st.text(max_size=2)),
                  min_size=0, max_size=3)
plausible = st.fixed_dictionaries(
    {"expression": st.sampled_from(FORMULAS)},
    optional={
        "domain": st.lists(points, max_size=3), "start": points, "steps": scalars,
        "minima": st.lists(st.dictionaries(st.sampled_from(["point", "value", "x"]),
                                           st.one_of(points, scalars), max_size=3), max_size=3),
        "suggested": st.dictionaries(st.sampled_from(["adam", "gd", "minibatch", "nope"]),
                                     st.one_of(scalars, st.dictionaries(st.sampled_from(
                                         ["lr", "batch_size", "noise", "beta1", "bias_correction"]),
                                         scalars, max_size=3)), max_size=3),
        "title": scalars, "variables": st.lists(st.sampled_from(["x", "y", "z", "$"]), max_size=3),
    },
)
finite_sums = st.builds(
    lambda params, cols, rows, expr: {"samples": {"expression": expr, "parameters": params,
                                                  "columns": cols, "data": rows}},
    st.lists(st.sampled_from(["w", "b", "u", "$w", "pi", "x"]), max_size=3),
    st.lists(st.sampled_from(["u", "t", "w", "e"]), max_size=3),
    st.one_of(st.lists(st.lists(st.one_of(st.floats(-5, 5), scalars), max_size=3), max_size=4),
              st.sampled_from([[[1.0, 2.0]] * 5001, [[1.0, 2.0]] * 5000, [[1e300, -1e300]] * 3])),
    st.sampled_from(FORMULAS),
)
documents = st.one_of(st.dictionaries(st.sampled_from(KEYS), values, max_size=8), plausible, finite_sums)


def check_function_file(text: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.toml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
        with budget(f"function file {str(text)[:80]!r}"):
            obj = load_file(path)
            assert obj.dim >= 1 and len(obj.variables) == obj.dim
            for lo, hi in obj.domain or ():
                assert math.isfinite(lo) and math.isfinite(hi) and lo < hi
            assert all(math.isfinite(v) for v in obj.start or ())


def as_toml(doc: dict) -> str:
    return "\n".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in doc.items()) + "\n"


@FAST
@given(documents)
def test_function_files_from_random_structures(doc):
    check_function_file(as_toml(doc))


GOOD_FILE = (Path(__file__).resolve().parent.parent / "functions" / "rosenbrock.toml").read_bytes()


@FAST
@given(st.lists(st.tuples(st.integers(0, len(GOOD_FILE)), st.binary(max_size=4)), max_size=6))
def test_function_files_from_mutated_bytes(edits):
    data = bytearray(GOOD_FILE)
    for at, new in edits:
        data[at:at + len(new)] = new
    check_function_file(bytes(data))


@pytest.mark.slow
@SLOW
@given(st.one_of(documents.map(as_toml), st.binary(max_size=400)))
def test_function_files_many(text):
    check_function_file(text)


# -- CSV files -----------------------------------------------------------------------------
CELLS = ["1", "-2.5", "0", "1e308", "-1e308", "1e100", "nan", "inf", "", " 3 ", "a", "b", "1_000",
         '"', '"1,2"', "x\x1b[2Jy", "\x00", "é", "\u202e", "1" * 400, "0x10", "True"]
cells = st.one_of(st.sampled_from(CELLS), st.text(max_size=8), st.floats().map(repr))
tables = st.lists(st.lists(cells, min_size=0, max_size=5), min_size=0, max_size=12)


def check_csv(content: bytes, target: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "d.csv"
        path.write_bytes(content)
        with budget(f"CSV {content[:80]!r}"):
            data = load_csv(path, target)
            assert data.X.ndim == 2 and np.isfinite(data.X).all() and len(data.X) == len(data.y) >= 2
            assert 0 <= data.y.min() and data.y.max() < data.n_classes == len(set(data.classes)) >= 2
            assert all(name.isprintable() for name in data.classes + data.feature_names)
            split, _ = split_and_standardize(data, seed=0)
            assert all(np.isfinite(part).all() for part in split)


@FAST
@given(tables, st.sampled_from([",", ";", "\n", "\r\n"]), st.one_of(st.none(), st.sampled_from(CELLS)))
def test_csv_from_random_rows(rows, newline_or_sep, target):
    sep, end = (",", newline_or_sep) if newline_or_sep in ("\n", "\r\n") else (newline_or_sep, "\n")
    text = end.join(sep.join(row) for row in rows)
    check_csv(text.encode("utf-8", "surrogatepass"), target)


@FAST
@given(st.binary(max_size=300))
def test_csv_from_random_bytes(content):
    check_csv(content, None)


@pytest.mark.slow
@SLOW
@given(tables, st.binary(max_size=200))
def test_csv_many(rows, noise):
    text = "\n".join(",".join(row) for row in rows).encode("utf-8", "surrogatepass")
    check_csv(text, None)
    check_csv(text[: len(text) // 2] + noise + text[len(text) // 2:], None)


# -- run files ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def run_archive(tmp_path_factory, tiny_run) -> tuple[bytes, dict[str, np.ndarray]]:
    path = save_run(tmp_path_factory.mktemp("fuzz") / "run.npz", tiny_run)
    with np.load(path) as z:
        return path.read_bytes(), {k: z[k] for k in z.files}


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(),
              st.text(max_size=12)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner,
                                                                          max_size=4)),
    max_leaves=12,
)
def make_array(dtype: str, shape: tuple, fill) -> np.ndarray:
    if dtype == "O":
        return np.array([fill, None], dtype=object)
    with np.errstate(all="ignore"):
        return np.full(shape, fill).astype(dtype)


arrays = st.builds(
    make_array,
    st.sampled_from(["f4", "f8", ">f8", "i8", "u1", "c8", "b1", "U3", "O"]),
    st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple),
    st.sampled_from([0, 1, -1, 1e30, np.nan, np.inf, 7]),
)


def _meta_paths(meta, prefix=()):
    if isinstance(meta, dict):
        for k, v in meta.items():
            yield prefix + (k,)
            yield from _meta_paths(v, prefix + (k,))
    elif isinstance(meta, list):
        for i, v in enumerate(meta[:3]):
            yield prefix + (i,)
            yield from _meta_paths(v, prefix + (i,))


def check_run(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "run.npz"
        path.write_bytes(content)
        with budget("run file"):
            result = load_run(path)
            for run in result.runs:
                assert run.snapshots is None or (len(run.snapshots) <= 100
                                                 and np.isfinite(run.snapshots).all())


def mutate_and_check(run_archive, data) -> None:
    _, original = run_archive
    members = dict(original)
    meta = json.loads(str(members["meta"]))
    for _ in range(data.draw(st.integers(1, 3))):
        action = data.draw(st.sampled_from(["member", "meta", "drop", "add"]))
        if action == "member":
            members[data.draw(st.sampled_from(sorted(members)))] = data.draw(arrays)
        elif action == "meta":
            path = data.draw(st.sampled_from(list(_meta_paths(meta))))
            target = meta
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = data.draw(json_values)
        elif action == "drop":
            members.pop(data.draw(st.sampled_from(sorted(members))))
        else:
            members[data.draw(st.sampled_from(["evil", "run7/snapshots", "run0/final/x"]))] = data.draw(arrays)
    if "meta" in members and members["meta"].dtype.kind == "U":
        members["meta"] = np.array(json.dumps(meta))
    buf = io.BytesIO()
    np.savez_compressed(buf, **members)
    check_run(buf.getvalue())


@FAST
@given(data=st.data())
def test_run_files_with_mutated_members_and_metadata(run_archive, data):
    mutate_and_check(run_archive, data)


@FAST
@given(st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=8)), min_size=1, max_size=4))
def test_run_files_with_mutated_bytes(run_archive, edits):
    data = bytearray(run_archive[0])
    for where, new in edits:
        at = int(where * (len(data) - 1))
        data[at:at + len(new)] = new
    check_run(bytes(data))


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_run_files_many(run_archive, data):
    mutate_and_check(run_archive, data)


# -- output paths --------------------------------------------------------------------------
NAMES = st.one_of(
    st.sampled_from(["out.csv", "a b.csv", "~/home.csv", "é\u202e.csv", "x\x1b[2J.csv", "-", ".",
                     "sub/out.csv", "sub", "missing/out.csv", "a" * 250, "é" * 130, ".hidden",
                     "out.csv.part", "fifo", "null", "mem", "link", "dangling", "sock"]),
    st.text(st.characters(blacklist_characters="/\0", blacklist_categories=("Cs",)), min_size=1,
            max_size=30).filter(lambda s: s not in (".", "..")),
)
KINDS = ["none", "file", "file0600", "dir", "fifo", "null", "mem", "link", "dangling", "socket"]


def _make(path: Path, kind: str, keep: list) -> None:
    if kind == "file":
        path.write_text("old")
    elif kind == "file0600":
        path.write_text("old")
        path.chmod(0o600)
    elif kind == "dir":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind in ("null", "mem"):
        with contextlib.suppress(PermissionError):
            os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3 if kind == "null" else 1))
    elif kind == "link":
        (path.parent / "target.txt").write_text("old")
        path.symlink_to(path.parent / "target.txt")
    elif kind == "dangling":
        path.symlink_to(path.parent / "nowhere.txt")
    elif kind == "socket" and len(str(path)) < 100:
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(path))
        keep.append(s)


def _snapshot(folder: Path) -> dict:
    out = {}
    for p in sorted(folder.rglob("*")):
        st_ = os.lstat(p)
        content = p.read_bytes() if stat.S_ISREG(st_.st_mode) else None
        out[str(p.relative_to(folder))] = (stat.S_IFMT(st_.st_mode), stat.S_IMODE(st_.st_mode),
                                           st_.st_rdev, content)
    return out


def check_output(name: str, kind: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "sub").mkdir()
        home = os.environ.get("HOME")
        os.environ["HOME"] = str(root / "sub")
        keep: list = []
        try:
            target = root / name.replace("~/", "") if not name.startswith("~") else None
            if target is not None and target.parent.is_dir() and not os.path.lexists(target) \
                    and len(os.fsencode(target.name)) < 255:
                _make(target, kind, keep)
            given_path = name if name.startswith("~") else str(root / name)
            before = _snapshot(root)
            refused = False
            with budget(f"write {name!r} over {kind}"):
                try:
                    write_text(given_path, "new")
                except OptvizError:
                    refused = True
                    raise
            after = _snapshot(root)
            if refused:
                assert after == before, f"a refused write changed {name!r}"
            else:
                changed = {k for k in after if before.get(k) != after[k]} | set(before) - set(after)
                assert len(changed) <= 1, changed  # the one file written, nothing else
                for key in changed:
                    assert after[key][3] == b"new" and after[key][0] == stat.S_IFREG
                    if before.get(key) is not None:
                        assert after[key][1] == before[key][1], "mode changed"
        finally:
            for s in keep:
                s.close()
            if home is None:
                os.environ.pop("HOME", None)
            else:
                os.environ["HOME"] = home


@FAST
@given(NAMES, st.sampled_from(KINDS))
def test_output_paths(name, kind):
    check_output(name, kind)


@pytest.mark.slow
@SLOW
@given(NAMES, st.sampled_from(KINDS))
def test_output_paths_many(name, kind):
    check_output(name, kind)


def test_the_checks_see_results_and_refusals():
    """The checks are not vacuous: a good and a bad input of each kind."""
    with tempfile.TemporaryDirectory() as folder:
        good = Path(folder) / "f.toml"
        good.write_text(as_toml({"expression": "x^2 + y^2", "start": [1.0, 2.0]}))
        assert load_file(good).dim == 2
        good.write_text(as_toml({"expression": "x^2", "start": [math.nan]}))
        with pytest.raises(OptvizError):
            load_file(good)
