"""Names, colours, file stems and the seed statistics shared by the training figures."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from optviz.nn.network_words import NORM_WORDS, gn_groups, phrases, short_name
from optviz.plot._style import slug

BAND = (10, 90)  # percentiles of the band drawn over seeds
MODEL_CHARS = 60  # the networks' part of a file name, at most


def as_results(results: Any) -> list[Any]:
    """A list of results (one per seed) from one result or a list of them."""
    return list(results) if isinstance(results, (list, tuple)) else [results]


def run_colors(runs: Sequence[Any]) -> list[str]:
    """One fixed color per optimizer (Adam is red in every optviz figure); a spare one
    for each further run of the same optimizer."""
    from optviz.plot import _style

    return [color for color, _ in _style.run_styles(runs)]


def run_name(run: Any) -> str:
    """'Adam', 'SGD · norm=bn': the label with the optimizer's display name."""
    from optviz.plot import _style

    label = run.label
    if label == run.optimizer or label.startswith(run.optimizer + " · "):
        label = _style.display_name(run.optimizer) + label[len(run.optimizer):]
    return label


def run_rate(run: Any) -> str:
    """'η=0.001', or '' when the label already gives the rate (or there is none)."""
    from optviz.plot import _style

    lr = run.hyperparameters.get("lr")
    if "lr=" in run.label or not isinstance(lr, (int, float)):
        return ""
    return f"η={_style.fmt_number(lr)}"


def run_title(run: Any) -> str:
    """'Adam (η=0.001)', 'SGD · norm=bn (η=1)', or 'SGD · lr=1' when the label gives the rate."""
    rate = run_rate(run)
    return f"{run_name(run)} ({rate})" if rate else run_name(run)


def default_stem(result: Any) -> str:
    """'digits_resnet6-w128-bn_adam-momentum' from the data, the networks and the
    optimizers: an MLP by its depth and width, an image model by its own settings
    ('resnet-cnn-c8-b1-gn-groups4'); a setting that differs between runs is listed with its
    values ('mlp8-w128-bn+none'; see :func:`optviz.nn.network_words.short_name`). A
    name longer than :data:`MODEL_CHARS` is cut and ends in a digest of the whole."""
    varied = set(getattr(result.settings, "varied", ()))
    whole = short_name(result)
    model = slug(whole, len(whole))
    if len(model) > MODEL_CHARS:  # cut, with a digest of the whole so that different networks keep apart
        digest = hashlib.sha256(whole.encode()).hexdigest()[:8]
        model = f"{model[:MODEL_CHARS - 9].rstrip('-.')}-{digest}"
    names = list(dict.fromkeys(r.optimizer if varied else r.label for r in result.runs))
    opts = "-".join(slug(name, 20) for name in names)
    if len(opts) > 50:
        opts = f"{len(names)}-optimizers"
    return f"{slug(result.data_info.get('name') or 'data', 30)}_{model}_{opts}"


def epochs_axis(values: Sequence[float]) -> np.ndarray:
    return np.arange(1, len(values) + 1)


def subtitle(result: Any, seeds: int = 1) -> str:
    """The data and the settings every run shares (what differs is in the labels)."""
    spec, data, s = result.model_spec, result.data_info, result.settings
    varied = set(getattr(s, "varied", ()))
    names = {"mlp": "MLP", "resnet": "residual MLP"}
    nets = phrases(result, lambda arch: names.get(arch, arch))  # each network by the settings that shape it
    shared = []
    groups = gn_groups(result)
    if "norm" not in varied:
        norm = NORM_WORDS.get(spec.get("norm"), "")
        shared.append(f"{norm} ({groups} groups)" if groups and norm else norm)
    elif groups:
        shared.append(f"gn: {groups} groups")
    shared += [f"{spec.get(k)}" + (" init" if k == "init" else "") for k in ("act", "init") if k not in varied]
    if len(nets) == 1:
        nets, shared = [], [nets[0], *shared]
    train = [f"batch {s.batch_size}"] if s.batch_size is not None and "batch_size" not in varied else []
    train.append(f"{s.epochs} epoch{'' if s.epochs == 1 else 's'}")
    if seeds > 1:
        train.append(f"median of {seeds} seeds, band {BAND[0]}–{BAND[1]} %")
    head = f"{data.get('name') or 'data'} ({data.get('n_train')} train / {data.get('n_val')} val)"
    return " · ".join(p for p in (head, *nets, ", ".join(x for x in shared if x), ", ".join(train)) if p)


def heading(fig: Any, title: str, sub: str, fontsize: float = 13) -> Any:
    """The figure title over the subtitle, the subtitle broken at its ' · ' parts into as
    many lines as the figure's width needs (and shrunk if one part alone is too wide)."""
    from optviz.plot.figure import fit_title

    text = fig.suptitle(title, fontsize=fontsize)
    renderer = fig.canvas.get_renderer()
    limit = fig.bbox.width * 0.97
    lines: list[str] = []
    for part in sub.split(" · "):
        candidate = f"{lines[-1]} · {part}" if lines else part
        text.set_text(candidate)
        if lines and text.get_window_extent(renderer).width <= limit:
            lines[-1] = candidate
        else:
            lines.append(part)
    text.set_text("\n".join([title, *lines]))
    fit_title(fig, text)
    return text


def plain_log_formatter() -> Any:
    """matplotlib's choice of which log ticks to label, written '3' and '0.6' rather than
    '3×10⁰' (decades as '10²')."""
    from matplotlib.ticker import LogFormatterSciNotation

    from optviz.plot.figure import decade_formatter

    plain = decade_formatter()

    class Plain(LogFormatterSciNotation):
        def __call__(self, x: float, pos: Any = None) -> str:
            return plain(x, pos) if super().__call__(x, pos) else ""

    return Plain()


def across_seeds(results: Sequence[Any]) -> list[list[Any]]:
    """For each run of the first seed, that run in every seed (the runs of all seeds come
    in the same order); runs that never started are left out."""
    out = []
    for i in range(len(results[0].runs)):
        same = [res.runs[i] for res in results if i < len(res.runs) and res.runs[i].started]
        if same:
            out.append(same)
    return out


def colored_groups(results: Sequence[Any]) -> list[tuple[list[Any], str]]:
    """:func:`across_seeds` with each run's color (the same in every panel)."""
    groups = across_seeds(results)
    return list(zip(groups, run_colors([g[0] for g in groups]), strict=True))


def seed_band(series: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(epochs, median, low, high) per epoch over the seeds that reached it (the band:
    the percentiles :data:`BAND`); one seed gives its own values as all three."""
    longest = max((len(s) for s in series), default=0)
    x, mid, lo, hi = [], [], [], []
    for e in range(longest):
        values = np.asarray([s[e] for s in series if len(s) > e], dtype=float)
        x.append(e + 1)
        mid.append(float(np.median(values)))
        low, high = np.percentile(values, BAND)
        lo.append(float(low))
        hi.append(float(high))
    return np.asarray(x), np.asarray(mid), np.asarray(lo), np.asarray(hi)
