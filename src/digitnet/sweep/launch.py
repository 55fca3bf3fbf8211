"""Dask's own `dask scheduler` and `dask worker` commands started as child processes on this machine,
on loopback: a real cluster for trying `--scheduler` out, for the tests and for the benchmarks.
(On several machines, start the same commands by hand: see the README's "Bigger experiments".)"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from ..errors import DigitnetError
from .cluster import connect


def free_port() -> int:
    """A TCP port on loopback that nothing listens on (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dask_command(*args) -> list[str]:
    """`dask ARGS...` with this Python, as a user types `dask scheduler` / `dask worker`."""
    return [sys.executable, "-m", "dask", *args]


class LoopbackCluster:
    """A scheduler and `workers` single-threaded workers on 127.0.0.1; `client` is connected.

    pin_cores: run worker i on core i only (taskset), so each worker has one core of its own.
    nanny=False: each worker is the process itself, so killing `workers[i]` kills that worker (a
    nanny would start a new one). The children find digitnet by the parent's sys.path.
    """

    def __init__(self, workers: int, pin_cores: bool = False, nanny: bool = False, start_seconds: float = 90):
        port = free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        source = str(Path(__file__).resolve().parents[2])  # this digitnet's src/ (or site-packages)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, *filter(None, [os.environ.get("PYTHONPATH")])])}
        quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        self.scheduler = subprocess.Popen(dask_command("scheduler", "--host", "127.0.0.1", "--port", str(port),
                                                       "--no-dashboard"), **quiet)
        taskset = shutil.which("taskset") if pin_cores else None
        self.workers = []
        for i in range(workers):
            command = dask_command("worker", self.address, "--nthreads", "1", "--no-dashboard",
                                   "--host", "127.0.0.1", *([] if nanny else ["--no-nanny"]))
            if taskset:
                command = [taskset, "-c", str(i % (os.cpu_count() or 1)), *command]
            self.workers.append(subprocess.Popen(command, **quiet))
        self.client = None
        deadline = time.monotonic() + start_seconds
        try:
            while self.client is None:
                try:
                    self.client = connect(self.address, 5)
                except DigitnetError:
                    if time.monotonic() > deadline or self.scheduler.poll() is not None:
                        raise
                    time.sleep(0.2)
            self.client.wait_for_workers(workers, timeout=start_seconds)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        processes = [*self.workers, self.scheduler]
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
