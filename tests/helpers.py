"""Helpers several test modules share: tiny IDX sets written as real files, and the real `digitnet`
command run as a user runs it. (Imported as `from helpers import ...`: pytest puts tests/ on the path.)"""

from __future__ import annotations

import gzip
import os
import struct
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import digitnet as digitnet_package


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """`array` as an IDX file's bytes (big-endian, the header giving its type and shape)."""
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx_set(folder, n_train=60, n_test=20, seed=0, gzipped=True):
    """A tiny MNIST-shaped IDX set, written as real files."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        for kind, array in (("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)):
            data = idx_bytes(array)
            path = folder / f"{prefix}-{kind}{'.gz' if gzipped else ''}"
            path.write_bytes(gzip.compress(data) if gzipped else data)
    return folder


def digitnet_env(**extra: str) -> dict[str, str]:
    """The environment for a `python -m digitnet.cli` child that finds this digitnet, even when
    PYTHONPATH is relative (PYTHONPATH=src) and the child runs in another folder."""
    source = str(Path(digitnet_package.__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])),
            "PYTHONWARNINGS": "ignore", **extra}


@dataclass
class Finished:
    """A finished `digitnet` run: what it printed, its exit status, and its peak memory."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    peak_rss_bytes: int  # the command's own peak resident memory (with measure_memory), not the test's


# Runs `python -m digitnet.cli ARGS` and, at exit, writes the process's peak resident memory (VmHWM,
# which exec resets, unlike getrusage's ru_maxrss, which a child forked from a big test process
# inherits) to the file named by DIGITNET_TEST_PEAK_FILE.
MEASURING_LAUNCHER = """
import atexit, os, runpy, sys
def record():
    with open('/proc/self/status') as status, open(os.environ['DIGITNET_TEST_PEAK_FILE'], 'w') as out:
        out.write(next(line.split()[1] for line in status if line.startswith('VmHWM:')))
atexit.register(record)
sys.argv[0] = 'digitnet'
runpy.run_module('digitnet.cli', run_name='__main__', alter_sys=True)
"""


def run_digitnet(*args, cwd=None, env: dict[str, str] | None = None, stdin=None, stdout=None,
                 preexec_fn=None, timeout: float = 300, measure_memory: bool = False) -> Finished:
    """Run the real command and wait for it. `timeout` only guards against a hang (the run is killed
    and the test fails); it is not a measure of speed. stdout, if given, is a file to write to
    instead of a pipe (e.g. /dev/full). With `measure_memory`, peak_rss_bytes is the command's peak
    resident memory (Linux), else 0."""
    env = dict(env or digitnet_env())
    peak_file = None
    if measure_memory:
        peak_file = tempfile.NamedTemporaryFile(prefix="digitnet-peak-", delete=False)
        peak_file.close()
        env["DIGITNET_TEST_PEAK_FILE"] = peak_file.name
        command = [sys.executable, "-c", MEASURING_LAUNCHER, *map(str, args)]
    else:
        command = [sys.executable, "-m", "digitnet.cli", *map(str, args)]
    process = subprocess.Popen(command, cwd=cwd, env=env, stdin=stdin or subprocess.DEVNULL,
                               stdout=stdout if stdout is not None else subprocess.PIPE, stderr=subprocess.PIPE,
                               preexec_fn=preexec_fn)
    output: dict[str, bytes] = {}

    def drain(name, pipe):
        output[name] = pipe.read()

    readers = [threading.Thread(target=drain, args=(name, pipe), daemon=True)
               for name, pipe in (("stdout", process.stdout), ("stderr", process.stderr)) if pipe is not None]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(timeout)
    if any(reader.is_alive() for reader in readers):
        process.kill()
        process.wait()
        raise AssertionError(f"digitnet {' '.join(map(str, args))} still running after {timeout} s: it hangs")
    process.wait()
    peak = 0
    if peak_file is not None:
        text = Path(peak_file.name).read_text()
        os.unlink(peak_file.name)
        peak = int(text) * 1024 if text else 0
    decoded = {name: data.decode("utf-8", "replace") for name, data in output.items()}
    return Finished([str(a) for a in args], process.returncode, decoded.get("stdout", ""), decoded.get("stderr", ""), peak)
