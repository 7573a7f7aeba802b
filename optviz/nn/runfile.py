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
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from optviz.errors import OptvizError
from optviz.nn.data import Split
from optviz.nn.train import OptimizerRun, TrainResult, _is_buffer

FORMAT = "optviz-run"
VERSION = 1
_LISTS = ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "epoch_time", "step_loss")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if value is None or isinstance(value, (str, int, float)):
        return value
    return repr(value)


def save_run(path: str | Path, result: TrainResult) -> Path:
    """Write ``result`` to ``path`` as a compressed .npz, atomically (whole file or nothing)."""
    from optviz.io import atomic_path, check_writable_file

    path = check_writable_file(Path(path))
    if result.split is None:
        raise OptvizError("this result has no data split to save (train() keeps it)")
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
                "hyperparameters": _jsonable(run.hyperparameters),
                "status": run.status,
                **{name: _jsonable(getattr(run, name)) for name in _LISTS},
                "grad_norm_layers": list(run.grad_norms),
                "running_stat_names": list(run.running_stats),
                "final_names": list(run.final_state),
                "has_snapshots": run.snapshots is not None,
            }
        )
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "model_spec": _jsonable(result.model_spec),
        "settings": _jsonable(result.settings),
        "data_info": _jsonable(result.data_info),
        "initial_names": list(result.initial_state),
        "runs": runs_meta,
    }
    arrays["meta"] = np.array(json.dumps(meta))
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)  # a file object: numpy would append ".npz" to a name
    return path


def _fail(path: Path, why: str) -> OptvizError:
    return OptvizError(f"{path}: {why}")


def load_run(path: str | Path) -> TrainResult:
    """Read a file written by ``save_run``.

    A missing file, a file that is not a complete optviz run archive (truncated,
    corrupt, another program's .npz) or one whose weights do not fit the architecture
    it names raises OptvizError with a one-line message.
    """
    from optviz.io import user_path
    from optviz.nn.model import build_model

    path = user_path(path)
    if not path.exists():
        raise _fail(path, "no such file")
    if path.is_dir():
        raise _fail(path, "is a directory, not a run file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "format" not in archive.files or str(archive["format"]) != FORMAT:
                raise _fail(
                    path, "not an optviz run file (no optviz-run marker); save one with save_run"
                )
            meta = json.loads(str(archive["meta"]))
            if not isinstance(meta, dict):
                raise _fail(path, "not an optviz run file (its metadata is not a table)")
            if int(meta.get("version", 0)) > VERSION:
                raise _fail(path, f"written by a newer optviz (format version {meta['version']})")
            arrays = {
                name: archive[name] for name in archive.files if name not in ("format", "meta")
            }
    except OptvizError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, KeyError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "pickle" in reason:
            reason = "it holds pickled Python objects, which optviz never loads"
        raise _fail(
            path, f"not a readable optviz run file, truncated or corrupt ({reason})"
        ) from None

    try:
        spec = dict(meta["model_spec"])
        initial = {k: arrays[f"initial/{k}"] for k in meta["initial_names"]}
        split = Split(
            arrays["split/X_train"],
            arrays["split/y_train"],
            arrays["split/X_val"],
            arrays["split/y_val"],
        )
        runs = []
        for i, rm in enumerate(meta["runs"]):
            run = OptimizerRun(
                rm["label"], rm["optimizer"], dict(rm["hyperparameters"]), rm["status"]
            )
            for name in _LISTS:
                setattr(run, name, [float(v) for v in rm[name]])
            run.grad_norms = {k: arrays[f"run{i}/grad_norms/{k}"] for k in rm["grad_norm_layers"]}
            run.running_stats = {
                k: arrays[f"run{i}/running_stats/{k}"] for k in rm["running_stat_names"]
            }
            run.final_state = {k: arrays[f"run{i}/final/{k}"] for k in rm["final_names"]}
            if rm["has_snapshots"]:
                run.snapshots = arrays[f"run{i}/snapshots"]
                run.snapshot_steps = arrays[f"run{i}/snapshot_steps"]
            runs.append(run)
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail(path, f"incomplete optviz run file (missing {exc})") from None

    # the weights must fit the architecture the file names; check its size against the
    # stored weights before building it, so an edited spec cannot allocate terabytes
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
            raise _fail(
                path,
                f"weights of {label} do not fit the {spec.get('arch', '?')} architecture the file "
                f"names (foreign or edited file; first mismatch: {diff[0]})",
            )
    n_params = sum(int(np.prod(v)) for k, v in want.items() if not _is_buffer(k))
    for run in runs:
        if run.snapshots is not None and (
            run.snapshots.ndim != 2
            or run.snapshots.shape[1] != n_params
            or len(run.snapshot_steps) != len(run.snapshots)
        ):
            raise _fail(path, f"weight snapshots of {run.label} do not fit the architecture")
        if run.snapshots is not None and not np.isfinite(run.snapshots).all():
            raise _fail(path, f"weight snapshots of {run.label} hold non-finite values (corrupt file)")
    return TrainResult(runs, spec, dict(meta["settings"]), dict(meta["data_info"]), initial, split)
