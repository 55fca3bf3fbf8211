"""Learning: costs, backpropagation over whole mini-batches, the training loop.

Optimizers (how to step downhill) are in optimizers.py, each epoch's shuffled and shifted images in
shuffling.py.

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
from threadpoolctl import threadpool_limits

from .data import Dataset
from .errors import DigitnetError
from .network import _HALF, _ONE, ACTIVATIONS, ACTIVATIONS_INTO, OUTPUTS_INTO, Network, sigmoid_into
from .optimizers import OPTIMIZERS, SGD, Adam, Momentum, Optimizer, make_optimizer  # noqa: F401 (public here too)
from .shuffling import Shuffler, shift_images  # noqa: F401 (public here too)

COSTS = ("cross_entropy", "quadratic")
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


# The fast path. `backprop` above is the math as written; `_Workspace.backprop` is the same math
# arranged for speed, and `train` uses it. With the video's small layers a step costs ~1.6 MFLOP in
# its two large matrix products but ~50 numpy calls, each about a microsecond of overhead, so what
# costs is calling numpy and allocating arrays rather than arithmetic. The workspace therefore:
# - keeps every weight, then every bias, in one flat vector `parameters` (weights[l] and biases[l]
#   are views into it) and the gradient in another of the same layout, so the optimizer updates all
#   of them with a dozen numpy calls per step instead of a dozen per array;
# - gives every z, a, delta and f'(a) its own buffer, made once, written with `out=` (and the
#   squishes with network.py's in-place twins, ACTIVATIONS_INTO);
# - calls np.dot's C function (the same BLAS call as `@`, without `@`'s or np.dot's Python-level
#   overhead), and passes every `out` positionally;
# - makes, before the first epoch, one function of no arguments per mini-batch (`step_function`)
#   with every view, buffer and numpy function already looked up, and the optimizer likewise
#   (`Optimizer.step_function`), so the loop does little in Python besides the numpy calls;
# - takes the mean over the batch once, on the output layer's delta (delta / batch), which carries
#   through every later product; dividing by a power of two such as 32 is exact, so the gradients
#   then equal backprop's bit for bit (for other batch lengths, to float rounding);
# - writes the last layer's z and a (and for softmax each row's max z and sum of e^(z - max)) into
#   epoch-long arrays that `train` passes in, so the cost and the training accuracy are computed
#   from them once per progress report, not at every step; softmax with cross-entropy even needs
#   only log-softmax of the right digit, log(sum) + max - z_y, from what the softmax kept.
# Every other operation is the one backprop performs, in the same order, so the numbers are the
# same; tests/test_training.py checks this against backprop, the optimizers and a reference loop.


# np.dot's C function itself, without the __array_function__ dispatch wrapper in front of it (a third
# of a microsecond per call, eight calls per step; the arrays here are all plain ndarrays).
_dot = getattr(np.dot, "_implementation", np.dot)


class _Workspace:
    """The buffers and the fast `backprop` that `train` uses (see the comment above).

    `parameters` starts as a copy of the network's weights and biases; `copy_to(network)` writes
    them back. `gradient` receives d(mean cost)/d(parameters) with the same layout.
    """

    def __init__(self, network: Network, cost_name: str):
        self.network, self.cost_name, self.dtype = network, cost_name, network.dtype
        self.layer_sizes = network.layer_sizes
        shapes = [w.shape for w in network.weights] + [b.shape for b in network.biases]
        sizes = [math.prod(shape) for shape in shapes]
        ends = np.cumsum(sizes)
        self.weight_count = int(ends[len(network.weights) - 1])  # weights come first, then biases
        self.parameters = np.empty(int(ends[-1]), self.dtype)
        self.gradient = np.empty_like(self.parameters)
        views = [(start, stop, shape) for start, stop, shape in zip(ends - sizes, ends, shapes)]
        parameter_views = [self.parameters[start:stop].reshape(shape) for start, stop, shape in views]
        gradient_views = [self.gradient[start:stop].reshape(shape) for start, stop, shape in views]
        layers = len(network.weights)
        self.weights, self.biases = parameter_views[:layers], parameter_views[layers:]
        self.grad_weights, self.grad_biases = gradient_views[:layers], gradient_views[layers:]
        self.weights_transposed = [w.T for w in self.weights]  # (n_in, n_out) views, made once
        for mine, theirs in zip(parameter_views, network.weights + network.biases):
            mine[...] = theirs
        self.squish_into, self.derivative_into = ACTIVATIONS_INTO[network.activation]
        self.output_into = OUTPUTS_INTO[network.output]
        self.softmax_output = network.output == "softmax"
        self.weight_decay_scratch = np.empty(self.weight_count, self.dtype)
        self.buffers = {}  # batch length -> its buffers

    def copy_to(self, network: Network):
        """Write the current weights and biases into the network's own arrays (in place)."""
        for theirs, mine in zip(network.weights + network.biases, self.weights + self.biases):
            theirs[...] = mine

    def _buffers_for(self, rows: int):
        """Hidden layers' activations a, every layer's delta, f'(a), and the batch length."""
        if rows not in self.buffers:
            hidden = self.layer_sizes[1:-1]
            self.buffers[rows] = (
                [np.empty((rows, n), self.dtype) for n in hidden],                  # a_1 .. a_{L-1}
                [np.empty((rows, n), self.dtype) for n in self.layer_sizes[1:]],    # delta_1 .. delta_L
                [np.empty((rows, n), self.dtype) for n in hidden],                  # f'(a_1) .. f'(a_{L-1})
                np.array(rows, self.dtype),                                         # the batch length
            )
        return self.buffers[rows]

    def backprop(self, inputs, targets, weighted_sums, outputs, row_max, row_sum):
        """`backprop` for one mini-batch, into `self.gradient`.

        inputs `(batch, n_0)`, targets `(batch, n_L)`; the last layer's z and a are written into
        `weighted_sums` and `outputs`, both `(batch, n_L)`, and for a softmax output each row's max
        z and sum of e^(z - max) into `row_max` and `row_sum`, both `(batch, 1)`.
        """
        self.step_function(inputs, targets, weighted_sums, outputs, row_max, row_sum)()

    def step_function(self, inputs, targets, weighted_sums, outputs, row_max, row_sum):
        """`backprop(inputs, ...)` as a function of no arguments, with every view, buffer and numpy
        function it uses looked up once, here, rather than at every call: `train` makes one per
        mini-batch before the first epoch. The numpy calls are backprop's, in the same order (out
        arrays passed positionally, which numpy parses faster than `out=`), so the same numbers."""
        rows = len(inputs)
        hidden_activations, deltas, derivatives, batch_length = self._buffers_for(rows)
        activations = [inputs, *hidden_activations, outputs]
        last = len(self.weights) - 1
        add, subtract, multiply, divide, tanh, exp = np.add, np.subtract, np.multiply, np.divide, np.tanh, np.exp
        dot = _dot
        add_reduce, max_reduce = np.add.reduce, np.maximum.reduce
        half, one = _HALF, _ONE  # sigmoid_into's constants
        sigmoid_hidden = self.squish_into is sigmoid_into
        squish_into, derivative_into, output_into = self.squish_into, self.derivative_into, self.output_into
        softmax_output, cross_entropy = self.softmax_output, self.cost_name == "cross_entropy"
        network, cost_name = self.network, self.cost_name
        # hidden layers: (a_in, W^T, a_out = z squished in place, b)
        forward = [(activations[l], self.weights_transposed[l], activations[l + 1], self.biases[l])
                   for l in range(last)]
        last_input, last_weights_t, last_bias = activations[last], self.weights_transposed[last], self.biases[last]
        output_delta_buffer = deltas[last]
        # layers L .. 2: (delta^T, a_l, grad W, grad b, delta, W_l, previous delta, f'(a_l) buffer)
        backward = [(deltas[l].T, activations[l], self.grad_weights[l], self.grad_biases[l], deltas[l],
                     self.weights[l], deltas[l - 1], derivatives[l - 1]) for l in range(last, 0, -1)]
        first_delta, first_delta_t = deltas[0], deltas[0].T
        first_grad_weights, first_grad_biases = self.grad_weights[0], self.grad_biases[0]

        def step():
            for a_in, weights_t, a, bias in forward:
                dot(a_in, weights_t, a)                 # z = a W^T + b  (batch, n_out)
                add(a, bias, a)
                if sigmoid_hidden:                      # a' = f(z): sigmoid_into, inline
                    multiply(half, a, a)
                    tanh(a, a)
                    add(one, a, a)
                    multiply(half, a, a)
                else:
                    squish_into(a, a)
            dot(last_input, last_weights_t, weighted_sums)
            add(weighted_sums, last_bias, weighted_sums)
            if softmax_output:                          # softmax_into, inline
                subtract(weighted_sums, max_reduce(weighted_sums, 1, None, row_max, True), outputs)
                exp(outputs, outputs)
                divide(outputs, add_reduce(outputs, 1, None, row_sum, True), outputs)
            else:
                output_into(weighted_sums, outputs)
            if cross_entropy:
                subtract(outputs, targets, output_delta_buffer)  # see output_delta
            else:
                output_delta_buffer[...] = output_delta(network, outputs, targets, cost_name)
            divide(output_delta_buffer, batch_length, output_delta_buffer)  # the mean over the batch
            for delta_t, a, grad_weights, grad_biases, delta, weights, previous, derivative in backward:
                dot(delta_t, a, grad_weights)                   # (n_out, n_in)
                add_reduce(delta, 0, None, grad_biases)         # (n_out,) sum over the batch
                dot(delta, weights, previous)                   # delta_l = (delta_{l+1} W) * f'(a_l)
                if sigmoid_hidden:                              # f'(a) = a (1 - a)
                    subtract(one, a, derivative)
                    multiply(a, derivative, derivative)
                    multiply(previous, derivative, previous)
                else:
                    multiply(previous, derivative_into(a, derivative), previous)
            dot(first_delta_t, inputs, first_grad_weights)
            add_reduce(first_delta, 0, None, first_grad_biases)

        return step

    def add_weight_decay(self, weight_decay: float):
        """grad_weights += weight_decay * weights, for all layers at once (the biases are not decayed)."""
        weight_gradient = self.gradient[:self.weight_count]
        weight_gradient += np.multiply(weight_decay, self.parameters[:self.weight_count], out=self.weight_decay_scratch)

    def weight_decay_function(self, weight_decay: float):
        """`add_weight_decay(weight_decay)` as a function of no arguments, views made once."""
        weight_gradient, weights = self.gradient[:self.weight_count], self.parameters[:self.weight_count]
        scratch, multiply, add = self.weight_decay_scratch, np.multiply, np.add

        def add_weight_decay():
            add(weight_gradient, multiply(weight_decay, weights, scratch), weight_gradient)

        return add_weight_decay


def check_fits(network: Network, dataset: Dataset, settings: TrainingSettings) -> None:
    """Raise DigitnetError if `network` and `settings` cannot train on `dataset` (train checks this
    first; the CLI too, before it prints anything)."""
    if network.layer_sizes[0] != dataset.train_images.shape[1] or network.layer_sizes[-1] != 10:
        raise DigitnetError(f"network {network.layer_sizes} does not fit the data: inputs must be "
                            f"{dataset.train_images.shape[1]} and outputs 10")
    if settings.batch_size > len(dataset.train_images):
        raise DigitnetError(f"batch_size {settings.batch_size} is more than the {len(dataset.train_images):,} "
                            "training images; choose a smaller one (32 is the default)")


def train(network: Network, dataset: Dataset, settings: TrainingSettings = TrainingSettings(),
          on_batch: Callable[[int, int, int, float], None] | None = None,
          on_epoch: Callable[[EpochRecord], None] | None = None,
          progress_every: int = 50) -> TrainingResult:
    """Stochastic gradient descent on `dataset`'s training images, in place on `network`.

    Each epoch shuffles once (seeded) into contiguous arrays, moving each image by up to
    `shift_pixels` on the way (see `Shuffler`), and walks them in mini-batches with
    `_Workspace.backprop`. After each epoch the validation accuracy is measured; at the end (or on
    Ctrl-C) the network is left holding the weights of its best validation epoch.
    `on_batch(epoch, done, total, loss)` is called every `progress_every` batches, `on_epoch(record)`
    after each epoch; the network holds the current weights when they are called. Training stops
    with DigitnetError once the cost is no longer finite (checked at every `progress_every` batches
    and at the end of each epoch).
    """
    check_fits(network, dataset, settings)
    rng = np.random.default_rng(settings.seed)
    dtype = network.dtype
    images = np.ascontiguousarray(dataset.train_images, dtype=dtype)
    targets = one_hot(dataset.train_labels, dtype=dtype)
    labels = dataset.train_labels.astype(np.int64)
    n, size = len(images), settings.batch_size
    # Per image of the epoch: the last layer's z and a, and (softmax) each row's max z and sum of e^(z - max).
    weighted_sums, outputs = np.empty_like(targets), np.empty_like(targets)
    row_max, row_sum = np.empty((n, 1), dtype), np.empty((n, 1), dtype)
    workspace = _Workspace(network, settings.cost)
    optimizer = make_optimizer(settings.optimizer, [workspace.parameters], settings.learning_rate, settings.momentum)
    gradients = [workspace.gradient]  # the optimizer sees one flat parameter and its gradient
    result = TrainingResult()
    best_accuracy, best_parameters = -1.0, workspace.parameters.copy()
    shuffler = Shuffler(images, targets, labels, rng, settings.shift_pixels)
    # Each mini-batch's rows of the epoch-long arrays, as views made once (for both sets of the shuffler's).
    epoch_arrays = (weighted_sums, outputs, row_max, row_sum)
    batches = [[(shuffled_images[start:start + size], shuffled_targets[start:start + size],
                 *(array[start:start + size] for array in epoch_arrays)) for start in range(0, n, size)]
               for shuffled_images, shuffled_targets, _ in shuffler.arrays]
    step_functions = [[workspace.step_function(*batch) for batch in set_batches] for set_batches in batches]
    optimizer_step = optimizer.step_function(gradients)
    add_weight_decay = workspace.weight_decay_function(settings.weight_decay) if settings.weight_decay else None
    log_softmax_cost = settings.cost == "cross_entropy" and network.output == "softmax"

    def cost_of_rows(current: int, start: int, stop: int, epoch: int) -> float:
        """Summed cost of the epoch's images start..stop (in the shuffler's arrays `current`), from what
        the forward passes stored; stops training that diverged."""
        _, shuffled_targets, shuffled_labels = shuffler.arrays[current]
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

    try:
        # One BLAS thread: a mini-batch's matrix products are too small to gain from a second thread,
        # yet big enough that OpenBLAS hands them half each, so its second thread would be woken at
        # every step and spin in between, taking a core (or a hyperthread's sibling) for nothing.
        # (The results do not depend on it.) And once weights overflow, numpy would warn at every
        # step until the divergence check stops training.
        with threadpool_limits(limits=1, user_api="blas"), np.errstate(over="ignore", invalid="ignore"):
            for epoch in range(1, settings.epochs + 1):
                started = time.perf_counter()
                optimizer.learning_rate = learning_rate_at(settings, epoch)
                current = shuffler.next_epoch(another=epoch < settings.epochs)
                total_loss, counted = 0.0, 0  # cost summed over the first `counted` images
                steps = step_functions[current]
                for chunk_start in range(0, len(steps), progress_every):
                    chunk = steps[chunk_start:chunk_start + progress_every]
                    if add_weight_decay is None:
                        for backprop_step in chunk:
                            backprop_step()  # this mini-batch's gradient; the last layer's results kept
                            optimizer_step()
                    else:
                        for backprop_step in chunk:
                            backprop_step()
                            add_weight_decay()
                            optimizer_step()
                    if len(chunk) == progress_every:  # every `progress_every` batches
                        index = chunk_start + progress_every
                        done = min(index * size, n)
                        total_loss, counted = total_loss + cost_of_rows(current, counted, done, epoch), done
                        if on_batch is not None:
                            workspace.copy_to(network)
                            on_batch(epoch, index, len(steps), total_loss / done)
                total_loss += cost_of_rows(current, counted, n, epoch)
                workspace.copy_to(network)
                validation_accuracy = network.accuracy(dataset.validation_images, dataset.validation_labels)
                correct = int((outputs.argmax(axis=1) == shuffler.arrays[current][2]).sum())  # vs the labels
                record = EpochRecord(epoch, total_loss / n, correct / n, validation_accuracy,
                                     time.perf_counter() - started)
                result.history.append(record)
                if validation_accuracy > best_accuracy:
                    best_accuracy, result.best_epoch = validation_accuracy, epoch
                    best_parameters = workspace.parameters.copy()
                if on_epoch is not None:
                    on_epoch(record)
    except KeyboardInterrupt:
        result.interrupted = True
    finally:
        shuffler.close()
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
