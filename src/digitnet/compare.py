"""Is 16-16 the right structure? Train several networks on the same data, seed and settings, side by side.

The video picks two hidden layers of 16 neurons "somewhat arbitrarily". `compare` trains the video's
network next to a few alternatives, each in its own process (joblib's loky backend), and reports
what each one costs (weights and biases, seconds) and what it buys (test accuracy).
It is a preset of a sweep (digitnet.sweep): the same runs, run by the sweep's local runner, without
a database. Math and bookkeeping only: plots.plot_comparison draws the rows; the CLI prints
comparison_table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .data import Dataset, load_dataset
from .errors import DigitnetError
from .sweep.local import check_jobs as _check_jobs
from .sweep.local import run_locally
from .sweep.runner import cost_estimate
from .sweep.runs import Run, RunResult, Structure
from .training import TrainingSettings

__all__ = ["Structure", "DEFAULT_STRUCTURES", "DEFAULT_SETTINGS", "ComparisonRow", "preset_runs", "compare",
           "check_jobs", "comparison_table"]

DEFAULT_STRUCTURES = (
    Structure("16-16 sigmoid (the video's)", (16, 16), "sigmoid"),
    Structure("16-16 ReLU", (16, 16), "relu"),
    Structure("30 sigmoid (Nielsen's book)", (30,), "sigmoid"),
    Structure("100 sigmoid", (100,), "sigmoid"),
    Structure("300-100 ReLU (LeCun's table)", (300, 100), "relu"),  # ReLU: the modern choice at this size
)
# Same settings for every structure, so the only difference is the structure. Fewer epochs than a
# full `digitnet train`: enough for the ranking to show, short enough to wait for (~1 min on 2 cores).
DEFAULT_SETTINGS = TrainingSettings(epochs=10)


@dataclass
class ComparisonRow:
    """What one structure achieved. validation_curve: validation accuracy after each epoch."""

    name: str
    layer_sizes: tuple[int, ...]
    activation: str
    parameter_count: int           # weights and biases
    test_accuracy: float           # on the test images, with the best validation epoch's weights
    training_seconds: float        # sum of the epochs' times (not counting process start-up)
    validation_curve: list[float] = field(default_factory=list)
    best_epoch: int = 0

    @classmethod
    def from_result(cls, result: RunResult) -> "ComparisonRow":
        structure = result.run.structure
        return cls(name=structure.name, layer_sizes=structure.layer_sizes, activation=structure.activation,
                   parameter_count=result.parameter_count, test_accuracy=result.test_accuracy,
                   training_seconds=result.training_seconds, validation_curve=list(result.validation_curve),
                   best_epoch=result.best_epoch)


def preset_runs(structures=DEFAULT_STRUCTURES, settings: TrainingSettings = DEFAULT_SETTINGS) -> list[Run]:
    """The comparison as a sweep's runs: one per structure, all with the same settings and seed.
    (`examples/compare.toml` is the same sweep as a spec, for `digitnet sweep`.)"""
    return [Run(structure, settings, sweep="compare") for structure in structures]


def check_jobs(n_jobs: int) -> None:
    """joblib's n_jobs: a positive count, or -1 for every core."""
    try:
        _check_jobs(n_jobs)
    except DigitnetError as error:
        raise DigitnetError(f"compare: {error}") from None


def compare(structures=DEFAULT_STRUCTURES, settings: TrainingSettings = DEFAULT_SETTINGS,
            dataset: Dataset | str | Path | None = None, n_jobs: int = 2,
            on_done: Callable[[ComparisonRow], None] | None = None) -> list[ComparisonRow]:
    """Train every structure with the same settings and seed, `n_jobs` at a time in separate processes
    (the sweep's local runner).

    dataset: a Dataset (sent to the workers, large arrays memory-mapped by joblib), a folder of
    MNIST-like IDX files, or None: each worker then loads the shipped MNIST itself.
    on_done(row) is called in this process as each structure finishes (in finishing order), e.g. to
    tick a progress bar. Returns one ComparisonRow per structure, in the order of `structures`.
    The biggest networks are started first, so the slowest one does not start last.
    """
    structures = list(structures)
    if not structures or not all(isinstance(s, Structure) for s in structures):
        raise DigitnetError("compare: give one or more Structure(name, hidden_layers, activation)")
    check_jobs(n_jobs)
    if dataset is not None and not isinstance(dataset, Dataset):
        dataset = load_dataset(dataset)  # once, here: a bad folder fails before any training starts
    runs = preset_runs(structures, settings)
    order = sorted(range(len(runs)), key=lambda i: -cost_estimate(runs[i]))
    rows: list[ComparisonRow | None] = [None] * len(runs)
    for position, result in run_locally([runs[i] for i in order], n_jobs=n_jobs, dataset=dataset):
        row = ComparisonRow.from_result(result)
        rows[order[position]] = row
        if on_done is not None:
            on_done(row)
    return rows


def comparison_table(rows: list[ComparisonRow]) -> str:
    """The rows as a plain-text table (one line per structure, best test accuracy marked with *)."""
    best = max((row.test_accuracy for row in rows), default=None)
    header = f"  {'structure':<30} {'layers':<18} {'weights+biases':>14} {'test':>8} {'best val':>9} {'time':>8}"
    lines = [header, "  " + "-" * (len(header) - 2)]
    for row in rows:
        layers = "-".join(str(n) for n in row.layer_sizes)
        best_validation = max(row.validation_curve, default=float("nan"))
        mark = "*" if row.test_accuracy == best else " "
        lines.append(f"{mark} {row.name:<30} {layers:<18} {row.parameter_count:>14,} {row.test_accuracy:>8.2%} "
                     f"{best_validation:>9.2%} {row.training_seconds:>7.1f}s")
    return "\n".join(lines)
