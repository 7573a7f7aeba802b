"""Checks of argument values, each raising :class:`OptvizError` worded in the keyword name.

Every public function validates its own arguments with these, once; the command line
adds nothing but maps the keyword name to its flag (``lr`` → ``--lr``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from optviz.errors import OptvizError


def _number(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise OptvizError(f"{{{name}}} must be a number, got {value!r}", param=name) from None
    if math.isnan(number):
        raise OptvizError(f"{{{name}}} must be a number, got nan", param=name)
    return number


def positive(name: str, value: Any) -> float:
    """A finite number > 0 (``lr``, ``bound``)."""
    number = _number(name, value)
    if not (number > 0 and math.isfinite(number)):
        raise OptvizError(f"{{{name}}} must be > 0 and finite, got {number:g}", param=name)
    return number


def non_negative(name: str, value: Any) -> float:
    """A finite number ≥ 0 (``tol``, ``noise``)."""
    number = _number(name, value)
    if not (number >= 0 and math.isfinite(number)):
        raise OptvizError(f"{{{name}}} must be ≥ 0 and finite, got {number:g}", param=name)
    return number


def whole(name: str, value: Any, low: int = 1, high: int | None = None) -> int:
    """A whole number in [low, high] (``steps``, ``seeds``, ``grid``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__index__"):
        raise OptvizError(f"{{{name}}} must be a whole number, got {value!r}", param=name)
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise OptvizError(f"{{{name}}} must be a whole number, got {value!r}", param=name)
    number = int(value)
    if high is None and number < low:
        raise OptvizError(f"{{{name}}} must be ≥ {low}, got {number}", param=name)
    if high is not None and not low <= number <= high:
        raise OptvizError(f"{{{name}}} must be between {low} and {high}, got {number}", param=name)
    return number


def between(name: str, value: Any, low: float, high: float, *, high_open: bool = False) -> float:
    """A number in [low, high] (or [low, high) with ``high_open``)."""
    number = _number(name, value)
    ok = low <= number < high if high_open else low <= number <= high
    if not ok:
        shown = f"[{low:g}, {high:g}{')' if high_open else ']'}"
        raise OptvizError(f"{{{name}}} must be in {shown}, got {number:g}", param=name)
    return number


def one_of(name: str, value: Any, choices: Iterable[str]) -> str:
    """One of a few words (``fmt``, ``plane``, ``metric``)."""
    options = list(choices)
    if value not in options:
        raise OptvizError(f"{{{name}}} must be one of {', '.join(options)}, got {value!r}", param=name)
    return value
