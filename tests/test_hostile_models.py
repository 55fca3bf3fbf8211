"""Hostile and broken model files: each is refused with a one-line DigitnetError naming the file.

A model file is something people download and share, so `load_model` must never run code it was
handed (no pickle, in any wrapping), never allocate what a header merely claims, and never fall
over with another exception type (RecursionError, ValueError, ...). test_modelfile.py covers the
basic cases (a bare pickle, a wrong layer size, NaN weights, "{not json"); this is the wider corpus.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import pickle
import re
import struct
import threading
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy

from digitnet.errors import DigitnetError
from digitnet import modelfile
from digitnet.modelfile import (FORMAT, FORMAT_VERSION, MAX_HEADER_BYTES, MAX_MODEL_BYTES, default_model_path, load_model,
                               save_model)
from digitnet.network import Network
from helpers import run_digitnet

DEEP = 100_000  # nesting depth of the recursion attacks: far beyond Python's recursion limit


def refused(path: Path, *patterns: str) -> str:
    """Load `path`, expecting a one-line DigitnetError that names the file (and matches `patterns`)."""
    with pytest.raises(DigitnetError) as caught:
        load_model(path)
    message = str(caught.value)
    assert "\n" not in message, message
    assert path.name in message, message
    for pattern in patterns:
        assert re.search(pattern, message), message
    return message


# --- building files by hand -------------------------------------------------------------------------


def small_network() -> Network:
    return Network((784, 4, 10), "tanh", "softmax", seed=0)


def good_meta(**changes) -> dict:
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "layer_sizes": [784, 4, 10],
            "activation": "tanh", "output": "softmax"}
    meta.update(changes)
    return meta


def good_tensors() -> dict[str, np.ndarray]:
    network = small_network()
    tensors = {}
    for l, (w, b) in enumerate(zip(network.weights, network.biases)):
        tensors[f"weights.{l}"] = np.ascontiguousarray(w, np.float32)
        tensors[f"biases.{l}"] = np.ascontiguousarray(b, np.float32)
    return tensors


def model_bytes(tensors=None, meta=None, metadata_text=None) -> bytes:
    """A well-formed safetensors file: `tensors`, and `meta` (or raw `metadata_text`) as digitnet metadata."""
    text = metadata_text if metadata_text is not None else json.dumps(meta if meta is not None else good_meta())
    return safetensors.numpy.save(good_tensors() if tensors is None else tensors, metadata={"digitnet": text})


def with_header(header: dict | bytes, data: bytes = b"") -> bytes:
    """8-byte little-endian header length, the header (JSON, or raw bytes), then `data`."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def split(blob: bytes) -> tuple[dict, bytes]:
    (size,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8:8 + size]), blob[8 + size:]


def good_header_and_data() -> tuple[dict, bytes]:
    return split(model_bytes())


def header_changed(change) -> bytes:
    """The good file with its JSON header edited by `change(header)`; the tensor bytes kept."""
    header, data = good_header_and_data()
    change(header)
    return with_header(header, data)


def metadata_header(text: str) -> dict:
    return {"__metadata__": {"digitnet": text}}


def deep_json(depth: int, kind: str = "array") -> str:
    return "[" * depth + "]" * depth if kind == "array" else '{"a":' * depth + "1" + "}" * depth


# --- pickles, in every wrapping: nothing may run ------------------------------------------------------


class Payload:
    """Unpickling this creates the folder `marker`: proof that code from the file ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def pickle_protocol_0(payload):
    return pickle.dumps(payload, protocol=0)  # the oldest, printable-text protocol


def pickle_highest(payload):
    return pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)


def npz_with_pickled_object_array(payload):
    buffer = io.BytesIO()
    np.savez(buffer, weights=np.array([payload], dtype=object))  # numpy pickles object arrays
    return buffer.getvalue()


def npy_with_pickled_object_array(payload):
    buffer = io.BytesIO()
    np.save(buffer, np.array([payload], dtype=object), allow_pickle=True)
    return buffer.getvalue()


def torch_style_zip(payload):
    """The layout of torch.save: a zip holding archive/data.pkl (the pickle) and its storages."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps(payload, protocol=2))
        archive.writestr("archive/byteorder", "little")
        archive.writestr("archive/data/0", bytes(64))
        archive.writestr("archive/version", "3\n")
    return buffer.getvalue()


def pickle_behind_a_plausible_length(payload):
    """The first 8 bytes give the pickle's true length, as a safetensors header length would."""
    data = pickle.dumps(payload)
    return struct.pack("<Q", len(data)) + data


def pickle_inside_a_tensor(payload):
    """A well-formed safetensors file whose extra uint8 tensor is a pickle: bytes, never unpickled."""
    tensors = good_tensors()
    tensors["optimizer_state"] = np.frombuffer(pickle.dumps(payload), dtype=np.uint8)
    return model_bytes(tensors)


PICKLE_WRAPPINGS = [pickle_protocol_0, pickle_highest, npz_with_pickled_object_array, npy_with_pickled_object_array,
                    torch_style_zip, pickle_behind_a_plausible_length, pickle_inside_a_tensor]


@pytest.mark.parametrize("wrap", PICKLE_WRAPPINGS, ids=lambda wrap: wrap.__name__)
def test_no_pickle_payload_ever_runs(tmp_path, wrap):
    marker = tmp_path / "pwned"
    path = tmp_path / "shared-model.safetensors"
    path.write_bytes(wrap(Payload(marker)))
    refused(path)
    assert not marker.exists(), "code from the model file ran"


def test_the_pickle_payloads_are_armed(tmp_path):
    """The corpus is real: the same bytes, loaded the unsafe way (pickle, numpy allow_pickle), run."""
    def unpickle_from_zip(data):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return pickle.loads(archive.read("archive/data.pkl"))

    unsafe_loaders = [(pickle_protocol_0, pickle.loads), (pickle_highest, pickle.loads),
                      (npz_with_pickled_object_array, lambda data: np.load(io.BytesIO(data), allow_pickle=True)["weights"]),
                      (npy_with_pickled_object_array, lambda data: np.load(io.BytesIO(data), allow_pickle=True)),
                      (torch_style_zip, unpickle_from_zip),
                      (pickle_behind_a_plausible_length, lambda data: pickle.loads(data[8:]))]
    for number, (wrap, unsafe_load) in enumerate(unsafe_loaders):
        marker = tmp_path / f"ran-{number}"
        unsafe_load(wrap(Payload(marker)))
        assert marker.is_dir(), wrap.__name__


# --- the corpus: (id, the file's bytes, what the message must say) -----------------------------------------


def _set_tensor(name, dtype="F32", shape=(10,), offsets=None):
    def change(header):
        start, stop = header["biases.1"]["data_offsets"]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets or (start, stop))}
    return change


CORPUS = [
    # Huge declared sizes: refused from the header, nothing allocated.
    ("header length 2^63", lambda: struct.pack("<Q", 2**63) + b"{}", "header length"),
    ("header length 2^64-1", lambda: struct.pack("<Q", 2**64 - 1) + b"{}", "header length"),
    ("header length over the limit", lambda: with_header(b" " * (MAX_HEADER_BYTES + 1)), "header length"),
    ("data_offsets beyond the file", lambda: header_changed(_set_tensor("weights.0", shape=(4, 784),
                                                                            offsets=(0, 2**40))), "damaged"),
    ("10^12-element tensor", lambda: header_changed(_set_tensor("weights.0", shape=(10**6, 10**6),
                                                                    offsets=(0, 4 * 10**12))), "damaged"),
    ("shape product overflows 64 bits", lambda: header_changed(_set_tensor("weights.0", shape=(2**32, 2**32, 2**32),
                                                                               offsets=(0, 16))), "damaged"),
    ("negative dimension", lambda: header_changed(_set_tensor("weights.0", shape=(-4, 784))), "damaged"),
    ("offsets out of order", lambda: header_changed(_set_tensor("biases.1", offsets=(40, 0))), "damaged"),
    ("two tensors on the same bytes", lambda: header_changed(lambda header: header.update(alias=header["biases.0"])),
     "damaged"),
    ("unknown dtype", lambda: header_changed(_set_tensor("biases.1", dtype="Q99")), "damaged"),
    ("no tensor data at all", lambda: with_header(good_header_and_data()[0]), "damaged"),
    # Wrong shapes and types for the declared layer sizes.
    ("transposed weights", lambda: model_bytes({**good_tensors(), "weights.0": np.zeros((784, 4), np.float32)}),
     r"weights\.0 has shape \(784, 4\)"),
    ("biases as a column", lambda: model_bytes({**good_tensors(), "biases.0": np.zeros((4, 1), np.float32)}),
     r"biases\.0 has shape \(4, 1\)"),
    ("weights as a scalar", lambda: model_bytes({**good_tensors(), "weights.1": np.array(1.0, np.float32)}),
     r"weights\.1 has shape \(\)"),
    ("same count, other shape", lambda: model_bytes({**good_tensors(), "weights.1": np.zeros((4, 10), np.float32)}),
     r"weights\.1 has shape \(4, 10\)"),
    ("an extra tensor", lambda: model_bytes({**good_tensors(), "weights.2": np.zeros((10, 10), np.float32)}),
     "holds tensors"),
    ("a tensor name with a path", lambda: model_bytes({**{k: v for k, v in good_tensors().items() if k != "biases.1"},
                                                       "../../biases.1": np.zeros(10, np.float32)}), "holds tensors"),
    ("no tensors", lambda: model_bytes({}), "holds tensors"),
    ("float16 weights", lambda: model_bytes({**good_tensors(), "weights.0": np.zeros((4, 784), np.float16)}),
     "float16, expected float32"),
    ("int8 biases", lambda: model_bytes({**good_tensors(), "biases.0": np.zeros(4, np.int8)}), "int8, expected float32"),
    ("layer_sizes disagree with the input", lambda: model_bytes(meta=good_meta(layer_sizes=[785, 4, 10])), "shape"),
    ("layer_sizes with a zero", lambda: model_bytes(meta=good_meta(layer_sizes=[784, 0, 10])), "layer_sizes"),
    ("layer_sizes of floats", lambda: model_bytes(meta=good_meta(layer_sizes=[784.0, 4, 10])), "layer_sizes"),
    ("layer_sizes of booleans", lambda: model_bytes(meta=good_meta(layer_sizes=[784, True, 10])), "layer_sizes"),
    ("layer_sizes a string", lambda: model_bytes(meta=good_meta(layer_sizes="784 4 10")), "layer_sizes"),
    ("layer_sizes an object", lambda: model_bytes(meta=good_meta(layer_sizes={"0": 784})), "layer_sizes"),
    ("65 layers", lambda: model_bytes(meta=good_meta(layer_sizes=[784] + [1] * 63 + [10])), "layer_sizes"),
    ("a layer of 10^9 neurons", lambda: model_bytes(meta=good_meta(layer_sizes=[784, 10**9, 10])), "layer_sizes"),
    ("unknown output", lambda: model_bytes(meta=good_meta(output="exec")), "unknown output"),
    ("activation by dotted name", lambda: model_bytes(meta=good_meta(activation="os.system")), "unknown activation"),
    # Numbers that are not numbers.
    ("one NaN among the weights", lambda: model_bytes({**good_tensors(), "weights.0": _one(np.nan)}), "NaN or infinite"),
    ("one -inf among the weights", lambda: model_bytes({**good_tensors(), "weights.0": _one(-np.inf)}), "NaN or infinite"),
    ("a signalling NaN bias", lambda: model_bytes({**good_tensors(), "biases.0": np.array([0x7FA00000] * 4, np.uint32)
                                                  .view(np.float32)}), "NaN or infinite"),
    # Format versions this digitnet does not know.
    *[(f"format_version {value!r}", lambda value=value: model_bytes(meta=good_meta(format_version=value)), "format version")
      for value in (0, 2, -1, 1.5, "1", None, [1], 2**70)],
    ("format_version missing", lambda: model_bytes(meta={k: v for k, v in good_meta().items() if k != "format_version"}),
     "format version None"),
    ("format missing", lambda: model_bytes(meta={k: v for k, v in good_meta().items() if k != "format"}),
     "not a digitnet model"),
    ("another program's safetensors", lambda: safetensors.numpy.save(good_tensors()), "no digitnet metadata"),
    # Metadata that is not JSON.
    ("metadata empty", lambda: model_bytes(metadata_text=""), "not valid JSON"),
    ("metadata with trailing text", lambda: model_bytes(metadata_text=json.dumps(good_meta()) + " rm -rf"),
     "not valid JSON"),
    ("metadata with a lone surrogate", lambda: with_header(b'{"__metadata__": {"digitnet": "\\ud800"}}'),
     "not valid JSON"),
    ("metadata a Python dict literal", lambda: model_bytes(metadata_text=repr(good_meta())), "not valid JSON"),
    ("header not UTF-8", lambda: with_header(b'{"__metadata__": {"digitnet": "\xff\xfe"}}'), "not JSON"),
    ("header empty", lambda: with_header(b""), "not JSON"),
    ("header of NUL bytes", lambda: with_header(bytes(64)), "not JSON"),
    ("header with a UTF-8 BOM", lambda: with_header(b"\xef\xbb\xbf" + json.dumps(good_header_and_data()[0]).encode()),
     "damaged"),  # Python's json skips a BOM, the format's reader does not
    # JSON that is not an object where one is needed.
    *[(f"header {text}", lambda text=text: with_header(text.encode()), "not a JSON object")
      for text in ("[]", "7", '"digitnet-model"', "null", "true")],
    *[(f"metadata {text}", lambda text=text: model_bytes(metadata_text=text), "not a digitnet model")
      for text in ("[]", "7", '"digitnet-model"', "null", "[" + json.dumps(good_meta()) + "]")],
    ("__metadata__ a list", lambda: with_header({"__metadata__": [json.dumps(good_meta())]}), "no digitnet metadata"),
    ("digitnet metadata an object", lambda: with_header({"__metadata__": {"digitnet": good_meta()}}),
     "no digitnet metadata"),
    # A key given twice: two readers could see two different files (more below).
    ("duplicate __metadata__ in the header", lambda: _duplicate_in_header("__metadata__"), "damaged|duplicate"),
]


def _one(value):
    weights = good_tensors()["weights.0"].copy()
    weights[2, 400] = value
    return weights


def _duplicate_in_header(key, first_value=None):
    """The good header with `key` written twice, first with `first_value` (json.dumps cannot, so splice)."""
    header, data = good_header_and_data()
    text = json.dumps(header)
    assert f'"{key}": ' in text
    entry = f'"{key}": ' + json.dumps(header[key] if first_value is None else first_value)
    return with_header(text.replace("{", "{" + entry + ", ", 1).encode(), data)


@pytest.mark.parametrize("make, fragment", [(make, fragment) for _, make, fragment in CORPUS],
                         ids=[name for name, _, _ in CORPUS])
def test_broken_or_hostile_file_is_one_line_naming_it(tmp_path, make, fragment):
    path = tmp_path / "downloaded.safetensors"
    path.write_bytes(make())
    refused(path, fragment)


def test_the_corpus_starts_from_a_file_that_loads(tmp_path):
    """Each case above is one change away from this file, so each refusal is that change's doing."""
    path = tmp_path / "good.safetensors"
    path.write_bytes(with_header(*good_header_and_data()))
    model = load_model(path)
    assert model.network.layer_sizes == (784, 4, 10)


# --- attacks on the JSON parser itself: deep nesting and huge numbers ---------------------------------------

@pytest.mark.parametrize("make", [
    lambda: with_header(deep_json(DEEP).encode()),
    lambda: with_header(deep_json(DEEP, "object").encode()),
    lambda: with_header(metadata_header(deep_json(DEEP))),
    lambda: with_header(metadata_header(deep_json(DEEP, "object"))),
    lambda: model_bytes(metadata_text=json.dumps(good_meta())[:-1] + ', "history": ' + deep_json(DEEP) + "}"),
], ids=["header arrays", "header objects", "metadata arrays", "metadata objects", "deep inside good metadata"])
def test_json_nested_100000_deep_is_refused_not_a_recursion_error(tmp_path, make):
    path = tmp_path / "deep.safetensors"
    path.write_bytes(make())
    assert path.stat().st_size < MAX_HEADER_BYTES  # small enough to pass the size checks: the parser sees it
    refused(path, "JSON")


@pytest.mark.parametrize("make", [
    lambda: model_bytes(metadata_text=json.dumps(good_meta()).replace('"format_version": 1', '"format_version": 1'
                                                                       + "0" * 5000)),
    lambda: with_header(b'{"weights.0": {"dtype": "F32", "shape": [' + b"9" * 5000 + b'], "data_offsets": [0, 4]}}'),
], ids=["metadata", "header"])
def test_a_5000_digit_integer_is_refused_not_a_value_error(tmp_path, make):
    path = tmp_path / "bignum.safetensors"
    path.write_bytes(make())
    refused(path)


def _metadata_saying_two_things():
    text = json.dumps(good_meta(layer_sizes=[784, 4, 10]))
    return model_bytes(metadata_text=text.replace('"layer_sizes"', '"layer_sizes": [784, 99, 10], "layer_sizes"', 1))


@pytest.mark.parametrize("make", [
    _metadata_saying_two_things,
    lambda: _duplicate_in_header("weights.0", {"dtype": "F32", "shape": [784, 4], "data_offsets": [0, 12544]}),
], ids=["layer_sizes twice in the metadata", "a tensor twice in the header"])
def test_duplicate_keys_are_refused(tmp_path, make):
    path = tmp_path / "twofaced.safetensors"
    path.write_bytes(make())
    refused(path, "duplicate")


@pytest.mark.parametrize("change", [{"activation": ["sigmoid"]}, {"output": {"softmax": 1}}],
                         ids=["activation a list", "output an object"])
def test_activation_or_output_of_the_wrong_type(tmp_path, change):
    path = tmp_path / "oddtype.safetensors"
    path.write_bytes(model_bytes(meta=good_meta(**change)))
    refused(path, "unknown")


# --- truncation at every cut point ----------------------------------------------------------------------


def test_every_truncation_is_refused(tmp_path):
    good = tmp_path / "good.safetensors"
    save_model(good, small_network(), {"history": [{"epoch": 1, "validation_accuracy": 0.5}]})
    blob = good.read_bytes()
    header_end = 8 + struct.unpack("<Q", blob[:8])[0]
    # Every byte through the header (where the parsers work), then 200 cuts spread over the numbers.
    cuts = sorted(set(range(header_end + 16)) | set(np.linspace(header_end, len(blob) - 1, 200, dtype=int)))
    path = tmp_path / "cut.safetensors"
    for cut in cuts:
        path.write_bytes(blob[:cut])
        try:
            refused(path)
        except AssertionError as error:
            raise AssertionError(f"cut at {cut} of {len(blob)} bytes: {error}") from None
    assert len(cuts) > header_end


def test_bytes_appended_after_the_last_tensor_are_refused(tmp_path):
    path = tmp_path / "appended.safetensors"
    path.write_bytes(model_bytes() + pickle.dumps("payload"))
    refused(path, "damaged")


# --- size bombs: refused from their size or first bytes, quickly, without decompressing ------------------------


def gzip_bomb() -> bytes:
    """~1 GiB of zeros in ~1 MB: one gzip member of 16 MiB, repeated (a multi-member gzip is valid gzip)."""
    member = gzip.compress(bytes(16 << 20), compresslevel=9)
    return member * 64


def zip_bomb() -> bytes:
    """A zip (as np.savez_compressed writes) whose one entry inflates to 32 MiB of zeros, from ~32 kB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("weights.0.npy", bytes(32 << 20))
    return buffer.getvalue()


@pytest.mark.parametrize("make, inflated", [(gzip_bomb, 1 << 30), (zip_bomb, 32 << 20)], ids=["gzip", "zip"])
def test_a_compression_bomb_is_refused_without_inflating_it(tmp_path, make, inflated):
    path = tmp_path / "bomb.safetensors"
    path.write_bytes(make())
    size = path.stat().st_size
    assert size * 500 < inflated  # it is a bomb: it inflates 500-fold or more
    tracemalloc.start()
    try:
        refused(path, "not a digitnet model file")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * size + (1 << 20), f"{peak:,} bytes allocated for a {size:,}-byte file"


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.safetensors"
    with open(path, "wb") as sparse:  # takes no disk space: a hole, then one byte
        sparse.seek(MAX_MODEL_BYTES + 1)
        sparse.write(b"\0")
    tracemalloc.start()
    try:
        refused(path, "too large")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


# --- other things a path can be ---------------------------------------------------------------------------


def test_a_symlink_loop_and_an_empty_file(tmp_path):
    loop = tmp_path / "loop.safetensors"
    loop.symlink_to(loop)
    refused(loop, "cannot read")
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    refused(empty, "too short")


def test_an_endless_device_is_refused_after_the_size_limit(monkeypatch):
    # /dev/zero never ends; the reader stops one byte past the limit instead of filling memory.
    monkeypatch.setattr(modelfile, "MAX_MODEL_BYTES", 1 << 20)
    refused(Path("/dev/zero"), "too large")


def test_a_model_arriving_through_a_pipe_loads(tmp_path):
    # bash's `digitnet info <(cat model.safetensors)` gives a pipe, not a file: read it to its end.
    fifo = tmp_path / "model.pipe"
    os.mkfifo(fifo)
    blob = default_model_path().read_bytes()

    def write():
        with open(fifo, "wb") as pipe:
            pipe.write(blob)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        model = load_model(fifo)
    finally:
        writer.join(timeout=10)
    assert model.network.parameter_count == 13_002


# --- the CLI shows each refusal as one line, without a traceback -----------------------------------------------


def digitnet(*args, cwd):
    return run_digitnet(*args, cwd=cwd, timeout=120)


@pytest.mark.parametrize("command", [["info", "{}"], ["predict", "--model", "{}", "{}"], ["evaluate", "{}"]],
                         ids=["info", "predict", "evaluate"])
def test_the_cli_refuses_a_pickle_in_one_line(tmp_path, command):
    marker = tmp_path / "pwned"
    model = tmp_path / "shared.safetensors"
    model.write_bytes(torch_style_zip(Payload(marker)))
    result = digitnet(*[part.format(model) for part in command], cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "shared.safetensors" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not marker.exists()


def test_the_cli_refuses_deep_json_in_one_line(tmp_path):
    model = tmp_path / "deep.safetensors"
    model.write_bytes(with_header(metadata_header(deep_json(DEEP))))
    result = digitnet("info", str(model), cwd=tmp_path)
    assert "Traceback" not in result.stderr, result.stderr[-500:]
    assert result.returncode == 1 and result.stderr.strip().count("\n") == 0


@pytest.mark.parametrize("record", [
    {"training": {"epochs": 1}, "history": [{"epoch": 1}], "best_epoch": 5},
    {"training": ["epochs"], "history": [1]},
    {"training": {"epochs": 1}, "test_accuracy": "high"},
    {"training": {"epochs": 1}, "history": [{"validation_accuracy": "x"}], "training_seconds": None},
    {"training": {"epochs": 1}, "data_checksum": 12345},
], ids=["best_epoch beyond history", "wrong containers", "accuracy a string", "history values strings",
        "checksum a number"])
def test_info_on_an_odd_training_record_prints_no_traceback(tmp_path, record):
    model = save_model(tmp_path / "odd.safetensors", small_network(), record)  # loads: the weights are fine
    result = digitnet("info", str(model), cwd=tmp_path)
    assert "Traceback" not in result.stderr, result.stderr[-300:]
    assert result.returncode in (0, 1) and "784" in result.stdout + result.stderr
