"""Exports of a run: the JSON document of ``--json`` and the CSV of ``--csv``.

:func:`jsonable` is the one place that turns results into JSON-ready values (numpy
arrays and scalars to lists and numbers, non-finite numbers to null); every
``to_json`` uses it, and :func:`to_json_text` writes the document.
"""

from __future__ import annotations

import csv
import io
import json
import math
from enum import Enum
from typing import Any

import numpy as np


def jsonable(value: Any) -> Any:
    """``value`` with numpy arrays and scalars made plain and non-finite numbers None."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            return _finite(value.tolist())
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def _finite(values: Any) -> Any:
    """Nested lists of floats with non-finite ones None (the fast path of :func:`jsonable`)."""
    if isinstance(values, list):
        return [_finite(v) for v in values]
    return values if math.isfinite(values) else None


def to_json_text(document: dict) -> str:
    """The document on one line (trajectories would take one line per number if
    indented); keys keep their documented order, so output is deterministic."""
    return json.dumps(document, allow_nan=False) + "\n"


def trajectory_csv(result) -> str:
    """One row per (optimizer, start, step): θ, f, ‖∇f‖, η and the optimizer state."""
    obj = result.objective
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    state_names = sorted({name for traj in result.runs for name in traj.state})
    state_cols = []
    for name in state_names:
        example = next(traj.state[name] for traj in result.runs if name in traj.state)
        if example.ndim == 3:
            state_cols += [(name, j, f"{name}_{v}") for j, v in enumerate(obj.variables)]
        else:
            state_cols.append((name, None, name))
    writer.writerow(["optimizer", "start_index", "step", *obj.variables, "f", "grad_norm", "lr",
                     *[c[2] for c in state_cols]])
    for traj in result.runs:
        for k in range(traj.K):
            for t, step in enumerate(traj.steps_of_rows(traj.rows(k))):
                row = [traj.label or traj.optimizer, k, int(step), *traj.theta[t, k], traj.loss[t, k],
                       traj.grad_norm[t, k], traj.lr[t, k]]
                for name, j, _ in state_cols:
                    arr = traj.state.get(name)
                    row.append(np.nan if arr is None else (arr[t, k, j] if j is not None else arr[t, k]))
                writer.writerow(["" if isinstance(v, float) and not np.isfinite(v) else
                                 (repr(float(v)) if isinstance(v, (float, np.floating)) else v) for v in row])
    return buf.getvalue()
