"""The NumPy fast path: training.backprop's math arranged for speed. backprop stays the readable
reference it is tested against. Where Numba is, `Workspace.runner` hands train the same steps
compiled (compiled_steps.py, tested against these); this is the path of any machine without it.

With the video's small layers a mini-batch step costs ~1.6 MFLOP in its two large matrix products
but ~40 numpy calls, each about a microsecond of overhead, so what costs is calling numpy, not
arithmetic. The workspace therefore:
- uses the bias trick: each layer keeps its weights and biases side by side as one matrix
  [W | b] `(n_out, n_in + 1)`, and every layer's input carries a last entry of 1, so
  W a + b = [W | b] [a; 1] is one matrix product, and the biases' gradient (delta summed over the
  batch) comes out of the weights' product as its last column: no add and no sum per layer;
- lays all layers' [W | b] one after another in one flat vector `parameters` (and the gradient in
  another of the same layout), so the optimizer updates every weight and bias with a dozen numpy
  calls per step instead of a dozen per array;
- keeps the hidden layers' activations transposed, `(n, batch)`, in buffers whose last row is all
  ones: the rows a matrix product writes are then one contiguous block, as BLAS needs, with the
  1s already below them;
- gives every z, a, delta and f'(a) a buffer made once, written with numpy's `out` argument, the
  squishes in place (the `_into` functions below);
- makes, before the first epoch, one function of no arguments per mini-batch (`step_function`)
  with every view, buffer and numpy function already looked up;
- takes the mean over the batch once, on the output layer's delta, from where it carries through
  every later product;
- writes the last layer's z and a (and for softmax each row's max z and sum of e^(z - max)) into
  epoch-long arrays that `train` passes in, so the cost and the training accuracy are computed from
  them once per progress report rather than at every step.
The arithmetic is backprop's, summed in another order (each bias inside its product, the softmax's
row sums as a matrix-vector product), so the numbers equal backprop's to float32 rounding;
tests/test_training.py checks that, and that `train` ends where a plain loop over backprop does.
"""

from __future__ import annotations

import math

import numpy as np

from . import compiled_steps
from .costs import output_delta
from .fast_inference import _HALF, _ONE, ACTIVATIONS_INTO, OUTPUTS_INTO, sigmoid_into  # noqa: F401 (public here too)
from .network import Network

def with_ones_column(images: np.ndarray) -> np.ndarray:
    """`(n, n_0)` -> `(n, n_0 + 1)`: each row followed by a 1, the input the biases multiply."""
    augmented = np.ones((len(images), images.shape[1] + 1), images.dtype)
    augmented[:, :-1] = images
    return augmented


class Workspace:
    """The parameters, buffers and fast backprop that `train` uses (see the module docstring).

    `parameters` starts as a copy of the network's weights and biases; `copy_to(network)` writes
    them back. `weights[l]`, `biases[l]` are views into it with the network's shapes, and
    `grad_weights[l]`, `grad_biases[l]` the same views into `gradient`, which receives
    d(mean cost)/d(parameters).
    """

    def __init__(self, network: Network, cost_name: str):
        self.network, self.cost_name, self.dtype = network, cost_name, network.dtype
        self.layer_sizes = network.layer_sizes
        shapes = [(n_out, n_in + 1) for n_in, n_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:])]
        sizes = [math.prod(shape) for shape in shapes]
        ends = np.cumsum(sizes)
        self._blocks = list(zip(ends - sizes, ends, shapes))
        self.parameters = np.empty(int(ends[-1]), self.dtype)
        self.gradient = np.empty_like(self.parameters)
        self.weights_and_biases = self._layers_of(self.parameters)
        self.gradients = self._layers_of(self.gradient)
        self.weights = [block[:, :-1] for block in self.weights_and_biases]    # (n_out, n_in) views
        self.biases = [block[:, -1] for block in self.weights_and_biases]      # (n_out,) views
        self.grad_weights = [block[:, :-1] for block in self.gradients]
        self.grad_biases = [block[:, -1] for block in self.gradients]
        for mine, theirs in zip(self.weights + self.biases, network.weights + network.biases):
            mine[...] = theirs
        self.squish_into, self.derivative_into = ACTIVATIONS_INTO[network.activation]
        self.output_into = OUTPUTS_INTO[network.output]
        self.scratch = np.empty_like(self.parameters)
        self.buffers = {}  # batch length -> its buffers

    def _layers_of(self, flat: np.ndarray) -> list[np.ndarray]:
        """A vector laid out like `parameters` as each layer's [W | b] `(n_out, n_in + 1)` (views)."""
        return [flat[start:stop].reshape(shape) for start, stop, shape in self._blocks]

    def copy_to(self, network: Network):
        """Write the current weights and biases into the network's own arrays (in place)."""
        for theirs, mine in zip(network.weights + network.biases, self.weights + self.biases):
            theirs[...] = mine

    def _buffers_for(self, rows: int):
        """For a batch of `rows`: the hidden layers' activations, transposed with a row of ones below
        `(n_l + 1, rows)`; their deltas and f'(a), transposed `(n_l, rows)`; the output layer's delta
        `(rows, n_L)`; a vector of n_L ones; and the batch length."""
        if rows not in self.buffers:
            hidden = self.layer_sizes[1:-1]
            self.buffers[rows] = (
                [np.ones((n + 1, rows), self.dtype) for n in hidden],
                [np.empty((n, rows), self.dtype) for n in hidden],
                [np.empty((n, rows), self.dtype) for n in hidden],
                np.empty((rows, self.layer_sizes[-1]), self.dtype),
                np.ones(self.layer_sizes[-1], self.dtype),
                np.array(rows, self.dtype),
            )
        return self.buffers[rows]

    def backprop(self, inputs, targets, weighted_sums, outputs, row_max, row_sum):
        """`training.backprop` for one mini-batch, into `self.gradient`.

        inputs `(batch, n_0)`, targets `(batch, n_L)`; the last layer's z and a are written into
        `weighted_sums` and `outputs`, both `(batch, n_L)`, and for a softmax output each row's max
        z and sum of e^(z - max) into `row_max` and `row_sum`, both `(batch, 1)`.
        """
        self.step_function(with_ones_column(inputs), targets, weighted_sums, outputs, row_max, row_sum)()

    def step_function(self, inputs, targets, weighted_sums, outputs, row_max, row_sum):
        """`backprop` as a function of no arguments, for `inputs` that already carry their column of
        ones `(batch, n_0 + 1)` (see with_ones_column); every view, buffer and numpy function it uses
        is looked up once, here, rather than at every call."""
        rows = len(inputs)
        hidden, hidden_deltas, derivatives, output_delta_buffer, output_ones, batch_length = self._buffers_for(rows)
        layer_inputs = [inputs] + [a.T for a in hidden]    # each layer's input with its 1s (rows, n_in + 1)
        deltas = hidden_deltas + [output_delta_buffer.T]   # each layer's delta, transposed (n_out, rows)
        last = len(self.weights) - 1
        add, subtract, multiply, divide, tanh, exp, dot = np.add, np.subtract, np.multiply, np.divide, np.tanh, np.exp, np.dot
        half, one = _HALF, _ONE  # sigmoid_into's constants
        sigmoid_hidden = self.squish_into is sigmoid_into
        squish_into, derivative_into, output_into = self.squish_into, self.derivative_into, self.output_into
        softmax_output = self.network.output == "softmax"
        cross_entropy = self.cost_name == "cross_entropy"
        network, cost_name = self.network, self.cost_name
        # hidden layers: ([W | b], the input transposed (n_in + 1, rows), where a^T goes (n_out, rows))
        forward = [(self.weights_and_biases[l], layer_inputs[l].T, hidden[l][:-1]) for l in range(last)]
        last_input, last_weights_and_biases_t = layer_inputs[last], self.weights_and_biases[last].T
        row_sum_vector = row_sum.reshape(rows)
        # layers L .. 2: (delta^T, input with 1s, [grad W | grad b], W^T, previous delta^T, a_l^T, f'(a_l)^T)
        backward = [(deltas[l], layer_inputs[l], self.gradients[l], self.weights[l].T, deltas[l - 1],
                     hidden[l - 1][:-1], derivatives[l - 1]) for l in range(last, 0, -1)]
        first_delta, first_gradient = deltas[0], self.gradients[0]

        def step():
            for weights_and_biases, a_in, a in forward:
                dot(weights_and_biases, a_in, out=a)        # z^T = [W | b] [a; 1]^T  (n_out, rows)
                if sigmoid_hidden:                      # a = f(z): sigmoid_into, inline
                    multiply(half, a, out=a)
                    tanh(a, out=a)
                    add(one, a, out=a)
                    multiply(half, a, out=a)
                else:
                    squish_into(a, a)
            dot(last_input, last_weights_and_biases_t, out=weighted_sums)  # z = [a, 1] [W | b]^T  (rows, n_L)
            if softmax_output:                          # softmax_into, its row sums as one product
                subtract(weighted_sums, weighted_sums.max(axis=1, keepdims=True, out=row_max), out=outputs)
                exp(outputs, out=outputs)
                dot(outputs, output_ones, out=row_sum_vector)
                divide(outputs, row_sum, out=outputs)
            else:
                output_into(weighted_sums, outputs)
            if cross_entropy:
                subtract(outputs, targets, out=output_delta_buffer)  # see costs.output_delta
            else:
                output_delta_buffer[...] = output_delta(network, outputs, targets, cost_name)
            divide(output_delta_buffer, batch_length, out=output_delta_buffer)  # the mean over the batch
            for delta, a_in, gradient, weights_t, previous, a, derivative in backward:
                dot(delta, a_in, out=gradient)              # [grad W | grad b] = delta^T [a, 1]  (n_out, n_in + 1)
                dot(weights_t, delta, out=previous)         # delta_l^T = (W^T delta_{l+1}^T) * f'(a_l)^T
                if sigmoid_hidden:                      # f'(a) = a (1 - a)
                    subtract(one, a, out=derivative)
                    multiply(a, derivative, out=derivative)
                    multiply(previous, derivative, out=previous)
                else:
                    multiply(previous, derivative_into(a, derivative), out=previous)
            dot(first_delta, inputs, out=first_gradient)

        return step

    def runner(self, optimizer, weight_decay: float, batch_size: int, buffers, chunk_rows: int, targets,
               weighted_sums, outputs, row_max, row_sum):
        """run(chunk, first_step, steps): the epoch's mini-batches first_step.. (`steps` of them, all in
        chunk `chunk`, whose inputs with their 1s are in buffers[chunk % 2]), each a step of backprop,
        weight decay and `optimizer`'s update. Every mini-batch's function is made here, once, over
        its rows of the buffers and of the epoch-long arrays (see step_function). Where Numba is,
        the same steps run compiled, many per call (compiled_steps.py)."""
        compiled = compiled_steps.runner(self, optimizer, weight_decay, batch_size, buffers, chunk_rows, targets,
                                         weighted_sums, outputs, row_max, row_sum)
        if compiled is not None:
            return compiled
        n, steps = len(targets), []
        epoch_arrays = (targets, weighted_sums, outputs, row_max, row_sum)
        for start in range(0, n, batch_size):
            chunk, row = divmod(start, chunk_rows)
            inputs = buffers[chunk % 2][row:row + min(batch_size, n - start)]
            steps.append(self.step_function(inputs, *(array[start:start + batch_size] for array in epoch_arrays)))
        # gradient += weight_decay * weights (not the biases), then the update, block by block
        optimizer_step = optimizer.step_function([self.gradient], self.decay_rates(weight_decay) if weight_decay else None)

        def run(chunk: int, first_step: int, count: int):
            for backprop_step in steps[first_step:first_step + count]:
                backprop_step()  # this mini-batch's gradient; the last layer's results kept
                optimizer_step()

        return run

    def decay_rates(self, weight_decay: float) -> np.ndarray:
        """weight_decay at every weight, 0 at the biases (which are not decayed), laid out like `parameters`."""
        rates = np.zeros_like(self.parameters)
        for block in self._layers_of(rates):
            block[:, :-1] = weight_decay
        return rates

    def add_weight_decay(self, weight_decay: float):
        """gradient += weight_decay * weights, for all layers at once (the biases are not decayed)."""
        np.add(self.gradient, np.multiply(self.decay_rates(weight_decay), self.parameters, out=self.scratch),
               out=self.gradient)
