"""digitnet's side of the in-process comparison: `train` as the library runs it, on 50,000 and on all
60,000 images, the readable reference loop, and `digitnet train`'s defaults to 96% test accuracy."""

from __future__ import annotations

import time

import numpy as np

from digitnet.data import Dataset
from digitnet.network import Network
from digitnet.training import TrainingSettings, train

from .common import BATCH_SIZE, LEARNING_RATE, float_inputs


def constant_settings(epochs):
    return TrainingSettings(epochs=epochs, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, schedule="constant",
                            optimizer="adam", weight_decay=0.0, shift_pixels=0)


def initial_weights(layer_sizes):
    """digitnet's initial [(W (n_out, n_in), b (n_out,)), ...] for seed 0: every trainer that can be
    given a start begins here."""
    start = Network(layer_sizes, "sigmoid", "softmax", seed=0)
    return [(w.copy(), b.copy()) for w, b in zip(start.weights, start.biases)]


def train_digitnet(data, layer_sizes, epochs):
    network = Network(layer_sizes, "sigmoid", "softmax", seed=0)
    result = train(network, data, constant_settings(epochs))  # each epoch's seconds include its validation pass
    return {"epoch_seconds": [record.seconds for record in result.history],
            "test_accuracy": network.accuracy(float_inputs(data.test_images), data.test_labels)}, network


def all_60000(data):
    """The Dataset with its validation images moved into the training set and the test set in their
    place, for timing only."""
    return Dataset.from_arrays(np.concatenate([data.train_pixels, data.validation_pixels]),
                               np.concatenate([data.train_labels, data.validation_labels]),
                               data.test_pixels, data.test_labels, data.test_pixels, data.test_labels,
                               source="MNIST, all 60,000 training images (timing only)")


def train_digitnet_all_60000(data, layer_sizes, epochs):
    """Timing only: `train` on all 60,000 MNIST training images per epoch (the issue counts an epoch so),
    its validation pass then over the 10,000 test images since none are held out."""
    return train_digitnet(all_60000(data), layer_sizes, epochs)


def train_digitnet_reference(data, layer_sizes, epochs):
    """digitnet's math as written, no fast path: `backprop` on each mini-batch and an optimizer over the
    list of weight and bias arrays (the loop `train` ran before issue #5, without its validation pass
    and per-batch bookkeeping, so a little faster than it was)."""
    from digitnet.training import backprop, make_optimizer, one_hot  # here: should they move, only this row is lost

    network = Network(layer_sizes, "sigmoid", "softmax", seed=0)
    settings = constant_settings(epochs)
    rng = np.random.default_rng(settings.seed)
    train_images = float_inputs(data.train_images)
    targets = one_hot(data.train_labels)
    optimizer = make_optimizer("adam", network.weights + network.biases, settings.learning_rate, 0.9)
    n, epoch_seconds = len(train_images), []
    for _ in range(epochs):
        started = time.perf_counter()
        order = rng.permutation(n)
        images, shuffled_targets = train_images[order], targets[order]
        for start in range(0, n, BATCH_SIZE):
            grad_weights, grad_biases, _, _ = backprop(network, images[start:start + BATCH_SIZE],
                                                       shuffled_targets[start:start + BATCH_SIZE])
            optimizer.step(grad_weights + grad_biases)
        epoch_seconds.append(time.perf_counter() - started)
    accuracy = network.accuracy(float_inputs(data.test_images), data.test_labels)
    return {"epoch_seconds": epoch_seconds, "test_accuracy": accuracy}, network


def defaults_to_96(data):
    """`digitnet train`'s defaults in-process, with the test accuracy after every epoch (for the
    benchmark only: training never looks at the test images)."""
    settings, network = TrainingSettings(), Network(output="softmax", seed=TrainingSettings().seed)
    test_images = float_inputs(data.test_images)
    seconds, first = 0.0, None
    per_epoch = []

    def on_epoch(record):
        nonlocal seconds, first
        seconds += record.seconds
        accuracy = network.accuracy(test_images, data.test_labels)
        per_epoch.append(accuracy)
        if first is None and accuracy >= 0.96:
            first = {"epoch": record.epoch, "training_seconds": seconds}

    result = train(network, data, settings, on_epoch=on_epoch)
    return {"reached_96": first, "total_training_seconds": seconds, "epochs": settings.epochs,
            "best_epoch": result.best_epoch,
            "final_test_accuracy": network.accuracy(test_images, data.test_labels),
            "test_accuracy_per_epoch": per_epoch}
