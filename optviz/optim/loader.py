"""Optimizers that are not built in, found by name (docs/math.md §4.10).

- ``torch:IMPORT.PATH.Class(kw=value, ...)``: a subclass of ``torch.optim.Optimizer`` by its
  import path (third-party packages included), run by :mod:`optviz.optim.torch_adapter`;
- ``optax:alias(kw=value, ...)``: an optax optimizer alias, run by
  :mod:`optviz.optim.optax_adapter`;
- plugins: installed packages register :class:`~optviz.optim.base.Optimizer` subclasses under
  the entry-point group ``optviz.optimizers`` (the entry point's name is the optimizer's).

Keyword values are literals only (:mod:`optviz.optim.spec`): nothing written is evaluated.
Loading a class by its import path, or a plugin, runs that package's own code.
"""

from __future__ import annotations

import functools
from typing import Any

from optviz.errors import OptvizError
from optviz.optim.base import Optimizer
from optviz.optim.optax_adapter import optax_adapter
from optviz.optim.spec import format_call, split_call
from optviz.optim.torch_adapter import torch_adapter

PREFIXES = ("torch:", "optax:")
ENTRY_POINT_GROUP = "optviz.optimizers"


def is_foreign(name: Any) -> bool:
    """Whether ``name`` asks for an adapter (``torch:...`` or ``optax:...``)."""
    return isinstance(name, str) and name.strip().lower().startswith(PREFIXES)


@functools.lru_cache(maxsize=256)
def _adapter_class(kind: str, path: str, frozen: tuple[tuple[str, Any], ...]) -> type[Optimizer]:
    kwargs = dict(frozen)
    make = torch_adapter if kind == "torch" else optax_adapter
    return make(path, kwargs, format_call(f"{kind}:{path}", kwargs))


def adapter_class(spec: str, kwargs: dict[str, Any] | None = None) -> type[Optimizer]:
    """The optviz optimizer class of a foreign optimizer, from its spec text and keyword
    arguments: ``adapter_class("torch:torch.optim.AdamW", {"betas": (0.9, 0.99)})``, or all
    in the text, ``adapter_class("torch:torch.optim.AdamW(betas=(0.9, 0.99))")``. The same
    spec gives the same class, whose ``name`` is the canonical spec text."""
    name, written = split_call(spec)
    if not is_foreign(name):
        raise OptvizError(f"{spec!r} is not a foreign optimizer: write torch:IMPORT.PATH or optax:NAME")
    kind, _, path = name.partition(":")
    if not path.strip():
        raise OptvizError(f"{spec!r}: name the optimizer after {kind}:, e.g. torch:torch.optim.AdamW")
    merged = {**written, **(kwargs or {})}
    try:
        frozen = tuple(merged.items())
        hash(frozen)
    except TypeError:
        raise OptvizError(f"{spec}: keyword values must be numbers, strings, booleans or tuples") from None
    return _adapter_class(kind.strip().lower(), path.strip(), frozen)


@functools.lru_cache(maxsize=1)
def _plugins() -> dict[str, type[Optimizer] | str]:
    """name → Optimizer subclass, or the reason it cannot be used (a broken plugin names
    itself only when asked for)."""
    from importlib.metadata import entry_points

    out: dict[str, type[Optimizer] | str] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        where = f"optimizer plugin {ep.name!r} ({ep.value})"
        try:
            obj = ep.load()
        except Exception as exc:
            out[ep.name.lower()] = f"{where} failed to load: {type(exc).__name__}: {exc}"
            continue
        if not (isinstance(obj, type) and issubclass(obj, Optimizer)):
            out[ep.name.lower()] = f"{where} is not a subclass of optviz.optim.Optimizer"
        elif obj.name != ep.name:
            out[ep.name.lower()] = (f"{where} has the name {obj.name!r}: the entry point and the class "
                                    "must use the same name")
        else:
            out[ep.name.lower()] = obj
    return out


def plugin_names() -> list[str]:
    """Names of the optimizers installed packages register (entry-point group ``optviz.optimizers``)."""
    return sorted(_plugins())


def plugin_class(name: str) -> type[Optimizer] | None:
    """The plugin optimizer of that name (None if there is none; a broken one is refused)."""
    found = _plugins().get(name.lower())
    if isinstance(found, str):
        raise OptvizError(found)
    return found
