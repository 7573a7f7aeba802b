"""optviz: see how gradient optimizers move.

The public API is imported lazily so that ``import optviz`` (and ``optviz
--help``) stays instant::

    import optviz
    result = optviz.run("rosenbrock", "adam,momentum")
"""

from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "run": "optviz.api",
    "compare": "optviz.api",
    "sweep": "optviz.api",
    "basins": "optviz.api",
    "tune": "optviz.api",
    "train": "optviz.api",
    "landscape": "optviz.api",
    "build_network": "optviz.api",
    "explore": "optviz.api",
    "train_sweep": "optviz.api",
    "RunResult": "optviz.api",
    "CompareResult": "optviz.api",
    "SweepReport": "optviz.api",
    "BasinsReport": "optviz.api",
    "TuneReport": "optviz.api",
    "TrainReport": "optviz.api",
    "LandscapeReport": "optviz.api",
    "TrainSweepReport": "optviz.api",
    "load_function": "optviz.library",
    "function_names": "optviz.library",
    "parse_formula": "optviz.expr",
    "Objective": "optviz.objective",
    "objective_from_formula": "optviz.objective",
    "make_optimizer": "optviz.optim",
    "parse_schedule": "optviz.optim",
    "run_optimizer": "optviz.runner",
    "Trajectory": "optviz.trajectory",
    "Status": "optviz.status",
    "OptvizError": "optviz.errors",
}

__all__ = sorted(_LAZY)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'optviz' has no attribute {name!r}")
