"""Reading a user's CSV file for :func:`optviz.nn.data.load_csv`.

The file is read through :func:`optviz.io.read_user_bytes` (a regular file of at
most ``MAX_CSV_BYTES``; a FIFO, a device or a directory is refused without
blocking), must be UTF-8 text without NUL bytes, and is parsed in blocks of rows into
one array (8 bytes per value), so its memory stays a few times its size. Limits:
at most ``MAX_COLUMNS`` columns and ``MAX_CLASSES`` classes; a field is at most
131,072 characters (Python's csv reader); column names and labels are printable
text of at most ``MAX_NAME`` characters; a feature is a finite number with
``|x| ≤ MAX_FEATURE``, so the standardization (mean and standard deviation of
each column) cannot overflow. Every problem is one OptvizError line saying where.
"""

from __future__ import annotations

import csv
import io
import math
from array import array
from itertools import islice
from pathlib import Path
from typing import NamedTuple

import numpy as np

from optviz.errors import OptvizError, printable

MAX_CSV_BYTES = 16 << 20
MAX_COLUMNS = 10_000
MAX_CLASSES = 1_000
MAX_NAME = 200
MAX_FEATURE = 1e100


def _text(raw: bytes, where: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise OptvizError(f"{where}: is UTF-16 text; save it as UTF-8 (CSV UTF-8 in a spreadsheet)")
    from optviz.io import utf8_text

    text = utf8_text(raw, where)
    nul = text.find("\0")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise OptvizError(f"{where}: holds a NUL byte on line {line}; a CSV file is text (is this a "
                          "binary file?)")
    return text


def _name_problem(name: str) -> str | None:
    if len(name) > MAX_NAME:
        return f"is {len(name)} characters long (at most {MAX_NAME})"
    if not all(ch.isprintable() or ch == " " for ch in name):
        return "holds a control character"
    return None


def _header(reader, where: str) -> list[str]:
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise _csv_error(exc, reader, where) from None
    if header is None or not any(cell.strip() for cell in header):
        raise OptvizError(f"{where}: the file is empty; it needs a header row and data rows")
    if len(header) > MAX_COLUMNS:
        raise OptvizError(f"{where}: the header has {len(header)} columns; at most {MAX_COLUMNS}")
    header = [name.strip() for name in header]
    for j, name in enumerate(header):
        problem = _name_problem(name)
        if problem:
            raise OptvizError(f"{where}: the name of column {j + 1} ({printable(name, 40)}) {problem}")
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise OptvizError(f"{where}: column names must be unique, repeated: "
                          f"{printable(', '.join(dupes))}")
    return header


def _csv_error(exc: csv.Error, reader, where: str) -> OptvizError:
    why = str(exc)
    if "field larger than field limit" in why:
        why = f"a field is longer than {csv.field_size_limit():,} characters"
    return OptvizError(f"{where}: line {reader.line_num}: {printable(why, 120)}")


def _bad_value(where: str, name: str, text: str, r: int, line: int) -> OptvizError:
    value = text.strip()
    shown = printable(repr(value), 40)
    try:
        x = float(value)
        what = (f"a non-finite value {shown}" if not math.isfinite(x) else
                f"the value {shown}, beyond the ±{MAX_FEATURE:g} a feature may reach")
    except ValueError:
        what = f"a non-numeric value {shown}" if value else "a missing value"
    return OptvizError(f"{where}: column {printable(repr(name), 60)} has {what} in row {r} (line {line})")


class _Table:
    """The values read so far: features (flat, row-major), label ids, labels by id."""

    def __init__(self, header: list[str], t: int, where: str):
        self.header, self.t, self.where = header, t, where
        self.features = [j for j in range(len(header)) if j != t]
        self.values, self.ids, self.index = array("d"), array("q"), {}
        self.rows, self.blank = 0, None  # rows seen; the first blank row (number, line)

    def fast(self, rows: list[list[str]]) -> bool:
        """Take a block of ordinary rows at once; False (nothing taken) if any row needs a
        closer look (wrong length, a value that is not a usable number, a new label that
        is empty, unprintable or one class too many)."""
        if self.blank is not None or set(map(len, rows)) != {len(self.header)}:
            return False
        try:
            parsed = [float(row[j]) for row in rows for j in self.features]
        except ValueError:
            return False
        block = np.array(parsed)
        if not (np.abs(block) <= MAX_FEATURE).all():
            return False
        labels = [row[self.t].strip() for row in rows]
        new = set(labels).difference(self.index)
        if len(self.index) + len(new) > MAX_CLASSES or any(not x or _name_problem(x) for x in new):
            return False
        for label in new:
            self.index[label] = len(self.index)
        self.values.fromlist(parsed)
        self.ids.extend(map(self.index.__getitem__, labels))
        self.rows += len(rows)
        return True

    def one(self, row: list[str], line: int) -> None:
        """Take one row, or raise the OptvizError that says what is wrong with it."""
        where, r = self.where, self.rows + 1
        self.rows = r
        if not any(cell.strip() for cell in row):
            self.blank = self.blank or (r, line)
            return
        if self.blank is not None:
            raise OptvizError(f"{where}: row {self.blank[0]} (line {self.blank[1]}) is empty; "
                              "remove the blank lines between data rows")
        if len(row) != len(self.header):
            raise OptvizError(f"{where}: row {r} (line {line}) has {len(row)} fields, the header "
                              f"has {len(self.header)}")
        for j in self.features:
            if not _ok(row[j]):
                raise _bad_value(where, self.header[j], row[j], r, line)
        label = row[self.t].strip()
        if label not in self.index:
            _check_label(label, self.header[self.t], r, line, where, len(self.index))
            self.index[label] = len(self.index)
        self.values.extend(float(row[j]) for j in self.features)
        self.ids.append(self.index[label])


def _rows(reader, header: list[str], t: int, where: str) -> _Table:
    """Read the data rows in blocks (one Python loop per block, not per value)."""
    table = _Table(header, t, where)
    try:
        while True:
            line = reader.line_num
            block = list(islice(reader, 4096))
            if not block:
                break
            if table.fast(block):
                continue
            for row in block:  # a row starts on the line after the previous one ended
                start, line = line + 1, line + 1 + sum(cell.count("\n") for cell in row)
                table.one(row, start)
    except csv.Error as exc:
        raise _csv_error(exc, reader, where) from None
    return table


def _ok(text: str) -> bool:
    try:
        return abs(float(text)) <= MAX_FEATURE  # False for nan and ±inf too
    except ValueError:
        return False


def _check_label(label: str, target: str, r: int, line: int, where: str, seen: int) -> None:
    if not label:
        raise OptvizError(f"{where}: target column {printable(repr(target), 60)} is missing a value "
                          f"in row {r} (line {line})")
    problem = _name_problem(label)
    if problem:
        raise OptvizError(f"{where}: the label in row {r} (line {line}) {problem}")
    if seen >= MAX_CLASSES:
        raise OptvizError(f"{where}: target column {printable(repr(target), 60)} has more than "
                          f"{MAX_CLASSES} distinct values; optviz classifies into at most {MAX_CLASSES} "
                          "classes (is it a numeric target for regression?)")


def _classes(ids: np.ndarray, labels: list[str]) -> tuple[np.ndarray, list[str]]:
    """Labels mapped to 0..C−1 in sorted order (numerically when all are numbers)."""
    numbers = [_finite(label) for label in labels]
    if all(v is not None for v in numbers):
        order = sorted(range(len(labels)), key=lambda i: numbers[i])
        names = [f"{numbers[i]:g}" for i in order]
        if len(set(names)) != len(names):  # 1.0000001 and 1.0000002 look alike with :g
            names = [repr(numbers[i]) for i in order]
    else:
        order = sorted(range(len(labels)), key=lambda i: labels[i])
        names = [labels[i] for i in order]
    rank = np.empty(len(labels), dtype=np.int64)
    rank[order] = np.arange(len(labels))
    return rank[ids], names


def _finite(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class CsvTable(NamedTuple):
    """What a CSV file holds: features, labels 0..C−1, class names, feature names, file stem."""

    X: np.ndarray
    y: np.ndarray
    classes: list[str]
    feature_names: list[str]
    name: str


def read_csv(path: str | Path, target: str | None = None) -> CsvTable:
    """Read a CSV file for :func:`optviz.nn.data.load_csv` (which documents the format)."""
    from optviz.io import read_user_bytes, user_path

    path = user_path(path)
    where = printable(path)
    reader = csv.reader(io.StringIO(_text(read_user_bytes(path, MAX_CSV_BYTES, "CSV file"), where)))
    header = _header(reader, where)
    if target is None:
        target = header[-1]
    if target not in header:
        raise OptvizError(f"{where}: no column {printable(repr(target), 60)}; the columns are: "
                          f"{printable(', '.join(header))}")
    if len(header) < 2:
        raise OptvizError(f"{where}: needs at least one feature column besides the target "
                          f"{printable(repr(target), 60)}")
    t = header.index(target)
    table = _rows(reader, header, t, where)
    values, ids, labels = table.values, table.ids, list(table.index)
    if len(ids) < 2:
        raise OptvizError(f"{where}: needs at least 2 data rows, found {len(ids)}")
    if len(labels) < 2:
        raise OptvizError(f"{where}: target column {printable(repr(target), 60)} has a single class "
                          f"({printable(labels[0], 40)}); need 2 or more")
    y, classes = _classes(np.frombuffer(ids, dtype=np.int64), labels)
    X = np.frombuffer(values, dtype=np.float64).reshape(len(ids), len(header) - 1)  # no copy
    return CsvTable(X, y, classes, [h for j, h in enumerate(header) if j != t], path.stem)
