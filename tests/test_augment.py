"""Tests for digitnet.augment: distortions that keep a digit a digit, reproducible from the seed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digitnet.augment import Distortion, distort
from digitnet.data import load_dataset
from digitnet.errors import DigitnetError
from digitnet.network import Network
from digitnet.training import TrainingSettings, train

NONE = Distortion(rotation_degrees=0, scale=0, aspect=0, slant=0, shift=0, elastic=0)


@pytest.fixture(scope="module")
def mnist():
    return load_dataset()


def test_no_distortion_is_the_identity(mnist):
    images = mnist.train_images[:50]
    np.testing.assert_array_equal(distort(images, np.random.default_rng(0), NONE), images)


@settings(max_examples=20, deadline=None)
@given(dy=st.integers(-3, 3), dx=st.integers(-3, 3))
def test_a_whole_pixel_shift_moves_the_image(dy, dx):
    """Only a shift, drawn as exactly (dy, dx): the output pixel (r, c) reads the source at (r + dy, c + dx)."""
    rng = np.random.default_rng(1)
    image = np.zeros((1, 28, 28), np.float32)
    image[0, 8:20, 10:16] = rng.random((12, 6))

    class Fixed:  # a generator whose every uniform draw is the given shift, so the test knows the move
        def uniform(self, low, high, size):
            values = np.zeros(size)
            if size == (1, 2):
                values[0] = (dy, dx)
            return values

    moved = distort(image.reshape(1, 784), Fixed(), Distortion(0, 0, 0, 0, shift=3, elastic=0)).reshape(28, 28)
    np.testing.assert_allclose(moved, np.roll(image[0], (-dy, -dx), axis=(0, 1)), atol=1e-5)


def test_distortions_keep_the_ink_and_are_reproducible(mnist):
    images = mnist.train_images[:500]
    first = distort(images, np.random.default_rng(7))
    again = distort(images, np.random.default_rng(7))
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, images)
    assert first.min() >= 0 and first.max() <= 1
    # scale +-12% changes the ink by up to ~25%; on average it stays
    ratio = first.sum(axis=1) / images.sum(axis=1)
    assert 0.9 < np.median(ratio) < 1.1 and ratio.min() > 0.5


def test_a_network_still_reads_distorted_digits(mnist):
    """The shipped video network (never shown distortions) still reads most of them: they are still digits."""
    from digitnet.modelfile import default_model_path, load_model
    network = load_model(default_model_path()).network
    images, labels = mnist.test_images[:1000], mnist.test_labels[:1000]
    assert network.accuracy(distort(images, np.random.default_rng(0)), labels) > 0.8


@pytest.mark.parametrize("bad", [dict(rotation_degrees=-1), dict(scale=0.6), dict(elastic=float("nan")),
                                 dict(control_points=1), dict(slant="0.2")])
def test_bad_distortions_are_refused(bad):
    with pytest.raises(DigitnetError, match="distortion"):
        Distortion(**bad)


def test_training_with_distortions_and_label_smoothing_is_reproducible(mnist):
    from dataclasses import replace
    small = mnist.subset(train=2000, validation=1000)
    settings = TrainingSettings(epochs=2, distortion=Distortion(), label_smoothing=0.1, seed=3)
    networks = [Network((784, 16, 10), "relu", "softmax", seed=3) for _ in range(2)]
    results = [train(network, small, settings) for network in networks]
    np.testing.assert_array_equal(networks[0].weights[0], networks[1].weights[0])
    assert results[0].history[-1].validation_accuracy > 0.7
    undistorted = Network((784, 16, 10), "relu", "softmax", seed=3)
    train(undistorted, small, replace(settings, distortion=None))
    assert not np.array_equal(undistorted.weights[0], networks[0].weights[0])


def test_label_smoothing_is_checked():
    with pytest.raises(DigitnetError, match="label_smoothing"):
        TrainingSettings(label_smoothing=0.7)
