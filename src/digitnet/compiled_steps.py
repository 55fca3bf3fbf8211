"""The compiled training step: fast_backprop.Workspace's mini-batch steps, many in one call (Numba).

A step of the video's network is ~1.6 MFLOP in its two first-layer matrix products (~15 us of BLAS)
but ~30 numpy calls around them, each about a microsecond, and Adam's dozen passes over the 13,002
parameters. compiled_kernels.train_steps makes the same products (numpy's own BLAS, called from the
compiled code) and does the squishes, the softmax, the deltas and the optimizer's update as compiled
loops in between, a run of steps (up to train's next progress report) per call: 27 us a step
instead of 61 (`python benchmarks/step_profile.py`, 2-core Xeon).

The parameters are the Workspace's own flat vector in its layout. The numbers are the NumPy fast
path's to float rounding: the same operations in the same order, but float32's tanh (and so the
sigmoid) is compiled_kernels.fast_tanh, within 6 units in the last place of np.tanh's, and
BLAS may round a product of another shape otherwise; tests/test_compiled_steps.py checks it.

Without Numba, or with DIGITNET_COMPILED=0, `runner` returns None and the Workspace runs its NumPy
steps: the fallback any machine has.
"""

from __future__ import annotations

import numpy as np

from .compiled_optimizers import SWITCH, available, kernel_arguments, next_steps  # noqa: F401 (SWITCH public here too)
from .optimizers import SMALLEST_NORMAL


def runner(workspace, optimizer, weight_decay: float, batch_size: int, buffers, chunk_rows: int, targets,
           weighted_sums, outputs, row_max, row_sum):
    """Workspace.runner's run(chunk, first_step, count), compiled, or None where it is not available."""
    if not available() or (arguments := kernel_arguments(optimizer)) is None:
        return None
    from . import compiled_kernels as kernels

    dtype, sizes = workspace.dtype, workspace.layer_sizes
    hidden, widest = sizes[1:-1], max(sizes[1:])
    codes = ({"sigmoid": kernels.SIGMOID, "relu": kernels.RELU, "tanh": kernels.TANH}[workspace.network.activation],
             {"sigmoid": kernels.OUTPUT_SIGMOID, "softmax": kernels.OUTPUT_SOFTMAX}[workspace.network.output],
             {"cross_entropy": kernels.CROSS_ENTROPY, "quadratic": kernels.QUADRATIC}[workspace.cost_name])
    scratch = (np.empty(batch_size * sum(n + 1 for n in hidden), dtype),   # each hidden layer's [a, 1]
               np.empty(batch_size * widest, dtype),                         # a layer's z
               np.empty(2 * batch_size * widest, dtype),                     # two layers' deltas
               np.empty(batch_size * (max(hidden, default=0) + 1), dtype))   # delta @ [W | b]
    layout = np.asarray(sizes, np.int64), np.asarray([start for start, _, _ in workspace._blocks], np.int64)
    code, first_state, second_state, momentum, beta1, beta2, epsilon = arguments
    rates = workspace.decay_rates(weight_decay) if weight_decay else np.empty(0, dtype)
    constants = tuple(dtype.type(value) for value in (0.5, 1, 0))
    train_steps, tiny = kernels.train_steps, SMALLEST_NORMAL[dtype]
    approximate = dtype == np.float32  # float32's tanh by compiled_kernels.fast_tanh

    def run(chunk: int, first_step: int, count: int):
        step_sizes, flushes = next_steps(optimizer, count)
        first_row = first_step * batch_size
        train_steps(buffers[chunk % 2], first_row - chunk * chunk_rows, targets, first_row, batch_size, count,
                    workspace.parameters, workspace.gradient, *layout, *codes, *scratch, weighted_sums, outputs,
                    row_max, row_sum, code, first_state, second_state, rates, step_sizes, flushes, momentum,
                    beta1, beta2, epsilon, tiny, *constants, approximate)

    run(0, 0, 0)  # no step: Numba loads the machine code now (~0.3 s; compiles it on a machine's first run),
    return run    # as part of start-up rather than of the first epoch
