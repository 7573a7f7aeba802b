"""Memory budgets, checked before the work they bound (the numbers a command implies, not
magic limits): a request that would need more is refused with what it would need."""

from __future__ import annotations

from optviz.errors import OptvizError

MEMORY = 1 << 30  # bytes one request may use for its arrays (1 GiB)


def fits(what: str, nbytes: float, param: str, remedy: str) -> None:
    """Refuse when ``nbytes`` exceed :data:`MEMORY`, naming the parameter at fault."""
    if nbytes > MEMORY:
        need = _size(nbytes)
        raise OptvizError(f"{{{param}}}: {what} would need {need if need.startswith('more') else 'about ' + need} "
                          "of memory; optviz allows "
                          f"{_size(MEMORY)}: {remedy}", param=param)


def _size(nbytes: float) -> str:
    if nbytes >= 1 << 50:  # beyond any machine; also keeps a huge integer out of float division
        return "more than 1,024 TiB"
    for unit, scale in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes / 1024:.0f} KiB"


def count(n: int) -> str:
    """A count for a message: 1,200,036,000, or "more than 10¹⁵" beyond any machine."""
    return f"{n:,}" if n < 10**15 else "more than 10¹⁵"
