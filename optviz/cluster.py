"""Where the cells of a sweep run: on Dask, or one after another in this process.

On Dask (``dask.distributed``, the optional extra ``optviz[distributed]``) every cell
is one task (``Client.submit``, collected with ``as_completed``), its Dask key the cell's
own key. With no scheduler address optviz starts a ``LocalCluster`` of single-threaded
worker processes (one per core unless told otherwise) and closes it at the end; with
an address it submits the same tasks to that cluster. Dask reschedules the cells of a
worker that dies; a cell whose workers keep dying is recorded as failed. Before any
cell is sent the workers must run the client's optviz and numpy versions (each cell
checks again where it runs, for workers that join later). A user's data set is sent
to the workers once (``scatter``); built-in data are built on the workers.

Dask's own log messages stay out of the terminal unless ``verbose``; worker processes
started here ignore Ctrl-C, so that only the client stops (cancelling the cells) and
no worker prints a traceback. While the local cluster starts or closes (a few seconds)
Ctrl-C is ignored; once it runs, Ctrl-C stops the sweep.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from optviz.cells import failed, run_cell, versions
from optviz.errors import OptvizError

EXTRA = 'pip install "optviz[distributed]"'
WAIT_FOR_WORKERS = 30.0  # seconds a scheduler may take to show its first worker
# Workers for numpy training: Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536,
# which makes glibc return freed memory to the system so eagerly that the many small
# arrays of a training step cost twice the time; its statistical profiler samples the
# running cell every 10 ms. Neither is wanted for cells (start remote workers likewise:
# README, "Sweeps of a network").
WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                 "distributed.worker.profile.enabled": False}
Task = tuple[str, dict]  # (key, specification)
OnResult = Callable[[str, dict], None]


def dask_installed() -> bool:
    """Whether ``dask.distributed`` can be imported (without importing it)."""
    return importlib.util.find_spec("distributed") is not None


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def run_serial(tasks: Sequence[Task], dataset: Any, on_result: OnResult) -> None:
    """Each cell in turn, in this process."""
    for key, spec in tasks:
        on_result(key, run_cell(spec, dataset))


def run_dask(tasks: Sequence[Task], dataset: Any, on_result: OnResult, *, workers: int | None = None,
             scheduler: str | None = None, verbose: bool = False) -> None:
    """Every cell as a Dask task; ``on_result(key, result)`` in this thread as each one finishes.

    Ctrl-C (or a KeyboardInterrupt from ``on_result``) cancels the cells not finished
    and closes what was started, then propagates.
    """
    from dask.distributed import as_completed

    futures: dict[Any, str] = {}
    with quiet_logs(verbose), connected(workers or default_workers(), scheduler, verbose) as client:
        try:
            check_versions(client, scheduler or "the local cluster")
            data = client.scatter(dataset, broadcast=True) if dataset is not None else None
            for key, spec in tasks:
                futures[client.submit(run_cell, spec, data, key=f"optviz-cell-{key}", pure=False)] = key
            for future in as_completed(list(futures), loop=client.loop):
                on_result(futures[future], _outcome(future))
        except KeyboardInterrupt:
            with contextlib.suppress(Exception):
                client.cancel(list(futures), force=True)
            raise


@contextlib.contextmanager
def connected(workers: int, scheduler: str | None = None, verbose: bool = False) -> Iterator[Any]:
    """A Dask client: of a local cluster of ``workers`` single-threaded processes started
    here (closed at the end), or of the scheduler at ``scheduler``."""
    client = cluster = None
    try:
        with ignored_sigint():
            client, cluster = _connect(workers, scheduler, verbose)
        yield client
    finally:
        with ignored_sigint():
            _close(client, cluster)


@contextlib.contextmanager
def ignored_sigint() -> Iterator[None]:
    """Ignore Ctrl-C (SIGINT) inside the block: while a local cluster starts or closes.

    Worker processes inherit an ignored SIGINT, so the terminal's Ctrl-C (sent to the
    whole foreground process group) never reaches them; and a cluster interrupted half
    started or half closed would leave processes and tracebacks behind. A Ctrl-C in these
    few seconds is dropped: the sweep stops at the next one. Outside the main thread (where
    no signal arrives) this does nothing."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _connect(workers: int, scheduler: str | None, verbose: bool) -> tuple[Any, Any]:
    import logging

    import dask
    from dask.distributed import Client, LocalCluster

    if scheduler is None:
        # on this machine only; the scheduler's HTTP server on a free port (no dashboard);
        # WORKER_CONFIG: see there
        with dask.config.set(WORKER_CONFIG):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                   silence_logs=logging.WARNING if verbose else logging.CRITICAL,
                                   preload=["optviz.cluster"])
        try:
            return Client(cluster, set_as_default=False), cluster
        except BaseException:
            cluster.close()
            raise
    try:
        client = Client(scheduler, timeout="10s", set_as_default=False)
    except (OSError, ValueError, TypeError) as exc:
        raise OptvizError(f"cannot reach the Dask scheduler at {{scheduler}} {scheduler}: "
                          f"{' '.join(str(exc).split()) or type(exc).__name__}", param="scheduler") from None
    try:
        client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS)
    except (TimeoutError, OSError):
        client.close()
        raise OptvizError(f"the Dask scheduler at {scheduler} has no worker (waited {WAIT_FOR_WORKERS:g} s); "
                          f"start one with: dask worker {scheduler}", param="scheduler") from None
    return client, None


def _close(client: Any, cluster: Any) -> None:
    if client is not None:
        with contextlib.suppress(Exception):
            client.close()
    if cluster is not None:
        with contextlib.suppress(Exception):
            cluster.close()


def check_versions(client: Any, where: str) -> None:
    """Refuse a cluster whose workers run other optviz or numpy versions than this client."""
    mine = versions()
    try:
        theirs = client.run(worker_versions)
    except Exception as exc:
        raise OptvizError(f"the workers of {where} cannot run optviz ({type(exc).__name__}: {exc}); "
                          "install the same optviz and numpy on every worker", param="scheduler") from None
    wrong = {addr: v for addr, v in theirs.items() if v != mine}
    if wrong:
        addr, v = next(iter(sorted(wrong.items())))
        show = lambda d: ", ".join(f"{k} {d.get(k, '?')}" for k in sorted(mine))  # noqa: E731
        raise OptvizError(f"{len(wrong)} worker(s) of {where} run other versions ({addr}: {show(v)}) than this "
                          f"client ({show(mine)}); install the same versions on every worker", param="scheduler")


def worker_versions() -> dict[str, str]:
    """The versions a worker runs (sent by reference: the worker's own optviz answers)."""
    from optviz.cells import versions as installed

    return installed()


def _outcome(future: Any) -> dict:
    """A finished future's cell result; a task Dask gave up on as a failed cell."""
    if future.status == "finished":
        return future.result()
    if future.status == "cancelled":
        return failed("the cell was cancelled on the cluster")
    exc = future.exception()
    if type(exc).__name__ == "KilledWorker":
        return failed("KilledWorker: every worker that ran this cell died while running it")
    return failed(f"{type(exc).__name__}: {' '.join(str(exc).split())}")


@contextlib.contextmanager
def quiet_logs(verbose: bool) -> Iterator[None]:
    """Dask's and tornado's log records above CRITICAL only, unless ``verbose``; restored after."""
    if verbose:
        yield
        return
    import logging

    import distributed  # noqa: F401  (configures its loggers on import: do it before we quiet them)

    names = ["distributed", "tornado", "asyncio", *[n for n in logging.root.manager.loggerDict
                                                    if n.startswith(("distributed.", "tornado."))]]
    loggers = [logging.getLogger(n) for n in names]
    saved = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for lg, level in zip(loggers, saved, strict=True):
            lg.setLevel(level)


def dask_setup(worker: Any) -> None:
    """Preload of the workers optviz starts: ignore Ctrl-C (the client cancels and closes
    them), so that a Ctrl-C in the terminal prints no traceback from a worker."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
