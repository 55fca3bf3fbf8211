"""scikit-learn's MLPClassifier on the same job (it cannot be given digitnet's initial weights)."""

from __future__ import annotations

import time

import numpy as np

from .common import BATCH_SIZE, LEARNING_RATE


def train_sklearn(data, layer_sizes, epochs):
    from sklearn.neural_network import MLPClassifier
    model = MLPClassifier(hidden_layer_sizes=layer_sizes[1:-1], activation="logistic", solver="adam",
                          alpha=0.0, batch_size=BATCH_SIZE, learning_rate_init=LEARNING_RATE,
                          shuffle=True, random_state=0)
    epoch_seconds = []
    for _ in range(epochs):  # partial_fit: one shuffled pass over the data, keeping Adam's state
        started = time.perf_counter()
        model.partial_fit(data["train_images"], data["train_labels"], classes=np.arange(10))
        epoch_seconds.append(time.perf_counter() - started)
    accuracy = float((model.predict(data["test_images"]) == data["test_labels"]).mean())
    return {"epoch_seconds": epoch_seconds, "test_accuracy": accuracy}, model
