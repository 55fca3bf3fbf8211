"""Machine-code kernels (Numba) for the optimizers' update; compiled_optimizers.py is their only caller.

Importing this module imports Numba (~0.2 s) and loads the kernels from Numba's cache (compiled on a
machine's first training run, ~2 s, then never again), so only training imports it.

Each kernel is one of optimizers.py's updates over one flat vector, with L2 weight decay first:
the same operations in the same order as the numpy code, element by element in one pass instead
of a dozen passes (no `fastmath`: IEEE rounding, no fused multiply-adds, NaN and infinity passed
on, so numpy's numbers and the divergence check's). `flush` sets moments smaller than the smallest
normal number to 0, as optimizers._flush does every FLUSH_EVERY steps.
"""

from __future__ import annotations

import math

import numba


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _decayed(gradient, decay_rates, parameters):
    """gradient += decay_rates * parameters (0-length decay_rates: no decay)."""
    if len(decay_rates):
        for i in range(len(parameters)):
            gradient[i] = gradient[i] + decay_rates[i] * parameters[i]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def sgd_step(parameters, gradient, decay_rates, learning_rate):
    """SGD: w <- w - eta g."""
    _decayed(gradient, decay_rates, parameters)
    for i in range(len(parameters)):
        parameters[i] = parameters[i] - learning_rate * gradient[i]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def momentum_step(parameters, gradient, decay_rates, velocities, momentum, learning_rate, flush, smallest_normal):
    """Momentum: v <- mu v - eta g ; w <- w + v."""
    _decayed(gradient, decay_rates, parameters)
    for i in range(len(parameters)):
        velocity = velocities[i] * momentum - learning_rate * gradient[i]
        parameters[i] = parameters[i] + velocity
        velocities[i] = velocity
    if flush:
        for i in range(len(parameters)):
            if abs(velocities[i]) < smallest_normal:
                velocities[i] = 0


@numba.njit(cache=True, nogil=True, error_model="numpy")
def adam_step(parameters, gradient, decay_rates, m, v, beta1, beta2, epsilon, step_size, flush, smallest_normal):
    """Adam, moments kept scaled as optimizers.Adam keeps them:
    m' <- beta1 m' + g ; v' <- beta2 v' + g^2 ; w <- w - step (m' / (sqrt(v') + epsilon'))."""
    _decayed(gradient, decay_rates, parameters)
    zero = parameters.dtype.type(0)
    for i in range(len(parameters)):
        g = gradient[i]
        first = m[i] * beta1 + g
        second = v[i] * beta2 + g * g
        parameters[i] = parameters[i] - (first / (math.sqrt(second) + epsilon)) * step_size
        if flush:  # loop-invariant: the compiler makes two loops of it
            first = first if abs(first) >= smallest_normal or first != first else zero
            second = second if second >= smallest_normal or second != second else zero
        m[i], v[i] = first, second
