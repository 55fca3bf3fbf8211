"""The plain formats (.npz, .json) that other languages read, both ways; the choice of format by suffix;
the CLI's export/import mistakes; and the chain check every importer shares."""

import io
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


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_npz_and_json_come_back_in(tmp_path, suffix):
    network = Network((784, 9, 10), activation="tanh", output="sigmoid", seed=4)
    model = import_model(export_model(network, tmp_path / f"n{suffix}"))
    assert (model.network.activation, model.network.output) == ("tanh", "sigmoid")
    for theirs, ours in zip(model.network.weights + model.network.biases, network.weights + network.biases):
        np.testing.assert_array_equal(theirs, ours)
    assert model.metadata["origin"]["format"] == suffix[1:]


def hostile_npz(path, kind):
    import zipfile
    good = io.BytesIO()
    np.savez(good, structure=np.array(json.dumps({"format": "digitnet-weights", "activation": "relu",
                                                  "output": "softmax"})),
             **{"weights.0": np.ones((10, 784)), "biases.0": np.zeros(10)})
    if kind == "pickled object array":
        np.savez(path, structure=np.array([{"a": 1}], dtype=object), **{"weights.0": np.ones((10, 784))})
    elif kind == "zip bomb":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("weights.0.npy", b"\0" * (600 << 20))  # 600 MB of zeros, ~0.6 MB zipped
    elif kind == "missing biases":
        np.savez(path, structure=np.array(json.dumps({"format": "digitnet-weights", "activation": "relu",
                                                      "output": "softmax"})), **{"weights.0": np.ones((10, 784))})
    elif kind == "not a zip":
        path.write_bytes(good.getvalue()[:500])
    return path


@pytest.mark.parametrize("kind", ["pickled object array", "zip bomb", "missing biases", "not a zip"])
def test_hostile_npz_files_are_one_line(tmp_path, kind):
    path = hostile_npz(tmp_path / "bad.npz", kind)
    with pytest.raises(DigitnetError) as error:
        import_model(path)
    assert str(error.value).startswith(f"{path}: ") and "\n" not in str(error.value), str(error.value)


@pytest.mark.parametrize("text,expected", [
    ("{not json", "not JSON"),
    ("[" * 100_000 + "]" * 100_000, "not JSON"),
    ('{"format": "digitnet-weights", "activation": "relu", "output": "softmax", "layers": '
     '[{"weights": [[1, 2], [3]], "biases": [0, 0]}]}', "layer 0: its weights and biases are not rows of numbers"),
    ('{"format": "digitnet-weights", "activation": "gelu", "output": "softmax", "layers": []}', "'gelu'"),
    ('{"layers": []}', "not a digitnet weights file"),
])
def test_broken_json_files_are_one_line(tmp_path, text, expected):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(DigitnetError) as error:
        import_model(path)
    assert str(error.value).startswith(f"{path}: ") and expected in str(error.value), str(error.value)


def test_the_suffix_chooses_the_format(tmp_path):
    network = Network((784, 4, 10))
    with pytest.raises(DigitnetError, match=r"m\.h5: cannot tell the format to export; end the name with .onnx"):
        export_model(network, tmp_path / "m.h5")
    with pytest.raises(DigitnetError, match=r"m\.h5: cannot tell the format to import"):
        import_model(tmp_path / "m.h5")
    with pytest.raises(DigitnetError, match=r"missing\.onnx: no such ONNX file"):
        import_model(tmp_path / "missing.onnx")


USER_MISTAKES = {
    "missing model": (["export", "{tmp}/none.safetensors", "--to", "{tmp}/x.onnx"], "none.safetensors: no such model file"),
    "unknown suffix": (["export", "--to", "{tmp}/x.h5"], "x.h5: cannot tell the format to export"),
    "missing folder": (["export", "--to", "{tmp}/nowhere/x.onnx"], "folder {tmp}/nowhere does not exist"),
    "name too long": (["export", "--to", "{tmp}/" + "a" * 300 + ".onnx"], "name is too long"),
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


def chain_of(*kinds, sizes=(784, 8, 10), weights=None):
    """Steps for a chain: 'D' a fully connected layer (taking the next size), any other letter group a squish."""
    from digitnet.interop.chain import Dense, Squish
    steps, layer = [], 0
    for kind in kinds:
        if kind == "D":
            n_in, n_out = sizes[layer], sizes[layer + 1]
            steps.append(Dense(np.ones((n_out, n_in)) if weights is None else weights, np.zeros(n_out), f"layer {layer}"))
            layer += 1
        else:
            steps.append(Squish(kind, f"squish {len(steps)}"))
    return steps


CHAINS = {
    "softmax between layers": (chain_of("D", "softmax", "D"), "squish 1: softmax between layers"),
    "two squishes in a row": (chain_of("D", "relu", "tanh", "D"), "squish 2: a second squish (tanh)"),
    "relu at the output": (chain_of("D", "relu", "D", "relu"), "squish 3: relu at the output"),
    "starts with a squish": (chain_of("relu", "D"), "squish 0: does not start with a fully connected layer"),
    "sizes that do not meet": (chain_of("D", "relu", "D", sizes=(784, 8, 9, 10))[:2]
                               + chain_of("D", sizes=(9, 10)), "layer 0: takes 9 inputs but the layer before gives 8"),
    "wrong output size": (chain_of("D", sizes=(784, 7)), "layer 0: gives 7 outputs; digitnet needs 10"),
    "NaN weights": (chain_of("D", sizes=(784, 10), weights=np.full((10, 784), np.nan)), "layer 0: contains NaN"),
    "beyond float32": (chain_of("D", sizes=(784, 10), weights=np.full((10, 784), 1e300)), "too large for float32"),
}


@pytest.mark.parametrize("kind", CHAINS)
def test_the_shared_chain_check_names_the_first_step_it_cannot_read(kind):
    from digitnet.interop.chain import network_from_chain
    steps, expected = CHAINS[kind]
    with pytest.raises(DigitnetError) as error:
        network_from_chain(steps, "model.file")
    assert str(error.value).startswith("model.file: ") and expected in str(error.value), str(error.value)


def test_the_chain_check_reads_logits_through_a_softmax():
    from digitnet.interop.chain import network_from_chain
    network, output = network_from_chain(chain_of("D", "tanh", "D"), "model.file")
    assert output == "logits" and (network.activation, network.output) == ("tanh", "softmax")
