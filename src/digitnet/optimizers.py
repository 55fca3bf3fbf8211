"""Optimizers: how to step downhill once backpropagation has given the gradient.

Each updates its parameters in place; `train` hands them one flat vector holding every weight and
bias (see training._Workspace), the tests also per array.
"""

from __future__ import annotations

import math

import numpy as np

OPTIMIZERS = ("adam", "momentum", "sgd")


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

    def step(self, gradients: list[np.ndarray]):
        for index, (parameter, gradient) in enumerate(zip(self.parameters, gradients)):
            self.update(index, parameter, gradient)

    def step_function(self, gradients: list[np.ndarray]):
        """`step(gradients)` as a function of no arguments (subclasses make faster ones)."""
        return lambda: self.step(gradients)

    def constants(self, *values: float) -> list[tuple[np.ndarray, ...]]:
        """`values` as 0-d arrays, one tuple per parameter, of that parameter's dtype."""
        return [tuple(np.array(value, p.dtype) for value in values) for p in self.parameters]


class SGD(Optimizer):
    """Plain gradient descent: w <- w - eta * grad."""

    def update(self, index, parameter, gradient):
        parameter -= np.multiply(self.learning_rate, gradient, out=self.scratch[index])


class Momentum(Optimizer):
    """Gradient descent with momentum: v <- mu v - eta grad ; w <- w + v (a ball rolling downhill)."""

    def __init__(self, parameters, learning_rate, momentum=0.9):
        super().__init__(parameters, learning_rate)
        self.momentum = momentum
        self.velocities = [np.zeros_like(p) for p in parameters]

    def update(self, index, parameter, gradient):
        velocity = self.velocities[index]
        velocity *= self.momentum
        velocity -= np.multiply(self.learning_rate, gradient, out=self.scratch[index])
        parameter += velocity


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): momentum on the gradient, scaled by its running RMS, bias-corrected.
    beta1, beta2 and epsilon are fixed when it is made (as 0-d arrays, see Optimizer)."""

    def __init__(self, parameters, learning_rate, beta1=0.9, beta2=0.999, epsilon=1e-8):
        super().__init__(parameters, learning_rate)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self.first_moments = [np.zeros_like(p) for p in parameters]
        self.second_moments = [np.zeros_like(p) for p in parameters]
        self.denominators = [np.empty_like(p) for p in parameters]  # scratch for sqrt(v) + epsilon
        self.coefficients = self.constants(beta1, 1 - beta1, beta2, 1 - beta2, epsilon)
        self.steps = 0

    def step(self, gradients):
        self.steps += 1
        # Fold the bias corrections into one step size, as the paper's efficient form does.
        self.step_size = self.learning_rate * math.sqrt(1 - self.beta2 ** self.steps) / (1 - self.beta1 ** self.steps)
        super().step(gradients)

    def update(self, index, parameter, gradient):
        beta1, one_minus_beta1, beta2, one_minus_beta2, epsilon = self.coefficients[index]
        m, v = self.first_moments[index], self.second_moments[index]
        scratch, denominator = self.scratch[index], self.denominators[index]
        m *= beta1                                                 # m <- beta1 m + (1 - beta1) g
        m += np.multiply(one_minus_beta1, gradient, out=scratch)
        v *= beta2                                                 # v <- beta2 v + (1 - beta2) g^2
        v += np.multiply(np.multiply(one_minus_beta2, gradient, out=scratch), gradient, out=scratch)
        np.sqrt(v, out=denominator)                                # w <- w - step m / (sqrt(v) + epsilon)
        denominator += epsilon
        parameter -= np.divide(np.multiply(self.step_size, m, out=scratch), denominator, out=scratch)


    def step_function(self, gradients):
        """`step(gradients)` as a function of no arguments. For one parameter (train's flat vector) every
        array, constant and numpy function is looked up once, here: the same numpy calls as `update`,
        in the same order (out arrays passed positionally, which numpy parses faster), so the same
        numbers, with a fraction of the Python overhead."""
        if len(self.parameters) != 1:
            return super().step_function(gradients)
        parameter, gradient = self.parameters[0], gradients[0]
        beta1, one_minus_beta1, beta2, one_minus_beta2, epsilon = self.coefficients[0]
        m, v = self.first_moments[0], self.second_moments[0]
        scratch, denominator = self.scratch[0], self.denominators[0]
        multiply, add, subtract, divide, sqrt = np.multiply, np.add, np.subtract, np.divide, np.sqrt
        square_root = math.sqrt

        def step():
            self.steps = steps = self.steps + 1
            self.step_size = step_size = (self.learning_rate * square_root(1 - self.beta2 ** steps)
                                          / (1 - self.beta1 ** steps))
            multiply(m, beta1, m)
            add(m, multiply(one_minus_beta1, gradient, scratch), m)
            multiply(v, beta2, v)
            add(v, multiply(multiply(one_minus_beta2, gradient, scratch), gradient, scratch), v)
            sqrt(v, denominator)
            add(denominator, epsilon, denominator)
            subtract(parameter, divide(multiply(step_size, m, scratch), denominator, scratch), parameter)

        return step


def make_optimizer(name: str, parameters: list[np.ndarray], learning_rate: float, momentum: float) -> Optimizer:
    if name == "sgd":
        return SGD(parameters, learning_rate)
    if name == "momentum":
        return Momentum(parameters, learning_rate, momentum)
    return Adam(parameters, learning_rate)
