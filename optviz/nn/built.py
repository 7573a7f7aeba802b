"""What a network's settings build: the settings that shape it, with the values it was
built with, and what a set of networks shares.

``build_model`` records its arguments in ``Model.spec``: ``channels=None`` (the arch's
default) and ``stages=None`` (as many as the image allows) there, and the MLP's
``depth``/``width`` beside an image model's settings although they do not shape it.
:func:`built_settings` says instead what a network *is*: an image model's channels and
stages resolved, no depth or width; an MLP's depth and width, no image-model setting;
``groups`` only with GroupNorm; ``shortcut`` only where a block changes shape.
:func:`shared_model` is the ``model`` of ``train --json``, and :func:`networks` the
records the figure names, subtitles and tables describe.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from optviz.nn.cnn_models import (
    CONV_ARCHS,
    DEFAULT_CHANNELS,
    ConvSettings,
    auto_stages,
    image_shape_of,
)
from optviz.nn.image_settings import IMAGE_SETTINGS, uses

# The settings that make a network, in the order a run records them.
NETWORK_SETTINGS = ("arch", "depth", "width", "norm", "act", "init", "dropout", "dtype", *IMAGE_SETTINGS)
MLP_SETTINGS = ("depth", "width")
RESIDUAL_ARCHS = ("resnet", "resnet-cnn")  # those whose blocks ``zero_init_residual`` starts at 0

# Settings of a spec beside NETWORK_SETTINGS that shape only some networks, and their
# value when a spec does not record it (None: unknown).
_SHAPES = {"image_shape": lambda spec: spec.get("arch") in CONV_ARCHS,
           "zero_init_residual": lambda spec: spec.get("arch") in RESIDUAL_ARCHS}
_DEFAULTS = {"image_shape": lambda spec: image_shape(spec),
             "zero_init_residual": lambda spec: spec.get("norm") == "none"}


def image_shape(spec: Mapping[str, Any]) -> tuple[int, int, int] | None:
    """(C, H, W) of an image model's input: its recorded ``image_shape``, else 1×s×s from a
    square ``in_dim`` (as ``build_model`` reads it); None when neither says."""
    if spec.get("image_shape") is not None:
        return tuple(spec["image_shape"])
    try:
        return image_shape_of(None, int(spec["in_dim"]))
    except Exception:  # no in_dim, or not a square number of inputs
        return None


def _image_value(key: str, spec: Mapping[str, Any]) -> Any:
    arch = spec["arch"]
    if key == "channels":
        return spec.get("channels") or DEFAULT_CHANNELS[arch]
    if key == "stages":
        if spec.get("stages") is not None:
            return spec["stages"]
        shape = image_shape(spec)
        return None if shape is None else auto_stages(shape[1], shape[2])
    value = spec.get(key)
    return getattr(ConvSettings, key) if value is None else value


def built_settings(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The settings (of :data:`NETWORK_SETTINGS`) that shape the network of ``spec``
    (``build_model``'s arguments, as ``Model.spec`` records them), with the values it was
    built with: an image model's ``channels`` and ``stages`` resolved (32 channels and 2
    stages for the default residual CNN on 8×8 digits) and its other settings' defaults
    filled in, never ``depth``/``width``; an MLP's depth and width, no image-model
    setting; ``groups`` only with ``norm=gn``; no ``shortcut`` with one stage (no block
    changes shape there, every shortcut is the identity). A setting ``spec`` does not
    give and that has no default (``dropout`` of a partial spec) is left out, as are
    ``stages`` when the image shape is unknown."""
    arch = spec.get("arch")
    image = arch in CONV_ARCHS
    out: dict[str, Any] = {}
    for key in NETWORK_SETTINGS:
        if key in IMAGE_SETTINGS:
            if image and uses(spec, key):
                out[key] = _image_value(key, spec)
        elif key in spec and not (image and key in MLP_SETTINGS):
            out[key] = spec[key]
    if out.get("stages") == 1:
        out.pop("shortcut", None)
    return {k: v for k, v in out.items() if v is not None}


_ABSENT = object()


def shared_model(specs: Iterable[Mapping[str, Any]], varied: Iterable[str] = ()) -> dict[str, Any]:
    """What the networks of ``specs`` (one spec per run) share, setting by setting, in
    ``build_model``'s order: each setting that shapes at least one of them, with the value
    they all have (as :func:`built_settings` resolves it), None where they differ, a
    network is not shaped by it (``depth`` beside an image model, ``groups`` beside a
    BatchNorm network) or it is in ``varied``. ``in_dim``, ``out_dim`` and ``seed``
    compare only where a spec has them (the spec of a run that never started has not)."""
    specs = [dict(s) for s in specs]
    varied = set(varied)
    nets = [built_settings(s) for s in specs]
    out: dict[str, Any] = {}
    for key in dict.fromkeys(k for s in specs for k in (*s, *NETWORK_SETTINGS)):
        if key in NETWORK_SETTINGS:
            got = [n.get(key, _ABSENT) for n in nets]
        elif key in _SHAPES:
            got = [(s[key] if key in s else _DEFAULTS[key](s)) if _SHAPES[key](s) else _ABSENT for s in specs]
        else:
            got = [s.get(key) for s in specs]
        known = [g for g in got if g is not None]  # None: the spec does not say
        values = [g for g in known if g is not _ABSENT]
        if values:
            same = len(values) == len(known) and all(_same(v, values[0]) for v in values)
            out[key] = values[0] if same and key not in varied else None
    return out


def _same(a: Any, b: Any) -> bool:
    return list(a) == list(b) if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) else a == b


def networks(result: Any) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The distinct networks of ``result``'s runs, in order: (built settings, spec) each."""
    specs = [result.spec_of(r) for r in result.runs] or [result.model_spec]
    shape = next((s["image_shape"] for s in specs if s.get("image_shape") is not None), None)
    out, seen = [], []
    for spec in specs:
        if shape is not None and spec.get("arch") in CONV_ARCHS and spec.get("image_shape") is None:
            spec = {**spec, "image_shape": shape}  # a run that never started: the data's shape
        built = built_settings(spec)
        if built not in seen:
            seen.append(built)
            out.append((built, spec))
    return out
