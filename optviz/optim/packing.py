"""Parameter fusion: an element-wise rule updates a network's many small arrays as a few
flat groups, bit for bit as if it updated each array.

A network hands an optimizer a dict of arrays (a few dozen for the default network);
a rule applied to each costs a dozen numpy calls per array. When the optimizer's rule
treats every number alone (``Optimizer.elementwise``), the arrays are concatenated
into groups of about 32k numbers (their temporaries stay in cache) and the model's
arrays become views of the groups.
"""

from __future__ import annotations

import numpy as np

GROUP = 32768


class Packer:
    """Consecutive parameters (in the model's order) concatenated into groups of at least
    ``GROUP`` numbers (the last group may be smaller).

    Adam on the default network takes 0.23 ms per step this way, 0.37 ms per array, and
    0.55 ms with a separate call for each of its 28 arrays.
    """

    def __init__(self, params: dict[str, np.ndarray]) -> None:
        self.order = list(params)
        self.groups: list[list[str]] = [[]]
        count = 0
        for name, value in params.items():
            if count >= GROUP:
                self.groups.append([])
                count = 0
            self.groups[-1].append(name)
            count += value.size
        self.shapes = {k: v.shape for k, v in params.items()}
        self.bounds = []
        for group in self.groups:
            sizes = [params[k].size for k in group]
            self.bounds.append(np.cumsum([0, *sizes]).tolist())

    def pack(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {
            f"group{i}": np.concatenate([arrays[k].ravel() for k in group])
            for i, group in enumerate(self.groups)
        }

    def unpack(self, packed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The parameters by name, in the model's order, as views of the groups."""
        out = {}
        for i, group in enumerate(self.groups):
            flat, bounds = packed[f"group{i}"], self.bounds[i]
            for k, lo, hi in zip(group, bounds[:-1], bounds[1:], strict=True):
                out[k] = flat[lo:hi].reshape(self.shapes[k])
        return {k: out[k] for k in self.order}
