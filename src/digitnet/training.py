"""Learning: costs, backpropagation over whole mini-batches, optimizers, the training loop.

Backpropagation, in the glossary of network.py (batches are rows, `@` is matrix product):
    delta_L = dC/dz_L                                  the output layer's error   (batch, n_L)
    delta_l = (delta_{l+1} @ W_{l+1}) * f'(a_l)        one layer back             (batch, n_l)
    grad_weights[l] = delta_{l+1}.T @ a_l / batch      (n_{l+1}, n_l), same shape as weights[l]
    grad_biases[l]  = mean of delta_{l+1} over the batch
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

from .data import Dataset
from .errors import DigitnetError
from .network import ACTIVATIONS, Network

COSTS = ("cross_entropy", "quadratic")
OPTIMIZERS = ("adam", "momentum", "sgd")
SCHEDULES = ("cosine", "constant")


def learning_rate_at(settings: "TrainingSettings", epoch: int) -> float:
    """Step size for `epoch` (1-based). Cosine annealing takes big steps early and small ones at
    the end, which settles into a better minimum than a constant rate."""
    if settings.schedule == "constant":
        return settings.learning_rate
    return settings.learning_rate * 0.5 * (1 + math.cos(math.pi * (epoch - 1) / settings.epochs))


def one_hot(labels: np.ndarray, n_classes: int = 10, dtype=np.float32) -> np.ndarray:
    """Labels `(n,)` -> desired outputs `(n, n_classes)`: 1 for the right digit, 0 elsewhere."""
    targets = np.zeros((len(labels), n_classes), dtype=dtype)
    targets[np.arange(len(labels)), labels] = 1
    return targets


def cost(network: Network, outputs: np.ndarray, last_weighted_sums: np.ndarray,
         targets: np.ndarray, cost_name: str) -> float:
    """Mean cost over the batch.

    quadratic:      C = 1/2 sum_j (a_j - y_j)^2                (the video's "cost of one example")
    cross_entropy:  softmax output: C = -sum_j y_j log a_j     (log-likelihood)
                    sigmoid output: C = -sum_j [y_j log a_j + (1 - y_j) log(1 - a_j)]
    Logs are computed from z, never from a rounded a, so the value stays finite.
    """
    z = last_weighted_sums
    if cost_name == "quadratic":
        per_example = 0.5 * ((outputs - targets) ** 2).sum(axis=1)
    elif network.output == "softmax":
        shifted = z - z.max(axis=1, keepdims=True)
        log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        per_example = -(targets * log_probabilities).sum(axis=1)
    else:
        # -[y log σ(z) + (1-y) log(1-σ(z))] = log(1 + e^z) - y z
        per_example = (np.logaddexp(0, z) - targets * z).sum(axis=1)
    return float(per_example.mean())


def output_delta(network: Network, outputs: np.ndarray, targets: np.ndarray, cost_name: str) -> np.ndarray:
    """dC/dz for the last layer, `(batch, n_out)`, for each cost x output pair."""
    error = outputs - targets
    if cost_name == "cross_entropy":
        # Softmax + log-likelihood and sigmoid + cross-entropy both reduce to a - y: the cost's
        # curvature cancels the squish's, which is why cross-entropy learns fast from bad guesses.
        return error
    if network.output == "sigmoid":
        return error * outputs * (1 - outputs)
    # Quadratic through softmax: delta = J^T (a - y) with softmax Jacobian J = diag(a) - a a^T.
    return outputs * (error - (error * outputs).sum(axis=1, keepdims=True))


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


def shift_images(images: np.ndarray, rng: np.random.Generator, max_shift: int, side: int = 28) -> None:
    """Move each image `(n, 784)` in place by a random (dy, dx) in [-max_shift, max_shift], filling
    with background. A digit moved by a pixel is still the same digit: this teaches the network
    that, and keeps it from memorising exact pixel positions. One numpy slice per shift, not per image."""
    grid = images.reshape(len(images), side, side)
    shifts = rng.integers(-max_shift, max_shift + 1, size=(len(images), 2))
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            chosen = np.flatnonzero((shifts[:, 0] == dy) & (shifts[:, 1] == dx))
            if (dy == 0 and dx == 0) or not len(chosen):
                continue
            moved = np.zeros((len(chosen), side, side), images.dtype)
            moved[:, max(dy, 0):side + min(dy, 0), max(dx, 0):side + min(dx, 0)] = \
                grid[chosen, max(-dy, 0):side + min(-dy, 0), max(-dx, 0):side + min(-dx, 0)]
            grid[chosen] = moved


class Optimizer:
    """Updates parameters in place from their gradients. Subclasses define `update`."""

    def __init__(self, parameters: list[np.ndarray], learning_rate: float):
        self.parameters = parameters
        self.learning_rate = learning_rate

    def step(self, gradients: list[np.ndarray]):
        for index, (parameter, gradient) in enumerate(zip(self.parameters, gradients)):
            self.update(index, parameter, gradient)


class SGD(Optimizer):
    """Plain gradient descent: w <- w - eta * grad."""

    def update(self, index, parameter, gradient):
        parameter -= self.learning_rate * gradient


class Momentum(Optimizer):
    """Gradient descent with momentum: v <- mu v - eta grad ; w <- w + v (a ball rolling downhill)."""

    def __init__(self, parameters, learning_rate, momentum=0.9):
        super().__init__(parameters, learning_rate)
        self.momentum = momentum
        self.velocities = [np.zeros_like(p) for p in parameters]

    def update(self, index, parameter, gradient):
        velocity = self.velocities[index]
        velocity *= self.momentum
        velocity -= self.learning_rate * gradient
        parameter += velocity


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): momentum on the gradient, scaled by its running RMS, bias-corrected."""

    def __init__(self, parameters, learning_rate, beta1=0.9, beta2=0.999, epsilon=1e-8):
        super().__init__(parameters, learning_rate)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self.first_moments = [np.zeros_like(p) for p in parameters]
        self.second_moments = [np.zeros_like(p) for p in parameters]
        self.steps = 0

    def step(self, gradients):
        self.steps += 1
        # Fold the bias corrections into one step size, as the paper's efficient form does.
        self.step_size = self.learning_rate * math.sqrt(1 - self.beta2 ** self.steps) / (1 - self.beta1 ** self.steps)
        super().step(gradients)

    def update(self, index, parameter, gradient):
        m, v = self.first_moments[index], self.second_moments[index]
        m *= self.beta1
        m += (1 - self.beta1) * gradient
        v *= self.beta2
        v += (1 - self.beta2) * gradient * gradient
        parameter -= self.step_size * m / (np.sqrt(v) + self.epsilon)


def make_optimizer(name: str, parameters: list[np.ndarray], learning_rate: float, momentum: float) -> Optimizer:
    if name == "sgd":
        return SGD(parameters, learning_rate)
    if name == "momentum":
        return Momentum(parameters, learning_rate, momentum)
    return Adam(parameters, learning_rate)


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

    def __post_init__(self):
        checks = [
            (isinstance(self.epochs, int) and self.epochs >= 1, "epochs must be a whole number >= 1"),
            (isinstance(self.batch_size, int) and self.batch_size >= 1, "batch_size must be a whole number >= 1"),
            (np.isfinite(self.learning_rate) and self.learning_rate > 0, "learning_rate must be a positive number"),
            (self.schedule in SCHEDULES, f"schedule must be one of {', '.join(SCHEDULES)}"),
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}"),
            (0 <= self.momentum < 1, "momentum must be in [0, 1)"),
            (self.cost in COSTS, f"cost must be one of {', '.join(COSTS)}"),
            (np.isfinite(self.weight_decay) and self.weight_decay >= 0, "weight_decay must be >= 0"),
            (isinstance(self.shift_pixels, int) and 0 <= self.shift_pixels <= 4, "shift_pixels must be 0-4"),
        ]
        for ok, message in checks:
            if not ok:
                raise DigitnetError(f"training settings: {message}")

    def to_dict(self) -> dict:
        return asdict(self)


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


def train(network: Network, dataset: Dataset, settings: TrainingSettings = TrainingSettings(),
          on_batch: Callable[[int, int, int, float], None] | None = None,
          on_epoch: Callable[[EpochRecord], None] | None = None,
          progress_every: int = 50) -> TrainingResult:
    """Stochastic gradient descent on `dataset`'s training images, in place on `network`.

    Each epoch shuffles once (seeded) into one contiguous buffer and walks it in mini-batches.
    After each epoch the validation accuracy is measured; at the end (or on Ctrl-C) the network
    is left holding the weights of its best validation epoch. `on_batch(epoch, done, total, loss)`
    is called every `progress_every` batches, `on_epoch(record)` after each epoch.
    """
    if network.layer_sizes[0] != dataset.train_images.shape[1] or network.layer_sizes[-1] != 10:
        raise DigitnetError(f"network {network.layer_sizes} does not fit the data: inputs must be "
                            f"{dataset.train_images.shape[1]} and outputs 10")
    rng = np.random.default_rng(settings.seed)
    dtype = network.dtype
    images = np.ascontiguousarray(dataset.train_images, dtype=dtype)
    targets = one_hot(dataset.train_labels, dtype=dtype)
    labels = dataset.train_labels.astype(np.int64)
    n = len(images)
    batches = range(0, n, settings.batch_size)
    shuffled_images, shuffled_targets = np.empty_like(images), np.empty_like(targets)
    shuffled_labels = np.empty_like(labels)
    parameters = network.weights + network.biases
    optimizer = make_optimizer(settings.optimizer, parameters, settings.learning_rate, settings.momentum)
    result = TrainingResult()
    best_accuracy, best_parameters = -1.0, [p.copy() for p in parameters]
    try:
        for epoch in range(1, settings.epochs + 1):
            started = time.perf_counter()
            optimizer.learning_rate = learning_rate_at(settings, epoch)
            order = rng.permutation(n)
            np.take(images, order, axis=0, out=shuffled_images)
            np.take(targets, order, axis=0, out=shuffled_targets)
            np.take(labels, order, out=shuffled_labels)
            if settings.shift_pixels:
                shift_images(shuffled_images, rng, settings.shift_pixels)
            total_loss, correct = 0.0, 0
            for index, start in enumerate(batches):
                stop = start + settings.batch_size
                grad_weights, grad_biases, loss, outputs = backprop(
                    network, shuffled_images[start:stop], shuffled_targets[start:stop], settings.cost)
                if not np.isfinite(loss):
                    raise DigitnetError(f"training diverged at epoch {epoch} (the cost became {loss}); "
                                        f"try a smaller learning rate than {settings.learning_rate}")
                if settings.weight_decay:
                    for g, w in zip(grad_weights, network.weights):
                        g += settings.weight_decay * w
                optimizer.step(grad_weights + grad_biases)
                total_loss += loss * len(outputs)
                correct += int((outputs.argmax(axis=1) == shuffled_labels[start:stop]).sum())
                if on_batch is not None and (index + 1) % progress_every == 0:
                    on_batch(epoch, index + 1, len(batches), total_loss / min(stop, n))
            validation_accuracy = network.accuracy(dataset.validation_images, dataset.validation_labels)
            record = EpochRecord(epoch, total_loss / n, correct / n, validation_accuracy,
                                 time.perf_counter() - started)
            result.history.append(record)
            if validation_accuracy > best_accuracy:
                best_accuracy, result.best_epoch = validation_accuracy, epoch
                best_parameters = [p.copy() for p in parameters]
            if on_epoch is not None:
                on_epoch(record)
    except KeyboardInterrupt:
        result.interrupted = True
    if result.history:
        for parameter, best in zip(parameters, best_parameters):
            parameter[...] = best
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
