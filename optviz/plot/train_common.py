"""Names, colours and file stems shared by the training figures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from optviz.nn.cnn_models import model_words
from optviz.plot._style import slug


def run_colors(runs: Sequence[Any]) -> list[str]:
    """One fixed color per optimizer (Adam is red in every optviz figure)."""
    from optviz.plot import _style

    return [color for color, _ in _style.run_styles(runs)]


def run_title(run: Any) -> str:
    """'Adam (η=0.001)' — the display name and the learning rate."""
    from optviz.plot import _style

    name = run.label if run.label != run.optimizer else _style.display_name(run.optimizer)
    lr = run.hyperparameters.get("lr")
    return f"{name} (η={_style.fmt_number(lr)})" if isinstance(lr, (int, float)) else name


def default_stem(result: Any) -> str:
    """'digits_resnet6-w128-bn_adam-momentum' from the data, the model and the optimizers."""
    spec = result.model_spec
    model = f"{model_words(spec)[1]}-{spec.get('norm', '')}"
    opts = "-".join(slug(r.label, 20) for r in result.runs)
    if len(opts) > 50:
        opts = f"{len(result.runs)}-optimizers"
    return f"{slug(result.data_info.get('name') or 'data', 30)}_{slug(model, 40)}_{opts}"


def epochs_axis(values: Sequence[float]) -> np.ndarray:
    return np.arange(1, len(values) + 1)


def subtitle(result: Any) -> str:
    spec, data = result.model_spec, result.data_info
    arch = {"resnet": "residual MLP, ", "mlp": "MLP, "}.get(spec.get("arch"), "")
    norm = {"bn": "BatchNorm", "ln": "LayerNorm", "gn": "GroupNorm", "in": "InstanceNorm",
            "none": "no normalization"}.get(spec.get("norm"), "")
    model = model_words(spec)[0].removeprefix(f"{spec.get('arch')} ") if arch else model_words(spec)[0]
    s = result.settings
    return (
        f"{data.get('name') or 'data'} ({data.get('n_train')} train / {data.get('n_val')} val) · "
        f"{arch}{model}, {norm}, {spec.get('act')} · "
        f"batch {s.batch_size}, {s.epochs} epochs"
    )
