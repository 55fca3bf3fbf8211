"""Optimizers: how to step downhill once backpropagation has given the gradient.

Each updates its parameters in place; `train` hands them one flat vector holding every weight and
bias (see fast_backprop.Workspace), the tests also per array.
"""

from __future__ import annotations

import math

import numpy as np

from . import compiled_optimizers
from .validation import OneOf, Real, check_parameters

OPTIMIZERS = ("adam", "momentum", "sgd")
# The flat step walks the parameters this many at a time: a block's weights, gradient, moments and
# scratch (64 KB each in float32) stay in the core's cache through all of an update's passes, where
# one pass over the whole vector would evict them before the next. Measured (timeit, numpy 2.4,
# 2-core Xeon): 266,610 parameters (784-300-100-10) 547 us a step in blocks against 758 us whole;
# 13,002 (the video's, one block) 21 us either way; blocks of 4,096 lose to numpy's per-call cost.
BLOCK_ELEMENTS = 16_384
# The smallest normal number of each float dtype. A moment or velocity whose gradient has gone to ~0
# decays through the subnormal numbers below it on its way to 0, and x86 takes each subnormal
# through a microcode assist ~100 times slower than a normal operation: 2% of Adam's m subnormal after
# two epochs made its step 58 us instead of 23 (784-16-16-10). So the updates set them to 0 (`_flush`).
# No weight can tell: an update that small is far below a float32 weight's last bit. The weights
# themselves are flushed too: with weight decay, Adam shrinks a weight whose input is always 0 (MNIST's
# corner pixels) geometrically once its gradient is below epsilon, and 490 of the first layer's went
# subnormal within 6 epochs, which made each epoch 0.04 s slower (a product reading them is slowed
# as much). A weight below 1.2e-38 is 0 to anything it multiplies. The test costs
# five numpy calls, ~6 us of a 70 us step, so it runs every FLUSH_EVERY steps: a moment decaying by
# beta1 = 0.9 a step takes ~150 steps to cross the subnormal range, so at most 8 of them are spent there.
FLUSH_EVERY = 8
SMALLEST_NORMAL = {np.dtype(np.float32): np.float32(np.finfo(np.float32).tiny),
                   np.dtype(np.float64): np.float64(np.finfo(np.float64).tiny)}


def _flush(state: np.ndarray, scratch: np.ndarray) -> None:
    """Set the entries of `state` smaller in size than the smallest normal number to 0, in place."""
    np.multiply(state, np.greater_equal(np.abs(state, out=scratch), SMALLEST_NORMAL[state.dtype]), out=state)


class Optimizer:
    """Updates parameters in place from their gradients. Subclasses define `update`.

    Each update writes its intermediate results into a preallocated `scratch` array of the
    parameter's shape (numpy's `out=`) instead of new arrays, and takes its constants as 0-d arrays
    of the parameter's dtype, which numpy handles about twice as fast as Python floats: the same
    arithmetic, without the overhead that dominates on small arrays.
    """

    def __init__(self, parameters: list[np.ndarray], learning_rate: float):
        self.parameters = parameters
        self.learning_rate = learning_rate
        self.scratch = [np.empty_like(p) for p in parameters]
        self.updates = 0  # steps taken: every FLUSH_EVERY-th also flushes the subnormal state to 0

    def _flush_now(self) -> bool:
        """Count a step; whether this one flushes (see FLUSH_EVERY)."""
        self.updates += 1
        return self.updates % FLUSH_EVERY == 0

    def step(self, gradients: list[np.ndarray]):
        flush = self._flush_now()
        for index, (parameter, gradient) in enumerate(zip(self.parameters, gradients)):
            self.update(index, parameter, gradient, flush)

    def step_function(self, gradients: list[np.ndarray], decay_rates: np.ndarray | None = None):
        """`step(gradients)` as a function of no arguments. For one flat parameter (train's) it first
        adds decay_rates * parameter to the gradient (L2 weight decay; 0 where not decayed) if given,
        and walks the vector in blocks of BLOCK_ELEMENTS, each block's views made once, here: the same
        arithmetic element by element, so the same numbers as `step`."""
        if len(self.parameters) != 1:
            assert decay_rates is None, "weight decay here is for one flat parameter"
            return lambda: self.step(gradients)
        compiled = compiled_optimizers.step_function(self, gradients[0], decay_rates)
        if compiled is not None:  # one compiled pass, the same numbers
            return compiled
        parameter, gradient, scratch = self.parameters[0], gradients[0], self.scratch[0]
        blocks = []
        for start in range(0, len(parameter), BLOCK_ELEMENTS):
            part = slice(start, start + BLOCK_ELEMENTS)
            decay = None if decay_rates is None else (gradient[part], decay_rates[part], parameter[part], scratch[part])
            blocks.append((decay, self._block_arrays(part, gradient)))
        update, step_size, flush_now = self._update, self._next_step_size, self._flush_now

        def step():
            size, flush = step_size(), flush_now()
            for decay, arrays in blocks:
                if decay is not None:
                    block_gradient, rates, block_parameter, block_scratch = decay
                    np.add(block_gradient, np.multiply(rates, block_parameter, out=block_scratch), out=block_gradient)
                update(*arrays, size, flush)

        return step

    def _next_step_size(self) -> float:
        return self.learning_rate

    def constants(self, *values: float) -> list[tuple[np.ndarray, ...]]:
        """`values` as 0-d arrays, one tuple per parameter, of that parameter's dtype."""
        return [tuple(np.array(value, p.dtype) for value in values) for p in self.parameters]


class SGD(Optimizer):
    """Plain gradient descent: w <- w - eta * grad."""

    def update(self, index, parameter, gradient, flush=False):
        self._update(parameter, gradient, self.scratch[index], self.learning_rate)

    @staticmethod
    def _update(parameter, gradient, scratch, learning_rate, flush=False):  # no state to flush
        np.subtract(parameter, np.multiply(learning_rate, gradient, out=scratch), out=parameter)

    def _block_arrays(self, part: slice, gradient: np.ndarray) -> tuple:
        return self.parameters[0][part], gradient[part], self.scratch[0][part]


class Momentum(Optimizer):
    """Gradient descent with momentum: v <- mu v - eta grad ; w <- w + v (a ball rolling downhill)."""

    def __init__(self, parameters, learning_rate, momentum=0.9):
        super().__init__(parameters, learning_rate)
        self.momentum = momentum
        self.velocities = [np.zeros_like(p) for p in parameters]

    def update(self, index, parameter, gradient, flush=True):
        self._update(parameter, gradient, self.velocities[index], self.scratch[index], self.momentum,
                     self.learning_rate, flush)

    @staticmethod
    def _update(parameter, gradient, velocity, scratch, momentum, learning_rate, flush):
        np.multiply(velocity, momentum, out=velocity)
        np.subtract(velocity, np.multiply(learning_rate, gradient, out=scratch), out=velocity)
        np.add(parameter, velocity, out=parameter)
        if flush:
            _flush(velocity, scratch)
            _flush(parameter, scratch)

    def _block_arrays(self, part: slice, gradient: np.ndarray) -> tuple:
        return self.parameters[0][part], gradient[part], self.velocities[0][part], self.scratch[0][part], self.momentum


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): momentum on the gradient, scaled by its running RMS, bias-corrected:
        m <- beta1 m + (1 - beta1) g ;  v <- beta2 v + (1 - beta2) g^2
        w <- w - eta (sqrt(1 - beta2^t) / (1 - beta1^t)) m / (sqrt(v) + epsilon)
    It keeps m / (1 - beta1) and v / (1 - beta2) instead of m and v, and folds those constant
    factors into the step size and epsilon: the same update, with two fewer passes over the
    parameters per step (the scaled v reaches float32's limit at gradients of ~6e17 rather than
    ~2e19: both far past where training has already diverged and stops). beta1, beta2 and epsilon
    are fixed when it is made. Moments below the smallest normal float become 0 (see _flush)."""

    def __init__(self, parameters, learning_rate, beta1=0.9, beta2=0.999, epsilon=1e-8):
        super().__init__(parameters, learning_rate)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self.scaled_first_moments = [np.zeros_like(p) for p in parameters]   # m / (1 - beta1)
        self.scaled_second_moments = [np.zeros_like(p) for p in parameters]  # v / (1 - beta2)
        self.denominators = [np.empty_like(p) for p in parameters]  # scratch for sqrt(v / (1 - beta2)) + epsilon'
        # m / (sqrt(v) + epsilon) = (1 - beta1) / sqrt(1 - beta2) * m' / (sqrt(v') + epsilon / sqrt(1 - beta2))
        self.coefficients = self.constants(beta1, beta2, epsilon / math.sqrt(1 - beta2))
        self.moment_scale = (1 - beta1) / math.sqrt(1 - beta2)
        self.steps = 0

    def next_step_size(self) -> float:
        """Count a step; its size: eta, bias-corrected as the paper's efficient form does, times moment_scale."""
        self.steps += 1
        return (self.learning_rate * self.moment_scale * math.sqrt(1 - self.beta2 ** self.steps)
                / (1 - self.beta1 ** self.steps))

    def step(self, gradients):
        self.step_size = self.next_step_size()
        super().step(gradients)

    def update(self, index, parameter, gradient, flush=True):
        self._update(parameter, gradient, self.scaled_first_moments[index], self.scaled_second_moments[index],
                     self.scratch[index], self.denominators[index], *self.coefficients[index], self.step_size, flush)

    @staticmethod
    def _update(parameter, gradient, m, v, scratch, denominator, beta1, beta2, epsilon, step_size, flush):
        """One Adam step in place, m and v kept scaled (see the class docstring)."""
        np.multiply(m, beta1, out=m)                # m' <- beta1 m' + g
        np.add(m, gradient, out=m)
        np.multiply(v, beta2, out=v)                # v' <- beta2 v' + g^2
        np.add(v, np.multiply(gradient, gradient, out=scratch), out=v)
        np.sqrt(v, out=denominator)                 # w <- w - step m' / (sqrt(v') + epsilon')
        np.add(denominator, epsilon, out=denominator)
        np.subtract(parameter, np.multiply(np.divide(m, denominator, out=scratch), step_size, out=scratch), out=parameter)
        if flush:
            _flush(parameter, scratch)
            _flush(m, scratch)  # v is never negative: its test needs no abs
            np.multiply(v, np.greater_equal(v, SMALLEST_NORMAL[v.dtype]), out=v)

    def _block_arrays(self, part: slice, gradient: np.ndarray) -> tuple:
        return (self.parameters[0][part], gradient[part], self.scaled_first_moments[0][part],
                self.scaled_second_moments[0][part], self.scratch[0][part], self.denominators[0][part],
                *self.coefficients[0])

    def _next_step_size(self) -> float:
        return self.next_step_size()


OPTIMIZER_CONSTRAINTS = {
    "name": OneOf(OPTIMIZERS),
    "learning_rate": Real(0, exclusive_low=True),
    "momentum": Real(0, 1, exclusive_high=True),
}


def make_optimizer(name: str, parameters: list[np.ndarray], learning_rate: float, momentum: float = 0.9) -> Optimizer:
    """The optimizer called `name` (one of OPTIMIZERS) over `parameters`; an unknown name is an error."""
    check_parameters("optimizer", OPTIMIZER_CONSTRAINTS, name=name, learning_rate=learning_rate, momentum=momentum)
    if name == "sgd":
        return SGD(parameters, learning_rate)
    if name == "momentum":
        return Momentum(parameters, learning_rate, momentum)
    return Adam(parameters, learning_rate)
