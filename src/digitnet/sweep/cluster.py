"""Running a sweep's runs on a Dask distributed cluster: Dask's own `dask scheduler` and
`dask worker` processes, on one machine or many.

Every run is one Dask task, trained by `runs.execute_run` on a worker (which has digitnet, and so
the shipped MNIST, installed). When a worker dies mid-run, the scheduler gives its task to another
worker (up to `distributed.scheduler.allowed-failures` times, 3 by default); the client, here, is
the only one that writes results, as each task's result arrives, so a run lands once however often
it was started.
"""

from __future__ import annotations

import re
from typing import Iterator, Sequence

from ..errors import DigitnetError
from .runs import Run, RunResult, execute_run

ADDRESS = re.compile(r"^(tcp|tls|ws|wss|inproc)://[^\s/]+(:\d+)?$")
CONNECT_SECONDS = 10


def check_address(address: str) -> None:
    if not isinstance(address, str) or not ADDRESS.match(address):
        raise DigitnetError(f"scheduler {address!r}: give the address `dask scheduler` prints, "
                            "like tcp://192.168.1.10:8786")


def connect(address: str, connect_seconds: float = CONNECT_SECONDS):
    """A distributed.Client for the scheduler at `address`; DigitnetError if it does not answer."""
    check_address(address)
    try:
        from distributed import Client
    except ImportError:
        raise DigitnetError("running on a Dask cluster needs Dask: pip install 'digitnet[dask]'") from None
    try:
        return Client(address, timeout=f"{connect_seconds}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        problem = " ".join(str(error).split()) or type(error).__name__
        if len(problem) > 160:
            problem = problem[:157] + "..."
        raise DigitnetError(f"scheduler {address}: did not answer within {connect_seconds:g} s ({problem}); "
                            "is `dask scheduler` running there, and the port open?") from None


def worker_count(client) -> int:
    return len(client.scheduler_info().get("workers", {}))


def run_on_cluster(runs: Sequence[Run], client, keep_network: bool = False) -> Iterator[tuple[int, RunResult]]:
    """Submit every run to the cluster `client` is connected to (the first ones first) and yield
    (index into runs, result) as each finishes. Stopping the iteration cancels what is left."""
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    futures = {}
    for index, run in enumerate(runs):
        # Keyed by the run's key, so the dashboard names each run; priority keeps the given order.
        future = client.submit(execute_run, run, None, keep_network, key=f"digitnet-run-{run.key}-{index}",
                               pure=False, priority=len(runs) - index)
        futures[future] = index
    try:
        for future in as_completed(futures, loop=client.loop):
            try:
                result = future.result()
            except KilledWorker:
                raise DigitnetError(f"run {runs[futures[future]].key}: the workers that trained it died "
                                    "each time (out of memory?); the finished runs are kept") from None
            yield futures[future], result
            future.release()
    finally:
        client.cancel(list(futures))
