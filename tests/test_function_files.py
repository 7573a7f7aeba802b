"""--fn resolution and function files: every wrong value is one line naming the key
and what it must be; files are read within a budget, never blocking; a finite sum's
contour is evaluated in bounded memory."""

from __future__ import annotations

import os
import stat
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from optviz.errors import OptvizError
from optviz.function_file import MAX_FILE_BYTES, MAX_ROWS
from optviz.library import load_file, load_function, tomllib
from optviz.objective import FiniteSum

BASE = {
    "title": 'title = "Bowl"',
    "expression": 'expression = "x^2 + 3*y^2"',
    "domain": "domain = [[-2.0, 2.0], [-1.0, 1.0]]",
    "start": "start = [1.5, 0.5]",
    "steps": "steps = 100",
    "minima": "minima = [{ point = [0.0, 0.0], value = 0.0 }]",
    "suggested": "suggested = { adam = { lr = 0.1 }, minibatch = { lr = 0.1, batch_size = 2 } }",
}
GOOD = "\n".join(BASE.values()) + "\n"

SUM = """[samples]
expression = "(w*u + b - t)^2"
parameters = ["w", "b"]
columns = ["u", "t"]
data = [[1.0, 2.0], [2.0, 3.5], [0.5, 1.0]]
"""


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert text and "\n" not in text and "Traceback" not in text, text
    return text


def write(tmp_path: Path, text: str, name: str = "f.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path, *fragments: str) -> str:
    with pytest.raises(OptvizError) as exc:
        load_file(path)
    line = one_line(exc)
    for fragment in fragments:
        assert fragment in line, line
    return line


def test_a_good_file_loads(tmp_path):
    obj = load_file(write(tmp_path, GOOD))
    assert (obj.name, obj.variables, obj.steps, obj.start) == ("f", ("x", "y"), 100, (1.5, 0.5))
    assert obj.domain == ((-2.0, 2.0), (-1.0, 1.0)) and obj.minima[0].point == (0.0, 0.0)
    assert obj.suggested == {"adam": {"lr": 0.1}, "minibatch": {"lr": 0.1, "batch_size": 2}}
    assert isinstance(obj.suggested["minibatch"]["batch_size"], int)


# -- --fn resolution ------------------------------------------------------------------------
@pytest.mark.parametrize("length", [256, 400, 999])
def test_long_formulas_are_formulas_not_file_names(length):
    term = "0.12345678901234567890123456789*x**2"
    text = " + ".join([term] * (length // (len(term) + 3)) + ["y**2"])
    text = text.replace("+ y", "+ " + " " * (length - len(text)) + "y")
    assert len(text) == length and "/" not in text
    assert load_function(text).dim == 2


def test_a_long_formula_with_a_division_is_a_formula():
    text = "x**2/(1 +" + " " * 300 + "y**2)"  # a "path component" longer than 255 bytes
    assert load_function(text).dim == 2


def test_a_file_in_the_current_directory_never_takes_over_a_bare_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, GOOD, "x")
    write(tmp_path, GOOD, "rosenbrock")
    assert load_function("x").variables == ("x",)  # the formula x, not the file
    assert load_function("rosenbrock").name == "rosenbrock"  # the library
    assert load_function("./x").variables == ("x", "y")  # a path says it is a file
    assert load_function(str(tmp_path / "x")).variables == ("x", "y")


def test_paths_and_formulas_with_a_slash(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", GOOD, "bowl.toml")
    assert load_function("sub/bowl.toml").name == "bowl"
    assert load_function("x/y").variables == ("x", "y")  # no such file: the formula
    with pytest.raises(OptvizError) as exc:
        load_function("missing.toml")
    assert "no such file" in one_line(exc)


def test_home_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path, GOOD, "bowl.toml")
    assert load_function("~/bowl.toml").name == "bowl"


def test_unknown_names_are_echoed_safely():
    with pytest.raises(OptvizError) as exc:
        load_function("rosenbrok\x1b[31m")
    assert "\x1b" not in one_line(exc)


# -- wrong values --------------------------------------------------------------------------
WRONG = [
    ('domain = "abc"', ["'domain' must be a list", 'the text'], "domain"),
    ('domain = [["a", 1.0], [0.0, 1.0]]', ["'domain[0][0]' must be a number", "the text 'a'"], "domain"),
    ("domain = [[nan, 1.0], [0.0, 1.0]]", ["'domain[0][0]' must be a finite number", "nan"], "domain"),
    ("domain = [[-inf, inf], [0.0, 1.0]]", ["'domain[0][0]' must be a finite number"], "domain"),
    ("domain = [[1.0, 1.0], [0.0, 1.0]]", ["'domain[0]' must be [low, high] with low < high"], "domain"),
    ("domain = [[0.0, 1e300], [0.0, 1.0]]", ["'domain[0][1]'", "≤ 1e+12"], "domain"),
    ("domain = []", ["'domain' must be a list of 2 pair"], "domain"),
    ("domain = [{a = 1}, [0.0, 1.0]]", ["'domain[0]' must be a list", "a table"], "domain"),
    ("start = [true, 1.0]", ["'start[0]' must be a number", "the boolean true"], "start"),
    ("start = [nan, 0.0]", ["'start[0]' must be a finite number"], "start"),
    ("start = {x = 1}", ["'start' must be a list", "a table"], "start"),
    ("start = [1.0]", ["'start' must be a list of 2 numbers"], "start"),
    ('steps = "100"', ["'steps' must be a whole number", "the text '100'"], "steps"),
    ("steps = 1e12", ["'steps' must be a finite number with |value| ≤ 1e+06"], "steps"),
    ("steps = 0", ["'steps' must be ≥ 1"], "steps"),
    ("steps = 2.5", ["'steps' must be a whole number"], "steps"),
    ("steps = true", ["'steps' must be a whole number", "boolean"], "steps"),
    ('suggested = "fast"', ["'suggested' must be a table"], "suggested"),
    ("suggested = { adam = 0.1 }", ["'suggested.adam' must be a table", "0.1"], "suggested"),
    ('suggested = { adam = { lr = "fast" } }', ["'suggested.adam.lr' must be a number"], "suggested"),
    ("suggested = { adam = { lr = -1 } }", ["'suggested.adam.lr' must be > 0"], "suggested"),
    ("suggested = { adam = { lr = nan } }", ["'suggested.adam.lr' must be a finite number"], "suggested"),
    ("suggested = { adamw = { lr = 1 } }", ["unknown key 'adamw'", "adam"], "suggested"),
    ("suggested = { adam = { betta1 = 0.9 } }", ["unknown key 'betta1'", "beta1"], "suggested"),
    ("suggested = { minibatch = { batch_size = 2.5 } }", ["batch_size' must be a whole number"], "suggested"),
    ("suggested = { adam = { bias_correction = 1 } }", ["must be true or false"], "suggested"),
    ("suggested = { adam = { lr = { x = 1 } } }", ["'suggested.adam.lr' must be a number", "a table"], "suggested"),
    ("minima = 3", ["'minima' must be a list"], "minima"),
    ("minima = [{ point = [1.0], value = 0.0 }]", ["'minima[0].point' must be a list of 2"], "minima"),
    ('minima = [{ point = [1.0, 1.0], value = "zero" }]', ["'minima[0].value' must be a number"], "minima"),
    ("minima = [{ point = [1.0, 1.0] }]", ["minima[0] needs 'point' and 'value'"], "minima"),
    ("minima = [[1.0, 1.0]]", ["'minima[0]' must be a table"], "minima"),
    ("minima = [" + ", ".join(["{ point = [0.0, 0.0], value = 0.0 }"] * 101) + "]",
     ["'minima' must be a list of at most 100"], "minima"),
    ("title = ['a']", ["'title' must be text"], "title"),
    ('title = "a\\u001b[31mred"', ["'title' must be printable text", "\\x1b"], "title"),
    ('source = "' + "s" * 1001 + '"', ["'source' must be at most 1000 characters"], "source"),
    ("stpes = 100", ["unknown key 'stpes'", "did you mean 'steps'"], None),
    ("[nested]\n[nested.deeper]\na = 1", ["unknown key 'nested'"], None),
]


def _with(line: str, replaces: str | None) -> str:
    return "\n".join([v for k, v in BASE.items() if k != replaces] + [line]) + "\n"


@pytest.mark.parametrize("line, fragments, replaces", WRONG, ids=[w[0][:40] for w in WRONG])
def test_wrong_values_name_the_key_and_what_it_must_be(tmp_path, line, fragments, replaces):
    text = _with(line, replaces)
    tomllib.loads(text)  # the file itself is valid TOML
    line_out = refused(write(tmp_path, text), *fragments)
    assert "f.toml" in line_out and "\x1b" not in line_out


EXPRESSIONS = [
    ("expression = 5", ["'expression' must be text", "the number 5"]),
    ("expression = { a = 1 }", ["'expression' must be text", "a table"]),
    ('expression = "3 + 4"', ["no variables"]),
    ('expression = "x^2 + y^2"\nvariables = ["x", "z"]', ["do not match"]),
    ('expression = "x^2"\nvariables = "x"', ["'variables' must be a list"]),
    ("title = 'no expression'", ["missing 'expression'"]),
]


@pytest.mark.parametrize("text, fragments", EXPRESSIONS, ids=[e[0][:30] for e in EXPRESSIONS])
def test_expression_problems(tmp_path, text, fragments):
    refused(write(tmp_path, text + "\n"), *fragments)


def _sum(**changes) -> str:
    lines = SUM.splitlines()
    for key, value in changes.items():
        lines = [f"{key} = {value}" if ln.startswith(f"{key} =") else ln for ln in lines]
    return "\n".join(lines) + "\n"


SUMS = [
    ({"parameters": '["$w", "b"]'}, ["'samples.parameters[0]' must be a variable name"]),
    ({"parameters": '["w", "w"]'}, ["distinct names"]),
    ({"parameters": "[]"}, ["'samples.parameters' must be a list of at least 1"]),
    ({"parameters": '"w"'}, ["'samples.parameters' must be a list", "the text 'w'"]),
    ({"parameters": '["w", "b", "c"]'}, ["parameter 'c' does not appear"]),
    ({"columns": '["u", "pi"]'}, ["'samples.columns[1]' must be a variable name"]),
    ({"columns": '["u", "w"]'}, ["both a parameter and a column"]),
    ({"data": "[[1.0, 2.0], [3.0]]"}, ["'samples.data[1]' must be a list of 2 numbers"]),
    ({"data": '[[1.0, "a"]]'}, ["'samples.data[0][1]' must be a number"]),
    ({"data": "[[1.0, nan]]"}, ["'samples.data[0][1]' must be a finite number"]),
    ({"data": "[]"}, ["'samples.data' must be a list of at least 1 row"]),
    ({"data": "[1.0, 2.0]"}, ["'samples.data[0]' must be a list"]),
    ({"data": "{ a = 1 }"}, ["'samples.data' must be a list", "a table"]),
    ({"expression": '"(w*u + b - t)^2 + q"'}, ["neither parameters nor columns"]),
    ({"expression": "1"}, ["'samples.expression' must be text"]),
]


@pytest.mark.parametrize("changes, fragments", SUMS, ids=[str(s[0])[:40] for s in SUMS])
def test_finite_sum_problems(tmp_path, changes, fragments):
    refused(write(tmp_path, _sum(**changes)), *fragments)


def test_finite_sum_table_shapes(tmp_path):
    refused(write(tmp_path, 'samples = "x"\n'), "'samples' must be a table")
    refused(write(tmp_path, '[samples]\nexpression = "w"\n'), "[samples] needs 'parameters'")
    refused(write(tmp_path, 'expression = "x"\n' + SUM), "finite sum has its expression in [samples]")
    assert load_file(write(tmp_path, _sum())).finite_sum.n == 3


def test_too_many_rows_are_refused_before_any_symbolic_work(tmp_path):
    rows = ", ".join(["[1.0, 2.0]"] * (MAX_ROWS + 1))
    start = time.perf_counter()
    refused(write(tmp_path, _sum(data=f"[{rows}]")), f"at most {MAX_ROWS} rows")
    assert time.perf_counter() - start < 2


def test_rows_times_operations_are_bounded(tmp_path):
    terms = " + ".join(f"(w*u - b + {k})^2" for k in range(8))  # 38 operations
    rows = ", ".join(["[1.0, 2.0]"] * 700)
    refused(write(tmp_path, _sum(expression=f'"{terms}"', data=f"[{rows}]")),
            "'samples.data' has 700 rows for a sample expression of 38 operations", "at most 641 rows")
    rows = ", ".join(["[1.0, 2.0]"] * 641)
    assert load_file(write(tmp_path, _sum(expression=f'"{terms}"', data=f"[{rows}]"))).finite_sum.n == 641


# -- reading the file -----------------------------------------------------------------------
def test_bad_bytes_and_bad_toml(tmp_path):
    path = tmp_path / "f.toml"
    path.write_bytes(b'title = "caf\xe9"\nexpression = "x"\n')
    refused(path, "not UTF-8 text (byte 0xe9 on line 1)")
    refused(write(tmp_path, "expression = \n"), "invalid TOML")
    refused(write(tmp_path, "a = " + "[" * 100_000 + "]" * 100_000 + "\n"), "invalid TOML")
    path.write_bytes(b'\xef\xbb\xbfexpression = "x^2"\n')  # a byte-order mark is fine
    assert load_file(path).dim == 1


def test_special_files_are_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "fifo.toml")
    (tmp_path / "dir.toml").mkdir()
    try:
        os.mknod(tmp_path / "zero.toml", stat.S_IFCHR | 0o666, os.makedev(1, 5))
        kinds = [("zero.toml", "character device")]
    except PermissionError:
        kinds = []
    for name, word in [("fifo.toml", "pipe"), ("dir.toml", "directory"), *kinds]:
        start = time.perf_counter()
        with pytest.raises(OptvizError) as exc:
            load_function(str(tmp_path / name))
        assert word in one_line(exc) and time.perf_counter() - start < 1


def test_a_file_over_the_budget_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.toml"
    with open(path, "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    refused(path, "4,194,305 bytes, more than the 4,194,304 bytes (4 MiB)")


def test_escape_sequences_in_the_path_are_not_echoed(tmp_path):
    path = tmp_path / "a\x1b[2Jb.toml"
    path.write_text("expression = 5\n")
    line = refused(path, "a\\x1b[2Jb.toml")
    assert "\x1b" not in line


# -- the finite sum's contour ---------------------------------------------------------------
def _least_squares(n: int) -> FiniteSum:
    import sympy

    w, b, u, t = sympy.symbols("w b u t", real=True)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 3, n)
    return FiniteSum((w * u + b - t) ** 2, [w, b], [u, t], np.c_[x, 2 * x + 1 + rng.normal(0, 0.5, n)])


def _grid(k: int) -> np.ndarray:
    g = np.linspace(-1, 5, k)
    return np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)


def _peak(call) -> tuple[object, float]:
    tracemalloc.start()
    try:
        out = call()
        return out, tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def test_finite_sum_values_in_blocks_equal_the_whole_batch():
    fs = _least_squares(300)
    X = _grid(60)  # 3,600 points × 300 rows: more than one block
    whole = np.stack([fs._eval(fs._f, X, None)[0].mean(axis=-1)])[0]
    assert np.array_equal(fs.value(X), whole)
    idx = np.random.default_rng(1).integers(0, 300, size=(len(X), 200))
    assert np.array_equal(fs.grad(X, idx), np.moveaxis(fs._eval(fs._g, X, idx).mean(axis=-1), 0, -1))
    h = fs.hess(X[:5])
    assert h.shape == (5, 2, 2) and np.allclose(h[:, 0, 1], h[:, 1, 0])


@pytest.mark.parametrize("n", [2_000, 20_000])
def test_finite_sum_contour_memory_is_bounded(n):
    fs = _least_squares(n)
    X = _grid(60 if n > 5000 else 120)
    values, peak = _peak(lambda: fs.value(X))
    assert values.shape == (len(X),) and np.isfinite(values).all()
    assert peak < 64, f"{peak:.0f} MiB of temporaries"


@pytest.mark.slow
def test_finite_sum_contour_on_the_full_grid_with_2000_rows():
    fs = _least_squares(2_000)
    values, peak = _peak(lambda: fs.value(_grid(300)))
    assert values.shape == (90_000,) and peak < 64
