"""The console script: Ctrl-C at any moment, even while the command line is still being
imported, ends with one line and exit code 130, never a traceback."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from optviz import interrupts

        interrupts.install()
        from optviz.cli import main as command_line

        command_line()
    except KeyboardInterrupt:
        print("optviz: interrupted", file=sys.stderr)
        from optviz.exits import leave_now

        leave_now(130)
