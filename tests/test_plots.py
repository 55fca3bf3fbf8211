"""plots.py: every figure is written as a real, non-blank picture of the promised size and format."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitnet import DigitnetError, Network, load_dataset
from digitnet import plots
from digitnet.compare import ComparisonRow
from digitnet.evaluation import evaluate
from digitnet.training import EpochRecord


@pytest.fixture(scope="module")
def network():
    # Untrained but with varied weights: enough to make every picture, and quick.
    return Network((784, 16, 16, 10), "sigmoid", "softmax", seed=0)


@pytest.fixture(scope="module")
def test_set():
    dataset = load_dataset()
    return dataset.test_images[:500], dataset.test_labels[:500]


def assert_picture(path: Path, kind: str):
    """A PNG of FIGURE_SIZES[kind] inches at plots.DPI, with clearly more than one shade in it."""
    assert path.is_file()
    with Image.open(path) as image:
        assert image.format == "PNG"
        width, height = plots.FIGURE_SIZES[kind]
        assert image.size == (round(width * plots.DPI), round(height * plots.DPI))
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert pixels.std() > 10, "the picture is (nearly) blank"
    assert not list(path.parent.glob(f".{path.name}.*")), "a temporary file was left behind"


def test_weight_colors_are_red_black_green_around_zero():
    red, black, green = (np.array(plots.WEIGHT_COLORS(x)[:3]) for x in (0.0, 0.5, 1.0))
    assert black.max() < 0.05
    assert red[0] > 0.8 and red[1] < 0.4
    assert green[1] > 0.8 and green[0] < 0.5


def test_first_layer_weights_as_pictures(network, tmp_path):
    path = plots.plot_weights(network, tmp_path / "weights.png")
    assert path == tmp_path / "weights.png"
    assert_picture(path, "weights")


def test_deeper_layer_weights_as_a_heatmap(network, tmp_path):
    for layer in (1, 2):
        assert_picture(plots.plot_weights(network, tmp_path / f"layer{layer}.png", layer=layer), "weight_matrix")


def test_wide_first_layer_is_cut_to_max_neurons(tmp_path):
    wide = Network((784, 100, 10), seed=1)
    assert_picture(plots.plot_weights(wide, tmp_path / "wide.png", max_neurons=36), "weights")


def test_weights_of_a_missing_layer_is_a_user_error(network, tmp_path):
    with pytest.raises(DigitnetError, match="layer 3"):
        plots.plot_weights(network, tmp_path / "w.png", layer=3)


def test_svg_suffix_writes_svg_text(network, tmp_path):
    path = plots.plot_weights(network, tmp_path / "weights.svg", layer=1)
    text = path.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text


def test_unknown_suffix_or_missing_folder_is_a_user_error(network, tmp_path):
    with pytest.raises(DigitnetError, match=".png"):
        plots.plot_weights(network, tmp_path / "weights.bmpx")
    with pytest.raises(DigitnetError, match="does not exist"):
        plots.plot_weights(network, tmp_path / "no" / "such" / "weights.png")


def test_training_history_from_records_or_dicts(tmp_path):
    records = [EpochRecord(e, 1 / e, 0.8 + e / 100, 0.85 + e / 100, 1.0) for e in range(1, 6)]
    assert_picture(plots.plot_training(records, tmp_path / "a.png"), "training")
    dicts = [record.__dict__ for record in records]
    assert_picture(plots.plot_training(dicts, tmp_path / "b.png"), "training")
    with pytest.raises(DigitnetError, match="history"):
        plots.plot_training([], tmp_path / "c.png")


def test_confusion_from_evaluation_or_matrix(network, test_set, tmp_path):
    evaluation = evaluate(network, *test_set)
    assert_picture(plots.plot_confusion(evaluation, tmp_path / "a.png"), "confusion")
    assert_picture(plots.plot_confusion(evaluation.confusion.tolist(), tmp_path / "b.png"), "confusion")
    with pytest.raises(DigitnetError, match="square"):
        plots.plot_confusion(np.zeros((3, 4)), tmp_path / "c.png")


def test_mistakes_gallery(network, test_set, tmp_path):
    assert_picture(plots.plot_mistakes(network, *test_set, tmp_path / "m.png", count=12), "mistakes")
    with pytest.raises(DigitnetError):
        plots.plot_mistakes(network, test_set[0], test_set[1][:3], tmp_path / "x.png")


def test_mistakes_gallery_without_mistakes(network, test_set, tmp_path):
    images = test_set[0][:20]
    guesses = network.predict_digit(images)
    assert_picture(plots.plot_mistakes(network, images, guesses, tmp_path / "none.png"), "mistakes")


def test_activations_cascade(network, test_set, tmp_path):
    assert_picture(plots.plot_activations(network, test_set[0][0], tmp_path / "a.png"), "activations")
    # Wide layers are drawn as strips of cells instead of circles.
    wide = Network((784, 100, 40, 10), "relu", seed=2)
    assert_picture(plots.plot_activations(wide, test_set[0][1:2], tmp_path / "b.png"), "activations")
    with pytest.raises(DigitnetError, match="784"):
        plots.plot_activations(network, test_set[0][:2], tmp_path / "c.png")


def test_dream_of_several_digits_and_of_one(network, tmp_path):
    assert_picture(plots.plot_dream(network, tmp_path / "all.png", steps=20), "dream")
    assert_picture(plots.plot_dream(network, tmp_path / "one.png", digits=3, steps=20), "dream_one")


def test_noise(network, tmp_path):
    assert_picture(plots.plot_noise(network, tmp_path / "n.png", count=6, samples=200), "noise")


def test_explain(network, test_set, tmp_path):
    assert_picture(plots.plot_explain(network, test_set[0][0], tmp_path / "e.png"), "explain")
    assert_picture(plots.plot_explain(network, test_set[0][0], tmp_path / "f.png", digit=5), "explain")


def test_comparison(tmp_path):
    rows = [ComparisonRow("16-16 sigmoid", (784, 16, 16, 10), "sigmoid", 13_002, 0.95, 8.0, [0.9, 0.93, 0.95], 3),
            ComparisonRow("100 sigmoid", (784, 100, 10), "sigmoid", 79_510, 0.97, 12.0, [0.92, 0.95, 0.97], 3)]
    assert_picture(plots.plot_comparison(rows, tmp_path / "c.png"), "comparison")
    with pytest.raises(DigitnetError):
        plots.plot_comparison([], tmp_path / "d.png")
