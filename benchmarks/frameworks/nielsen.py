"""Nielsen's `network.py` loop, changed only to do the same job as the other trainers (issue #5)."""

from __future__ import annotations

import time

import numpy as np

from .common import BATCH_SIZE, LEARNING_RATE


class NielsenNetwork:
    """Nielsen's `network.py` (neuralnetworksanddeeplearning.com, chapter 1), as 3Blue1Brown points
    to it: column vectors, one example at a time through feedforward and backprop, gradients summed
    over the mini-batch. Changed only to do the same job as the others: float32, softmax output with
    cross-entropy (so the output delta is a - y), and an Adam step per mini-batch instead of SGD."""

    def __init__(self, initial):
        self.weights = [w.copy() for w, _ in initial]
        self.biases = [b.reshape(-1, 1).copy() for _, b in initial]
        self.moments = [[np.zeros_like(p) for p in self.weights + self.biases] for _ in range(2)]
        self.steps = 0

    def feedforward(self, a):
        for w, b in zip(self.weights[:-1], self.biases[:-1]):
            a = sigmoid(np.dot(w, a) + b)
        return softmax_column(np.dot(self.weights[-1], a) + self.biases[-1])

    def update_mini_batch(self, mini_batch, eta):
        nabla_b = [np.zeros(b.shape, np.float32) for b in self.biases]
        nabla_w = [np.zeros(w.shape, np.float32) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        self.steps += 1
        step = eta * np.sqrt(1 - 0.999 ** self.steps) / (1 - 0.9 ** self.steps)
        for p, g, m, v in zip(self.weights + self.biases, nabla_w + nabla_b, *self.moments):
            g = g / len(mini_batch)
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            p -= step * m / (np.sqrt(v) + 1e-8)

    def backprop(self, x, y):
        nabla_b = [None] * len(self.biases)
        nabla_w = [None] * len(self.weights)
        activation, activations, zs = x, [x], []
        for w, b in zip(self.weights[:-1], self.biases[:-1]):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        activations.append(softmax_column(np.dot(self.weights[-1], activation) + self.biases[-1]))
        delta = activations[-1] - y  # softmax + cross-entropy
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, len(self.weights) + 1):
            sp = sigmoid(zs[-l + 1]) * (1 - sigmoid(zs[-l + 1]))
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return nabla_b, nabla_w


def sigmoid(z):
    return np.float32(1.0) / (np.float32(1.0) + np.exp(-z))


def softmax_column(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def train_nielsen(data, initial, epochs, subset):
    """Nielsen's loop is slow, so each epoch's time is measured on `subset` images and scaled to 50,000.
    `initial`: [(W (n_out, n_in), b (n_out,)), ...] to start from; `data`: common.as_arrays's dict."""
    network = NielsenNetwork(initial)
    rng = np.random.default_rng(0)
    columns = data["train_images"][:, :, np.newaxis]  # (n, 784, 1): Nielsen's column vectors
    targets = np.eye(10, dtype=np.float32)[data["train_labels"]][:, :, np.newaxis]
    n, epoch_seconds = len(columns), []
    for _ in range(epochs):
        order = rng.permutation(n)[:subset]
        started = time.perf_counter()
        for start in range(0, len(order), BATCH_SIZE):
            chosen = order[start:start + BATCH_SIZE]
            network.update_mini_batch(list(zip(columns[chosen], targets[chosen])), LEARNING_RATE)
        epoch_seconds.append((time.perf_counter() - started) * n / len(order))
    guesses = [int(network.feedforward(x[:, np.newaxis]).argmax()) for x in data["test_images"]]
    return {"epoch_seconds": epoch_seconds, "test_accuracy": float((np.array(guesses) == data["test_labels"]).mean()),
            "trained_on": len(order)}, network

