"""Running a sweep's runs on this machine: one process per core (joblib's loky backend), as
`digitnet compare` always has. Each process loads the data once and trains run after run."""

from __future__ import annotations

from typing import Iterator, Sequence

from joblib import Parallel, delayed

from ..data import Dataset
from ..errors import DigitnetError
from .runs import Run, RunResult, execute_run


def check_jobs(n_jobs: int) -> None:
    """joblib's n_jobs: a positive count, or -1 for every core."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise DigitnetError(f"jobs must be >= 1 (or -1 for every core), not {n_jobs}")


def _numbered(index: int, run: Run, dataset: Dataset | None, keep_network: bool) -> tuple[int, RunResult]:
    return index, execute_run(run, dataset, keep_network)


def run_locally(runs: Sequence[Run], n_jobs: int = 2, dataset: Dataset | None = None,
                keep_network: bool = False) -> Iterator[tuple[int, RunResult]]:
    """Train `runs`, `n_jobs` at a time in worker processes, started in the order given; yields
    (index into runs, result) as each finishes. dataset: the data for every run instead of each
    run's own DataChoice (sent to the workers, its large arrays memory-mapped by joblib).

    Stopping the iteration (Ctrl-C in the caller) stops the workers: what they were training is lost,
    what was yielded is not.
    """
    check_jobs(n_jobs)
    jobs = (delayed(_numbered)(i, run, dataset, keep_network) for i, run in enumerate(runs))
    yield from Parallel(n_jobs=n_jobs, backend="loky", return_as="generator_unordered")(jobs)
