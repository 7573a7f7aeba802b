"""Optimizers with their own settings and labels: ``--opt "sgd, sgd(schedule=inverse:0.01, label=decayed)"``.

A list of optimizers is written as comma-separated items, each a name or a name with
settings in parentheses: ``momentum(beta=0.5), momentum(beta=0.9)``. The keys are the
optimizer's keyword names (see ``optviz optimizers``) plus ``lr``, ``schedule`` and
``label``; values are written as on the command line (``0.5``, ``true``,
``inverse:0.01``, ``warmup:5+cosine:100``). The same optimizer may appear several times;
each :class:`Variant` is one run, named by its label everywhere (legend, table, JSON,
CSV, animations). Nothing here is evaluated: the text is split at commas and ``=``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from optviz.errors import OptvizError
from optviz.optim import OPTIMIZERS, defaults, optimizer_class

SPECIAL_KEYS = ("lr", "schedule", "label")
_NAME = re.compile(r"\s*([A-Za-z_][\w.:-]*)\s*(?:\((.*)\))?\s*\Z", re.S)
_LABEL = re.compile(r"[^\x00-\x1f\x7f(),=]{1,60}\Z")


@dataclass(frozen=True)
class Variant:
    """One optimizer run: the optimizer's ``name``, its ``label`` and the ``settings``
    written for it (text, as typed; ``lr`` and ``schedule`` included)."""

    name: str
    label: str
    settings: dict[str, Any] = field(default_factory=dict)


def split_top_level(text: str, what: str = "{opt}") -> list[str]:
    """Split at commas that are not inside parentheses; refuse unbalanced parentheses."""
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise OptvizError(f"{what} {text!r}: a ')' without its '('", param="opt")
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if depth:
        raise OptvizError(f"{what} {text!r}: a '(' without its ')'", param="opt")
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


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
    items = split_top_level(opt) if isinstance(opt, str) else list(opt)
    if not items:
        raise OptvizError(f"no optimizer given in {{opt}}; choose from {', '.join(OPTIMIZERS)}", param="opt")
    variants = []
    for item in items:
        if isinstance(item, Variant):
            variants.append(item)
            continue
        raw, settings = parse_call(str(item))
        name = optimizer_class(raw).name
        _check_keys(name, str(item), settings)
        variants.append(Variant(name, str(settings.get("label", "")), settings))
    return _labelled(variants)


def _labelled(variants: list[Variant]) -> list[Variant]:
    seen: dict[tuple, str] = {}
    out = []
    counts: dict[str, int] = {}
    for v in variants:
        counts[v.name] = counts.get(v.name, 0) + 1
    for v in variants:
        key = (v.name, tuple(sorted((k, str(x)) for k, x in v.settings.items() if k != "label")))
        if not v.label and key in seen:
            raise OptvizError(f"optimizer {v.name!r} is listed twice in {{opt}} with the same settings; give one "
                              "other settings or a label, e.g. sgd(label=again)", param="opt")
        seen[key] = v.label
        label = v.label or (v.name if counts[v.name] == 1 else _auto_label(v))
        out.append(Variant(v.name, label, dict(v.settings)))
    labels = [v.label for v in out]
    repeated = sorted({x for x in labels if labels.count(x) > 1})
    if repeated:
        raise OptvizError(f"two runs in {{opt}} are labelled {repeated[0]!r}; labels must differ", param="opt")
    return out
