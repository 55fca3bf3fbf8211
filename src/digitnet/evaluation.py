"""How well a network does on labelled images: accuracy, per digit, and the confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import to_inputs
from .network import PREDICTION_BLOCK_ROWS, Network


def predicted_digits(network: Network, images: np.ndarray) -> np.ndarray:
    """network.predict_digit for float inputs `(n, 784)`, or for uint8 pixels `(n, 784)` as a Dataset
    holds them, made into inputs a block of PREDICTION_BLOCK_ROWS at a time (the blocks predict_digit
    computes anyway: the same answers, without a float copy of the whole set)."""
    if images.dtype != np.uint8:
        return network.predict_digit(images) if len(images) else np.zeros(0, dtype=np.int64)
    blocks = [network.predict_digit(to_inputs(images[start:start + PREDICTION_BLOCK_ROWS]))
              for start in range(0, len(images), PREDICTION_BLOCK_ROWS)]
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Evaluation:
    """confusion[true, guess] counts images of digit `true` that the network called `guess`."""

    confusion: np.ndarray  # (10, 10) int

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion) / max(self.confusion.sum(), 1))

    @property
    def per_digit_accuracy(self) -> np.ndarray:
        """(10,) fraction of each true digit answered correctly."""
        return np.diag(self.confusion) / np.maximum(self.confusion.sum(axis=1), 1)

    @property
    def correct(self) -> int:
        return int(np.trace(self.confusion))

    @property
    def count(self) -> int:
        return int(self.confusion.sum())

    def _repr_html_(self) -> str:  # Jupyter's rich display: see display.py
        from .display import evaluation_html
        return evaluation_html(self)

    def _repr_png_(self) -> bytes:
        from .display import evaluation_png
        return evaluation_png(self)


def evaluate(network: Network, images: np.ndarray, labels: np.ndarray, n_classes: int = 10) -> Evaluation:
    """images `(n, 784)` (float inputs, or uint8 pixels: see predicted_digits), labels `(n,)` -> the
    confusion matrix of the network's guesses."""
    guesses = predicted_digits(network, images)
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (labels.astype(np.int64), guesses), 1)
    return Evaluation(confusion)
