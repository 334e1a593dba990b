"""The one exception users see as a clean one-line message (exit code 2)."""


class AstrozooError(Exception):
    """A user-facing error: the CLI prints its message on one line and exits with code 2."""
