"""The optimizers' update over train's one flat parameter vector, compiled (Numba) where it can be.

optimizers.py's numpy update walks the vector a dozen times per step (m, v, the square, the root,
the sum, the quotient, ...), each pass a numpy call: over the video's 13,002 weights and biases
that is ~20 us of a ~60 us training step, and for 784-300-100-10 (266,610) ~580 us, most of its
step. compiled_kernels.py does the same operations in the same order in one pass: measured 6.8 and
261 us (`python benchmarks/step_profile.py`, 2-core Xeon), the numbers bit for bit numpy's here
(IEEE arithmetic has one answer for each operation; tests/test_compiled_optimizers.py checks it).

NumPy stays the reference and the fallback: without Numba, or with DIGITNET_COMPILED=0 in the
environment, `step_function` returns None and the optimizer takes its numpy path.
"""

from __future__ import annotations

import os

import numpy as np

SWITCH = "DIGITNET_COMPILED"  # "0": numpy only


def available() -> bool:
    """Whether the compiled update can run here: Numba importable, and not switched off."""
    if os.environ.get(SWITCH, "1") == "0":
        return False
    try:
        import numba  # noqa: F401  (~0.12 s, once per process; a broken install counts as none)
    except Exception:
        return False
    return True


def step_function(optimizer, gradient: np.ndarray, decay_rates: np.ndarray | None):
    """optimizer.step_function([gradient], decay_rates) for its one flat parameter, compiled, or
    None where the compiled path is not available (or the optimizer has no kernel). Each call is one
    step: the optimizer's own step count, step size and flush schedule (optimizers.FLUSH_EVERY)."""
    if not available():
        return None
    from . import compiled_kernels as kernels  # imports Numba: only once training is about to start
    from .optimizers import SGD, SMALLEST_NORMAL, Adam, Momentum

    parameters = optimizer.parameters[0]
    dtype = parameters.dtype
    cast = dtype.type
    rates = decay_rates if decay_rates is not None else np.empty(0, dtype)
    tiny = SMALLEST_NORMAL[dtype]
    next_size, flush_now = optimizer._next_step_size, optimizer._flush_now
    if type(optimizer) is Adam:
        m, v = optimizer.scaled_first_moments[0], optimizer.scaled_second_moments[0]
        beta1, beta2, epsilon = (cast(c) for c in optimizer.coefficients[0])
        adam = kernels.adam_step
        return lambda: adam(parameters, gradient, rates, m, v, beta1, beta2, epsilon, cast(next_size()),
                            flush_now(), tiny)
    if type(optimizer) is Momentum:
        velocities, momentum, step = optimizer.velocities[0], cast(optimizer.momentum), kernels.momentum_step
        return lambda: step(parameters, gradient, rates, velocities, momentum, cast(next_size()), flush_now(), tiny)
    if type(optimizer) is SGD:
        sgd = kernels.sgd_step
        return lambda: (flush_now(), sgd(parameters, gradient, rates, cast(next_size())))
    return None
