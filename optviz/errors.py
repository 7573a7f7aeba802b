"""User-facing errors: the CLI prints the message on one line and exits with code 2."""


class OptvizError(Exception):
    """Bad input or an impossible request, with a message a user can act on."""


class Interrupted(Exception):
    """Ctrl-C after results were written: the CLI prints the message and exits 130."""
