"""User-facing errors: the CLI prints the message on one line and exits with code 2."""

from __future__ import annotations


class OptvizError(Exception):
    """Bad input or an impossible request, with a message a user can act on."""


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
