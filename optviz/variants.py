"""Optimizers with their own settings and labels: ``--opt "sgd, sgd(schedule=inverse:0.01, label=decayed)"``.

A list of optimizers is written as comma-separated items, each a name or a name with
settings in parentheses: ``momentum(beta=0.5), momentum(beta=0.9)``. The keys are the
optimizer's keyword names (see ``optviz optimizers``) plus ``lr``, ``schedule`` and
``label``; values are written as on the command line (``0.5``, ``true``,
``inverse:0.01``, ``warmup:5+cosine:100``). The same optimizer may appear several times;
each :class:`Variant` is one run, named by its label everywhere (legend, table, JSON,
CSV, animations). A foreign optimizer takes its own keyword arguments the same way,
``torch:torch.optim.AdamW(lr=0.01, betas=(0.9, 0.99))``, ``optax:lion(b1=0.95)``: their
values are Python literals read by :func:`ast.literal_eval`. Nothing here is evaluated:
the text is split at commas outside brackets and quotes, and at ``=``.

In the Python API an item may also be an optimizer object (see
:mod:`optviz.optim.objects`); it runs with its own settings, named by its ``name``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from optviz.errors import OptvizError
from optviz.optim import (
    OPTIMIZERS,
    adapter_class,
    as_optimizer,
    defaults,
    is_foreign,
    is_optimizer_object,
    literal,
    optimizer_class,
)

SPECIAL_KEYS = ("lr", "schedule", "label")
MAX_TEXT = 10_000  # characters of one --opt text: enough for dozens of runs, bounded for hostile input
_CLOSE = {"(": ")", "[": "]", "{": "}"}
_OPEN = {v: k for k, v in _CLOSE.items()}
_NAME = re.compile(r"\s*([A-Za-z_][\w.:-]*)\s*(?:\((.*)\))?\s*\Z", re.S)
_LABEL = re.compile(r"[^\x00-\x1f\x7f(),=]{1,60}\Z")


@dataclass(frozen=True)
class Variant:
    """One optimizer run: the optimizer's ``name``, its ``label`` and the ``settings``
    written for it (text, as typed; ``lr`` and ``schedule`` included). A foreign
    optimizer's keyword arguments are part of its canonical name
    (``torch:torch.optim.AdamW(betas=(0.9, 0.99))``); for an optimizer object ``name`` is
    the object itself."""

    name: Any
    label: str
    settings: dict[str, Any] = field(default_factory=dict)


def split_top_level(text: str, what: str = "{opt}") -> list[str]:
    """Split at commas outside parentheses (and outside brackets ``[]``/``{}`` when those
    balance: a literal list stays whole); refuse unbalanced parentheses."""
    if len(text) > MAX_TEXT:
        raise OptvizError(f"{what} of {len(text)} characters is too long (at most {MAX_TEXT})", param="opt")
    parts = _split(text, "([{")
    if parts is None:  # brackets that do not balance are plain text (a label may hold one)
        parts = _split(text, "(")
    if isinstance(parts, str):
        raise OptvizError(f"{what} {text!r}: {parts}", param="opt")
    return [p.strip() for p in parts if p.strip()]


def _split(text: str, openers: str) -> list[str] | str | None:
    """The parts; or why the parentheses do not balance; or None when other brackets do not."""
    parts, stack, current = [], [], []
    for ch in text:
        if ch in openers:
            stack.append(_CLOSE[ch])
        elif ch in ")]}" and _OPEN[ch] in openers:
            if not stack:
                return "a ')' without its '('" if ch == ")" else None
            if stack.pop() != ch:
                return None if len(openers) > 1 else "a ')' without its '('"
        if ch == "," and not stack:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if stack:
        return "a '(' without its ')'" if set(stack) == {")"} else None
    parts.append("".join(current))
    return parts


def parse_call(item: str) -> tuple[str, dict[str, str]]:
    """``"momentum(beta=0.5, nesterov=true)"`` → ("momentum", {"beta": "0.5", "nesterov": "true"})."""
    match = _NAME.match(item)
    if not match:
        raise OptvizError(f"{{opt}} {item!r}: write NAME or NAME(KEY=VALUE, ...), e.g. momentum(beta=0.5)",
                          param="opt")
    name, inside = match.group(1), match.group(2)
    settings: dict[str, str] = {}
    for pair in split_top_level(inside or "", "{opt}"):
        key, sep, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_]\w*", key) or not value:
            raise OptvizError(f"{{opt}} {item!r}: {pair!r} is not KEY=VALUE", param="opt")
        if key in settings:
            raise OptvizError(f"{{opt}} {item!r}: {key} is given twice", param="opt")
        settings[key] = value
    return name, settings


def _check_keys(name: str, item: str, settings: dict[str, Any]) -> None:
    known = [*SPECIAL_KEYS, *defaults(name)]
    for key in settings:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise OptvizError(f"{{opt}} {item!r}: {name} has no setting {key!r}{hint}; its settings are "
                              f"{', '.join(known)}", param="opt")
    label = settings.get("label")
    if label is not None and not _LABEL.match(str(label)):
        raise OptvizError(f"{{opt}} {item!r}: a label is 1 to 60 characters without ( ) , = or control "
                          "characters", param="opt")


def _auto_label(variant: Variant) -> str:
    shown = [f"{k}={v}" for k, v in variant.settings.items() if k != "label"]
    return f"{variant.name}({', '.join(shown)})" if shown else variant.name


def parse_variants(opt: str | Iterable[str | Variant]) -> list[Variant]:
    """The runs an ``opt`` asks for: names, names with settings, or ready :class:`Variant` s.

    A variant without a label is named by its optimizer, or, when the optimizer appears
    more than once, by its settings (``momentum(beta=0.5)``). Labels must differ, and
    the same optimizer with the same settings twice is refused.
    """
    if isinstance(opt, str):
        items = split_top_level(opt)
    else:
        items = [opt] if is_optimizer_object(opt) or isinstance(opt, Variant) else list(opt)
    if not items:
        raise OptvizError(f"no optimizer given in {{opt}}; choose from {', '.join(OPTIMIZERS)}", param="opt")
    variants = []
    for item in items:
        if isinstance(item, Variant):
            variants.append(item)
        elif is_optimizer_object(item):
            variants.append(Variant(item, as_optimizer(item).name))
        else:
            variants.append(_parse_item(str(item)))
    return _labelled(variants)


def _parse_item(item: str) -> Variant:
    raw, settings = parse_call(item)
    if is_foreign(raw):  # its own keywords are literals and part of its name; lr, schedule, label are ours
        try:
            kwargs = {k: literal(v, key=k) for k, v in settings.items() if k not in SPECIAL_KEYS}
            if "lr" in settings:
                literal(settings["lr"], key="lr")  # a literal, as every keyword of a foreign optimizer
            name = adapter_class(raw, kwargs).name
        except OptvizError as err:
            raise OptvizError(f"{{opt}} {item!r}: {err}", param="opt") from None
        settings = {k: v for k, v in settings.items() if k in SPECIAL_KEYS}
    else:
        name = optimizer_class(raw).name
    _check_keys(name, item, settings)
    return Variant(name, str(settings.get("label", "")), settings)


def _key(name: Any) -> Any:
    """What tells optimizers apart: a name, or an object's identity."""
    return name if isinstance(name, str) else ("object", id(name))


def _labelled(variants: list[Variant]) -> list[Variant]:
    seen: dict[tuple, str] = {}
    out = []
    counts: dict[str, int] = {}
    for v in variants:
        counts[_key(v.name)] = counts.get(_key(v.name), 0) + 1
    for v in variants:
        key = (_key(v.name), tuple(sorted((k, str(x)) for k, x in v.settings.items() if k != "label")))
        if not v.label and key in seen:
            raise OptvizError(f"optimizer {v.name!r} is listed twice in {{opt}} with the same settings; give one "
                              "other settings or a label, e.g. sgd(label=again)", param="opt")
        seen[key] = v.label
        label = v.label or (v.name if counts[_key(v.name)] == 1 else _auto_label(v))
        out.append(Variant(v.name, label, dict(v.settings)))
    labels = [v.label for v in out]
    repeated = sorted({x for x in labels if labels.count(x) > 1})
    if repeated:
        raise OptvizError(f"two runs in {{opt}} are labelled {repeated[0]!r}; labels must differ", param="opt")
    return out
