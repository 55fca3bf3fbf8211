"""Tests for digitnet.familiarity: shapes that are not digits are far, real digits are not."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitnet.data import load_dataset
from digitnet.familiarity import (COSINE_THRESHOLD, EUCLIDEAN_THRESHOLD, TrainingDigits, familiarity,
                                  features, thresholds)
from digitnet.preprocess import to_network_input


def drawn(strokes) -> np.ndarray:
    """Network inputs `(784,)` of a 280x280 sheet, dark ink on white, drawn by `strokes(pen)`."""
    sheet = Image.new("L", (280, 280), 255)
    strokes(ImageDraw.Draw(sheet))
    return to_network_input(np.asarray(sheet))


NOT_DIGITS = {
    "X": lambda pen: (pen.line((60, 60, 220, 220), fill=0, width=18), pen.line((220, 60, 60, 220), fill=0, width=18)),
    "smiley": lambda pen: (pen.ellipse((40, 40, 240, 240), outline=0, width=14), pen.ellipse((95, 95, 120, 120), fill=0),
                           pen.ellipse((160, 95, 185, 120), fill=0), pen.arc((85, 110, 195, 200), 20, 160, fill=0, width=14)),
    "dot": lambda pen: pen.ellipse((130, 130, 150, 150), fill=0),
    "square": lambda pen: pen.rectangle((60, 60, 220, 220), outline=0, width=16),
    "hash": lambda pen: [(pen.line((a, 40, a, 240), fill=0, width=14), pen.line((40, a, 240, a), fill=0, width=14))
                         for a in (100, 180)],
}
DIGITS = {
    "1": lambda pen: pen.line((140, 40, 140, 240), fill=0, width=18),
    "7": lambda pen: pen.line([(80, 50), (200, 50), (120, 240)], fill=0, width=18, joint="curve"),
    "0": lambda pen: pen.ellipse((80, 40, 200, 240), outline=0, width=18),
    "4": lambda pen: pen.line([(170, 240), (170, 40), (70, 170), (210, 170)], fill=0, width=18, joint="curve"),
}


@pytest.fixture(scope="module")
def reference():
    return TrainingDigits.shipped()


@pytest.fixture(scope="module")
def mnist():
    return load_dataset()


@pytest.mark.parametrize("name", NOT_DIGITS)
def test_shapes_that_are_not_digits_are_far(reference, name):
    score, is_far = familiarity(drawn(NOT_DIGITS[name]), reference)
    assert is_far.tolist() == [True], f"{name}: score {score[0]:.2f}"


@pytest.mark.parametrize("name", DIGITS)
def test_digits_drawn_with_a_pen_are_near(reference, name):
    score, is_far = familiarity(drawn(DIGITS[name]), reference)
    assert is_far.tolist() == [False] and score[0] < 0.8, f"{name}: score {score[0]:.2f}"


def test_mnist_test_digits_are_mostly_near(reference, mnist):
    """The thresholds are the 98th percentiles of two distances on the validation digits; on unseen
    test digits the union flags a few percent (4.4% of all 10,000: the module docstring)."""
    score, is_far = familiarity(mnist.test_images[:3000], reference)
    assert score.shape == is_far.shape == (3000,)
    assert 0.01 < is_far.mean() < 0.07
    assert np.median(score) < 0.7


def test_a_training_digit_is_at_distance_zero(reference, mnist):
    score, is_far = familiarity(mnist.train_images[[0, 123]], reference)
    np.testing.assert_allclose(score, 0, atol=1e-2)  # float32 rounding of |x|^2 + |t|^2 - 2 x.t
    assert not is_far.any()


def test_the_thresholds_are_the_documented_percentiles(reference, mnist):
    """The constants were computed on all 10,000 validation digits; 3,000 of them give the 98th
    percentile within a few percent (its sampling spread)."""
    euclidean, cosine = thresholds(reference, mnist.validation_images[:3000])
    assert euclidean == pytest.approx(EUCLIDEAN_THRESHOLD, rel=0.06)
    assert cosine == pytest.approx(COSINE_THRESHOLD, rel=0.08)


def test_the_blur_keeps_the_ink_and_shrinks_to_14x14():
    rng = np.random.default_rng(0)
    inputs = np.zeros((3, 784), np.float32)
    inputs[:, 14 * 28 + 14] = 1.0  # one bright pixel in the middle
    inputs[2] = rng.random(784)
    coarse = features(inputs)
    assert coarse.shape == (3, 196)
    # a mean of weighted means: the total ink over 4 (2x2 pixels per coarse pixel), away from the edges
    assert coarse[0].sum() == pytest.approx(1 / 4, rel=1e-4)
    assert coarse[2].sum() == pytest.approx(inputs[2].sum() / 4, rel=1e-4)


def test_one_input_or_none(reference):
    score, is_far = familiarity(np.zeros((0, 784), np.float32), reference)
    assert score.shape == is_far.shape == (0,)
    score, is_far = familiarity(drawn(DIGITS["1"]), reference)
    assert score.shape == (1,)


def test_both_distances_match_their_definitions(reference, mnist):
    """One product x.t serves both distances; checked against the definitions written out in float64
    (|x - t| and 1 - x.t / (|x| |t|), over all 50,000 training digits) for digits, shapes and noise."""
    rng = np.random.default_rng(3)
    inputs = np.vstack([mnist.test_images[:4], drawn(NOT_DIGITS["X"]), drawn(NOT_DIGITS["smiley"]),
                        rng.random((2, 784), dtype=np.float32)])  # (8, 784)
    euclidean, cosine = reference.nearest_distances(inputs)
    x = features(inputs).astype(np.float64)  # (8, 196)
    t = reference.features.astype(np.float64)  # (50000, 196)
    expected_euclidean = np.sqrt(np.maximum((x ** 2).sum(1)[:, None] + (t ** 2).sum(1)[None] - 2 * x @ t.T, 0)).min(1)
    expected_cosine = 1 - ((x @ t.T) / np.linalg.norm(x, axis=1)[:, None] / np.linalg.norm(t, axis=1)[None]).max(1)
    # float32 rounding of |x|^2 + |t|^2 - 2 x.t (|x|^2 ~ 10) and of cosines near 1
    np.testing.assert_allclose(euclidean, expected_euclidean, atol=2e-3)
    np.testing.assert_allclose(cosine, expected_cosine, atol=1e-5)
