"""Files a user names: outputs written whole or not at all without replacing what
the user had, inputs read within a size budget without ever blocking.

Every path a user gives goes through :func:`user_path` (``~`` expanded, a NUL
refused), so ``--out``, ``--csv``, ``--save-run``, ``--fn``, ``--data`` and run
files all mean the same thing by ``~/x``.

Writing (:func:`atomic_path`, :func:`write_text`; :func:`check_writable_file` runs
the same checks before any work) depends on what the target is:

- a regular file, or a name that does not exist yet: the content goes to a hidden
  ``.NAME.<pid>.<tag><random>.part`` beside it and is renamed over the name only
  when complete, after ``fsync``, so the name holds the old file or the whole new
  one. An existing file keeps its permission bits (a 0600 file stays 0600) and,
  where the writer may, its owner; a new file gets 0666 less the umask. A symbolic
  link is followed: the file it points to is replaced, the link stays. Temporary
  files left by a process that was killed are removed on the next write of the
  same name, but only those whose process no longer exists (``<tag>`` identifies
  the host and process namespace, so another machine's files on a shared disk are
  never touched);
- written through, where the intent is plain: a character device that is a null
  device (``/dev/null``, ``/dev/zero``, ``/dev/full``) or a terminal, a pipe (FIFO)
  that has a reader, ``/dev/stdout``, ``/dev/stderr`` or ``/dev/fd/N``. No file is
  created beside the target and nothing is renamed: the content is made in a
  private temporary file (in the system's temporary folder) and copied into the
  device, pipe or stream, so the program making it never sees the device, and a
  format that must seek (MP4) still works into a pipe. A FIFO without a reader is
  refused instead of waiting for one (it is opened with O_NONBLOCK). A stream
  redirected to a file is appended to at its position, as a shell redirection
  does. If the reader stops early (``| head``), writing stops there without an
  error, as for other command-line tools;
- anything else (a directory, a socket, a block device, any other character
  device such as ``/dev/mem``) is refused with one line; it is never opened.

Any error while writing (a full disk, a quota, an I/O error) ends in one
:class:`OptvizError` line naming the file, with no temporary file left and the
old file intact.

Reading (:func:`open_user_file`, :func:`read_user_bytes`) accepts regular files
only, checks the size against the caller's budget before reading and reads at
most that much: a FIFO, ``/dev/zero`` or a directory is refused without opening
it, and the file is opened non-blocking and checked again after opening.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import socket
import stat
import sys
import tempfile
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

from optviz.errors import OptvizError, printable
from optviz.filekinds import OutputTarget, cannot_write, classify_output, kind_name

MIB = 1 << 20
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # POSIX; Windows has no FIFOs to block on
_TEMP = re.compile(r"(?P<pid>\d{1,10})\.(?P<tag>[0-9a-f]{6})[0-9a-f]{8}\.part(\.[^/]*)?\Z")


def user_path(path: str | os.PathLike) -> Path:
    """The path a user means: ``~`` and ``~user`` expanded; a NUL character refused."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if "\0" in text:
        raise OptvizError(f"{printable(text)}: a file name cannot contain a NUL character")
    if not text:
        raise OptvizError("an empty file name was given; name a file")
    try:
        return Path(text).expanduser()
    except RuntimeError:  # no home directory to expand "~" to
        raise OptvizError(f"{printable(text)}: cannot expand '~' (no home directory)") from None


def size_text(n: int) -> str:
    """512 bytes, 4 MiB, 1.5 GiB."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", MIB), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


def check_writable_file(path: str | os.PathLike) -> Path:
    """Refuse early, before any work, an output file :func:`atomic_path` would refuse
    (a FIFO's reader is checked when writing: opening it here would end its input)."""
    path = user_path(path)
    classify_output(path)
    return path


def ensure_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` if needed; refuse one that cannot be written."""
    path = user_path(path)
    try:
        st = os.stat(path)
    except OSError:
        st = None
    if st is not None and not stat.S_ISDIR(st.st_mode):
        kind = "file" if stat.S_ISREG(st.st_mode) else kind_name(st.st_mode)
        raise OptvizError(f"output directory {printable(path)} is a {kind}; choose a directory with {{out}}", param="out")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OptvizError(f"cannot create output directory {printable(path)}: {exc.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise OptvizError(f"output directory {printable(path)} is not writable; choose another with {{out}}", param="out")
    return path


@lru_cache(maxsize=1)
def _tag() -> str:
    """Six hex digits naming this host and process namespace (pids mean nothing elsewhere)."""
    namespace = ""
    with contextlib.suppress(OSError):
        namespace = os.readlink("/proc/self/ns/pid")
    return hashlib.sha1(f"{socket.gethostname()}|{namespace}".encode()).hexdigest()[:6]


def _temp_parts(name: str) -> tuple[str, str]:
    """The prefix and the suffix of ``name``'s temporary files (file names stay < 255 bytes)."""
    short = os.fsdecode(os.fsencode(name)[:100])
    suffix = Path(name).suffix
    return f".{short}.", suffix if len(os.fsencode(suffix)) <= 16 else ""


def _alive(pid: int) -> bool:
    if pid <= 0:
        return True  # not a process id we wrote: leave it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Remove the temporary files of ``target`` left by killed optviz processes of this host."""
    prefix, _ = _temp_parts(target.name)
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        match = _TEMP.match(entry.name[len(prefix):])
        if match is None or match["tag"] != _tag() or _alive(int(match["pid"])):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _new_temp(target: OutputTarget) -> Path:
    prefix, suffix = _temp_parts(target.path.name)
    mode = 0o600 if target.existing is not None else 0o666  # a new file: the umask applies
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = target.path.parent / f"{prefix}{os.getpid()}.{_tag()}{secrets.token_hex(4)}.part{suffix}"
        try:
            os.close(os.open(tmp, flags, mode))
            return tmp
        except FileExistsError:
            continue
        except OSError as exc:
            raise cannot_write(target.path, exc.strerror or type(exc).__name__) from None
    raise cannot_write(target.path, "no free temporary name beside it")  # pragma: no cover


def _commit(tmp: Path, target: OutputTarget) -> None:
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    old = target.existing
    if old is not None:
        with contextlib.suppress(OSError, AttributeError):  # no chown on Windows
            os.chown(tmp, old.st_uid, old.st_gid)
        os.chmod(tmp, stat.S_IMODE(old.st_mode) & ~(stat.S_ISUID | stat.S_ISGID))
    with contextlib.suppress(FileNotFoundError):
        now = os.lstat(target.path)
        if not stat.S_ISREG(now.st_mode):  # replaced by something else while we wrote
            raise cannot_write(target.path, f"it became a {kind_name(now.st_mode)} while optviz wrote it")
    os.replace(tmp, target.path)


def _failed(path: Path, exc: OSError) -> OptvizError:
    return cannot_write(path, exc.strerror or str(exc) or type(exc).__name__)


def _open_through(target: OutputTarget) -> int:
    """A descriptor on a pipe or device, opened without waiting for a pipe's reader."""
    if target.kind == "stream":
        return os.dup(target.fd)
    flags = os.O_WRONLY | _NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(target.path, flags)
    except OSError as exc:
        if exc.errno == errno.ENXIO and target.kind == "pipe":
            raise cannot_write(target.path, "it is a pipe (FIFO) that nothing reads; start its reader "
                                       "first") from None
        raise _failed(target.path, exc) from None
    if _NONBLOCK:
        os.set_blocking(fd, True)
    return fd


def _copy_into(source: Path, fd: int, stream: int | None) -> None:
    """Copy ``source`` into ``fd``; first flush what Python buffered for the stream
    ``stream`` (1 or 2) so the content lands after what was printed before it."""
    for number, handle in ((1, sys.stdout), (2, sys.stderr)):
        if stream == number and handle is not None:
            with contextlib.suppress(ValueError, OSError):
                handle.flush()
    with open(source, "rb") as src:
        while chunk := src.read(1 << 16):
            view = memoryview(chunk)
            while view:
                try:
                    view = view[os.write(fd, view):]
                except BrokenPipeError:  # the reader stopped reading (| head): so do we
                    return


@contextlib.contextmanager
def _written_through(target: OutputTarget) -> Iterator[Path]:
    """The content goes to a private temporary file, then into the pipe, stream or
    device: the writer never sees the device (an error there is one clean OSError)."""
    fd = _open_through(target)
    try:
        try:
            handle, name = tempfile.mkstemp(prefix="optviz-", suffix=".part" + target.path.suffix[:16])
            os.close(handle)
        except OSError as exc:
            raise cannot_write(target.path, f"no temporary file in {printable(tempfile.gettempdir())}: "
                                       f"{exc.strerror}") from None
        try:
            yield Path(name)
            _copy_into(Path(name), fd, target.fd)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(name)
    finally:
        os.close(fd)


def _os_error_in(exc: BaseException) -> OSError | None:
    """The OSError behind ``exc``: a writer may fail in its own clean-up after a full
    disk (matplotlib's PDF writer raises AttributeError while handling ENOSPC)."""
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, OSError):
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield the path to write ``path``'s content to, and finish the write on success.

    See the module's documentation for what each kind of target gets. On any
    error (or Ctrl-C) the temporary file is removed and ``path`` is left as it
    was; an ``OSError``, or an error raised while handling one, becomes a one-line
    :class:`OptvizError` naming ``path``.
    """
    path = user_path(path)
    target = classify_output(path)
    try:
        if target.kind != "file":
            with _written_through(target) as tmp:
                yield tmp
            return
        remove_stale_temporaries(target.path)
        tmp = _new_temp(target)
        try:
            yield tmp
            _commit(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
    except OptvizError:
        raise
    except Exception as exc:
        cause = _os_error_in(exc)
        if cause is None:
            raise
        raise _failed(path, cause) from None


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through :func:`atomic_path`; returns the path."""
    path = user_path(path)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    return path


# -- reading -----------------------------------------------------------------------------
def _unreadable(path: Path, what: str, st: os.stat_result, limit: int) -> OptvizError | None:
    p = printable(path)
    if stat.S_ISDIR(st.st_mode):
        return OptvizError(f"{p}: is a directory, not a {what}")
    if not stat.S_ISREG(st.st_mode):
        return OptvizError(f"{p}: is a {kind_name(st.st_mode)}; a {what} is read from a regular file only")
    if st.st_size > limit:
        size, most = size_text(st.st_size), size_text(limit)
        if size == most:
            size, most = f"{st.st_size:,} bytes", f"{limit:,} bytes ({most})"
        return OptvizError(f"{p}: the {what} is {size}, more than the {most} optviz reads")
    return None


def open_user_file(path: str | os.PathLike, limit: int, what: str) -> BinaryIO:
    """Open a user's file for reading (binary) after refusing what is not a regular
    file of at most ``limit`` bytes, without blocking. ``what`` names it in messages."""
    path = user_path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise OptvizError(f"{printable(path)}: no such file") from None
    except OSError as exc:
        raise OptvizError(f"{printable(path)}: cannot read it ({exc.strerror})") from None
    problem = _unreadable(path, what, st, limit)
    if problem is not None:
        raise problem
    flags = os.O_RDONLY | _NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise OptvizError(f"{printable(path)}: cannot read it ({exc.strerror})") from None
    problem = _unreadable(path, what, os.fstat(fd), limit)  # replaced since the stat?
    if problem is not None:
        os.close(fd)
        raise problem
    return os.fdopen(fd, "rb")


def read_user_bytes(path: str | os.PathLike, limit: int, what: str) -> bytes:
    """The bytes of a user's regular file of at most ``limit`` bytes (see :func:`open_user_file`);
    a file that grows past the limit while read (``/proc`` files report size 0) is refused."""
    with open_user_file(path, limit, what) as f:
        try:
            data = f.read(limit + 1)
        except OSError as exc:
            raise OptvizError(f"{printable(path)}: cannot read it ({exc.strerror})") from None
    if len(data) > limit:
        raise OptvizError(f"{printable(path)}: the {what} is more than the {size_text(limit)} "
                          "optviz reads")
    return data


def utf8_text(raw: bytes, where: str) -> str:
    """``raw`` (a user's file, named ``where`` in messages) as UTF-8 text (a BOM allowed);
    anything else is one line naming the first bad byte and its line."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise OptvizError(f"{where}: not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); "
                          "save it as UTF-8") from None
