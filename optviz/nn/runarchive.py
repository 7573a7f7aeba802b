"""Reading a run file's archive without trusting it (used by :func:`optviz.nn.runfile.load_run`).

The checks run before anything is decompressed, so a small file cannot make
optviz allocate or read more than the budgets say:

- the file is a regular file of at most ``MAX_FILE_BYTES`` that starts like a zip
  archive (a pickle, a single ``.npy`` array or any other file is named as such);
- its central directory lists at most ``MAX_MEMBERS`` members, none twice, each
  one a name optviz writes (``meta.npy``, ``split/X_train.npy``,
  ``run3/snapshots.npy`` …), stored or deflated; the sizes the directory declares
  add up to at most ``MAX_TOTAL_BYTES`` (a 4 MB file that would inflate to 4 GiB is
  refused here), and ``meta`` to at most ``MAX_META_BYTES``;
- each member's ``.npy`` header is read first: the dtype must be a plain real
  number type (text only for ``format`` and ``meta``; never objects, so nothing is
  unpickled, ``allow_pickle`` stays False), and the shape must account exactly for
  the member's declared size; weight snapshots are at most ``MAX_SNAPSHOTS`` rows.

Decompression then stops at the declared sizes and the CRC is checked.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from typing import BinaryIO

import numpy as np

from optviz.errors import printable
from optviz.io import size_text

MAX_FILE_BYTES = 512 << 20
MAX_TOTAL_BYTES = 512 << 20
MAX_META_BYTES = 64 << 20
MAX_MEMBERS = 20_000
MAX_SNAPSHOTS = 100
MAX_RUNS = 100
_PARAM = r"[A-Za-z0-9_.]{1,200}"
_MEMBER = re.compile(
    rf"(?:format|meta|split/(?:X_train|y_train|X_val|y_val)|initial/{_PARAM}"
    rf"|run(?P<run>\d{{1,3}})/(?:(?:final|grad_norms|running_stats)/{_PARAM}|snapshots|snapshot_steps))"
    r"\.npy\Z"
)
_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"


class ArchiveError(Exception):
    """Why an archive is refused (load_run puts the file name in front)."""


def _unreadable(why: str) -> ArchiveError:
    return ArchiveError(f"not a readable optviz run file: {why}")


def _kind_of(head: bytes) -> str:
    if not head:
        return "the file is empty"
    if head.startswith(b"\x93NUMPY"):
        return "a single .npy array, not a run archive (.npz)"
    if head[:1] == b"\x80" or head.startswith((b"(dp", b"(lp", b"}q", b"]q")):
        return "a Python pickle, which optviz never loads"
    return "not a zip (.npz) archive"


def check_directory(f: BinaryIO, size: int) -> None:
    """Refuse what is not a zip archive, and a central directory beyond the budget,
    from the file's first bytes and its end record (before zipfile reads the directory)."""
    f.seek(0)
    head = f.read(8)
    if not head.startswith((b"PK\x03\x04", _EOCD)):
        raise _unreadable(_kind_of(head))
    tail_len = min(size, 65_557)
    f.seek(size - tail_len)
    tail = f.read(tail_len)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        raise _unreadable("truncated or corrupt (no zip directory at its end)")
    if at >= 20 and tail[at - 20: at - 16] == _ZIP64_LOCATOR:
        raise _unreadable("a zip64 archive, larger than any run file optviz writes")
    entries, cd_size = struct.unpack("<HI", tail[at + 10: at + 16])
    if entries > MAX_MEMBERS or cd_size > 200 * MAX_MEMBERS:
        raise _unreadable(f"its directory lists {entries} members; a run file has at most "
                           f"{MAX_MEMBERS}")


def check_members(infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
    """Member name (without .npy) -> ZipInfo, after the name, count and size checks."""
    if not any(info.filename == "format.npy" for info in infos):
        raise ArchiveError("not an optviz run file (no optviz-run marker); save one with save_run")
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        match = _MEMBER.match(info.filename)
        if match is None:
            raise _unreadable(f"holds a member optviz does not write ({printable(info.filename, 80)!r}), "
                               "so it was not written by optviz or was edited")
        if match["run"] is not None and int(match["run"]) >= MAX_RUNS:
            raise _unreadable(f"holds more than {MAX_RUNS} runs")
        name = info.filename[:-4]
        if name in members:
            raise _unreadable(f"lists the member {name!r} twice (edited archive)")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _unreadable(f"member {name!r} uses a compression optviz does not write")
        if name == "meta" and info.file_size > MAX_META_BYTES:
            raise _unreadable(f"its metadata would take {size_text(info.file_size)}; at most "
                               f"{size_text(MAX_META_BYTES)}")
        total += info.file_size
        members[name] = info
    if total > MAX_TOTAL_BYTES:
        raise _unreadable(f"its members would take {size_text(total)} once decompressed; a run "
                          f"file holds at most {size_text(MAX_TOTAL_BYTES)}")
    if "meta" not in members:
        raise _unreadable("it has no metadata (incomplete optviz run file)")
    return members


def _allowed(name: str, dtype: np.dtype) -> bool:
    if name in ("format", "meta"):
        return dtype.kind == "U"
    if name.startswith("split/y_") or name.endswith("/snapshot_steps"):
        return dtype.kind in "iu" and dtype.itemsize <= 8
    return dtype.kind == "f" and dtype.itemsize in (4, 8)


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One member as an array, after checking its header against its declared size."""
    name = info.filename[:-4]
    with archive.open(info) as fp:
        try:
            version = np.lib.format.read_magic(fp)
            header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                      else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = header(fp)
        except (ValueError, SyntaxError, TypeError, EOFError) as exc:
            raise _unreadable(f"member {name!r} is not a valid array ({_first_line(exc)})") from None
        if dtype.hasobject or not _allowed(name, dtype):
            raise _unreadable(f"member {name!r} holds {dtype} values; optviz writes "
                               f"{'text' if name in ('format', 'meta') else 'real numbers'} there")
        count = int(np.prod(shape, dtype=object))
        if count * dtype.itemsize != info.file_size - fp.tell():
            raise _unreadable(f"member {name!r} declares the shape {shape}, which does not fit its "
                               "size (edited or corrupt archive)")
        if name.endswith("/snapshots") and len(shape) != 2:
            raise _unreadable(f"member {name!r} must be a table of snapshots (2-D), not {len(shape)}-D")
        if name.endswith("/snapshots") and shape[0] > MAX_SNAPSHOTS:
            raise _unreadable(f"member {name!r} holds {shape[0]} weight snapshots; a run file holds "
                               f"at most {MAX_SNAPSHOTS} per optimizer")
        array = np.empty(shape, dtype=dtype.newbyteorder("="), order="F" if fortran else "C")
        _read_into(fp, array, dtype)
    return array


def _read_into(fp, array: np.ndarray, dtype: np.dtype) -> None:
    """Fill ``array`` from ``fp`` in chunks (no second copy of a large member in memory)."""
    raw = array.reshape(-1, order="A").view(np.uint8)
    done, chunk = 0, 16 << 20
    while done < raw.size:
        data = fp.read(min(chunk, raw.size - done))
        if not data:
            raise EOFError("the member ends early")
        raw[done: done + len(data)] = np.frombuffer(data, dtype=np.uint8)
        done += len(data)
    if dtype.byteorder not in ("=", "|"):
        array.byteswap(inplace=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]


def read_archive(f: BinaryIO, size: int) -> dict[str, np.ndarray]:
    """Every member of the run archive in ``f`` (``size`` bytes), by name without ``.npy``."""
    check_directory(f, size)
    try:
        f.seek(0)
        with zipfile.ZipFile(f) as archive:
            members = check_members(archive.infolist())
            return {name: read_member(archive, info) for name, info in members.items()}
    except ArchiveError:
        raise
    except MemoryError:
        raise _unreadable("not enough memory to read it") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, KeyError, OSError,
            NotImplementedError, struct.error) as exc:
        raise _unreadable(f"truncated or corrupt ({_first_line(exc)})") from None
