"""The image layers alone: optviz (numpy) against torch.nn.functional, same process, float32.

The layers of the default residual CNN on 8×8 digits at batch 64, C its channel count
(``DEFAULT_CHANNELS["resnet-cnn"]``, 32) (N, c_in → c_out, k, s, p, H×W):

- stem       1 → C, 3×3, s1, p1 on 8×8 (the first layer: no ∂l/∂x on either side)
- block      C → C, 3×3, s1, p1 on 8×8
- down       C → 2C, 3×3, s2, p1 on 8×8
- block2     2C → 2C, 3×3, s1, p1 on 4×4
- shortcut   C → 2C, 1×1, s2, p0 on 8×8
- BatchNorm2d over (64, C, 8, 8) and (64, 2C, 4, 4), training mode, against torch's
  batch_norm;
- resnet: the default residual CNN of ``optviz train --arch resnet-cnn``
  (``build_model("resnet-cnn")``: stem conv3×3 1→C–BN–ReLU, a residual block C→C, a
  residual block C→2C with stride 2 and a 1×1 convolution on the shortcut, each block
  conv3×3–BN–ReLU–conv3×3–BN + shortcut, ReLU; global average pool; Linear 2C→10) with
  softmax cross-entropy, against the same torch network: forward, and forward + loss +
  backward;
- step: one whole training step of that network — forward, loss, backward and Adam —
  as ``optviz train`` takes it (``optviz.nn.stepper.Stepper``: the parameters packed
  into a few flat arrays for Adam), against torch with the same network and its fastest
  CPU Adam (``fused=True`` and ``foreach=True`` both timed, the faster shown).

"fwd" is a training-mode forward (torch's records its autograd graph); "fwd+bwd" adds
the backward for a fixed ∂l/∂y (∂l/∂x and every parameter gradient; for resnet, the loss
and its gradient). optviz gets its inputs channels-last in memory, as its layers hand
them to each other; torch runs both its contiguous and channels_last formats, and the
faster one is shown (its name in the last column).

Threads: ``--threads N`` runs one process with OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = N
set before numpy is imported (and, when threadpoolctl is installed, its limit on the
BLAS too), and torch.set_num_threads(N); without it the script runs itself once with 1
and once with 2 threads. Timing: the sides take turns round by round
(background load hits both); each turn runs a few untimed calls, then the mean of
``--reps`` calls; the median over rounds is reported, the minimum in brackets. On a
shared machine, ``--cpu-clock`` times the one-thread run in thread CPU time instead of
wall-clock time (with one thread both libraries compute on the calling thread, so the
time another process holds the core is left out); two threads are always wall clock.

Usage: python benchmarks/bench_conv.py [--rounds 15] [--reps 40] [--threads N] [--cpu-clock]
[--only resnet,step]

What was tried, and what it gave, is in benchmarks/conv_notes.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import time

if __name__ == "__main__":  # the thread count must be set before numpy is imported
    for i, arg in enumerate(sys.argv):
        if arg.startswith("--threads"):
            n = arg.split("=", 1)[1] if "=" in arg else sys.argv[i + 1]
            os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = n

import numpy as np  # noqa: E402

from optviz.nn import BatchNorm2d, Conv2d, build_model, softmax_cross_entropy  # noqa: E402
from optviz.nn.cnn_models import DEFAULT_CHANNELS  # noqa: E402
from optviz.nn.stepper import Stepper  # noqa: E402
from optviz.optim import make_optimizer  # noqa: E402

N = 64
C = DEFAULT_CHANNELS["resnet-cnn"]
CONVS = [  # name, c_in, c_out, k, s, p, side
    ("stem", 1, C, 3, 1, 1, 8),
    ("block", C, C, 3, 1, 1, 8),
    ("down", C, 2 * C, 3, 2, 1, 8),
    ("block2", 2 * C, 2 * C, 3, 1, 1, 4),
    ("shortcut", C, 2 * C, 1, 2, 0, 8),
]
NORMS = [("bn", C, 8), ("bn2", 2 * C, 4)]
WARM = 5


def channels_last(a: np.ndarray) -> np.ndarray:
    """The same (N, C, H, W) values, stored (N, H, W, C) in memory."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


def optviz_cases(rng) -> dict[str, tuple]:
    """name → (forward, forward+backward) closures of optviz's layers."""
    cases = {}
    for name, c_in, c_out, k, s, p, side in CONVS:
        layer = Conv2d(c_in, c_out, k, stride=s, padding=p, rng=rng)
        layer.skip_input_grad = c_in == 1
        x = channels_last(rng.normal(size=(N, c_in, side, side)).astype(np.float32))
        dy = channels_last(rng.normal(size=layer.forward(x, True).shape).astype(np.float32))
        cases[name] = _pair(layer, x, dy)
    for name, c, side in NORMS:
        layer = BatchNorm2d(c)
        x = channels_last(rng.normal(size=(N, c, side, side)).astype(np.float32))
        dy = channels_last(rng.normal(size=x.shape).astype(np.float32))
        cases[name] = _pair(layer, x, dy)
    cases["resnet"] = _resnet_pair(rng)
    cases["step"] = _step_pair(rng)
    return cases


def _resnet_pair(rng):
    net = build_model("resnet-cnn", in_dim=64, out_dim=10, seed=0)
    x = rng.normal(size=(N, 64)).astype(np.float32)
    y = rng.integers(0, 10, N)

    def fwd():
        net.forward(x, True)

    def fwd_bwd():
        net.backward(softmax_cross_entropy(net.forward(x, True), y)[1])

    return fwd, fwd_bwd


def _step_pair(rng):
    """(forward, one training step) of optviz's default residual CNN with Adam."""
    net = build_model("resnet-cnn", in_dim=64, out_dim=10, seed=0)
    stepper = Stepper(net, make_optimizer("adam", lr=1e-3), softmax_cross_entropy, net.param_kinds)
    x = rng.normal(size=(N, 64)).astype(np.float32)
    y = rng.integers(0, 10, N)

    def fwd():
        net.forward(x, True)

    def step():
        stepper.step(x, y)

    return fwd, step


def _pair(layer, x, dy):
    def fwd():
        layer.forward(x, True)

    def fwd_bwd():
        layer.forward(x, True)
        layer.backward(dy)

    return fwd, fwd_bwd


def torch_cases(rng, threads: int) -> tuple[str, dict[str, dict[str, tuple]]]:
    """name → {format: (forward, forward+backward)} for torch, or {} without torch."""
    try:
        import torch
    except ImportError:
        return "", {}
    torch.set_num_threads(threads)
    F = torch.nn.functional
    formats = {"contiguous": torch.contiguous_format, "channels_last": torch.channels_last}
    cases: dict[str, dict[str, tuple]] = {}
    for name, c_in, c_out, k, s, p, side in CONVS:
        w = torch.randn(c_out, c_in, k, k, requires_grad=True)
        b = torch.zeros(c_out, requires_grad=True)
        cases[name] = {}
        for label, fmt in formats.items():
            x = torch.randn(N, c_in, side, side).contiguous(memory_format=fmt)
            x.requires_grad_(c_in != 1)
            dy = torch.randn_like(F.conv2d(x, w, b, s, p))

            def f(x=x, w=w, b=b, s=s, p=p):
                return F.conv2d(x, w, b, s, p)

            cases[name][label] = _torch_pair(torch, f, dy)
    for name, c, side in NORMS:
        g, b = torch.ones(c, requires_grad=True), torch.zeros(c, requires_grad=True)
        rm, rv = torch.zeros(c), torch.ones(c)
        cases[name] = {}
        for label, fmt in formats.items():
            x = torch.randn(N, c, side, side).contiguous(memory_format=fmt).requires_grad_()

            def f(x=x, g=g, b=b, rm=rm, rv=rv):
                return F.batch_norm(x, rm, rv, g, b, True, 0.1, 1e-5)

            cases[name][label] = _torch_pair(torch, f, torch.randn_like(x))
    cases["resnet"], cases["step"] = _torch_resnet(torch, formats)
    return torch.__version__, cases


def torch_resnet(torch, channels: int):
    """The torch network of ``build_model("resnet-cnn")``: same layers, convolutions followed by
    BatchNorm without bias, the 1×1 shortcut with one."""
    nn = torch.nn

    class Residual(nn.Module):
        def __init__(self, c_in, c_out, s):
            super().__init__()
            self.main = nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, s, 1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
                nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False),
                nn.BatchNorm2d(c_out),
            )
            self.short = nn.Conv2d(c_in, c_out, 1, s) if (c_in, s) != (c_out, 1) else None

        def forward(self, x):
            return torch.relu(self.main(x) + (x if self.short is None else self.short(x)))

    c = channels
    return nn.Sequential(
        nn.Conv2d(1, c, 3, 1, 1, bias=False),
        nn.BatchNorm2d(c),
        nn.ReLU(),
        Residual(c, c, 1),
        Residual(c, 2 * c, 2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(2 * c, 10),
    )


def _torch_resnet(torch, formats) -> tuple[dict[str, tuple], dict[str, tuple]]:
    """The layers (forward, forward + loss + backward) and the step (forward, training step) cases."""
    channels = DEFAULT_CHANNELS["resnet-cnn"]
    layers, steps = {}, {}
    for label, fmt in formats.items():
        net = torch_resnet(torch, channels).to(memory_format=fmt)
        x = torch.randn(N, 1, 8, 8).contiguous(memory_format=fmt)
        y = torch.randint(0, 10, (N,))

        def fwd(net=net, x=x):
            net(x)

        def fwd_bwd(net=net, x=x, y=y):
            net.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(net(x), y).backward()

        layers[label] = (fwd, fwd_bwd)
        for kind in ("fused", "foreach"):
            opt = torch.optim.Adam(net.parameters(), lr=1e-3, **{kind: True})

            def step(net=net, x=x, y=y, opt=opt):
                opt.zero_grad(set_to_none=True)
                torch.nn.functional.cross_entropy(net(x), y).backward()
                opt.step()

            steps[f"{label}, {kind} Adam"] = (fwd, step)
    return layers, steps


def _torch_pair(torch, f, dy):
    def fwd():  # with the autograd graph, as in training (optviz keeps its caches)
        f()

    def fwd_bwd():
        f().backward(dy)

    return fwd, fwd_bwd


def timed(fn, reps: int, clock) -> float:
    for _ in range(WARM):
        fn()
    t0 = clock()
    for _ in range(reps):
        fn()
    return (clock() - t0) / reps


def measure(fns: dict[str, object], rounds: int, reps: int, clock) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            times[k].append(timed(fn, reps, clock))
    return times


def blas_limit(threads: int):
    """threadpoolctl's limit on the BLAS threads when it is installed, else nothing to do."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")


def run(threads: int, rounds: int, reps: int, cpu_clock: bool, only: list[str] | None = None) -> None:
    with blas_limit(threads):
        _run(threads, rounds, reps, cpu_clock and threads == 1, only)


def _run(threads: int, rounds: int, reps: int, cpu_clock: bool, only: list[str] | None) -> None:
    rng = np.random.default_rng(0)
    ours = optviz_cases(rng)
    version, theirs = torch_cases(rng, threads)
    if only:
        ours = {k: v for k, v in ours.items() if k in only}
    clock = time.thread_time if cpu_clock else time.perf_counter
    print(
        f"{threads} thread(s); numpy {np.__version__}"
        + (f", torch {version}" if version else ", torch not installed")
        + f"; load average {os.getloadavg()[0]:.2f}; median of {rounds} rounds (min), "
        + ("thread CPU time" if cpu_clock else "wall clock")
    )
    print(f"  {'layer':<9} {'pass':<8} {'optviz':>15} {'torch':>15} {'ratio':>6}  torch format")
    for name, (fwd, fwd_bwd) in ours.items():
        for i, label in enumerate(("fwd", "fwd+bwd")):
            if name == "step" and i == 0:
                continue  # the step's forward is the resnet's
            label = "step" if name == "step" else label
            fns = {"optviz": (fwd, fwd_bwd)[i]}
            fns.update({fmt: pair[i] for fmt, pair in theirs.get(name, {}).items()})
            times = measure(fns, rounds, reps, clock)
            med = {k: statistics.median(v) * 1e6 for k, v in times.items()}
            low = {k: min(v) * 1e6 for k, v in times.items()}
            mine = f"{med['optviz']:7.0f} ({low['optviz']:5.0f})"
            if len(fns) == 1:
                print(f"  {name:<9} {label:<8} {mine} µs")
                continue
            best = min((v, k) for k, v in med.items() if k != "optviz")[1]
            ref = f"{med[best]:7.0f} ({low[best]:5.0f})"
            ratio = med["optviz"] / med[best]
            print(f"  {name:<9} {label:<8} {mine} {ref} {ratio:5.2f}×  {best}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--reps", type=int, default=40)
    parser.add_argument("--threads", type=int, default=None, help="threads for numpy and torch")
    parser.add_argument(
        "--cpu-clock", action="store_true", help="one thread: time in thread CPU time"
    )
    parser.add_argument("--only", default=None, help="comma list of cases, e.g. resnet,step")
    args = parser.parse_args()
    only = args.only.split(",") if args.only else None
    if args.threads is not None:
        run(args.threads, args.rounds, args.reps, args.cpu_clock, only)
        return
    for threads in (1, 2):
        cmd = [sys.executable, __file__, "--threads", str(threads)]
        cmd += ["--rounds", str(args.rounds), "--reps", str(args.reps)]
        cmd += ["--only", args.only] if args.only else []
        subprocess.run(cmd + (["--cpu-clock"] if args.cpu_clock else []), check=True)


if __name__ == "__main__":
    main()
