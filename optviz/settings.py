"""What a run is made of: the function, its start points, the optimizers with their
settings, and the gradient each one sees.

This module sits below both the public API (:mod:`optviz.api`) and the batched engine
(:mod:`optviz.batch`): both resolve a function, parse start points, split ``-p``
parameters and build oracles here, the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from optviz.errors import OptvizError
from optviz.objective import Objective
from optviz.optim import adapter_class, as_optimizer, defaults, is_foreign, literal, optimizer_class
from optviz.oracles import ExactOracle, NoisyOracle, SampleOracle
from optviz.variants import Variant, parse_variants

DEFAULT_NOISE = 1.0
DEFAULT_BATCH = 10
ORACLE_KEYS = ("noise", "batch_size")


def resolve_function(fn: str | Objective) -> Objective:
    """An :class:`Objective` as is, or a library name, formula or function-file path."""
    if isinstance(fn, Objective):
        return fn
    from optviz.library import load_function

    return load_function(fn)


def optimizer_names(opt: str | Iterable[str]) -> list[str]:
    """Canonical optimizer names from ``"adam,momentum"`` or a list; each at most once.
    Optimizer objects are kept as they are; a foreign optimizer's keyword arguments, its
    ``lr`` included, are part of its name (``torch:torch.optim.AdamW(lr=0.01)``)."""
    names = []
    for v in parse_variants(opt):
        settings = {k: x for k, x in v.settings.items()}
        name = v.name
        if is_foreign(name) and "lr" in settings:
            name = adapter_class(name, {"lr": literal(str(settings.pop("lr")), key="lr")}).name
        if settings:
            raise OptvizError(f"{{opt}}: settings in parentheses ({v.label}) are not taken here; "
                              f"set them with {{params}} {v.name}.NAME=VALUE", param="opt", names=("params",))
        names.append(name)
    return names


def parse_params(items: Mapping[str, Any] | Iterable[str] | None) -> dict[str, Any]:
    """``["beta=0.9", "adam.eps=1e-6"]`` (or a mapping, returned as a dict) → {name: value}."""
    if items is None:
        return {}
    if isinstance(items, Mapping):
        return dict(items)
    params: dict[str, Any] = {}
    for item in items:
        name, sep, value = str(item).partition("=")
        if not sep or not name.strip() or not value.strip():
            raise OptvizError(f"{{params}} {item!r}: write NAME=VALUE, e.g. beta=0.9", param="params")
        params[name.strip()] = value.strip()
    return params


def _as_variants(runs: list[str] | list[Variant]) -> list[Variant]:
    out = []
    for r in runs:
        if isinstance(r, Variant):
            out.append(r)
        elif isinstance(r, str):
            out.append(Variant(optimizer_class(r).name, optimizer_class(r).name))
        else:  # an optimizer object
            out.append(Variant(r, as_optimizer(r).name))
    return out


def _takes(variant: Variant, key: str) -> bool:
    return key in ("lr", "schedule") or key in defaults(variant.name)


def scoped_params(params: Mapping[str, Any], runs: list[str] | list[Variant]) -> dict[str, dict[str, Any]]:
    """Split ``{"beta": 0.5, "adam.beta1": 0.8}`` over the runs (optimizer names or
    :class:`~optviz.variants.Variant` s), keyed by label: a bare name goes to every run
    whose optimizer has it; ``OPT.NAME`` to the runs of that optimizer, or to the run
    labelled OPT."""
    variants = _as_variants(runs)
    per: dict[str, dict[str, Any]] = {v.label: {} for v in variants}
    for key, value in params.items():
        if "." in key:
            scope, _, pname = key.rpartition(".")  # a parameter's name has no dot; torch:a.b.C's has
            targets = [v for v in variants if v.label == scope]
            if not targets:
                name = optimizer_class(scope).name
                targets = [v for v in variants if v.name == name or str(v.name).partition("(")[0] == name]
                if not targets:
                    raise OptvizError(f"parameter {key!r} is for {name}, which is not among the optimizers run "
                                      f"({', '.join(v.label for v in variants)})", param="params")
            for v in targets:
                per[v.label][pname] = value
            continue
        takers = [v for v in variants if _takes(v, key)]
        if not takers:
            valid = sorted({p for v in variants for p in ["lr", *defaults(v.name)]})
            raise OptvizError(f"no optimizer among {', '.join(dict.fromkeys(v.name for v in variants))} has a "
                              f"parameter {key!r}; valid: {', '.join(valid)}", param="params")
        for v in takers:
            per[v.label][key] = value
    return per


def _point_rows(start: Iterable[str]) -> list[list[float]]:
    rows = []
    for item in start:
        try:
            rows.append([float(v) for v in str(item).replace(" ", "").split(",")])
        except ValueError:
            raise OptvizError(f"{{start}} {item!r}: write numbers separated by commas, e.g. {{start=-1.5,2}}",
                              param="start") from None
    if len({len(r) for r in rows}) > 1:
        raise OptvizError("{start} points must all have the same number of coordinates", param="start")
    return rows


def parse_starts(objective: Objective, start: Any = None, *, finite: bool = True) -> np.ndarray:
    """Start points as a (K, d) array of floats (a fresh copy).

    ``start``: None (the function's default start), one point (numbers, or text
    ``"a,b"``), or several (a (K, d) array, or a list of texts). A flat list of d numbers
    is one point; for a 1-D function a flat list of K numbers is K points. With
    ``finite=False`` non-finite coordinates are kept (the run loop reports such a start as
    diverged at step 0).
    """
    if start is None:
        return objective.default_start()[None, :]
    if isinstance(start, str):
        start = [start]
    if isinstance(start, (list, tuple)) and start and all(isinstance(s, str) for s in start):
        start = _point_rows(start)
    try:
        X = np.array(start, dtype=float)
    except (TypeError, ValueError):
        raise OptvizError(f"{{start}} must be numbers, got {start!r}", param="start") from None
    if X.ndim == 0:
        X = X.reshape(1, 1)
    elif X.ndim == 1:
        X = X[None, :] if objective.dim > 1 or X.size == 1 else X[:, None]
    if X.ndim != 2 or X.shape[1] != objective.dim:
        got = X.shape[-1] if X.ndim >= 1 else 1
        raise OptvizError(f"{{start}} needs {objective.dim} coordinate(s) ({', '.join(objective.variables)}) "
                          f"for {objective.name}; got {got}", param="start")
    if finite and not np.all(np.isfinite(X)):
        raise OptvizError("{start} must be finite numbers", param="start")
    return X


def estimated_lr(objective: Objective, name: str, start: np.ndarray) -> float:
    """A learning rate for a function without suggestions, from its curvature at the start.

    By the optimizer's ``lr_family``: gradient methods take 0.5/L with L the largest
    |eigenvalue| of the Hessian at the start (momentum methods a tenth of that, since
    they accumulate about 1/(1−β) steps), to two significant digits; adaptive methods
    move about 1/40 of the domain's width per step, AdaGrad a quarter of it, Lion (every
    step of length η) 1/200 of it; Newton takes its full step and Adadelta torch's rate 1.
    """
    family = optimizer_class(name).lr_family
    if family in ("newton", "adadelta"):
        return 1.0
    (lo, hi) = objective.default_domain()[0]
    width = hi - lo
    if family == "adaptive":
        return 0.05 * width / 2
    if family == "sign":
        return 0.005 * width
    if family == "adagrad":
        return 0.25 * width
    from optviz.critical import gradient_jacobian  # central differences: no Hessian to compile

    with np.errstate(all="ignore"):
        H = gradient_jacobian(objective, np.asarray(start, dtype=float)[None])[0]
        L = float(np.max(np.abs(np.linalg.eigvalsh(H)))) if np.all(np.isfinite(H)) else 1.0
    lr = min(0.5 / max(L, 1e-3) * (0.1 if family == "momentum" else 1.0), 1.0)
    return float(f"{lr:.2g}")  # a rate to read and type, not the digits of a difference quotient


def optimizer_settings(objective: Objective, name: str, overrides: Mapping[str, Any] = (), *,
                       lr: float | None = None, start=None) -> tuple[float | None, dict[str, Any]]:
    """The lr and hyperparameters ``name`` runs with on ``objective``.

    Precedence: ``overrides`` (from -p), then the common ``lr``, then the
    function's suggested settings; the lr falls back to :func:`estimated_lr`
    from ``start`` when one is given. Oracle settings (noise, batch size) are
    not optimizer hyperparameters and are left out.
    """
    cls = optimizer_class(name)
    if cls.network_only:
        raise OptvizError(f"{cls.name} trains networks only: {cls.network_reason}; use it with train, or choose "
                          "another optimizer for a function", param="opt")
    suggested = {k: v for k, v in cls.suggested_settings(objective.suggested).items() if k not in ORACLE_KEYS}
    hyper = {k: v for k, v in suggested.items() if k != "lr"}
    hyper.update(overrides)
    override = hyper.pop("lr", None)
    chosen = override if override is not None else lr if lr is not None else suggested.get("lr")
    if chosen is None and start is not None:
        chosen = estimated_lr(objective, name, np.asarray(start, dtype=float))
    return chosen, hyper


def make_oracle(objective: Objective, name: str, noise, batch_size, seed: int, *, explicit_noise: bool):
    """The gradient that optimizer ``name`` sees on ``objective`` (docs/math.md §2)."""
    kind = optimizer_class(name).oracle
    if kind == "exact":
        return ExactOracle()
    suggested = objective.suggested.get(name, {})
    fs = objective.finite_sum
    if fs is not None and not explicit_noise:
        if kind == "sample":
            return SampleOracle(fs, 1, seed)
        b = int(batch_size or suggested.get("batch_size", DEFAULT_BATCH))
        if b > fs.n:
            raise OptvizError(f"{{batch_size}} {b} is larger than the {fs.n} samples of {objective.name}",
                              param="batch_size")
        return SampleOracle(fs, b, seed)
    sigma = float(noise if noise is not None else suggested.get("noise", DEFAULT_NOISE))
    b = 1 if kind == "sample" else int(batch_size or suggested.get("batch_size", DEFAULT_BATCH))
    if sigma == 0:
        return ExactOracle()
    return NoisyOracle(sigma, seed, b)


def oracle_factory(objective: Objective, noise, batch_size, seed):
    """``name -> oracle`` for sweeps, basins and tuning (one seed for the whole batch)."""
    return lambda name: make_oracle(objective, name, noise, batch_size, seed, explicit_noise=noise is not None)
