"""The cache of a training sweep: one small JSON file per finished cell, named by its key.

A file ``<key>.json`` holds ``{"format", "key", "spec", "result", "check"}`` (``check``:
the SHA-256 of the canonical text of the result, against accidental edits). It is written
atomically (a whole file or none) as soon as its cell finishes, so an interrupted
sweep keeps every cell it finished, and a sweep run again reads them instead of
training again. A file is trusted only when it is a cell of this format whose key is
its name *and* the hash of the specification it holds, whose result matches its check
and has the fields and types of a finished cell; anything else (a truncated or edited file, a
file of something else) is ignored with a note and its cell computed again. Failed
cells are not stored: they run again next time.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from optviz.cells import CELL_FORMAT, RESULT_FIELDS, cell_key
from optviz.errors import OptvizError
from optviz.io import ensure_dir, write_text

CELL_NAME = re.compile(r"^[0-9a-f]{64}\.json$")
STORED = ("ok", "diverged")
_NUMBERS = ("final_val_acc", "best_val_acc", "final_val_loss", "best_val_loss", "final_train_loss")


def _number(value: Any, optional: bool = True) -> bool:
    if value is None:
        return optional
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value: Any, optional: bool = True) -> bool:
    if value is None:
        return optional
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def valid_result(result: Any) -> bool:
    """Whether ``result`` has exactly the fields and types of a finished (ok or diverged) cell."""
    if not isinstance(result, dict) or set(result) != set(RESULT_FIELDS) or result["status"] not in STORED:
        return False
    curves = [result["val_acc"], result["val_loss"]]
    if not all(isinstance(c, list) and all(_number(v, False) for v in c) for c in curves):
        return False
    diverged = result["status"] == "diverged"
    return (all(_number(result[k]) for k in _NUMBERS) and _number(result["wall_time"], False)
            and _whole(result["epochs"], False) and len(curves[0]) == len(curves[1]) == result["epochs"]
            and _whole(result["best_epoch"]) and _whole(result["diverged_epoch"], not diverged)
            and result["error"] is None)


class CellCache:
    """Finished cells in ``directory`` (created when needed)."""

    def __init__(self, directory: str | Path) -> None:
        path = Path(directory).expanduser()
        if path.exists() and not path.is_dir():
            raise OptvizError(f"{{cache}} {path} is a file; give a folder for the finished cells", param="cache")
        try:
            self.directory = ensure_dir(path)
        except OptvizError as exc:
            raise OptvizError(f"{{cache}}: {exc}", param="cache") from None

    def path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def _read(self, key: str) -> tuple[dict[str, Any] | None, bool]:
        """(result, whether a file was there): the result only when the file can be trusted."""
        path = self.path(key)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None, False
        except (OSError, UnicodeDecodeError):
            return None, True
        try:
            doc = json.loads(text)
        except ValueError:
            return None, True
        if not (isinstance(doc, dict) and doc.get("format") == CELL_FORMAT and doc.get("key") == key
                and isinstance(doc.get("spec"), dict) and valid_result(doc.get("result"))):
            return None, True
        try:
            if cell_key(doc["spec"]) != key or doc.get("check") != cell_key(doc["result"]):
                return None, True
        except (TypeError, ValueError):
            return None, True
        return doc["result"], True

    def load(self, keys: Iterable[str]) -> tuple[dict[str, dict[str, Any]], list[str]]:
        """The trusted results among ``keys``, and notes on the files that were ignored."""
        found, bad = {}, []
        for key in keys:
            result, present = self._read(key)
            if result is not None:
                found[key] = result
            elif present:
                bad.append(self.path(key).name)
        notes = []
        if bad:
            notes.append(f"ignored {len(bad)} unreadable or altered file(s) in the cache {self.directory} "
                         f"(their cells run again): {_names(bad)}")
        foreign = self.foreign_files()
        if foreign:
            notes.append(f"ignored {len(foreign)} file(s) in the cache {self.directory} that are not cells of a "
                         f"sweep: {_names(foreign)}")
        return found, notes

    def foreign_files(self) -> list[str]:
        """Names in the cache folder that are no cell file (hidden temporary files aside)."""
        try:
            names = sorted(p.name for p in self.directory.iterdir())
        except OSError:
            return []
        return [n for n in names if not n.startswith(".") and not CELL_NAME.match(n)]

    def store(self, key: str, spec: Mapping[str, Any], result: Mapping[str, Any]) -> bool:
        """Write a finished cell atomically; failed cells are not stored (False)."""
        if result.get("status") not in STORED or not valid_result(dict(result)):
            return False
        doc = {"format": CELL_FORMAT, "key": key, "spec": dict(spec), "result": dict(result),
               "check": cell_key(result)}
        write_text(self.path(key), json.dumps(doc, allow_nan=False, indent=1) + "\n")
        return True


def _names(names: list[str], shown: int = 3) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more

