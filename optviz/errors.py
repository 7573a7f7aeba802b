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


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: object, limit: int = 200) -> str:
    """``text`` made safe to put into a one-line message for a terminal.

    Control and format characters (ESC, newlines, tabs, bidirectional overrides,
    line separators…), surrogates (bytes of a file name that were not UTF-8) and
    any other character that ``str.isprintable`` rejects, except the space, are
    shown as escapes (``\\x1b``, ``\\u202e``), so a file name, CSV header or file
    content can never move the cursor, recolor the terminal or split the line.
    Text longer than ``limit`` characters keeps its beginning and its end around
    an ellipsis (the end of a path is its file name).
    """
    text = str(text)
    head, tail = (limit * 2) // 3, limit - (limit * 2) // 3 - 1
    if len(text) > 4 * limit:  # escape no more than needed
        text = text[: 4 * limit] + text[-4 * limit:]
    out = "".join(ch if ch == " " or ch.isprintable() else _escape(ch) for ch in text)
    if len(out) > limit:
        out = out[:head] + "…" + out[len(out) - tail:]
    return out
