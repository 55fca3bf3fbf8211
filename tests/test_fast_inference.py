"""fast_inference.outputs_into against the readable definition (Network._feedforward): the same numbers
to rounding for any layer sizes, activation, output and dtype, on one thread or several, for row
counts around every block and group boundary; and the threads behave (error state, exceptions,
BLAS's thread limit, concurrent callers, a forked child)."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digitnet import fast_inference
from digitnet.errors import DigitnetError
from digitnet.network import Network, softmax

TOLERANCE = {np.float32: 2e-6, np.float64: 1e-13}


def with_random_biases(network: Network, seed: int) -> Network:
    """A new network's biases are 0; a trained one's are not (and the fast path adds them its own way)."""
    rng = np.random.default_rng(seed)
    for biases in network.biases:
        biases[:] = rng.standard_normal(biases.shape)
    return network


def reference_outputs(network: Network, inputs: np.ndarray) -> np.ndarray:
    """What outputs_into computes, by the readable code: feedforward (its softmax is the shifted one)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return network._feedforward(inputs)


def fast_outputs(network: Network, inputs: np.ndarray, threads=None) -> np.ndarray:
    out = np.empty((len(inputs), network.layer_sizes[-1]), network.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        return fast_inference.outputs_into(network.weights, network.biases, network.activation, network.output,
                                           inputs, out, threads=threads)


@given(
    hidden=st.lists(st.integers(1, 40), min_size=0, max_size=3),
    n_in=st.integers(1, 60),
    n_out=st.integers(1, 12),
    activation=st.sampled_from(["sigmoid", "relu", "tanh"]),
    output=st.sampled_from(["sigmoid", "softmax"]),
    dtype=st.sampled_from([np.float32, np.float64]),
    rows=st.sampled_from([0, 1, 2, 31, 32, 33, 255, 256, 257, 1023, 1025, 4095, 4096, 4097, 5001]),
    threads=st.sampled_from([None, 1, 2, 3]),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=60, deadline=None)
def test_outputs_into_is_feedforward_to_rounding(hidden, n_in, n_out, activation, output, dtype, rows, threads, seed):
    network = with_random_biases(Network((n_in, *hidden, n_out), activation=activation, output=output, seed=seed,
                                         dtype=dtype), seed)
    inputs = np.random.default_rng(seed).random((rows, n_in), dtype=dtype)
    got = fast_outputs(network, inputs, threads)
    assert got.shape == (rows, n_out) and got.dtype == dtype
    np.testing.assert_allclose(got, reference_outputs(network, inputs), rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


@pytest.mark.parametrize("sizes", [(784, 16, 16, 10), (784, 30, 10), (784, 10)])
def test_the_videos_networks_on_one_thread_and_on_three_agree(sizes):
    network = with_random_biases(Network(sizes, output="softmax", seed=4), 4)
    inputs = np.random.default_rng(2).random((7000, 784), dtype=np.float32)
    one, three = fast_outputs(network, inputs, threads=1), fast_outputs(network, inputs, threads=3)
    np.testing.assert_allclose(three, one, atol=1e-6)
    np.testing.assert_allclose(one, reference_outputs(network, inputs), atol=1e-6)


def test_softmax_without_its_shift_only_where_exp_cannot_overflow():
    network = Network((784, 16, 16, 10), output="softmax", seed=0)
    assert fast_inference._exp_is_safe(network.weights, network.biases, "sigmoid")
    assert not fast_inference._exp_is_safe(network.weights, network.biases, "relu")  # ReLU's a has no bound
    assert not fast_inference._exp_is_safe(network.weights[-1:], network.biases[-1:], "sigmoid")  # pixels: none
    # Output weights whose |z| reaches past 88: e^z would overflow float32 unshifted; the shifted softmax
    # must be used and still give the answer (checked in float64 from the weighted sums).
    network.weights[-1][:] = np.float32(40.0) * np.sign(np.random.default_rng(0).standard_normal(network.weights[-1].shape))
    assert not fast_inference._exp_is_safe(network.weights, network.biases, "sigmoid")
    inputs = np.random.default_rng(1).random((3000, 784), dtype=np.float32)
    z = network.trace(inputs).weighted_sums[-1].astype(np.float64)
    assert np.abs(z).max() > 88  # beyond float32's exp
    outputs = fast_outputs(network, inputs)
    assert np.isfinite(outputs).all()
    np.testing.assert_allclose(outputs, softmax(z), atol=2e-5)  # z near 100 is float32 to ~1e-5


def test_helper_threads_keep_the_callers_error_state_and_no_warning_escapes():
    # Finite but huge weights: the weighted sums overflow to infinity and ReLU passes it on, so the
    # softmax meets inf - inf (numpy's "invalid"); predict_probabilities ignores that and says so plainly.
    network = Network((784, 16, 16, 10), activation="relu", output="softmax", seed=0)
    network.weights[0][:] = np.float32(3e38)
    inputs = np.random.default_rng(1).random((6000, 784), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning in any thread would raise
        with pytest.raises(DigitnetError, match="weighted sums overflow"):
            network.predict_probabilities(inputs)
        with np.errstate(over="ignore", invalid="ignore"):
            outputs = fast_outputs(network, inputs, threads=2)
    assert outputs.shape == (6000, 10)
    with np.errstate(over="ignore", invalid="raise"), pytest.raises(FloatingPointError):  # a caller's "raise" reaches them
        fast_inference.outputs_into(network.weights, network.biases, "relu", "softmax", inputs,
                                    np.empty((6000, 10), np.float32), threads=2)


def test_strided_inputs_are_read_correctly_and_out_must_be_contiguous():
    network = with_random_biases(Network(seed=1, output="softmax"), 1)
    wide = np.random.default_rng(0).random((5000, 800), dtype=np.float32)
    inputs = wide[:, 8:792]  # every row 784 numbers, rows 800 apart
    np.testing.assert_allclose(fast_outputs(network, inputs, threads=2), reference_outputs(network, inputs), atol=2e-6)
    with pytest.raises(ValueError, match="C-contiguous"):
        fast_inference.outputs_into(network.weights, network.biases, "sigmoid", "softmax", inputs,
                                    np.empty((10, 5000), np.float32).T)


def test_many_callers_at_once_get_their_own_answers():
    # The lab's server answers requests on many threads: each call shares its rows with the helpers.
    networks = [Network(seed=seed, output="softmax") for seed in range(4)]
    inputs = np.random.default_rng(3).random((4500, 784), dtype=np.float32)
    expected = [network.predict_probabilities(inputs) for network in networks]
    with ThreadPoolExecutor(8) as callers:
        answers = list(callers.map(lambda k: networks[k % 4].predict_probabilities(inputs), range(16)))
    for k, answer in enumerate(answers):
        np.testing.assert_array_equal(answer, expected[k % 4])


def _inference_in_child(queue) -> None:
    network = Network(seed=0, output="softmax")
    inputs = np.random.default_rng(0).random((5000, 784), dtype=np.float32)
    queue.put(network.predict_probabilities(inputs).sum())


def test_a_forked_child_makes_its_own_helper_threads():
    Network(seed=0).predict_probabilities(np.random.default_rng(0).random((5000, 784), dtype=np.float32))
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_inference_in_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0, "the child hung or failed"
    assert abs(queue.get(timeout=5) - 5000) < 0.01


THREADS_SEEN = """
import threading, numpy as np
from threadpoolctl import threadpool_limits
from digitnet import fast_inference
from digitnet.network import Network
inputs = np.random.default_rng(0).random((10000, 784), dtype=np.float32)
helpers = lambda: any(t.name.startswith("digitnet-inference") for t in threading.enumerate())
Network((784, 300, 10), seed=0).predict_probabilities(inputs)  # a product too big for the caller's thread
large = helpers()
with threadpool_limits(limits=1, user_api="blas"):
    Network(seed=0).predict_probabilities(inputs)
limited = helpers()
Network(seed=0).predict_probabilities(inputs)
free = helpers()
from digitnet.numpy_blas import numpy_openblas
blas = numpy_openblas()
print(large, limited, free, blas is not None and blas.get_num_threads() > 1)
"""


def test_helper_threads_only_where_blas_may_use_more_than_one_and_every_product_is_small():
    # threadpool_limits (and OPENBLAS_NUM_THREADS) are the user's say in how many cores numpy takes;
    # a network with a 784 x 300 layer leaves its products to BLAS's own threads.
    large, limited, free, several = subprocess.run([sys.executable, "-c", THREADS_SEEN], capture_output=True,
                                                   text=True, check=True).stdout.split()
    assert large == limited == "False"
    assert free == several
