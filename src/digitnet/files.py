"""Reading files with a bound on their size, and writing them so that nothing is ever half-written
(a temp file beside the target, then a rename)."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

from .errors import DigitnetError


def write_atomically(path: str | Path, write: Callable[[BinaryIO], None], what: str = "file") -> Path:
    """Call `write(file)` on a temp file in `path`'s folder, then rename it to `path`.

    Whatever stops the write (a full disk, Ctrl-C, a killed process), the file that was at `path`
    stays whole: os.replace swaps the names in one step. The new file gets the old one's mode, or
    0644 (mkstemp would leave it private). `what` names the file in errors ("model", "picture").
    """
    path = Path(path)
    if path.is_dir():
        raise DigitnetError(f"{path}: is a folder; give a file name for the {what}")
    folder = path.parent
    if not folder.is_dir():
        raise DigitnetError(f"{path}: folder {folder} does not exist; create it or choose another path")
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        os.chmod(temp_name, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        with os.fdopen(fd, "wb") as temp:
            write(temp)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path


def read_bytes(path: str | Path, limit: int, what: str = "file") -> bytes:
    """All bytes of `path`, if there are at most `limit`: a file, or a pipe (such as bash's <(...))
    read to its end. Anything longer, a huge file or an endless device like /dev/zero, raises
    DigitnetError after at most `limit` + 1 bytes instead of filling memory. `what` names the file
    in errors ("model file")."""
    try:
        with open(path, "rb") as file:
            status = os.fstat(file.fileno())
            if stat.S_ISREG(status.st_mode):
                if status.st_size > limit:
                    raise DigitnetError(f"{path}: {status.st_size:,} bytes is too large for a {what} (limit {limit:,})")
                data = file.read()
            else:  # a pipe or a device: its length shows only by reading, a block at a time
                blocks, length = [], 0
                while length <= limit and (block := file.read(min(1 << 20, limit + 1 - length))):
                    blocks.append(block)
                    length += len(block)
                data = b"".join(blocks)
    except FileNotFoundError:
        raise DigitnetError(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise DigitnetError(f"{path}: is a folder, not a {what}") from None
    except OSError as error:
        raise DigitnetError(f"{path}: cannot read ({error.strerror})") from None
    if len(data) > limit:
        raise DigitnetError(f"{path}: more than {limit:,} bytes is too large for a {what}")
    return data
