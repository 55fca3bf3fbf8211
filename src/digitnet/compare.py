"""Is 16-16 the right structure? Train several networks on the same data, seed and settings, side by side.

The video picks two hidden layers of 16 neurons "somewhat arbitrarily". `compare` trains the video's
network next to a few alternatives, each in its own process (joblib's loky backend), and reports
what each one costs (weights and biases, seconds) and what it buys (test accuracy).
Math and bookkeeping only: plots.plot_comparison draws the rows; the CLI prints comparison_table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from joblib import Parallel, delayed

from .data import Dataset, load_dataset
from .errors import DigitnetError
from .evaluation import evaluate
from .network import ACTIVATIONS, OUTPUTS, Network
from .training import TrainingSettings, train


@dataclass(frozen=True)
class Structure:
    """One network structure to try: hidden layer sizes and squish (input 784 and output 10 are fixed)."""

    name: str                      # how tables and legends call it
    hidden_layers: tuple[int, ...]  # neurons per hidden layer; () for none
    activation: str = "sigmoid"    # the hidden layers' squish: "sigmoid", "relu" or "tanh"
    output: str = "softmax"        # the output layer: "softmax" (as `digitnet train` does) or "sigmoid"

    def __post_init__(self):
        if self.activation not in ACTIVATIONS or self.output not in OUTPUTS:
            raise DigitnetError(f"structure {self.name!r}: activation must be one of {', '.join(ACTIVATIONS)} "
                                f"and output one of {', '.join(OUTPUTS)}")
        if any(int(n) < 1 for n in self.hidden_layers):
            raise DigitnetError(f"structure {self.name!r}: every hidden layer needs at least one neuron")

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return (784, *(int(n) for n in self.hidden_layers), 10)

    @property
    def parameter_count(self) -> int:
        """Weights and biases: n_in * n_out + n_out per layer."""
        sizes = self.layer_sizes
        return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


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


def train_structure(structure: Structure, settings: TrainingSettings, dataset: Dataset | str | Path | None = None
                    ) -> ComparisonRow:
    """Train one structure from scratch (initial weights from settings.seed) and measure it.

    dataset: a Dataset, a folder of MNIST-like IDX files, or None for the shipped MNIST.
    """
    if not isinstance(dataset, Dataset):
        dataset = load_dataset(dataset)
    network = Network(structure.layer_sizes, structure.activation, structure.output, seed=settings.seed)
    result = train(network, dataset, settings)
    return ComparisonRow(
        name=structure.name, layer_sizes=structure.layer_sizes, activation=structure.activation,
        parameter_count=network.parameter_count,
        test_accuracy=evaluate(network, dataset.test_images, dataset.test_labels).accuracy,
        training_seconds=sum(record.seconds for record in result.history),
        validation_curve=[record.validation_accuracy for record in result.history],
        best_epoch=result.best_epoch)


def _train_numbered(index: int, structure: Structure, settings: TrainingSettings, dataset) -> tuple[int, ComparisonRow]:
    return index, train_structure(structure, settings, dataset)


def check_jobs(n_jobs: int) -> None:
    """joblib's n_jobs: a positive count, or -1 for every core."""
    if not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise DigitnetError(f"compare: jobs must be >= 1 (or -1 for every core), not {n_jobs}")


def compare(structures=DEFAULT_STRUCTURES, settings: TrainingSettings = DEFAULT_SETTINGS,
            dataset: Dataset | str | Path | None = None, n_jobs: int = 2,
            on_done: Callable[[ComparisonRow], None] | None = None) -> list[ComparisonRow]:
    """Train every structure with the same settings and seed, `n_jobs` at a time in separate processes.

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
    order = sorted(range(len(structures)), key=lambda i: -structures[i].parameter_count)
    jobs = (delayed(_train_numbered)(i, structures[i], settings, dataset) for i in order)
    rows: list[ComparisonRow | None] = [None] * len(structures)
    for index, row in Parallel(n_jobs=n_jobs, backend="loky", return_as="generator_unordered")(jobs):
        rows[index] = row
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
