"""What an output path names, and whether optviz writes to it (see :mod:`optviz.io`).

A regular file (or a new name) is written atomically beside itself; the null
devices, terminals, pipes with a reader and this process's own streams are
written through; anything else is refused here, before it is ever opened.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from optviz.errors import OptvizError, printable

_FD_ALIAS = re.compile(r"/(?:dev|proc/self)/fd/(\d+)\Z")
_STREAMS = {"/dev/stdout": 1, "/dev/stderr": 2}


def kind_name(mode: int) -> str:
    """What a file of ``mode`` is, for messages: "directory", "socket", …"""
    for test, name in ((stat.S_ISDIR, "directory"), (stat.S_ISFIFO, "pipe (FIFO)"),
                       (stat.S_ISSOCK, "socket"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISCHR, "character device")):
        if test(mode):
            return name
    return "special file"


@dataclass(frozen=True)
class OutputTarget:
    kind: str  # "file", "device", "pipe" or "stream"
    path: Path  # where a "file" is written: symbolic links resolved
    fd: int | None = None  # the descriptor of a "stream"
    existing: os.stat_result | None = None  # the file being replaced


@lru_cache(maxsize=1)
def _null_rdev() -> int | None:
    try:
        return os.stat(os.devnull).st_rdev
    except OSError:  # pragma: no cover
        return None


def _own_terminals() -> set[int]:
    found = set()
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError):
            st = os.fstat(fd)
            if stat.S_ISCHR(st.st_mode) and os.isatty(fd):
                found.add(st.st_rdev)
    return found


def _plain_device(rdev: int) -> bool:
    """The null devices, a terminal, or a stream this process already writes to."""
    if rdev == _null_rdev() or rdev in _own_terminals():
        return True
    if not sys.platform.startswith("linux"):
        return False
    major, minor = os.major(rdev), os.minor(rdev)
    # 1: null, zero, full; 4: virtual consoles and serial terminals;
    # 5: the controlling terminal and the console; 136-143: pseudo-terminals
    return (major == 1 and minor in (3, 5, 7)) or major == 4 or (
        major == 5 and minor in (0, 1)) or 136 <= major <= 143


def cannot_write(path: Path, why: str) -> OptvizError:
    return OptvizError(f"cannot write {printable(path)}: {why}")


def _check_parent(path: Path, parent: Path) -> None:
    if not parent.is_dir():
        raise cannot_write(path, f"directory {printable(parent)} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise cannot_write(path, f"directory {printable(parent)} is not writable")


def _stream_number(path: Path) -> int | None:
    text = str(path)
    match = _FD_ALIAS.match(text)
    return int(match[1]) if match else _STREAMS.get(text)


def classify_output(path: Path) -> OutputTarget:
    """What ``path`` is and how it is written; refuses every target that is not written."""
    number = _stream_number(path)
    if number is not None:
        try:
            os.fstat(number)
        except (OSError, OverflowError):
            raise cannot_write(path, f"descriptor {number} is not open in this process") from None
        return OutputTarget("stream", path, fd=number)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        real = Path(os.path.realpath(path))  # a dangling link: write what it points to
        _check_parent(path, real.parent)
        return OutputTarget("file", real)
    except OSError as exc:
        raise cannot_write(path, exc.strerror or type(exc).__name__) from None
    if stat.S_ISREG(st.st_mode):
        real = Path(os.path.realpath(path))
        _check_parent(path, real.parent)
        if not os.access(real, os.W_OK):
            raise cannot_write(path, f"the file is read-only (mode {stat.S_IMODE(st.st_mode):04o})")
        return OutputTarget("file", real, existing=st)
    if stat.S_ISDIR(st.st_mode):
        raise OptvizError(f"{printable(path)} is a directory; give a file name")
    if stat.S_ISFIFO(st.st_mode):
        return OutputTarget("pipe", path)
    if stat.S_ISCHR(st.st_mode) and _plain_device(st.st_rdev):
        return OutputTarget("device", path)
    raise cannot_write(path, f"it is a {kind_name(st.st_mode)}; optviz writes regular files, pipes, "
                        "terminals and /dev/null only")
