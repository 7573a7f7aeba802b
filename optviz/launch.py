"""The console script: Ctrl-C even while the command line is still being imported ends
with one line and exit code 130, never a traceback."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from optviz.cli import main as command_line
    except KeyboardInterrupt:
        print("optviz: interrupted", file=sys.stderr)
        sys.exit(130)
    command_line()
