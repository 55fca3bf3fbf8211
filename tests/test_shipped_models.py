"""The shipped record and strong models: their accuracy, their recipe, and that the recipe remakes them.

Each recipe's first epoch runs at the same learning rate whatever the number of epochs (the cosine
schedule starts at its top), with the same seed, shuffling and distortions, so `digitnet train
--recipe NAME --epochs 1` must reproduce the first line of the shipped model's history. That is a
real rebuild of its start, within float32 rounding across machines. The record's whole recipe
(100 epochs, ~20 s of training) is rebuilt here, the strong one's (30 epochs of an 800-unit network
on distorted digits, ~2.5 min) in tests/test_strong_rebuild.py, a file of its own so that the test
runner's other process has the rest of the suite meanwhile.
"""

from __future__ import annotations

import os

import pytest

from digitnet import cli
from digitnet.data import load_dataset
from digitnet.modelfile import load_model, shipped_models
from digitnet.network import Network
from digitnet.recipes import recipe_named, with_epochs
from digitnet.training import seen_by, train

pytestmark = pytest.mark.slow

# What the README reports (test accuracy); the models must keep at least these.
REPORTED = {"strong": 0.992, "record": 0.978}


@pytest.fixture(scope="module")
def mnist():
    return load_dataset()


@pytest.mark.parametrize("name", ["strong", "record"])
def test_the_shipped_model_reaches_its_reported_accuracy(mnist, name):
    model = load_model(shipped_models()[name])
    seen = model.dataset_for(mnist)  # the record reads deskewed digits
    accuracy = model.network.accuracy(seen.test_images, seen.test_labels)
    assert accuracy >= REPORTED[name]
    assert model.metadata["test_accuracy"] == pytest.approx(accuracy, abs=2e-4)  # as recorded when it was made


@pytest.mark.parametrize("name", ["strong", "record"])
def test_the_metadata_says_how_it_was_made(name):
    model, recipe = load_model(shipped_models()[name]), recipe_named(name)
    meta = model.metadata
    assert meta["recipe"] == name and meta["recipe_summary"] == recipe.summary
    assert tuple(meta["layer_sizes"]) == recipe.layer_sizes and meta["activation"] == recipe.activation
    assert meta["training"] == recipe.settings.to_dict()
    assert meta["data_checksum"] == load_dataset().checksum
    assert os.path.getsize(shipped_models()[name]) < 5_000_000  # a few MB at most


@pytest.mark.parametrize("name", ["record", "strong"])
def test_the_recipe_remakes_the_first_epoch(tmp_path, name):
    shipped = load_model(shipped_models()[name]).metadata["history"][0]
    out = tmp_path / f"{name}.safetensors"
    assert cli.main(["train", "--recipe", name, "--epochs", "1", "--quiet", "--out", str(out)]) == 0
    remade = load_model(out).metadata["history"][0]
    # float32 rounding on another machine may flip a few of the 10,000 validation answers
    assert remade["validation_accuracy"] == pytest.approx(shipped["validation_accuracy"], abs=0.002)
    assert remade["loss"] == pytest.approx(shipped["loss"], rel=0.01)


@pytest.mark.parametrize("name", ["record"])  # the strong one: tests/test_strong_rebuild.py, on its own
def test_the_recipe_remakes_the_whole_model(tmp_path, mnist, name):
    # 0.3%: three seeds spread over 0.19% (97.62-97.81%); another CPU's rounding drifts like a seed
    # would, and the floor it leaves, 97.5%, is the aim
    assert_recipe_remakes(name, tmp_path, mnist, tolerance=0.003)


def assert_recipe_remakes(name: str, tmp_path, mnist, tolerance: float) -> None:
    """`digitnet train --recipe NAME` from scratch gives the shipped model's test accuracy within
    `tolerance` (not bit for bit: another CPU rounds float32 differently, and the run drifts apart)."""
    out = tmp_path / f"{name}.safetensors"
    assert cli.main(["train", "--recipe", name, "--quiet", "--out", str(out)]) == 0
    remade = load_model(out)
    seen = remade.dataset_for(mnist)
    accuracy = remade.network.accuracy(seen.test_images, seen.test_labels)
    shipped = load_model(shipped_models()[name]).metadata["test_accuracy"]
    assert accuracy == pytest.approx(shipped, abs=tolerance)
    assert accuracy >= REPORTED[name] - tolerance


def test_the_record_recipe_beats_the_default_on_a_short_run(mnist):
    """3 epochs on 10,000 images: deskewed digits are worth 2.9-4.8 points there (seeds 0-2, measured);
    the full figures (97.69% against 96.17%, 3 seeds) are the README's, from benchmarks/record_table.py."""
    small = mnist.subset(train=10_000)
    accuracy = {}
    for name in ("video", "record"):
        recipe = with_epochs(recipe_named(name), 3)
        network = Network(recipe.layer_sizes, recipe.activation, recipe.output, seed=0)
        train(network, small, recipe.settings)
        seen = seen_by(small, recipe.settings)
        accuracy[name] = network.accuracy(seen.test_images, seen.test_labels)
    assert accuracy["record"] > accuracy["video"] + 0.015
