"""Model files: round trips, atomic writes, and refusal of broken or hostile files."""

import json
import os
import pickle
import struct

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import given, settings
from hypothesis import strategies as st

from digitnet.errors import DigitnetError
from digitnet.modelfile import FORMAT, FORMAT_VERSION, load_model, save_model
from digitnet.network import ACTIVATIONS, Network


def raw_model_file(path, tensors, meta):
    path.write_bytes(safetensors.numpy.save(tensors, metadata={"digitnet": json.dumps(meta)}))
    return path


def good_parts(network=None):
    network = network or Network((784, 16, 16, 10))
    tensors = {}
    for l, (w, b) in enumerate(zip(network.weights, network.biases)):
        tensors[f"weights.{l}"], tensors[f"biases.{l}"] = w, b
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "layer_sizes": list(network.layer_sizes),
            "activation": network.activation, "output": network.output}
    return tensors, meta


@given(st.lists(st.integers(1, 12), min_size=0, max_size=3), st.sampled_from(list(ACTIVATIONS)),
       st.sampled_from(["sigmoid", "softmax"]), st.integers(0, 2**32 - 1))
@settings(max_examples=25, deadline=None)
def test_save_then_load_is_identity(tmp_path_factory, hidden, activation, output, seed):
    network = Network((784, *hidden, 10), activation, output, seed=seed)
    path = tmp_path_factory.mktemp("models") / "m.safetensors"
    save_model(path, network, {"history": [{"epoch": 1, "loss": 0.5}], "note": "ünïcode"})
    model = load_model(path)
    assert model.network.layer_sizes == network.layer_sizes
    assert (model.network.activation, model.network.output) == (activation, output)
    for a, b in zip(model.network.weights + model.network.biases, network.weights + network.biases):
        assert a.dtype == np.float32 and np.array_equal(a, b)
    assert model.metadata["history"] == [{"epoch": 1, "loss": 0.5}] and model.metadata["note"] == "ünïcode"
    assert model.metadata["format_version"] == FORMAT_VERSION and "digitnet_version" in model.metadata


def test_a_pickle_payload_never_runs(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(DigitnetError, match="evil.safetensors: not a digitnet model file"):
        load_model(path)
    assert not marker.exists()


@pytest.mark.parametrize("change, message", [
    (lambda t, m: m.update(format_version=99), "format version 99 is not supported"),
    (lambda t, m: m.update(layer_sizes=[784, 16, 16, 11]), "shape"),
    (lambda t, m: m.update(layer_sizes=[784, -3, 10]), "layer_sizes"),
    (lambda t, m: m.update(activation="__import__('os')"), "unknown activation"),
    (lambda t, m: m.update(format="something-else"), "not a digitnet model"),
    (lambda t, m: t.update({"weights.0": np.full((16, 784), np.nan, np.float32)}), "NaN or infinite"),
    (lambda t, m: t.update({"biases.2": np.array([np.inf] * 10, np.float32)}), "NaN or infinite"),
    (lambda t, m: t.update({"weights.1": np.zeros((16, 16), np.float64)}), "float64, expected float32"),
    (lambda t, m: t.pop("biases.1"), "need"),
])
def test_broken_models_are_refused_with_one_line(tmp_path, change, message):
    tensors, meta = good_parts()
    change(tensors, meta)
    path = raw_model_file(tmp_path / "broken.safetensors", tensors, meta)
    with pytest.raises(DigitnetError, match=message) as error:
        load_model(path)
    assert "\n" not in str(error.value) and "broken.safetensors" in str(error.value)


def test_truncated_and_garbage_files(tmp_path):
    network = Network()
    path = save_model(tmp_path / "good.safetensors", network)
    blob = path.read_bytes()
    for name, data in {"empty": b"", "short": blob[:5], "half": blob[: len(blob) // 2],
                       "header-only": blob[:300], "text": b"hello world, not a model at all"}.items():
        bad = tmp_path / f"{name}.safetensors"
        bad.write_bytes(data)
        with pytest.raises(DigitnetError, match=f"{name}.safetensors"):
            load_model(bad)


def test_huge_declared_header_is_refused(tmp_path):
    path = tmp_path / "huge.safetensors"
    path.write_bytes(struct.pack("<Q", 2**62) + b"{}")
    with pytest.raises(DigitnetError, match="header length"):
        load_model(path)


def test_metadata_that_is_not_json(tmp_path):
    tensors, _ = good_parts()
    path = tmp_path / "notjson.safetensors"
    path.write_bytes(safetensors.numpy.save(tensors, metadata={"digitnet": "{not json"}))
    with pytest.raises(DigitnetError, match="metadata is not valid JSON"):
        load_model(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DigitnetError, match="no such model file"):
        load_model(tmp_path / "absent.safetensors")
    with pytest.raises(DigitnetError, match="is a folder"):
        load_model(tmp_path)


def test_failed_write_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    save_model(path, Network(seed=1))
    before = path.read_bytes()

    def fail(*args):
        raise KeyboardInterrupt  # as if Ctrl-C arrived while writing

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(KeyboardInterrupt):
        save_model(path, Network(seed=2))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # no temp file left behind
