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

Budget: a run file's arrays take at most :data:`RUN_FILE_BUDGET` bytes (1 GB) before
compression; ``train(save_weights=True)`` refuses, before any training, a training
whose file would be larger (:func:`run_file_bytes`).
"""

from __future__ import annotations

import json
import zipfile
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from optviz.errors import OptvizError
from optviz.export import jsonable
from optviz.nn.data import Split
from optviz.nn.records import OptimizerRun, TrainResult, TrainSettings, is_buffer
from optviz.status import Outcome, Status

FORMAT = "optviz-run"
VERSION = 1
RUN_FILE_BUDGET = 1_000_000_000  # bytes of arrays before compression
_LISTS = ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "epoch_time", "step_loss")


def run_file_bytes(n_params: int, snapshots: list[int], data_values: int, itemsize: int) -> int:
    """About the bytes of a run file's arrays before compression: each run's weight
    snapshots (``snapshots`` has one count per run) and final weights, the initial
    weights and the data split (``data_values`` numbers), ``itemsize`` bytes a number."""
    return itemsize * (n_params * (sum(snapshots) + len(snapshots) + 1) + data_values)


def check_run_file_budget(n_params: int, snapshots: list[int], data_values: int, itemsize: int) -> None:
    """Refuse a run file over :data:`RUN_FILE_BUDGET` (see :func:`run_file_bytes`)."""
    size = run_file_bytes(n_params, snapshots, data_values, itemsize)
    if size > RUN_FILE_BUDGET:
        raise OptvizError(f"{{save_weights}} would write a run file of about {size / 1e6:,.0f} MB, over its budget "
                          f"of {RUN_FILE_BUDGET / 1e6:,.0f} MB ({len(snapshots)} runs of {n_params:,} weights, "
                          f"{max(snapshots)} snapshots each): record less often with {{record_every}}, or train "
                          "fewer optimizers or a smaller network", param="save_weights", names=("record_every",))


def save_run(path: str | Path, result: TrainResult) -> Path:
    """Write ``result`` to ``path`` as a compressed .npz, atomically (whole file or nothing)."""
    from optviz.io import atomic_path, check_writable_file

    path = check_writable_file(Path(path))
    if result.split is None:
        raise OptvizError("this result has no data split to save (train() keeps it)")
    networks = result.groups()
    if len({id(g.initial_state) for g in networks}) > 1:
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
    with atomic_path(path) as tmp:
        try:
            with open(tmp, "wb") as f:  # a file object: numpy would append ".npz" to a name
                np.savez_compressed(f, **arrays)
        except OSError as exc:
            raise OptvizError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _fail(path: Path, why: str) -> OptvizError:
    return OptvizError(f"{path}: {why}")


def load_run(path: str | Path) -> TrainResult:
    """Read a file written by ``save_run``.

    A missing file, a file that is not a complete optviz run archive (truncated,
    corrupt, another program's .npz) or one whose weights do not fit the architecture
    it names raises OptvizError with a one-line message.
    """
    path = Path(path)
    if not path.exists():
        raise _fail(path, "no such file")
    if path.is_dir():
        raise _fail(path, "is a directory, not a run file")
    meta, arrays = _read_archive(path)
    try:
        spec = dict(meta["model_spec"])
        initial = {k: arrays[f"initial/{k}"] for k in meta["initial_names"]}
        split = Split(arrays["split/X_train"], arrays["split/y_train"], arrays["split/X_val"], arrays["split/y_val"])
        runs = [_run(i, rm, arrays) for i, rm in enumerate(meta["runs"])]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _fail(path, f"incomplete optviz run file (missing {exc})") from None
    _check_fits(path, spec, initial, runs)
    return TrainResult(runs, spec, _settings(path, meta["settings"]), dict(meta["data_info"]), initial, split)


def _read_archive(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """The metadata and the arrays of a run file, refused unless it is one optviz wrote."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "format" not in archive.files or str(archive["format"]) != FORMAT:
                raise _fail(path, "not an optviz run file (no optviz-run marker); save one with save_run")
            meta = json.loads(str(archive["meta"]))
            if not isinstance(meta, dict):
                raise _fail(path, "not an optviz run file (its metadata is not a table)")
            if int(meta.get("version", 0)) > VERSION:
                raise _fail(path, f"written by a newer optviz (format version {meta['version']})")
            arrays = {name: archive[name] for name in archive.files if name not in ("format", "meta")}
    except OptvizError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, KeyError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "pickle" in reason:
            reason = "it holds pickled Python objects, which optviz never loads"
        raise _fail(path, f"not a readable optviz run file, truncated or corrupt ({reason})") from None
    return meta, arrays


def _run(i: int, rm: dict, arrays: dict[str, np.ndarray]) -> OptimizerRun:
    """Run number ``i`` of a run file (files written before a record existed lack it)."""
    run = OptimizerRun(rm["label"], rm["optimizer"], dict(rm["hyperparameters"]), _outcome(rm))
    for name in _LISTS:
        setattr(run, name, [float(v) for v in rm[name]])
    run.grad_norms = {k: arrays[f"run{i}/grad_norms/{k}"] for k in rm["grad_norm_layers"]}
    run.running_stats = {k: arrays[f"run{i}/running_stats/{k}"] for k in rm["running_stat_names"]}
    run.final_state = {k: arrays[f"run{i}/final/{k}"] for k in rm["final_names"]}
    run.unit_spread = {k: np.asarray(v, dtype=float) for k, v in rm.get("unit_spread", {}).items()}
    run.evals = {str(name): {key: [float(v) for v in values] for key, values in dict(curves).items()}
                 for name, curves in rm.get("evals", {}).items()}
    run.settings = dict(rm.get("settings", {}))
    if rm["has_snapshots"]:
        run.snapshots = arrays[f"run{i}/snapshots"]
        run.snapshot_steps = arrays[f"run{i}/snapshot_steps"]
    return run


def _check_fits(path: Path, spec: dict, initial: dict[str, np.ndarray], runs: list[OptimizerRun]) -> None:
    """Refuse weights that do not fit the architecture the file names, checking its size
    against the stored weights before building it (an edited spec cannot allocate terabytes)."""
    from optviz.nn.model import build_model

    stored = sum(int(np.size(v)) for v in initial.values())
    try:
        depth, width = int(spec.get("depth", 1)), int(spec.get("width", 1))
        in_dim, out_dim = int(spec.get("in_dim", 1)), int(spec.get("out_dim", 1))
    except (TypeError, ValueError):
        raise _fail(path, "names an architecture optviz cannot build (non-numeric sizes)") from None
    implied = width * (in_dim + out_dim + max(depth, 1) * width)
    if min(depth, width, in_dim, out_dim) < 1 or implied > 4 * stored + 10_000:
        raise _fail(path, "names an architecture that does not fit its stored weights (foreign or edited file)")
    try:
        net = build_model(**spec)
    except (OptvizError, TypeError, ValueError, MemoryError) as exc:
        raise _fail(path, f"names an architecture optviz cannot build ({exc})") from None
    want = {k: v.shape for k, v in net.get_state().items()}
    for label, state in [("initial weights", initial)] + [(r.label, r.final_state) for r in runs]:
        got = {k: v.shape for k, v in state.items()}
        if got != want:
            diff = sorted(set(got) ^ set(want)) or sorted(k for k in got if got[k] != want[k])
            raise _fail(path, f"weights of {label} do not fit the {spec.get('arch', '?')} architecture the file "
                              f"names (foreign or edited file; first mismatch: {diff[0]})")
    n_params = sum(int(np.prod(v)) for k, v in want.items() if not is_buffer(k))
    for run in runs:
        if run.snapshots is not None and (run.snapshots.ndim != 2 or run.snapshots.shape[1] != n_params
                                          or len(run.snapshot_steps) != len(run.snapshots)):
            raise _fail(path, f"weight snapshots of {run.label} do not fit the architecture")
        if run.snapshots is not None and not np.isfinite(run.snapshots).all():
            raise _fail(path, f"weight snapshots of {run.label} hold non-finite values (corrupt file)")


def _outcome(rm: dict) -> Outcome:
    """How a saved run ended; files from before the typed outcome hold only its sentence."""
    if "outcome" in rm:
        return Outcome(Status(rm["outcome"]["status"]), rm["outcome"]["epoch"])
    words = str(rm["status"]).split()
    if words and words[0] in ("diverged", "interrupted"):
        return Outcome(Status(words[0]), int(words[-1]))
    return Outcome(Status.OK)


def _settings(path: Path, saved: Any) -> TrainSettings:
    """The saved training settings, refused unless they are the table optviz writes."""
    if not isinstance(saved, dict):
        raise _fail(path, "incomplete optviz run file (its settings are not a table)")
    known = TrainSettings.__dataclass_fields__
    values = {k: v for k, v in saved.items() if k in known}
    for key in ("notes", "varied", "eval_bn"):
        if key in values:
            values[key] = tuple(str(n) for n in values[key])
    try:
        return TrainSettings(**values)
    except TypeError as exc:
        raise _fail(path, f"incomplete optviz run file (settings: {exc})") from None
