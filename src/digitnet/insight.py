"""Looking inside a trained network: what does it want to see, why did it answer, does it know noise?

Every tool here is backpropagation carried one layer further than training carries it: all the way
to the 784 input pixels. Training asks "how should each weight change to lower the cost?"; these
ask "how should each *pixel* change to raise output neuron d?". In the glossary of network.py:

    delta_L = d(quantity)/dz_L                   where the chosen quantity of output neuron d starts
    delta_l = (delta_{l+1} @ W_{l+1}) * f'(a_l)  one layer back, exactly as in training.py
    d(quantity)/dx = delta_1 @ W_0               the input has no squish, so stop at the weights

Math only: no matplotlib (plots.py draws these results) and no printing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import DigitnetError
from .network import ACTIVATIONS, Network

# What input_gradient differentiates, for output neuron d (z_d its weighted sum, a_d = squish(z_d)):
#   "activation"      a_d, the output neuron's brightness (the video's view; saturates near 0 and 1)
#   "weighted_sum"    z_d, the evidence before the squish (never saturates; ignores the other outputs)
#   "log_activation"  log a_d: same maximum as a_d, but its gradient does not vanish when a_d is tiny;
#                     for softmax outputs it is z_d - logsumexp(z), so it also pushes the other digits down
QUANTITIES = ("activation", "weighted_sum", "log_activation")


def _output_delta(network: Network, outputs: np.ndarray, chosen: np.ndarray, of: str) -> np.ndarray:
    """d(quantity of the chosen output neuron)/dz_L, `(batch, n_out)`; `chosen` is one-hot `(batch, n_out)`."""
    if of == "weighted_sum":
        return chosen
    chosen_output = (outputs * chosen).sum(axis=1, keepdims=True)  # a_d per row, (batch, 1)
    if network.output == "softmax":
        # da_d/dz_j = a_d (1[j = d] - a_j): raising any other z_j takes probability from d.
        log_gradient = chosen - outputs  # d log a_d / dz
    else:
        # A sigmoid output depends on its own z only: d log σ(z_d)/dz_d = 1 - a_d.
        log_gradient = chosen * (1 - outputs)
    return log_gradient if of == "log_activation" else chosen_output * log_gradient


def _as_digits(network: Network, digit, batch: int) -> np.ndarray:
    n_out = network.layer_sizes[-1]
    digits = np.broadcast_to(np.asarray(digit), (batch,))
    if not np.issubdtype(digits.dtype, np.integer) or digits.min(initial=0) < 0 or digits.max(initial=0) >= n_out:
        raise DigitnetError(f"digit {digit!r}: choose a whole number from 0 to {n_out - 1}")
    return digits.astype(np.int64)


def input_gradient(network: Network, inputs, digit, of: str = "activation") -> np.ndarray:
    """How output neuron `digit` responds to a nudge of each input pixel: d(quantity)/d(pixel).

    inputs: `(batch, 784)`; digit: an int, or `(batch,)` ints (one output neuron per row);
    of: which quantity of that neuron, "activation" (default: a_d, after the squish),
    "weighted_sum" (z_d, before it) or "log_activation" (log a_d); see QUANTITIES.
    Returns `(batch, 784)` in the network's dtype: row k, pixel i is d(quantity_k)/d(inputs[k, i]).
    """
    if of not in QUANTITIES:
        raise DigitnetError(f"of={of!r}: choose one of {', '.join(QUANTITIES)}")
    trace = network.trace(inputs)  # checks the shape: (batch, 784)
    batch = len(trace.outputs)
    chosen = np.eye(network.layer_sizes[-1], dtype=network.dtype)[_as_digits(network, digit, batch)]  # (batch, n_out)
    derivative = ACTIVATIONS[network.activation][1]
    delta = _output_delta(network, trace.outputs, chosen, of)  # (batch, n_L)
    for l in reversed(range(len(network.weights))):
        gradient = delta @ network.weights[l]  # d(quantity)/d a_l, (batch, n_l)
        if l > 0:
            delta = gradient * derivative(trace.activations[l])  # d(quantity)/d z_l
    return gradient


def dream(network: Network, digit: int, steps: int = 300, learning_rate: float = 0.05,
          penalty: float = 0.01, seed: int = 0, of: str = "weighted_sum") -> np.ndarray:
    """The image the network finds most `digit`-like: gradient ascent on the 784 pixels.

    Starts from faint random pixels (uniform in [0, 0.1], from `seed`) and takes `steps` steps
    uphill on  quantity - penalty * sum(pixels^2), where the quantity is output neuron `digit`'s
    weighted sum z_d by default (`of`: see QUANTITIES; z_d keeps pulling where a_d would
    saturate near 1, so the pixels that help get bright enough to see), and the penalty keeps
    pixels dark that do not help. Each step moves `learning_rate` times the gradient divided by
    its largest component (so the step size means the same for every network) and keeps every
    pixel in [0, 1]. Returns `(784,)` brightness in [0, 1], float64.

    The surprise (chapter 2 of the video): the result is not a drawn digit but a speckled pattern
    that the network is nonetheless sure about.
    """
    if of not in QUANTITIES:
        raise DigitnetError(f"of={of!r}: choose one of {', '.join(QUANTITIES)}")
    if steps < 0 or not learning_rate > 0 or not penalty >= 0:
        raise DigitnetError("dream: steps must be >= 0, learning_rate > 0 and penalty >= 0")
    _as_digits(network, digit, 1)
    network = network.copy(dtype=np.float64)
    rng = np.random.default_rng(seed)
    image = rng.uniform(0.0, 0.1, size=(1, network.layer_sizes[0]))  # (1, 784)
    for _ in range(steps):
        uphill = input_gradient(network, image, digit, of=of) - 2 * penalty * image  # (1, 784)
        image = np.clip(image + learning_rate * uphill / (np.abs(uphill).max() + 1e-12), 0.0, 1.0)
    return image[0]


def explain(network: Network, inputs, digit: int | None = None) -> np.ndarray:
    """Which pixels pushed output neuron `digit` up (positive) or down (negative): gradient x input.

    inputs: `(784,)` one image; digit: the output neuron to explain (default: the network's guess).
    Uses the gradient of that neuron's weighted sum z_d (the evidence before the squish, which does
    not saturate). Pixel i's share is x_i * dz_d/dx_i; dark pixels (x_i = 0) get none, so the map
    says what the ink that is *there* did. Returns `(784,)`, signed, finite, float64.
    """
    image = np.asarray(inputs, dtype=np.float64).reshape(-1)
    if image.shape != (network.layer_sizes[0],):
        raise DigitnetError(f"inputs of shape {np.shape(inputs)}: need one image of {network.layer_sizes[0]} pixels")
    if digit is None:
        digit = int(network.predict_digit(image[np.newaxis])[0])
    network = network.copy(dtype=np.float64)
    return image * input_gradient(network, image[np.newaxis], digit, of="weighted_sum")[0]


@dataclass(frozen=True)
class NoiseAnswers:
    """Random images and what the network makes of them.

    images: `(count, 784)` pixels uniform in [0, 1]; digits: `(count,)` its guesses;
    confidences: `(count,)` each guess's share of the outputs (predict_probabilities).
    """

    images: np.ndarray
    digits: np.ndarray
    confidences: np.ndarray


def noise_answers(network: Network, count: int = 8, seed: int = 0) -> NoiseAnswers:
    """Show the network `count` images of pure random noise (seeded) and record its answers.

    A network trained only on digits has no way to say "that is not a digit": every input lands
    on some output, often with high confidence (the video's chapter 2 point about noise).
    """
    if count < 1:
        raise DigitnetError(f"count {count}: need at least one noise image")
    rng = np.random.default_rng(seed)
    images = rng.uniform(0.0, 1.0, size=(count, network.layer_sizes[0])).astype(network.dtype)
    probabilities = network.predict_probabilities(images)  # (count, 10)
    digits = probabilities.argmax(axis=1)
    return NoiseAnswers(images, digits, probabilities[np.arange(count), digits])
