"""One training step of the default network: optviz (numpy) against torch, same process.

The default network of ``optviz train``: residual MLP, depth 6 (3 blocks), width 128,
BatchNorm, ReLU, 64 inputs (digits), 10 classes; a batch of 128 in float32; one step
is forward (training mode) + softmax cross-entropy + backward + Adam update.

- optviz: ``optviz.nn.train.Stepper.step``, exactly the inner loop of ``train``.
- torch: the same network, f32, with the fastest Adam that works on this CPU
  (``fused=True``, else ``foreach=True``), also the plain for-loop Adam; skipped
  (and said so) when torch is not installed.

Both use the same number of threads: ``--threads N`` sets OPENBLAS_NUM_THREADS (and
OMP_NUM_THREADS) before numpy is imported and torch.set_num_threads(N); default: all
cores (2 here). With 2 threads both libraries are very sensitive to another process
on the machine (their threads wait for each other at every product), 1 thread much
less so; run both when the machine is shared.

Timing: the median over rounds of the mean of 50 steps; the sides take turns round
by round (so background load hits both), each turn starting with 20 untimed steps so
that the other library's spinning threads have gone idle. The minimum is printed
too. Target: optviz ≤ 1.0× torch's fastest variant.

Usage: python benchmarks/bench_train.py [--rounds 15] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

if __name__ == "__main__":  # the thread count must be set before numpy is imported
    for i, arg in enumerate(sys.argv):
        if arg.startswith("--threads"):
            n = arg.split("=", 1)[1] if "=" in arg else sys.argv[i + 1]
            os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = n

import numpy as np  # noqa: E402

from optviz.nn import build_model, softmax_cross_entropy  # noqa: E402
from optviz.nn.train import Stepper  # noqa: E402
from optviz.optim import make_optimizer  # noqa: E402

BATCH, IN, OUT, WIDTH, DEPTH = 128, 64, 10, 128, 6
STEPS = 50
WARM = 20


def numpy_step_fn(X, y):
    net = build_model("resnet", IN, OUT, DEPTH, WIDTH, "bn", seed=0)
    stepper = Stepper(net, make_optimizer("adam", lr=1e-3), softmax_cross_entropy, net.param_kinds)

    def step():
        stepper.step(X, y)

    return step, net


def torch_step_fns(X, y, threads):
    try:
        import torch
    except ImportError:
        return None, {}
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, n_in, n_out):
            super().__init__()
            self.main = nn.Sequential(
                nn.Linear(n_in, n_out),
                nn.BatchNorm1d(n_out, momentum=0.1),
                nn.ReLU(),
                nn.Linear(n_out, n_out),
                nn.BatchNorm1d(n_out, momentum=0.1),
            )
            self.shortcut = nn.Linear(n_in, n_out) if n_in != n_out else None

        def forward(self, x):
            skip = x if self.shortcut is None else self.shortcut(x)
            return torch.relu(self.main(x) + skip)

    def make_net():
        torch.manual_seed(0)
        blocks = [Block(IN if i == 0 else WIDTH, WIDTH) for i in range(DEPTH // 2)]
        return nn.Sequential(*blocks, nn.Linear(WIDTH, OUT))

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    fns = {}
    for name, kw in (
        ("fused", {"fused": True}),
        ("foreach", {"foreach": True}),
        ("for-loop", {"foreach": False}),
    ):
        net = make_net()
        try:
            opt = torch.optim.Adam(net.parameters(), lr=1e-3, **kw)

            def step(net=net, opt=opt):
                opt.zero_grad(set_to_none=True)
                torch.nn.functional.cross_entropy(net(Xt), yt).backward()
                opt.step()

            step()
        except (RuntimeError, TypeError) as exc:
            print(f"torch Adam {name}: not available here ({str(exc).splitlines()[0]})")
            continue
        fns[f"torch Adam {name}"] = step
    return torch.__version__, fns


def per_step(fn) -> float:
    t0 = time.perf_counter()
    for _ in range(STEPS):
        fn()
    return (time.perf_counter() - t0) / STEPS


def check_float32(net) -> None:
    """No float64 anywhere in the parameters, the gradients or the activations' caches."""
    kinds = {np.dtype(v.dtype).name for v in net.params.values()}
    kinds |= {np.dtype(v.dtype).name for v in net.running_stats.values()}
    assert kinds == {"float32"}, kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=None, help="threads for numpy and torch")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(BATCH, IN)).astype(np.float32)
    y = rng.integers(0, OUT, BATCH).astype(np.int64)
    threads = args.threads or int(os.environ.get("OPENBLAS_NUM_THREADS", os.cpu_count() or 1))

    ours, net = numpy_step_fn(X, y)
    version, theirs = torch_step_fns(X, y, threads)
    fns = {"optviz (numpy)": ours, **theirs}
    for fn in fns.values():
        for _ in range(30):
            fn()
    check_float32(net)
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(args.rounds):
        for name, fn in fns.items():
            # the other library's idle threads spin for a while after its last call: let
            # them settle (untimed steps) so that neither side pays for the other
            for _ in range(WARM):
                fn()
            times[name].append(per_step(fn))
    med = {name: statistics.median(ts) for name, ts in times.items()}

    print(
        f"one step, resnet depth {DEPTH} width {WIDTH} BN, batch {BATCH}, float32, Adam; "
        f"{threads} thread(s), load average {os.getloadavg()[0]:.2f}, numpy {np.__version__}"
        + (f", torch {version}" if version else "")
    )
    print(f"median over {args.rounds} rounds of {STEPS} steps (min in brackets)")
    for name, value in med.items():
        print(f"  {name:<22} {value * 1e3:6.2f} ms  ({min(times[name]) * 1e3:.2f})")
    if not theirs:
        print("torch is not installed: no reference measured")
        return
    best = min((v, k) for k, v in med.items() if k.startswith("torch"))
    ratio = med["optviz (numpy)"] / best[0]
    verdict = "meets" if ratio <= 1.0 else "misses"
    print(f"optviz / fastest torch ({best[1]}): {ratio:.2f}×  -> {verdict} the ≤ 1.0× target")


if __name__ == "__main__":
    main()
