"""A loaded run file's contents checked against each other: the architecture it names
is buildable, every weight fits it, the data fit the network."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from optviz.errors import OptvizError, printable
from optviz.nn.data import Split
from optviz.nn.records import OptimizerRun


def _fail(path: Path, why: str) -> OptvizError:
    return OptvizError(f"{printable(path)}: {why}")


def check_fit(path: Path, spec: dict, initial: dict, split: Split, runs: list[OptimizerRun]) -> None:
    """The architecture is buildable, the weights fit it, the data fit the network."""
    from optviz.nn.model import build_model

    # check its size against the stored weights before building it, so an edited spec
    # cannot allocate terabytes
    stored = sum(int(np.size(v)) for v in initial.values())
    depth, width = spec.get("depth", 1), spec.get("width", 1)
    in_dim, out_dim = spec.get("in_dim", 1), spec.get("out_dim", 1)
    implied = width * (in_dim + out_dim + max(depth, 1) * width)
    if implied > 4 * stored + 10_000:
        raise _fail(path, "names an architecture that does not fit its stored weights (foreign or edited file)")
    try:
        net = build_model(**spec)
    except (OptvizError, TypeError, ValueError, MemoryError) as exc:
        raise _fail(path, f"names an architecture optviz cannot build ({printable(exc)})") from None
    want = {k: v.shape for k, v in net.get_state().items()}
    for label, state in [("initial weights", initial)] + [(r.label, r.final_state) for r in runs]:
        got = {k: v.shape for k, v in state.items()}
        if got != want:
            diff = sorted(set(got) ^ set(want)) or sorted(k for k in got if got[k] != want[k])
            raise _fail(
                path,
                f"weights of {printable(label)} do not fit the {printable(spec.get('arch', '?'))} "
                f"architecture the file names (foreign or edited file; first mismatch: {printable(diff[0])})",
            )
    _check_split(path, split, in_dim, out_dim)
    n_params = net.num_params()
    for run in runs:
        if run.snapshots is None:
            continue
        label = printable(run.label)
        if run.snapshots.shape[1] != n_params or run.snapshot_steps.shape != run.snapshots.shape[:1]:
            raise _fail(path, f"weight snapshots of {label} do not fit the architecture")
        if not np.isfinite(run.snapshots).all():
            raise _fail(path, f"weight snapshots of {label} hold non-finite values (corrupt file)")
        if run.snapshot_steps.size and (run.snapshot_steps.min() < 0 or np.any(np.diff(run.snapshot_steps) <= 0)):
            raise _fail(path, f"the snapshot steps of {label} are not increasing counts (corrupt file)")


def _check_split(path: Path, split: Split, in_dim: int, out_dim: int) -> None:
    for part, X, y in (("training", split.X_train, split.y_train), ("validation", split.X_val, split.y_val)):
        if X.ndim != 2 or X.shape[1] != in_dim or y.shape != X.shape[:1] or len(y) < 1:
            raise _fail(path, f"its {part} data do not fit the network's {in_dim} inputs (edited file)")
        if not np.isfinite(X).all():
            raise _fail(path, f"its {part} data hold non-finite values (corrupt file)")
        if y.min() < 0 or y.max() >= out_dim:
            raise _fail(path, f"its {part} labels are not classes 0 … {out_dim - 1} (edited file)")
