"""Machine-code kernels (Numba): the optimizers' updates (compiled_optimizers.py) and whole training
steps (compiled_steps.py), their only callers.

Importing this module imports Numba (~0.15 s); the first call of a kernel loads its machine code
from Numba's cache (~0.3 s, with LLVM's start), or on a machine's first run compiles it (~5 s,
then never again). So only training imports it: evaluate, predict and the explorer never pay it.

The optimizer kernels do optimizers.py's numpy operations in numpy's order with IEEE arithmetic (no
`fastmath`: no fused multiply-adds, NaN and infinity passed on), one pass instead of a dozen, so
their numbers are numpy's. `error_model="numpy"` everywhere: a division by 0 gives inf as numpy's
does, and lets the loops compile to vector instructions (Python's model checks each division).
"""

from __future__ import annotations

import ctypes
import math

import numba
import numpy as np
from llvmlite import binding

from .errors import DigitnetError
from .numpy_blas import numpy_openblas


def _register_numpy_blas() -> None:
    """Make numpy's own OpenBLAS's cblas_sgemm and cblas_dgemm callable from the kernels by name.

    Numba's np.dot would call SciPy's BLAS, and importing SciPy's BLAS takes 0.27 s and 24 MB in every
    training process; numpy's wheels already carry OpenBLAS (the ILP64 build, whose symbols are
    scipy_cblas_?gemm64_), which also means train's one-BLAS-thread limit covers these products. The
    kernels refer to the functions by name, so Numba's cached machine code stays valid in every process.
    """
    library = numpy_openblas()
    if library is not None:
        blas = ctypes.CDLL(library.filepath)
        try:
            for ours, theirs in (("digitnet_sgemm", "scipy_cblas_sgemm64_"), ("digitnet_dgemm", "scipy_cblas_dgemm64_")):
                binding.add_symbol(ours, ctypes.cast(getattr(blas, theirs), ctypes.c_void_p).value)
            return
        except AttributeError:
            pass
    raise DigitnetError("numpy's BLAS is not the OpenBLAS of its wheels: the compiled steps cannot call it")


def _load_numba_without_scipy_blas() -> None:
    """Load Numba's typing and lowering registries now, with SciPy's linear algebra hidden from it.

    At its first compilation or cache load Numba imports numba.np.arraymath, which imports scipy.linalg
    (and numpy.f2py) to find a BLAS for np.dot: 0.24 s and 15 MB in every training process, for
    products these kernels make with numpy's BLAS instead (see _register_numpy_blas). A None in
    sys.modules makes that import fail as if SciPy were missing, which Numba accepts (np.dot is then
    unavailable to Numba code in this process); the entry is removed at once, so scipy.linalg imports
    normally for anything else."""
    import sys

    from numba.core.registry import cpu_target

    hidden = "scipy.linalg" not in sys.modules
    if hidden:
        sys.modules["scipy.linalg"] = None
    try:
        cpu_target.target_context.refresh()
    finally:
        if hidden:
            del sys.modules["scipy.linalg"]


_register_numpy_blas()
_load_numba_without_scipy_blas()
_GEMM_ARGUMENTS = (numba.int32, numba.int32, numba.int32, numba.int64, numba.int64, numba.int64)
_sgemm = numba.types.ExternalFunction("digitnet_sgemm", numba.void(
    *_GEMM_ARGUMENTS, numba.float32, numba.intp, numba.int64, numba.intp, numba.int64, numba.float32, numba.intp,
    numba.int64))
_dgemm = numba.types.ExternalFunction("digitnet_dgemm", numba.void(
    *_GEMM_ARGUMENTS, numba.float64, numba.intp, numba.int64, numba.intp, numba.int64, numba.float64, numba.intp,
    numba.int64))
_ROW_MAJOR, _NO_TRANSPOSE, _TRANSPOSE = 101, 111, 112  # CBLAS's enums


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
            if abs(parameters[i]) < smallest_normal:
                parameters[i] = 0


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
        weight = parameters[i] - (first / (math.sqrt(second) + epsilon)) * step_size
        if flush:  # loop-invariant: the compiler makes two loops of it
            weight = weight if abs(weight) >= smallest_normal or weight != weight else zero
            first = first if abs(first) >= smallest_normal or first != first else zero
            second = second if second >= smallest_normal or second != second else zero
        parameters[i], m[i], v[i] = weight, first, second


SIGMOID, RELU, TANH = 0, 1, 2          # hidden activation codes (compiled_steps.runner maps the names)
OUTPUT_SIGMOID, OUTPUT_SOFTMAX = 0, 1  # output layer codes
CROSS_ENTROPY, QUADRATIC = 0, 1        # cost codes
SGD, MOMENTUM, ADAM = 0, 1, 2          # optimizer codes


# tanh for float32 as a rational function of x (Eigen's `generic_fast_tanh_float`, its published
# coefficients): only multiplications, additions and one division, so the compiler computes 8 or 16 at
# once, where the C library's tanhf is a call per number (~15 ns: 15 us of a 45 us training step).
# Within 3.5e-7 of tanh everywhere (np.tanh: 6e-8; tests/test_compiled_steps.py checks it on a fine grid).
_TANH_CLAMP = np.float32(7.90531110763549805)  # beyond it the quotient would pass 1; tanh rounds to 1 there
_TANH_P = tuple(np.float32(c) for c in (-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11,
                                        5.12229709037114e-08, 1.48572235717979e-05, 6.37261928875436e-04,
                                        4.89352455891786e-03))
_TANH_Q = tuple(np.float32(c) for c in (1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03,
                                        4.89352518554385e-03))
_TANH_LINEAR = np.float32(0.0004)  # below it tanh(x) is x to float32's precision


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def fast_tanh(x):
    """tanh of a float32 x, to ~6 units in its last place (see above); NaN gives NaN."""
    clamped = min(max(x, -_TANH_CLAMP), _TANH_CLAMP)
    square = clamped * clamped
    p = _TANH_P[0]
    for c in _TANH_P[1:]:
        p = p * square + c
    q = _TANH_Q[0]
    for c in _TANH_Q[1:]:
        q = q * square + c
    return x if abs(x) < _TANH_LINEAR else clamped * p / q


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _tanh(x, approximate):
    return fast_tanh(x) if approximate else math.tanh(x)


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _squish(z, activation, half, one, zero, approximate):
    if activation == SIGMOID:
        return half * (one + _tanh(half * z, approximate))  # network.sigmoid's formula: never overflows
    if activation == RELU:
        return zero if z <= zero else z  # NaN stays NaN, as np.maximum(z, 0) keeps it
    return _tanh(z, approximate)


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _derivative(a, activation, one, zero):
    """f'(z), from a = f(z) as network.ACTIVATIONS' derivatives take it."""
    if activation == SIGMOID:
        return a * (one - a)
    if activation == RELU:
        return one if a > zero else zero
    return one - a * a


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _squish_rows(z, a, activation, half, one, zero, approximate):
    """a[:, :n] = f(z) for z `(rows, n)`, and a[:, n] = 1. One loop per case, so each compiles to
    vector instructions (a test inside the loop would keep it one number at a time)."""
    rows, n = z.shape
    for i in range(rows):
        a[i, n] = one
    if activation == SIGMOID and approximate:
        for i in range(rows):
            for j in range(n):
                a[i, j] = half * (one + fast_tanh(half * z[i, j]))
    elif activation == TANH and approximate:
        for i in range(rows):
            for j in range(n):
                a[i, j] = fast_tanh(z[i, j])
    elif activation == RELU:
        for i in range(rows):
            for j in range(n):
                a[i, j] = zero if z[i, j] <= zero else z[i, j]
    else:
        for i in range(rows):
            for j in range(n):
                a[i, j] = _squish(z[i, j], activation, half, one, zero, approximate)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _product(a, transpose_a, b, transpose_b, out):
    """out = op(a) @ op(b), op(x) = x.T if transpose_x else x, by cblas ?gemm: a, b and out 2-D with
    contiguous rows (any row stride), of one float dtype."""
    m, n = out.shape
    k = a.shape[0] if transpose_a else a.shape[1]
    size = a.itemsize
    arguments = (_ROW_MAJOR, _TRANSPOSE if transpose_a else _NO_TRANSPOSE, _TRANSPOSE if transpose_b else _NO_TRANSPOSE,
                 m, n, k)
    if a.itemsize == 4:
        _sgemm(*arguments, np.float32(1), a.ctypes.data, a.strides[0] // size, b.ctypes.data, b.strides[0] // size,
               np.float32(0), out.ctypes.data, out.strides[0] // size)
    else:
        _dgemm(*arguments, 1.0, a.ctypes.data, a.strides[0] // size, b.ctypes.data, b.strides[0] // size,
               0.0, out.ctypes.data, out.strides[0] // size)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _layer(flat, offset, n_out, n_in):
    """Layer's [W | b] `(n_out, n_in + 1)`, a view into a flat vector laid out as fast_backprop's."""
    return flat[offset:offset + n_out * (n_in + 1)].reshape((n_out, n_in + 1))


@numba.njit(cache=True, nogil=True, error_model="numpy")
def train_steps(inputs, first_row, targets, target_row, batch_size, count, parameters, gradient, sizes, offsets,
                activation, output, cost, hidden, weighted, delta_scratch, back, weighted_sums, outputs, row_max,
                row_sum, optimizer, first_state, second_state, decay_rates, step_sizes, flushes, momentum, beta1,
                beta2, epsilon, smallest_normal, half, one, zero, approximate):
    """`count` mini-batch steps of fast_backprop.Workspace's backprop and then the optimizer's update,
    in one call: the same products (numpy's BLAS, `_product`), the squishes and the softmax as loops.

    inputs `(rows, n_0 + 1)` (each row ends in a 1) from row first_row; targets and the epoch-long
    results (weighted_sums, outputs `(n, n_L)`; row_max, row_sum `(n, 1)`) from row target_row; each
    mini-batch batch_size rows (the epoch's last may be fewer). parameters and gradient: every layer's
    [W | b] one after another from offsets[l]. Scratch, flat: hidden (each hidden layer's a with its
    column of 1s, `(batch, n_l + 1)`, one after another), weighted (a layer's z), delta_scratch (two
    layers' deltas), back (delta @ [W | b]). The optimizer's update is adam_step, momentum_step or
    sgd_step with step_sizes[s] and flushes[s]. half, one, zero: 0.5, 1 and 0 in the parameters' dtype,
    so float32 arithmetic stays float32 (a Python number would make it float64). approximate: tanh (and
    so the sigmoid) by fast_tanh, for float32; float64 takes the C library's."""
    layers = len(sizes) - 1
    widest = 0
    for l in range(1, layers + 1):
        widest = max(widest, sizes[l])
    for s in range(count):
        rows = min(batch_size, len(targets) - target_row)
        batch = zero
        for _ in range(rows):  # the batch length in the parameters' dtype (exact: rows < 2^24)
            batch += one
        x = inputs[first_row:first_row + rows]
        # forward: z = [a, 1] [W | b]^T ; a' = f(z), followed by a column of 1s for the next layer
        a_in, start = x, 0
        for l in range(layers - 1):
            n_in, n_out = sizes[l], sizes[l + 1]
            z = weighted[:rows * n_out].reshape((rows, n_out))
            _product(a_in, False, _layer(parameters, offsets[l], n_out, n_in), True, z)
            a = hidden[start:start + rows * (n_out + 1)].reshape((rows, n_out + 1))
            _squish_rows(z, a, activation, half, one, zero, approximate)
            a_in, start = a, start + batch_size * (n_out + 1)
        n_in, n_last = sizes[layers - 1], sizes[layers]
        z = weighted_sums[target_row:target_row + rows]
        out = outputs[target_row:target_row + rows]
        _product(a_in, False, _layer(parameters, offsets[layers - 1], n_last, n_in), True, z)
        delta = delta_scratch[:rows * n_last].reshape((rows, n_last))
        for i in range(rows):
            if output == OUTPUT_SOFTMAX:
                largest = z[i, 0]
                for j in range(1, n_last):
                    largest = max(largest, z[i, j])
                total = zero
                for j in range(n_last):
                    out[i, j] = math.exp(z[i, j] - largest)
                    total += out[i, j]
                for j in range(n_last):
                    out[i, j] = out[i, j] / total
                row_max[target_row + i, 0], row_sum[target_row + i, 0] = largest, total
            else:
                for j in range(n_last):
                    out[i, j] = half * (one + _tanh(half * z[i, j], approximate))
            # the output's delta (costs.output_delta), the mean over the batch taken here
            target = targets[target_row + i]
            if cost == CROSS_ENTROPY:
                for j in range(n_last):
                    delta[i, j] = (out[i, j] - target[j]) / batch
            elif output == OUTPUT_SIGMOID:
                for j in range(n_last):
                    delta[i, j] = (out[i, j] - target[j]) * out[i, j] * (one - out[i, j]) / batch
            else:  # quadratic through softmax: a * (error - sum(error * a))
                weighted_error = zero
                for j in range(n_last):
                    weighted_error += (out[i, j] - target[j]) * out[i, j]
                for j in range(n_last):
                    delta[i, j] = out[i, j] * ((out[i, j] - target[j]) - weighted_error) / batch
        # backward: [grad W | grad b] = delta^T [a, 1] ; delta_l = (delta [W | b])[:, :n_l] * f'(a_l)
        other_half, current = batch_size * widest, 0  # the two deltas' places in delta_scratch
        for l in range(layers - 1, -1, -1):
            n_in, n_out = sizes[l], sizes[l + 1]
            if l > 0:
                start -= batch_size * (n_in + 1)
                a_in = hidden[start:start + rows * (n_in + 1)].reshape((rows, n_in + 1))
            else:
                a_in = x
            _product(delta, True, a_in, False, _layer(gradient, offsets[l], n_out, n_in))
            if l == 0:
                break
            spread = back[:rows * (n_in + 1)].reshape((rows, n_in + 1))
            _product(delta, False, _layer(parameters, offsets[l], n_out, n_in), False, spread)
            current = other_half - current
            delta = delta_scratch[current:current + rows * n_in].reshape((rows, n_in))
            for i in range(rows):
                for k in range(n_in):
                    delta[i, k] = spread[i, k] * _derivative(a_in[i, k], activation, one, zero)
        if optimizer == ADAM:
            adam_step(parameters, gradient, decay_rates, first_state, second_state, beta1, beta2, epsilon,
                      step_sizes[s], flushes[s], smallest_normal)
        elif optimizer == MOMENTUM:
            momentum_step(parameters, gradient, decay_rates, first_state, momentum, step_sizes[s], flushes[s],
                          smallest_normal)
        else:
            sgd_step(parameters, gradient, decay_rates, step_sizes[s])
        first_row += rows
        target_row += rows
