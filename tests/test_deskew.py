"""deskew.py, and the models that learned on deskewed digits: the math on real MNIST digits and on
slants we make ourselves, the dataset view, and every place a deskewing model reads a digit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digitnet import DigitnetError
from digitnet import cli
from digitnet.augment import CENTRE, SIDE, resample
from digitnet.data import load_dataset
from digitnet.deskew import BLOCK_IMAGES, deskew, slants
from digitnet.modelfile import Model, load_model, shipped_models
from digitnet.network import Network
from digitnet.training import TrainingSettings, seen_by


@pytest.fixture(scope="module")
def mnist():
    return load_dataset()


@pytest.fixture(scope="module")
def upright(mnist):
    """200 test digits, deskewed: slant 0, centre of mass in the middle."""
    return deskew(mnist.test_images[:200])


def sheared(images: np.ndarray, slant: float) -> np.ndarray:
    """The images written with a slant: each row's columns drift by `slant` per row from the centre."""
    n, pixel = len(images), np.arange(SIDE) - CENTRE
    rows = np.broadcast_to(CENTRE + pixel[None, :, None], (n, SIDE, SIDE))
    cols = np.broadcast_to(CENTRE + pixel[None, None, :] - slant * pixel[None, :, None], (n, SIDE, SIDE))
    return resample(images, np.stack([rows, cols], axis=1).astype(np.float32))


def test_deskewed_mnist_digits_stand_upright_in_the_middle(mnist, upright):
    before, _, _ = slants(mnist.test_images[:200])
    alpha, rows, cols = slants(upright)
    assert np.abs(before).mean() > 0.1  # people slant their digits ...
    assert np.abs(alpha).max() < 0.02  # ... and deskewing takes it out
    np.testing.assert_allclose(rows, CENTRE, atol=1e-3)
    np.testing.assert_allclose(cols, CENTRE, atol=1e-3)
    assert upright.min() >= 0 and upright.max() <= 1


@settings(max_examples=25, deadline=None)
@given(slant=st.floats(-0.5, 0.5), index=st.integers(0, 199))
def test_any_slant_we_add_is_measured_and_taken_out_again(upright, slant, index):
    digit = upright[index:index + 1]
    slanted = sheared(digit, slant)
    measured, _, _ = slants(slanted)
    assert measured[0] == pytest.approx(slant, abs=0.03)
    back = deskew(slanted)
    # bilinear reading blurs a little each time: far closer to the upright digit than the slanted one is
    assert np.abs(back - digit).mean() <= 0.03 + 0.3 * np.abs(slanted - digit).mean()


def test_pixels_and_inputs_give_the_same_digits(mnist):
    from_pixels = deskew(mnist.test_pixels[:100])  # uint8, rounded
    from_inputs = deskew(mnist.test_images[:100])  # float32
    assert from_pixels.dtype == np.uint8 and from_inputs.dtype == np.float32
    np.testing.assert_allclose(from_pixels / 255, from_inputs, atol=0.5 / 255 + 1e-5)


def test_one_image_a_batch_and_blocks_agree(mnist):
    images = mnist.test_pixels[:BLOCK_IMAGES + 3]  # over a block's edge
    batch = deskew(images)
    assert batch.shape == images.shape
    for i in (0, BLOCK_IMAGES - 1, BLOCK_IMAGES, BLOCK_IMAGES + 2):
        one = deskew(images[i])
        assert one.shape == (784,)
        # the moments are one matrix product: its last bits may depend on the batch on another CPU's BLAS
        np.testing.assert_allclose(one.astype(int), batch[i].astype(int), atol=1)


@pytest.mark.parametrize("make, kind", [
    (lambda image: image, "blank"),
    (lambda image: image.__setitem__((14, slice(5, 20)), 1.0), "one horizontal line (no slant to measure)"),
])
def test_images_without_a_slant_to_measure_come_out_sane(make, kind):
    image = np.zeros((SIDE, SIDE), np.float32)
    make(image)
    out = deskew(image.reshape(784))
    assert np.isfinite(out).all(), kind
    assert out.sum() == pytest.approx(image.sum(), rel=0.05), kind  # moved, not lost or made up


def test_a_dataset_deskewed_once_per_part_keeps_its_labels_and_checksum(mnist):
    small = mnist.subset(train=300, validation=200, test=100)
    view = small.deskewed
    assert view is small.deskewed and view.deskewed is view  # made once; never deskewed twice
    np.testing.assert_array_equal(view.train_labels, small.train_labels)
    np.testing.assert_allclose(view.test_pixels.astype(int), deskew(small.test_pixels).astype(int), atol=1)
    np.testing.assert_allclose(view.validation_pixels.astype(int), deskew(small.validation_pixels).astype(int), atol=1)
    assert view.checksum == small.checksum and "deskewed" in view.source
    assert seen_by(small, TrainingSettings(deskew=True)) is view
    assert seen_by(small, TrainingSettings()) is small


def test_the_setting_is_checked_and_recorded_only_when_used():
    with pytest.raises(DigitnetError, match="deskew"):
        TrainingSettings(deskew="yes")
    assert "deskew" not in TrainingSettings().to_dict()  # older models' records stay as they were
    assert TrainingSettings(deskew=True).to_dict()["deskew"] is True


def test_a_model_says_whether_it_deskews_and_prepares_inputs_so(mnist):
    network = Network((784, 4, 10), seed=0)
    plain, deskewing = Model(network, {"training": {}}), Model(network, {"training": {"deskew": True}})
    images = mnist.test_images[:5]
    assert not plain.deskews and plain.prepare(images) is images
    assert Model(network, {"training": {"deskew": "true"}}).deskews is False  # only a real true from the file
    assert deskewing.deskews
    np.testing.assert_array_equal(deskewing.prepare(images), deskew(images))
    assert deskewing.dataset_for(mnist) is mnist.deskewed


def test_train_deskew_makes_a_model_every_command_then_deskews_for(tmp_path, capsys, mnist):
    out = tmp_path / "upright.safetensors"
    assert cli.main(["train", "--deskew", "--layers", "16", "--epochs", "1", "--quiet", "--out", str(out)]) == 0
    model = load_model(out)
    assert model.deskews and model.metadata["training"]["deskew"] is True
    seen = mnist.deskewed
    expected = model.network.accuracy(seen.test_images, seen.test_labels)
    assert model.metadata["test_accuracy"] == pytest.approx(expected, abs=1e-4)  # measured on deskewed digits
    assert expected > model.network.accuracy(mnist.test_images, mnist.test_labels) + 0.005  # and they matter
    capsys.readouterr()
    assert cli.main(["evaluate", str(out)]) == 0
    assert f"test accuracy: {expected:.2%}" in capsys.readouterr().out
    assert cli.main(["info", str(out)]) == 0
    assert "inputs: deskewed" in capsys.readouterr().out


def test_the_shipped_record_reads_a_slanted_drawing_as_it_reads_it_upright(tmp_path, capsys, upright, mnist):
    """predict deskews for the record: an MNIST digit leaned over by 0.4 gets the upright digit's answer."""
    from PIL import Image

    record = load_model(shipped_models()["record"])
    assert record.deskews
    labels = mnist.test_labels[:200]
    right = record.network.predict_digit(upright) == labels
    chosen = [i for i in np.flatnonzero(right)[:10]]
    for i in chosen:
        leaning = sheared(upright[i:i + 1], 0.4)[0]
        Image.fromarray(np.rint(leaning.reshape(SIDE, SIDE) * 255).astype(np.uint8)).save(tmp_path / f"{i}.png")
    assert cli.main(["predict", "--model", "record", *(str(tmp_path / f"{i}.png") for i in chosen)]) == 0
    answers = [int(line.split(": ")[1].split()[0]) for line in capsys.readouterr().out.splitlines()]
    assert answers == [int(labels[i]) for i in chosen]


@pytest.mark.parametrize("images, problem", [
    (np.zeros(783), "(783,)"),
    (np.zeros((2, 784, 1)), "(2, 784, 1)"),
    (np.array([["a"] * 784]), "must be numbers"),
    (np.full(784, np.nan), "NaN or infinite"),
    (np.full((3, 784), np.inf), "NaN or infinite"),
])
def test_what_cannot_be_deskewed_is_one_line(images, problem):
    for call in (deskew, slants, Model(Network((784, 4, 10)), {"training": {"deskew": True}}).prepare):
        with pytest.raises(DigitnetError) as caught:
            call(images)
        assert problem in str(caught.value) and "\n" not in str(caught.value)
    alpha, _, _ = slants(np.zeros(784))  # one image is a batch of one
    assert alpha.shape == (1,) and deskew(np.zeros((0, 784))).shape == (0, 784)


def test_a_recipe_takes_deskew_too(tmp_path):
    out = tmp_path / "video-deskewed.safetensors"
    assert cli.main(["train", "--recipe", "video", "--deskew", "--epochs", "1", "--quiet", "--out", str(out)]) == 0
    assert load_model(out).deskews


@pytest.mark.parametrize("suffix", [".onnx", ".npz", ".json", ".pt"])
def test_an_exported_record_comes_back_deskewing(tmp_path, capsys, suffix):
    """The exported file holds the network; ONNX, .npz and .json also say it reads deskewed digits, and
    `digitnet import` restores that (a state dict has no room for it: --deskew says so)."""
    pytest.importorskip("onnx" if suffix == ".onnx" else "torch" if suffix == ".pt" else "numpy")
    exported, imported = tmp_path / f"record{suffix}", tmp_path / "back.safetensors"
    assert cli.main(["export", "record", "--to", str(exported)]) == 0
    assert "learned on deskewed digits" in capsys.readouterr().err
    flags = ["--activation", "sigmoid", "--output", "softmax", "--deskew"] if suffix == ".pt" else []
    assert cli.main(["import", str(exported), "--to", str(imported), *flags]) == 0
    out = capsys.readouterr().out
    assert "it reads deskewed digits" in out and "test accuracy on MNIST: 97.81%" in out
    assert load_model(imported).deskews
