"""What every importer shares: a model read from another tool, as a list of steps, becomes a Network
only if it is the video's kind of network.

A reader (ONNX graph, PyTorch module or state dict, scikit-learn MLP) turns its model into `Step`s,
in order from the input: `Dense(weights (n_out, n_in), biases (n_out,))` for a fully connected layer
and `Squish(kind)` for an activation. `network_from_chain` accepts

    Dense  (Squish(hidden)  Dense)*  [Squish(output)]

with one hidden squish (sigmoid, relu or tanh) used between every pair of layers, and at the end
softmax or sigmoid; no squish (or log-softmax) at the end means the outputs are logits, which digitnet
reads through a softmax (the same guesses, and the probabilities the other tool would compute from
them). Everything else is refused with one line naming the file and the first step that cannot be
read: `ChainError(source, where, problem)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import __version__
from ..errors import DigitnetError
from ..network import ACTIVATIONS, Network

INPUT_SIZE, OUTPUT_SIZE = 784, 10   # what digitnet's commands and explorer expect: 28x28 in, 10 digits out
MAX_LAYERS = 64                     # as modelfile.MAX_LAYERS
MAX_LAYER_SIZE = 65_536             # as modelfile.MAX_LAYER_SIZE
HIDDEN_SQUISHES = tuple(ACTIVATIONS)          # sigmoid, relu, tanh
OUTPUT_SQUISHES = ("softmax", "sigmoid", "logits")
INPUT_DESCRIPTION = ("784 brightness values in [0, 1] (0.0 black, 1.0 white): a 28x28 image of a digit, "
                     "row by row, light ink on black as in MNIST")


# Written into an exported file (ONNX metadata, the .npz/.json structure) of a model that learned on
# deskewed digits, and read back by `digitnet import`: the file holds the network only.
PREPROCESSING_KEY, DESKEW = "preprocessing", "deskew"
DESKEWED_INPUT = "; deskewed first (digitnet.deskew.deskew): the network learned on upright digits"


def input_description(network: Network, deskewed: bool = False) -> str:
    """What an exported file says its inputs are: MNIST's pixels, or (e.g. a DigitnetClassifier's) features."""
    n = network.layer_sizes[0]
    described = INPUT_DESCRIPTION if n == INPUT_SIZE else f"{n} input values (features), one row per example"
    return described + (DESKEWED_INPUT if deskewed else "")


def refuse(source, where: str, problem: str) -> DigitnetError:
    """The one-line error every importer raises: `FILE: WHERE: PROBLEM`."""
    return DigitnetError(f"{source}: {where}: {problem}")


@dataclass(frozen=True)
class Dense:
    """A fully connected layer z = W a + b. weights `(n_out, n_in)`, biases `(n_out,)`; `where` names
    it in the source ("node 'fc1' (Gemm)", "layer 0 (Linear)")."""

    weights: np.ndarray
    biases: np.ndarray
    where: str


@dataclass(frozen=True)
class Squish:
    """An activation: one of HIDDEN_SQUISHES, "softmax", or "logits" (log-softmax: the same guesses)."""

    kind: str
    where: str


def check_finite_matrix(array: np.ndarray, source, where: str, ndim: int) -> np.ndarray:
    """`array` as float64 if it has `ndim` dimensions of sane sizes and only finite numbers."""
    if array.ndim != ndim:
        raise refuse(source, where, f"has shape {tuple(array.shape)}; a fully connected layer's "
                                    f"{'weights are a matrix' if ndim == 2 else 'biases are a vector'}")
    if any(n > MAX_LAYER_SIZE or n < 1 for n in array.shape):
        raise refuse(source, where, f"shape {tuple(array.shape)} is outside 1-{MAX_LAYER_SIZE:,} neurons per layer")
    if not np.issubdtype(array.dtype, np.floating) and not np.issubdtype(array.dtype, np.integer):
        raise refuse(source, where, f"holds {array.dtype} numbers, not floats")
    array = np.asarray(array, dtype=np.float64)
    if not np.isfinite(array).all():
        raise refuse(source, where, "contains NaN or infinite numbers")
    return array


def network_from_chain(steps: list, source, input_size: int | None = INPUT_SIZE,
                       output_size: int | None = OUTPUT_SIZE) -> tuple[Network, str]:
    """Steps from the input on -> (Network in float32, how its outputs were read: "softmax",
    "sigmoid" or "logits"). `input_size`/`output_size` None accept any size."""
    if not steps or not isinstance(steps[0], Dense):
        where = steps[0].where if steps else "the model"
        raise refuse(source, where, "does not start with a fully connected layer" if steps else "holds no layers")
    steps = [Dense(check_finite_matrix(step.weights, source, step.where, 2),
                   check_finite_matrix(step.biases, source, step.where, 1), step.where)
             if isinstance(step, Dense) else step for step in steps]
    denses = [step for step in steps if isinstance(step, Dense)]
    if len(denses) > MAX_LAYERS:
        raise refuse(source, denses[MAX_LAYERS].where, f"more than {MAX_LAYERS} layers")
    hidden, output = None, "logits"
    for index, step in enumerate(steps):
        previous = steps[index - 1] if index else None
        last = index == len(steps) - 1
        if isinstance(step, Squish):
            if isinstance(previous, Squish):
                raise refuse(source, step.where, f"a second squish ({step.kind}) right after {previous.kind}; "
                                                 "digitnet has one between layers")
            if last:
                if step.kind not in ("softmax", "sigmoid", "logits"):
                    raise refuse(source, step.where, f"{step.kind} at the output; digitnet's output is softmax, "
                                                     "sigmoid, or logits (no squish)")
                output = step.kind
            else:
                if step.kind not in HIDDEN_SQUISHES:
                    raise refuse(source, step.where, f"{step.kind} between layers; digitnet's hidden layers use "
                                                     f"{', '.join(HIDDEN_SQUISHES)}")
                if hidden is not None and step.kind != hidden:
                    raise refuse(source, step.where, f"{step.kind} after earlier hidden layers used {hidden}; "
                                                     "a digitnet network uses one squish for all hidden layers")
                hidden = step.kind
        else:
            if isinstance(previous, Dense):
                raise refuse(source, step.where, "follows another fully connected layer with no squish between "
                                                 "them; digitnet needs sigmoid, relu or tanh there")
            if previous is not None and previous.kind not in HIDDEN_SQUISHES:
                raise refuse(source, previous.where, f"{previous.kind} between layers; digitnet's hidden layers "
                                                     f"use {', '.join(HIDDEN_SQUISHES)}")
    for previous, dense in zip(denses, denses[1:]):
        if dense.weights.shape[1] != previous.weights.shape[0]:
            raise refuse(source, dense.where, f"takes {dense.weights.shape[1]} inputs but the layer before "
                                              f"gives {previous.weights.shape[0]}")
    for dense in denses:
        if dense.biases.shape != (dense.weights.shape[0],):
            raise refuse(source, dense.where, f"biases of shape {dense.biases.shape} do not fit weights "
                                              f"{dense.weights.shape}")
    n_in, n_out = denses[0].weights.shape[1], denses[-1].weights.shape[0]
    if input_size is not None and n_in != input_size:
        raise refuse(source, denses[0].where, f"takes {n_in} inputs; digitnet needs {input_size} "
                                              "(a 28x28 image's brightness values)")
    if output_size is not None and n_out != output_size:
        raise refuse(source, denses[-1].where, f"gives {n_out} outputs; digitnet needs {output_size}, one per digit")
    layer_sizes = (n_in, *(dense.weights.shape[0] for dense in denses))
    with np.errstate(over="ignore"):  # float64 beyond float32's range becomes inf, refused just below
        network = Network(layer_sizes, activation=hidden or "sigmoid",
                          output="sigmoid" if output == "sigmoid" else "softmax",
                          weights=[dense.weights for dense in denses], biases=[dense.biases for dense in denses])
    for l, w in enumerate(network.weights + network.biases):
        if not np.isfinite(w).all():  # a float64 beyond float32's range
            where = denses[l % len(denses)].where
            raise refuse(source, where, "numbers too large for float32")
    return network, output


def origin_metadata(source, file_format: str, output: str, deskewed: bool = False, **details) -> dict:
    """The "origin" record an imported model keeps in its metadata; with `deskewed` (the file says
    its network learned on deskewed digits) also training.deskew, so every command deskews for it."""
    read_as = {"softmax": "softmax", "sigmoid": "sigmoid",
               "logits": "logits (no squish at the end), read through a softmax"}[output]
    metadata = {"origin": {"format": file_format, "file": str(source), "output": read_as,
                           "imported_by": f"digitnet {__version__}", **details}}
    if deskewed:
        metadata["training"] = {"deskew": True}
    return metadata


def chain_steps(network: Network, with_output: bool = True) -> list[tuple[str, int | None]]:
    """The layers of `network` in the order an exporter writes them: ("dense", l) and ("squish", name)."""
    steps = []
    for l in range(len(network.weights)):
        steps.append(("dense", l))
        if l < len(network.weights) - 1:
            steps.append(("squish", network.activation))
        elif with_output:
            steps.append(("squish", network.output))
    return steps
