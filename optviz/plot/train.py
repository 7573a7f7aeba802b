"""Figures of a network's training (``optviz train``): curves, decision boundaries, diagnostics.

Every figure only reads a :class:`optviz.nn.train.TrainResult` (compute, then draw).
The ``draw_*`` helpers take axes and return the artists they made, so tests check
what was drawn; the ``*_figure`` builders return a :class:`matplotlib.figure.Figure`
on its own Agg canvas (pyplot is never imported); :func:`save_train_figures` writes
the files atomically. matplotlib is imported inside the functions only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optviz.errors import OptvizError

FORMATS = ("png", "svg", "pdf")
TWO_D = ("moons", "circles", "spirals", "xor", "blobs")


# ----------------------------------------------------------------------------- shared helpers
# The slide style, figures on their own Agg canvas and atomic saving are the
# plot package's; these wrappers keep matplotlib out of this module's import.


@contextlib.contextmanager
def style() -> Iterator[None]:
    from optviz.plot.static import style as slide_style

    with slide_style():
        yield


def new_figure(figsize: tuple[float, float], dpi: float = 100) -> Any:
    """A Figure on its own Agg canvas with constrained layout, in the slide style."""
    from optviz.plot.static import new_figure as figure

    with style():
        return figure(figsize, dpi=dpi)


def save_figure(fig: Any, path: Path, fmt: str, dpi: float) -> Path:
    """Write ``fig`` to ``path`` atomically (the format given explicitly)."""
    from optviz.plot._files import save_figure as save

    return save(fig, path, fmt=fmt, dpi=dpi)


def check_format(fmt: str) -> str:
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise OptvizError(f"unknown figure format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    return fmt


def prepare_dir(out_dir: str | Path) -> Path:
    from optviz.io import ensure_dir

    return ensure_dir(out_dir)


def slug(text: str, limit: int = 60) -> str:
    from optviz.plot._style import slug as plot_slug

    return plot_slug(text, limit)


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
    model = f"{spec.get('arch', 'net')}{spec.get('depth', '')}-w{spec.get('width', '')}-{spec.get('norm', '')}"
    opts = "-".join(slug(r.label, 20) for r in result.runs)
    if len(opts) > 50:
        opts = f"{len(result.runs)}-optimizers"
    return f"{slug(result.data_info.get('name') or 'data', 30)}_{slug(model, 40)}_{opts}"


def _epochs(values: Sequence[float]) -> np.ndarray:
    return np.arange(1, len(values) + 1)


# ----------------------------------------------------------------------------- curves
def draw_curves(
    ax_loss: Any, ax_acc: Any, result: Any, colors: Sequence[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Training (dashed) and validation (solid) loss and accuracy per epoch, one color per run.

    A diverged run gets an × at its last finished epoch (at the left edge when it diverged
    in epoch 1) and "diverged at epoch k" in its legend label. Returns
    ``{label: {"train_loss": Line2D, "val_loss": …, "train_acc": …, "val_acc": …,
    "diverged": [markers]}}``. The loss axis is logarithmic.
    """
    colors = list(colors or run_colors(result.runs))
    artists: dict[str, dict[str, Any]] = {}
    for run, color in zip(result.runs, colors, strict=True):
        label = run_title(run)
        if run.diverged:
            label += f" — {run.status}"
        else:
            label += f" — val. acc. {100 * run.val_acc[-1]:.1f}%"
        ep = _epochs(run.val_loss)
        arts: dict[str, Any] = {
            "train_loss": ax_loss.plot(ep, run.train_loss, "--", color=color, lw=1.6, alpha=0.9)[0],
            "val_loss": ax_loss.plot(ep, run.val_loss, "-", color=color, label=label)[0],
            "train_acc": ax_acc.plot(ep, run.train_acc, "--", color=color, lw=1.6, alpha=0.9)[0],
            "val_acc": ax_acc.plot(ep, run.val_acc, "-", color=color, label=label)[0],
            "diverged": [],
        }
        if run.diverged:
            k = int(run.status.rsplit(" ", 1)[-1])
            for ax, series in ((ax_loss, run.val_loss), (ax_acc, run.val_acc)):
                # at the last finished epoch; at epoch 1, bottom of the axis, when none finished
                x, y = (k - 1, series[-1]) if series else (1, None)
                if y is None:
                    mark = ax.plot(
                        [x],
                        [0],
                        "x",
                        color=color,
                        ms=13,
                        mew=3,
                        clip_on=False,
                        transform=ax.get_xaxis_transform(),
                    )[0]
                else:
                    mark = ax.plot([x], [y], "x", color=color, ms=13, mew=3)[0]
                arts["diverged"].append(mark)
        artists[run.label] = arts
    _limit_loss_axis(ax_loss, result)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel(f"loss ({_loss_name(result)})")
    ax_loss.set_title("Loss")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_title("Accuracy")
    ax_acc.yaxis.set_major_formatter(_percent())
    for ax in (ax_loss, ax_acc):
        ax.grid(True, alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    return artists


def _limit_loss_axis(ax: Any, result: Any) -> None:
    """Keep the loss axis on the runs that trained: a diverging run's 10³⁰ would flatten the rest.

    Values above the top are drawn as a triangle at the top edge with the value written.
    """
    finite = [
        np.asarray(r.train_loss + r.val_loss, dtype=float) for r in result.runs if not r.diverged
    ]
    finite = [v[np.isfinite(v)] for v in finite if v.size]
    first = [v for r in result.runs for v in r.val_loss[:1] + r.train_loss[:1] if np.isfinite(v)]
    if not finite or not first:
        return
    top = max(max(v.max() for v in finite), float(np.median(first))) * 2.0
    bottom = min(v[v > 0].min() for v in finite if (v > 0).any()) / 2.0 if finite else None
    from optviz.plot import _style

    for line in list(ax.get_lines()):
        y = np.asarray(line.get_ydata(), dtype=float)
        x = np.asarray(line.get_xdata(), dtype=float)
        over = np.isfinite(y) & (y > top)
        labelled = not str(line.get_label()).startswith("_")  # validation lines: one note per run
        if over.any() and labelled and line.get_transform() == ax.transData:
            i = int(np.argmax(over))
            ax.plot([x[i]], [top], "^", color=line.get_color(), ms=10, clip_on=False)
            ax.annotate(
                f"{_style.fmt_number(y[i], 2)}",
                (x[i], top),
                xytext=(6, -12),
                textcoords="offset points",
                color=line.get_color(),
                fontsize=10,
            )
    ax.set_ylim(bottom, top)


def _percent() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: f"{100 * v:.0f}%")


def _loss_name(result: Any) -> str:
    return {"cross_entropy": "cross-entropy", "focal": "focal"}.get(
        result.settings.get("loss", "cross_entropy"), str(result.settings.get("loss"))
    )


def _subtitle(result: Any) -> str:
    spec, data = result.model_spec, result.data_info
    arch = "residual MLP" if spec.get("arch") == "resnet" else "MLP"
    norm = {"bn": "BatchNorm", "ln": "LayerNorm", "none": "no normalization"}.get(
        spec.get("norm"), ""
    )
    s = result.settings
    return (
        f"{data.get('name') or 'data'} ({data.get('n_train')} train / {data.get('n_val')} val) · "
        f"{arch}, depth {spec.get('depth')}, width {spec.get('width')}, {norm}, {spec.get('act')} · "
        f"batch {s.get('batch_size')}, {s.get('epochs')} epochs"
    )


def curves_figure(result: Any, dpi: float = 100) -> Any:
    """Loss (log) and accuracy per epoch, overlaid per optimizer; solid validation, dashed training."""
    from matplotlib.lines import Line2D

    fig = new_figure((13, 5.6), dpi)
    with style():
        ax_loss, ax_acc = fig.subplots(1, 2)
        draw_curves(ax_loss, ax_acc, result)
        handles, labels = ax_loss.get_legend_handles_labels()
        key = [Line2D([], [], color="0.3", ls="-"), Line2D([], [], color="0.3", ls="--")]
        fig.legend(
            key + handles,
            ["validation (solid)", "training (dashed)"] + labels,
            loc="outside lower center",
            ncol=2 if len(labels) < 4 else 3,
        )
        fig.suptitle(f"Training\n{_subtitle(result)}", fontsize=13)
    return fig


# ----------------------------------------------------------------------------- decision boundary
def is_two_d(result: Any) -> bool:
    return int(result.data_info.get("n_features", 0)) == 2 and result.split is not None


def decision_grid(result: Any, label: str, resolution: int = 200, pad: float = 0.5):
    """(xs, ys, predicted class (R, R), max probability (R, R)) over the data's extent."""
    from optviz.nn.losses import softmax

    split = result.split
    X = np.concatenate([split.X_train, split.X_val])
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    xs = np.linspace(lo[0], hi[0], resolution)
    ys = np.linspace(lo[1], hi[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    net = result.model(label)
    with np.errstate(over="ignore", invalid="ignore"):
        logits = net.forward(np.c_[gx.ravel(), gy.ravel()], False).astype(np.float64)
        prob = softmax(logits)
    return xs, ys, prob.argmax(axis=1).reshape(gx.shape), prob.max(axis=1).reshape(gx.shape)


def _class_colors(n: int) -> list[str]:
    base = [
        "#1f77b4",
        "#ff7f0e",
        "#2ca02c",
        "#d62728",
        "#9467bd",
        "#8c564b",
        "#e377c2",
        "#17becf",
        "#bcbd22",
        "#7f7f7f",
    ]
    return [base[k % len(base)] for k in range(n)]


def draw_boundary(ax: Any, result: Any, run: Any, resolution: int = 200) -> dict[str, Any]:
    """Predicted class regions of ``run``'s final network with the data on top.

    Training points filled, validation points hollow, colored by class. Returns
    ``{"regions": QuadContourSet | None, "train": PathCollection, "val": PathCollection}``.
    """
    from matplotlib.colors import ListedColormap

    split = result.split
    n_classes = int(result.data_info.get("n_classes", int(split.y_train.max()) + 1))
    colors = _class_colors(n_classes)
    regions = None
    if not run.diverged:
        xs, ys, cls, conf = decision_grid(result, run.label, resolution)
        cmap = ListedColormap(colors)
        regions = ax.contourf(
            xs,
            ys,
            cls,
            levels=np.arange(n_classes + 1) - 0.5,
            cmap=cmap,
            alpha=0.28,
            antialiased=True,
        )
        ax.contour(xs, ys, cls, levels=np.arange(n_classes) + 0.5, colors="0.25", linewidths=1.2)
        title = f"{run_title(run)}\nval. acc. {100 * run.val_acc[-1]:.1f}%"
    else:
        ax.text(
            0.5,
            0.93,
            run.status,
            transform=ax.transAxes,
            ha="center",
            va="top",
            fontsize=13,
            color="#b00",
            bbox=dict(fc="white", ec="#b00", alpha=0.9),
            zorder=6,
        )
        title = run_title(run)
    c_train = [colors[k] for k in split.y_train]
    c_val = [colors[k] for k in split.y_val]
    train = ax.scatter(
        split.X_train[:, 0],
        split.X_train[:, 1],
        c=c_train,
        s=22,
        edgecolors="white",
        linewidths=0.6,
        zorder=3,
    )
    val = ax.scatter(
        split.X_val[:, 0],
        split.X_val[:, 1],
        facecolors="none",
        edgecolors=c_val,
        s=30,
        linewidths=1.4,
        zorder=3,
    )
    ax.set_title(title)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("x₁ (standardized)")
    ax.set_ylabel("x₂ (standardized)")
    return {"regions": regions, "train": train, "val": val}


def boundary_figure(result: Any, dpi: float = 100, resolution: int = 200) -> Any:
    """One panel per optimizer: its decision regions with the data (2-D data sets only)."""
    from matplotlib.lines import Line2D

    if not is_two_d(result):
        raise OptvizError("decision boundaries need 2-D data (moons, circles, spirals, xor, blobs)")
    n = len(result.runs)
    fig = new_figure((4.6 * n + 0.4, 5.4), dpi)
    with style():
        axes = np.atleast_1d(fig.subplots(1, n))
        for ax, run in zip(axes, result.runs, strict=True):
            draw_boundary(ax, result, run, resolution)
        handles = [
            Line2D([], [], marker="o", ls="none", color="0.35", mec="white"),
            Line2D([], [], marker="o", ls="none", mfc="none", mec="0.35", mew=1.4),
        ]
        axes[0].legend(
            handles,
            ["training", "validation"],
            loc="lower left",
            fontsize=9,
            frameon=True,
            framealpha=0.85,
            handletextpad=0.2,
            borderpad=0.3,
        )
        fig.suptitle(f"Decision boundaries after training\n{_subtitle(result)}", fontsize=13)
    return fig


# ----------------------------------------------------------------------------- diagnostics
def weight_layers(result: Any, run: Any) -> list[str]:
    """Layers with a weight matrix (Linear layers, shortcuts, the head), input to output."""
    weighted = {name.rsplit(".", 1)[0] for name in result.initial_state if name.endswith(".W")}
    return [layer for layer in run.grad_norms if layer in weighted]


def bn_layers(run: Any) -> list[str]:
    return list(dict.fromkeys(k.rsplit(".", 1)[0] for k in run.running_stats))


def draw_grad_norms(ax: Any, result: Any, run: Any, cmap: str = "viridis") -> list[Any]:
    """Mean per-epoch gradient norm of each weight layer (log y), colored input → output."""
    import matplotlib

    layers = weight_layers(result, run)
    colormap = matplotlib.colormaps[cmap]
    lines = []
    for i, layer in enumerate(layers):
        values = np.asarray(run.grad_norms[layer], dtype=float)
        color = colormap(i / max(len(layers) - 1, 1) * 0.9)
        marker = "o" if len(values) <= 3 else None
        lines.append(
            ax.plot(_epochs(values), values, color=color, lw=1.6, marker=marker, label=layer)[0]
        )
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("‖∂L/∂(W, b)‖ (mean over steps)")
    ax.set_title(f"{run_title(run)}: gradient norm per layer")
    ax.grid(True, which="major", alpha=0.3)
    return lines


def draw_running_stats(
    ax_mean: Any, ax_var: Any, run: Any, cmap: str = "viridis"
) -> dict[str, list[Any]]:
    """Each BatchNorm layer's running mean and variance, averaged over features, per epoch.

    A band shows the spread over the features (10th to 90th percentile; with more than
    four layers for the first and the last one only). Returns
    ``{"mean": [lines], "var": [lines]}``.
    """
    import matplotlib

    layers = bn_layers(run)
    colormap = matplotlib.colormaps[cmap]
    out: dict[str, list[Any]] = {"mean": [], "var": []}
    for i, layer in enumerate(layers):
        color = colormap(i / max(len(layers) - 1, 1) * 0.9)
        for key, ax in (("mean", ax_mean), ("var", ax_var)):
            stat = np.asarray(run.running_stats[f"{layer}.running_{key}"], dtype=float)
            if stat.size == 0:
                continue
            ep = _epochs(stat)
            marker = "o" if len(ep) <= 3 else None
            out[key].append(
                ax.plot(ep, stat.mean(axis=1), color=color, lw=1.6, marker=marker, label=layer)[0]
            )
            # many overlapping bands are only a blur: past 4 layers, the first and last only
            if len(layers) <= 4 or i in (0, len(layers) - 1):
                lo, hi = np.percentile(stat, [10, 90], axis=1)
                ax.fill_between(ep, lo, hi, color=color, alpha=0.12, lw=0)
    ax_mean.set_title("BatchNorm running mean")
    ax_var.set_title("BatchNorm running variance")
    ax_var.set_yscale("log")
    for ax in (ax_mean, ax_var):
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
    ax_mean.set_ylabel("mean over features (band: 10–90%)")
    ax_var.set_ylabel("mean over features")
    return out


def _layer_colorbar(fig: Any, ax: Any, names: list[str], cmap: str = "viridis") -> None:
    import matplotlib
    from matplotlib.colors import Normalize

    if len(names) < 2:
        return
    sm = matplotlib.cm.ScalarMappable(norm=Normalize(0, (len(names) - 1) / 0.9), cmap=cmap)
    bar = fig.colorbar(sm, ax=ax, pad=0.01, fraction=0.05)
    bar.set_ticks([0, len(names) - 1])
    bar.set_ticklabels([f"{names[0]}\n(input)", f"{names[-1]}\n(output)"])
    bar.ax.tick_params(labelsize=9)


def diagnostics_figure(result: Any, dpi: float = 100) -> Any:
    """Per optimizer a row: gradient norm per layer, and BatchNorm running mean/variance."""
    runs = [r for r in result.runs if r.val_acc]
    if not runs:
        raise OptvizError("no optimizer finished an epoch: nothing to diagnose")
    has_bn = any(bn_layers(r) for r in runs)
    cols = 3 if has_bn else 1
    fig = new_figure((5.6 * cols + 1.0, 4.4 * len(runs) + 0.8), dpi)
    with style():
        axes = np.atleast_2d(fig.subplots(len(runs), cols, squeeze=False))
        for row, run in zip(axes, runs, strict=True):
            draw_grad_norms(row[0], result, run)
            _layer_colorbar(fig, row[0], weight_layers(result, run))
            if has_bn:
                draw_running_stats(row[1], row[2], run)
                _layer_colorbar(fig, row[2], bn_layers(run))
        fig.suptitle(
            f"Diagnostics (layers colored from input to output)\n{_subtitle(result)}", fontsize=13
        )
    return fig


# ----------------------------------------------------------------------------- files
def save_train_figures(
    result: Any,
    out_dir: str | Path,
    fmt: str = "png",
    dpi: float = 150,
    diagnostics: bool = False,
    stem: str | None = None,
) -> list[Path]:
    """Write the training figures of ``result`` to ``out_dir``; return the paths written.

    ``{stem}_curves.{fmt}`` always; ``{stem}_boundary.{fmt}`` for 2-D data;
    ``{stem}_diagnostics.{fmt}`` with ``diagnostics``. Each file is written atomically.
    """
    fmt = check_format(fmt)
    out = prepare_dir(out_dir)
    stem = stem or default_stem(result)
    figures = [("curves", curves_figure)]
    if is_two_d(result):
        figures.append(("boundary", boundary_figure))
    if diagnostics:
        figures.append(("diagnostics", diagnostics_figure))
    paths = []
    for name, build in figures:
        fig = build(result, dpi=dpi)
        paths.append(save_figure(fig, out / f"{stem}_{name}.{fmt}", fmt, dpi))
    return paths
