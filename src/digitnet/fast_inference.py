"""Inference's fast path: a network's outputs for many rows, a block of rows at a time, in place.

`Network.feedforward` is the readable definition (`a = f(a @ W.T + b)`, layer after layer, whole
batch). Over the 10,000 test images that makes a dozen temporary arrays of 10,000 rows, each a fresh
allocation the kernel has to fault in page by page, and each pass reads its operand back from main
memory. `outputs_into` makes the first layer's product in blocks of BLOCK_ROWS (each block's
inputs read once, while in the cache) and the narrow layers after it GROUP_ROWS rows at a time, every
layer's z written into one buffer per layer made once, the bias added and the squish applied in place (the `_into` functions
below, also what the training step uses): the same operations in the same order on every row, so
the same numbers as feedforward on each block, but for a softmax's row sums (summed by BLAS, so
equal to rounding). Measured (`python benchmarks/inference_speed.py`, 10,000 float32 test images,
784-16-16-10, 2-core Xeon): predict_probabilities ~2.7 ms, against 3.85 ms as feedforward computes it.
"""

from __future__ import annotations

import numpy as np

# 1,024 rows: each layer's buffer (64 KB for 16 neurons) stays in the core's cache between the product
# and the squish, while the product still has rows enough that numpy's per-call cost is noise
# (blocks of 256: 3.70 ms; 512: 3.28; 1,024: 3.24; 4,096: 3.74, whole: 3.83, out-of-place).
BLOCK_ROWS = 1024
# The narrow layers after the first are computed GROUP_ROWS rows at a time: their arrays are small
# (16 neurons: 1 MB for 16,384 rows), so fewer, longer numpy calls win (10,000 images, medians of 9
# interleaved timeit runs: groups of 1,024 rows 3.05 ms, 4,096 2.86, 8,192 2.83, all 10,000 2.73),
# and memory stays bounded for any number of rows.
GROUP_ROWS = 16384

# network.py's squishes and derivatives written into a given array `out` (which may be the input
# itself): the same numpy operations in the same order, so the same numbers, without making new
# arrays, which on a mini-batch's small arrays costs more than the arithmetic.
# Constants are 0-d float32 arrays: numpy takes those in 0.35 us against 0.61 us for a Python float
# (numpy 2.4, 2-core Xeon), six times a step; they keep float32 arrays float32 (and float64 ones
# float64; 0.5 and 1 are exact in both).
_HALF, _ONE, _ZERO = (np.array(value, np.float32) for value in (0.5, 1.0, 0.0))


def sigmoid_into(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    np.multiply(_HALF, z, out=out)      # 0.5 * (1 + tanh(z/2)), one step at a time
    np.tanh(out, out=out)
    np.add(_ONE, out, out=out)
    return np.multiply(_HALF, out, out=out)


def softmax_into(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Row-wise softmax of z `(batch, n)` into out."""
    np.subtract(z, z.max(axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    return np.divide(out, out.sum(axis=1, keepdims=True), out=out)


ACTIVATIONS_INTO = {  # name -> (f(z, out), f'(a, out)), the in-place twins of network.ACTIVATIONS
    "sigmoid": (sigmoid_into, lambda a, out: np.multiply(a, np.subtract(_ONE, a, out=out), out=out)),  # a (1 - a)
    "relu": (lambda z, out: np.maximum(z, _ZERO, out=out), lambda a, out: np.greater(a, _ZERO, out=out)),
    "tanh": (lambda z, out: np.tanh(z, out=out), lambda a, out: np.subtract(_ONE, np.multiply(a, a, out=out), out=out)),
}
OUTPUTS_INTO = {"sigmoid": sigmoid_into, "softmax": softmax_into}


def _block_softmax_into(z: np.ndarray, out: np.ndarray, row_max: np.ndarray, ones: np.ndarray) -> None:
    """softmax_into for a block of rows, its two reductions along the short rows done otherwise:
    numpy reduces along a row of 10 slowly (max over 1,024 x 10: 52 us), so the row maximum is the
    maximum of the columns taken one at a time (7 us, the same number: a max has no rounding) and the
    row sum a matrix-vector product with ones (2 us against 16; BLAS's order of summation)."""
    np.maximum(z[:, 0], z[:, min(1, z.shape[1] - 1)], out=row_max)
    for column in range(2, z.shape[1]):
        np.maximum(row_max, z[:, column], out=row_max)
    np.subtract(z, row_max[:, np.newaxis], out=out)
    np.exp(out, out=out)
    np.dot(out, ones, out=row_max)  # the row sums, where the maxima were
    np.divide(out, row_max[:, np.newaxis], out=out)


def outputs_into(weights: list[np.ndarray], biases: list[np.ndarray], activation: str, output: str,
                 inputs: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The output layer's activations for inputs `(n, n_0)` (of the weights' dtype) into out
    `(n, n_L)`: network.feedforward's arithmetic, GROUP_ROWS rows at a time, the first layer's product
    within a group BLOCK_ROWS rows at a time."""
    squish_into = ACTIVATIONS_INTO[activation][0]
    group = min(GROUP_ROWS, len(inputs))
    buffers = [np.empty((group, len(b)), inputs.dtype) for b in biases[:-1]]
    row_scratch, ones = np.empty(group, inputs.dtype), np.ones(len(biases[-1]), inputs.dtype)
    last = len(weights) - 1
    for start in range(0, len(inputs), GROUP_ROWS):
        a = inputs[start:start + GROUP_ROWS]
        rows = len(a)
        for l, (w, b) in enumerate(zip(weights, biases)):
            z = out[start:start + rows] if l == last else buffers[l][:rows]
            if l == 0:                 # z = a @ W.T + b  (rows, n_out)
                for first in range(0, rows, BLOCK_ROWS):
                    np.dot(a[first:first + BLOCK_ROWS], w.T, out=z[first:first + BLOCK_ROWS])
            else:
                np.dot(a, w.T, out=z)
            np.add(z, b, out=z)
            if l == last and output == "softmax":
                _block_softmax_into(z, z, row_scratch[:rows], ones)
            elif l == last:
                sigmoid_into(z, z)
            else:
                a = squish_into(z, z)
    return out
