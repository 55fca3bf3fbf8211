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
    """Whether the compiled path can run here: Numba importable, numpy's BLAS callable, not switched off."""
    if os.environ.get(SWITCH, "1") == "0":
        return False
    try:  # Numba's import (~0.15 s, once per process) and numpy's BLAS found (see compiled_kernels)
        from . import compiled_kernels  # noqa: F401
    except Exception:  # a broken install, or a numpy without the OpenBLAS of its wheels: NumPy's path
        return False
    return True


def kernel_arguments(optimizer):
    """What compiled_kernels needs of an optimizers.py optimizer over one flat vector, or None if it has
    no kernel: (code, first state, second state, momentum, beta1, beta2, epsilon), the states the
    optimizer's own arrays (empty where it keeps none), the constants in the parameters' dtype."""
    from . import compiled_kernels as kernels  # imports Numba: only once training is about to start
    from .optimizers import SGD, Adam, Momentum

    dtype = optimizer.parameters[0].dtype
    cast, none = dtype.type, np.empty(0, dtype)
    if type(optimizer) is Adam:
        beta1, beta2, epsilon = (cast(c) for c in optimizer.coefficients[0])
        return (kernels.ADAM, optimizer.scaled_first_moments[0], optimizer.scaled_second_moments[0], cast(0),
                beta1, beta2, epsilon)
    if type(optimizer) is Momentum:
        return kernels.MOMENTUM, optimizer.velocities[0], none, cast(optimizer.momentum), cast(0), cast(0), cast(0)
    if type(optimizer) is SGD:
        return kernels.SGD, none, none, cast(0), cast(0), cast(0), cast(0)
    return None


def next_steps(optimizer, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The optimizer's next `count` step sizes (in its parameters' dtype) and flush flags: its own step
    count, schedule and flush rhythm (optimizers.FLUSH_EVERY) move on as if it had taken them."""
    sizes, flushes = np.empty(count, optimizer.parameters[0].dtype), np.empty(count, np.bool_)
    for s in range(count):
        sizes[s], flushes[s] = optimizer._next_step_size(), optimizer._flush_now()
    return sizes, flushes


def step_function(optimizer, gradient: np.ndarray, decay_rates: np.ndarray | None):
    """optimizer.step_function([gradient], decay_rates) for its one flat parameter, compiled, or
    None where the compiled path is not available (or the optimizer has no kernel). Each call is one
    step: the optimizer's own step count, step size and flush schedule (optimizers.FLUSH_EVERY)."""
    if not available() or (arguments := kernel_arguments(optimizer)) is None:
        return None
    from . import compiled_kernels as kernels
    from .optimizers import SMALLEST_NORMAL

    parameters = optimizer.parameters[0]
    rates = decay_rates if decay_rates is not None else np.empty(0, parameters.dtype)
    tiny, cast = SMALLEST_NORMAL[parameters.dtype], parameters.dtype.type
    code, first, second, momentum, beta1, beta2, epsilon = arguments
    step_size, flush_now = optimizer._next_step_size, optimizer._flush_now  # one step's: no arrays made
    if code == kernels.ADAM:
        adam = kernels.adam_step
        return lambda: adam(parameters, gradient, rates, first, second, beta1, beta2, epsilon, cast(step_size()),
                            flush_now(), tiny)
    if code == kernels.MOMENTUM:
        step = kernels.momentum_step
        return lambda: step(parameters, gradient, rates, first, momentum, cast(step_size()), flush_now(), tiny)
    sgd = kernels.sgd_step
    return lambda: (flush_now(), sgd(parameters, gradient, rates, cast(step_size())))
