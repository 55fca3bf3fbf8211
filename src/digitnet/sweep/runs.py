"""One run of a sweep: a structure, training settings and a choice of data; its stable key; training it.

A run is pure data (frozen dataclasses), so it can travel to a worker process or a Dask worker on
another machine and come back as a RunResult. Its key is a hash of everything that changes what
training computes (not of display names), so the same run asked for by two sweeps, or by the same
sweep started again, has the same key: that is what makes a sweep resumable and lets results land
exactly once.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from .. import __version__
from ..data import VALIDATION_SIZE, Dataset, load_dataset
from ..errors import DigitnetError
from ..evaluation import evaluate
from ..modelfile import MAX_LAYER_SIZE
from ..network import ACTIVATIONS, OUTPUTS, Network
from ..training import TrainingSettings, seen_by, train

SHIPPED_TRAINING_IMAGES = 60_000 - VALIDATION_SIZE  # the shipped MNIST's 50,000 images to learn from


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
        if any(isinstance(n, bool) or not isinstance(n, int) for n in self.hidden_layers):
            raise DigitnetError(f"structure {self.name!r}: hidden layer sizes must be whole numbers")
        if any(n < 1 for n in self.hidden_layers):
            raise DigitnetError(f"structure {self.name!r}: every hidden layer needs at least one neuron")
        if any(n > MAX_LAYER_SIZE for n in self.hidden_layers):
            raise DigitnetError(f"structure {self.name!r}: a hidden layer of more than {MAX_LAYER_SIZE:,} "
                                "neurons cannot be saved as a model")

    @classmethod
    def named(cls, hidden_layers, activation: str = "sigmoid", output: str = "softmax") -> "Structure":
        """A structure called by its sizes and squish, e.g. "16-16 sigmoid" or "none softmax"."""
        sizes = "-".join(str(n) for n in hidden_layers) or "no hidden"
        return cls(f"{sizes} {activation}", tuple(hidden_layers), activation, output)

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return (784, *(int(n) for n in self.hidden_layers), 10)

    @property
    def parameter_count(self) -> int:
        """Weights and biases: n_in * n_out + n_out per layer."""
        sizes = self.layer_sizes
        return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


@dataclass(frozen=True)
class DataChoice:
    """Which data a run learns from: a folder of MNIST-like IDX files (None: the shipped MNIST) and
    optionally only the first `train_images` of its training images (a quick run)."""

    folder: str | None = None
    train_images: int | None = None

    def describe(self) -> str:
        source = self.folder or "shipped MNIST"
        return source if self.train_images is None else f"{source}, first {self.train_images:,} training images"


@lru_cache(maxsize=2)
def _loaded(folder: str | None) -> Dataset:
    # Once per process: a worker trains many runs on the same data, and loading (decompressing and
    # checking the SHA-256 of 55 MB) costs more than a quick run's training.
    return load_dataset(folder)


def load_choice(choice: DataChoice) -> Dataset:
    """The Dataset a DataChoice names (the training images cut to `train_images` if set)."""
    dataset = _loaded(choice.folder)
    if choice.train_images is None:
        return dataset
    return dataset.subset(train=choice.train_images)


@dataclass(frozen=True)
class Run:
    """One training run: train `structure` with `settings` (settings.seed also seeds the initial
    weights) on `data`. `sweep` names the sweep that asked for it (not part of the key)."""

    structure: Structure
    settings: TrainingSettings
    data: DataChoice = DataChoice()
    sweep: str = ""

    @property
    def key(self) -> str:
        """16 hex digits of SHA-256 over the canonical JSON of what the run computes."""
        return run_key(self)

    def point(self) -> dict:
        """The settings that define this run apart from its seed: runs differing only in the seed are
        the same point of the sweep, and the report shows their mean and spread."""
        settings = self.settings.to_dict()
        del settings["seed"]
        return {"hidden_layers": list(self.structure.hidden_layers), "activation": self.structure.activation,
                "output": self.structure.output, **settings,
                "data_folder": self.data.folder, "train_images": self.data.train_images}

    def to_dict(self) -> dict:
        return {"structure": {**asdict(self.structure), "hidden_layers": list(self.structure.hidden_layers)},
                "settings": self.settings.to_dict(), "data": asdict(self.data), "sweep": self.sweep}

    @classmethod
    def from_dict(cls, d: dict) -> "Run":
        structure = dict(d["structure"])
        structure["hidden_layers"] = tuple(structure["hidden_layers"])
        return cls(Structure(**structure), TrainingSettings(**d["settings"]), DataChoice(**d["data"]),
                   d.get("sweep", ""))


def run_key(run: Run) -> str:
    what = {**run.point(), "seed": run.settings.seed}
    canonical = json.dumps(what, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass
class RunResult:
    """What one run achieved, as the results database stores it.

    validation_curve: validation accuracy after each epoch; test_accuracy with the weights of the
    best validation epoch. network: the trained network, only when asked for (to save it).
    """

    run: Run
    parameter_count: int
    test_accuracy: float
    validation_accuracy: float
    best_epoch: int
    validation_curve: list[float]
    training_seconds: float        # sum of the epochs' times (not counting process start-up or data loading)
    data_checksum: str
    digitnet_version: str = __version__
    worker: str = ""               # host and process id that trained it
    history: list[dict] = field(default_factory=list)  # training.EpochRecord fields, one dict per epoch
    network: Network | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        return self.run.key


class RunInterrupted(Exception):
    """Training stopped by Ctrl-C: the run did not finish and must not be recorded."""


def execute_run(run: Run, dataset: Dataset | None = None, keep_network: bool = False) -> RunResult:
    """Train `run` from scratch and measure it. dataset: the data to use instead of loading
    run.data (compare passes its own); keep_network: return the trained network too."""
    if dataset is None:
        dataset = load_choice(run.data)
    structure, settings = run.structure, run.settings
    network = Network(structure.layer_sizes, structure.activation, structure.output, seed=settings.seed)
    result = train(network, dataset, settings)
    seen = seen_by(dataset, settings)  # deskewed, as in training, if settings.deskew
    if result.interrupted:
        raise RunInterrupted(f"run {run.key} interrupted")
    return RunResult(
        run=run, parameter_count=network.parameter_count,
        test_accuracy=evaluate(network, seen.test_pixels, seen.test_labels).accuracy,
        validation_accuracy=result.history[result.best_epoch - 1].validation_accuracy,
        best_epoch=result.best_epoch,
        validation_curve=[record.validation_accuracy for record in result.history],
        training_seconds=sum(record.seconds for record in result.history),
        data_checksum=dataset.checksum, worker=f"{socket.gethostname()}:{os.getpid()}",
        history=result.history_dicts(),
        network=network if keep_network else None)


def model_file_name(run: Run) -> Path:
    """Where a sweep saves a run's model, relative to its models folder."""
    return Path(f"{run.key}.safetensors")
