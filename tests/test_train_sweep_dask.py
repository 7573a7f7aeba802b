"""optviz.train_sweep on Dask: a LocalCluster optviz starts, and a scheduler with two
workers started here as processes on 127.0.0.1 (``dask scheduler``, ``dask worker``).

The same cells give the same numbers bit for bit in this process, on the local cluster
and on the scheduler's workers; a worker killed mid-sweep has its cells rescheduled; an
interrupted sweep resumes from its cache; Ctrl-C on the command stops it with exit 130,
without a traceback, keeping the finished cells. Networks are tiny (moons, MLP depth 2
width 8).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import optviz
from optviz.errors import OptvizError

pytestmark = pytest.mark.slow

TINY = dict(data="moons", opt="adam,momentum", arch="mlp", depth=2, width=8, epochs=3, batch_size=32,
            lr="1e-2:1:3", seeds=2)


def numbers(report):
    assert all(c.result is not None for c in report.cells)
    return {c.key: {k: v for k, v in c.result.items() if k != "wall_time"} for c in report.cells}


def _stop(procs):
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=20)


def start_cluster(where: Path, n_workers: int = 2):
    """A ``dask scheduler`` and ``n_workers`` ``dask worker`` processes (one thread each) on
    127.0.0.1, each in its own process group; returns (address, scheduler, workers)."""
    from dask.distributed import Client

    file = where / "scheduler.json"
    common = {"start_new_session": True, "cwd": where, "stdout": subprocess.DEVNULL}
    log = open(where / "dask.log", "w")  # noqa: SIM115 - closed with the processes
    sched = subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                              "--no-dashboard", "--scheduler-file", str(file)], stderr=log, **common)
    deadline = time.monotonic() + 90
    while not file.exists() or not file.read_text().strip():
        assert time.monotonic() < deadline and sched.poll() is None, (where / "dask.log").read_text()
        time.sleep(0.2)
    address = json.loads(file.read_text())["address"]
    workers = [subprocess.Popen([sys.executable, "-m", "dask", "worker", address, "--nthreads", "1",
                                 "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{i}"],
                                stderr=log, **common) for i in range(n_workers)]
    with Client(address, timeout="30s", set_as_default=False) as client:
        client.wait_for_workers(n_workers, timeout=90)
    return address, sched, workers


def group_gone(pgid: int, within: float) -> bool:
    """Whether every process of the group has ended (and been reaped) within ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    address, sched, workers = start_cluster(tmp_path_factory.mktemp("dask"))
    yield address
    _stop([*workers, sched])


@pytest.fixture(scope="module")
def serial():
    return optviz.train_sweep(**TINY, workers=0)


def test_the_local_cluster_and_a_scheduler_give_the_numbers_of_this_process(cluster, serial, tmp_path):
    local = optviz.train_sweep(**TINY, workers=2)
    assert local.computed == 12 and local.failed == 0 and not local.interrupted
    assert numbers(local) == numbers(serial)
    remote = optviz.train_sweep(**TINY, scheduler=cluster, cache=tmp_path / "cache")
    assert remote.computed == 12 and numbers(remote) == numbers(serial)
    again = optviz.train_sweep(**TINY, scheduler="tcp://127.0.0.1:1", cache=tmp_path / "cache")
    assert again.computed == 0 and again.cached == 12  # all cached: no cluster is contacted
    assert again.to_json() == remote.to_json()


def test_a_csv_travels_to_the_workers(cluster, tmp_path):
    path = tmp_path / "points.csv"
    rows = [(x / 10, (x * 7 % 11) / 10, int(x % 3 == 0)) for x in range(60)]
    path.write_text("u,v,y\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))
    args = dict(TINY, data=str(path), opt="adam", lr="0.1", seeds=2)
    remote = optviz.train_sweep(**args, scheduler=cluster)
    assert remote.failed == 0 and numbers(remote) == numbers(optviz.train_sweep(**args, workers=0))


def test_a_cluster_with_other_versions_is_refused(cluster, monkeypatch):
    import optviz.cluster

    monkeypatch.setattr(optviz.cluster, "versions", lambda: {"optviz": "0.0.1", "numpy": "1.0"})
    with pytest.raises(OptvizError) as info:
        optviz.train_sweep(**TINY, scheduler=cluster)
    assert info.value.param == "scheduler" and "other versions" in str(info.value)
    assert "optviz 0.0.1" in str(info.value) and optviz.__version__ in str(info.value)


def test_an_unreachable_scheduler_is_one_error():
    with pytest.raises(OptvizError) as info:
        optviz.train_sweep(**TINY, scheduler="tcp://127.0.0.1:9")
    assert info.value.param == "scheduler" and "cannot reach the Dask scheduler" in str(info.value)


def test_a_worker_killed_mid_sweep_has_its_cells_rescheduled(tmp_path, serial):
    address, sched, workers = start_cluster(tmp_path, 2)
    killed = []

    def kill_one(p):
        if p.computed == 3 and not killed:
            os.killpg(workers[0].pid, signal.SIGKILL)  # the worker and its nanny: a machine gone
            workers[0].wait(timeout=20)
            killed.append(p.computed)

    try:
        args = dict(TINY, lr="1e-2:1:5", epochs=12)
        report = optviz.train_sweep(**args, scheduler=address, progress=kill_one)
    finally:
        _stop([*workers, sched])
    assert killed == [3] and workers[0].returncode == -signal.SIGKILL
    assert report.computed == 20 and report.failed == 0 and not report.interrupted
    assert numbers(report) == numbers(optviz.train_sweep(**args, workers=0))


def test_an_interrupted_sweep_on_the_local_cluster_resumes_and_recomputes_nothing(tmp_path, serial):
    def stop(p):
        if p.computed == 4:
            raise KeyboardInterrupt

    first = optviz.train_sweep(**TINY, workers=2, cache=tmp_path, progress=stop)
    assert first.interrupted and first.computed == 4
    done = {c.key for c in first.cells if c.result is not None}
    assert {p.stem for p in tmp_path.glob("*.json")} == done
    second = optviz.train_sweep(**TINY, workers=2, cache=tmp_path)
    assert second.cached == 4 and second.computed == 8 and not second.interrupted
    assert numbers(second) == numbers(serial)


def test_ctrl_c_on_the_command_exits_130_without_tracebacks_and_keeps_the_finished_cells(tmp_path):
    cache = tmp_path / "cache"

    def command(workers):
        return [sys.executable, "-m", "optviz", "train-sweep", "--data", "moons", "--arch", "mlp", "--depth", "2",
                "--width", "8", "--epochs", "15", "--lr", "1e-3:1:12", "--seeds", "2", "--workers", str(workers),
                "--out", str(tmp_path), "--cache", str(cache), "--no-plot"]

    proc = subprocess.Popen(command(2), start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True,  # a runner may start the tests with SIGINT ignored: restore it in the child
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 180
    while len(list(cache.glob("*.json"))) < 2:
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal does: the whole foreground group
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted:" in err and "run the same sweep again" in err, err
    assert all(line.startswith(("optviz:", "note:")) for line in err.splitlines() if line.strip()), err  # no Dask logs
    kept = len(list(cache.glob("*.json")))
    assert 2 <= kept < 48
    assert group_gone(proc.pid, within=15)  # no worker process is left behind
    resumed = subprocess.run(command(0), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{kept} of 48 cells read from the cache" in resumed.stdout
