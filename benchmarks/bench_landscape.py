"""Time of a 41×41 loss landscape on digits for one optimizer, against a target and a naive loop.

Setup: the default network (residual MLP, depth 6, width 128, BatchNorm), Adam 1e-3
for 10 epochs on digits with weights recorded every 5 steps. Measured:

- ``landscape(result, "adam", plane=..., resolution=41)``: the whole call (plane,
  1681 grid points, the path's true and projected losses), for both planes.
  Target: ≤ 30 s per optimizer on this 2-core machine.
- A naive reference on a 9×9 grid of the same plane: for each point, rebuild the
  weights as a dict, ``set_state`` (parameters and θ*'s running statistics) and run
  ``Model.forward`` in evaluation mode over the training data in minibatches of 64,
  averaging the loss — what a straightforward per-point loop does. Its per-point time
  gives the ratio to optviz's grid per point, and the two surfaces are compared.

Usage: python benchmarks/bench_landscape.py [--resolution 41]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from optviz.nn import load_digits, softmax_cross_entropy
from optviz.nn.landscape import _Evaluator, _final_vector, landscape, random_plane
from optviz.nn.train import train, unflatten_params

TARGET = 30.0


def naive_grid(result, label, plane, alphas, betas, batch=64):
    theta = _final_vector(result, label)
    net = result.model(label)
    stats = {
        k: v for k, v in net.get_state().items() if k.endswith(("running_mean", "running_var"))
    }
    X, y = result.split.X_train, result.split.y_train
    out = np.empty((len(betas), len(alphas)))
    for j, b in enumerate(betas):
        for i, a in enumerate(alphas):
            params = unflatten_params(theta + a * plane.d1 + b * plane.d2, result.param_layout)
            net.set_state({**params, **stats})
            total = 0.0
            for lo in range(0, len(y), batch):
                value, _ = softmax_cross_entropy(
                    net.forward(X[lo : lo + batch], False), y[lo : lo + batch]
                )
                total += value * len(y[lo : lo + batch])
            out[j, i] = total / len(y)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=41)
    parser.add_argument("--naive", type=int, default=9, help="grid size of the naive reference")
    args = parser.parse_args()
    t0 = time.perf_counter()
    result = train(
        load_digits(),
        [("adam", {"lr": 1e-3})],
        model={"arch": "resnet", "depth": 6, "width": 128, "norm": "bn"},
        epochs=10,
        batch_size=64,
        record_weights=5,
    )
    n = len(result.split.y_train)
    print(
        f"trained the default network (10 epochs, {len(result.runs[0].snapshots)} snapshots) "
        f"in {time.perf_counter() - t0:.1f} s; {n} training samples; "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
    )

    R = args.resolution
    for plane in ("pca", "random"):
        t0 = time.perf_counter()
        land = landscape(result, "adam", plane=plane, resolution=R)
        dt = time.perf_counter() - t0
        verdict = "meets" if dt <= TARGET else "misses"
        print(
            f"landscape {plane:>6} {R}×{R}: {dt:6.2f} s  = {dt / TARGET:.2f}× the {TARGET:.0f} s target "
            f"({verdict}); {1e3 * dt / R**2:.2f} ms per grid point incl. the path; "
            f"loss {land.loss.min():.3g}…{land.loss.max():.3g}"
        )

    # naive per-point loop against the same evaluation on a small grid
    plane = random_plane(result, "adam")
    g = args.naive
    alphas = betas = np.linspace(-1, 1, g)
    t0 = time.perf_counter()
    slow = naive_grid(result, "adam", plane, alphas, betas)
    naive_pt = (time.perf_counter() - t0) / g**2
    ev = _Evaluator(result, "adam")
    t0 = time.perf_counter()
    fast = ev.grid(_final_vector(result, "adam"), plane, alphas, betas)
    fast_pt = (time.perf_counter() - t0) / g**2
    err = float(np.max(np.abs(fast - slow) / np.maximum(np.abs(slow), 1e-12)))
    print(
        f"naive per-point loop ({g}×{g}, minibatches of 64, Model.forward): {1e3 * naive_pt:.2f} ms/point; "
        f"optviz grid: {1e3 * fast_pt:.2f} ms/point -> {naive_pt / fast_pt:.2f}× faster "
        f"(a {R}×{R} grid the naive way: ~{naive_pt * R**2:.0f} s); largest relative difference {err:.1e}"
    )


if __name__ == "__main__":
    main()
