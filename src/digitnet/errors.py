"""The one exception type for user mistakes (bad files, bad images, bad arguments)."""


class DigitnetError(Exception):
    """A mistake the user can fix: shown as one line by the CLI and as a 4xx by the server.

    The message says what was wrong, where (the file), and what to do.
    """
