"""Each epoch's training inputs: a new order, the drawn moves and distortions, the 1 after every
image, made chunk by chunk from uint8 images, whatever the chunk size."""

import numpy as np
import pytest

from digitnet.augment import Distortion, distort
from digitnet.costs import one_hot
from digitnet.data import to_inputs
from digitnet.shuffling import BLOCK_ROWS, Shuffler, shift_images


def epoch_inputs(shuffler):
    """The whole epoch's inputs, its chunks put together `(n, 785)`."""
    chunks = [shuffler.chunk(index).copy() for index in range(shuffler.chunks)]
    return np.concatenate(chunks)[:len(shuffler.pixels)]


@pytest.mark.parametrize("max_shift", [0, 1, 3])
@pytest.mark.parametrize("chunk_rows", [2100, 1000, 64, 7])
def test_each_epoch_is_a_new_order_of_the_moved_images_each_followed_by_a_one(max_shift, chunk_rows):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (2100, 784), dtype=np.uint8)
    labels = rng.integers(0, 10, 2100)
    shuffler = Shuffler(pixels, one_hot(labels), labels, np.random.default_rng(9), max_shift, chunk_rows=chunk_rows)
    reference_rng = np.random.default_rng(9)  # the draws, in the order the epochs make them
    orders = []
    try:
        for epoch in range(3):
            shuffler.start_epoch()
            inputs = epoch_inputs(shuffler)
            order = reference_rng.permutation(len(pixels))
            expected = to_inputs(pixels)[order]
            if max_shift:
                shift_images(expected, reference_rng, max_shift)
            assert inputs.shape == (2100, 785)
            np.testing.assert_array_equal(inputs[:, :784], expected)  # the same float32 values, to the bit
            assert (inputs[:, 784] == 1).all()
            np.testing.assert_array_equal(shuffler.labels, labels[order])
            np.testing.assert_array_equal(shuffler.targets, one_hot(labels[order]))
            orders.append(order)
    finally:
        shuffler.close()
    assert not np.array_equal(orders[0], orders[1])


@pytest.mark.parametrize("chunk_rows", [BLOCK_ROWS + 5000, 2048, 96])
def test_distortions_are_drawn_per_block_whatever_the_chunk_size(chunk_rows):
    # 5,000 images: a whole block of BLOCK_ROWS and a part one; chunks that cross block boundaries.
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (5000, 784), dtype=np.uint8)
    labels = rng.integers(0, 10, 5000)
    distortion = Distortion()
    shuffler = Shuffler(pixels, one_hot(labels), labels, np.random.default_rng(4), 1, distortion,
                        chunk_rows=chunk_rows)
    try:
        shuffler.start_epoch()
        inputs = epoch_inputs(shuffler)
    finally:
        shuffler.close()
    reference_rng = np.random.default_rng(4)
    order = reference_rng.permutation(len(pixels))
    expected = to_inputs(pixels)[order]
    shift_images(expected, reference_rng, 1)
    distortions = np.random.default_rng(reference_rng.integers(2**63))
    for start in range(0, len(expected), BLOCK_ROWS):
        expected[start:start + BLOCK_ROWS] = distort(expected[start:start + BLOCK_ROWS], distortions, distortion)
    np.testing.assert_array_equal(inputs[:, :784], expected)


def test_a_float64_network_gets_the_float32_inputs_widened():
    pixels = np.arange(256, dtype=np.uint8).repeat(4).reshape(1, 1024)[:, :784].repeat(3, axis=0)
    labels = np.zeros(3, np.int64)
    shuffler = Shuffler(pixels, one_hot(labels, dtype=np.float64), labels, np.random.default_rng(0), 0,
                        dtype=np.float64)
    try:
        shuffler.start_epoch()
        inputs = shuffler.chunk(0)
    finally:
        shuffler.close()
    assert inputs.dtype == np.float64
    np.testing.assert_array_equal(inputs[:, :784], to_inputs(pixels).astype(np.float64)[shuffler.order])
