"""The network of the video: layers of neurons, a' = activation(W a + b), layer after layer.

Glossary (used everywhere in digitnet):
    layer_sizes   neurons per layer, input first: (784, 16, 16, 10) is the video's network
    weights[l]    (n_out, n_in) matrix into layer l+1; row i holds the weights into neuron i,
                  so a row of weights[0] reshaped to 28x28 is that neuron's picture
    biases[l]     (n_out,) one bias per neuron of layer l+1
    z             weighted sums before the squish, z = W a + b
    a             activations after it, a' = activation(z); a[0] is the input
    delta         the cost's gradient with respect to z (see training.py)

Batches are rows: inputs are `(batch, 784)`, so the layer step reads `z = a @ W.T + b`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import DigitnetError
from .fast_inference import outputs_into
from .validation import OneOf, Seed, Sizes, check_parameters

# Each activation with its derivative. The derivative is written in terms of the activation's
# own output a = f(z), which all three allow and which saves keeping z around in backprop.


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The classic squish 1 / (1 + e^-z), computed without overflow for large |z|."""
    # 0.5 * (1 + tanh(z/2)) equals the logistic function and never overflows.
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def sigmoid_derivative(a: np.ndarray) -> np.ndarray:
    return a * (1.0 - a)


def relu(z: np.ndarray) -> np.ndarray:
    """max(0, z): the modern choice."""
    return np.maximum(z, 0.0)


def relu_derivative(a: np.ndarray) -> np.ndarray:
    return (a > 0).astype(a.dtype)


def tanh(z: np.ndarray) -> np.ndarray:
    return np.tanh(z)


def tanh_derivative(a: np.ndarray) -> np.ndarray:
    return 1.0 - a * a


ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_derivative),
    "relu": (relu, relu_derivative),
    "tanh": (tanh, tanh_derivative),
}


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise e^z / sum(e^z), stable: the row maximum is subtracted first.  (batch, n) -> (batch, n)"""
    shifted = z - z.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


OUTPUTS = {"sigmoid": sigmoid, "softmax": softmax}

# Initial weight scale by activation: Xavier/Glorot (1/n_in) for the squishing functions,
# He (2/n_in) for ReLU, which zeroes half its inputs and would otherwise shrink the signal.
INIT_VARIANCE_GAIN = {"sigmoid": 1.0, "tanh": 1.0, "relu": 2.0}

# predict_digit runs its rows through the network this many at a time, always counted from row 0.
# A BLAS kernel may round a row differently depending on where it falls among the rows of one matrix
# product, so the same rows in one product or in two could give different last bits. In fixed blocks,
# every block is the same product whoever asks, so rows split at a block boundary (as train splits its
# validation pass between two threads) give exactly the answers of one call, on any machine.
# 1,024 rows of 784 float32 inputs are 3.2 MB: big enough that numpy's overhead per call is noise.
PREDICTION_BLOCK_ROWS = 1024


# The public constructor's rules (validation.py); the sizes' limits are the ones load_model applies.
NETWORK_CONSTRAINTS = {
    "layer_sizes": Sizes(),
    "activation": OneOf(tuple(ACTIVATIONS)),
    "output": OneOf(tuple(OUTPUTS)),
    "seed": Seed(),
}


@dataclass(frozen=True)
class Trace:
    """Everything the network computed for a batch.

    weighted_sums[l]: (batch, layer_sizes[l+1])  z of each layer after the input
    activations[l]:   (batch, layer_sizes[l])    a of every layer; activations[0] is the input
    """

    weighted_sums: list[np.ndarray]
    activations: list[np.ndarray]

    @property
    def outputs(self) -> np.ndarray:
        return self.activations[-1]

    def _repr_html_(self) -> str:  # Jupyter's rich display: see display.py
        from .display import trace_html
        return trace_html(self)

    def _repr_png_(self) -> bytes:
        from .display import trace_png
        return trace_png(self)


class Network:
    """A fully connected network: `Network((784, 16, 16, 10))` is the video's.

    activation: hidden layers' squish, one of "sigmoid" (default, the video's), "relu", "tanh".
    output:     the last layer's, "sigmoid" (the video's) or "softmax" (probabilities summing to 1).
    seed:       weights start as Gaussian noise of variance gain/n_in (Xavier for sigmoid and tanh,
                He for ReLU) drawn from numpy's Generator seeded with it; biases start at 0.
    dtype:      float32 (fast, default) or float64 (for gradient checks).
    weights, biases: give them to build a network from known numbers (e.g. a loaded model).
    """

    def __init__(self, layer_sizes=(784, 16, 16, 10), activation="sigmoid", output="sigmoid",
                 seed=0, dtype=np.float32, weights=None, biases=None):
        check_parameters("network", NETWORK_CONSTRAINTS, layer_sizes=layer_sizes, activation=activation,
                         output=output, seed=seed)
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            dtype = None
        if dtype not in (np.float32, np.float64):
            raise DigitnetError("network: dtype must be float32 or float64")
        layer_sizes = tuple(int(n) for n in layer_sizes)
        self.layer_sizes = layer_sizes
        self.activation = activation
        self.output = output
        self.dtype = dtype
        if weights is None:
            rng = np.random.default_rng(seed)
            gain = INIT_VARIANCE_GAIN[activation]
            weights = [rng.standard_normal((n_out, n_in)) * np.sqrt(gain / n_in)
                       for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:])]
        if biases is None:
            biases = [np.zeros(n_out) for n_out in layer_sizes[1:]]
        try:
            self.weights = [np.ascontiguousarray(w, dtype=self.dtype) for w in weights]
            self.biases = [np.ascontiguousarray(b, dtype=self.dtype) for b in biases]
        except (TypeError, ValueError):
            raise DigitnetError("network: weights and biases must be lists of arrays of numbers") from None
        self._check_shapes()

    def _check_shapes(self):
        expected = [(n_out, n_in) for n_in, n_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:])]
        if len(self.weights) != len(expected) or len(self.biases) != len(expected):
            raise DigitnetError(f"layer_sizes {self.layer_sizes} need {len(expected)} weight matrices and bias vectors")
        for l, shape in enumerate(expected):
            if self.weights[l].shape != shape or self.biases[l].shape != (shape[0],):
                raise DigitnetError(
                    f"layer {l + 1}: weights {self.weights[l].shape} and biases {self.biases[l].shape} "
                    f"do not fit layer_sizes {self.layer_sizes} (need {shape} and ({shape[0]},))")

    @property
    def parameter_count(self) -> int:
        """Weights and biases together: 13,002 for the video's 784-16-16-10."""
        return sum(w.size + b.size for w, b in zip(self.weights, self.biases))

    def activation_of_layer(self, l: int):
        """The squish applied to layer l+1's weighted sums (the last layer uses `output`)."""
        return OUTPUTS[self.output] if l == len(self.weights) - 1 else ACTIVATIONS[self.activation][0]

    def _as_batch(self, inputs) -> np.ndarray:
        inputs = np.asarray(inputs, dtype=self.dtype)
        if inputs.ndim != 2 or inputs.shape[1] != self.layer_sizes[0]:
            raise DigitnetError(f"inputs of shape {inputs.shape}: need (batch, {self.layer_sizes[0]})")
        return inputs

    def feedforward(self, inputs) -> np.ndarray:
        """Output activations for a batch: `(batch, 784)` -> `(batch, 10)`; the same numbers as
        `trace(inputs).outputs`, without keeping each layer's."""
        return self._feedforward(self._as_batch(inputs))

    def _feedforward(self, a: np.ndarray) -> np.ndarray:
        for l, (w, b) in enumerate(zip(self.weights, self.biases)):
            a = self.activation_of_layer(l)(a @ w.T + b)  # a' = σ(W a + b)  (batch, n_out)
        return a

    def trace(self, inputs) -> Trace:
        """Like feedforward, but keeps every layer's weighted sums z and activations a."""
        a = self._as_batch(inputs)
        weighted_sums, activations = [], [a]
        for l, (w, b) in enumerate(zip(self.weights, self.biases)):
            z = a @ w.T + b  # (batch, n_out)
            a = self.activation_of_layer(l)(z)
            weighted_sums.append(z)
            activations.append(a)
        return Trace(weighted_sums, activations)

    def predict_probabilities(self, inputs) -> np.ndarray:
        """`(batch, 784)` -> `(batch, 10)` rows summing to 1.

        Softmax outputs already do; sigmoid outputs (each in (0, 1) on its own) are divided by
        their sum, so "confidence" means the same for both. Where that fails in floating point (every
        sigmoid output rounds to 0), the row is recomputed from the weighted sums; a network whose
        weighted sums overflow (finite but huge weights) raises DigitnetError, never answers NaN.
        """
        inputs = self._as_batch(inputs)
        outputs = np.empty((len(inputs), self.layer_sizes[-1]), self.dtype)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked below, not warned about
            # feedforward's arithmetic, a block of rows at a time in place: fast_inference.py
            outputs_into(self.weights, self.biases, self.activation, self.output, inputs, outputs)
            probabilities = self.probabilities_from_outputs(outputs)
        if np.isfinite(probabilities).all():  # one pass over all of them; the rows only if one is not
            return probabilities
        broken = ~np.isfinite(probabilities).all(axis=1)
        if broken.any():
            probabilities[broken] = self._probabilities_from_weighted_sums(inputs[broken])
        return probabilities

    def probabilities_from_outputs(self, outputs: np.ndarray) -> np.ndarray:
        """The output layer's activations `(batch, 10)` as rows summing to 1 (see predict_probabilities).
        A row of sigmoid outputs that are all 0 (z below about -17 in float32) comes out as NaN."""
        if self.output == "softmax":
            return outputs
        with np.errstate(invalid="ignore", divide="ignore"):  # row sums as a product: numpy's sum along
            return outputs / (outputs @ np.ones(outputs.shape[1], outputs.dtype))[:, np.newaxis]  # rows of 10 is slow

    def _probabilities_from_weighted_sums(self, inputs: np.ndarray) -> np.ndarray:
        """The rows predict_probabilities could not divide out, from z: sigma(z_i) / sum_j sigma(z_j)
        tends to softmax(z) as the z's go to -infinity (sigma(z) ~ e^z there), and softmax is the
        answer itself for softmax outputs; computed in float64 so it does not round to 0 again."""
        with np.errstate(over="ignore", invalid="ignore"):
            z = self.trace(inputs).weighted_sums[-1].astype(np.float64)  # (rows, n_out)
        if not np.isfinite(z).all():
            raise DigitnetError("the network's weighted sums overflow (its weights are too large for float32): "
                                "it has no answer; retrain it or use another model")
        return softmax(z).astype(self.dtype)

    def predict_digit(self, inputs) -> np.ndarray:
        """The brightest output neuron per row: `(batch, 784)` -> `(batch,)` ints.

        Computed in blocks of PREDICTION_BLOCK_ROWS rows (see there), so the answer for a row never
        depends on how many other rows came with it, as long as calls start at a block boundary."""
        inputs = self._as_batch(inputs)
        with np.errstate(over="ignore", invalid="ignore"):  # a NaN row's argmax is 0, as before; no warning
            if len(inputs) <= PREDICTION_BLOCK_ROWS:  # one block (one drawing: the explorer's case)
                return self._feedforward(inputs).argmax(axis=1) if len(inputs) else np.zeros(0, dtype=np.int64)
            return np.concatenate([self._feedforward(inputs[start:start + PREDICTION_BLOCK_ROWS]).argmax(axis=1)
                                   for start in range(0, len(inputs), PREDICTION_BLOCK_ROWS)])

    def accuracy(self, inputs, labels) -> float:
        """Fraction of rows of `inputs` `(n, 784)` whose predicted digit equals the label `(n,)`."""
        return float((self.predict_digit(inputs) == labels).mean()) if len(inputs) else 0.0

    def copy(self, dtype=None) -> "Network":
        return Network(self.layer_sizes, self.activation, self.output, dtype=dtype or self.dtype,
                       weights=[w.copy() for w in self.weights], biases=[b.copy() for b in self.biases])

    def _repr_html_(self) -> str:  # Jupyter's rich display: see display.py
        from .display import network_html
        return network_html(self)

    def _repr_png_(self) -> bytes:
        from .display import network_png
        return network_png(self)

    def describe(self) -> str:
        hidden = "-".join(str(n) for n in self.layer_sizes)
        return f"{hidden} ({self.activation} hidden, {self.output} output, {self.parameter_count:,} weights and biases)"
