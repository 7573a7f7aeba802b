"""Optimizer specs as text: ``"name(a=1, b=(2, 3))"`` → ("name", {"a": 1, "b": (2, 3)}).

Values are Python literals read by :func:`ast.literal_eval` (numbers, strings, tuples,
lists, dicts, True/False/None; ``true``/``false`` are accepted too): nothing is ever
evaluated. With ``bare=True`` a value that is not a literal but a single plain word
(``inverse:0.01``, ``decayed``) is kept as a string, for settings written as words.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from optviz.errors import OptvizError

MAX_LENGTH = 2000
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_BARE = re.compile(r"[A-Za-z0-9_.:+\-]+\Z")
_WORDS = {"true": True, "false": False, "none": None}
_PAIRS = {"(": ")", "[": "]", "{": "}"}


def split_list(text: str, sep: str = ",") -> list[str]:
    """Split at the separators outside brackets and quotes, stripping each part:
    ``"adam, torch:X(betas=(0.9, 0.99))"`` → ["adam", "torch:X(betas=(0.9, 0.99))"]."""
    parts, depth, quote, current = [], [], None, []
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in _PAIRS:
            depth.append(_PAIRS[ch])
        elif ch in ")]}":
            if not depth or depth.pop() != ch:
                raise OptvizError(f"unbalanced {ch!r} in {text!r}")
        elif ch == sep and not depth:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    if quote or depth:
        raise OptvizError(f"unclosed {quote or '(' + ''.join(reversed(depth))!r} in {text!r}")
    parts.append("".join(current).strip())
    return parts


def literal(text: str, *, bare: bool = False, key: str = "value") -> Any:
    """One value: a Python literal (or ``true``/``false``/``none``); with ``bare`` a plain word
    that is not a literal stays a string. Anything else is refused."""
    value = text.strip()
    if value.lower() in _WORDS:
        return _WORDS[value.lower()]
    try:
        return ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        if bare and _BARE.match(value):
            return value
    raise OptvizError(f"{key}={value!r} is not a literal: write a number, a quoted string, True/False, "
                      "or a tuple such as (0.9, 0.99); nothing is evaluated")


def split_call(text: str, *, bare: bool = False) -> tuple[str, dict[str, Any]]:
    """``"name(a=1, b=(2, 3))"`` → ("name", {"a": 1, "b": (2, 3)}); a plain ``"name"`` → ("name", {}).

    Only keyword arguments; each value as :func:`literal` reads it.
    """
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise OptvizError(f"optimizer spec of {len(text)} characters is too long (at most {MAX_LENGTH})")
    if "(" not in text:
        if ")" in text:
            raise OptvizError(f"unbalanced ')' in {text!r}")
        return text, {}
    name, _, rest = text.partition("(")
    name = name.strip()
    if not rest.endswith(")") or not name:
        raise OptvizError(f"{text!r}: write NAME(key=value, ...), e.g. adam(beta1=0.8)")
    inner = rest[:-1].strip()
    split_list(rest[:-1])  # balanced brackets and quotes inside
    kwargs: dict[str, Any] = {}
    for item in split_list(inner) if inner else []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not _KEY.match(key) or not value.strip():
            raise OptvizError(f"{name}: {item!r} is not key=value (only keyword arguments, e.g. {name}(lr=0.01))")
        if key in kwargs:
            raise OptvizError(f"{name}: {key} is given twice")
        kwargs[key] = literal(value, bare=bare, key=key)
    return name, kwargs


def format_call(name: str, kwargs: dict[str, Any]) -> str:
    """The canonical text of a spec: ``name(a=1, b=(2, 3))`` (``name`` when there are no arguments)."""
    if not kwargs:
        return name
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
