"""Learning: backpropagation over whole mini-batches, and the training loop.

Costs are in costs.py, optimizers (how to step downhill) in optimizers.py, each epoch's shuffled and
shifted images in shuffling.py, and the arrangement of backprop that `train` runs, for speed, in
fast_backprop.py (NumPy) and compiled_steps.py (the same steps compiled, where Numba is).

Backpropagation, in the glossary of network.py (batches are rows, `@` is matrix product):
    delta_L = dC/dz_L                                  the output layer's error   (batch, n_L)
    delta_l = (delta_{l+1} @ W_{l+1}) * f'(a_l)        one layer back             (batch, n_l)
    grad_weights[l] = delta_{l+1}.T @ a_l / batch      (n_{l+1}, n_l), same shape as weights[l]
    grad_biases[l]  = mean of delta_{l+1} over the batch
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from .costs import COSTS, cost, one_hot, output_delta  # noqa: F401 (public here too)
from .augment import Distortion
from .data import Dataset
from .errors import DigitnetError
from .evaluation import predicted_digits
from .interruptible import result_of
from .fast_backprop import Workspace
from .network import ACTIVATIONS, PREDICTION_BLOCK_ROWS, Network
from .optimizers import OPTIMIZERS, SGD, Adam, Momentum, Optimizer, make_optimizer  # noqa: F401 (public here too)
from .shuffling import Shuffler, shift_images  # noqa: F401 (public here too)
from .validation import InstanceOf, Integer, OneOf, Real, check_memory, check_parameters, parameter_count

SCHEDULES = ("cosine", "constant")
# An epoch's inputs are made this many rows at a time (rounded to whole mini-batches; see Shuffler):
# 2,048 rows of 785 float32 are 6.4 MB, two buffers of them instead of two float copies of the epoch.
CHUNK_ROWS = 2048


# Each setting's rule (validation.py checks them, types first, every failure a DigitnetError).
SETTINGS_CONSTRAINTS = {
    "epochs": Integer(1, 1_000_000),
    "batch_size": Integer(1),
    "learning_rate": Real(0, exclusive_low=True),
    "schedule": OneOf(SCHEDULES),
    "optimizer": OneOf(OPTIMIZERS),
    "momentum": Real(0, 1, exclusive_high=True),
    "cost": OneOf(tuple(COSTS)),
    "weight_decay": Real(0),
    "shift_pixels": Integer(0, 4),
    "seed": Integer(0, 2**32 - 1),  # as numpy's legacy seeds and scikit-learn's random_state
    "distortion": InstanceOf(Distortion, "an augment.Distortion", allow_none=True),
    "label_smoothing": Real(0, 0.5, exclusive_high=True),
    "deskew": InstanceOf(bool, "true or false"),
}


def seen_by(dataset: Dataset, settings: "TrainingSettings") -> Dataset:
    """The data as a network trained with `settings` sees it, in training and after: deskewed if
    settings.deskew (evaluate it on this, not on `dataset`)."""
    return dataset.deskewed if settings.deskew else dataset


def learning_rate_at(settings: "TrainingSettings", epoch: int) -> float:
    """Step size for `epoch` (1-based). Cosine annealing takes big steps early and small ones at
    the end, which settles into a better minimum than a constant rate."""
    if settings.schedule == "constant":
        return settings.learning_rate
    return settings.learning_rate * 0.5 * (1 + math.cos(math.pi * (epoch - 1) / settings.epochs))


def backprop(network: Network, inputs: np.ndarray, targets: np.ndarray, cost_name: str = "cross_entropy"):
    """Gradient of the mean cost over a mini-batch with respect to every weight and bias.

    inputs `(batch, 784)`, targets `(batch, 10)` -> (grad_weights, grad_biases, loss, outputs);
    grad_weights[l] has the shape of weights[l], grad_biases[l] of biases[l].
    """
    trace = network.trace(inputs)
    batch = len(inputs)
    outputs = trace.outputs
    loss = cost(network, outputs, trace.weighted_sums[-1], targets, cost_name)
    derivative = ACTIVATIONS[network.activation][1]
    grad_weights = [np.empty(0)] * len(network.weights)
    grad_biases = [np.empty(0)] * len(network.biases)
    delta = output_delta(network, outputs, targets, cost_name)  # (batch, n_L)
    for l in reversed(range(len(network.weights))):
        grad_weights[l] = delta.T @ trace.activations[l] / batch  # (n_out, n_in)
        grad_biases[l] = delta.mean(axis=0)  # (n_out,)
        if l > 0:
            delta = (delta @ network.weights[l]) * derivative(trace.activations[l])  # (batch, n_in)
    return grad_weights, grad_biases, loss, outputs


@dataclass(frozen=True)
class TrainingSettings:
    """How to learn. The defaults train the video's 784-16-16-10 network (softmax output) past 96%
    test accuracy; they were chosen by trying learning rates, weight decay and shifts (see README)."""

    epochs: int = 30               # passes over the 50,000 training images
    batch_size: int = 32           # examples per gradient step (mini-batch)
    learning_rate: float = 0.005   # step size eta at the start
    schedule: str = "cosine"       # "cosine": eta glides to ~0 by the last epoch; "constant"
    optimizer: str = "adam"        # "adam", "momentum" (SGD with momentum) or "sgd"
    momentum: float = 0.9          # mu, for optimizer="momentum"
    cost: str = "cross_entropy"    # "cross_entropy" or "quadratic" (the video's)
    weight_decay: float = 1e-4     # L2: adds weight_decay * w to each weight's gradient
    shift_pixels: int = 1          # each epoch, move every training image by up to this many pixels
    seed: int = 0                  # shuffling order (and the network's initial weights in the CLI)
    distortion: Distortion | None = None  # each epoch, distort every image afresh (augment.py); None: off
    label_smoothing: float = 0.0   # targets 1 - s for the right digit, s/9 for each other (cross_entropy)
    deskew: bool = False           # train (and then use) on deskewed digits (deskew.py)

    def __post_init__(self):
        # asdict would turn the distortion into a dict: each field's own value is checked
        check_parameters("training settings", SETTINGS_CONSTRAINTS,
                         **{name: getattr(self, name) for name in self.__dataclass_fields__})

    def to_dict(self) -> dict:
        """The settings as JSON-able values; distortion, label smoothing and deskewing only when used,
        so a model trained without them records what it did before they existed."""
        settings = asdict(self)
        for key, off in (("distortion", None), ("label_smoothing", 0.0), ("deskew", False)):
            if settings[key] == off:
                del settings[key]
        return settings


@dataclass
class EpochRecord:
    """One line of training history. train_accuracy counts the epoch's own mini-batch guesses."""

    epoch: int
    loss: float
    train_accuracy: float
    validation_accuracy: float
    seconds: float


@dataclass
class TrainingResult:
    history: list[EpochRecord] = field(default_factory=list)
    best_epoch: int = 0          # the epoch whose weights the network now holds (best validation accuracy)
    interrupted: bool = False    # stopped by Ctrl-C

    def history_dicts(self) -> list[dict]:
        return [asdict(record) for record in self.history]


def check_fits(network: Network, dataset: Dataset, settings: TrainingSettings) -> None:
    """Raise DigitnetError if `network` and `settings` cannot train on `dataset` (train checks this
    first; the CLI too, before it prints anything)."""
    if network.layer_sizes[0] != dataset.train_pixels.shape[1] or network.layer_sizes[-1] != 10:
        raise DigitnetError(f"network {network.layer_sizes} does not fit the data: inputs must be "
                            f"{dataset.train_pixels.shape[1]} and outputs 10")
    if settings.batch_size > len(dataset.train_pixels):
        raise DigitnetError(f"batch_size {settings.batch_size} is more than the {len(dataset.train_pixels):,} "
                            "training images; choose a smaller one (32 is the default)")


def check_training_memory(layer_sizes, settings: TrainingSettings, n_train: int = 50_000) -> None:
    """Refuse, before any weight is drawn, a network whose training cannot fit in this machine's memory.

    Per weight or bias: the initial draw in float64 (8 bytes), the network's float32 copy, and the
    workspace's parameters, gradient, best-epoch copy and the optimizer's 3 arrays (Adam's m, v and
    scratch), 4 bytes each; per image of a mini-batch or of a validation block, every layer's
    activations and deltas, twice (the shuffler's two sets) in float32."""
    parameters = parameter_count(layer_sizes)
    neurons = sum(int(n) for n in layer_sizes)
    rows = settings.batch_size + 2 * PREDICTION_BLOCK_ROWS  # a mini-batch and the two validation halves
    needed = parameters * (8 + 4 * 7) + rows * neurons * 4 * 4 + n_train * 10 * 4 * 4
    check_memory(needed, f"training a {'-'.join(map(str, layer_sizes))} network")


def train(network: Network, dataset: Dataset, settings: TrainingSettings = TrainingSettings(),
          on_batch: Callable[[int, int, int, float], None] | None = None,
          on_epoch: Callable[[EpochRecord], None] | None = None,
          progress_every: int = 50, targets: np.ndarray | None = None) -> TrainingResult:
    """Stochastic gradient descent on `dataset`'s training images, in place on `network`.

    With settings.deskew the images are deskewed first (`seen_by`). Each epoch shuffles once
    (seeded) and makes its inputs a chunk at a time from the uint8 images, moving each image by up to `shift_pixels` on the way (see `Shuffler`); it walks them in mini-batches with
    `fast_backprop.Workspace`. After each epoch the validation accuracy is measured; at the end (or on
    Ctrl-C) the network is left holding the weights of its best validation epoch.
    `on_batch(epoch, done, total, loss)` is called every `progress_every` batches, `on_epoch(record)`
    after each epoch; the network holds the current weights when they are called. Training stops
    with DigitnetError once the cost is no longer finite (checked at every `progress_every` batches
    and at the end of each epoch). `targets` `(n, 10)`, if given, are the desired outputs of the
    training images in place of their labels' one-hot rows (e.g. a teacher network's softened
    outputs: distillation, see benchmarks/distillation.py); the cost reported is then against them.
    """
    check_fits(network, dataset, settings)
    dataset = seen_by(dataset, settings)
    rng = np.random.default_rng(settings.seed)
    dtype = network.dtype
    pixels = dataset.train_pixels  # uint8 (n, 784): each chunk of an epoch is made float as it is needed
    soft_targets = targets is not None
    if soft_targets:
        if np.shape(targets) != (len(dataset.train_labels), network.layer_sizes[-1]):
            raise DigitnetError(f"targets of shape {np.shape(targets)}: need one row of "
                                f"{network.layer_sizes[-1]} per training image, ({len(dataset.train_labels)}, "
                                f"{network.layer_sizes[-1]})")
        targets = np.ascontiguousarray(targets, dtype=dtype)
    else:
        targets = one_hot(dataset.train_labels, dtype=dtype)
    if settings.label_smoothing:  # a softer target: the network is not pushed to infinite confidence
        targets = targets * dtype.type(1 - settings.label_smoothing * 10 / 9) + dtype.type(settings.label_smoothing / 9)
    labels = dataset.train_labels.astype(np.int64)
    n, size = len(pixels), settings.batch_size
    # Per image of the epoch: the last layer's z and a, and (softmax) each row's max z and sum of e^(z - max).
    weighted_sums, outputs = np.empty_like(targets), np.empty_like(targets)
    row_max, row_sum = np.empty((n, 1), dtype), np.empty((n, 1), dtype)
    workspace = Workspace(network, settings.cost)
    optimizer = make_optimizer(settings.optimizer, [workspace.parameters], settings.learning_rate, settings.momentum)
    result = TrainingResult()
    best_accuracy, best_parameters = -1.0, workspace.parameters.copy()
    batches_per_chunk = max(1, CHUNK_ROWS // size)
    shuffler = Shuffler(pixels, targets, labels, rng, settings.shift_pixels, settings.distortion, dtype,
                        chunk_rows=batches_per_chunk * size)
    total_steps = -(-n // size)
    run = workspace.runner(optimizer, settings.weight_decay, size, shuffler.buffers, shuffler.chunk_rows,
                           shuffler.targets, weighted_sums, outputs, row_max, row_sum)
    # one-hot targets: the cost from the right digit's z alone (else cost() against the given targets)
    log_softmax_cost = settings.cost == "cross_entropy" and network.output == "softmax" and not soft_targets

    def cost_of_rows(start: int, stop: int, epoch: int) -> float:
        """Summed cost of the epoch's images start..stop, from what the forward passes stored; stops
        training that diverged."""
        shuffled_targets, shuffled_labels = shuffler.targets, shuffler.labels
        if log_softmax_cost:  # -log a_y = log(sum e^(z - max)) + max - z_y, image by image
            right_digit_z = weighted_sums[start:stop][np.arange(stop - start), shuffled_labels[start:stop]]
            per_image = np.log(row_sum[start:stop, 0]) + (row_max[start:stop, 0] - right_digit_z)
            loss = float(per_image.sum(dtype=np.float64))
        else:
            loss = cost(network, outputs[start:stop], weighted_sums[start:stop], shuffled_targets[start:stop],
                        settings.cost) * (stop - start)
        if not np.isfinite(loss):
            raise DigitnetError(f"training diverged at epoch {epoch} (the cost became {loss}); "
                                f"try a smaller learning rate than {settings.learning_rate}")
        return loss

    helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digitnet-validate")

    def count_correct(pixels: np.ndarray, labels: np.ndarray) -> int:
        with np.errstate(over="ignore", invalid="ignore"):  # as train's loop: errstate is per thread
            return int((predicted_digits(network, pixels) == labels).sum())

    def validation_accuracy() -> float:
        """network.accuracy on the validation images, the rows from about the middle on counted by the
        helper thread: numpy lets go of the GIL in the big products, so the two parts run on two
        cores (one pass over 10,000 images would take ~6% of an epoch). The split falls on a block
        boundary of predict_digit (PREDICTION_BLOCK_ROWS), so both parts are computed block by block
        exactly as one call computes them: the same count as network.accuracy, on any BLAS kernel."""
        images, labels = dataset.validation_pixels, dataset.validation_labels  # uint8, made float per block
        split = min(round(len(images) / 2 / PREDICTION_BLOCK_ROWS) * PREDICTION_BLOCK_ROWS, len(images))
        second_part = helper.submit(count_correct, images[split:], labels[split:])
        return (count_correct(images[:split], labels[:split]) + result_of(second_part)) / max(len(images), 1)

    try:
        # One BLAS thread: a mini-batch's matrix products are too small to gain from a second thread,
        # yet big enough that OpenBLAS hands them half each, so its second thread would be woken at
        # every step and spin in between, taking a core (or a hyperthread's sibling) for nothing.
        # (The validation pass gets its second core from the helper thread instead.) The results do
        # not depend on it. And once weights overflow, numpy would warn at every step until the
        # divergence check stops training.
        with threadpool_limits(limits=1, user_api="blas"), np.errstate(over="ignore", invalid="ignore"):
            for epoch in range(1, settings.epochs + 1):
                started = time.perf_counter()
                optimizer.learning_rate = learning_rate_at(settings, epoch)
                shuffler.start_epoch()
                total_loss, counted, done_steps = 0.0, 0, 0  # cost summed over the first `counted` images
                for chunk in range(shuffler.chunks):
                    shuffler.chunk(chunk)  # wait until its inputs are made
                    first, last = chunk * batches_per_chunk, min((chunk + 1) * batches_per_chunk, total_steps)
                    while first < last:  # up to the next multiple of progress_every batches, or the chunk's end
                        take = min(progress_every - done_steps % progress_every, last - first)
                        run(chunk, first, take)
                        first, done_steps = first + take, done_steps + take
                        if done_steps % progress_every == 0:  # every `progress_every` batches
                            done = min(done_steps * size, n)
                            total_loss, counted = total_loss + cost_of_rows(counted, done, epoch), done
                            if on_batch is not None:
                                workspace.copy_to(network)
                                on_batch(epoch, done_steps, total_steps, total_loss / done)
                total_loss += cost_of_rows(counted, n, epoch)
                workspace.copy_to(network)
                accuracy = validation_accuracy()
                correct = int((outputs.argmax(axis=1) == shuffler.labels).sum())  # vs the labels
                record = EpochRecord(epoch, total_loss / n, correct / n, accuracy,
                                     time.perf_counter() - started)
                result.history.append(record)
                if accuracy > best_accuracy:
                    best_accuracy, result.best_epoch = accuracy, epoch
                    best_parameters = workspace.parameters.copy()
                if on_epoch is not None:
                    on_epoch(record)
    except KeyboardInterrupt:
        result.interrupted = True
    finally:
        shuffler.close()
        helper.shutdown(wait=True, cancel_futures=True)
    if result.history:
        workspace.parameters[...] = best_parameters
    workspace.copy_to(network)
    return result


def training_metadata(settings: TrainingSettings, result: TrainingResult, dataset: Dataset) -> dict:
    """What a model file records about its training (JSON-able)."""
    return {
        "training": settings.to_dict(),
        "history": result.history_dicts(),
        "best_epoch": result.best_epoch,
        "interrupted": result.interrupted,
        "training_seconds": round(sum(r.seconds for r in result.history), 3),
        "data_checksum": dataset.checksum,
        "data_source": dataset.source,
        "validation_accuracy": result.history[result.best_epoch - 1].validation_accuracy if result.history else None,
    }
