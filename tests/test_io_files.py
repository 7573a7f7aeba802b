"""The atomic writer never loses or replaces what the user had.

Device nodes and FIFOs are made in a temporary folder (``mknod`` copies of the
null, full and terminal devices' numbers), never the real ``/dev`` entries.
"""

from __future__ import annotations

import errno
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from optviz import io
from optviz.errors import OptvizError
from optviz.io import atomic_path, check_writable_file, ensure_dir, write_text

MEM, NULL, FULL, WATCHDOG = os.makedev(1, 1), os.makedev(1, 3), os.makedev(1, 7), os.makedev(10, 130)


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert text and "\n" not in text and "Traceback" not in text, text
    return text


def mknod(path: Path, kind: int, rdev: int) -> Path:
    try:
        os.mknod(path, kind | 0o666, rdev)
    except PermissionError:
        pytest.skip("mknod is not permitted here")
    return path


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- targets that are not regular files ---------------------------------------------------
def test_a_directory_is_refused_and_kept(tmp_path):
    target = tmp_path / "out.csv"
    target.mkdir()
    (target / "inside").write_text("keep")
    for call in (lambda: write_text(target, "x"), lambda: check_writable_file(target)):
        with pytest.raises(OptvizError) as exc:
            call()
        assert "directory" in one_line(exc) and "out.csv" in str(exc.value)
    assert target.is_dir() and (target / "inside").read_text() == "keep"
    assert listing(tmp_path) == ["out.csv"]


def test_a_fifo_without_reader_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    outcome: list = []

    def write() -> None:
        try:
            write_text(fifo, "a,b\n")
            outcome.append("written")
        except OptvizError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    thread.join(5)
    if thread.is_alive():  # unblock the writer before failing
        with open(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK), "rb") as f:
            f.read()
        pytest.fail("writing to a FIFO without a reader blocked")
    assert isinstance(outcome[0], OptvizError), outcome
    assert "nothing reads" in str(outcome[0]) and "\n" not in str(outcome[0])
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert listing(tmp_path) == ["pipe"]


def test_a_fifo_with_a_reader_gets_the_content(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    time.sleep(0.1)  # let the reader open its end
    text = "".join(f"{i},{i * i}\n" for i in range(50_000))  # more than a pipe buffer
    assert write_text(fifo, text) == fifo
    reader.join(10)
    assert received == [text.encode()]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert listing(tmp_path) == ["pipe"]


def test_a_reader_that_stops_early_ends_the_write_quietly(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def read_a_little() -> None:
        with open(fifo, "rb") as f:
            f.read(10)

    reader = threading.Thread(target=read_a_little, daemon=True)
    reader.start()
    time.sleep(0.1)
    write_text(fifo, "x" * 5_000_000)  # | head: no error, no traceback
    reader.join(10)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize("alias", ["/proc/self/fd/1", "/dev/fd/1"])
def test_stdout_redirected_to_a_pipe_or_a_file_is_written_through(tmp_path, alias):
    code = f"from optviz.io import write_text; write_text('{alias}', 'a,b\\n1,2\\n')"
    head = subprocess.run(f"{sys.executable} -c \"{code}\" | head -1", shell=True, capture_output=True,
                          text=True, timeout=60, cwd=tmp_path)
    assert head.stdout == "a,b\n" and head.stderr == ""
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with open(tmp_path / "out.txt", "w") as out:
        to_file = subprocess.run([sys.executable, "-c", f"print('before', flush=False); {code}"],
                                 stdout=out, timeout=60, env=buffered)
    assert to_file.returncode == 0
    assert (tmp_path / "out.txt").read_text() == "before\na,b\n1,2\n"  # appended, not replaced


def test_dev_stdout_and_stderr_are_streams_not_files():
    # checked without writing: the real /dev entries are never written by the tests
    assert check_writable_file("/dev/stdout") == Path("/dev/stdout")
    assert check_writable_file("/dev/stderr") == Path("/dev/stderr")
    with pytest.raises(OptvizError) as exc:
        check_writable_file("/dev/fd/987")
    assert "not open" in one_line(exc)


def test_a_socket_is_refused_and_kept(tmp_path):
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(OptvizError) as exc:
            write_text(path, "x")
        assert "socket" in one_line(exc)
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        server.close()


def test_a_block_device_is_refused_without_opening_it(tmp_path):
    node = mknod(tmp_path / "disk", stat.S_IFBLK, os.makedev(7, 200))  # a loop device number
    with pytest.raises(OptvizError) as exc:
        write_text(node, "x")
    assert "block device" in one_line(exc)
    assert stat.S_ISBLK(os.lstat(node).st_mode) and listing(tmp_path) == ["disk"]


@pytest.mark.parametrize("rdev", [MEM, WATCHDOG], ids=["mem", "watchdog"])
def test_other_character_devices_are_refused(tmp_path, rdev):
    node = mknod(tmp_path / "dev", stat.S_IFCHR, rdev)
    for call in (lambda: write_text(node, "x"), lambda: check_writable_file(node)):
        with pytest.raises(OptvizError) as exc:
            call()
        assert "character device" in one_line(exc)
    assert os.lstat(node).st_rdev == rdev and listing(tmp_path) == ["dev"]


def test_the_null_device_is_written_through(tmp_path):
    node = mknod(tmp_path / "null", stat.S_IFCHR, NULL)
    assert check_writable_file(node) == node
    assert write_text(node, "a,b\n" * 1000) == node
    st = os.lstat(node)
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == NULL
    assert listing(tmp_path) == ["null"]  # no temporary file, no rename


def test_a_full_device_fails_with_one_line_and_stays_a_device(tmp_path):
    node = mknod(tmp_path / "full", stat.S_IFCHR, FULL)
    with pytest.raises(OptvizError) as exc:
        write_text(node, "a,b\n" * 1000)
    assert "No space left on device" in one_line(exc) and "full" in str(exc.value)
    assert os.lstat(node).st_rdev == FULL and listing(tmp_path) == ["full"]


def test_a_terminal_is_written_through(tmp_path):
    master, slave = os.openpty()  # the test's own pseudo-terminal
    try:
        node = mknod(tmp_path / "tty", stat.S_IFCHR, os.fstat(slave).st_rdev)
        assert check_writable_file(node) == node  # a copy of a terminal's node is a terminal
        terminal = Path(os.ttyname(slave))  # a copy cannot be opened outside devpts: write the pty
        write_text(terminal, "hello\n")
        assert b"hello" in os.read(master, 100)
        assert stat.S_ISCHR(os.lstat(terminal).st_mode) and listing(tmp_path) == ["tty"]
    finally:
        os.close(master)
        os.close(slave)


# -- modes, links, names ------------------------------------------------------------------
def test_an_existing_file_keeps_its_mode(tmp_path):
    target = tmp_path / "secret.csv"
    target.write_text("old")
    os.chmod(target, 0o600)
    write_text(target, "new")
    assert target.read_text() == "new" and stat.S_IMODE(os.stat(target).st_mode) == 0o600
    os.chmod(target, 0o640)
    write_text(target, "newer")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_0666_less_the_umask(tmp_path, mask):
    old = os.umask(mask)
    try:
        write_text(tmp_path / "new.csv", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.csv").st_mode) == 0o666 & ~mask


def test_a_read_only_file_is_refused(tmp_path, monkeypatch):
    target = tmp_path / "ro.csv"
    target.write_text("old")
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, m, **k: False if Path(p) == target else real(p, m, **k))
    with pytest.raises(OptvizError) as exc:
        write_text(target, "new")
    assert "read-only" in one_line(exc) and target.read_text() == "old"


def test_a_symbolic_link_is_followed_and_kept(tmp_path):
    (tmp_path / "data").mkdir()
    real = tmp_path / "data" / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert listing(tmp_path / "data") == ["real.csv"]


def test_a_long_file_name_gets_a_short_temporary_name(tmp_path):
    target = tmp_path / ("é" * 120 + ".csv")  # 244 bytes: the temporary name must stay < 255
    write_text(target, "x")
    assert target.read_text() == "x" and listing(tmp_path) == [target.name]


def test_home_is_expanded_for_every_output(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert write_text("~/a.csv", "x") == tmp_path / "a.csv"
    assert check_writable_file("~/b.csv") == tmp_path / "b.csv"
    assert ensure_dir("~/figs") == tmp_path / "figs"
    with atomic_path("~/c.bin") as tmp:
        tmp.write_bytes(b"c")
    assert (tmp_path / "a.csv").read_text() == "x" and (tmp_path / "c.bin").read_bytes() == b"c"
    assert not Path("~").exists()


def test_home_is_expanded_for_figures_and_run_files(tmp_path, monkeypatch, tiny_run):
    from matplotlib.figure import Figure

    from optviz.nn.runfile import load_run, save_run
    from optviz.plot._files import save_figure

    monkeypatch.setenv("HOME", str(tmp_path))
    fig = Figure()
    fig.add_subplot().plot([0, 1])
    assert save_figure(fig, Path("~/f.png"), fmt="png", dpi=20) == tmp_path / "f.png"
    assert save_run("~/run.npz", tiny_run) == tmp_path / "run.npz"
    assert load_run("~/run.npz").runs[0].label == tiny_run.runs[0].label
    assert listing(tmp_path) == ["f.png", "run.npz"]


@pytest.mark.parametrize("bad", ["a\0b.csv", ""])
def test_nul_and_empty_names_are_refused(bad):
    with pytest.raises(OptvizError) as exc:
        write_text(bad, "x")
    one_line(exc)


# -- temporary files of killed processes --------------------------------------------------
KILLED = """
import sys, time
from optviz.io import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.write_text("half")
    print(tmp, flush=True)
    time.sleep(60)
"""


def _writer(target: Path) -> tuple[subprocess.Popen, Path]:
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(target)], stdout=subprocess.PIPE, text=True)
    return proc, Path(proc.stdout.readline().strip())


def test_stale_temporaries_of_killed_processes_are_removed_live_ones_kept(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    dead, dead_tmp = _writer(target)
    alive, alive_tmp = _writer(target)
    try:
        assert dead_tmp.exists() and alive_tmp.exists()
        assert f".out.csv.{dead.pid}." in dead_tmp.name and dead_tmp.name.endswith(".part.csv")
        dead.kill()
        dead.wait()
        assert dead_tmp.exists() and target.read_text() == "old"  # SIGKILL: nothing cleaned up
        write_text(target, "new")
        assert not dead_tmp.exists(), "the killed writer's temporary file stays"
        assert alive_tmp.exists(), "a live writer's temporary file was removed"
        assert target.read_text() == "new"
    finally:
        alive.kill()
        alive.wait()
        dead.stdout.close()
        alive.stdout.close()


def test_temporaries_of_another_host_or_unknown_names_are_kept(tmp_path):
    target = tmp_path / "out.csv"
    foreign = tmp_path / ".out.csv.999999.abcdef0123abcd.part.csv"  # another tag
    other = tmp_path / ".out.csv.notapid.part"
    for p in (foreign, other):
        p.write_text("?")
    write_text(target, "x")
    assert foreign.exists() and other.exists()


# -- errors while writing -----------------------------------------------------------------
def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_while_writing_csv_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "out.csv"
    target.write_text("old")
    monkeypatch.setattr(os, "fsync", _enospc)  # where a full disk shows on delayed allocation
    with pytest.raises(OptvizError) as exc:
        write_text(target, "new" * 1000)
    line = one_line(exc)
    assert "out.csv" in line and "No space left on device" in line
    assert target.read_text() == "old" and listing(tmp_path) == ["out.csv"]


@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_a_full_disk_while_saving_a_figure_keeps_the_old_file(tmp_path, monkeypatch, fmt):
    from matplotlib.figure import Figure

    from optviz.plot._files import save_figure

    target = tmp_path / f"f.{fmt}"
    target.write_bytes(b"old")
    fig = Figure()
    fig.add_subplot().plot([0, 1])

    def half_then_full(self, fname, **kwargs):
        Path(fname).write_bytes(b"partial")
        _enospc()

    monkeypatch.setattr(Figure, "savefig", half_then_full)
    with pytest.raises(OptvizError) as exc:
        save_figure(fig, target, fmt=fmt, dpi=20)
    assert f"f.{fmt}" in one_line(exc) and "No space left" in str(exc.value)
    assert target.read_bytes() == b"old" and listing(tmp_path) == [f"f.{fmt}"]


@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_a_full_device_while_saving_a_figure(tmp_path, fmt):
    from matplotlib.figure import Figure

    from optviz.plot._files import save_figure

    node = mknod(tmp_path / f"full.{fmt}", stat.S_IFCHR, FULL)
    fig = Figure()
    fig.add_subplot().plot([0, 1])
    with pytest.raises(OptvizError) as exc:
        save_figure(fig, node, fmt=fmt, dpi=20)
    assert "No space left" in one_line(exc)
    assert os.lstat(node).st_rdev == FULL


FSIZE = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))
from optviz.errors import OptvizError
from optviz.io import write_text
try:
    write_text(sys.argv[1], "x" * 100_000)
except OptvizError as exc:
    print(exc)
"""


def test_a_file_size_limit_while_writing_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    proc = subprocess.run([sys.executable, "-c", FSIZE, str(target)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert "File too large" in proc.stdout and "out.csv" in proc.stdout
    assert target.read_text() == "old" and listing(tmp_path) == ["out.csv"]


def test_an_interrupted_write_leaves_nothing(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt
    assert listing(tmp_path) == []


def test_a_run_file_on_a_full_disk(tmp_path, monkeypatch, tiny_run):
    from optviz.nn.runfile import save_run

    target = tmp_path / "run.npz"
    target.write_bytes(b"old")
    monkeypatch.setattr(np, "savez_compressed", _enospc)
    with pytest.raises(OptvizError) as exc:
        save_run(target, tiny_run)
    assert "run.npz" in one_line(exc) and "No space left" in str(exc.value)
    assert target.read_bytes() == b"old" and listing(tmp_path) == ["run.npz"]


# -- reading -------------------------------------------------------------------------------
def test_reading_refuses_special_files_without_blocking(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    zero = mknod(tmp_path / "zero", stat.S_IFCHR, os.makedev(1, 5))
    for path, word in ((fifo, "pipe"), (zero, "character device"), (tmp_path, "directory")):
        start = time.perf_counter()
        with pytest.raises(OptvizError) as exc:
            io.read_user_bytes(path, 1000, "CSV file")
        assert word in one_line(exc) and time.perf_counter() - start < 1


def test_reading_refuses_a_file_over_the_budget_before_reading(tmp_path):
    big = tmp_path / "big.csv"
    with open(big, "wb") as f:
        f.truncate(10**12)  # sparse: reading it would take hours
    with pytest.raises(OptvizError) as exc:
        io.read_user_bytes(big, 1000, "CSV file")
    assert "931 GiB" in one_line(exc) and "1000 bytes" in str(exc.value)


def test_reading_a_growing_file_stops_at_the_budget():
    if not Path("/proc/self/status").exists():
        pytest.skip("no /proc")
    with pytest.raises(OptvizError) as exc:  # /proc files say size 0
        io.read_user_bytes("/proc/self/status", 10, "file")
    assert "more than the 10 bytes" in one_line(exc)


def test_reading_expands_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "f.toml").write_text("x")
    assert io.read_user_bytes("~/f.toml", 10, "function file") == b"x"


# -- echoing user text -----------------------------------------------------------------------
def test_printable_escapes_control_characters_and_caps_the_length():
    from optviz.errors import printable

    assert printable("a\x1b[31mb\nc\td\u202ee\udcff") == "a\\x1b[31mb\\nc\\td\\u202ee\\xff"
    assert printable("naïve café ±1e100 ≤ x") == "naïve café ±1e100 ≤ x"
    long = "d/" * 300 + "file.csv"
    shown = printable(long, 60)
    assert len(shown) == 60 and shown.endswith("file.csv") and "…" in shown
    assert "\x1b" not in printable("\x1b" * 10**6) and len(printable("\x1b" * 10**6)) == 200


def test_an_output_directory_that_is_a_special_file_is_named(tmp_path):
    os.mkfifo(tmp_path / "out")
    with pytest.raises(OptvizError) as exc:
        ensure_dir(tmp_path / "out")
    assert "is a pipe (FIFO)" in one_line(exc) and stat.S_ISFIFO(os.lstat(tmp_path / "out").st_mode)
