"""Leaving the process at once after Ctrl-C, with the one line already printed."""

from __future__ import annotations

import os
import signal
import sys


def leave_now(code: int) -> None:
    """Flush stdout and stderr and end the process with ``code``, at once.

    After Ctrl-C the interpreter's own shutdown may still turn the exit into a death by
    SIGINT (a KeyboardInterrupt that a library caught along the way is remembered as
    unhandled) or meet a second Ctrl-C; every file optviz writes is complete or removed
    by then, so nothing is left to finalize.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
