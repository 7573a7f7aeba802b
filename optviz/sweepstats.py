"""What a training sweep says, computed from its cells: per setting the median and the
10–90 % band over seeds, per optimizer the best setting and how wide a range of learning
rates comes within one point of it.

A seed that diverged has no final accuracy or loss (its weights are no longer finite):
medians and bands are over the seeds that finished, and the setting counts its diverged
seeds. A setting can be *best* only when every seed finished (none diverged or failed);
among those the highest median final validation accuracy wins, the lower median loss
breaks ties.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

BAND = (0.1, 0.9)
WITHIN = 0.01  # one point of accuracy


@dataclass
class SettingStats:
    """The seeds of one (optimizer, setting): counts and quantiles of the final values."""

    optimizer: str
    setting: dict[str, float]
    seeds: int
    diverged: int
    failed: int
    acc: np.ndarray  # final validation accuracy of the seeds that finished (q10, median, q90)
    loss: np.ndarray
    acc_range: tuple[float, float] = (math.nan, math.nan)  # min, max over seeds

    @property
    def finished(self) -> int:
        return self.seeds - self.diverged - self.failed

    @property
    def all_finished(self) -> bool:
        return self.seeds > 0 and self.finished == self.seeds


@dataclass
class Curve:
    """One line of the sensitivity figure: a statistic of the final values against ``x_name``.

    Arrays are indexed like ``x``; ``acc``/``loss`` have shape (3, n): the 10 % quantile,
    the median and the 90 % quantile (NaN where every seed diverged or failed).
    """

    optimizer: str
    label: str
    x_name: str
    x: np.ndarray
    log_x: bool
    acc: np.ndarray
    loss: np.ndarray
    diverged: np.ndarray
    seeds: np.ndarray
    best: int | None = None  # index of the optimizer's best setting on this line


@dataclass
class Best:
    """An optimizer's best setting, its spread over seeds, and its sensitivity to the lr."""

    optimizer: str
    setting: dict[str, float] | None
    acc: tuple[float, float, float] = (math.nan, math.nan, math.nan)  # q10, median, q90
    acc_range: tuple[float, float] = (math.nan, math.nan)
    loss: float = math.nan
    lr_within: tuple[float, float] | None = None

    @property
    def lr_decades(self) -> float | None:
        """log10(hi / lo) of the lr range within one point of the best (0 for a single lr)."""
        if self.lr_within is None:
            return None
        lo, hi = self.lr_within
        return float(np.log10(hi / lo))

    def to_json(self) -> dict[str, Any]:
        nan = lambda v: None if v is None or not math.isfinite(v) else float(v)  # noqa: E731
        return {"optimizer": self.optimizer, "setting": self.setting,
                "val_acc": {"q10": nan(self.acc[0]), "median": nan(self.acc[1]), "q90": nan(self.acc[2]),
                            "min": nan(self.acc_range[0]), "max": nan(self.acc_range[1])},
                "val_loss_median": nan(self.loss),
                "lr_within_1_point": list(self.lr_within) if self.lr_within else None,
                "lr_within_1_point_decades": self.lr_decades}


def _quantiles(values: Sequence[float]) -> np.ndarray:
    v = np.asarray([x for x in values if x is not None], dtype=float)
    if v.size == 0:
        return np.full(3, np.nan)
    return np.quantile(v, [BAND[0], 0.5, BAND[1]])


def setting_stats(optimizer: str, setting: dict[str, float], results: Iterable[dict]) -> SettingStats:
    """Statistics over the seeds of one setting (``results``: the cell results, one per seed)."""
    results = list(results)
    ok = [r for r in results if r["status"] == "ok"]
    accs = [r["final_val_acc"] for r in ok if r["final_val_acc"] is not None]
    return SettingStats(optimizer, dict(setting), len(results),
                        sum(r["status"] == "diverged" for r in results), sum(r["status"] == "failed" for r in results),
                        _quantiles(accs), _quantiles([r["final_val_loss"] for r in ok]),
                        (min(accs), max(accs)) if accs else (math.nan, math.nan))


def _better(a: SettingStats, b: SettingStats | None) -> bool:
    if b is None:
        return True
    if a.acc[1] != b.acc[1]:
        return bool(a.acc[1] > b.acc[1])
    return bool(a.loss[1] < b.loss[1])


def best_setting(optimizer: str, stats: Sequence[SettingStats]) -> Best:
    """The best setting of one optimizer (see the module docstring) and the lr range
    within one point of its median accuracy: the contiguous run of learning rates around
    it, the other settings held, whose every seed finished at ≥ best − 0.01."""
    best = None
    for s in stats:
        if s.all_finished and np.isfinite(s.acc[1]) and _better(s, best):
            best = s
    if best is None:
        return Best(optimizer, None)
    out = Best(optimizer, dict(best.setting), tuple(float(a) for a in best.acc), best.acc_range, float(best.loss[1]))
    if "lr" in best.setting:
        others = {k: v for k, v in best.setting.items() if k != "lr"}
        line = sorted((s for s in stats if {k: v for k, v in s.setting.items() if k != "lr"} == others),
                      key=lambda s: s.setting["lr"])
        good = [s.all_finished and s.acc[1] >= best.acc[1] - WITHIN for s in line]
        i = next(j for j, s in enumerate(line) if s is best)
        lo = hi = i
        while lo > 0 and good[lo - 1]:
            lo -= 1
        while hi < len(line) - 1 and good[hi + 1]:
            hi += 1
        out.lr_within = (float(line[lo].setting["lr"]), float(line[hi].setting["lr"]))
    return out


def curves(optimizer: str, axes: Sequence[Any], stats: Sequence[SettingStats], best: Best | None = None
           ) -> list[Curve]:
    """The lines of one optimizer: x is its first swept axis (the lr when swept), one line
    per value of a second axis (``axes``: :class:`optviz.batch.Axis`, at least one)."""
    first, rest = axes[0], axes[1:]
    groups: dict[tuple, list[SettingStats]] = {}
    for s in stats:
        groups.setdefault(tuple((a.name, s.setting[a.name]) for a in rest), []).append(s)
    out = []
    for group, members in groups.items():
        members.sort(key=lambda s: s.setting[first.name])
        label = optimizer + "".join(f", {k}={v:.3g}" for k, v in group)
        out.append(_curve(optimizer, label, first.name, members, [s.setting[first.name] for s in members],
                          first.log, best))
    return out


def _curve(optimizer: str, label: str, x_name: str, members: list[SettingStats], x: list[float], log: bool,
           best: Best | None) -> Curve:
    idx = None
    if best is not None and best.setting is not None:
        idx = next((i for i, s in enumerate(members) if s.setting == best.setting), None)
    return Curve(optimizer, label, x_name, np.asarray(x, dtype=float), log,
                 np.stack([s.acc for s in members], axis=1), np.stack([s.loss for s in members], axis=1),
                 np.asarray([s.diverged for s in members]), np.asarray([s.seeds for s in members]), idx)
