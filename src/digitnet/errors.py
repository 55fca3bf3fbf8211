"""The one exception type for user mistakes (bad files, bad images, bad arguments), and how text
that came from outside (file names, a model's metadata) is made safe to print."""


class DigitnetError(Exception):
    """A mistake the user can fix: shown as one line by the CLI and as a 4xx by the server.

    The message says what was wrong, where (the file), and what to do.
    """


def printable(text) -> str:
    """`text` with every character a terminal would act on instead of show written as an escape:
    control characters (newline, ESC of an escape sequence, ...), Unicode's format characters (the
    bidirectional overrides of "Trojan Source"), line and paragraph separators, and the surrogates
    Python uses for undecodable bytes in file names. So a file name or a model's metadata can
    neither forge a line ("test accuracy 100%") nor recolour or retitle the terminal."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(character if character.isprintable() else _escape(character) for character in text)


def _escape(character: str) -> str:
    code = ord(character)
    if character in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[character]
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
