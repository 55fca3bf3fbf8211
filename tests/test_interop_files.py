"""The plain formats (.npz, .json) that other languages read, and the choice of format by suffix."""

import json

import numpy as np
import pytest

from digitnet.errors import DigitnetError
from digitnet.interop import export_model, import_model
from digitnet.network import Network, sigmoid, softmax
from interop_helpers import mnist


def feedforward_from(layers, activation, output, images):
    """The network's math written out from the exported numbers alone, as another program would."""
    squish = {"sigmoid": sigmoid, "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}
    a = images.astype(np.float64)
    for l, (weights, biases) in enumerate(layers):
        z = a @ np.asarray(weights, np.float64).T + np.asarray(biases, np.float64)
        a = (softmax if output == "softmax" else sigmoid)(z) if l == len(layers) - 1 else squish[activation](z)
    return a


@pytest.mark.parametrize("activation,output", [("sigmoid", "softmax"), ("relu", "sigmoid")])
def test_npz_and_json_hold_the_numbers_and_the_structure(tmp_path, activation, output):
    network = Network((784, 16, 16, 10), activation=activation, output=output, seed=2)
    images = mnist().test_images[:500]
    expected = network.copy(np.float64).feedforward(images)

    with np.load(export_model(network, tmp_path / "n.npz"), allow_pickle=False) as arrays:
        structure = json.loads(str(arrays["structure"]))
        layers = [(arrays[f"weights.{l}"], arrays[f"biases.{l}"]) for l in range(3)]
    assert structure["layer_sizes"] == [784, 16, 16, 10] and "[0, 1]" in structure["input"]
    np.testing.assert_array_equal(layers[0][0], network.weights[0])
    np.testing.assert_allclose(feedforward_from(layers, activation, output, images), expected, atol=1e-12)

    document = json.loads(export_model(network, tmp_path / "n.json").read_text())
    assert (document["activation"], document["output"]) == (activation, output)
    # the shortest decimal of each float32 reads back as exactly that float32, when read as float32
    layers = [(np.asarray(layer["weights"], np.float32), np.asarray(layer["biases"], np.float32))
              for layer in document["layers"]]
    np.testing.assert_array_equal(layers[1][0], network.weights[1])
    np.testing.assert_allclose(feedforward_from(layers, activation, output, images), expected, atol=1e-12)


def test_the_suffix_chooses_the_format(tmp_path):
    network = Network((784, 4, 10))
    with pytest.raises(DigitnetError, match=r"m\.h5: cannot tell the format to export; end the name with .onnx"):
        export_model(network, tmp_path / "m.h5")
    with pytest.raises(DigitnetError, match=r"m\.npz: cannot tell the format to import"):
        import_model(tmp_path / "m.npz")
    with pytest.raises(DigitnetError, match=r"missing\.onnx: no such ONNX file"):
        import_model(tmp_path / "missing.onnx")


USER_MISTAKES = {
    "missing model": (["export", "{tmp}/none.safetensors", "--to", "{tmp}/x.onnx"], "none.safetensors: no such model file"),
    "unknown suffix": (["export", "--to", "{tmp}/x.h5"], "x.h5: cannot tell the format to export"),
    "missing folder": (["export", "--to", "{tmp}/nowhere/x.onnx"], "folder {tmp}/nowhere does not exist"),
    "name too long": (["export", "--to", "{tmp}/" + "a" * 300 + ".onnx"], "cannot write it"),
    "overwrite the source": (["export", "{tmp}/m.safetensors", "--to", "{tmp}/m.safetensors"], "is the model being exported"),
    "missing import": (["import", "{tmp}/none.onnx", "--to", "{tmp}/x.safetensors"], "none.onnx: no such ONNX file"),
    "model not safetensors": (["import", "{tmp}/m.onnx", "--to", "{tmp}/x.onnx"], "x.onnx: a digitnet model file ends with"),
    "import suffix": (["import", "{tmp}/m.h5", "--to", "{tmp}/x.safetensors"], "m.h5: cannot tell the format to import"),
}


@pytest.mark.parametrize("kind", USER_MISTAKES)
def test_export_and_import_mistakes_are_one_line(tmp_path, capsys, kind):
    from digitnet.cli import main
    from digitnet.modelfile import save_model

    save_model(tmp_path / "m.safetensors", Network((784, 4, 10)))
    argv, expected = USER_MISTAKES[kind]
    assert main([arg.format(tmp=tmp_path) for arg in argv]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and expected.format(tmp=tmp_path) in error, error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]  # nothing half-written
