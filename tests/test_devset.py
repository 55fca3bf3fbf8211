"""The development set: digits drawn in the real explorer page (scripts/make_devset.py), not MNIST.

The README reports each shipped model's accuracy on it, per digit; the models must keep at least that.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from digitnet.modelfile import load_model, shipped_models
from digitnet.preprocess import to_network_input

DEVSET = Path(__file__).parent / "devset"
REPORTED = {"video": 0.912, "record": 0.95, "strong": 0.970}  # README's "Real handwriting" table, rounded down


def devset():
    with open(DEVSET / "labels.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    inputs = np.stack([to_network_input(DEVSET / row["file"]) for row in rows])
    return inputs, np.array([int(row["digit"]) for row in rows]), rows


@pytest.fixture(scope="module")
def drawn():
    return devset()


def test_the_devset_has_every_digit_from_both_sources(drawn):
    _, labels, rows = drawn
    assert np.bincount(labels, minlength=10).min() >= 20
    assert {row["source"] for row in rows} == {"page pad, mouse", "browser canvas"}


@pytest.mark.parametrize("name", list(REPORTED))
def test_each_shipped_model_keeps_its_reported_accuracy(drawn, name):
    inputs, labels, _ = drawn
    model = load_model(shipped_models()[name])
    accuracy = model.network.accuracy(model.prepare(inputs), labels)  # the record reads deskewed digits
    assert accuracy >= REPORTED[name]


def test_the_strong_model_reads_real_handwriting_better_than_the_video_one(drawn):
    inputs, labels, _ = drawn
    accuracy = {name: load_model(shipped_models()[name]).network.accuracy(inputs, labels) for name in ("video", "strong")}
    assert accuracy["strong"] > accuracy["video"] + 0.03
