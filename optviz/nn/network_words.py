"""Words and short names for the networks of a training, for titles, tables and file names.

They describe the networks the runs trained (:func:`optviz.nn.built.networks`), each by
the settings that shape it: an MLP by its depth and width, an image model by its
channels, blocks (layers of a dense block for DenseNet), growth, and the stages and
shortcut when they are not the defaults (stages given, no shortcut where shapes change);
the groups of GroupNorm go with the normalization. Archs whose settings agree share one
phrase ("resnet-cnn, cnn"), a mix of MLPs and image models gives one phrase each. A
setting that differs between the runs is left to the runs' labels (words) or listed with
its values (names).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from optviz.nn.built import networks
from optviz.nn.cnn_models import CONV_ARCHS

NORM_WORDS = {"bn": "BatchNorm", "ln": "LayerNorm", "gn": "GroupNorm", "in": "InstanceNorm",
              "none": "no normalization"}
# an image-model setting in a file name: its values after this (groups: of the gn networks)
IMAGE_SHORT = {"channels": "c", "blocks": "b", "growth": "g", "groups": "groups", "shortcut": "shortcut-",
               "stages": "stages"}
_SHOWN = ("depth", "width", "channels", "blocks", "growth", "stages", "shortcut")


def _shown(built: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The settings a description names for one network: stages only when given,
    the shortcut only when it is not the default 1×1 convolution."""
    out = {k: built[k] for k in _SHOWN if k in built}
    if spec.get("stages") is None:
        out.pop("stages", None)
    if out.get("shortcut") != "none":
        out.pop("shortcut", None)
    return out


def arch_groups(result: Any) -> list[tuple[list[str], dict[str, list[Any]]]]:
    """The archs of ``result``'s networks, those whose named settings agree merged:
    (archs, each setting's values in the order the runs give them)."""
    per_arch: dict[str, dict[str, list[Any]]] = {}
    for built, spec in networks(result):
        values = per_arch.setdefault(str(built.get("arch", "net")), {})
        for key, value in _shown(built, spec).items():
            if value not in values.setdefault(key, []):
                values[key].append(value)
    groups: list[tuple[list[str], dict[str, list[Any]]]] = []
    for arch, values in per_arch.items():
        same = next((g for g in groups if g[1] == values), None)
        if same is None:
            groups.append(([arch], values))
        else:
            same[0].append(arch)
    return groups


def values_of(result: Any, key: str) -> list[Any]:
    """The values of setting ``key`` among ``result``'s networks (those it shapes), in order."""
    return list(dict.fromkeys(built[key] for built, _ in networks(result) if key in built))


def gn_groups(result: Any) -> int | None:
    """The groups of the GroupNorm networks when they share one and it is not varied."""
    groups = [built.get("groups") for built, _ in networks(result) if built.get("norm") == "gn"]
    varied = set(getattr(result.settings, "varied", ()))
    return groups[0] if groups and "groups" not in varied and all(g == groups[0] for g in groups) else None


def _plural(n: Any, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _words(archs: list[str], values: dict[str, list[Any]], varied: set[str]) -> list[str]:
    words = []
    for key, vals in values.items():
        if key in varied or len(vals) != 1:
            continue
        value = vals[0]
        words.append({"depth": f"depth {value}", "width": f"width {value}", "channels": f"{value} channels",
                      "blocks": _plural(value, "layer" if "densenet" in archs else "block") + " per stage",
                      "growth": f"growth {value}", "stages": _plural(value, "stage"),
                      "shortcut": "no shortcut where shapes change"}[key])
    return words


def phrases(result: Any, name: Any = str) -> list[str]:
    """One phrase per group of :func:`arch_groups`: "resnet-cnn, 8 channels, 1 block per
    stage" for one arch (``name(arch)`` names it), "8 channels, 1 block per stage" for
    several archs that agree (the labels name the arch), "mlp: depth 6, width 128" and
    "resnet-cnn: 32 channels, 1 block per stage" for archs that differ."""
    varied = set(getattr(result.settings, "varied", ()))
    groups = arch_groups(result)
    if "arch" not in varied and len(groups) == 1 and len(groups[0][0]) == 1:
        archs, values = groups[0]
        return [", ".join([name(archs[0]), *_words(archs, values, varied)])]
    if len(groups) == 1:
        words = _words(*groups[0], varied)
        return [", ".join(words)] if words else []
    out = []
    for archs, values in groups:
        words = _words(archs, values, varied)
        out.append(f"{', '.join(archs)}: {', '.join(words)}" if words else ", ".join(archs))
    return out


def short_name(result: Any) -> str:
    """The networks in a file name: 'resnet6-w128-bn', 'mlp-resnet30-w64-bn+none',
    'resnet-cnn-c8-b1-bn-gn-groups4', 'mlp6-w128-resnet-cnn-c32-b1-bn' (the caller makes
    it file-safe: '+' joins the values of a setting that differs between the runs)."""
    varied = set(getattr(result.settings, "varied", ()))
    parts = [_group_short(archs, values, varied) for archs, values in arch_groups(result)]
    model = "-".join(parts) + "-" + _joined(values_of(result, "norm"))
    model += "".join(f"-{_joined(values_of(result, k))}" for k in ("act", "init") if k in varied)
    for key, short in IMAGE_SHORT.items():
        if key in varied or (key == "groups" and values_of(result, key)):
            model += f"-{short}{_joined(values_of(result, key))}"
    return model


def _joined(values: list[Any]) -> str:
    return "+".join(str(v) for v in values)


def _group_short(archs: list[str], values: dict[str, list[Any]], varied: set[str]) -> str:
    """'mlp-resnet30-w64', 'resnet-cnn-cnn-c8-b1', 'densenet-c16-b3-g8-stages2'."""
    part = "-".join(archs)
    if not set(archs) & set(CONV_ARCHS):
        return part + "".join(f"{'-w' if key == 'width' else ''}{_joined(values[key])}" for key in ("depth", "width")
                              if key in values)
    part += "".join(f"-{IMAGE_SHORT[key]}{_joined(values[key])}" for key in ("channels", "blocks", "growth", "stages")
                    if key in values and key not in varied)
    return part + ("-noshort" if "shortcut" in values and "shortcut" not in varied else "")


def one_network(spec: dict[str, Any]) -> tuple[str, str]:
    """Words and a short name (without the normalization) for the one network of ``spec``:
    ('resnet, depth 6, width 128', 'resnet6-w128'), ('lenet, 6 channels', 'lenet-c6')."""
    one = SimpleNamespace(runs=[], model_spec=dict(spec), settings=None)
    archs, values = arch_groups(one)[0]
    return phrases(one)[0], _group_short(archs, values, set())
