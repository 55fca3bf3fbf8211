"""insight.py: input gradients checked against finite differences, dreams, explanations, noise."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from digitnet import DigitnetError, Network, default_model_path, load_model
from digitnet.insight import QUANTITIES, dream, explain, input_gradient, noise_answers


def quantity(network, inputs, digit, of):
    """The quantity input_gradient differentiates, computed directly from a forward pass."""
    trace = network.trace(inputs)
    if of == "weighted_sum":
        return trace.weighted_sums[-1][:, digit]
    if of == "activation":
        return trace.outputs[:, digit]
    return np.log(trace.outputs[:, digit])


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "tanh"])
@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
@pytest.mark.parametrize("of", QUANTITIES)
def test_input_gradient_matches_finite_differences(activation, output, of):
    network = Network((784, 7, 5, 10), activation, output, seed=3, dtype=np.float64)
    rng = np.random.default_rng(1)
    network.biases = [rng.normal(0, 0.5, b.shape) for b in network.biases]
    inputs = rng.uniform(0, 1, (2, 784))
    digit = 4
    gradient = input_gradient(network, inputs, digit, of=of)
    assert gradient.shape == (2, 784)
    epsilon = 1e-6
    for pixel in rng.choice(784, 25, replace=False):
        nudge = np.zeros_like(inputs)
        nudge[:, pixel] = epsilon
        above, below = quantity(network, inputs + nudge, digit, of), quantity(network, inputs - nudge, digit, of)
        numeric = (above - below) / (2 * epsilon)
        np.testing.assert_allclose(gradient[:, pixel], numeric, rtol=1e-5, atol=1e-8)


def test_input_gradient_is_vectorized_row_by_row_with_one_digit_per_row():
    network = Network((784, 16, 16, 10), seed=0, dtype=np.float64)
    inputs = np.random.default_rng(0).uniform(0, 1, (3, 784))
    digits = np.array([2, 7, 0])
    together = input_gradient(network, inputs, digits)
    for k in range(3):
        np.testing.assert_allclose(together[k], input_gradient(network, inputs[k:k + 1], int(digits[k]))[0])


@pytest.mark.parametrize("bad", [10, -1, 2.5])
def test_input_gradient_rejects_a_digit_that_is_not_an_output(bad):
    with pytest.raises(DigitnetError, match="digit"):
        input_gradient(Network(), np.zeros((1, 784)), bad)


def test_input_gradient_rejects_unknown_quantity_and_wrong_shape():
    with pytest.raises(DigitnetError, match="of="):
        input_gradient(Network(), np.zeros((1, 784)), 3, of="probability")
    with pytest.raises(DigitnetError, match="784"):
        input_gradient(Network(), np.zeros((1, 28, 28)), 3)


@pytest.fixture(scope="module")
def default_network():
    return load_model(default_model_path()).network


def test_dream_makes_every_digit_the_default_models_answer(default_network):
    for digit in range(10):
        start = dream(default_network, digit, steps=0)
        image = dream(default_network, digit)
        assert image.shape == (784,) and image.min() >= 0 and image.max() <= 1
        before, after = default_network.feedforward(np.stack([start, image]))[:, digit]
        assert after > before
        assert default_network.predict_digit(image[np.newaxis])[0] == digit


@pytest.mark.parametrize("of", QUANTITIES)
def test_dream_raises_the_target_output_of_an_untrained_network(of):
    network = Network((784, 8, 10), "relu", "sigmoid", seed=5)
    start, image = dream(network, 6, steps=0, seed=2), dream(network, 6, steps=50, seed=2, of=of)
    outputs = network.feedforward(np.stack([start, image]))[:, 6]
    assert outputs[1] > outputs[0]


def test_dream_is_reproducible_and_rejects_bad_settings():
    network = Network(seed=1)
    np.testing.assert_array_equal(dream(network, 3, steps=20, seed=4), dream(network, 3, steps=20, seed=4))
    with pytest.raises(DigitnetError):
        dream(network, 3, learning_rate=0)
    with pytest.raises(DigitnetError, match="digit"):
        dream(network, 11)


def test_explain_returns_a_finite_signed_map_that_is_zero_on_dark_pixels(default_network):
    image = np.zeros(784)
    image[300:340] = 1.0
    saliency = explain(default_network, image)
    assert saliency.shape == (784,) and np.isfinite(saliency).all()
    assert (saliency[image == 0] == 0).all()
    assert saliency.min() < 0 < saliency.max()
    guess = int(default_network.predict_digit(image[np.newaxis])[0])
    np.testing.assert_array_equal(saliency, explain(default_network, image.reshape(28, 28), guess))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), digit=st.integers(0, 9))
def test_explain_adds_up_to_the_weighted_sum_of_a_relu_network_without_biases(seed, digit):
    # ReLU layers without biases are positively homogeneous: z(x) = x . grad z(x) exactly, so the
    # gradient x input map splits the output's weighted sum among the pixels with nothing left over.
    network = Network((784, 12, 9, 10), "relu", "softmax", seed=seed, dtype=np.float64)
    image = np.random.default_rng(seed).uniform(0, 1, 784)
    weighted_sum = network.trace(image[np.newaxis]).weighted_sums[-1][0, digit]
    assert explain(network, image, digit).sum() == pytest.approx(weighted_sum, rel=1e-9, abs=1e-9)


def test_explain_rejects_a_batch():
    with pytest.raises(DigitnetError, match="one image"):
        explain(Network(), np.zeros((2, 784)))


def test_noise_answers_are_the_networks_answers_for_seeded_noise(default_network):
    answers = noise_answers(default_network, count=50, seed=7)
    assert answers.images.shape == (50, 784) and answers.digits.shape == answers.confidences.shape == (50,)
    assert answers.images.min() >= 0 and answers.images.max() <= 1
    probabilities = default_network.predict_probabilities(answers.images)
    np.testing.assert_array_equal(answers.digits, probabilities.argmax(axis=1))
    np.testing.assert_allclose(answers.confidences, probabilities.max(axis=1))
    # Always some digit, never "no digit": every answer gets a share well above nothing.
    assert (answers.confidences > 0.1).all()
    np.testing.assert_array_equal(noise_answers(default_network, 50, seed=7).images, answers.images)
    with pytest.raises(DigitnetError):
        noise_answers(default_network, count=0)
