"""What every trainer of the comparison shares: the job's settings, the data as plain arrays, the
timing helpers and the machine's description."""

from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

THREADS = 2
LEARNING_RATE = 0.005  # digitnet's default, here constant for every trainer
BATCH_SIZE = 32
VIDEO_NETWORK = (784, 16, 16, 10)


def float_inputs(images: np.ndarray) -> np.ndarray:
    """Images as float32 rows `(n, 784)` in [0, 1], whether a Dataset holds them as float32 rows or,
    as it may, as uint8 (n, 784) or (n, 28, 28): every framework is fed the same floats."""
    rows = np.asarray(images).reshape(len(images), -1)
    if rows.dtype == np.uint8:
        return rows.astype(np.float32) / np.float32(255.0)
    return np.ascontiguousarray(rows, dtype=np.float32)


def as_arrays(dataset) -> dict[str, np.ndarray]:
    """A digitnet Dataset as the dict of float32 images and int64 labels the other trainers take."""
    arrays = {}
    for part in ("train", "test"):
        arrays[f"{part}_images"] = float_inputs(getattr(dataset, f"{part}_images"))
        arrays[f"{part}_labels"] = np.asarray(getattr(dataset, f"{part}_labels")).astype(np.int64)
    return arrays


def time_calls(call, min_seconds=0.5, repeats=7):
    """Median seconds per call, over `repeats` rounds of as many calls as fill ~min_seconds/repeats."""
    call()
    number, elapsed = 1, 0.0
    while elapsed < min_seconds / repeats:
        number *= 2
        started = time.perf_counter()
        for _ in range(number):
            call()
        elapsed = time.perf_counter() - started
    rounds = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(number):
            call()
        rounds.append((time.perf_counter() - started) / number)
    return statistics.median(rounds)


def median(runs, key):
    """The median over runs of run[key], each run's own list (of epochs) first reduced to its median."""
    return statistics.median(statistics.median(run[key]) if isinstance(run[key], list) else run[key] for run in runs)


def cpu_model() -> str:
    return next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")), platform.processor() or "unknown")


def machine_description() -> list[str]:
    """Markdown bullet lines: CPU, cores, versions of everything compared, threads, load."""
    from importlib.metadata import PackageNotFoundError, version

    from threadpoolctl import threadpool_info
    blas = ", ".join(sorted({f"{pool['internal_api']} {pool['version']}" for pool in threadpool_info()
                             if pool["user_api"] == "blas"}))

    def installed(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    packages = ", ".join(f"{name} {installed(name)}" for name in ("torch", "jax", "jaxlib", "optax", "scikit-learn"))
    return [f"- CPU: {cpu_model()}; {os.cpu_count()} logical cores, {len(os.sched_getaffinity(0))} usable",
            f"- Python {platform.python_version()}, numpy {np.__version__} ({blas}), {packages}",
            f"- threads: OMP/OPENBLAS/MKL_NUM_THREADS={THREADS}, torch.set_num_threads({THREADS}) in-process; "
            "JAX/XLA with its defaults",
            f"- load average when the run started: {os.getloadavg()[0]:.2f} (a shared machine: other work adds noise)"]
