"""Save a training run (with its recorded weights) to one compressed .npz and load it back.

A run file holds everything needed to redraw the training figures and the loss
landscapes without training again: the model spec (``build_model`` arguments), the
data description, the settings, the standardized train/validation split, the initial
weights, and for every optimizer its per-epoch records, its final weights and
BatchNorm running statistics (θ*), its per-layer gradient norms and its weight
snapshots. Only arrays and one JSON string are stored (``allow_pickle=False``), so
loading a file never runs code.

Layout of the archive: ``format`` (the string "optviz-run"), ``meta`` (JSON),
``split/X_train`` …, ``initial/<param>``, ``run<i>/final/<name>``,
``run<i>/grad_norms/<layer>``, ``run<i>/running_stats/<name>``, ``run<i>/snapshots``,
``run<i>/snapshot_steps``.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from optviz.errors import OptvizError, printable
from optviz.export import jsonable
from optviz.nn.data import Split
from optviz.nn.records import OptimizerRun, TrainResult, TrainSettings
from optviz.nn.runfit import check_fit
from optviz.status import Outcome, Status

FORMAT = "optviz-run"
VERSION = 1
_LISTS = ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "epoch_time", "step_loss")
_MISSING = object()


class MetaError(Exception):
    """A wrong type or value in a run file's metadata (load_run names the file)."""


def save_run(path: str | Path, result: TrainResult) -> Path:
    """Write ``result`` to ``path`` as a compressed .npz, atomically (whole file or nothing)."""
    from optviz.io import atomic_path, check_writable_file
    from optviz.nn.runarchive import check_budget

    path = check_writable_file(path)
    if result.split is None:
        raise OptvizError("this result has no data split to save (train() keeps it)")
    if len({id(g.initial_state) for g in result.groups()}) > 1:
        varied = ", ".join(k for k in result.settings.varied if k not in ("lr", "batch_size"))
        raise OptvizError(f"a run file keeps one network, and these runs train several (they differ in {varied}): "
                          "save a training of one network (several optimizers, learning rates or batch sizes)",
                          param="save_run")
    result = replace(result, runs=[r for r in result.runs if r.started])
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "split/X_train": result.split.X_train,
        "split/y_train": result.split.y_train,
        "split/X_val": result.split.X_val,
        "split/y_val": result.split.y_val,
    }
    arrays.update({f"initial/{k}": v for k, v in result.initial_state.items()})
    runs_meta = []
    for i, run in enumerate(result.runs):
        arrays.update({f"run{i}/final/{k}": v for k, v in run.final_state.items()})
        arrays.update({f"run{i}/grad_norms/{k}": v for k, v in run.grad_norms.items()})
        arrays.update({f"run{i}/running_stats/{k}": v for k, v in run.running_stats.items()})
        if run.snapshots is not None:
            arrays[f"run{i}/snapshots"] = run.snapshots
            arrays[f"run{i}/snapshot_steps"] = run.snapshot_steps
        runs_meta.append(
            {
                "label": run.label,
                "optimizer": run.optimizer,
                "hyperparameters": jsonable(run.hyperparameters),
                "status": run.status,
                "outcome": {"status": run.outcome.status.value, "epoch": run.outcome.epoch},
                **{name: jsonable(getattr(run, name)) for name in _LISTS},
                "grad_norm_layers": list(run.grad_norms),
                "running_stat_names": list(run.running_stats),
                "final_names": list(run.final_state),
                "has_snapshots": run.snapshots is not None,
                "unit_spread": jsonable(run.unit_spread),
                "evals": jsonable(run.evals),
                "settings": jsonable(run.settings),
            }
        )
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "model_spec": jsonable(result.model_spec),
        "settings": result.settings.to_json(),
        "data_info": jsonable(result.data_info),
        "initial_names": list(result.initial_state),
        "runs": runs_meta,
    }
    arrays["meta"] = np.array(json.dumps(meta, default=repr))
    check_budget(arrays, len(result.runs))
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)  # a file object: numpy would append ".npz" to a name
    return path


def _fail(path: Path, why: str) -> OptvizError:
    return OptvizError(f"{printable(path)}: {why}")


class _Meta:
    """Typed access to the metadata table; a wrong type is a MetaError naming the key."""

    def __init__(self, table: Any, where: str):
        if not isinstance(table, dict):
            raise MetaError(f"'{printable(where.rstrip('.'), 120)}' in its metadata is not a table" if where
                            else "its metadata is not a table")
        self.table, self.where = table, where

    def _get(self, key: str, default: Any = _MISSING) -> Any:
        if key not in self.table:
            if default is _MISSING:
                raise MetaError(f"its metadata has no '{printable(self.where + key, 120)}'")
            return default
        return self.table[key]

    def _bad(self, key: str, expected: str) -> MetaError:
        # keys come from the file: a control character in one is shown escaped
        return MetaError(f"'{printable(self.where + key, 120)}' in its metadata must be {expected}")

    def text(self, key: str, default: Any = _MISSING, *, choices: tuple = ()) -> str:
        value = self._get(key, default)
        if not isinstance(value, str) or len(value) > 200 or not (value.isprintable() or not value):
            raise self._bad(key, "printable text of at most 200 characters")
        if choices and value not in choices:
            raise self._bad(key, f"one of {', '.join(choices)}")
        return value

    def whole(self, key: str, default: Any = _MISSING, *, low: int = 0) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value < 2**53:
            raise self._bad(key, f"a whole number ≥ {low}")
        return value

    def flag(self, key: str, default: Any = _MISSING) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self._bad(key, "true or false")
        return value

    def number(self, key: str, *, low: float, high: float) -> float:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value < high:
            raise self._bad(key, f"a number in [{low:g}, {high:g})")
        return float(value)

    def items(self, key: str) -> list:
        value = self._get(key)
        if not isinstance(value, list) or not value:
            raise self._bad(key, "a non-empty list")
        return value

    def numbers(self, key: str) -> list[float]:
        value = self._get(key)
        if not isinstance(value, list) or any(
                isinstance(v, bool) or not isinstance(v, (int, float)) for v in value):
            raise self._bad(key, "a list of numbers")
        return [float(v) for v in value]

    def names(self, key: str) -> list[str]:
        value = self._get(key)
        if not isinstance(value, list) or any(not isinstance(v, str) or len(v) > 200 for v in value):
            raise self._bad(key, "a list of names")
        return list(value)

    def sub(self, key: str) -> _Meta:
        return _Meta(self._get(key), f"{self.where}{key}.")

    def scalars(self, key: str) -> dict[str, Any]:
        value = self._get(key)
        if not isinstance(value, dict) or any(
                v is not None and not isinstance(v, (bool, int, float, str)) for v in value.values()):
            raise self._bad(key, "a table of numbers, texts and booleans")
        return dict(value)


def _spec(meta: _Meta) -> dict[str, Any]:
    """build_model's arguments, typed (build_model checks their values)."""
    m = meta.sub("model_spec")
    spec: dict[str, Any] = {"in_dim": m.whole("in_dim", low=1), "out_dim": m.whole("out_dim", low=2)}
    spec.update({key: m.whole(key, low=low) for key, low in (("depth", 0), ("width", 1), ("seed", 0))
                 if key in m.table})
    spec.update({key: m.text(key) for key in ("arch", "norm", "act", "init", "dtype") if key in m.table})
    if "dropout" in m.table:
        spec["dropout"] = m.number("dropout", low=0.0, high=1.0)
    if m.table.get("zero_init_residual") is not None:
        spec["zero_init_residual"] = m.flag("zero_init_residual")
    spec.update(_image_spec(m))
    unknown = sorted(set(m.table) - set(spec) - {"zero_init_residual", "channels", "stages"})
    if unknown:
        raise MetaError(f"its metadata names an unknown model setting '{printable(unknown[0], 40)}'")
    return spec


def _image_spec(m: _Meta) -> dict[str, Any]:
    """The settings of an image model (docs/math.md §7), typed; absent for other models."""
    spec: dict[str, Any] = {key: m.whole(key, low=1) for key in ("blocks", "growth", "groups") if key in m.table}
    spec.update({key: m.whole(key, low=1) for key in ("channels", "stages") if m.table.get(key) is not None})
    if "shortcut" in m.table:
        spec["shortcut"] = m.text("shortcut")
    if "image_shape" in m.table:
        shape = m.items("image_shape")
        if len(shape) != 3 or any(isinstance(v, bool) or not isinstance(v, int) or not 1 <= v < 2**31
                                  for v in shape):
            raise m._bad("image_shape", "three whole numbers (C, H, W)")
        spec["image_shape"] = list(shape)
    return spec


def _settings(meta: _Meta) -> tuple[dict[str, Any], dict[str, Any]]:
    """The settings and the data description, with the values optviz reads afterwards checked."""
    from optviz.nn.train import TRAIN_LOSSES

    s, d = meta.sub("settings"), meta.sub("data_info")
    s.text("loss", "cross_entropy", choices=tuple(TRAIN_LOSSES))
    for key in ("steps_per_epoch", "seed", "epochs", "batch_size", "max_snapshots"):
        if key in s.table:
            s.whole(key)
    s.flag("interrupted", False)
    for key in ("notes", "varied", "eval_bn"):
        if key in s.table:
            s.names(key)
    d.text("name", "")
    classes = d.names("classes") if "classes" in d.table else None
    for key in ("n_features", "n_classes", "n_train", "n_val"):
        if key in d.table:
            d.whole(key, low=1)
    if classes is not None and "n_classes" in d.table and len(classes) != d.table["n_classes"]:
        raise MetaError("its metadata lists a number of classes that differs from n_classes")
    return dict(s.table), dict(d.table)


def _run(meta: _Meta, i: int, arrays: dict[str, np.ndarray]) -> OptimizerRun:
    r = meta
    run = OptimizerRun(r.text("label"), r.text("optimizer"), r.scalars("hyperparameters"), _outcome(r))
    for name in _LISTS:
        setattr(run, name, r.numbers(name))
    try:
        run.grad_norms = {k: arrays[f"run{i}/grad_norms/{k}"] for k in r.names("grad_norm_layers")}
        run.running_stats = {k: arrays[f"run{i}/running_stats/{k}"] for k in r.names("running_stat_names")}
        run.final_state = {k: arrays[f"run{i}/final/{k}"] for k in r.names("final_names")}
        if r.flag("has_snapshots"):
            run.snapshots = arrays[f"run{i}/snapshots"]
            run.snapshot_steps = arrays[f"run{i}/snapshot_steps"]
    except KeyError as exc:
        raise MetaError(f"incomplete optviz run file (missing {printable(exc, 120)})") from None
    _records(r, run)
    return run


def _records(r: _Meta, run: OptimizerRun) -> None:
    """The unit spreads, extra evaluations and own settings of a run (files written
    before these records existed lack them)."""
    if "unit_spread" in r.table:
        spread = r.sub("unit_spread")
        run.unit_spread = {str(k): np.asarray(spread.numbers(k)) for k in spread.table}
    if "evals" in r.table:
        evals = r.sub("evals")
        run.evals = {str(name): {key: curves.numbers(key) for key in curves.table}
                     for name in evals.table for curves in [evals.sub(name)]}
    if "settings" in r.table:
        run.settings = r.scalars("settings")


def _outcome(r: _Meta) -> Outcome:
    """How a saved run ended; files from before the typed outcome hold only its sentence."""
    words = r.text("status").split()
    if "outcome" in r.table:
        o = r.sub("outcome")
        status = Status(o.text("status", choices=("ok", "diverged", "interrupted")))
        return Outcome(status, None if o.table.get("epoch") is None else o.whole("epoch"))
    if words and words[0] in ("diverged", "interrupted") and words[-1].isdigit():
        return Outcome(Status(words[0]), int(words[-1]))
    return Outcome(Status.OK)


def _train_settings(table: dict[str, Any]) -> TrainSettings:
    """The saved settings as the typed record (keys optviz does not know are left out)."""
    known = TrainSettings.__dataclass_fields__
    values = {k: v for k, v in table.items() if k in known}
    for key in ("notes", "varied", "eval_bn"):
        if key in values:
            values[key] = tuple(str(n) for n in values[key])
    defaults = dict(epochs=0, batch_size=0, lr=None, schedule=None, schedule_unit="step", loss="cross_entropy",
                    weight_decay=0.0, l1=0.0, seed=0, val_fraction=0.2, steps_per_epoch=0, record_weights=None,
                    max_snapshots=100)
    return TrainSettings(**{**defaults, **values})


def _contents(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """The metadata and the arrays of a run archive, within the budgets of runarchive."""
    from optviz.io import open_user_file
    from optviz.nn.runarchive import MAX_FILE_BYTES, ArchiveError, read_archive

    with open_user_file(path, MAX_FILE_BYTES, "run file") as f:
        size = os.fstat(f.fileno()).st_size
        try:
            arrays = read_archive(f, size)
        except ArchiveError as exc:
            raise _fail(path, str(exc)) from None
    marker = arrays.pop("format")
    if marker.shape != () or str(marker) != FORMAT:
        raise _fail(path, "not an optviz run file (no optviz-run marker); save one with save_run")
    text = arrays.pop("meta")
    try:
        meta = json.loads(str(text)) if text.shape == () else None
    except (ValueError, RecursionError):
        raise _fail(path, "not a readable optviz run file: its metadata is not valid JSON or nested "
                          "too deeply") from None
    if not isinstance(meta, dict):
        raise _fail(path, "not an optviz run file (its metadata is not a table)")
    version = meta.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise _fail(path, "not an optviz run file (its format version is not a whole number)")
    if version > VERSION:
        raise _fail(path, f"written by a newer optviz (format version {version})")
    return meta, arrays


def load_run(path: str | Path) -> TrainResult:
    """Read a file written by ``save_run``.

    The file is checked before anything is decompressed (see :mod:`optviz.nn.runarchive`
    for the budgets: at most 512 MiB on disk and once decompressed, 100 snapshots per
    optimizer, only arrays of real numbers); a missing or special file, a file that is
    not a complete optviz run archive (truncated, corrupt, another program's .npz, a
    pickle), metadata of the wrong types, or weights that do not fit the architecture
    it names raise OptvizError with a one-line message.
    """
    from optviz.io import user_path

    path = user_path(path)
    meta, arrays = _contents(path)
    try:
        m = _Meta(meta, "")
        spec = _spec(m)
        settings, data_info = _settings(m)
        initial = {k: arrays[f"initial/{k}"] for k in m.names("initial_names")}
        split = Split(arrays["split/X_train"], arrays["split/y_train"], arrays["split/X_val"],
                      arrays["split/y_val"])
        runs = [_run(_Meta(rm, f"runs[{i}]."), i, arrays) for i, rm in enumerate(m.items("runs"))]
    except MetaError as exc:
        raise _fail(path, f"not a valid optviz run file: {exc}") from None
    except KeyError as exc:
        raise _fail(path, f"incomplete optviz run file (missing {printable(exc, 120)})") from None
    check_fit(path, spec, initial, split, runs)
    return TrainResult(runs, spec, _train_settings(settings), data_info, initial, split)
