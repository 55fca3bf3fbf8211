"""Talking to the terminal for the `digitnet` command, so that whatever happens the user reads one
line: argparse mistakes in one line with a pointer to --help, SIGTERM and SIGHUP as Ctrl-C, output
that survives an ASCII-only terminal, a closed pipe or a full device, and strict JSON lines.
(Imported by cli.py only; the library never prints.)"""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import sys
import threading
from contextlib import contextmanager

from .errors import DigitnetError, printable
from .files import describe_os_error


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a mistake is one line and a pointer to --help instead of ~11 lines of usage."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {printable(message)} (see `{self.prog} --help`)\n")


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the program is, like Ctrl-C: training keeps its best epoch and
    a save under way removes its temp file. `signal_number` says which."""

    def __init__(self, signal_number: int):
        super().__init__(signal.Signals(signal_number).name)
        self.signal_number = signal_number


@contextmanager
def signals_as_interrupts():
    """While a command runs, SIGTERM (kill, systemd, a closing IDE) and SIGHUP (a closed terminal)
    raise Terminated, as Ctrl-C raises KeyboardInterrupt, and SIGXFSZ is ignored; the previous
    handlers come back after."""
    received: list[int] = []  # the signals that came, for the exit status (128 + the signal)
    if sys.platform == "win32" or threading_is_not_main():
        yield received
        return

    def interrupt(signal_number, frame):
        received.append(signal_number)
        raise Terminated(signal_number)
    previous = {number: signal.signal(number, interrupt) for number in (signal.SIGTERM, signal.SIGHUP)}
    # A write past the file-size limit (ulimit -f) would kill the process with SIGXFSZ; ignored, the
    # write fails with EFBIG instead, which becomes one line naming the file.
    previous[signal.SIGXFSZ] = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def threading_is_not_main() -> bool:
    return threading.current_thread() is not threading.main_thread()


def values_that_look_like_flags(argv: list[str]) -> list[str]:
    """`--learning-rate -inf` as `--learning-rate=-inf`: argparse reads -1 as a number but -inf or
    -nan as an unknown flag; joined, the value reaches its check and gets its own message."""
    joined = []
    for token in argv:
        previous = joined[-1] if joined else ""
        if (token.lower().lstrip("-") in ("inf", "infinity", "nan") and token.startswith("-")
                and previous.startswith("--") and "=" not in previous and previous != "--"):
            joined[-1] = f"{previous}={token}"
        else:
            joined.append(token)
    return joined


def json_line(answer: dict) -> str:
    """One line of strict JSON (RFC 8259: no NaN or Infinity, which many parsers refuse); control
    characters and non-ASCII in file names come out as \\u escapes, so the line stays one line."""
    try:
        return json.dumps(answer, allow_nan=False)
    except ValueError:  # a number that is not finite: a model whose outputs overflow
        raise DigitnetError(f"{answer.get('file')}: the model's answer is not a finite number") from None


OUTPUT_ERRORS = {errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EDQUOT, errno.ENXIO}


def escaping_output() -> None:
    """Whatever the terminal's encoding (an ASCII-only one: LANG=C, PYTHONIOENCODING=ascii), print
    what it cannot show as backslash escapes instead of failing with UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):  # not a text file (e.g. replaced by a test)
            pass


def silence_stdout() -> None:
    """After stdout failed (a closed pipe, a full device), point it at /dev/null so that Python's own
    flush at exit does not print a second, unhandled error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def say_error(command: str, message: str, kind: str = "error: ") -> None:
    try:
        print(f"digitnet {command}: {kind}{printable(message)}", file=sys.stderr, flush=True)
    except OSError:  # stderr itself is gone: nothing more can be said
        pass



def run_command(command: str, function, args) -> int:
    """Run a command's function, turning whatever stops it into one line and an exit status:
    DigitnetError 1, SIGTERM/SIGHUP 128 + the signal, Ctrl-C 130, a closed pipe 0 (the reader has
    what it wanted), any other OS error 1 (naming its file, or the output), no memory 1."""
    try:
        with signals_as_interrupts() as received:
            code = function(args)
            sys.stdout.flush()  # a write error (a full device) shows here, while we can still say so
            # train stopped by SIGTERM/SIGHUP returns 130 like Ctrl-C, having kept its best epoch
            return 128 + received[-1] if code == 130 and received else code
    except DigitnetError as error:
        say_error(command, str(error))
        return 1
    except Terminated as stop:
        say_error(command, f"stopped by {signal.Signals(stop.signal_number).name}", kind="")
        return 128 + stop.signal_number
    except KeyboardInterrupt:
        say_error(command, "interrupted", kind="")
        return 130
    except BrokenPipeError:  # `digitnet predict *.png | head`: the reader has all it wanted
        silence_stdout()
        return 0
    except OSError as error:  # an OS error no module turned into a DigitnetError: still one line
        if error.filename is not None:
            where = f"{printable(error.filename)}: "
        elif error.errno in OUTPUT_ERRORS:  # print() to stdout failed: a full device, a dead terminal
            where = "cannot write the output: "
            silence_stdout()
        else:
            where = ""
        say_error(command, f"{where}{describe_os_error(error)}")
        return 1
    except MemoryError:
        say_error(command, "not enough memory for this; try a smaller model, data set or image")
        return 1
