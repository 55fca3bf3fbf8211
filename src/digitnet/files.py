"""Writing files so that nothing is ever half-written: a temp file beside the target, then a rename."""

from __future__ import annotations

import os
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
