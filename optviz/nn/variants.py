"""Network variants: the settings of ``train`` that take a comma list, and their combinations.

``train(norm="bn,none", lr=[0.1, 1.0])`` trains every combination of the listed values
with every optimizer, one labelled run each, all from the same seed. Each setting has a
parser here (a word from a list, a whole number, a positive rate); a new setting joins
by adding a line to :data:`VARIED`. A label names the optimizer and the values that
differ between runs: ``"sgd · norm=bn, lr=1"``. A setting that shapes only some of the
networks (``groups``: those with ``norm=gn``) is left out of the others, so they are
trained once and their labels do not name it (``"norm=bn"``, ``"norm=gn, groups=4"``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from optviz import validate
from optviz.errors import OptvizError
from optviz.nn.activations import ACTIVATIONS
from optviz.nn.cnn import NORMS_2D, SHORTCUTS
from optviz.nn.image_settings import IMAGE_SETTINGS, shapes
from optviz.nn.init import INITIALIZERS
from optviz.nn.model import ARCHS


def _word(choices: Iterable[str]) -> Callable[[str, Any], str]:
    known = tuple(choices)

    def parse(name: str, value: Any) -> str:
        word = str(value).strip()
        if word not in known:
            raise OptvizError(f"{{{name}}} {word!r} is not one of {', '.join(known)}", param=name)
        return word

    return parse


def _whole(low: int) -> Callable[[str, Any], int]:
    def parse(name: str, value: Any) -> int:
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise OptvizError(f"{{{name}}} must be whole numbers, got {value.strip()!r}", param=name) from None
        return validate.whole(name, value, low)

    return parse


def _rate(name: str, value: Any) -> float:
    return validate.positive(name, value.strip() if isinstance(value, str) else value)


# setting: parser. The order is the order of the parts of a label.
VARIED: dict[str, Callable[[str, Any], Any]] = {
    "arch": _word(ARCHS),
    "depth": _whole(1),
    "width": _whole(1),
    "norm": _word(NORMS_2D),  # image models also take gn and in; build_model refuses them elsewhere
    "act": _word(ACTIVATIONS),
    "init": _word(INITIALIZERS),
    "channels": _whole(1),
    "blocks": _whole(1),
    "growth": _whole(1),
    "groups": _whole(1),
    "shortcut": _word(SHORTCUTS),
    "stages": _whole(1),
    "batch_size": _whole(1),
    "lr": _rate,
}
MODEL_KEYS = ("arch", "depth", "width", "norm", "act", "init", *IMAGE_SETTINGS)


def values(name: str, given: Any) -> list[Any]:
    """The values of setting ``name`` from a comma string, a list or one value, each
    parsed and checked; an empty entry or a value listed twice is an error."""
    parse = VARIED[name]
    if isinstance(given, (bytes, bytearray, dict, set, frozenset)):  # iterable, but not a list of values
        raise OptvizError(f"{{{name}}} takes a value, a list or a comma string, got {type(given).__name__}",
                          param=name)
    if isinstance(given, str):
        items: list[Any] = given.split(",")
    elif isinstance(given, Iterable):
        items = list(given)
    else:
        items = [given]
    if not items or any(isinstance(i, str) and not i.strip() for i in items):
        raise OptvizError(f"{{{name}}} has an empty entry in {given!r}", param=name)
    out = [parse(name, item) for item in items]
    for i, value in enumerate(out):
        if value in out[:i]:
            raise OptvizError(f"{{{name}}} lists {value!r} twice", param=name)
    return out


def one_value(name: str, given: Any, why: str) -> Any:
    """The one value of setting ``name`` (parsed as in :func:`values`); a list of several is
    refused with ``why`` (what takes one value)."""
    got = values(name, given)
    if len(got) > 1:
        raise OptvizError(f"{{{name}}} lists {len(got)} values ({', '.join(map(fmt_value, got))}); {why}",
                          param=name)
    return got[0]


@dataclass(frozen=True)
class Variant:
    """One combination of the listed settings: the network's keyword arguments, the batch
    size, the learning rate (None: each optimizer's own) and the label's part."""

    model: dict[str, Any]
    batch_size: int
    lr: float | None
    label: str


def fmt_value(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def variants(settings: dict[str, Any]) -> tuple[list[Variant], tuple[str, ...]]:
    """Every combination of the settings in ``settings`` (each a value, list or comma
    string; ``lr`` None means each optimizer's default), networks in the outer loop
    and the learning rate innermost; and the names of the settings that vary. A setting
    that does not shape a combination's network (``groups`` without ``norm=gn``) is left
    out of it, and the combinations that then repeat one before are dropped."""
    lists = {name: ([None] if name == "lr" and settings.get(name) is None else values(name, settings[name]))
             for name in VARIED if name in settings}
    varied = tuple(name for name, vals in lists.items() if len(vals) > 1)
    out, seen = [], set()
    for combo in itertools.product(*lists.values()):
        every = dict(zip(lists, combo, strict=True))
        chosen = {name: value for name, value in every.items() if shapes(name, every)}
        if tuple(chosen.items()) in seen:
            continue
        seen.add(tuple(chosen.items()))
        label = ", ".join(f"{name}={fmt_value(chosen[name])}" for name in varied if name in chosen)
        out.append(Variant({k: chosen[k] for k in MODEL_KEYS if k in chosen}, chosen.get("batch_size", 64),
                           chosen.get("lr"), label))
    return out, varied


def run_label(optimizer_label: str, variant_label: str) -> str:
    """'sgd · norm=bn' (or just 'sgd' when nothing varies)."""
    return f"{optimizer_label} · {variant_label}" if variant_label else optimizer_label


def about_network(err: OptvizError, variant: Variant, varied: tuple[str, ...]) -> OptvizError:
    """``err`` prefixed with the network of a list it is about: 'with channels=512, a network of …'."""
    fields = [k for k in varied if k in MODEL_KEYS and k in variant.model]
    named = ", ".join(f"{{{k}={fmt_value(variant.model[k])}}}" for k in fields)
    text = err.template.removeprefix(f"{{{err.param}}}: ") if err.param in fields else err.template
    return OptvizError(f"with {named}, {text}" if named else err.template, param=err.param,
                       names=(*err.names, *fields))
