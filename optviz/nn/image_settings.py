"""The settings only image models take (channels, blocks, growth, groups, shortcut,
stages), which of them each model uses, and the default number of epochs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from optviz.errors import OptvizError
from optviz.nn.cnn_models import CONV_ARCHS

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


def image_settings(models: Iterable[tuple[str, str]], given: Mapping[str, Any]) -> dict[str, Any]:
    """The image-model settings that were given (not None), checked against every
    (arch, norm) of ``models``: one that a model (or its norm, for ``groups``) does not use
    is refused rather than ignored."""
    given = {k: v for k, v in given.items() if v is not None}
    unknown = sorted(set(given) - set(IMAGE_SETTINGS))
    if unknown:
        raise OptvizError(f"unknown image-model setting(s) {', '.join(unknown)}; known: {', '.join(IMAGE_SETTINGS)}")
    for arch, norm in models:
        for name in given:
            if arch not in CONV_ARCHS:
                raise OptvizError(f"{{{name}}} applies to the image models ({{arch}} {', '.join(CONV_ARCHS)}), "
                                  f"not to {{arch={arch}}}", param=name, names=("arch",))
            if name not in APPLIES[arch]:
                users = [a for a in CONV_ARCHS if name in APPLIES[a]]
                raise OptvizError(f"{{{name}}} does not apply to {{arch={arch}}}; it shapes {', '.join(users)}",
                                  param=name, names=("arch",))
            if name == "groups" and norm != "gn":
                raise OptvizError(f"{{groups}} is the number of groups of {{norm=gn}}, not of {{norm={norm}}}",
                                  param="groups", names=("norm",))
    return given
