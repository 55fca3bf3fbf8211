"""Sweeps: many structures and settings, each with a few seeds, trained on this machine or a Dask
cluster, every finished run kept in an SQLite database.

    spec.py      the TOML spec: what to try, checked, expanded into runs
    runs.py      one run (structure, settings, data), its stable key, training it
    database.py  the results database (SQLite, WAL): one row per finished run
    local.py     runs in local worker processes (joblib)
    cluster.py   runs on a Dask distributed cluster
    runner.py    a sweep: skip what is done, run the rest, write each result as it lands
    report.py    mean and spread over seeds per point, the Pareto front
    pictures.py  the report's figures
    launch.py    Dask's own scheduler and workers started on this machine (tests, benchmarks, trying it out)
"""

from .database import ResultsDatabase, open_results
from .runner import SweepProgress, run_sweep
from .runs import DataChoice, Run, RunResult, Structure, execute_run
from .spec import SweepSpec, load_spec, parse_spec

__all__ = ["ResultsDatabase", "open_results", "SweepProgress", "run_sweep", "DataChoice", "Run", "RunResult",
           "Structure", "execute_run", "SweepSpec", "load_spec", "parse_spec"]
