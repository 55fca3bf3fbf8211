"""The shipped record and strong models: their accuracy, their recipe, and that the recipe remakes them.

Each recipe's first epoch runs at the same learning rate whatever the number of epochs (the cosine
schedule starts at its top), with the same seed, shuffling and distortions, so `digitnet train
--recipe NAME --epochs 1` must reproduce the first line of the shipped model's history. That is a
real rebuild of its start, within float32 rounding across machines. The record's whole recipe
(100 epochs, ~20 s of training) is rebuilt every time; the strong one's (30 epochs of an 800-unit
network on distorted digits, minutes) with DIGITNET_FULL_REBUILD=1.
"""

from __future__ import annotations

import os

import pytest

from digitnet import cli
from digitnet.data import load_dataset
from digitnet.modelfile import load_model, shipped_models
from digitnet.recipes import recipe_named

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


FULL_REBUILD = pytest.mark.skipif(not os.environ.get("DIGITNET_FULL_REBUILD"),
                                  reason="the strong model's full rebuild takes minutes; set DIGITNET_FULL_REBUILD=1")


@pytest.mark.parametrize("name", ["record", pytest.param("strong", marks=FULL_REBUILD)])
def test_the_recipe_remakes_the_whole_model(tmp_path, mnist, name):
    out = tmp_path / f"{name}.safetensors"
    assert cli.main(["train", "--recipe", name, "--quiet", "--out", str(out)]) == 0
    remade = load_model(out)
    seen = remade.dataset_for(mnist)
    accuracy = remade.network.accuracy(seen.test_images, seen.test_labels)
    shipped = load_model(shipped_models()[name]).metadata["test_accuracy"]
    assert accuracy == pytest.approx(shipped, abs=0.0015)  # another machine's float32 rounding, not bit for bit
    assert accuracy >= REPORTED[name] - 0.0015
