"""Terminal tables built from results (returned as rich renderables, not printed)."""

from __future__ import annotations

import math

import numpy as np

from optviz.status import Status
from optviz.trajectory import CONVERGED, DIVERGED, Trajectory

SPARK = "▁▂▃▄▅▆▇█"


def fmt(value, digits: int = 4) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(v):
        return "—" if math.isnan(v) else ("∞" if v > 0 else "−∞")
    return f"{v:.{digits}g}"


def fmt_point(p) -> str:
    return "(" + ", ".join(fmt(v, 4) for v in np.ravel(p)) + ")"


def sparkline(values: np.ndarray, width: int = 16, log: bool = True) -> str:
    """A unicode sparkline of a loss curve (log scale by default), ``width`` characters."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return ""
    idx = np.linspace(0, v.size - 1, min(width, v.size)).round().astype(int)
    v = v[idx]
    if log:
        v = np.log10(np.maximum(v - min(v.min(), 0.0), 0) + 1e-12)
    lo, hi = v.min(), v.max()
    if hi - lo < 1e-12:
        return SPARK[0] * len(v)
    levels = ((v - lo) / (hi - lo) * (len(SPARK) - 1)).round().astype(int)
    return "".join(SPARK[i] for i in levels)


def group_values(traj: Trajectory, ks: list[int]) -> dict:
    """A table row for a group of points: the median point's values, with the seeds' spread."""
    if len(ks) == 1:
        return row_values(traj, ks[0])
    losses = traj.final_loss[ks]
    order = np.argsort(np.where(np.isfinite(losses), losses, np.inf))
    median_k = ks[int(order[len(ks) // 2])]
    r = row_values(traj, median_k)
    lo, hi = np.nanpercentile(np.where(np.isfinite(losses), losses, np.nan), [10, 90])
    r["optimizer"] += f" ×{len(ks)} seeds"
    r["spread"] = f"{fmt(lo, 3)} … {fmt(hi, 3)}"
    n_div = sum(traj.status[k] == DIVERGED for k in ks)
    if n_div:
        r["status_text"] = f"{n_div}/{len(ks)} diverged"
    r["members"] = ks
    return r


def row_values(traj: Trajectory, k: int) -> dict:
    """The numbers a table row shows for point k of a run."""
    obj = traj.objective
    f = float(traj.final_loss[k])
    f_star = obj.reference_value
    _, dist = obj.nearest_minimum(traj.final_theta[k : k + 1])
    status = traj.status[k]
    lr = traj.hyperparameters.get("lr")
    return {
        "optimizer": traj.label or traj.optimizer,
        "lr": lr,
        "final": traj.final_theta[k],
        "f": f,
        "gap": f - f_star if f_star is not None else float("nan"),
        "distance": float(dist[0]),
        "steps": int(traj.steps[k]),
        "steps_to_tol": traj.metrics.get("steps_to_tol", np.full(traj.K, np.nan))[k],
        "status": status,
        "status_text": traj.status_text(k),
        "time": traj.wall_time,
        "diverged": status == DIVERGED,
        "converged": status == CONVERGED,
    }


def gap_cell(gap: float, objective) -> str:
    """f − f* for a table, with a word when it is below zero: by rounding, or below the
    listed minimum (or the lowest found)."""
    text = fmt(gap)
    ref = objective.reference_value
    if ref is None or not gap < 0:
        return text
    if -gap <= 1e-12 * max(1.0, abs(ref)):
        return f"{text} (rounding)"
    return f"{text} (below {'the listed' if objective.reference_is_listed else 'the found'} f*)"


def reference_caption(objective) -> str | None:
    """A caption when f* is not the function's own: 'f* = … is the lowest minimum found'."""
    ref = objective.reference_value
    if ref is None or objective.reference_is_listed:
        return None
    return f"f* = {fmt(ref, 6)}: the lowest minimum found (the function lists none)"


def _status_style(text: str, status: str) -> str:
    color = {"converged": "green", "diverged": "red", "max_steps": "yellow"}.get(status, "magenta")
    return f"[{color}]{text}[/]"


def run_table(result, title: str | None = None):
    from optviz.tables import FitTable

    table = FitTable(title=title or f"{result.objective.name}", title_justify="left",
                     caption=reference_caption(result.objective), caption_justify="left",
                     optional=("time", "start", "dist. to min", "steps", "lr", "final point", "f"))
    for col, just in [("optimizer", "left"), ("lr", "right"), ("start", "right"), ("final point", "right"),
                      ("f", "right"), ("f − f*", "right"), ("dist. to min", "right"), ("steps", "right"),
                      ("status", "left"), ("time", "right")]:
        table.add_column(col, justify=just)
    for traj in result.runs:
        for ks in traj.seed_groups():
            r = group_values(traj, ks)
            f_text = fmt(r["f"]) + (f" ({r['spread']})" if "spread" in r else "")
            table.add_row(r["optimizer"], fmt(r["lr"]), fmt_point(traj.starts[ks[0]]), fmt_point(r["final"]),
                          f_text, gap_cell(r["gap"], traj.objective), fmt(r["distance"]), str(r["steps"]),
                          _status_style(r["status_text"], r["status"]), f"{r['time'] * 1e3:.1f} ms")
    return table


SORT_KEYS = ("gap", "f", "distance", "steps")


def compare_rows(result, sort: str = "gap") -> list[dict]:
    """Rows of the compare table, best first.

    Order: diverged runs last; then by ``sort`` (f − f* where f* is known, else
    f; or distance to the nearest minimum; or steps to reach --tol, runs that
    never reached it after those that did, by f).
    """
    rows = []
    for traj in result.runs:
        for ks in traj.seed_groups():
            r = group_values(traj, ks)
            if traj.recorded:
                curves = traj.loss[:, ks] - (traj.objective.reference_value or 0.0)
                with np.errstate(all="ignore"):
                    r["sparkline"] = sparkline(np.nanmedian(curves, axis=1) if len(ks) > 1 else curves[:, 0])
            else:
                r["sparkline"] = ""
            rows.append(r)
    key_name = sort if sort != "gap" or result.objective.reference_value is not None else "f"

    def key(r):
        if key_name == "steps":
            s = r["steps_to_tol"]
            primary = s if np.isfinite(s) else math.inf
            return (r["diverged"], primary, r["f"])
        v = r[key_name]
        return (r["diverged"], v if np.isfinite(v) else math.inf)

    return sorted(rows, key=key)


def compare_table(result, sort: str = "gap", tol: float = 1e-6):
    from optviz.tables import FitTable

    criterion = {"gap": "f − f*", "f": "final f", "distance": "distance to the nearest minimum",
                 "steps": f"steps to ‖∇f‖ ≤ {tol:g}"}[sort]
    table = FitTable(title=f"{result.objective.name}: best first by {criterion}", title_justify="left",
                     caption=reference_caption(result.objective), caption_justify="left",
                     optional=("loss", "time", "dist. to min", "steps to tol", "lr", "final f"))
    for col, just in [("#", "right"), ("optimizer", "left"), ("lr", "right"), ("final f", "right"),
                      ("f − f*", "right"), ("dist. to min", "right"), ("steps to tol", "right"),
                      ("status", "left"), ("time", "right"), ("loss", "left")]:
        table.add_column(col, justify=just)
    for i, r in enumerate(compare_rows(result, sort), 1):
        stt = r["steps_to_tol"]
        f_text = fmt(r["f"]) + (f" ({r['spread']})" if "spread" in r else "")
        table.add_row(str(i), r["optimizer"], fmt(r["lr"]), f_text, gap_cell(r["gap"], result.objective),
                      fmt(r["distance"]),
                      str(int(stt)) if np.isfinite(stt) else "—",
                      _status_style(r["status_text"], r["status"]), f"{r['time'] * 1e3:.1f} ms", r["sparkline"])
    return table


def function_table():
    """The library as a table: name, formula, minima, domain."""
    from optviz.library import function_names, load_named
    from optviz.tables import FitTable

    table = FitTable(title="optviz function library (use the name with --fn)", title_justify="left",
                     optional=("domain",))
    for col in ("name", "d", "formula", "global minima", "domain"):
        table.add_column(col, overflow="fold" if col == "formula" else "ellipsis")
    for name in function_names():
        obj = load_named(name)
        formula = obj.formula_text
        if obj.finite_sum is not None:
            formula = f"mean over {obj.finite_sum.n} samples of {formula}"
        minima = "; ".join(f"{fmt_point(m.point)} = {fmt(m.value)}" for m in obj.minima[:2])
        if len(obj.minima) > 2:
            minima += f"; +{len(obj.minima) - 2} more"
        domain = " × ".join(f"[{fmt(lo, 3)}, {fmt(hi, 3)}]" for lo, hi in obj.domain or ())
        table.add_row(name, str(obj.dim), formula, minima or "none", domain)
    return table


def function_detail(obj):
    """One function in full: formula, gradient, minima, start and suggested settings."""
    import sympy
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    grid.add_row("formula", obj.formula_text)
    if obj.finite_sum is not None:
        grid.add_row("finite sum", f"f(θ) = (1/{obj.finite_sum.n}) Σᵢ fᵢ(θ), per-sample fᵢ shown above")
    grid.add_row("pretty", sympy.pretty(obj.expr, use_unicode=True))
    for v, g in zip(obj.variables, obj.gradient_exprs()):
        grid.add_row(f"∂f/∂{v}", sympy.pretty(g, use_unicode=True))
    if obj.description:
        grid.add_row("about", obj.description)
    if obj.source:
        grid.add_row("source", obj.source)
    if obj.domain:
        grid.add_row("domain", " × ".join(f"[{fmt(lo)}, {fmt(hi)}]" for lo, hi in obj.domain))
    grid.add_row("minima", "\n".join(f"{fmt_point(m.point)}  f = {m.value:.10g}" for m in obj.minima) or "none known")
    if obj.start:
        grid.add_row("start", fmt_point(obj.start))
    grid.add_row("steps", str(obj.steps))
    if obj.suggested:
        grid.add_row("suggested", "\n".join(
            f"{opt}: " + ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in s.items())
            for opt, s in obj.suggested.items()))
    return Panel(Group(grid), title=obj.name, title_align="left")


def optimizer_table():
    from optviz.optim import OPTIMIZERS, defaults, optimizer_class, plugin_names
    from optviz.tables import FitTable

    table = FitTable(title="optimizers (-p NAME=VALUE sets a parameter; also torch:IMPORT.PATH.Class and "
                                "optax:NAME, see README)", title_justify="left")
    for col in ("name", "update rule", "defaults", "what it does"):
        table.add_column(col, overflow="fold" if col == "update rule" else "ellipsis")
    for name, cls in [*OPTIMIZERS.items(), *((n, optimizer_class(n)) for n in plugin_names())]:
        d = defaults(name)
        shown = ", ".join(f"{k}={v}" for k, v in d.items()) or "—"
        table.add_row(name, cls.update_rule or "θ ← θ − η g", shown, cls.summary)
    return table


def sweep_table(results, tol: float = 1e-6):
    """Each optimizer's best setting and the lr range that converged."""
    from optviz.tables import FitTable

    first = results[0]
    table = FitTable(title=f"{first.objective.name}: sweep of {' × '.join(a.name for a in first.axes)}, "
                           f"{first.steps} steps, metric {first.metric}", title_justify="left",
                     optional=("cells", "lr not diverging", "diverged"))
    for col in ("optimizer", "cells", "best setting", "best value", "diverged", f"lr reaching ‖∇f‖ ≤ {tol:g}",
                "lr not diverging"):
        table.add_column(col)
    edges = []
    for r in results:
        best = r.best_setting()
        rng = r.converged_lr_range()
        edge = r.best_on_edge()
        if edge:
            edges.append(r.label or r.optimizer)
        names = [a.name for a in r.axes]
        ok_range = "—"
        if "lr" in names:
            i = names.index("lr")
            ok = r.status != "diverged"
            if ok.ndim > 1:
                ok = ok.any(axis=1 - i)
            lrs = r.axes[i].values[ok]
            ok_range = f"{lrs.min():.3g} … {lrs.max():.3g}" if lrs.size else "none"
        table.add_row(
            r.label or r.optimizer, str(r.values.size),
            ", ".join(f"{k}={v:.3g}" for k, v in best.items()) + (f" (edge: {', '.join(edge)})" if edge else "")
            if best else "all diverged",
            fmt(r.values[r.best_index]) if best else "—",
            f"{(r.status == 'diverged').mean():.0%}",
            f"{rng[0]:.3g} … {rng[1]:.3g}" if rng else "none",
            ok_range,
        )
    if edges:
        table.caption = (f"best on the grid's edge for {', '.join(edges)}: the optimum may lie outside the grid; "
                         "widen it")
        table.caption_justify = "left"
    return table


def basins_table(results):
    """Share of starts reaching each minimum, per optimizer."""
    from rich.table import Table

    shares = [r.shares() for r in results]
    table = Table(title=f"{results[0].objective.name}: where {results[0].labels.size:,} starts end up",
                  title_justify="left")
    table.add_column("outcome")
    for r in results:
        table.add_column(f"{r.label or r.optimizer} (η={r.lr:.3g})", justify="right")
    for key in shares[0]:
        table.add_row(key, *[f"{s[key]:.1%}" for s in shares])
    return table


def _spread(values, pct: bool = False) -> str:
    """'median (min … max)' of the finite values, one value alone, '—' for none."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if v.size == 0:
        return "—"
    f = (lambda x: f"{100 * x:.1f}") if pct else (lambda x: fmt(x, 3))
    unit = "%" if pct else ""
    if v.size == 1:
        return f(v[0]) + unit
    return f"{f(np.median(v))}{unit} ({f(v.min())}…{f(v.max())})"


def _train_title(results) -> str:
    """'digits: mlp, depth 8, width 128, norm bn, 20 epochs, 3 seeds (…)': the settings every
    run shares, each network by the settings that shape it ('resnet-cnn, 8 channels, …')."""
    from optviz.nn.network_words import gn_groups, phrases

    first = results[0]
    spec, varied = first.model_spec, set(first.settings.varied)
    nets, parts = phrases(first), []
    groups = gn_groups(first)
    if "norm" not in varied:
        parts.append(f"norm {spec.get('norm')}" + (f" ({groups} groups)" if groups else ""))
    elif groups:
        parts.append(f"gn: {groups} groups")
    parts.append(f"{first.settings.epochs} epoch{'' if first.settings.epochs == 1 else 's'}")
    if len(results) > 1:
        parts.append(f"{len(results)} seeds (median, min … max)")
    # several networks: one phrase each, apart from what they share
    text = "; ".join([*nets, ", ".join(parts)]) if len(nets) > 1 else ", ".join([*nets, *parts])
    return f"{first.data_info.get('name') or 'data'}: {text}"


def train_table(results):
    """Per run: final losses and accuracy (and under other BatchNorm statistics), best
    epoch, time per epoch, status; spread over seeds. A run that never finished an
    epoch has no best epoch ("—"); one whose turn never came is "not started"."""
    from rich.table import Table

    first = results[0]
    extra = [name for name in first.settings.eval_bn if name != "running"]
    table = Table(title=_train_title(results), title_justify="left")
    show_lr = "lr" not in first.settings.varied  # else the label says it
    columns = ["run", *(["lr"] if show_lr else []), "train loss", "val loss", "val acc",
               *[f"val acc {n}" for n in extra], "best epoch", "time/epoch", "status"]
    for col in columns:
        table.add_column(col, justify="left" if col in ("run", "status") else "right")

    def last(series):
        return series[-1] if series else np.nan

    for i, run in enumerate(first.runs):
        runs = [res.runs[i] for res in results if i < len(res.runs)]
        evals = [_spread([last(r.evals.get(n, {}).get("val_acc", [])) for r in runs], pct=True) for n in extra]
        best = "/".join("—" if r.best_epoch is None else str(r.best_epoch) for r in runs)
        times = [float(np.mean(r.epoch_time)) for r in runs if r.epoch_time]
        status = "; ".join(sorted({r.status for r in runs}))
        color = "green" if all(r.outcome.status is Status.OK for r in runs) else (
            "red" if any(r.diverged for r in runs) else "yellow")
        lr = [fmt(run.settings.get("lr", run.hyperparameters.get("lr")))] if show_lr else []
        table.add_row(run.label, *lr,
                      _spread([last(r.train_loss) for r in runs]), _spread([last(r.val_loss) for r in runs]),
                      _spread([last(r.val_acc) for r in runs], pct=True), *evals, best,
                      f"{np.mean(times) * 1e3:.0f} ms" if times else "—", f"[{color}]{status}[/]")
    return table
