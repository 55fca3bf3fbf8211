"""How well a network does on labelled images: accuracy, per digit, and the confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import Network


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
    """images `(n, 784)`, labels `(n,)` -> the confusion matrix of the network's guesses."""
    guesses = network.predict_digit(images) if len(images) else np.zeros(0, dtype=int)
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (labels.astype(np.int64), guesses), 1)
    return Evaluation(confusion)
