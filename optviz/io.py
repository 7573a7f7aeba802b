"""Atomic file output: a file a user asked for appears whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from optviz.errors import OptvizError


def ensure_dir(path: Path) -> Path:
    """Create ``path`` if needed; refuse one that cannot be written."""
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise OptvizError(f"output directory {path} is a file; choose a directory with {{out}}", param="out")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OptvizError(f"cannot create output directory {path}: {exc.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise OptvizError(f"output directory {path} is not writable; choose another with {{out}}", param="out")
    return path


def check_writable_file(path: Path) -> Path:
    """Refuse early a file path whose directory is missing or read-only."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise OptvizError(f"{path} is a directory; give a file name")
    if not parent.is_dir():
        raise OptvizError(f"cannot write {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OptvizError(f"cannot write {path}: directory {parent} is not writable")
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a hidden temporary path beside ``path``; rename it to ``path`` on success.

    On any error (or Ctrl-C) the temporary file is removed and ``path`` is left
    as it was. The finished file gets the usual permissions (mkstemp makes 0600).
    """
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part" + path.suffix, dir=path.parent or ".")
    except OSError as exc:
        raise OptvizError(f"cannot write to {path.parent}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


def write_text(path: Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
