"""The settings only image models take (channels, blocks, growth, groups, shortcut,
stages), which of them each model uses, and the default number of epochs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from optviz.errors import OptvizError
from optviz.nn.cnn_models import CONV_ARCHS, auto_stages, image_shape_of

IMAGE_SETTINGS = ("channels", "blocks", "growth", "groups", "shortcut", "stages")

APPLIES = {"cnn": ("channels", "blocks", "groups", "stages"),
           "resnet-cnn": ("channels", "blocks", "groups", "shortcut", "stages"),
           "densenet": ("channels", "blocks", "growth", "groups", "stages"),
           "lenet": ("channels", "groups")}


def _archs(arch: Any) -> list[str]:
    if isinstance(arch, str):
        return [a.strip() for a in arch.split(",")]
    if isinstance(arch, (list, tuple)):
        return [str(a) for a in arch]
    return [str(arch)]


def default_epochs(arch: Any) -> int:
    """Epochs of training when none are given: 30, or 10 when every ``arch`` (one name, a
    list or a comma string) is an image model."""
    return 10 if all(a in CONV_ARCHS for a in _archs(arch)) else 30


def given_settings(given: Mapping[str, Any]) -> dict[str, Any]:
    """The image-model settings that were given (not None); an unknown name is refused."""
    given = {k: v for k, v in given.items() if v is not None}
    unknown = sorted(set(given) - set(IMAGE_SETTINGS))
    if unknown:
        raise OptvizError(f"unknown image-model setting(s) {', '.join(unknown)}; known: {', '.join(IMAGE_SETTINGS)}")
    return given


def shapes(name: str, network: Mapping[str, Any]) -> bool:
    """Whether setting ``name`` shapes ``network`` (its arch, norm, … by name): ``groups``
    only with ``norm=gn``, ``shortcut`` not with ``stages=1``; every other setting is checked
    by :func:`check_image_settings`."""
    if name in ("depth", "width"):  # the MLPs' settings; image models have channels, blocks, stages
        return network.get("arch") not in CONV_ARCHS
    if name == "groups":
        return network.get("norm") == "gn"
    if name == "shortcut":  # only blocks that change shape have one: none with one stage
        return network.get("stages") != 1
    return True


def uses(network: Mapping[str, Any], name: str) -> bool:
    """Whether the network of spec ``network`` is shaped by setting ``name`` (any setting
    not of the image models is; an image-model setting where its arch and norm use it)."""
    return name not in IMAGE_SETTINGS or (name in APPLIES.get(network.get("arch"), ()) and shapes(name, network))


def check_image_settings(archs: Iterable[str], norms: Iterable[str], names: Iterable[str]) -> None:
    """Refuse an image-model setting (of ``names``) that one of the listed ``archs`` does
    not use, rather than ignore it there; ``groups`` when none of the listed ``norms`` is
    gn (with gn among them, it applies to the gn networks: it is gn's own parameter)."""
    names, norms = list(names), list(dict.fromkeys(norms))
    for arch in dict.fromkeys(archs):
        for name in names:
            if arch not in CONV_ARCHS:
                raise OptvizError(f"{{{name}}} applies to the image models ({{arch}} {', '.join(CONV_ARCHS)}), "
                                  f"not to {{arch={arch}}}", param=name, names=("arch",))
            if name not in APPLIES[arch]:
                users = [a for a in CONV_ARCHS if name in APPLIES[a]]
                raise OptvizError(f"{{{name}}} does not apply to {{arch={arch}}}; it shapes {', '.join(users)}",
                                  param=name, names=("arch",))
    if "groups" in names and "gn" not in norms:
        raise OptvizError(f"{{groups}} is the number of groups of {{norm=gn}}, not of {{norm={','.join(norms)}}}",
                          param="groups", names=("norm",))


def check_shortcut_used(model: Mapping[str, Any], image_shape: Any, in_dim: int) -> None:
    """Refuse a given ``shortcut`` for a ResNet in which no block changes shape: only the first
    block of each stage after the first doubles the channels at stride 2, so with one stage
    (``stages=1``, or images too small for a second) every shortcut is the identity and
    ``shortcut=none`` and ``shortcut=conv1x1`` would train the same network."""
    if model.get("arch") != "resnet-cnn" or model.get("shortcut") is None:
        return
    _, h, w = image_shape_of(image_shape, in_dim)
    stages = model.get("stages") or auto_stages(h, w)
    if stages == 1:
        raise one_stage("{stages=1}" if model.get("stages") else f"{h}×{w} images (one stage)")


def one_stage(why: str) -> OptvizError:
    """The refusal of a given ``shortcut`` that no network uses (``why``: what leaves one stage)."""
    return OptvizError(f"{{shortcut}} shapes the first block of each stage after the first, where the channels "
                       f"double at stride 2; with {why} no block changes shape and every shortcut is the "
                       "identity: leave {shortcut} out or add stages", param="shortcut", names=("stages",))


def mlp_settings(arch: Any, depth: Any, width: Any) -> dict[str, Any]:
    """``depth`` and ``width`` for a plan (None: 6 and 128, the MLPs' defaults); one that was
    given while every arch listed in ``arch`` is an image model is refused rather than ignored."""
    archs = list(dict.fromkeys(_archs(arch)))
    for name, given, instead in (("depth", depth, "{blocks} and {stages}"), ("width", width, "{channels}")):
        if given is not None and all(a in CONV_ARCHS for a in archs):
            raise OptvizError(f"{{{name}}} shapes the MLPs ({{arch}} mlp, resnet), not {{arch={','.join(archs)}}}; "
                              f"the image models have {instead}", param=name,
                              names=("arch", "blocks", "stages", "channels"))
    return {"depth": 6 if depth is None else depth, "width": 128 if width is None else width}
