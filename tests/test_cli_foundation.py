"""The installable tool: start-up cost, the functions command, packaging, one-line errors."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def optviz(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "optviz", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def assert_one_line_error(proc, *fragments):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_help_imports_neither_matplotlib_nor_sympy():
    code = (
        "import sys\n"
        "sys.argv = ['optviz', '--help']\n"
        "from optviz.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('HEAVY:' + ','.join(m for m in ('matplotlib', 'sympy', 'numpy') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "Usage" in proc.stdout
    heavy = proc.stdout.strip().splitlines()[-1]
    assert heavy == "HEAVY:", heavy


def test_functions_lists_the_library():
    proc = optviz("functions")
    assert proc.returncode == 0, proc.stderr
    from optviz.library import function_names

    names = function_names()
    assert len(names) >= 20
    for name in names:
        assert name in proc.stdout


def test_functions_name_shows_gradient_and_minima():
    proc = optviz("functions", "rosenbrock")
    assert proc.returncode == 0, proc.stderr
    assert "∂f/∂x" in proc.stdout and "∂f/∂y" in proc.stdout
    assert "(1, 1)" in proc.stdout


def test_unknown_function_suggests_the_closest_names():
    assert_one_line_error(optviz("functions", "rosenbrok"), "rosenbrok", "did you mean rosenbrock")
    assert_one_line_error(optviz("run", "--fn", "himelblau", "--no-plot"), "himmelblau")


def test_malformed_formula_names_the_column():
    assert_one_line_error(optviz("run", "--fn", "x**2 + y[1]", "--no-plot"), "column 9")


def test_missing_and_invalid_function_files(tmp_path):
    missing = tmp_path / "nope.toml"
    assert_one_line_error(optviz("run", "--fn", str(missing), "--no-plot"), str(missing), "no such file")
    bad = tmp_path / "bad.toml"
    bad.write_text('expression = "x**2"\ndomain = [[-1, 1]\nstart = [0.5]\n')
    assert_one_line_error(optviz("run", "--fn", str(bad), "--no-plot"), str(bad), "line")


def test_user_function_file_is_used(tmp_path):
    own = tmp_path / "bowl.toml"
    own.write_text('expression = "(x - 1)^2 + 4*(y + 2)^2"\ndomain = [[-3, 3], [-4, 2]]\nstart = [2.0, 1.0]\n'
                   '[[minima]]\npoint = [1.0, -2.0]\nvalue = 0.0\n[suggested]\ngd = { lr = 0.1 }\n')
    proc = optviz("run", "--fn", str(own), "--opt", "gd", "--no-plot", "--json", "--steps", "300")
    assert proc.returncode == 0, proc.stderr
    import json

    run = json.loads(proc.stdout)["runs"][0]
    assert run["hyperparameters"]["lr"] == 0.1
    assert abs(run["final"][0] - 1.0) < 1e-4 and abs(run["final"][1] + 2.0) < 1e-4


@pytest.mark.slow
def test_wheel_ships_the_function_files(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel = next(tmp_path.glob("optviz-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"optviz/functions/{p.name}" for p in (ROOT / "functions").glob("*.toml")}
    assert len(expected) >= 20
    assert expected <= names
    assert "optviz/nn/data/digits.csv.gz" in names
