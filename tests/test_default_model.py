"""The trained model shipped in the package: accurate, and exactly what the documented command makes."""

import numpy as np
import pytest

from digitnet.cli import build_parser
from digitnet.data import load_dataset
from digitnet.evaluation import evaluate
from digitnet.modelfile import default_model_path, load_model
from digitnet.network import Network
from digitnet.training import TrainingSettings, train


@pytest.fixture(scope="module")
def shipped():
    return load_model(default_model_path())


@pytest.fixture(scope="module")
def mnist():
    return load_dataset()


def test_shipped_model_is_the_videos_network_and_beats_96_percent(shipped, mnist):
    network = shipped.network
    assert network.layer_sizes == (784, 16, 16, 10) and network.activation == "sigmoid"
    assert network.parameter_count == 13_002
    accuracy = evaluate(network, mnist.test_images, mnist.test_labels).accuracy
    assert accuracy >= 0.96
    assert shipped.metadata["test_accuracy"] == pytest.approx(accuracy)
    assert shipped.metadata["data_checksum"] == mnist.checksum


def test_shipped_model_was_trained_with_the_cli_defaults(shipped):
    # `digitnet train` with no flags: the CLI's defaults are the library's defaults.
    args = build_parser().parse_args(["train"])
    settings = TrainingSettings()
    assert shipped.metadata["training"] == settings.to_dict()
    assert (args.epochs, args.learning_rate, args.batch_size, args.weight_decay, args.shift_pixels, args.seed) == \
        (settings.epochs, settings.learning_rate, settings.batch_size, settings.weight_decay,
         settings.shift_pixels, settings.seed)
    assert (tuple(args.layers), args.activation, args.output) == ((16, 16), "sigmoid", "softmax")
    assert not shipped.metadata["interrupted"]


# Retraining on another machine gives the same model to float32 rounding, not bit for bit: a BLAS
# kernel with other vector widths (AVX-512 rather than AVX2) adds a matrix product's terms in another
# order. One dot product of n terms in float32 may be off by up to n * eps relative to its terms'
# size (the textbook bound for a sum of n terms, each rounding once); so a layer's weights and biases
# must agree within fan_in * eps * (their largest magnitude). On an AVX-512 Xeon the first layer
# differed by at most 2.1e-6, about a fiftieth of its bound (785 * 1.19e-7 * 1.84 = 1.7e-4).
FLOAT32_EPS = float(np.finfo(np.float32).eps)
# An image whose two strongest outputs are closer than this may flip between machines: a tie.
TIE_MARGIN = 1e-3


@pytest.mark.slow
def test_retraining_with_the_defaults_reproduces_the_shipped_model_to_float32_rounding(shipped, mnist):
    settings = TrainingSettings()
    network = Network((784, 16, 16, 10), "sigmoid", "softmax", seed=settings.seed)
    train(network, mnist, settings)
    theirs = shipped.network
    for l, (w, b) in enumerate(zip(network.weights, network.biases)):
        fan_in = theirs.weights[l].shape[1] + 1  # the inputs and the bias
        tolerance = fan_in * FLOAT32_EPS * max(np.abs(theirs.weights[l]).max(), np.abs(theirs.biases[l]).max())
        np.testing.assert_allclose(w, theirs.weights[l], rtol=0, atol=tolerance, err_msg=f"weights[{l}]")
        np.testing.assert_allclose(b, theirs.biases[l], rtol=0, atol=tolerance, err_msg=f"biases[{l}]")
    # The same guess for every test image that is not a near-tie, so the same test accuracy.
    probabilities = theirs.predict_probabilities(mnist.test_images)
    top_two = np.sort(probabilities, axis=1)[:, -2:]
    clear = top_two[:, 1] - top_two[:, 0] >= TIE_MARGIN
    mine, shipped_guesses = network.predict_digit(mnist.test_images), theirs.predict_digit(mnist.test_images)
    assert clear.sum() >= 9_990  # a handful of ties at most, or the test would say little
    np.testing.assert_array_equal(mine[clear], shipped_guesses[clear])
    correct_mine, correct_theirs = (mine == mnist.test_labels).sum(), (shipped_guesses == mnist.test_labels).sum()
    assert abs(int(correct_mine) - int(correct_theirs)) <= int((~clear).sum())
