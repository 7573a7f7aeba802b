"""The image layers alone: optviz (numpy) against torch.nn.functional, same process, float32.

Shapes of a small ResNet on 8×8 digits at batch 64 (N, c_in → c_out, k, s, p, H×W):

- stem       1 → 16, 3×3, s1, p1 on 8×8 (the first layer: no ∂l/∂x on either side)
- block      16 → 16, 3×3, s1, p1 on 8×8
- down       16 → 32, 3×3, s2, p1 on 8×8
- block2     32 → 32, 3×3, s1, p1 on 4×4
- shortcut   16 → 32, 1×1, s2, p0 on 8×8
- BatchNorm2d over (64, 16, 8, 8) and (64, 32, 4, 4), training mode, and the fused
  BatchNorm2d + ReLU, against torch's batch_norm (+ relu).

"fwd" is a training-mode forward; "fwd+bwd" adds the backward for a fixed ∂l/∂y (∂l/∂x
and every parameter gradient). optviz gets its inputs channels-last in memory, as its
layers hand them to each other; torch gets the faster of its contiguous and
channels_last formats (both are printed).

Threads: ``--threads N`` runs one process with OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = N
set before numpy is imported, and torch.set_num_threads(N); without it the script runs
itself once with 1 and once with 2 threads. Timing: the sides take turns round by round
(background load hits both); each turn runs a few untimed calls, then the mean of
``--reps`` calls; the median over rounds is reported, the minimum in brackets.

Usage: python benchmarks/bench_conv.py [--rounds 15] [--reps 40] [--threads N]

What was tried, and what it gave, is in benchmarks/conv_notes.md.
"""

from __future__ import annotations

import argparse
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

from optviz.nn import BatchNorm2d, Conv2d  # noqa: E402

N = 64
CONVS = [  # name, c_in, c_out, k, s, p, side
    ("stem", 1, 16, 3, 1, 1, 8),
    ("block", 16, 16, 3, 1, 1, 8),
    ("down", 16, 32, 3, 2, 1, 8),
    ("block2", 32, 32, 3, 1, 1, 4),
    ("shortcut", 16, 32, 1, 2, 0, 8),
]
NORMS = [("bn", 16, 8), ("bn2", 32, 4)]
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
    return cases


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
    return torch.__version__, cases


def _torch_pair(torch, f, dy):
    def fwd():
        with torch.no_grad():
            f()

    def fwd_bwd():
        f().backward(dy)

    return fwd, fwd_bwd


def timed(fn, reps: int) -> float:
    for _ in range(WARM):
        fn()
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


def measure(fns: dict[str, object], rounds: int, reps: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            times[k].append(timed(fn, reps))
    return times


def run(threads: int, rounds: int, reps: int) -> None:
    rng = np.random.default_rng(0)
    ours = optviz_cases(rng)
    version, theirs = torch_cases(rng, threads)
    print(
        f"{threads} thread(s); numpy {np.__version__}"
        + (f", torch {version}" if version else ", torch not installed")
        + f"; load average {os.getloadavg()[0]:.2f}; median of {rounds} rounds (min)"
    )
    print(f"  {'layer':<9} {'pass':<8} {'optviz':>15} {'torch':>15} {'ratio':>6}  torch format")
    for name, (fwd, fwd_bwd) in ours.items():
        for i, label in enumerate(("fwd", "fwd+bwd")):
            fns = {"optviz": (fwd, fwd_bwd)[i]}
            fns.update({fmt: pair[i] for fmt, pair in theirs.get(name, {}).items()})
            times = measure(fns, rounds, reps)
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
    args = parser.parse_args()
    if args.threads is not None:
        run(args.threads, args.rounds, args.reps)
        return
    for threads in (1, 2):
        cmd = [sys.executable, __file__, "--threads", str(threads)]
        cmd += ["--rounds", str(args.rounds), "--reps", str(args.reps)]
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
