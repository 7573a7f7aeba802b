"""Measure the notes' claims about training with optviz.nn.train.

Results go to ``train_claims.json`` in the current directory; the summary with
the numbers measured is ``benchmarks/train_claims.md``. Usage:
``python benchmarks/train_claims.py [default bn_lr depth zero vanish extra]``
(about 8 minutes for all on 2 cores).
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from optviz.nn import load_digits
from optviz.nn.train import evaluate, train

RESULTS = "train_claims.json"

DIGITS = load_digits()
OUT = {}
SEEDS = (0, 1, 2)
BATCH = 64


def run(opts, model, epochs, seed, **kw):
    t0 = time.perf_counter()
    res = train(DIGITS, opts, model=model, epochs=epochs, seed=seed, batch_size=BATCH, **kw)
    return res, time.perf_counter() - t0


def summary(r):
    return {
        "status": r.status,
        "final_val_acc": r.val_acc[-1] if r.val_acc else None,
        "best_val_acc": r.best_val_acc if r.val_acc else None,
        "epoch1_train_loss": r.train_loss[0] if r.train_loss else None,
        "epochs_done": len(r.val_acc),
    }


def save():
    with open(RESULTS, "w") as f:
        json.dump(OUT, f, indent=1, default=float)


def log(*a):
    print(*a, flush=True)


def claim_bn_lr():
    out = {}
    for norm in ("bn", "none"):
        for lr in (0.03, 0.1, 0.3, 1.0, 2.0, 3.0):
            accs = []
            for seed in SEEDS:
                res, dt = run([("sgd", {"lr": lr})], {"arch": "mlp", "depth": 8, "width": 128,
                                                      "norm": norm}, 20, seed)
                accs.append(summary(res.runs[0]))
            out[f"{norm} lr={lr}"] = accs
            log("bn_lr", norm, lr, [(a["status"], a["final_val_acc"]) for a in accs])
    OUT["bn_lr"] = out
    save()


def claim_depth():
    out = {}
    for arch in ("mlp", "resnet"):
        for opt in (("momentum", {"lr": 0.05}), ("adam", {"lr": 1e-3})):
            rows = []
            for seed in SEEDS:
                res, dt = run([opt], {"arch": arch, "depth": 30, "width": 64, "norm": "bn"}, 30, seed)
                r = res.runs[0]
                row = summary(r)
                gn = {k: v.tolist() for k, v in r.grad_norms.items()}
                row["grad_norms_epoch1"] = {k: v[0] for k, v in gn.items()}
                row["grad_norms_last"] = {k: v[-1] for k, v in gn.items()}
                row["time"] = dt
                rows.append(row)
            out[f"{arch} {opt[0]}"] = rows
            log("depth", arch, opt[0], [(a["status"], a["final_val_acc"]) for a in rows])
    # no BN: He init residual vs zero-init second Linear
    for zero in (False, True):
        rows = []
        for seed in SEEDS:
            res, dt = run([("momentum", {"lr": 0.05})],
                          {"arch": "resnet", "depth": 30, "width": 64, "norm": "none",
                           "zero_init_residual": zero}, 30, seed)
            rows.append(summary(res.runs[0]))
        out[f"resnet none zero_init={zero}"] = rows
        log("depth none", zero, [(a["status"], a["final_val_acc"]) for a in rows])
    OUT["depth"] = out
    save()


def unit_spread(state, depth):
    """max |difference| between hidden units: columns of hidden W (incoming), rows of head W."""
    spread = {}
    for i in range(1, depth + 1):
        W = state[f"layer{i}.linear.W"]
        spread[f"layer{i}"] = float(np.max(np.abs(W - W[:, :1])))
        b = state[f"layer{i}.linear.b"]
        spread[f"layer{i}.b"] = float(np.max(np.abs(b - b[0])))
    H = state["head.W"]
    spread["head rows"] = float(np.max(np.abs(H - H[:1, :])))
    return spread


def claim_zero_init():
    out = {}
    depth = 3
    for act in ("relu", "tanh", "sigmoid"):
        rows = []
        for seed in SEEDS:
            res, dt = run([("momentum", {"lr": 0.05})],
                          {"arch": "mlp", "depth": depth, "width": 64, "norm": "none",
                           "act": act, "init": "zeros"}, 30, seed)
            r = res.runs[0]
            row = summary(r)
            row["spread"] = unit_spread(r.final_state, depth)
            moved = {k: float(np.max(np.abs(r.final_state[k] - res.initial_state[k])))
                     for k in r.final_state if k.endswith(".W")}
            row["max_weight_change"] = moved
            rows.append(row)
        out[act] = rows
        log("zero", act, [(a["final_val_acc"], a["spread"], a["max_weight_change"]) for a in rows])
    OUT["zero_init"] = out
    save()


def claim_vanishing():
    out = {}
    for name, model in (
        ("sigmoid none", {"act": "sigmoid", "norm": "none"}),
        ("sigmoid bn", {"act": "sigmoid", "norm": "bn"}),
        ("relu none", {"act": "relu", "norm": "none"}),
    ):
        rows = []
        for seed in SEEDS:
            res, dt = run([("momentum", {"lr": 0.05})],
                          {"arch": "mlp", "depth": 10, "width": 128, **model}, 30, seed)
            r = res.runs[0]
            row = summary(r)
            row["val_acc_curve"] = r.val_acc
            row["grad_norms_epoch1"] = {k: float(v[0]) for k, v in r.grad_norms.items()}
            rows.append(row)
        out[name] = rows
        log("vanish", name, [(a["status"], a["final_val_acc"]) for a in rows])
    OUT["vanishing"] = out
    save()


def claim_bn_eval_and_default():
    out = {}
    for opt in (("adam", {"lr": 1e-3}), ("momentum", {"lr": 0.05}), ("adagrad", {"lr": 0.05})):
        rows = []
        for seed in SEEDS:
            res, dt = run([opt], {"arch": "resnet", "depth": 6, "width": 128, "norm": "bn"}, 30, seed)
            r = res.runs[0]
            row = summary(r)
            row["val_acc_curve"] = r.val_acc
            row["epoch_time_median"] = float(np.median(r.epoch_time))
            row["first_epoch_ge_97"] = next((i + 1 for i, a in enumerate(r.val_acc) if a >= 0.97), None)
            net = res.model(r.label)
            X, y = res.split.X_val, res.split.y_val
            row["eval_running"] = evaluate(net, X, y, bn="running")
            rng = np.random.default_rng(seed)
            order = rng.permutation(len(y))
            row["eval_batch8"] = evaluate(net, X[order], y[order], batch_size=8, bn="batch")
            srt = np.argsort(y, kind="stable")
            row["eval_batch8_sorted"] = evaluate(net, X[srt], y[srt], batch_size=8, bn="batch")
            row["eval_batch64"] = evaluate(net, X[order], y[order], batch_size=64, bn="batch")
            rows.append(row)
        out[opt[0]] = rows
        log("default", opt[0], [(a["final_val_acc"], a["eval_running"], a["eval_batch8"],
                                 a["eval_batch8_sorted"]) for a in rows])
    # the default `optviz train`: Adam + momentum, 30 epochs, one process
    t0 = time.perf_counter()
    res = train(DIGITS, [("adam", {"lr": 1e-3}), ("momentum", {"lr": 0.05})],
                model={"arch": "resnet", "depth": 6, "width": 128, "norm": "bn"}, epochs=30,
                batch_size=BATCH, seed=0)
    out["default_train_seconds"] = time.perf_counter() - t0
    out["default_train_final"] = [r.val_acc[-1] for r in res.runs]
    OUT["default"] = out
    save()


def claim_extra():
    """Sigmoid zero-init at depth 1-2, and the BN / no-BN lr limits past the first sweep."""
    out = {}
    for depth in (1, 2):
        for opt in (("momentum", {"lr": 0.05}), ("momentum", {"lr": 0.5}), ("sgd", {"lr": 1.0})):
            rows = []
            for seed in SEEDS:
                res, _ = run([opt], {"arch": "mlp", "depth": depth, "width": 64, "norm": "none",
                                     "act": "sigmoid", "init": "zeros"}, 30, seed)
                r = res.runs[0]
                row = summary(r)
                row["spread"] = unit_spread(r.final_state, depth)
                rows.append(row)
            out[f"sigmoid depth{depth} {opt[0]} {opt[1]['lr']}"] = rows
    for norm, lrs in (("bn", (5.0, 10.0, 30.0)), ("none", (0.2, 0.5))):
        for lr in lrs:
            rows = []
            for seed in SEEDS:
                res, _ = run([("sgd", {"lr": lr})], {"arch": "mlp", "depth": 8, "width": 128, "norm": norm}, 20, seed)
                rows.append(summary(res.runs[0]))
            out[f"{norm} lr={lr}"] = rows
    OUT["extra"] = out
    save()


if __name__ == "__main__":
    which = sys.argv[1:] or ["default", "bn_lr", "depth", "zero", "vanish"]
    fns = {"default": claim_bn_eval_and_default, "bn_lr": claim_bn_lr, "depth": claim_depth,
           "zero": claim_zero_init, "vanish": claim_vanishing, "extra": claim_extra}
    try:
        OUT.update(json.load(open(RESULTS)))
    except FileNotFoundError:
        pass
    for w in which:
        t0 = time.perf_counter()
        fns[w]()
        log(f"== {w} done in {time.perf_counter() - t0:.0f}s")
