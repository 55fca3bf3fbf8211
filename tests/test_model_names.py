"""The shipped models by name (--model video|record|strong) and predict's warning for non-digits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitnet import cli
from digitnet.modelfile import default_model_path, load_model, resolve_model_path, shipped_models


def test_every_shipped_name_resolves_to_a_loadable_model_file():
    models = shipped_models()
    assert list(models) == ["video", "record", "strong"]
    assert models["video"] == default_model_path()
    for name, path in models.items():
        assert resolve_model_path(name) == path
        assert load_model(path).network.layer_sizes[0] == 784, name
    assert resolve_model_path(None) == models["video"]


def test_a_path_is_a_path_and_a_bare_name_the_shipped_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("strong").write_bytes(b"not a model")  # a file of that name here does not hide the shipped model
    assert resolve_model_path("strong") == shipped_models()["strong"]
    assert resolve_model_path("./strong") == Path("./strong")
    assert resolve_model_path(tmp_path / "m.safetensors") == tmp_path / "m.safetensors"


@pytest.mark.parametrize("command", [["info"], ["evaluate"], ["plot", "weights"], ["dream", "3", "--steps", "2"]])
def test_commands_take_the_model_by_name(command, tmp_path, capsys):
    out = ["--out", str(tmp_path / "picture.png")] if command[0] in ("plot", "dream") else []
    assert cli.main([*command, "--model", "record", *out]) == 0
    if command[0] in ("info", "evaluate"):
        assert "record.safetensors" in capsys.readouterr().out


def test_the_model_given_twice_is_a_clear_error(capsys):
    assert cli.main(["info", "video", "--model", "strong"]) == 1
    assert "give the model once" in capsys.readouterr().err


def test_an_unknown_name_is_a_missing_file(capsys):
    assert cli.main(["info", "--model", "strongest"]) == 1
    assert "strongest" in capsys.readouterr().err


def sheet(path, strokes):
    image = Image.new("L", (280, 280), 255)
    strokes(ImageDraw.Draw(image))
    image.save(path)
    return str(path)


def test_predict_warns_on_an_x_and_not_on_a_seven(tmp_path, capsys):
    x = sheet(tmp_path / "x.png", lambda pen: (pen.line((60, 60, 220, 220), fill=0, width=18),
                                               pen.line((220, 60, 60, 220), fill=0, width=18)))
    seven = sheet(tmp_path / "seven.png", lambda pen: pen.line([(80, 50), (200, 50), (120, 240)], fill=0, width=18))
    assert cli.main(["predict", x, seven, "--model", "strong"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "warning: unlike the training digits" in lines[0]
    assert lines[1].startswith(f"{seven}: 7 ") and "warning" not in lines[1]
    assert cli.main(["predict", "--json", x, seven]) == 0
    answers = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [a["unlike_training_digits"] for a in answers] == [True, False]
    assert answers[0]["familiarity"] > 1 > answers[1]["familiarity"]
