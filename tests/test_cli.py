"""The `digitnet` command as a user runs it: a real subprocess, real files."""

import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitnet.data import read_idx, shipped_data_dir
from digitnet.modelfile import load_model
from helpers import run_digitnet, write_idx_set


def run(*args, cwd=None, check=True):
    result = run_digitnet(*args, cwd=cwd)
    if check:
        assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result


def mnist_png(path, index, invert=False, scale=4):
    """A real MNIST test digit saved as a (larger, optionally dark-on-light) PNG, as a user might draw it."""
    pixels = read_idx(shipped_data_dir() / "t10k-images-idx3-ubyte.gz")[index]
    image = Image.fromarray(255 - pixels if invert else pixels).resize((28 * scale, 28 * scale), Image.BILINEAR)
    image.save(path)
    return path


def test_train_saves_a_model_with_its_history(tmp_path):
    out = tmp_path / "m.safetensors"
    result = run("train", "--epochs", "1", "--layers", "20", "--activation", "relu", "--out", str(out))
    assert "test accuracy:" in result.stdout
    accuracy = float(result.stdout.split("test accuracy:")[1].split("%")[0]) / 100
    model = load_model(out)
    assert model.network.layer_sizes == (784, 20, 10) and model.network.activation == "relu"
    assert model.metadata["training"]["epochs"] == 1
    assert len(model.metadata["history"]) == 1 and {"loss", "train_accuracy", "validation_accuracy", "seconds"} \
        <= set(model.metadata["history"][0])
    assert model.metadata["test_accuracy"] == pytest.approx(accuracy, abs=1e-4) and accuracy > 0.85
    assert "epoch   1/1" in result.stderr and "validation" in result.stderr


def test_train_on_another_idx_set(tmp_path):
    folder = write_idx_set(tmp_path / "other", n_train=10_100, n_test=30)
    out = tmp_path / "other.safetensors"
    result = run("train", "--epochs", "1", "--data", str(folder), "--out", str(out), "--quiet")
    assert "of 30 test images" in result.stdout
    assert load_model(out).metadata["data_source"] == str(folder)


def test_evaluate_prints_accuracy_per_digit_and_confusion_matrix():
    result = run("evaluate")
    lines = result.stdout.splitlines()
    assert any(line.startswith("test accuracy:") for line in lines)
    assert "confusion matrix" in result.stdout
    matrix = [line.split() for line in lines[lines.index(next(l for l in lines if l.startswith("confusion"))) + 2:]]
    counts = np.array([[int(c) for c in row[1:]] for row in matrix[:10]])
    assert counts.shape == (10, 10) and counts.sum() == 10_000
    assert list(counts.sum(axis=1)) == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_predict_json_answers_each_image_and_reports_bad_ones(tmp_path):
    seven = mnist_png(tmp_path / "seven.png", 0)                      # MNIST test image 0 is a 7
    two = mnist_png(tmp_path / "two.png", 1, invert=True)             # test image 1 is a 2, dark on light
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    result = run("predict", "--json", str(seven), str(broken), str(two), check=False)
    assert result.returncode != 0
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["file"] for a in answers] == [str(seven), str(broken), str(two)]
    assert answers[0]["digit"] == 7 and answers[2]["digit"] == 2
    assert set(answers[1]) == {"file", "error"} and "broken.png" in answers[1]["error"]
    for answer in (answers[0], answers[2]):
        assert set(answer) == {"file", "digit", "confidence", "probabilities", "familiarity", "unlike_training_digits"}
        assert answer["unlike_training_digits"] is False and 0 <= answer["familiarity"] < 1  # MNIST digits
        assert len(answer["probabilities"]) == 10 and sum(answer["probabilities"]) == pytest.approx(1, abs=1e-4)
        assert answer["confidence"] == max(answer["probabilities"])


def test_predict_plain_text_of_a_drawn_one(tmp_path):
    image = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(image).line([(100, 30), (100, 170)], fill=0, width=14)
    image.save(tmp_path / "one.png")
    result = run("predict", str(tmp_path / "one.png"))
    assert result.stdout.startswith(f"{tmp_path / 'one.png'}: 1 ")


def test_info_shows_the_structure_and_13002():
    result = run("info")
    assert "13,002" in result.stdout and "12,544" in result.stdout
    assert "hidden 1" in result.stdout and "test accuracy" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["info", "nowhere.safetensors"], "nowhere.safetensors: no such model file"),
    (["evaluate", "--data", "/nonexistent"], "not a directory"),
    (["train", "--learning-rate", "-1"], "learning_rate must be a finite number > 0"),
    (["train", "--out", "/no/such/folder/m.safetensors"], "does not exist"),
    (["train", "--out", "/tmp"], "/tmp: is a folder"),
    (["train", "--batch-size", "100000"], "batch_size 100000 is more than the 50,000 training images"),
    (["plot", "weights", "--out", "/tmp"], "/tmp: is a folder"),
    (["plot", "mistakes", "--count", "0"], "show at least one mistake"),
    (["compare", "--jobs", "0"], "jobs must be >= 1"),
    (["compare", "--data", "/nonexistent"], "not a directory"),
    (["serve", "--port", "99999"], "choose a port from 0 to 65535"),
])
def test_user_mistakes_are_one_line_without_traceback(args, message):
    result = run(*args, check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "info"])
def test_help_teaches(command):
    result = run(command, "--help")
    assert "usage: digitnet " + command in result.stdout
    assert len(result.stdout) > 300


def test_main_help_speaks_the_videos_words():
    result = run("--help")
    assert "784" in result.stdout and "sigmoid" in result.stdout and "brightest" in result.stdout


@pytest.mark.parametrize("args", [["plot", "weights"], ["plot", "weights", "--layer", "2"], ["plot", "training"],
                                  ["plot", "confusion"], ["plot", "mistakes", "--count", "6"], ["plot", "noise"],
                                  ["dream", "4"]])
def test_picture_commands_write_pictures(tmp_path, args):
    out = tmp_path / "picture.png"
    result = run(*args, "--out", str(out))
    assert result.stdout.strip() == f"wrote {out}"
    with Image.open(out) as picture:
        assert picture.width > 300 and np.asarray(picture.convert("L")).std() > 10


def test_pictures_of_a_users_image(tmp_path):
    seven = mnist_png(tmp_path / "seven.png", 0, invert=True)
    for args in (["plot", "activations", str(seven)], ["explain", str(seven)]):
        out = tmp_path / f"{args[-2] if args[0] == 'plot' else 'explain'}.svg"
        run(*args, "--out", str(out))
        assert out.read_text().lstrip().startswith("<?xml")
    result = run("plot", "activations", str(tmp_path / "missing.png"), check=False)
    assert result.returncode == 1 and "missing.png" in result.stderr


def test_compare_trains_structures_side_by_side(tmp_path):
    folder = write_idx_set(tmp_path / "small", n_train=10_300, n_test=50)
    out = tmp_path / "compare.png"
    result = run("compare", "--epochs", "1", "--data", str(folder), "--out", str(out))
    for name in ("16-16 sigmoid", "16-16 ReLU", "30 sigmoid", "100 sigmoid", "300-100 ReLU"):
        assert name in result.stdout
    assert out.exists() and f"wrote {out}" in result.stdout


def test_info_and_plot_training_skip_broken_history_records(tmp_path):
    from digitnet.modelfile import save_model
    from digitnet.network import Network

    good = {"epoch": 1, "loss": 0.5, "train_accuracy": 0.8, "validation_accuracy": 0.85, "seconds": 1.0}
    path = save_model(tmp_path / "odd.safetensors", Network(), {
        "training": {"epochs": 3}, "best_epoch": 7, "test_accuracy": "high",
        "history": [{"epoch": 0}, "abc", {**good, "loss": "nan"}, good]})
    info = run("info", str(path))
    assert "epochs run: 1, best: 1 (validation accuracy 85.00%)" in info.stdout and "test accuracy" not in info.stdout
    run("plot", "training", str(path), "--out", str(tmp_path / "t.png"))
    broken = save_model(tmp_path / "none.safetensors", Network(), {"history": [{"epoch": "x"}]})
    result = run("plot", "training", str(broken), "--out", str(tmp_path / "u.png"), check=False)
    assert result.returncode == 1 and "no training history" in result.stderr
