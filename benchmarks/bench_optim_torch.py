"""Muon against torch.optim.Muon, and the torch adapter's overhead (used by bench_optim.py).

Muon: one optimizer step on the default network (residual, depth 6, width 128, BatchNorm,
float32; the gradient of one minibatch of 64 digits), optviz's Muon against
torch.optim.Muon on the weight matrices plus torch.optim.AdamW on the rest (what optviz's
Muon does in one call), both at the thread count of OPENBLAS_NUM_THREADS (torch is set to
the same); CPU time, so with more than one thread it sums the threads' time. Adapter: one step on one 2-D point through ``torch:torch.optim.Adam`` against
setting ``.grad`` and calling ``step()`` on the torch optimizer directly.
Usage: OPENBLAS_NUM_THREADS=1 python benchmarks/bench_optim_torch.py
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np

from optviz.nn.data import load_data, split_and_standardize
from optviz.nn.evaluation import TRAIN_LOSSES
from optviz.nn.model import build_model
from optviz.optim import make_optimizer


def _medians(fns, repeat: int, inner: int) -> list[float]:
    """Median CPU seconds per call of each function, repeats interleaved (one thread: one core's time)."""
    times = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = time.process_time()
            for _ in range(inner):
                fn()
            times[i].append((time.process_time() - t0) / inner)
    return [statistics.median(t) for t in times]


def default_network_gradient():
    split, _ = split_and_standardize(load_data("digits", None, None, None, 0), 0.2, 0)
    net = build_model("resnet", in_dim=64, out_dim=10, depth=6, width=128, norm="bn", seed=0)
    X, y = split.X_train[:64].astype(np.float32), split.y_train[:64]
    _, dout = TRAIN_LOSSES["cross_entropy"](net.forward(X, True), y)
    return net, net.backward(dout)


def muon_step() -> None:
    try:
        import torch
    except ImportError:
        print("torch not installed: Muon and adapter comparisons skipped")
        return
    threads = int(os.environ.get("OPENBLAS_NUM_THREADS", "0") or 0) or torch.get_num_threads()
    torch.set_num_threads(threads)
    net, grads = default_network_gradient()
    kinds = net.param_kinds
    params = {k: v.copy() for k, v in net.params.items()}
    opt = make_optimizer("muon", lr=1e-3)
    state = opt.init(params, kinds=kinds)

    def ours():
        opt.step(params, grads, state)

    matrices = [k for k in params if kinds[k] == "weight"]
    layout = {k: (params[k].T if k in matrices else params[k]) for k in params}
    tp = {k: torch.nn.Parameter(torch.tensor(np.ascontiguousarray(v))) for k, v in layout.items()}
    for k in params:
        tp[k].grad = torch.tensor(np.ascontiguousarray(grads[k].T if k in matrices else grads[k]))
    muon = torch.optim.Muon([tp[k] for k in matrices], lr=1e-3)
    adamw = torch.optim.AdamW([tp[k] for k in params if k not in matrices], lr=1e-3)

    def theirs():
        muon.step()
        adamw.step()

    ours()
    theirs()
    t_ours, t_theirs = _medians([ours, theirs], 11, 5)
    shapes = sorted({tuple(params[k].shape) for k in matrices})
    print(f"Muon, one step of the default network ({len(matrices)} matrices {shapes}, float32, {threads} thread(s)):")
    print(f"  torch.optim.Muon + AdamW {t_theirs * 1e3:7.2f} ms   optviz muon {t_ours * 1e3:7.2f} ms   "
          f"ratio {t_ours / t_theirs:.2f} (target ≤ 1.0)")


def adapter_overhead() -> None:
    try:
        import torch
    except ImportError:
        return
    g = np.array([[0.3, -1.2]])
    adapter = make_optimizer("torch:torch.optim.Adam", lr=1e-3)
    x, state = np.array([[-1.5, 2.0]]), None
    state = adapter.init(x)

    def through_adapter():
        nonlocal x, state
        x, state = adapter.step(x, g, state)

    p = torch.nn.Parameter(torch.tensor([-1.5, 2.0], dtype=torch.float64))
    direct_opt = torch.optim.Adam([p], lr=1e-3)
    gt = torch.tensor([0.3, -1.2], dtype=torch.float64)

    def direct():
        p.grad = gt
        direct_opt.step()

    own = make_optimizer("adam", lr=1e-3)
    xo, so = np.array([[-1.5, 2.0]]), own.init(np.array([[-1.5, 2.0]]))

    def optviz_adam():
        nonlocal xo, so
        xo, so = own.step(xo, g, so)

    times = _medians([direct, through_adapter, optviz_adam], 11, 300)
    print("one Adam step on one 2-D point (optimizer step only):")
    print(f"  torch.optim.Adam directly {times[0] * 1e6:6.1f} µs   through the adapter {times[1] * 1e6:6.1f} µs "
          f"(+{(times[1] - times[0]) * 1e6:.1f} µs, {times[1] / times[0]:.2f}×)   optviz adam {times[2] * 1e6:6.1f} µs")


if __name__ == "__main__":
    muon_step()
    adapter_overhead()
