"""Running a sweep: skip what the database already holds, train the rest (locally or on a Dask
cluster), and write each result the moment it arrives."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import DigitnetError
from ..modelfile import save_model
from .database import ResultsDatabase
from .runs import Run, RunInterrupted, RunResult, model_file_name
from .spec import SweepSpec


@dataclass
class SweepProgress:
    """Where a sweep stands; passed to on_result after each run is written."""

    total: int                     # runs the spec asks for
    finished: int                  # of them, in the database (including those skipped at the start)
    skipped: int                   # already in the database when this sweep started
    best: RunResult | None = None  # the best test accuracy this sweep trained so far
    latest: RunResult | None = None
    interrupted: bool = False
    new_results: list[RunResult] = field(default_factory=list)


def models_folder(db_path: str | Path) -> Path:
    """Where a sweep keeps its models: beside the database, `results.sqlite` -> `results.models/`."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.stem + ".models")


def cost_estimate(run: Run) -> float:
    """Roughly proportional to a run's training time: weights x epochs x images."""
    images = run.data.train_images or 50_000
    return run.structure.parameter_count * run.settings.epochs * images


def pending_runs(spec: SweepSpec, database: ResultsDatabase) -> list[Run]:
    """The spec's runs not yet in the database, the longest first (so the slowest is not started last)."""
    finished = database.finished_keys()
    return sorted((run for run in spec.runs if run.key not in finished), key=lambda run: -cost_estimate(run))


def run_sweep(spec: SweepSpec, database: ResultsDatabase, scheduler=None, n_jobs: int = 2,
              on_start: Callable[[SweepProgress], None] | None = None,
              on_result: Callable[[SweepProgress], None] | None = None) -> SweepProgress:
    """Train the spec's unfinished runs and write each one to `database` as it finishes.

    scheduler: a connected distributed.Client (cluster.connect) or None for local processes, n_jobs
    at a time. Ctrl-C (KeyboardInterrupt) stops the sweep and returns with progress.interrupted; every
    run written so far stays. With spec.save_models each run's model is written (atomically) before
    its row, so a row never names a missing file.
    """
    from .cluster import run_on_cluster
    from .local import check_jobs, run_locally

    if scheduler is None:
        check_jobs(n_jobs)
        for folder in {run.data.folder for run in spec.runs if run.data.folder is not None}:
            if not Path(folder).is_dir():  # here, before any worker starts (on a cluster, the workers' disks count)
                raise DigitnetError(f"{folder}: not a directory (the spec's [data] folder: give a folder with "
                                    "MNIST's four IDX files)")
    runs = pending_runs(spec, database)
    progress = SweepProgress(total=len(spec.runs), finished=len(spec.runs) - len(runs),
                             skipped=len(spec.runs) - len(runs))
    if on_start is not None:
        on_start(progress)
    if not runs:
        return progress
    folder = models_folder(database.path)
    if spec.save_models:
        try:
            folder.mkdir(exist_ok=True)
        except OSError as error:
            raise DigitnetError(f"{folder}: cannot make the models folder ({error.strerror})") from None
    if scheduler is None:
        results = run_locally(runs, n_jobs=n_jobs, keep_network=spec.save_models)
    else:
        results = run_on_cluster(runs, scheduler, keep_network=spec.save_models)
    try:
        for _, result in results:
            model_file = None
            if spec.save_models and result.network is not None:
                path = folder / model_file_name(result.run)
                save_model(path, result.network, model_metadata(result))
                model_file = str(path.relative_to(database.path.parent))
            result.network = None  # written; no need to keep every network in memory
            database.add(result, model_file)
            progress.finished += 1
            progress.latest = result
            progress.new_results.append(result)
            if progress.best is None or result.test_accuracy > progress.best.test_accuracy:
                progress.best = result
            if on_result is not None:
                on_result(progress)
    except (KeyboardInterrupt, RunInterrupted):
        progress.interrupted = True
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            try:
                close()  # stops the worker processes or cancels the cluster's tasks
            except (KeyboardInterrupt, RunInterrupted):
                progress.interrupted = True
    if progress.interrupted:
        # The stop may land between a row's commit and the count above: the database is the truth.
        saved = database.finished_keys()
        progress.finished = sum(run.key in saved for run in spec.runs)
    return progress


def model_metadata(result: RunResult) -> dict:
    """What a sweep's model file records (as `digitnet train` writes, plus the run's key)."""
    run = result.run
    return {"training": run.settings.to_dict(), "history": result.history, "best_epoch": result.best_epoch,
            "interrupted": False, "training_seconds": round(result.training_seconds, 3),
            "data_checksum": result.data_checksum, "data_source": run.data.describe(),
            "validation_accuracy": result.validation_accuracy, "test_accuracy": result.test_accuracy,
            "sweep": run.sweep, "run_key": run.key}
