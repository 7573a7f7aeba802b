"""Time and peak memory of the worst accepted and the worst refused input of each surface.

Every case is one ``optviz`` command in a fresh process (the console script, imports
included); the table gives its exit code, wall time and the peak resident memory of that
process alone (``os.wait4``). The budget every case must meet: 10 s of CPU, 1 GiB, and a refusal
is exit 2 with one line. Inputs are built in a temporary folder: formulas at the size
limits, a finite-sum function file at and beyond its row budget, CSV files at and beyond
16 MiB, run files (a real one with 100 snapshots and one whose member claims 600 MiB),
CLI numbers past what memory allows, special files as inputs and outputs.

    python benchmarks/bench_limits.py            # the whole table (about a minute)
    python benchmarks/bench_limits.py formula    # one surface
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

OPTVIZ = [sys.executable, "-m", "optviz"]
BUDGET_S, BUDGET_MIB = 10.0, 1024.0


def measure(args: list[str], cwd: Path) -> tuple[int, float, float, float, str]:
    """(exit code, wall seconds, CPU seconds, peak RSS in MiB, last stderr line) of one command."""
    err_path = cwd / ".stderr"
    with open(err_path, "wb") as err, open(os.devnull, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen([*OPTVIZ, *args], cwd=cwd, stdout=out, stderr=err,
                                env={**os.environ, "MPLBACKEND": "Agg", "PYTHONWARNINGS": "default"})
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = err_path.read_text(errors="replace").strip().splitlines()
    err_path.unlink()
    cpu = usage.ru_utime + usage.ru_stime
    return proc.returncode, seconds, cpu, usage.ru_maxrss / 1024, lines[-1] if lines else ""


def finite_sum_file(path: Path, rows: int) -> Path:
    rng = np.random.default_rng(0)
    u = rng.uniform(0, 3, rows)
    t = 2 * u + 1 + rng.normal(0, 0.5, rows)
    data = ",\n".join(f"  [{a:.4f}, {b:.4f}]" for a, b in zip(u, t))
    path.write_text(f'title = "fit"\ndomain = [[-1.0, 5.0], [-3.0, 5.0]]\nstart = [4.5, -2.0]\n\n'
                    f'[samples]\nexpression = "(w*u + b - t)^2"\nparameters = ["w", "b"]\ncolumns = ["u", "t"]\n'
                    f"data = [\n{data}\n]\n")
    return path


def csv_file(path: Path, mib: float) -> Path:
    """A CSV of 40 normal features and a label, as close to ``mib`` MiB as whole rows allow."""
    rng = np.random.default_rng(0)
    cols, target = 40, int(mib * 2**20)
    header = ",".join(f"f{i}" for i in range(cols)) + ",label\n"
    X = rng.normal(size=(target // (cols * 7) + 10, cols))  # a row takes at least 7 bytes a column
    lines, size = [header], len(header)
    for row in X:
        line = ",".join(f"{v:.4f}" for v in row) + f",{int(row[0] + row[1] > 0)}\n"
        if size + len(line) > target:
            break
        lines.append(line)
        size += len(line)
    path.write_text("".join(lines))
    return path


def bomb_run_file(path: Path, run: Path, mib: int) -> Path:
    """``run`` with its largest member replaced by ``mib`` MiB of zeros (a few hundred KB on disk)."""
    with zipfile.ZipFile(run) as z:
        members = {info.filename: z.read(info) for info in z.infolist()}
    biggest = max(members, key=lambda name: len(members[name]))
    block = b"\0" * 2**20
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            if name != biggest:
                z.writestr(name, data)
        with z.open(biggest, "w", force_zip64=True) as f:
            header = {"descr": "<f8", "fortran_order": False, "shape": (mib * 2**20 // 8,)}
            np.lib.format.write_array_header_1_0(f, header)
            for _ in range(mib):
                f.write(block)
    return path


def cases(tmp: Path) -> dict[str, list[tuple[str, list[str]]]]:
    terms = [f"sin({k}*x + y)" for k in range(1, 75)]
    while len("*".join(terms)) > 900:
        terms.pop()
    sines = "*".join(terms)
    fifo = tmp / "pipe.toml"
    os.mkfifo(fifo)
    csv_fifo = tmp / "pipe.csv"
    os.mkfifo(csv_fifo)
    out_fifo = tmp / "out.csv"
    os.mkfifo(out_fifo)
    return {
        "formula": [
            ("900-character product of sines", ["run", "--fn", sines, "--no-plot"]),
            ("1000-character sum", ["run", "--fn", "+".join(["x**2", "y**2"] * 125)[:999], "--no-plot"]),
            ("power tower x**x**…(30)", ["run", "--fn", "x" + "**x" * 29, "--no-plot"]),
            ("x**exp(exp(exp(exp(exp(1)))))", ["run", "--fn", "x**exp(exp(exp(exp(exp(1)))))", "--no-plot"]),
            ("x**2 + exp(exp(exp(exp(exp(1)))))*y**2",
             ["run", "--fn", "x**2 + exp(exp(exp(exp(exp(1)))))*y**2", "--no-plot"]),
            ("1001 characters", ["run", "--fn", "x" + "+x" * 500, "--no-plot"]),
        ],
        "function file": [
            ("finite sum, 5,000 rows, contour", ["run", "--fn", str(finite_sum_file(tmp / "f5k.toml", 5000)),
                                                 "--opt", "sgd", "--steps", "200"]),
            ("finite sum, 20,000 rows", ["run", "--fn", str(finite_sum_file(tmp / "f20k.toml", 20000)),
                                         "--no-plot"]),
            ("a FIFO as the file", ["run", "--fn", str(fifo), "--no-plot"]),
        ],
        "CSV": [
            ("15.9 MiB CSV, one epoch of a small MLP", ["train", "--data", str(csv_file(tmp / "ok.csv", 15.9)),
                                                        "--epochs", "1", "--arch", "mlp", "--depth", "1",
                                                        "--width", "8", "--opt", "gd", "--no-plot"]),
            ("16.1 MiB CSV", ["train", "--data", str(csv_file(tmp / "big.csv", 16.1)), "--no-plot"]),
            ("a FIFO as the CSV", ["train", "--data", str(csv_fifo), "--no-plot"]),
        ],
        "run file": [
            ("100 snapshots, landscape 41×41", ["landscape", str(tmp / "run.npz"), "--out", str(tmp / "land")]),
            ("a member of 600 MiB zeros (0.6 MB on disk)",
             ["landscape", str(bomb_run_file(tmp / "bomb.npz", tmp / "run.npz", 600))]),
        ],
        "CLI numbers": [
            ("--steps 10⁹, GD on sphere", ["run", "--fn", "sphere", "--opt", "gd", "--steps", "1000000000",
                                           "--no-plot"]),
            ("sweep of 10⁶ cells × 50 steps", ["sweep", "--opt", "momentum", "--lr", "1e-4:1:1000", "-p",
                                               "beta=0:0.99:1000", "--steps", "50", "--no-plot"]),
            ("--width 30000", ["train", "--width", "30000", "--no-plot"]),
            ("--seeds 100000", ["run", "--fn", "least_squares", "--opt", "sgd", "--seeds", "100000", "--no-plot"]),
            ("--grid 20000", ["basins", "--grid", "20000", "--no-plot"]),
        ],
        "output path": [
            ("--csv to a FIFO nobody reads", ["run", "--no-plot", "--csv", str(out_fifo)]),
            ("--csv to a directory", ["run", "--no-plot", "--csv", str(tmp)]),
        ],
    }


def main(only: list[str]) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="optviz-limits-"))
    try:
        if not only or "run file" in only or "run" in only:
            code, *_ = measure(["train", "--data", "moons", "--epochs", "99", "--save-run",
                                str(tmp / "run.npz"), "--no-plot"], tmp)
            assert code == 0, "could not make the run file"
        table = cases(tmp)
        print(f"{'surface':14} {'case':40} {'exit':>4} {'wall s':>6} {'CPU s':>6} {'MiB':>6}  last line")
        for surface, rows in table.items():
            if only and not any(surface.startswith(o) for o in only):
                continue
            for name, args in rows:
                code, seconds, cpu, mib, line = measure(args, tmp)
                flag = "" if cpu <= BUDGET_S and mib <= BUDGET_MIB and code in (0, 2) else "  OVER"
                print(f"{surface:14} {name:40} {code:>4} {seconds:6.2f} {cpu:6.2f} {mib:6.0f}  {line}{flag}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
