"""CSV data: every hostile file is one line saying where, read within a budget,
never blocking, never warning."""

from __future__ import annotations

import os
import stat
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from optviz.errors import OptvizError
from optviz.nn.csvdata import MAX_CLASSES, MAX_COLUMNS, MAX_CSV_BYTES
from optviz.nn.data import load_csv, split_and_standardize


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert text and "\n" not in text and "Traceback" not in text, text
    return text


def csv_file(tmp_path: Path, content: str | bytes, name: str = "d.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def refused(path: Path, *fragments: str, target: str | None = None) -> str:
    start = time.perf_counter()
    with pytest.raises(OptvizError) as exc:
        load_csv(path, target)
    line = one_line(exc)
    for fragment in fragments:
        assert fragment in line, line
    assert "\x1b" not in line and time.perf_counter() - start < 2
    return line


def test_a_field_over_the_csv_limit(tmp_path):
    path = csv_file(tmp_path, "a,t\n1,x\n" + "2," + "y" * 131_073 + "\n")
    refused(path, "line 3", "longer than 131,072 characters")


def test_a_nul_byte(tmp_path):
    refused(csv_file(tmp_path, b"a,t\n1,x\n2\x00,y\n"), "NUL byte on line 3")


def test_a_huge_header(tmp_path):
    header = ",".join(f"c{i}" for i in range(MAX_COLUMNS + 1))
    refused(csv_file(tmp_path, header + "\n"), f"{MAX_COLUMNS + 1} columns", f"at most {MAX_COLUMNS}")
    refused(csv_file(tmp_path, "a" * 300 + ",t\n1,x\n2,y\n"), "column 1", "300 characters")


@pytest.mark.parametrize("value", ["1e308", "-1e308", "1.7976931348623157e308", "1e101"])
def test_features_near_the_float_limit_are_refused_without_a_warning(tmp_path, value):
    path = csv_file(tmp_path, f"a,b,t\n1,{value},x\n2,3,y\n4,5,x\n")
    refused(path, "column 'b'", "beyond the ±1e+100", "row 1 (line 2)")


def test_the_largest_accepted_features_standardize_without_a_warning(tmp_path):
    rows = "".join(f"{s}1e100,{s}1e-300,{c}\n" for s, c in [("", "x"), ("-", "y")] * 20)
    data = load_csv(csv_file(tmp_path, "a,b,t\n" + rows))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        split, _ = split_and_standardize(data, seed=0)
    assert all(np.isfinite(part).all() for part in split)
    assert np.allclose(np.abs(split.X_train[:, 0]), 1)


def test_bytes_that_are_not_utf8(tmp_path):
    refused(csv_file(tmp_path, b"a,t\n1,x\n2,caf\xe9\n"), "not UTF-8 text (byte 0xe9 on line 3)")
    refused(csv_file(tmp_path, "a,t\n1,x\n".encode("utf-16")), "UTF-16")
    assert load_csv(csv_file(tmp_path, "\ufeffa,t\n1,x\n2,y\n".encode())).feature_names == ["a"]


def test_special_files_are_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "fifo.csv")
    (tmp_path / "dir.csv").mkdir()
    kinds = [("fifo.csv", "pipe"), ("dir.csv", "directory")]
    try:
        os.mknod(tmp_path / "zero.csv", stat.S_IFCHR | 0o666, os.makedev(1, 5))
        kinds.append(("zero.csv", "character device"))
    except PermissionError:
        pass
    for name, word in kinds:
        refused(tmp_path / name, word)


def test_a_file_over_the_budget_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "wb") as f:
        f.truncate(MAX_CSV_BYTES + 1)
    refused(path, "more than the", "16 MiB")


def test_too_many_classes(tmp_path):
    rows = "".join(f"{i},{i * 0.5}\n" for i in range(MAX_CLASSES + 1))
    refused(csv_file(tmp_path, "a,t\n" + rows), f"more than {MAX_CLASSES} distinct values", "regression")


def test_escape_sequences_are_never_echoed(tmp_path):
    refused(csv_file(tmp_path, "a\x1b[31m,t\n1,x\n2,y\n"), "column 1", "control character")
    refused(csv_file(tmp_path, "a,t\n1,x\n2,y\x1b[2J\n"), "row 2 (line 3)", "control character")
    refused(csv_file(tmp_path, "a,t\n1,x\n\x1b[2J,y\n"), "\\x1b[2J")
    refused(csv_file(tmp_path, "a,t\n1,x\n2,y\n", "e\x1b]0;title\x07.csv"), target="nope")


def test_blank_lines(tmp_path):
    assert load_csv(csv_file(tmp_path, "a,t\n1,x\n2,y\n\n\n")).X.shape == (2, 1)
    refused(csv_file(tmp_path, "a,t\n1,x\n\n2,y\n"), "row 2 (line 3) is empty")
    refused(csv_file(tmp_path, "a,t\n1,x\n,\n2,y\n"), "row 2 (line 3) is empty")


def test_line_numbers_count_quoted_line_breaks(tmp_path):
    refused(csv_file(tmp_path, 'a,t\n1,x\n2,"two\nlines"\n'), "row 2 (line 3)", "control character")
    refused(csv_file(tmp_path, 'a,t\n"1\n",x\n2,y\nbad,x\n'), "row 3 (line 5)")  # "1\n" is 1


def test_close_numeric_labels_stay_distinct(tmp_path):
    data = load_csv(csv_file(tmp_path, "a,t\n1,1.0000001\n2,1.0000002\n3,1.0000001\n"))
    assert len(set(data.classes)) == 2 and list(data.y) == [0, 1, 0]


def test_blocks_and_single_rows_read_the_same(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10_000, 3))
    labels = rng.choice(["b", "a", "c"], size=10_000)
    text = "x,y,z,t\n" + "".join(f"{a!r},{b!r},{c!r},{t}\n" for (a, b, c), t in zip(X.tolist(), labels))
    data = load_csv(csv_file(tmp_path, text))
    assert np.array_equal(data.X, X) and data.classes == ["a", "b", "c"]
    assert np.array_equal(np.array(data.classes)[data.y], labels)
    bad = text.replace("\n", "\n \n", 1)  # a blank line at the start sends every block row by row
    refused(csv_file(tmp_path, bad, "e.csv"), "row 1 (line 2) is empty")


@pytest.mark.slow
def test_the_largest_csv_is_read_in_time_and_memory(tmp_path):
    row = ",".join(["7"] * 64) + ",{}\n"
    body = "".join(row.format(i % 2) for i in range((MAX_CSV_BYTES - 400) // len(row.format(0))))
    path = csv_file(tmp_path, ",".join(f"f{i}" for i in range(64)) + ",t\n" + body)
    assert path.stat().st_size <= MAX_CSV_BYTES
    start = time.process_time()
    data = load_csv(path)
    assert data.X.shape[1] == 64 and time.process_time() - start < 10
