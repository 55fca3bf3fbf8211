"""How far an input is from every digit the network learned from: "does this look like a digit?"

The network has no way to say "not a digit": an X, a smiley or a blot still lights up one of its
ten outputs, often confidently. So beside the guess we measure how far the input `(784,)` is from
the nearest of MNIST's 50,000 training digits, and call it *far* past a threshold set on digits the
network never saw (the validation set).

The measure, and why:
- Both the input and the training digits are blurred (Gaussian, sigma 1.5 pixels) and averaged
  down to 14x14. A pen stroke one pixel to the side of a training digit's is then a small
  difference, not a whole stroke's worth, so real digits come close to some training digit while a
  different shape stays far. (Plain 784-pixel distances overlap: an X is about as close to its
  nearest training image as MNIST's odder digits are.)
- Two distances to the nearest training digit, each divided by its threshold: Euclidean (it sees
  *how much* ink: a filled blot is far from every digit) and cosine (1 - cos of the angle, it sees
  the *shape* whatever the ink's brightness: a smiley). The score is the larger; `is_far` means
  score > 1.
- Each threshold is the 98th percentile of that distance over MNIST's 10,000 validation digits;
  with the two together 4.4% of MNIST's test digits, its oddest scrawls, are flagged too. That is
  the price of catching an X, a smiley, a dot, a square and a '#' (tests/test_familiarity.py).

The thresholds below were computed by `thresholds(reference, validation_images)` and are checked
against it by the tests. Cost: one (batch, 196) x (196, 50,000) product serves both distances
(cos = x.t / (|x| |t|)), about 1.8 ms per image on one core (two products, one against unit-length
copies, took 2x the time and 2x the memory: the product is bound by reading the 39 MB of
training features); building the reference reads and blurs the shipped training images once (~0.5 s).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import VALIDATION_SIZE, read_idx, shipped_data_dir, to_inputs

SIDE = 28
COARSE = 14  # the blurred images are compared at 14x14
BLUR_SIGMA = 1.5  # pixels of the 28x28 image
PERCENTILE = 98.0  # of MNIST's validation digits' distances, where "far" starts
EUCLIDEAN_THRESHOLD = 1.258  # thresholds(...)[0] on the shipped MNIST
COSINE_THRESHOLD = 0.0488  # thresholds(...)[1]


def _blur_and_shrink_matrix() -> np.ndarray:
    """(14, 28): row i averages a Gaussian-blurred 28-pixel line into coarse pixel i. Blur and
    shrink are linear and separable, so an image `(28, 28)` becomes `M @ image @ M.T`."""
    positions = np.arange(SIDE)
    blur = np.exp(-0.5 * ((positions[:, None] - positions[None, :]) / BLUR_SIGMA) ** 2)  # (28, 28)
    blur /= blur.sum(axis=1, keepdims=True)  # each blurred pixel a weighted mean: ink is kept
    shrink = np.kron(np.eye(COARSE), np.full((1, SIDE // COARSE), 1 / (SIDE // COARSE)))  # (14, 28)
    return (shrink @ blur).astype(np.float32)


def features(inputs: np.ndarray) -> np.ndarray:
    """Network inputs `(batch, 784)` -> blurred 14x14 images `(batch, 196)` float32."""
    matrix = _blur_and_shrink_matrix()
    images = np.asarray(inputs, dtype=np.float32).reshape(-1, SIDE, SIDE)
    return (matrix @ images @ matrix.T).reshape(len(images), COARSE * COARSE)  # (batch, 14, 14) flat


@dataclass(frozen=True)
class TrainingDigits:
    """The digits an input is compared with: `features` of the training images `(n, 196)`, their
    squared lengths `(n,)` and one over their lengths `(n,)`. Build it once, use it for many inputs."""

    features: np.ndarray
    squared_norms: np.ndarray
    inverse_norms: np.ndarray

    @classmethod
    def from_images(cls, images: np.ndarray) -> "TrainingDigits":
        """From network inputs `(n, 784)` in [0, 1]."""
        coarse = features(images)
        norms = np.linalg.norm(coarse, axis=1)
        return cls(coarse, norms ** 2, 1 / np.maximum(norms, 1e-12))

    @classmethod
    def shipped(cls) -> "TrainingDigits":
        """MNIST's 50,000 training digits shipped with digitnet (the validation ones left out, as
        `data.load_dataset` splits them)."""
        images = read_idx(shipped_data_dir() / "train-images-idx3-ubyte.gz")
        return cls.from_images(to_inputs(images[:len(images) - VALIDATION_SIZE]))

    def nearest_distances(self, inputs: np.ndarray, chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
        """Inputs `(batch, 784)` -> (Euclidean, cosine) distance to the nearest training digit, each `(batch,)`."""
        euclidean, cosine = [], []
        for start in range(0, len(inputs), chunk):  # bounds the (chunk, n) distance matrix's memory
            coarse = features(inputs[start:start + chunk])  # (c, 196)
            norms = np.linalg.norm(coarse, axis=1)  # (c,)
            products = coarse @ self.features.T  # (c, n) x.t: the one pass over the training digits
            # |x - t|^2 = |x|^2 + |t|^2 - 2 x.t, the nearest t is the smallest
            squared = (norms ** 2)[:, None] + self.squared_norms[None, :] - 2 * products
            euclidean.append(np.sqrt(np.maximum(squared.min(axis=1), 0)))
            products *= self.inverse_norms[None, :]  # (c, n) x.t / |t|, in place
            cosine.append(1 - products.max(axis=1) / np.maximum(norms, 1e-12))  # cos = x.t / (|x| |t|)
        if not euclidean:
            return np.zeros(0, np.float32), np.zeros(0, np.float32)
        return np.concatenate(euclidean), np.concatenate(cosine)


def familiarity(inputs: np.ndarray, reference: TrainingDigits | None = None) -> tuple[np.ndarray, np.ndarray]:
    """How far each input is from the training digits.

    inputs `(batch, 784)` (or one `(784,)`) as `preprocess.to_network_input` makes them ->
    (score `(batch,)` float, is_far `(batch,)` bool). score is the distance to the nearest training
    digit in units of the threshold (the larger of its Euclidean and cosine ratios, see the module
    docstring): below 1 looks like MNIST's digits, above 1 (is_far) does not. `reference` defaults
    to `TrainingDigits.shipped()`; pass one built once when scoring many batches.
    """
    inputs = np.asarray(inputs, dtype=np.float32)
    if inputs.ndim == 1:
        inputs = inputs[np.newaxis]
    if reference is None:
        reference = TrainingDigits.shipped()
    euclidean, cosine = reference.nearest_distances(inputs)
    score = np.maximum(euclidean / EUCLIDEAN_THRESHOLD, cosine / COSINE_THRESHOLD).astype(np.float64)
    return score, score > 1.0


def thresholds(reference: TrainingDigits, validation_images: np.ndarray,
               percentile: float = PERCENTILE) -> tuple[float, float]:
    """(Euclidean, cosine) thresholds: the `percentile` of each nearest distance over
    `validation_images` `(n, 784)`, digits not among the reference's. How the constants were made."""
    euclidean, cosine = reference.nearest_distances(validation_images)
    return float(np.percentile(euclidean, percentile)), float(np.percentile(cosine, percentile))
