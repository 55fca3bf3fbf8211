"""Every user mistake and every operating-system error is one line, as classes: every command that
writes a file under every way a write fails, every command that reads a model under every way a
read fails, every command printing to a full device or an ASCII-only terminal, every command given
a model it cannot use. One line naming the file, no traceback, nothing half-written, nothing lost.

Writes run the real command as a subprocess, in real conditions: a full tmpfs, a read-only mount
(both need `mount`, so skipped where it is not allowed), a file-size limit (`ulimit -f`), a folder
the user may not write or enter (as root: without the capabilities that override permissions), a
name too long, a
device, a FIFO.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitnet import cli, files
from digitnet.data import load_dataset
from digitnet.modelfile import default_model_path, load_model, save_model
from digitnet.network import Network
from helpers import digitnet_env, run_digitnet, write_idx_set

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux mounts, users and devices")


def one_error_line(stderr: str, *fragments: str) -> str:
    """The one `digitnet ...: error: ...` line of stderr (progress lines may come before it)."""
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, stderr
    other = [line for line in stderr.splitlines() if line not in errors]
    assert all(line.startswith(("training ", "on ", "best epoch", "epoch ")) for line in other), stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


# ---- a shared workspace: a tiny IDX set, an image, a matplotlib font cache -----------------------------


@pytest.fixture(scope="module")
def workspace():
    root = Path(tempfile.mkdtemp(prefix="digitnet-one-line-"))
    os.chmod(root, 0o755)
    data = write_idx_set(root / "idx", n_train=10_100, n_test=10, gzipped=False)
    seven = (load_dataset().test_images[0].reshape(28, 28) * 255).astype(np.uint8)
    Image.fromarray(seven).save(root / "seven.png")
    mpl = root / "mpl"  # matplotlib's font cache, built once, so no child has to write one
    mpl.mkdir()
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env={**os.environ, "MPLCONFIGDIR": str(mpl)},
                   check=True, timeout=120)
    for path in [root, *root.rglob("*")]:
        os.chmod(path, 0o777 if path.is_dir() else 0o666)
    yield {"root": root, "data": data, "seven": root / "seven.png", "mpl": mpl}
    shutil.rmtree(root, ignore_errors=True)


# Each command that writes a file, with the file (TARGET) it writes.
WRITERS = {
    "train": ["train", "--layers", "4", "--epochs", "1", "--quiet", "--data", "{data}", "--out", "TARGET"],
    "plot weights": ["plot", "weights", "--out", "TARGET"],
    "dream": ["dream", "3", "--steps", "3", "--out", "TARGET"],
    "explain": ["explain", "{seven}", "--out", "TARGET"],
}
SUFFIX = {"train": ".safetensors"}


def _mount(folder: Path, options: str) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    return done.returncode == 0


def _fill(folder: Path) -> None:
    """Write a file until the file system is full."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:  # ENOSPC: full
        pass
    finally:
        os.close(fd)


def _without_root_overrides():
    """Make the child subject to file permissions even as root: drop CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH from the capability bounding set before exec (root's new program then never
    gets them), as a container without those capabilities runs."""
    if os.getuid() == 0:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _with_file_size_limit():
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))


class Place:
    """Where a command's output goes, and how the command is run there."""

    def __init__(self, folder: Path, name: str, preexec=None, mounted: bool = False):
        self.folder, self.name, self.preexec, self.mounted = folder, name, preexec, mounted

    @property
    def target(self) -> Path:
        return self.folder / self.name


PLACES = ["full disk", "file-size limit", "read-only mount", "no permission", "folder not enterable",
          "name too long", "a device", "a FIFO", "a folder"]


@pytest.fixture
def place(request, workspace):
    kind, writer = request.param
    base = Path(tempfile.mkdtemp(dir=workspace["root"]))
    os.chmod(base, 0o777)
    name = "out" + SUFFIX.get(writer, ".png")
    made = None
    if kind == "full disk":
        if not _mount(base / "disk", "size=256k,mode=1777"):
            pytest.skip("cannot mount a tmpfs here")
        _fill(base / "disk")
        made = Place(base / "disk", name, mounted=True)
    elif kind == "read-only mount":
        if not _mount(base / "disk", "size=256k,ro"):
            pytest.skip("cannot mount a tmpfs here")
        made = Place(base / "disk", name, mounted=True)
    elif kind == "file-size limit":
        made = Place(base, name, preexec=_with_file_size_limit)
    elif kind == "no permission":
        os.chmod(base, 0o555)
        made = Place(base, name, preexec=_without_root_overrides)
    elif kind == "folder not enterable":
        locked = base / "locked"
        locked.mkdir()
        (locked / "inside").mkdir()
        os.chmod(locked, 0o666)  # readable, but without x nothing inside can be reached
        made = Place(locked / "inside", name, preexec=_without_root_overrides)
    elif kind == "name too long":
        made = Place(base, "n" * 256 + name)
    elif kind == "a device":
        made = Place(Path("/dev"), "null")
    elif kind == "a FIFO":
        os.mkfifo(base / name)
        made = Place(base, name)
    elif kind == "a folder":
        (base / name).mkdir()
        made = Place(base, name)
    made.kind, made.writer = kind, writer
    yield made
    if made.mounted:
        subprocess.run(["umount", str(made.folder)], check=False)
    for path in [base, *base.rglob("*")]:
        try:
            os.chmod(path, 0o777)
        except OSError:
            pass
    shutil.rmtree(base, ignore_errors=True)


CASES = [(kind, writer) for writer in WRITERS for kind in PLACES]


@pytest.mark.parametrize("place", CASES, indirect=True, ids=[f"{w} | {k}" for k, w in CASES])
def test_every_writer_under_every_write_failure_says_one_line_and_loses_nothing(place, workspace):
    writer = place.writer
    args = [place.target if a == "TARGET" else a.format(**workspace) for a in WRITERS[writer]]
    before = os.lstat(place.target) if os.path.lexists(place.target) else None
    cwd = Path(tempfile.mkdtemp(dir=workspace["root"]))
    os.chmod(cwd, 0o777)
    result = run_digitnet(*args, cwd=cwd, preexec_fn=place.preexec, timeout=240,
                          env=digitnet_env(MPLCONFIGDIR=str(workspace["mpl"])))
    line = one_error_line(result.stderr)
    assert result.returncode == 1, result.stderr
    assert str(place.target)[:60] in line or str(place.folder)[:60] in line
    # Nothing half-written: no temp file, and what was at the target is what it was (a device stays one).
    if os.access(place.folder, os.R_OK | os.X_OK):
        assert not [p for p in os.listdir(place.folder) if p.endswith(".tmp")]
    if before is not None:
        after = os.lstat(place.target)
        assert (stat.S_IFMT(after.st_mode), after.st_ino) == (stat.S_IFMT(before.st_mode), before.st_ino)
    if writer == "train" and "trained model is safe in" in line:
        rescued = Path(line.split("trained model is safe in ")[1].split(": move it")[0])
        assert load_model(rescued).network.layer_sizes == (784, 4, 10)  # the run is not lost
    shutil.rmtree(cwd, ignore_errors=True)


def test_a_disk_that_fills_during_training_keeps_the_run_in_the_working_folder(workspace):
    base = Path(tempfile.mkdtemp(dir=workspace["root"]))
    disk, cwd = base / "disk", base / "work"
    cwd.mkdir()
    if not _mount(disk, "size=48m"):
        pytest.skip("cannot mount a tmpfs here")
    try:
        target = disk / "model.safetensors"
        # Wide layers: each epoch takes long enough (~1 s here) to stop the process between two.
        process = subprocess.Popen(
            [sys.executable, "-m", "digitnet.cli", "train", "--layers", "1500", "1500", "--epochs", "3", "--data",
             str(workspace["data"]), "--out", str(target)],
            cwd=cwd, env=digitnet_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = []
        for line in iter(process.stderr.readline, ""):  # --out was checked (room enough), epoch 1 is done
            lines.append(line)
            if "epoch   1/3" in line:
                break
        process.send_signal(signal.SIGSTOP)
        _fill(disk)  # now the disk fills, two epochs before the save at the end
        assert not target.exists()
        process.send_signal(signal.SIGCONT)
        _, rest = process.communicate(timeout=240)
        stderr = "".join(lines) + rest
        line = one_error_line(stderr, str(target), "No space left on device", "trained model is safe in")
        assert process.returncode == 1
        rescued = Path(line.split("trained model is safe in ")[1].split(": move it")[0])
        assert rescued.parent == cwd and load_model(rescued).metadata["best_epoch"] in (1, 2, 3)
        assert sorted(os.listdir(disk)) == ["filler"]  # no temp file left on the full disk
    finally:
        subprocess.run(["umount", str(disk)], check=False)
        shutil.rmtree(base, ignore_errors=True)
