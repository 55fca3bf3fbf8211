"""Inference's fast path: a network's outputs for many rows, in blocks, in place, on every core.

`Network.feedforward` is the readable definition (`a = f(a @ W.T + b)`, layer after layer, whole
batch). Over the 10,000 test images that makes a dozen temporary arrays of 10,000 rows, each pass
reading its operand back from memory, and leaves a core idle. `outputs_into` computes the same layers,
every layer's z written into one buffer per layer, the bias added and the squish applied in place (the
`_into` functions below, also what the training step uses), and for MIN_THREAD_ROWS rows or more:
- each product `a @ W.T` in blocks of rows small enough for OpenBLAS to multiply on the calling thread
  (with its small-matrix kernel where it has one: see SMALL_PRODUCT);
- the rows shared between threads, one per BLAS thread: the products never wait for BLAS's threads;
- a softmax without its shift by the row maximum where the weights bound z (_exp_is_safe).
The same operations as feedforward on every row but for the order BLAS sums a row's products in (and
that shift): the same numbers to rounding. Fewer rows, or a network with a large layer (784-300),
take _outputs_in_blocks: the products shared by BLAS's own threads, no set-up.
Measured (`python benchmarks/inference_speed.py`, 10,000 float32 test images, 784-16-16-10, 2-core
Xeon, OpenBLAS SkylakeX): predict_probabilities 1.88 ms (PyTorch 2.23) against 2.7-3.3 ms in blocks
of 1,024 rows shared by BLAS's threads, and 3.85 ms as feedforward computes it.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .numpy_blas import numpy_openblas

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


# Products. OpenBLAS (numpy's wheels) multiplies a product of at most SINGLE_THREAD_PRODUCT
# multiply-adds (rows x n_in x n_out) on the calling thread, and with its small-matrix kernels
# (built for the AVX-512 machines SMALL_KERNEL_MACHINES) one of at most SMALL_PRODUCT when the second
# matrix is a contiguous (n_in, n_out) array: straight from the arrays, without first copying the
# inputs into a packed buffer, and on the calling thread whatever BLAS's thread count. So a layer is
# multiplied in blocks of that many rows, all the blocks in one np.matmul of a stack of them (one call
# from Python, so two threads seldom wait for each other's turn with the interpreter).
# Measured (2-core Xeon, OpenBLAS 0.3.31 SkylakeX, 5,000 test images, one thread): the video's first
# layer (784 x 16, so 79 rows a block) 1.12 ms in a stack of blocks of 79 rows, 1.19 in a Python loop
# over them, 1.55 in blocks of 1,024 (packed), 1.40 with W.T as a transposed view.
SINGLE_THREAD_PRODUCT = 65536 * 4  # OpenBLAS's SMP_THRESHOLD_MIN x GEMM_MULTITHREAD_THRESHOLD
SMALL_PRODUCT = 100 ** 3
SMALL_KERNEL_MACHINES = ("SkylakeX", "Cooperlake", "SapphireRapids")
# A block of fewer rows than this (784-300: 4 rows) costs more in calls than the kernel saves: such a
# network is multiplied BLOCK_ROWS rows at a time on one thread of ours, BLAS's threads sharing each
# product, as are a few hundred rows when BLAS may use more than one thread.
MIN_BLOCK_ROWS = 32
BLOCK_ROWS = 1024
# Rows one thread carries through all the layers before the next: a layer's z for 16,384 rows of 16
# neurons is 1 MB, which stays in the core's cache from its product to its squish.
GROUP_ROWS = 16384
# A thread is handed at least this many rows: below that, waking a helper thread costs more than it
# saves (784-16-16-10, 2 cores, float32: 2,048 rows 0.60 ms either way, 4,096 rows 1.07 ms in two
# threads against 1.38 ms in blocks shared by BLAS's threads; 8,000 rows 1.68 against 2.19).
MIN_THREAD_ROWS = 2048
# exp(z) of float32 stays normal and finite, ten of them summed, for |z| <= 80 (e^80 = 5.5e34, e^-80 = 1.8e-35).
EXP_SAFE = {np.dtype(np.float32): 80.0, np.dtype(np.float64): 700.0}


def product_into(a: np.ndarray, b: np.ndarray, out: np.ndarray, block_rows: int) -> np.ndarray:
    """out = a @ b for a `(rows, n)` and b `(n, m)`, block_rows rows a product."""
    if len(a) <= block_rows:
        return np.dot(a, b, out=out)
    whole = len(a) // block_rows * block_rows
    if whole:
        np.matmul(a[:whole].reshape(-1, block_rows, a.shape[1]), b, out=out[:whole].reshape(-1, block_rows, b.shape[1]))
    if whole < len(a):
        np.dot(a[whole:], b, out=out[whole:])
    return out


# A bias is added to a block of BIAS_ROWS rows at a time, repeated that many times into one flat
# array: numpy adds a (rows, 16) array and a (16,) one by broadcasting 16 numbers at a time (28 us for
# 5,000 rows, against 6 us for the same sum as flat arrays).
BIAS_ROWS = 256


@dataclass(frozen=True)
class _Layer:
    """One layer as outputs_into multiplies it."""

    weights_t: np.ndarray  # (n_in, n_out) W.T, a contiguous copy (as the small-matrix kernel wants it)
    biases: np.ndarray     # (BIAS_ROWS * n_out,) b repeated
    block_rows: int        # rows a product

    @classmethod
    def of(cls, weights: np.ndarray, biases: np.ndarray, block_rows: int) -> _Layer:
        return cls(np.ascontiguousarray(weights.T), np.tile(biases, BIAS_ROWS), block_rows)

    def weighted_sums_into(self, a: np.ndarray, z: np.ndarray) -> np.ndarray:
        """z = a @ W.T + b  `(rows, n_out)`, z C-contiguous."""
        product_into(a, self.weights_t, z, self.block_rows)
        flat, width = z.reshape(-1), len(self.biases)
        whole = len(flat) // width * width
        if whole:
            np.add(flat[:whole].reshape(-1, width), self.biases, out=flat[:whole].reshape(-1, width))
        if whole < len(flat):
            np.add(flat[whole:], self.biases[:len(flat) - whole], out=flat[whole:])
        return z


def _softmax_into(z: np.ndarray, sums: np.ndarray, row_max: np.ndarray, ones: np.ndarray, block_rows: int,
                  shift: bool) -> None:
    """Row-wise softmax of z `(rows, n)` in place, its reductions along the short rows done otherwise
    than numpy's (which reduces a row of 10 slowly: the maximum over 1,024 x 10 in 52 us):
    - the row maximum, when it is needed (see _exp_is_safe), is the maximum of the columns taken one at
      a time (7 us, and the same number: a maximum has no rounding), into row_max `(rows,)`;
    - the row sums are the product with an (n, n) matrix of ones, which writes each row's sum into
      every place of its row of sums `(rows, n)`: the division is then over two flat arrays (5,000 x 10:
      25 us against 100 by broadcasting); BLAS's order of summation."""
    if shift:
        np.maximum(z[:, 0], z[:, min(1, z.shape[1] - 1)], out=row_max)
        for column in range(2, z.shape[1]):
            np.maximum(row_max, z[:, column], out=row_max)
        np.subtract(z, row_max[:, np.newaxis], out=z)
    np.exp(z, out=z)
    product_into(z, ones, sums, block_rows)
    np.divide(z, sums, out=z)


def _exp_is_safe(weights: list[np.ndarray], biases: list[np.ndarray], activation: str) -> bool:
    """Whether the output layer's z is bounded so that e^z neither overflows nor loses precision, so
    that softmax needs no shift by the row maximum: the activations before it, sigmoid's or tanh's,
    lie in [-1, 1], so |z_j| <= sum_k |W_jk| + |b_j|."""
    if activation == "relu" or len(weights) < 2:  # ReLU's activations (and pixels) have no bound here
        return False
    bound = (np.abs(weights[-1]).sum(axis=1) + np.abs(biases[-1])).max()
    return bool(bound <= EXP_SAFE.get(weights[-1].dtype, 0.0))  # NaN compares False


@dataclass(frozen=True)
class _Plan:
    """How outputs_into computes a network's outputs: its layers, and the rows one thread carries."""

    layers: list[_Layer]
    activation: str
    output: str
    group: int             # rows through all the layers at a time
    shift: bool            # softmax subtracts the row maximum (not needed when _exp_is_safe)
    sum_block_rows: int    # rows a product in softmax's row sums

    def outputs_of_rows(self, inputs: np.ndarray, out: np.ndarray) -> None:
        """outputs_into for some rows, on the calling thread, `group` rows at a time."""
        squish_into = ACTIVATIONS_INTO[self.activation][0]
        dtype, n_out = inputs.dtype, self.layers[-1].weights_t.shape[1]
        buffers = [np.empty((self.group, layer.weights_t.shape[1]), dtype) for layer in self.layers[:-1]]
        sums, row_max, ones = np.empty((self.group, n_out), dtype), np.empty(self.group, dtype), np.ones((n_out, n_out), dtype)
        for start in range(0, len(inputs), self.group):
            a = inputs[start:start + self.group]
            rows = len(a)
            for layer, buffer in zip(self.layers[:-1], buffers):
                a = squish_into(layer.weighted_sums_into(a, buffer[:rows]), buffer[:rows])
            z = self.layers[-1].weighted_sums_into(a, out[start:start + rows])
            if self.output == "softmax":
                _softmax_into(z, sums[:rows], row_max[:rows], ones, self.sum_block_rows, self.shift)
            else:
                sigmoid_into(z, z)


def _outputs_in_blocks(weights: list[np.ndarray], biases: list[np.ndarray], activation: str, output: str,
                       inputs: np.ndarray, out: np.ndarray) -> None:
    """outputs_into for fewer than MIN_THREAD_ROWS rows or a network with a large layer: the first
    layer's products BLOCK_ROWS rows at a time and the narrow layers' GROUP_ROWS rows at a time, each
    shared by BLAS's own threads; no set-up (a drawing's one row: 20 us)."""
    squish_into = ACTIVATIONS_INTO[activation][0]
    group, dtype, n_out = min(GROUP_ROWS, len(inputs)), inputs.dtype, len(biases[-1])
    buffers = [np.empty((group, len(b)), dtype) for b in biases[:-1]]
    sums, row_max, ones = np.empty((group, n_out), dtype), np.empty(group, dtype), np.ones((n_out, n_out), dtype)
    last = len(weights) - 1
    for start in range(0, len(inputs), GROUP_ROWS):
        a = inputs[start:start + GROUP_ROWS]
        rows = len(a)
        for l, (w, b) in enumerate(zip(weights, biases)):
            z = out[start:start + rows] if l == last else buffers[l][:rows]
            product_into(a, w.T, z, BLOCK_ROWS if l == 0 else rows)  # z = a @ W.T + b  (rows, n_out)
            np.add(z, b, out=z)
            if l < last:
                a = squish_into(z, z)
        if output == "softmax":
            _softmax_into(z, sums[:rows], row_max[:rows], ones, rows, shift=True)
        else:
            sigmoid_into(z, z)


def outputs_into(weights: list[np.ndarray], biases: list[np.ndarray], activation: str, output: str,
                 inputs: np.ndarray, out: np.ndarray, threads: int | None = None) -> np.ndarray:
    """The output layer's activations for inputs `(n, n_0)` (of the weights' dtype) into out
    `(n, n_L)`, C-contiguous: network.feedforward's arithmetic, the rows shared among `threads`
    threads (by default as many as numpy's BLAS may use) where every product can run on its caller's
    thread and there are MIN_THREAD_ROWS rows or more (see the module's docstring)."""
    if not out.flags.c_contiguous:
        raise ValueError("outputs_into writes into a C-contiguous out")
    if len(inputs) < MIN_THREAD_ROWS:  # a drawing, a page of them: no set-up at all
        _outputs_in_blocks(weights, biases, activation, output, inputs, out)
        return out
    blas = numpy_openblas()  # its thread count is the user's say in how many cores we take
    largest = SMALL_PRODUCT if blas is not None and blas.architecture in SMALL_KERNEL_MACHINES else SINGLE_THREAD_PRODUCT
    on_caller = [min(largest // w.size, GROUP_ROWS) for w in weights]  # rows a product on the caller's thread
    blas_threads = blas.get_num_threads() if blas is not None else 1
    threads = max(1, min(blas_threads if threads is None else threads, len(inputs) // MIN_THREAD_ROWS))
    if min(on_caller) < MIN_BLOCK_ROWS or (threads == 1 and blas_threads > 1):
        _outputs_in_blocks(weights, biases, activation, output, inputs, out)  # BLAS's threads, if any
        return out
    group = min(GROUP_ROWS, -(-len(inputs) // threads))  # a thread's rows, up to GROUP_ROWS
    layers = [_Layer.of(w, b, min(rows, group)) for w, b, rows in zip(weights, biases, on_caller)]
    n_out = len(biases[-1])
    plan = _Plan(layers, activation, output, group, not _exp_is_safe(weights, biases, activation),
                 max(1, min(SINGLE_THREAD_PRODUCT // (n_out * n_out), group)))
    if threads == 1:
        plan.outputs_of_rows(inputs, out)
        return out
    errors = np.geterr()  # numpy's error state belongs to a thread: the helpers take the caller's

    def rows_of_part(part: int) -> None:
        first, last = len(inputs) * part // threads, len(inputs) * (part + 1) // threads
        with np.errstate(**errors):
            plan.outputs_of_rows(inputs[first:last], out[first:last])

    others = [_helpers(threads - 1).submit(rows_of_part, part) for part in range(1, threads)]
    rows_of_part(0)
    for other in others:
        other.result()  # re-raises a helper's exception here
    return out


@functools.cache
def _helpers(count: int) -> ThreadPoolExecutor:
    """`count` threads kept for inference's parts (made once: starting a thread costs ~50 us a call)."""
    return ThreadPoolExecutor(max_workers=count, thread_name_prefix="digitnet-inference")


# A forked child inherits the cache but not the threads: it makes its own.
os.register_at_fork(after_in_child=_helpers.cache_clear)
