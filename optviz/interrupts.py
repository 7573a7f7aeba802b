"""Ctrl-C that Python swallowed is still honoured.

Python raises KeyboardInterrupt wherever the main thread happens to be when SIGINT
arrives. Inside a weak-reference callback or a finalizer (an import's module lock, a
garbage-collected object) the exception cannot propagate: Python prints "Exception
ignored" and carries on, and a run of a million steps would go on to the end. The
console script installs :func:`handler`, which also remembers the request in
:data:`PENDING`; the long loops (the steps of a run, the batches of a training epoch)
look at it and raise the KeyboardInterrupt again. Nothing is installed at import: in
a notebook or a program that imports optviz, ``PENDING`` stays empty.
"""

from __future__ import annotations

import signal

PENDING: list[bool] = []  # non-empty once Ctrl-C was pressed under the console script


def handler(signum, frame) -> None:
    """SIGINT: remember the request, then interrupt where the program is."""
    PENDING.append(True)
    raise KeyboardInterrupt


def install() -> None:
    """Use :func:`handler` for SIGINT, unless SIGINT is ignored (a background job keeps ignoring it)."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, handler)


def check() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed, even if that interrupt was swallowed."""
    if PENDING:
        raise KeyboardInterrupt
