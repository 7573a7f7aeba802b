"""optviz train-sweep: the local Dask cluster against the same cells one after another, same process.

Workload (the issue's): 2 optimizers (adam, momentum) × 8 learning rates (1e-4:1:8) × 2
seeds = 32 cells on the default network of ``optviz train`` (residual MLP, depth 6,
width 128, BatchNorm, digits, batch 64, 30 epochs). Every cell runs with one BLAS
thread (threadpoolctl), in both modes.

- serial: ``optviz.train_sweep(..., workers=0)``: the cells one after another in this process;
- cluster: ``optviz.train_sweep(..., workers=2)``: a LocalCluster of 2 single-threaded
  worker processes, started and closed by optviz: the wall time includes its start
  and close, as a user sees it.

- processes: the same cells on a ``ProcessPoolExecutor`` of 2 plain processes, no Dask:
  what the machine gives two processes at that moment (on a shared machine whose
  cores are busy, two processes get less than twice one process's share). The cluster
  against this reference is Dask's own cost.

The modes take turns round by round (so background load hits all); the medians over
rounds are compared. Target: cluster ≤ 0.6 × serial on 2 cores (the limit is 0.5 ×).

Dask's overhead: (1) the start and close of the local cluster, timed alone; (2) per
task: 2000 tasks that do nothing on the workers, (wall × workers) / 2000 is the worker
time each task costs, compared with the time of one cell.

Usage: python benchmarks/bench_train_sweep.py [--rounds 3] [--epochs 30] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np


def environment() -> str:
    import dask
    import distributed
    from threadpoolctl import threadpool_info

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    blas = ", ".join(f"{i['internal_api']} {i['version']} ({i['num_threads']} threads)" for i in threadpool_info()
                     if i["user_api"] == "blas")
    return (f"{cpu}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}; Python "
            f"{platform.python_version()}; numpy {np.__version__} with {blas}; dask {dask.__version__}, "
            f"distributed {distributed.__version__}")


def sweep(workers: int, epochs: int):
    """(wall seconds, Σ cell seconds, the cells' specifications)."""
    import optviz

    start = time.perf_counter()
    report = optviz.train_sweep("digits", "adam,momentum", lr="1e-4:1:8", seeds=2, epochs=epochs, workers=workers)
    wall = time.perf_counter() - start
    assert report.computed == 32 and report.failed == 0, report.notes
    return wall, sum(c.result["wall_time"] for c in report.cells), [c.spec for c in report.cells]


def plain_processes(specs: list, workers: int):
    """The same cells on a pool of plain processes (spawned, started and closed here)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from optviz.cells import run_cell

    start = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(run_cell, specs))
    assert all(r["status"] != "failed" for r in results)
    return time.perf_counter() - start, sum(r["wall_time"] for r in results)


def nothing(i: int) -> int:
    return i


def dask_overheads(workers: int, tasks: int = 2000) -> tuple[float, float]:
    """(seconds to start and close a local cluster, worker-seconds per empty task)."""
    from optviz.cluster import connected, quiet_logs

    with quiet_logs(False):
        start = time.perf_counter()
        with connected(workers) as client:
            started = time.perf_counter() - start
            client.gather(client.map(nothing, range(50), pure=False))  # warm up
            t = time.perf_counter()
            client.gather(client.map(nothing, range(tasks), pure=False))
            per_task = (time.perf_counter() - t) * workers / tasks
            t = time.perf_counter()
        closed = time.perf_counter() - t
    return started + closed, per_task


def one_cell_two_threads(epochs: int) -> float:
    """One cell (adam, lr 1e-3, seed 0) with 2 BLAS threads, for context."""
    from threadpoolctl import threadpool_limits

    import optviz

    with threadpool_limits(2, user_api="blas"):
        start = time.perf_counter()
        optviz.train("digits", "adam", lr=1e-3, epochs=epochs)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(environment())
    import optviz

    optviz.train_sweep("digits", "adam", lr="1e-3", seeds=1, epochs=1, workers=0)  # imports, not timed
    walls: dict[str, list[float]] = {"serial": [], "processes": [], "cluster": []}
    inside: dict[str, list[float]] = {"serial": [], "processes": [], "cluster": []}
    specs: list = []
    modes = list(walls)
    for r in range(args.rounds):
        for mode in modes[r % 3:] + modes[:r % 3]:
            if mode == "processes" and not specs:
                specs = sweep(0, args.epochs)[2]  # the cells' specifications (not timed)
            if mode == "processes":
                wall, cells = plain_processes(specs, args.workers)
            else:
                wall, cells, specs = sweep(0 if mode == "serial" else args.workers, args.epochs)
            walls[mode].append(wall)
            inside[mode].append(cells)
            print(f"round {r + 1} {mode:9s} {wall:7.1f} s (cells' own time {cells:6.1f} s; "
                  f"load {os.getloadavg()[0]:.1f})", flush=True)
    med = {m: statistics.median(v) for m, v in walls.items()}
    print()
    for m in modes:
        print(f"{m:9s} median {med[m]:6.1f} s (min {min(walls[m]):.1f}), {med[m] / med['serial']:.2f} × serial; "
              f"a cell takes {statistics.median(inside[m]) / 32:.2f} s inside")
    print(f"cluster / serial = {med['cluster'] / med['serial']:.2f} (target ≤ 0.60, limit 0.50); "
          f"cluster / plain processes = {med['cluster'] / med['processes']:.2f}")
    startup, per_task = dask_overheads(args.workers)
    print(f"local cluster start + close: {startup:.1f} s; an empty task costs {per_task * 1e3:.2f} ms of worker time")
    med_cell = statistics.median(inside["serial"]) / 32
    print(f"a cell takes {med_cell:.2f} s (serial median): Dask's per-task cost is {per_task / med_cell:.2%} of it")
    print(f"one cell with 2 BLAS threads in one process: {one_cell_two_threads(args.epochs):.2f} s")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
