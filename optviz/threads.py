"""How many threads the numerical libraries (BLAS, OpenMP) may use, set per workload by
the command, never by the environment.

Training multiplies small matrices (a minibatch of 64 by 128 units): splitting each
product over threads costs more in hand-offs than it gains, and with a busy core the
threads wait for each other (``benchmarks/bench_threads.py`` measures it). So training
runs on :data:`TRAIN_THREADS` threads unless told otherwise, whatever
``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS`` say; the same
command then does the same arithmetic, in the same order, everywhere.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from optviz import validate

TRAIN_THREADS = 1


def check_threads(threads: int) -> int:
    """``threads`` as a whole number ≥ 1 (an OptvizError naming ``threads`` otherwise)."""
    validate.whole("threads", threads)
    return int(threads)


@contextlib.contextmanager
def limited_threads(threads: int) -> Iterator[None]:
    """Every BLAS and OpenMP pool loaded in this process uses ``threads`` threads inside
    the block (threadpoolctl), and what the environment set again after it."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=check_threads(threads)):
        yield
