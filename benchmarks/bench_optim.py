"""Run-loop overhead against hand-written loops, in one process.

Targets: one start point per step ≤ 1.5× a hand loop doing the same work (the
same compiled f and ∇f, the same Adam update, recording θ and f); a batch of
10,000 start points ≤ 2× the hand vectorized loop. Also torch.optim's time per
step when torch is installed. Usage: python benchmarks/bench_optim.py
"""

from __future__ import annotations

import time

import numpy as np

from optviz.library import load_function
from optviz.optim import make_optimizer
from optviz.runner import run_optimizer

LR, B1, B2, EPS = 0.01, 0.9, 0.999, 1e-8


def hand_single(obj, x0, steps):
    """Adam by hand on one point, recording θ, f, ‖g‖, η and the state (m, v) like the run loop."""
    x = np.array([x0], dtype=float)
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    ms = np.empty((steps + 1, 1, 2))
    vs = np.empty((steps + 1, 1, 2))
    lrs = np.empty((steps + 1, 1))
    thetas = np.empty((steps + 1, 1, 2))
    losses = np.empty((steps + 1, 1))
    norms = np.empty((steps + 1, 1))
    f, g = obj.value_and_grad(x)
    thetas[0], losses[0], norms[0] = x, f, np.sqrt((g * g).sum(1))
    for t in range(1, steps + 1):
        m = B1 * m + (1 - B1) * g
        v = B2 * v + (1 - B2) * g * g
        m_hat, v_hat = m / (1 - B1**t), v / (1 - B2**t)
        x = x - LR * m_hat / (np.sqrt(v_hat) + EPS)
        f, g = obj.value_and_grad(x)
        thetas[t], losses[t], norms[t] = x, f, np.sqrt((g * g).sum(1))
        ms[t], vs[t], lrs[t] = m, v, LR
    return x


def hand_batch(obj, X0, steps):
    """The hand vectorized loop: Adam on K points, no recording."""
    x = X0.copy()
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    for t in range(1, steps + 1):
        g = obj.grad(x)
        m = B1 * m + (1 - B1) * g
        v = B2 * v + (1 - B2) * g * g
        x = x - LR * (m / (1 - B1**t)) / (np.sqrt(v / (1 - B2**t)) + EPS)
    return x


def best_of(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    obj = load_function("rosenbrock")
    steps = 2000
    x0 = [-1.5, 2.0]
    t_hand, x_hand = best_of(lambda: hand_single(obj, x0, steps))
    t_ours, traj = best_of(lambda: run_optimizer(obj, make_optimizer("adam", lr=LR), [x0], steps=steps, tol=0))
    assert np.allclose(traj.final_theta, x_hand, rtol=0, atol=1e-12)
    print(f"single point, {steps} Adam steps on Rosenbrock (full record):")
    print(f"  hand loop   {t_hand / steps * 1e6:7.2f} µs/step")
    print(f"  optviz      {t_ours / steps * 1e6:7.2f} µs/step   ratio {t_ours / t_hand:.2f} (target ≤ 1.5)")

    K, steps_b = 10_000, 200
    rng = np.random.default_rng(0)
    X0 = rng.uniform([-2, -1], [2, 3], size=(K, 2))
    t_hand_b, xb = best_of(lambda: hand_batch(obj, X0, steps_b), repeat=3)
    t_sum, traj_b = best_of(lambda: run_optimizer(obj, make_optimizer("adam", lr=LR), X0, steps=steps_b, tol=0,
                                                  mode="summary"), repeat=3)
    assert np.allclose(traj_b.final_theta, xb, rtol=0, atol=1e-12)
    per = K * steps_b
    print(f"batch of {K} points, {steps_b} Adam steps:")
    print(f"  hand vectorized loop  {t_hand_b / per * 1e9:6.1f} ns/point-step")
    print(f"  optviz (summary)      {t_sum / per * 1e9:6.1f} ns/point-step   ratio {t_sum / t_hand_b:.2f} (target ≤ 2)")
    t_full, _ = best_of(lambda: run_optimizer(obj, make_optimizer("adam", lr=LR), X0, steps=steps_b, tol=0), repeat=2)
    print(f"  optviz (full record)  {t_full / per * 1e9:6.1f} ns/point-step   ratio {t_full / t_hand_b:.2f}")

    try:
        import torch
    except ImportError:
        print("torch not installed: torch.optim timing skipped")
        return
    torch.set_num_threads(1)
    p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=LR)

    def torch_loop():
        for _ in range(steps):
            opt.zero_grad()
            loss = (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
            loss.backward()
            opt.step()

    t_torch, _ = best_of(torch_loop, repeat=3)
    print(f"torch.optim.Adam (autograd, 1 point): {t_torch / steps * 1e6:7.2f} µs/step")


if __name__ == "__main__":
    main()
