"""Whether the units of a layer are still identical copies (docs/math.md §6.1).

With every weight initialized to the same value (``init="zeros"``) the units of a hidden
layer compute the same function and receive the same gradient, so no training step can
tell them apart: the symmetry is never broken. :func:`unit_spread` measures it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optviz.nn.records import is_buffer


def unit_spread(params: dict[str, np.ndarray], spec: dict[str, Any]) -> dict[str, float]:
    """For each hidden layer of a plain MLP, the largest difference between one of its
    units and its first unit, over every parameter tied to a unit.

    Unit j of ``layerK`` owns column j of ``layerK.linear.W`` (its incoming weights),
    entry j of its bias, of its normalization's γ and β and of a PReLU's α, and row j of
    the next weight matrix (``layerK+1.linear.W`` or ``head.W``: its outgoing weights).
    The spread is max over j and over those arrays of |a_j − a_0|: exactly 0 when all
    units are interchangeable copies. Other architectures give an empty dict.
    """
    if spec.get("arch") != "mlp":
        return {}
    depth = int(spec.get("depth", 0))
    out = {}
    for i in range(1, depth + 1):
        prefix = f"layer{i}."
        tied = [v.reshape(-1, v.shape[-1]) for name, v in params.items()
                if name.startswith(prefix) and not is_buffer(name) and v.ndim >= 1]
        outgoing = params[f"layer{i + 1}.linear.W" if i < depth else "head.W"]
        tied.append(outgoing.T)
        out[f"layer{i}"] = max(float(np.max(np.abs(a - a[:, :1]))) for a in tied)
    return out
