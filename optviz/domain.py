"""The region a picture shows: ``domain`` (one ``LO:HI`` range per variable, e.g.
``"-2:2,-1:3"``), or for a picture of one variable ``xlim`` (its range) and ``ylim``
(the range of f drawn). One parser for every picture and for basin maps; errors name
the keyword that was wrong.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from optviz.errors import OptvizError

Range = tuple[float, float]
Domain = tuple[Range, ...]


def parse_range(value: Any, name: str, within: Any = None) -> Range:
    """``"LO:HI"`` or a pair (lo, hi) of finite numbers with lo < hi (``within``: the
    whole value it is part of, for messages)."""
    example = "-2:2"
    where = f"{{{name}}} {value!r}" if within is None else f"{{{name}}} {within!r}, range {value!r}"
    if isinstance(value, str):
        parts = value.split(":")
        if len(parts) != 2:
            raise OptvizError(f"{where}: write a range LO:HI, e.g. {example}", param=name)
    else:
        try:
            parts = list(value)
        except TypeError:
            raise OptvizError(f"{where}: give a range (LO, HI) or 'LO:HI', e.g. {example}", param=name) from None
        if len(parts) != 2:
            raise OptvizError(f"{where}: a range is two numbers LO and HI", param=name)
    try:
        lo, hi = (float(str(p).strip()) for p in parts)
    except ValueError:
        raise OptvizError(f"{where}: LO and HI must be numbers, e.g. {example}", param=name) from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise OptvizError(f"{where}: LO and HI must be finite", param=name)
    if not lo < hi:
        raise OptvizError(f"{where}: LO must be below HI", param=name)
    return lo, hi


def parse_domain(value: Any, name: str = "domain") -> Domain:
    """``"x0:x1,y0:y1"`` (one ``LO:HI`` per variable, comma-separated) or a sequence of
    (lo, hi) pairs."""
    if isinstance(value, str):
        pieces = value.split(",")
        if not value.strip() or any(not p.strip() for p in pieces):
            raise OptvizError(f"{{{name}}} {value!r}: write one LO:HI range per variable, comma-separated, "
                              "e.g. -2:2,-1:3", param=name)
        return tuple(parse_range(p, name, value if len(pieces) > 1 else None) for p in pieces)
    if isinstance(value, Sequence) and len(value) == 2 and all(_is_number(v) for v in value):
        return (parse_range(value, name),)  # one range for a function of one variable
    try:
        return tuple(parse_range(r, name, value) for r in value)
    except TypeError:
        raise OptvizError(f"{{{name}}} {value!r}: write one LO:HI range per variable, e.g. -2:2,-1:3",
                          param=name) from None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class View:
    """What a picture of a function shows: ``domain`` (a range per variable), or ``xlim``
    and ``ylim``. For two variables those are the ranges of the two axes (either may be
    left automatic); for one variable ``xlim`` is its range and ``ylim`` the range of f."""

    domain: Domain | None = None
    xlim: Range | None = None
    ylim: Range | None = None

    @classmethod
    def parse(cls, domain: Any = None, xlim: Any = None, ylim: Any = None) -> View:
        """A view from text ("-2:2,-1:3", "-2:2") or pairs, checked for form."""
        if domain is not None and (xlim is not None or ylim is not None):
            other = "xlim" if xlim is not None else "ylim"
            raise OptvizError(f"give {{domain}} or {{{other}}}, not both: {{domain}} sets every axis",
                              param="domain", names=(other,))
        return cls(parse_domain(domain) if domain is not None else None,
                   parse_range(xlim, "xlim") if xlim is not None else None,
                   parse_range(ylim, "ylim") if ylim is not None else None)

    def ranges(self, dim: int, name: str) -> tuple[Range | None, ...]:
        """One range per variable of a function of ``dim`` variables called ``name``;
        None where the picture chooses."""
        if self.domain is not None:
            if len(self.domain) != dim:
                raise OptvizError(f"{{domain}} has {len(self.domain)} range(s) and {name} has {dim} "
                                  "variable(s): give one LO:HI per variable", param="domain")
            return self.domain
        if dim == 1:
            return (self.xlim,)
        if dim == 2:
            return (self.xlim, self.ylim)
        return (None,) * dim

    def value_range(self, dim: int) -> Range | None:
        """The range of f drawn on the curve of a function of one variable (``ylim``)."""
        return self.ylim if dim == 1 else None

    @property
    def empty(self) -> bool:
        return self.domain is None and self.xlim is None and self.ylim is None
