"""The public Python API: one function per command, each returning a typed result.

======================  ===================================  =======================
function                what it does                         returns
======================  ===================================  =======================
``run``                 optimizers on a function             :class:`RunResult`
``compare``             the same, to be ranked               :class:`CompareResult`
``sweep``               lr (× one more setting) grids        :class:`SweepReport`
``basins``              which minimum each start reaches     :class:`BasinsReport`
``tune``                each optimizer's best lr             :class:`TuneReport`
``train``               a numpy network, several optimizers  :class:`TrainReport`
``landscape``           loss landscapes of a training run    :class:`LandscapeReport`
``build_network``       the network ``train`` would build    :class:`~optviz.nn.model.Model`
``train_sweep``         optimizer × setting × seed, on Dask  :class:`TrainSweepReport`
======================  ===================================  =======================

Every function validates its arguments itself and raises :class:`~optviz.errors.OptvizError`
worded in its keyword names; the command line is a thin layer over these.
"""

from optviz.api.grids import BasinsReport, SweepReport, TuneReport, basins, sweep, tune
from optviz.api.surface import CompareResult, RunResult, compare, run
from optviz.settings import make_oracle, optimizer_settings, oracle_factory, resolve_function

_NETWORK = ("LandscapeReport", "TrainReport", "landscape", "build_network", "train")
_PAGES = ("explore",)
_SWEEPS = ("TrainSweepReport", "train_sweep")


def __getattr__(name: str):
    """The network half (numpy networks, landscapes) is imported on first use."""
    if name in _NETWORK:
        from optviz.api import network

        return getattr(network, name)
    if name in _PAGES:
        from optviz.api import pages

        return getattr(pages, name)
    if name in _SWEEPS:
        from optviz.api import network_sweep

        return getattr(network_sweep, name)
    raise AttributeError(f"module 'optviz.api' has no attribute {name!r}")


__all__ = [
    "BasinsReport", "CompareResult", "LandscapeReport", "RunResult", "SweepReport", "TrainReport", "TrainSweepReport",
    "TuneReport", "basins", "compare", "explore", "landscape", "build_network", "make_oracle", "optimizer_settings",
    "oracle_factory", "resolve_function", "run", "sweep", "train", "train_sweep", "tune",
]
