"""Run-loop overhead of every rule against a hand-written numpy loop of the same rule, in one process.

Targets: one start point per step ≤ 1.5× a hand loop doing the same work (the same compiled
f and ∇f, the same update, recording θ, f, ‖∇f‖, η and the state slots); a batch of 10,000
start points ≤ 2× the hand vectorized loop. Muon: one optimizer step on the default network
≤ 1.0× torch.optim.Muon (with torch.optim.AdamW for the non-matrices, as optviz's Muon
does) at the same number of threads. The torch adapter: its time per step on one 2-D point
against calling the torch optimizer directly.

Usage: python benchmarks/bench_optim.py [RULE ...]            (CPU time: medians)
       python benchmarks/bench_optim.py --callgrind [RULE ...] (instructions per step, exact)

The machine is shared and noisy: figures are medians of interleaved repeats of the
process's CPU time (set OPENBLAS_NUM_THREADS=1 so that it is one core's),
and ``--callgrind`` counts the instructions of each loop under valgrind (a deterministic
ratio: (I(N + 1 steps) − I(1 step)) / N for the hand loop and for optviz, same process setup).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np

from optviz.library import load_function
from optviz.optim import make_optimizer
from optviz.runner import run_optimizer

LR = {"adam": 0.01, "adadelta": 0.05, "yogi": 0.01, "adamw": 0.01, "amsgrad": 0.01, "nadam": 0.01,
      "radam": 1e-4, "adamax": 0.01, "lion": 0.001}
B1, B2, EPS = 0.9, 0.999, 1e-8


# -- the rules, written out by hand (state: a tuple of arrays; t the step number) -----------
def adam(g, s, t, lr, x):
    m, v = s
    m = B1 * m + (1 - B1) * g
    v = B2 * v + (1 - B2) * g * g
    return lr * (m / (1 - B1**t)) / (np.sqrt(v / (1 - B2**t)) + EPS), (m, v)


def adamw(g, s, t, lr, x):
    d, s = adam(g, s, t, lr, x)
    return d + lr * 0.01 * x, s


def amsgrad(g, s, t, lr, x):
    m, v, vmax = s
    m = B1 * m + (1 - B1) * g
    v = B2 * v + (1 - B2) * g * g
    vmax = np.maximum(vmax, v)
    return lr * (m / (1 - B1**t)) / (np.sqrt(vmax / (1 - B2**t)) + EPS), (m, v, vmax)


def yogi(g, s, t, lr, x):
    m, v = s
    m = B1 * m + (1 - B1) * g
    g2 = g * g
    v = v - (1 - B2) * np.sign(v - g2) * g2
    return lr * (m / (1 - B1**t)) / (np.sqrt(v / (1 - B2**t)) + 1e-3), (m, v)


_PROD = [1.0]


def nadam(g, s, t, lr, x):
    m, v = s
    mu, mu_next = (B1 * (1 - 0.5 * 0.96 ** (k * 4e-3)) for k in (t, t + 1))
    if len(_PROD) <= t:
        _PROD.append(_PROD[-1] * mu)
    prod = _PROD[t]
    m = B1 * m + (1 - B1) * g
    v = B2 * v + (1 - B2) * g * g
    denom = np.sqrt(v / (1 - B2**t)) + EPS
    return lr * ((1 - mu) / (1 - prod) * g + mu_next / (1 - prod * mu_next) * m) / denom, (m, v)


def radam(g, s, t, lr, x):
    m, v = s
    m = B1 * m + (1 - B1) * g
    v = B2 * v + (1 - B2) * g * g
    rho_inf = 2 / (1 - B2) - 1
    rho = rho_inf - 2 * t * B2**t / (1 - B2**t)
    if rho <= 5:
        return (m / (1 - B1**t)) * lr, (m, v)
    r = np.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
    return (m / (1 - B1**t)) * lr * (np.sqrt(1 - B2**t) / (np.sqrt(v) + EPS) * r), (m, v)


def adamax(g, s, t, lr, x):
    m, u = s
    m = B1 * m + (1 - B1) * g
    u = np.maximum(B2 * u, np.abs(g) + EPS)
    return (lr / (1 - B1**t)) * m / u, (m, u)


def adadelta(g, s, t, lr, x):
    sq, delta = s
    sq = 0.9 * sq + 0.1 * (g * g)
    step = np.sqrt(delta + 1e-6) / np.sqrt(sq + 1e-6) * g
    return lr * step, (sq, 0.9 * delta + 0.1 * (step * step))


def lion(g, s, t, lr, x):
    (m,) = s
    d = lr * np.sign(0.1 * g + 0.9 * m)
    return d, (0.99 * m + 0.01 * g,)


HAND = {f.__name__: f for f in (adam, adadelta, yogi, adamw, amsgrad, nadam, radam, adamax, lion)}
SLOTS = {"amsgrad": 3, "lion": 1}


def hand_single(obj, rule, x0, steps, lr):
    """The rule by hand on one point, recording θ, f, ‖g‖, η and the state like the run loop."""
    x = np.array([x0], dtype=float)
    s = tuple(np.zeros_like(x) for _ in range(SLOTS.get(rule.__name__, 2)))
    rec = [np.empty((steps + 1, 1, 2)) for _ in s]
    thetas, losses, norms, lrs = np.empty((steps + 1, 1, 2)), np.empty((steps + 1, 1)), np.empty((steps + 1, 1)), \
        np.empty((steps + 1, 1))
    f, g = obj.value_and_grad(x)
    thetas[0], losses[0], norms[0] = x, f, np.sqrt((g * g).sum(1))
    for t in range(1, steps + 1):
        d, s = rule(g, s, t, lr, x)
        x = x - d
        f, g = obj.value_and_grad(x)
        thetas[t], losses[t], norms[t], lrs[t] = x, f, np.sqrt((g * g).sum(1)), lr
        for r, slot in zip(rec, s):
            r[t] = slot
    return x


def hand_batch(obj, rule, X0, steps, lr):
    """The hand vectorized loop on K points, no recording."""
    x = X0.copy()
    s = tuple(np.zeros_like(x) for _ in range(SLOTS.get(rule.__name__, 2)))
    for t in range(1, steps + 1):
        d, s = rule(obj.grad(x), s, t, lr, x)
        x = x - d
    return x


def optviz_single(obj, name, x0, steps):
    return run_optimizer(obj, make_optimizer(name, lr=LR[name]), [x0], steps=steps, tol=0).final_theta


def optviz_batch(obj, name, X0, steps):
    return run_optimizer(obj, make_optimizer(name, lr=LR[name]), X0, steps=steps, tol=0, mode="summary").final_theta


def medians(fns, repeat):
    """Median CPU seconds of each function (the process's own time, so waiting for a busy
    core does not count), runs interleaved (a load spike hits all alike)."""
    times = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = time.process_time()
            fn()
            times[i].append(time.process_time() - t0)
    return [statistics.median(t) for t in times]


def wall_clock(names) -> None:
    obj = load_function("rosenbrock")
    x0, steps, K, steps_b = [-1.5, 2.0], 2000, 10_000, 200
    X0 = np.random.default_rng(0).uniform([-2, -1], [2, 3], size=(K, 2))
    print(f"CPU time, medians of interleaved repeats; OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print(f"{'rule':9s} {'1 point: hand':>14s} {'optviz':>9s} {'ratio':>6s}   {'10k points: hand':>17s} "
          f"{'optviz':>9s} {'ratio':>6s}")
    for name in names:
        rule, lr = HAND[name], LR[name]
        _PROD[1:] = []
        ours = optviz_single(obj, name, x0, steps)
        assert np.allclose(ours, hand_single(obj, rule, x0, steps, lr), rtol=0, atol=1e-9), name
        t_hand, t_ours = medians([lambda r=rule, n=lr: hand_single(obj, r, x0, steps, n),
                                  lambda n=name: optviz_single(obj, n, x0, steps)], 7)
        tb_hand, tb_ours = medians([lambda r=rule, n=lr: hand_batch(obj, r, X0, steps_b, n),
                                    lambda n=name: optviz_batch(obj, n, X0, steps_b)], 3)
        print(f"{name:9s} {t_hand / steps * 1e6:11.1f} µs {t_ours / steps * 1e6:6.1f} µs {t_ours / t_hand:6.2f}   "
              f"{tb_hand / (K * steps_b) * 1e9:11.1f} ns/pt {tb_ours / (K * steps_b) * 1e9:6.1f} ns "
              f"{tb_ours / tb_hand:6.2f}", flush=True)


def _instructions(args: list[str]) -> int:
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                           __file__, "--loop", *args], capture_output=True, text=True, check=True)
    return int(re.search(r"Collected : (\d+)", proc.stderr).group(1))


def callgrind(names) -> None:
    print("instructions per step under callgrind ((I(N + 1) − I(1)) / N, same setup)")
    for name in names:
        row = {}
        for kind, n in (("single", 300), ("batch", 20)):
            for who in ("hand", "optviz"):
                base = _instructions([name, kind, who, "1"])
                row[kind, who] = (_instructions([name, kind, who, str(n + 1)]) - base) / n
        print(f"{name:9s} 1 point: hand {row['single', 'hand']:,.0f} optviz {row['single', 'optviz']:,.0f} "
              f"ratio {row['single', 'optviz'] / row['single', 'hand']:.2f}   10k points: hand "
              f"{row['batch', 'hand']:,.0f} optviz {row['batch', 'optviz']:,.0f} "
              f"ratio {row['batch', 'optviz'] / row['batch', 'hand']:.2f}", flush=True)


def loop(name: str, kind: str, who: str, steps: int) -> None:
    """One measured loop (run under valgrind by :func:`callgrind`)."""
    obj = load_function("rosenbrock")
    obj.value_and_grad(np.zeros((1, 2)))  # compile before counting starts to matter
    if kind == "single":
        if who == "hand":
            hand_single(obj, HAND[name], [-1.5, 2.0], steps, LR[name])
        else:
            optviz_single(obj, name, [-1.5, 2.0], steps)
        return
    X0 = np.random.default_rng(0).uniform([-2, -1], [2, 3], size=(10_000, 2))
    if who == "hand":
        hand_batch(obj, HAND[name], X0, steps, LR[name])
    else:
        optviz_batch(obj, name, X0, steps)


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--loop":
        loop(argv[1], argv[2], argv[3], int(argv[4]))
        return
    names = [a for a in argv if not a.startswith("--")] or list(HAND)
    if "--callgrind" in argv:
        callgrind(names)
        return
    wall_clock(names)
    from bench_optim_torch import adapter_overhead, muon_step

    muon_step()
    adapter_overhead()


if __name__ == "__main__":
    main(sys.argv[1:])
