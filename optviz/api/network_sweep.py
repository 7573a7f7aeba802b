"""Optimizer × setting × seed on a network: :func:`train_sweep`.

Every cell is one training run of :mod:`optviz.nn.train` (see :mod:`optviz.cells`),
a pure function of its specification and keyed by its hash. Finished cells are kept in
a cache folder, so a sweep run again computes only the cells it does not have; the
missing cells run on Dask (:mod:`optviz.cluster`) or, without it, one after another.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from optviz import validate
from optviz.batch import Axis, parse_grid
from optviz.cellcache import CellCache
from optviz.cells import cell_key, make_spec, plain
from optviz.errors import OptvizError
from optviz.optim import make_optimizer, optimizer_class
from optviz.settings import optimizer_names, parse_params, scoped_params
from optviz.sweepstats import Best, Curve, best_setting, curves, setting_stats

VAL_FRACTION = 0.2
MAX_AXES = 2
MAX_CELLS = 100_000


class SweepProgress(NamedTuple):
    """Cells computed (failed ones included), failed, read from the cache, in all, and
    where the cells run ("cache" when every cell was cached)."""

    computed: int
    failed: int
    cached: int
    total: int
    where: str = ""


@dataclass
class Cell:
    """One (optimizer, setting, seed); ``result`` is None until it has run."""

    optimizer: str
    setting: dict[str, float]
    seed: int
    key: str
    spec: dict[str, Any]
    result: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer, "setting": self.setting, "seed": self.seed, "key": self.key,
                "hyperparameters": self.spec["hyperparameters"], **(self.result or {})}


@dataclass
class Plan:
    """What a sweep will compute: the grid of each optimizer and its cells, in order."""

    axes: dict[str, list[Axis]]
    fixed: dict[str, dict[str, Any]]
    cells: list[Cell]
    data: dict[str, Any]
    model: dict[str, Any]
    training: dict[str, Any]
    dataset: Any = None  # travels with the cells when it is a user's file


@dataclass
class TrainSweepReport:
    """The cells of a sweep with their results, and what they say (best settings, curves).

    ``computed``/``cached``/``failed`` count this call's cells; ``interrupted`` says
    Ctrl-C stopped it (the cells finished until then are in ``cells`` and in the cache).
    """

    plan: Plan
    seeds: list[int]
    notes: list[str] = field(default_factory=list)
    computed: int = 0
    cached: int = 0
    failed: int = 0
    interrupted: bool = False
    cache: Path | None = None

    @property
    def cells(self) -> list[Cell]:
        return self.plan.cells

    @property
    def optimizers(self) -> list[str]:
        return list(self.plan.axes)

    def stats(self, optimizer: str) -> list:
        """Per setting of ``optimizer`` (in grid order), statistics over its finished seeds."""
        groups: dict[str, list[Cell]] = {}
        for c in self.cells:
            if c.optimizer == optimizer and c.result is not None:
                groups.setdefault(repr(sorted(c.setting.items())), []).append(c)
        return [setting_stats(optimizer, cells[0].setting, [c.result for c in cells]) for cells in groups.values()]

    def best(self) -> list[Best]:
        return [best_setting(name, self.stats(name)) for name in self.optimizers]

    def curves(self) -> list[Curve]:
        out = []
        for name, best in zip(self.optimizers, self.best(), strict=True):
            stats = self.stats(name)
            if stats:
                out += curves(name, self.plan.axes[name], stats, best)
        return out

    def title(self) -> str:
        """'digits: resnet, depth 6, width 128, bn, 30 epochs' (for figures and tables; an image
        model by its own settings: 'digits: lenet, 6 channels, bn, 30 epochs')."""
        from optviz.nn.network_words import one_network

        m, t = self.plan.model, self.plan.training
        return (f"{self.plan.data['name']}: {one_network(m)[0]}, {m['norm']}, {t['epochs']} "
                f"epoch{'' if t['epochs'] == 1 else 's'}")

    def stem(self) -> str:
        """A file name for the figure: data, network and optimizers."""
        from optviz.nn.network_words import one_network

        return f"{self.plan.data['name']}_{one_network(self.plan.model)[1]}_{'-'.join(self.optimizers)}_train-sweep"

    def to_csv(self) -> str:
        """One row per finished cell: optimizer, swept settings, seed and the cell's result."""
        import csv
        import io

        swept = list(dict.fromkeys(a.name for axes in self.plan.axes.values() for a in axes))
        fields = ["optimizer", *swept, "seed", "status", "diverged_epoch", "epochs", "final_val_acc",
                  "best_val_acc", "final_val_loss", "best_val_loss", "best_epoch", "final_train_loss",
                  "wall_time", "error", "key"]
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fields, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        for c in self.cells:
            if c.result is not None:
                writer.writerow({"optimizer": c.optimizer, **{k: repr(v) for k, v in c.setting.items()},
                                 "seed": c.seed, "key": c.key,
                                 **{k: ("" if v is None else v) for k, v in c.result.items()}})
        return buf.getvalue()

    def to_json(self) -> dict[str, Any]:
        """The document of ``optviz train-sweep --json``: the same for a run and its rerun from the cache."""
        from optviz.nn.built import built_settings

        model = built_settings({**self.plan.model, "in_dim": self.plan.data.get("n_features")})  # what was built
        return {"data": self.plan.data, "model": model, "training": self.plan.training,
                "seeds": self.seeds,
                "grid": {name: {"swept": {a.name: a.values.tolist() for a in axes},
                                "fixed": self.plan.fixed[name]} for name, axes in self.plan.axes.items()},
                "cells": [c.to_json() for c in self.cells if c.result is not None],
                "best": [b.to_json() for b in self.best()]}


def _optimizer_grid(name: str, lr: Any, params: Mapping[str, Any], schedule: str | None
                    ) -> tuple[list[Axis], dict[str, Any]]:
    """The swept axes (at most two; the lr first) and the fixed values of one optimizer."""
    values = dict(params)
    lr_spec = values.pop("lr", lr)
    if lr_spec is None:
        lr_spec = optimizer_class(name).default_train_lr
    axes, fixed = [], {}
    for key, spec in [("lr", lr_spec), *values.items()]:
        text = str(spec).strip()
        axis = parse_grid(key, text) if ":" in text or key == "lr" else None
        if axis is not None and len(axis.values) > 1:
            axes.append(axis)
        else:
            fixed[key] = float(axis.values[0]) if axis is not None else spec
    if len(axes) > MAX_AXES:
        raise OptvizError(f"{name}: a sweep takes at most two grids (e.g. {{lr}}=1e-4:1:8 with beta=0:0.99:5), "
                          f"got {', '.join(a.name for a in axes)}", param="params", names=("lr",))
    if not axes:  # nothing swept: the lr is a grid of one
        axes = [Axis("lr", np.array([float(fixed.pop("lr"))]), True)]
    first = {a.name: a.values[0] for a in axes}
    if getattr(make_optimizer(name, schedule=schedule, **fixed, **first), "needs_hessian", False):
        raise OptvizError(f"{name} needs a Hessian, which a network does not provide; choose a first-order "
                          "optimizer in {opt}", param="opt")
    resolved = make_optimizer(name, **fixed, **first).hyperparameters
    return axes, {k: plain(resolved[k]) for k in fixed}


def _settings(axes: list[Axis]) -> list[dict[str, float]]:
    return [dict(zip([a.name for a in axes], (float(v) for v in combo), strict=True))
            for combo in itertools.product(*(a.values for a in axes))]


def _data(data: str, target: str | None, samples: int | None, noise: float | None, seed: int
          ) -> tuple[dict[str, Any], Any, Any]:
    """(data specification, the dataset, what travels with the cells: None for built-in data)."""
    from optviz.nn.data import DATASETS, load_data

    dataset = load_data(data, target, samples, noise, seed)
    if data == "digits":
        return {"name": "digits"}, dataset, None
    if data in DATASETS:
        return {"name": data, "samples": samples, "noise": noise, "seed": seed}, dataset, None
    digest = hashlib.sha256(Path(data).read_bytes()).hexdigest()
    return {"name": Path(data).name, "sha256": digest, "target": target}, dataset, dataset


def _model(arch, depth, width, norm, act, init, dropout, dtype, dataset) -> dict[str, Any]:
    from optviz.nn.model import build_model

    validate.one_of("dtype", dtype, ("float32", "float64"))
    validate.whole("depth", depth)
    validate.between("dropout", dropout, 0.0, 1.0, high_open=True)
    model = {"arch": arch, "depth": depth, "width": width, "norm": norm, "act": act, "init": init,
             "dropout": float(dropout), "dtype": dtype}
    build_model(**{**model, "dtype": np.dtype(dtype).type}, in_dim=dataset.X.shape[1],
                out_dim=dataset.n_classes)  # refuse a bad network before any work
    return model


def _training(epochs, batch_size, schedule, schedule_unit, loss, weight_decay, l1) -> dict[str, Any]:
    from optviz.nn.evaluation import TRAIN_LOSSES

    validate.whole("epochs", epochs)
    validate.whole("batch_size", batch_size)
    validate.one_of("schedule_unit", schedule_unit, ("step", "epoch"))
    validate.one_of("loss", loss, TRAIN_LOSSES)
    return {"epochs": int(epochs), "batch_size": int(batch_size), "schedule": schedule,
            "schedule_unit": schedule_unit, "loss": loss, "weight_decay": validate.non_negative("weight_decay", weight_decay),
            "l1": validate.non_negative("l1", l1), "val_fraction": VAL_FRACTION}


def plan_sweep(data, opt, *, target, samples, noise, model_args, training, lr, params, seed, seeds) -> Plan:
    """Check every argument and lay out the cells (no training)."""
    names = optimizer_names(opt)
    validate.whole("seeds", seeds)
    validate.whole("seed", seed, 0)
    per = scoped_params(parse_params(params), names)
    grids = {name: _optimizer_grid(name, lr, per[name], training["schedule"]) for name in names}
    n_cells = sum(int(np.prod([len(a.values) for a in axes])) for axes, _ in grids.values()) * seeds
    if n_cells > MAX_CELLS:
        raise OptvizError(f"this sweep has {n_cells} cells (optimizers × settings × {{seeds}}); at most {MAX_CELLS}: "
                          "use coarser grids ({lr}=LO:HI:N with a smaller N)", param="lr", names=("seeds",))
    data_spec, dataset, shipped = _data(data, target, samples, noise, seed)
    model = _model(*model_args, dataset)
    cells, seen = [], set()
    for name, (axes, fixed) in grids.items():
        for setting in _settings(axes):
            hyper = make_optimizer(name, **{**fixed, **setting}).hyperparameters
            for s in range(seed, seed + seeds):
                spec = make_spec(data=data_spec, model=model, training=training, optimizer=name,
                                 hyperparameters=hyper, seed=s)
                key = cell_key(spec)
                if key not in seen:
                    seen.add(key)
                    cells.append(Cell(name, setting, s, key, spec))
    info = {**data_spec, "n_samples": int(len(dataset.y)), "n_features": int(dataset.X.shape[1]),
            "classes": list(dataset.classes)}
    return Plan({n: g[0] for n, g in grids.items()}, {n: g[1] for n, g in grids.items()}, cells, info, model,
                training, shipped)


def train_sweep(data: str = "digits", opt: str | Iterable[str] = "adam,momentum", *, target: str | None = None,
                samples: int | None = None, noise: float | None = None, arch: str = "resnet", depth: int = 6,
                width: int = 128, norm: str = "bn", act: str = "relu", init: str = "he", dropout: float = 0.0,
                dtype: str = "float32", loss: str = "cross_entropy", lr: str | float | None = "1e-4:1:8",
                params: Mapping[str, Any] | Iterable[str] | None = None, schedule: str | None = None,
                schedule_unit: str = "step", epochs: int = 30, batch_size: int = 64, weight_decay: float = 0.0,
                l1: float = 0.0, seed: int = 0, seeds: int = 2, cache: str | Path | None = None,
                workers: int | None = None, scheduler: str | None = None, verbose: bool = False,
                progress: Callable[[SweepProgress], None] | None = None) -> TrainSweepReport:
    """Train every (optimizer, setting, seed) once and gather the final validation numbers.

    The data, network and training arguments are those of :func:`optviz.train`. ``lr``:
    a log grid ``"LO:HI:N"`` or one rate (None: each optimizer's default);
    ``params``: ``{"beta": "0.5:0.99:5"}`` sweeps a hyperparameter (linear; ``log:``
    forces log spacing), ``{"beta": 0.9}`` fixes one, ``"adam.beta1"`` only Adam's, and
    ``"adam.lr"`` gives Adam its own lr grid; at most two grids per optimizer. ``seeds``:
    seeds seed … seed+N−1 (split, weights, batch order; a generated data set is drawn
    once with ``seed``).

    ``cache``: a folder of finished cells (one JSON file per cell, keyed by the hash of
    everything that decides it): cells found there are not computed again, new ones are
    added as they finish. ``workers``: worker processes of the local Dask cluster
    (default: one per core; 0 runs the cells in this process); ``scheduler``: the
    address of a running Dask scheduler instead. Without Dask the cells run one after
    another here. ``progress(SweepProgress)`` after the cache is read and after every
    cell. Ctrl-C stops the sweep: the report says ``interrupted`` and holds the cells
    finished until then. Returns a :class:`TrainSweepReport`.
    """
    if workers is not None:
        validate.whole("workers", workers, 0)
        if scheduler is not None:
            raise OptvizError("{workers} sizes the local cluster; a cluster at {scheduler} has its own workers",
                              param="workers", names=("scheduler",))
    training = _training(epochs, batch_size, schedule, schedule_unit, loss, weight_decay, l1)
    plan = plan_sweep(data, opt, target=target, samples=samples, noise=noise, training=training, lr=lr,
                      params=params, seed=seed, seeds=seeds,
                      model_args=(arch, depth, width, norm, act, init, dropout, dtype))
    report = TrainSweepReport(plan, list(range(seed, seed + seeds)))
    store = CellCache(cache) if cache is not None else None
    by_key = {c.key: c for c in plan.cells}
    if store is not None:
        found, notes = store.load(by_key)
        for key, result in found.items():
            by_key[key].result = result
        report.cached, report.cache = len(found), store.directory
        report.notes += notes
    tell = progress or (lambda counts: None)
    missing = [c for c in plan.cells if c.result is None]
    where = _where(workers, scheduler, len(missing))

    def on_result(key: str, result: dict[str, Any]) -> None:
        cell = by_key[key]
        cell.result = result
        report.computed += 1
        if result["status"] == "failed":
            report.failed += 1
        elif store is not None:
            store.store(key, cell.spec, result)
        tell(SweepProgress(report.computed, report.failed, report.cached, len(plan.cells), where))

    tell(SweepProgress(0, 0, report.cached, len(plan.cells), where))
    if missing:
        try:
            _execute([(c.key, c.spec) for c in missing], plan.dataset, on_result, workers, scheduler, verbose)
        except KeyboardInterrupt:
            report.interrupted = True
    report.notes += _closing_notes(report, where)
    return report


def _where(workers: int | None, scheduler: str | None, n_missing: int) -> str:
    """Where the missing cells will run, in words."""
    from optviz.cluster import EXTRA, dask_installed, default_workers

    if n_missing == 0:
        return "cache"
    if scheduler is not None:
        if not dask_installed():
            raise OptvizError(f"{{scheduler}} needs Dask: {EXTRA}", param="scheduler")
        return f"Dask at {scheduler}"
    if workers == 0:
        return "this process"
    if not dask_installed():
        return f"this process, one after another ({EXTRA} runs them in parallel)"
    n = min(workers or default_workers(), n_missing)
    return f"{n} local Dask worker{'s' if n > 1 else ''}"


def _execute(tasks, dataset, on_result, workers, scheduler, verbose) -> None:
    from optviz.cluster import dask_installed, default_workers, run_dask, run_serial

    if scheduler is None and (workers == 0 or not dask_installed()):
        run_serial(tasks, dataset, on_result)
    else:
        n = None if scheduler is not None else min(workers or default_workers(), len(tasks))
        run_dask(tasks, dataset, on_result, workers=n, scheduler=scheduler, verbose=verbose)


def _closing_notes(report: TrainSweepReport, where: str) -> list[str]:
    notes = []
    if report.cached:
        notes.append(f"{report.cached} of {len(report.cells)} cells read from the cache {report.cache}")
    if where.startswith("this process, one after another"):
        notes.append(f"the cells ran in {where}")
    if report.failed:
        first = next(c for c in report.cells if c.result is not None and c.result["status"] == "failed")
        notes.append(f"{report.failed} cell(s) failed and were not cached (they run again next time); the first, "
                     f"{first.optimizer} {_setting_text(first.setting)} seed {first.seed}: {first.result['error']}")
    if report.interrupted:
        kept = f" (kept in the cache {report.cache})" if report.cache is not None else ""
        done = sum(c.result is not None for c in report.cells)
        notes.append(f"interrupted: {done} of {len(report.cells)} cells finished{kept}; run the same sweep again "
                     "to compute only the rest")
    return notes


def _setting_text(setting: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={v:.3g}" for k, v in setting.items())
