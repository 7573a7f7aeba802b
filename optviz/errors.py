"""User-facing errors: the CLI prints the message on one line and exits with code 2.

A message speaks of parameters by their keyword names (``lr must be > 0, got 0``), the
names a Python user passes. The names are fields of the error, not words to find in its
text: the message is a template in which ``{lr}`` stands for the parameter ``lr`` and
``{plane=random}`` for that parameter set to a value. ``str(error)`` renders them as
keyword names (``lr``, ``plane='random'``); the command line renders the same template
with its flags (``--lr``, ``--plane random``) through :meth:`OptvizError.render`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?:=([^{}]*))?\}")

Namer = Callable[[str, "str | None"], str]


def keyword_name(name: str, value: str | None) -> str:
    """How the Python API names a parameter: ``lr``, or ``plane='random'``."""
    if value is None:
        return name
    if value in ("True", "False", "None"):
        return f"{name}={value}"
    try:
        float(value)
        return f"{name}={value}"
    except ValueError:
        return f"{name}={value!r}"


class OptvizError(ValueError):
    """Bad input or an impossible request, with a message a user can act on.

    ``message`` may name parameters as ``{name}`` or ``{name=value}`` fields (only
    fields whose name is listed in ``names``, or the ``param`` at fault, are fields;
    other braces are text). ``param`` is the parameter at fault, when there is one.
    """

    def __init__(self, message: str = "", *, param: str | None = None, names: tuple[str, ...] = ()):
        self.template = message
        self.param = param
        self.names = frozenset(names) | ({param} if param else set())
        super().__init__(self.render(keyword_name))

    def render(self, namer: Namer) -> str:
        """The message with each parameter field named by ``namer(name, value)``."""

        def field(match: re.Match) -> str:
            name, value = match.group(1), match.group(2)
            return namer(name, value) if name in self.names else match.group(0)

        return _FIELD.sub(field, self.template)


class Interrupted(Exception):
    """Ctrl-C after results were written: the CLI prints the message and exits 130."""
