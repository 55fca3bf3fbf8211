"""How a sweep scales: runs per minute for one fixed small sweep on a real Dask cluster (Dask's own
`dask scheduler` and `dask worker`, on loopback) with 1 worker and with 2 workers of one core each
(pinned with taskset), local processes for comparison, and the scheduler's overhead per run.

    python benchmarks/sweep_scaling.py                 # 24 runs, 1 epoch on 5,000 images each
    python benchmarks/sweep_scaling.py --repeats 3

Overhead per run is measured two ways: (a) in the sweep, wall time x workers minus the time the
workers spent computing (Dask's task stream), per run: everything that is not training (sending
the run, the result's way back, the database write, idle workers at the end); (b) a no-op task's
round trip through the scheduler, submitted and gathered one at a time. Every worker first trains
one warm-up run, so loading MNIST once per process is not counted. Never run by the test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # run from a checkout without installing

from digitnet.sweep import open_results, parse_spec, run_sweep  # noqa: E402
from digitnet.sweep.launch import LoopbackCluster  # noqa: E402

SPEC = {"name": "scaling", "seeds": 3, "data": {"train_images": 5000},
        "grid": {"hidden_layers": [[16], [32], [16, 16], [64]], "activation": ["sigmoid", "relu"], "epochs": 1}}
WARM_UP = {"name": "warm-up", "seeds": [100, 101], "data": {"train_images": 500}, "grid": {"hidden_layers": [[4]],
                                                                                           "epochs": 1}}


def noop() -> None:
    return None


def sweep_once(spec, scheduler=None, n_jobs=1) -> tuple[float, float]:
    """(wall seconds, seconds the workers computed: Dask's task stream, or nan locally) for one sweep
    into a fresh database."""
    with tempfile.TemporaryDirectory() as folder, open_results(Path(folder) / "r.sqlite") as database:
        if scheduler is None:
            started = time.perf_counter()
            run_sweep(spec, database, n_jobs=n_jobs)
            return time.perf_counter() - started, float("nan")
        from distributed import get_task_stream
        with get_task_stream(client=scheduler) as stream:
            started = time.perf_counter()
            run_sweep(spec, database, scheduler=scheduler)
            wall = time.perf_counter() - started
        compute = sum(part["stop"] - part["start"] for task in stream.data for part in task["startstops"]
                      if part["action"] == "compute")
        return wall, compute


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2, help="sweeps per setup; the median is reported")
    parser.add_argument("--noops", type=int, default=200, help="no-op tasks for the round-trip figure")
    args = parser.parse_args(argv)
    spec, warm_up = parse_spec(SPEC), parse_spec(WARM_UP)
    runs = len(spec.runs)
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 platform.processor())
    print(f"machine: {model}, {os.cpu_count()} cores (shared with other work: figures vary run to run)")
    print(f"sweep: {runs} runs ({len(spec.runs) // 3} points x 3 seeds), 1 epoch on 5,000 training images each, "
          f"median of {args.repeats}")
    print()
    print(f"{'where':<34} {'seconds':>8} {'runs/min':>9} {'overhead/run':>13}")
    figures = {}
    for jobs in (1, 2):
        sweep_once(warm_up, n_jobs=jobs)
        walls = [sweep_once(spec, n_jobs=jobs)[0] for _ in range(args.repeats)]
        wall = statistics.median(walls)
        print(f"{f'local processes (joblib), {jobs}':<34} {wall:>8.2f} {60 * runs / wall:>9.1f} {'-':>13}")
    for workers in (1, 2):
        with LoopbackCluster(workers=workers, pin_cores=True) as cluster:
            sweep_once(warm_up, scheduler=cluster.client)  # each worker loads MNIST once
            measured = [sweep_once(spec, scheduler=cluster.client) for _ in range(args.repeats)]
            wall, compute = sorted(measured)[len(measured) // 2]
            overhead = (wall * workers - compute) / runs
            figures[workers] = wall
            print(f"{f'Dask, {workers} worker(s) of one core':<34} {wall:>8.2f} {60 * runs / wall:>9.1f} "
                  f"{1000 * overhead:>10.1f} ms")
            if workers == 1:
                client = cluster.client
                client.submit(noop, pure=False).result()
                trips = []
                for _ in range(args.noops):
                    started = time.perf_counter()
                    client.submit(noop, pure=False).result()
                    trips.append(time.perf_counter() - started)
                round_trip = statistics.median(trips)
    print()
    print(f"scaling, 1 -> 2 Dask workers: {figures[1] / figures[2]:.2f}x the runs per minute")
    print(f"a no-op task's round trip through the scheduler: median {1000 * round_trip:.2f} ms "
          f"over {args.noops}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
