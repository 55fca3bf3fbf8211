"""The network's math: shapes, the parameter count, feedforward against trace, activations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from digitnet.errors import DigitnetError
from digitnet.fast_backprop import ACTIVATIONS_INTO, OUTPUTS_INTO
from digitnet.network import ACTIVATIONS, OUTPUTS, PREDICTION_BLOCK_ROWS, Network, sigmoid, softmax


def test_the_videos_network_has_13002_weights_and_biases():
    network = Network()
    assert network.layer_sizes == (784, 16, 16, 10)
    assert network.parameter_count == 784 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10 == 13_002
    assert [w.shape for w in network.weights] == [(16, 784), (16, 16), (10, 16)]
    assert [b.shape for b in network.biases] == [(16,), (16,), (10,)]
    assert all(w.dtype == np.float32 for w in network.weights + network.biases)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_trace_shapes_and_agreement_with_feedforward(activation, output):
    network = Network((784, 30, 20, 12, 10), activation, output, seed=3)
    inputs = np.random.default_rng(0).random((7, 784), dtype=np.float32)
    trace = network.trace(inputs)
    assert [z.shape for z in trace.weighted_sums] == [(7, 30), (7, 20), (7, 12), (7, 10)]
    assert [a.shape for a in trace.activations] == [(7, 784), (7, 30), (7, 20), (7, 12), (7, 10)]
    np.testing.assert_array_equal(trace.outputs, network.feedforward(inputs))
    # Each layer really is a' = f(W a + b).
    for l, z in enumerate(trace.weighted_sums):
        np.testing.assert_allclose(z, trace.activations[l] @ network.weights[l].T + network.biases[l], rtol=1e-5, atol=1e-5)


def test_a_row_of_the_first_matrix_is_one_neurons_weights():
    network = Network(seed=1)
    pixel = np.zeros((1, 784), np.float32)
    pixel[0, 5 * 28 + 9] = 1.0  # light one pixel, at row 5 column 9
    z = network.trace(pixel).weighted_sums[0][0]
    picture = network.weights[0].reshape(16, 28, 28)
    np.testing.assert_allclose(z, picture[:, 5, 9] + network.biases[0])


def test_initialization_is_seeded_and_scaled_by_activation():
    assert all(np.array_equal(a, b) for a, b in zip(Network(seed=5).weights, Network(seed=5).weights))
    assert not np.array_equal(Network(seed=5).weights[0], Network(seed=6).weights[0])
    xavier = Network((784, 500, 10), "sigmoid", seed=0).weights[0].std()
    he = Network((784, 500, 10), "relu", seed=0).weights[0].std()
    assert xavier == pytest.approx(np.sqrt(1 / 784), rel=0.02)
    assert he == pytest.approx(np.sqrt(2 / 784), rel=0.02)


@given(arrays(np.float64, (4, 10), elements=st.floats(-1e4, 1e4)))
@settings(max_examples=60, deadline=None)
def test_softmax_rows_are_probabilities_even_for_huge_inputs(z):
    p = softmax(z)
    assert np.all(np.isfinite(p)) and np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)


def test_sigmoid_is_stable_and_correct():
    z = np.array([-1000.0, -5.0, 0.0, 5.0, 1000.0])
    np.testing.assert_allclose(sigmoid(z), [0.0, 1 / (1 + np.exp(5)), 0.5, 1 / (1 + np.exp(-5)), 1.0], rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_each_derivative_matches_its_function(name):
    function, derivative = ACTIVATIONS[name]
    z = np.linspace(-4, 4, 81)
    z = z[np.abs(z) > 1e-3]  # ReLU has no derivative at 0
    numeric = (function(z + 1e-6) - function(z - 1e-6)) / 2e-6
    np.testing.assert_allclose(derivative(function(z)), numeric, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_in_place_squishes_give_the_same_numbers(dtype):
    # feedforward and the fast path use the in-place twins; they must be the same math to the bit.
    z = np.random.default_rng(1).normal(0, 4, (33, 10)).astype(dtype)
    for name, (function, derivative) in ACTIVATIONS.items():
        function_into, derivative_into = ACTIVATIONS_INTO[name]
        a = function(z)
        into_another, over_itself = np.empty_like(z), z.copy()
        np.testing.assert_array_equal(function_into(z, into_another), a)
        np.testing.assert_array_equal(function_into(over_itself, over_itself), a)
        assert into_another.dtype == over_itself.dtype == dtype
        np.testing.assert_array_equal(derivative_into(a, np.empty_like(a)), derivative(a))
    for name, function in OUTPUTS.items():
        in_place = z.copy()
        np.testing.assert_array_equal(OUTPUTS_INTO[name](in_place, in_place), function(z))


@given(st.integers(1, 20))
@settings(max_examples=20, deadline=None)
def test_probabilities_sum_to_one(batch):
    inputs = np.random.default_rng(batch).random((batch, 784))
    for output in ("sigmoid", "softmax"):
        probabilities = Network(output=output, seed=batch).predict_probabilities(inputs)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_bad_structures_are_clear_errors():
    with pytest.raises(DigitnetError, match="activation must be one of sigmoid, relu, tanh, not 'swish'"):
        Network(activation="swish")
    with pytest.raises(DigitnetError, match="output must be one of"):
        Network(output="linear")
    with pytest.raises(DigitnetError, match="layer sizes 784 has 1 layers"):
        Network((784,))
    with pytest.raises(DigitnetError, match=r"need \(batch, 784\)"):
        Network().feedforward(np.zeros((2, 100)))


@pytest.mark.parametrize("rows", [1, PREDICTION_BLOCK_ROWS - 1, PREDICTION_BLOCK_ROWS, 2 * PREDICTION_BLOCK_ROWS + 37])
def test_predict_digit_answers_a_row_the_same_however_the_rows_are_split_at_a_block(rows):
    # train counts its validation set in two parts; split at a block, each part must get exactly
    # the guesses of one call, on whatever BLAS kernel (each block is the same matrix product).
    network = Network((784, 16, 16, 10), seed=3)
    inputs = np.random.default_rng(1).random((rows, 784), dtype=np.float32)
    whole = network.predict_digit(inputs)
    assert whole.shape == (rows,)
    for split in range(0, rows + 1, PREDICTION_BLOCK_ROWS):
        parts = np.concatenate([network.predict_digit(inputs[:split]), network.predict_digit(inputs[split:])])
        np.testing.assert_array_equal(parts, whole)
