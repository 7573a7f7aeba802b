"""Threads for training: optviz's default against one and two BLAS threads, idle and
with one core kept busy.

The workload is ``optviz train --no-plot --epochs E`` (the default residual network,
depth 6, width 128, BatchNorm, on the digits, Adam and SGD-momentum): each measurement
is a fresh ``python`` process whose environment has no OPENBLAS_NUM_THREADS,
OMP_NUM_THREADS or MKL_NUM_THREADS (so BLAS would take every core), and which times
``optviz.train(...)`` itself, import excluded. Configurations:

- ``default``: ``optviz.train`` as a user calls it (``threads`` not given);
- ``one``: ``threads=1``;
- ``all``: ``threads=os.cpu_count()``, what BLAS did before optviz set the count.

Conditions: ``idle`` (nothing else started by this script) and ``busy`` (one process
spinning ``while True: pass`` on a core for the whole phase). Configurations take turns
(interleaved, in a shuffled order each round) so that slow drifts of the machine's load
hit all of them; the result is the median of ``--rounds`` runs (at least 5), with the
CPU time of the child (user + system) and the load average before and after each phase.

Targets: default ≤ 1.02× one thread idle, ≤ 1.1× one thread with a busy core.

With two threads a loaded machine can make a run 20× slower; ``--configs default,one``
leaves the ``all`` configuration out.

Usage: python benchmarks/bench_threads.py [--rounds 7] [--epochs 10] [--configs default,one,all]
[--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time

CHILD = """
import sys, time, json
import optviz
threads = json.loads(sys.argv[1])
kwargs = {} if threads is None else {"threads": threads}
t0 = time.perf_counter()
optviz.train(epochs=int(sys.argv[2]), **kwargs)
print(time.perf_counter() - t0)
"""
CONFIGS = {"default": None, "one": 1, "all": os.cpu_count() or 1}
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    env["MPLBACKEND"] = "Agg"
    return env


def measure(threads: int | None, epochs: int) -> tuple[float, float]:
    """(wall seconds of optviz.train in the child, CPU seconds of the whole child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(threads), str(epochs)], env=child_env(),
                          capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return float(proc.stdout.strip().splitlines()[-1]), cpu


def phase(name: str, rounds: int, epochs: int, rng: random.Random, configs: list[str]) -> dict:
    busy = None
    if name == "busy":
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(1.0)
    load_before = os.getloadavg()
    times: dict[str, list[float]] = {c: [] for c in configs}
    cpus: dict[str, list[float]] = {c: [] for c in configs}
    try:
        for _ in range(rounds):
            order = list(configs)
            rng.shuffle(order)
            for config in order:
                wall, cpu = measure(CONFIGS[config], epochs)
                times[config].append(wall)
                cpus[config].append(cpu)
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    load_after = os.getloadavg()
    median = {c: statistics.median(v) for c, v in times.items()}
    return {"condition": name, "load_before": load_before, "load_after": load_after, "times": times,
            "cpu": cpus, "median": median, "median_cpu": {c: statistics.median(v) for c, v in cpus.items()},
            "ratio_to_one": {c: median[c] / median["one"] for c in configs}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--configs", default="default,one,all")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    configs = [c.strip() for c in args.configs.split(",")]
    if args.rounds < 5:
        parser.error("--rounds must be at least 5")
    if "one" not in configs or not set(configs) <= set(CONFIGS):
        parser.error(f"--configs: a comma list of {', '.join(CONFIGS)} that includes one")
    import numpy as np

    rng = random.Random(0)
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, numpy {np.__version__}; "
          f"optviz train --no-plot --epochs {args.epochs}; median of {args.rounds} interleaved runs")
    out = {"cores": os.cpu_count(), "epochs": args.epochs, "rounds": args.rounds, "phases": []}
    for name in ("idle", "busy"):
        res = phase(name, args.rounds, args.epochs, rng, configs)
        out["phases"].append(res)
        print(f"\n{name}: load average {res['load_before'][0]:.2f} before, {res['load_after'][0]:.2f} after")
        for config in configs:
            t = res["times"][config]
            print(f"  {config:8s} threads={CONFIGS[config]!s:5s} median {res['median'][config]:6.2f} s "
                  f"(min {min(t):6.2f}, max {max(t):6.2f})  CPU {res['median_cpu'][config]:6.2f} s  "
                  f"{res['ratio_to_one'][config]:.2f}× one thread")
    if "default" in configs:
        idle, busy = (p["ratio_to_one"]["default"] for p in out["phases"])
        print(f"\ndefault / one thread: idle {idle:.3f} (target ≤ 1.02), busy core {busy:.3f} (target ≤ 1.1)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
