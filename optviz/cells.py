"""One cell of a training sweep: one optimizer with one setting and one seed, trained once.

A cell is a pure function of its *specification*, a small JSON document that holds
everything that decides the run: the library versions, the data (a built-in set by its
name and parameters, a user's CSV by the SHA-256 of its bytes), the network, the
training settings, the optimizer with all its hyperparameters, and the seed. Its *key*
is the SHA-256 of the canonical text of that document, so two cells with the same key
are the same computation, wherever and whenever they run.

:func:`run_cell` trains the network (:func:`optviz.nn.train.train`, the engine of
``optviz train``) with one BLAS thread, so that the numbers are the same bit for bit
whether the cell runs in this process or in a worker process on the same machine, and
reduces the run to a :data:`result <RESULT_FIELDS>`: final and best validation
accuracy and loss, the epoch of divergence, the wall time, the status. A cell that
fails returns its error as data (status ``failed``); it never raises, except on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

CELL_FORMAT = "optviz.train-sweep-cell/1"
STATUSES = ("ok", "diverged", "failed")
FULL_BATCH = 10**9  # gd trains on the whole training set: the engine clamps this
RESULT_FIELDS = ("status", "diverged_epoch", "epochs", "final_val_acc", "best_val_acc", "final_val_loss",
                 "best_val_loss", "best_epoch", "final_train_loss", "val_acc", "val_loss", "wall_time", "error")


def versions() -> dict[str, str]:
    """The library versions that decide a cell's numbers (part of every specification)."""
    import optviz

    return {"optviz": optviz.__version__, "numpy": np.__version__}


def canonical(document: Any) -> str:
    """The one text of a JSON document: sorted keys, no spaces, floats by their shortest repr."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)


def cell_key(spec: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of a cell's canonical specification."""
    return hashlib.sha256(canonical(spec).encode("utf-8")).hexdigest()


def plain(value: Any) -> Any:
    """A hyperparameter as a JSON value (numpy scalars to Python numbers)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def make_spec(*, data: Mapping[str, Any], model: Mapping[str, Any], training: Mapping[str, Any], optimizer: str,
              hyperparameters: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """A cell's specification; ``hyperparameters`` are the optimizer's resolved ones (lr included)."""
    return {"format": CELL_FORMAT, "versions": versions(), "data": dict(data), "model": dict(model),
            "training": dict(training), "optimizer": optimizer,
            "hyperparameters": {k: plain(v) for k, v in hyperparameters.items()}, "seed": int(seed)}


@functools.lru_cache(maxsize=4)
def _built_in(name: str, samples: int | None, noise: float | None, seed: int):
    from optviz.nn.data import load_dataset

    return load_dataset(name, n=samples, noise=noise, seed=seed)


def built_in_data(data: Mapping[str, Any]):
    """The dataset a specification names (built where the cell runs; kept for the next cells)."""
    return _built_in(data["name"], data.get("samples"), data.get("noise"), int(data.get("seed", 0)))


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Limit BLAS to one thread inside the block (threadpoolctl, part of the distributed
    extra); without it the thread count is left as it is."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - the extra brings it
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def failed(error: str, wall_time: float = 0.0) -> dict[str, Any]:
    """The result of a cell that could not run."""
    out: dict[str, Any] = dict.fromkeys(RESULT_FIELDS)
    out.update(status="failed", epochs=0, val_acc=[], val_loss=[], wall_time=wall_time, error=error)
    return out


def version_mismatch(wanted: Mapping[str, str]) -> str | None:
    """Why this process cannot run a cell made with ``wanted`` versions (None when it can)."""
    have = versions()
    if dict(wanted) == have:
        return None
    show = lambda v: ", ".join(f"{k} {v.get(k, '?')}" for k in sorted(set(have) | set(wanted)))  # noqa: E731
    return f"this worker runs {show(have)}; the sweep was made with {show(wanted)}"


def run_cell(spec: Mapping[str, Any], dataset: Any = None) -> dict[str, Any]:
    """Train the cell ``spec`` describes and return its result (see the module docstring).

    ``dataset``: the data of a user's file (read by the client, whose hash is in the
    specification); None builds the built-in set the specification names. Ctrl-C in this
    process raises KeyboardInterrupt (nothing is returned for an unfinished cell).
    """
    start = time.perf_counter()
    mismatch = version_mismatch(spec.get("versions", {}))
    if mismatch:
        return failed(mismatch)
    try:
        with one_blas_thread():
            run = _train(spec, dataset)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # a failing cell is recorded, the sweep goes on
        return failed(f"{type(exc).__name__}: {' '.join(str(exc).split())}", time.perf_counter() - start)
    if run.interrupted:
        raise KeyboardInterrupt
    return reduce_run(run, time.perf_counter() - start)


def _train(spec: Mapping[str, Any], dataset: Any):
    from optviz.nn.train import train

    data = dataset if dataset is not None else built_in_data(spec["data"])
    model, training, seed = dict(spec["model"]), dict(spec["training"]), int(spec["seed"])
    model["dtype"] = np.dtype(model["dtype"]).type
    name = spec["optimizer"]
    batch_size = FULL_BATCH if name == "gd" else training["batch_size"]
    result = train(data, [(name, dict(spec["hyperparameters"]))], model={**model, "seed": seed},
                   epochs=training["epochs"], batch_size=batch_size, schedule=training["schedule"],
                   schedule_unit=training["schedule_unit"], loss=training["loss"],
                   weight_decay=training["weight_decay"], l1=training["l1"], seed=seed,
                   val_fraction=training["val_fraction"])
    return result.runs[0]


def reduce_run(run: Any, wall_time: float) -> dict[str, Any]:
    """A training run (:class:`~optviz.nn.records.OptimizerRun`) reduced to a cell result.

    ``final_*`` are the values after the last epoch, None when the run diverged (its
    weights are no longer finite); ``best_*`` are the best over the epochs it finished;
    ``best_epoch`` is the epoch of the best validation accuracy (the first, on ties).
    """
    diverged = run.diverged
    acc, loss = [float(a) for a in run.val_acc], [float(v) for v in run.val_loss]
    return {
        "status": "diverged" if diverged else "ok",
        "diverged_epoch": run.outcome.epoch if diverged else None,
        "epochs": len(acc),
        "final_val_acc": None if diverged or not acc else acc[-1],
        "best_val_acc": max(acc) if acc else None,
        "final_val_loss": None if diverged or not loss else loss[-1],
        "best_val_loss": min(loss) if loss else None,
        "best_epoch": int(np.argmax(acc)) + 1 if acc else None,
        "final_train_loss": None if diverged or not run.train_loss else float(run.train_loss[-1]),
        "val_acc": acc,
        "val_loss": loss,
        "wall_time": float(wall_time),
        "error": None,
    }
