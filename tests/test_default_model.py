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


@pytest.mark.slow
def test_retraining_with_the_defaults_reproduces_the_shipped_model_bit_for_bit(shipped, mnist):
    settings = TrainingSettings()
    network = Network((784, 16, 16, 10), "sigmoid", "softmax", seed=settings.seed)
    train(network, mnist, settings)
    for mine, theirs in zip(network.weights + network.biases, shipped.network.weights + shipped.network.biases):
        np.testing.assert_array_equal(mine, theirs)
