"""Measure the notes' claims about convolutional networks with optviz.nn.train.

Each claim is one command, ``python benchmarks/conv_claims.py CLAIM`` (CLAIM: accuracy,
bn_lenet, depth, shortcut, norms; none: all; ``--redraw``: draw from the JSON file without
training), and draws one figure into ``gallery/``
(``digits_conv_CLAIM.png``): the validation accuracy per epoch, the median over three
seeds with the range of the three as a band. The numbers go to ``conv_claims.json`` in
the current directory. Threads: ``OPENBLAS_NUM_THREADS`` as set by the caller (the claims
trained by :func:`optviz.train`, as the ``optviz train`` command does: one thread).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

import optviz
from optviz.nn import load_digits
from optviz.nn.train import train

DIGITS = load_digits()
SEEDS = (0, 1, 2)
GALLERY = Path(__file__).resolve().parent.parent / "gallery"
RESULTS = Path("conv_claims.json")


def run(model: dict, opt: str, lr: float, epochs: int, batch: int = 64) -> dict:
    """One setting over the three seeds: the validation accuracy per epoch, seconds, statuses."""
    curves, secs, statuses = [], [], []
    for seed in SEEDS:
        t0 = time.perf_counter()
        res = train(DIGITS, [(opt, {"lr": lr})], model=model, epochs=epochs, batch_size=batch, seed=seed)
        secs.append(time.perf_counter() - t0)
        r = res.runs[0]
        acc = list(r.val_acc) + [np.nan] * (epochs - len(r.val_acc))
        curves.append(acc)
        statuses.append(str(r.status))
        print(f"  seed {seed}: final {acc[-1]:.4f} ({secs[-1]:.1f} s, {r.status})", flush=True)
    finals = [c[-1] for c in curves]
    return {"model": model, "opt": opt, "lr": lr, "epochs": epochs, "batch": batch, "curves": curves,
            "final": finals, "median_final": float(np.nanmedian(finals)) if not np.all(np.isnan(finals)) else None,
            "seconds": secs, "status": statuses}


def run_lists(opt: str, epochs: int, key, **network) -> dict:
    """One :func:`optviz.train` call with comma lists in ``network`` (the ``optviz train``
    command of the claim), every run over the three seeds in :func:`run`'s form, named by
    ``key(run.settings)``."""
    report = optviz.train("digits", opt, epochs=epochs, seed=SEEDS[0], seeds=len(SEEDS), **network)
    out = {}
    for i, first in enumerate(report.first.runs):
        runs = [res.runs[i] for res in report.results]
        curves = [list(r.val_acc) + [np.nan] * (epochs - len(r.val_acc)) for r in runs]
        finals = [c[-1] for c in curves]
        print(f"  {first.label}: final {', '.join(f'{f:.4f}' for f in finals)}", flush=True)
        out[key(first.settings)] = {
            "model": {k: first.settings[k] for k in ("arch", *network) if k in first.settings}, "opt": opt,
            "lr": first.hyperparameters["lr"], "epochs": epochs, "batch": first.settings["batch_size"],
            "curves": curves, "final": finals,
            "median_final": float(np.nanmedian(finals)) if not np.all(np.isnan(finals)) else None,
            "seconds": [float(sum(r.epoch_time)) for r in runs], "status": [str(r.status) for r in runs]}
    return out


def figure(name: str, title: str, panels: dict[str, dict[str, dict]]) -> None:
    """One panel per group: each setting's median validation accuracy per epoch and its seed range."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4), squeeze=False, sharey=True)
    for ax, (panel, settings) in zip(axes[0], panels.items(), strict=True):
        for label, res in settings.items():
            c = np.array(res["curves"], dtype=float) * 100
            ep = np.arange(1, c.shape[1] + 1)
            with np.errstate(all="ignore"):
                med = np.nanmedian(c, axis=0) if not np.all(np.isnan(c)) else np.full(c.shape[1], np.nan)
            final = res["median_final"]
            text = f"{label}: {final * 100:.1f} %" if final is not None else f"{label}: diverged"
            (line,) = ax.plot(ep, med, marker="o", ms=3, label=text)
            ax.fill_between(ep, np.nanmin(c, axis=0), np.nanmax(c, axis=0), color=line.get_color(), alpha=0.2)
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best", title="median final val. acc.", title_fontsize=8)
    axes[0][0].set_ylabel("val. accuracy (%): median, range of 3 seeds")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    GALLERY.mkdir(exist_ok=True)
    fig.savefig(GALLERY / f"digits_conv_{name}.png", dpi=110)
    plt.close(fig)


def claim_accuracy() -> dict:
    """The default residual CNN (32 channels, BatchNorm) with Adam 1e-3."""
    return {"resnet-cnn, Adam 1e-3": run({"arch": "resnet-cnn"}, "adam", 1e-3, 10)}


def claim_bn_lenet() -> dict:
    """Sigmoid LeNet at a high SGD learning rate (1.0), with and without BatchNorm."""
    return {norm: run({"arch": "lenet", "act": "sigmoid", "norm": norm}, "sgd", 1.0, 10) for norm in ("bn", "none")}


def claim_depth() -> dict:
    """A deep plain CNN against the ResNet of the same depth (26 layers with weights)."""
    return {f"{arch} norm={norm}": run({"arch": arch, "norm": norm, "channels": 8, "blocks": 6}, "momentum", 0.05, 8)
            for norm in ("bn", "none") for arch in ("cnn", "resnet-cnn")}


def claim_shortcut() -> dict:
    """The 1×1 convolution shortcut where channels and stride change, against no shortcut
    there, with and without BatchNorm: one command, ``optviz train --arch resnet-cnn
    --channels 8 --blocks 3 --norm bn,none --shortcut conv1x1,none --opt momentum --epochs 8
    --seeds 3`` (momentum's default lr 0.05)."""
    return run_lists("momentum", 8, lambda s: f"shortcut={s['shortcut']} norm={s['norm']}", arch="resnet-cnn",
                     channels=8, blocks=3, norm="bn,none", shortcut="conv1x1,none")


def claim_norms() -> dict:
    """BN, GN (2 groups), IN and LN in the residual CNN (8 channels) at batch sizes 2, 8 and 64."""
    return {f"{norm} batch={batch}": run({"arch": "resnet-cnn", "channels": 8, "norm": norm, "groups": 2},
                                         "adam", 1e-3, 4, batch)
            for batch in (2, 8, 64) for norm in ("bn", "gn", "in", "ln")}


def _by(res: dict, values, key) -> dict:
    """Panels: one per value, holding the settings whose name ends with it (named by their first word)."""
    return {key(v): {k.split()[0]: r for k, r in res.items() if k.endswith(v)} for v in values}


DRAW = {
    "accuracy": ("--arch resnet-cnn --opt adam, 10 epochs, 3 seeds (digits 1×8×8)",
                 lambda res: {"residual CNN, 32 channels, BatchNorm": res}),
    "bn_lenet": ("sigmoid LeNet, SGD lr 1.0: --norm bn vs --norm none",
                 lambda res: {"LeNet (sigmoid), SGD lr 1.0": {f"norm={k}": v for k, v in res.items()}}),
    "depth": ("26 weight layers (8 channels, 6 blocks per stage), momentum 0.05: plain CNN vs ResNet",
              lambda res: _by(res, ("norm=bn", "norm=none"), str)),
    "shortcut": ("ResNet (8 channels, 3 blocks per stage), momentum 0.05: 1×1 shortcut vs none where shapes change",
                 lambda res: _by(res, ("norm=bn", "norm=none"), str)),
    "norms": ("ResNet (8 channels), Adam 1e-3, 4 epochs at every batch size: BN vs GN vs IN vs LN",
              lambda res: _by(res, ("batch=2", "batch=8", "batch=64"), lambda v: v.replace("=", " "))),
}
CLAIMS = {"accuracy": claim_accuracy, "bn_lenet": claim_bn_lenet, "depth": claim_depth,
          "shortcut": claim_shortcut, "norms": claim_norms}


def main(names: list[str]) -> None:
    """Measure and draw each claim named (all by default); ``--redraw`` draws from the JSON file only."""
    redraw = "--redraw" in names
    names = [n for n in names if n != "--redraw"] or list(CLAIMS)
    out = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    out["threads"] = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    for name in names:
        if not redraw:
            print(f"== {name}", flush=True)
            out[name] = CLAIMS[name]()
            RESULTS.write_text(json.dumps(out, indent=1, default=float))
        title, panels = DRAW[name]
        figure(name, title, panels(out[name]))


if __name__ == "__main__":
    main(sys.argv[1:])
