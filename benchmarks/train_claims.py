"""Measure the notes' claims about training, one ``optviz train`` command per claim.

Each claim is one command of README's table; this script runs it through the same
code the command line runs (``optviz.train`` with the command's settings, then the
same figures), with 3 seeds, and prints the numbers the summary in
``benchmarks/train_claims.md`` quotes. Results go to ``train_claims.json`` and the
figures to ``train_claims/`` in the current directory.

Usage: ``python benchmarks/train_claims.py [bn depth zero vanish eval default bn_sweep eval_all
residual_init]`` (the README's claims by default: about 7 minutes on 2 cores when the
machine is otherwise idle; the three extras about as long again).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

import optviz
from optviz.plot.train import save_train_figures
from optviz.status import Status

OUT = Path("train_claims")
RESULTS = Path("train_claims.json")

# claim: (the command's options, whether it draws --diagnostics)
CLAIMS: dict[str, tuple[dict, bool]] = {
    "bn": ({"arch": "mlp", "depth": 8, "norm": "bn,none", "opt": "sgd", "lr": "0.1,1", "epochs": 20}, False),
    "depth": ({"arch": "mlp,resnet", "depth": 30, "width": 64, "opt": "momentum,adam", "epochs": 30}, True),
    "zero": ({"arch": "mlp", "depth": 2, "width": 64, "norm": "none", "init": "zeros,he", "act": "sigmoid,relu",
              "opt": "momentum", "epochs": 30}, False),
    "vanish": ({"arch": "mlp", "depth": 10, "norm": "none,bn", "act": "sigmoid,relu", "opt": "momentum",
                "epochs": 30}, True),
    "eval": ({"opt": "adam", "eval_bn": "running,batch:8,sorted:8"}, False),
    "default": ({"opt": "adam,momentum,adagrad"}, False),
}
# measured for benchmarks/train_claims.md only: the rates BN tolerates, every evaluation
# of the three optimizers, and the residual network without BN (Python: the He-initialized
# second Linear of each block has no command-line option)
EXTRAS: dict[str, tuple[dict, bool]] = {
    "bn_sweep": ({"arch": "mlp", "depth": 8, "norm": "bn,none", "opt": "sgd", "lr": "0.03,0.3,3,10",
                  "epochs": 20}, False),
    "eval_all": ({"opt": "momentum,adagrad", "eval_bn": "running,batch:8,sorted:8,batch:64"}, False),
}
SEEDS = 3


def command(options: dict, diagnostics: bool) -> str:
    """The ``optviz train`` command line of a claim."""
    words = ["optviz train"]
    for key, value in options.items():
        words.append(f"--{key.replace('_', '-')} {value}")
    words.append(f"--seeds {SEEDS}")
    if diagnostics:
        words.append("--diagnostics")
    return " ".join(words)


def finals(report) -> dict[str, list]:
    """Per run label: the final validation accuracy of each seed, or its status."""
    out: dict[str, list] = {}
    for res in report.results:
        for run in res.runs:
            done = run.outcome.status is Status.OK
            out.setdefault(run.label, []).append(run.val_acc[-1] if done else run.status)
    return out


def hidden_grad_norms(res, run) -> list[float]:
    """The first epoch's mean gradient norm of each Linear layer, input to head."""
    init = res.initial_of(run)
    return [float(v[0]) for k, v in run.grad_norms.items()
            if f"{k}.W" in init and not k.endswith("shortcut")]


def extra(name: str, report) -> dict:
    """What a claim measures besides the final accuracies."""
    out: dict = {}
    for res in report.results:
        for run in res.runs:
            row = out.setdefault(run.label, {})
            if name in ("depth", "vanish") and run.grad_norms:
                norms = hidden_grad_norms(res, run)
                row.setdefault("epoch1_layer1", []).append(norms[0])
                row.setdefault("epoch1_last_hidden", []).append(norms[-2])
                ratios = np.asarray(norms[1:-1]) / np.asarray(norms[:-2])
                row.setdefault("per_layer_factor", []).append(float(np.exp(np.mean(np.log(ratios)))))
            if name == "zero":
                row.setdefault("max_unit_spread", []).append(
                    max(float(np.max(v)) for v in run.unit_spread.values()))
                init = res.initial_of(run)
                row.setdefault("max_hidden_weight_change", []).append(max(
                    float(np.max(np.abs(run.final_state[k] - init[k]))) for k in init if k.startswith("layer")
                    and k.endswith(".W")))
            if name.startswith("eval"):
                for mode, curves in run.evals.items():
                    row.setdefault(mode, []).append(curves["val_acc"][-1])
            if name == "default":
                row.setdefault("seconds_per_epoch", []).append(float(np.median(run.epoch_time)))
    return out


def measure(name: str) -> dict:
    if name == "residual_init":
        return residual_init()
    options, diagnostics = {**CLAIMS, **EXTRAS}[name]
    kwargs = dict(options)
    opt = kwargs.pop("opt")
    t0 = time.perf_counter()
    report = optviz.train("digits", opt, seeds=SEEDS, **kwargs)
    seconds = time.perf_counter() - t0
    paths = save_train_figures(report.results, OUT, diagnostics=diagnostics)
    return {"command": command(options, diagnostics), "seconds": seconds, "final_val_acc": finals(report),
            "measures": extra(name, report), "figures": [str(p) for p in paths]}


def residual_init() -> dict:
    """Residual network without normalization, depth 30: He-initialized second Linear of
    each block against the zero init (the default with norm none)."""
    from optviz.nn import load_digits
    from optviz.nn.train import train

    out: dict = {}
    for zero in (False, True):
        model = {"arch": "resnet", "depth": 30, "width": 64, "norm": "none", "zero_init_residual": zero}
        for seed in range(SEEDS):
            res = train(load_digits(), [("momentum", {"lr": 0.05})], model=model, epochs=30, seed=seed)
            run = res.runs[0]
            done = run.outcome.status is Status.OK
            out.setdefault(f"zero_init_residual={zero}", []).append(run.val_acc[-1] if done else run.status)
    return {"command": "Python: optviz.nn.train.train(..., model={..., 'zero_init_residual': False})",
            "seconds": 0.0, "final_val_acc": out, "measures": {}, "figures": []}


def main(names: list[str]) -> None:
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for name in names or list(CLAIMS):
        results[name] = measure(name)
        print(f"== {name}: {results[name]['command']} ({results[name]['seconds']:.0f} s)", flush=True)
        print(json.dumps({k: results[name][k] for k in ("final_val_acc", "measures")}, default=float), flush=True)
        RESULTS.write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main(sys.argv[1:])
