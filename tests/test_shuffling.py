"""Each epoch's training images: a new order, the drawn moves, and the 1 after every image."""

import numpy as np
import pytest

from digitnet.costs import one_hot
from digitnet.shuffling import Shuffler, shift_images


@pytest.mark.parametrize("max_shift", [0, 1, 3])
def test_each_epoch_is_a_new_order_of_the_moved_images_each_followed_by_a_one(max_shift):
    # 2,100 images: more than two of the blocks the unshifted copy goes through (1,024 rows each).
    rng = np.random.default_rng(0)
    images = rng.random((2100, 784), dtype=np.float32)
    labels = rng.integers(0, 10, 2100)
    shuffler = Shuffler(images, one_hot(labels), labels, np.random.default_rng(9), max_shift)
    reference_rng = np.random.default_rng(9)  # the draws, in the order the epochs make them
    orders = []
    try:
        for epoch in range(3):
            current = shuffler.next_epoch(another=epoch < 2)
            order = reference_rng.permutation(len(images))
            expected = images[order]
            if max_shift:
                shift_images(expected, reference_rng, max_shift)
            shuffled_images, shuffled_targets, shuffled_labels = shuffler.arrays[current]
            assert shuffled_images.shape == (2100, 785) and shuffled_images.flags.c_contiguous
            np.testing.assert_array_equal(shuffled_images[:, :784], expected)
            assert (shuffled_images[:, 784] == 1).all()
            np.testing.assert_array_equal(shuffled_labels, labels[order])
            np.testing.assert_array_equal(shuffled_targets, one_hot(labels[order]))
            orders.append(order)
    finally:
        shuffler.close()
    assert not np.array_equal(orders[0], orders[1])
