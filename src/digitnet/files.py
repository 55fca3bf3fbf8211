"""Reading files with a bound on their size, and writing them so that nothing is ever half-written
(a temp file beside the target, then a rename). Every operating-system error on the way (a full
disk, a read-only folder, no permission, a name too long, a pipe with no writer) comes out as a
one-line DigitnetError naming the file."""

from __future__ import annotations

import contextlib
import errno
import os
import select
import signal
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

from .errors import DigitnetError, printable

# How long a read waits for a named pipe (FIFO) to get a writer before saying so: `digitnet info
# <(cat model)` has its writer at once, a FIFO nobody writes to would otherwise block forever.
FIFO_WAIT_SECONDS = 10.0
TEMP_SUFFIX = ".tmp"
TEMP_RANDOM = 8  # characters tempfile adds between the prefix and the suffix

# What to tell the user for the OS errors a write or read meets most, beyond the system's words.
HINTS = {
    errno.ENOSPC: "the disk is full; free some space or choose another place",
    errno.EDQUOT: "the disk quota is used up; free some space or choose another place",
    errno.EFBIG: "the file is larger than this system or process allows; choose another place",
    errno.EROFS: "the folder is on a read-only file system; choose another place",
    errno.EACCES: "no permission; choose a folder you can write to",
    errno.EPERM: "not permitted; choose a folder you can write to",
    errno.ENAMETOOLONG: "the name is too long for this file system; choose a shorter one",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EIO: "the device reported an input/output error",
}


def describe_os_error(error: OSError, writing: bool = True) -> str:
    """`error` in words: the system's own (No space left on device) and, for a write, what to do."""
    reason = error.strerror or type(error).__name__
    hint = HINTS.get(error.errno) if writing else None
    return f"{reason}; {hint}" if hint else reason


def check_writable(path: str | Path, what: str = "file", size: int = 0) -> Path:
    """Refuse, before any work is done, a target that cannot be written: a folder, a device or pipe
    (as root, replacing /dev/null with a regular file would break the system), a missing, unwritable
    or unenterable folder, a name too long for the file system, or (`size`: the bytes about to be
    written) a file larger than the process's file-size limit (`ulimit -f`) or the free space."""
    path = Path(path)
    shown = printable(path)
    try:
        status = path.stat()
    except FileNotFoundError:
        status = None
    except OSError as error:
        raise DigitnetError(f"{shown}: cannot write the {what} ({describe_os_error(error)})") from None
    if status is not None and stat.S_ISDIR(status.st_mode):
        raise DigitnetError(f"{shown}: is a folder; give a file name for the {what}")
    if status is not None and not stat.S_ISREG(status.st_mode):
        raise DigitnetError(f"{shown}: is not a regular file (a device, pipe or socket); digitnet writes "
                            f"the {what} only to a regular file, so give a file name")
    folder = path.parent
    try:
        folder_is_a_folder = stat.S_ISDIR(folder.stat().st_mode)
    except FileNotFoundError:
        folder_is_a_folder = False
    except OSError as error:  # e.g. a folder on the way that cannot be entered (no x permission)
        raise DigitnetError(f"{shown}: cannot enter folder {printable(folder)} ({describe_os_error(error)})") from None
    if not folder_is_a_folder:
        raise DigitnetError(f"{shown}: folder {printable(folder)} does not exist; create it or choose another path")
    if not os.access(folder, os.W_OK | os.X_OK):
        reason = "is on a read-only file system" if _read_only(folder) else "is not writable (no permission)"
        raise DigitnetError(f"{shown}: folder {printable(folder)} {reason}; choose another place for the {what}")
    limit = _name_max(folder)
    if len(os.fsencode(path.name)) > limit:
        raise DigitnetError(f"{shown}: the name is longer than the {limit} bytes this file system allows; "
                            "choose a shorter one")
    if size:
        _check_room(path, folder, size, what)
    return path


def _check_room(path: Path, folder: Path, size: int, what: str) -> None:
    shown = printable(path)
    try:
        import resource
        soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
        if soft != resource.RLIM_INFINITY and size > soft:
            raise DigitnetError(f"{shown}: the {what} will be about {size:,} bytes and this process may write "
                                f"files of at most {soft:,} (ulimit -f); raise the limit")
    except ImportError:
        pass
    try:
        free = os.statvfs(folder)
    except OSError:
        return
    if size > free.f_bavail * free.f_frsize:
        raise DigitnetError(f"{shown}: the {what} will be about {size:,} bytes and {printable(folder)} has "
                            f"{free.f_bavail * free.f_frsize:,} free; free some space or choose another place")


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _temp_prefix(path: Path) -> str:
    """`.NAME.` for the temp file, NAME shortened so the temp name (prefix, tempfile's random
    characters, .tmp) still fits the file system's name limit when the target's name just does."""
    room = _name_max(path.parent) - 2 - TEMP_RANDOM - len(TEMP_SUFFIX)
    name = os.fsencode(path.name)[:max(room, 1)]
    return "." + os.fsdecode(name) + "."  # a cut UTF-8 character stays the same bytes (surrogateescape)


def write_atomically(path: str | Path, write: Callable[[BinaryIO], None], what: str = "file") -> Path:
    """Call `write(file)` on a temp file in `path`'s folder, then rename it to `path`.

    Whatever stops the write (a full disk, Ctrl-C, SIGTERM, a killed process), the file that was at
    `path` stays whole: os.replace swaps the names in one step, and the temp file is removed (not
    after SIGKILL). The new file gets the old one's mode, or 0644 (mkstemp would leave it private).
    `what` names the file in errors ("model", "picture"). An OS error is a DigitnetError.
    """
    path = check_writable(path, what)
    temp_name = None
    try:
        with _signals_held():  # the temp file and its name come into being together (see _signals_held)
            fd, temp_name = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=TEMP_SUFFIX, dir=path.parent)
        os.chmod(temp_name, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        with os.fdopen(fd, "wb") as temp:
            write(temp)
            temp.flush()
            os.fsync(temp.fileno())
        with _signals_held():  # renamed and forgotten together: a signal after is a finished save
            os.replace(temp_name, path)
            temp_name = None
    except OSError as error:
        raise DigitnetError(f"{printable(path)}: cannot write the {what} ({describe_os_error(error)})") from None
    finally:
        if temp_name is not None:
            try:
                os.unlink(temp_name)
            except OSError:
                pass
    return path


@contextlib.contextmanager
def _signals_held():
    """Hold Ctrl-C, SIGTERM and SIGHUP back for a few statements, then let them in.

    The CLI turns those signals into exceptions (console.signals_as_interrupts), raised between any
    two bytecodes: one arriving after mkstemp has made the temp file but before its name is stored
    would leave the file behind (seen in a CI run of the SIGTERM-during-save test). Held, the
    signal is delivered when the block ends, where the cleanup knows the name."""
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _wait_for_a_writer(fd: int, path) -> None:
    """A named pipe nobody has opened for writing reads as empty at once (non-blocking) or blocks
    forever (blocking): wait up to FIFO_WAIT_SECONDS for data or the end of it, then say so."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    if not poller.poll(FIFO_WAIT_SECONDS * 1000):
        raise DigitnetError(f"{printable(path)}: a named pipe that nothing writes to (waited "
                            f"{FIFO_WAIT_SECONDS:g} s); start the program that writes it first, or give a file")
    os.set_blocking(fd, True)


def _a(what: str) -> str:
    return f"{'an' if what[:1] in 'aeiou' else 'a'} {what}"


def read_bytes(path: str | Path, limit: int, what: str = "file") -> bytes:
    """All bytes of `path`, if there are at most `limit`: a file, or a pipe (such as bash's <(...))
    read to its end. Anything longer, a huge file or an endless device like /dev/zero, raises
    DigitnetError after at most `limit` + 1 bytes instead of filling memory. `what` names the file
    in errors ("model file"). A named pipe with no writer is an error after FIFO_WAIT_SECONDS."""
    shown = printable(path)
    try:
        # Non-blocking, so that opening a FIFO with no writer returns instead of blocking forever.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with open(fd, "rb", closefd=True) as file:
            status = os.fstat(fd)
            if stat.S_ISDIR(status.st_mode):
                raise IsADirectoryError(errno.EISDIR, "Is a directory")
            if stat.S_ISFIFO(status.st_mode):
                _wait_for_a_writer(fd, path)
            else:
                os.set_blocking(fd, True)
            if stat.S_ISREG(status.st_mode):
                if status.st_size > limit:
                    raise DigitnetError(f"{shown}: {status.st_size:,} bytes is too large for {_a(what)} (limit {limit:,})")
                data = file.read()
            else:  # a pipe or a device: its length shows only by reading, a block at a time
                blocks, length = [], 0
                while length <= limit and (block := file.read(min(1 << 20, limit + 1 - length))):
                    blocks.append(block)
                    length += len(block)
                data = b"".join(blocks)
    except FileNotFoundError:
        raise DigitnetError(f"{shown}: no such {what}") from None
    except IsADirectoryError:
        raise DigitnetError(f"{shown}: is a folder, not {_a(what)}") from None
    except OSError as error:
        raise DigitnetError(f"{shown}: cannot read ({describe_os_error(error, writing=False)})") from None
    if len(data) > limit:
        raise DigitnetError(f"{shown}: more than {limit:,} bytes is too large for {_a(what)}")
    return data
