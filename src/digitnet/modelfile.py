"""Model files: one safetensors file holding the weights, biases and JSON metadata.

A safetensors file is an 8-byte little-endian header length, a JSON header (tensor names, dtypes,
shapes, offsets, and our metadata under "__metadata__"), then raw numbers. Loading it only parses
JSON and copies bytes: no code from the file ever runs (unlike pickle). On top of the format's
own checks we verify the format version, the layer sizes against every tensor's shape, the dtype,
and that every number is finite. Writes are atomic: a temp file beside the target, then os.replace.
"""

from __future__ import annotations

import json
import math
import os
import struct
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import safetensors.numpy

from . import __version__
from .errors import DigitnetError
from .files import read_bytes, write_atomically
from .errors import printable
from .network import ACTIVATIONS, OUTPUTS, Network
from .validation import MAX_LAYER_SIZE, MAX_LAYERS, Sizes  # noqa: F401 (the limits, public here too)

FORMAT = "digitnet-model"
FORMAT_VERSION = 1
MAX_MODEL_BYTES = 512 * 1024 * 1024  # far above any MLP on 28x28 inputs; refuses absurd files
MAX_HEADER_BYTES = 1024 * 1024


def learned_deskewed(metadata: dict | None) -> bool:
    """Whether a model's metadata (untrusted JSON) says it learned on deskewed digits: a real true only."""
    training = (metadata or {}).get("training")
    return isinstance(training, dict) and training.get("deskew") is True


@dataclass
class Model:
    """A network and what is known about it: how it was trained, its history, on which data.

    metadata: JSON-able dict: "training" (settings), "history" (one record per epoch),
    "data_checksum", "test_accuracy", ... ; "format", "format_version", "layer_sizes",
    "activation", "output" and "digitnet_version" are written by `save_model`.
    """

    network: Network
    metadata: dict = field(default_factory=dict)
    path: Path | None = None

    @property
    def deskews(self) -> bool:
        """Whether the network learned on deskewed digits (TrainingSettings.deskew), so must see them."""
        return learned_deskewed(self.metadata)

    def prepare(self, inputs: np.ndarray) -> np.ndarray:
        """Inputs `(n, 784)` or `(784,)`, uint8 pixels or floats in [0, 1], as this model reads them:
        deskewed if it learned so (deskew.py), else unchanged."""
        if not self.deskews:
            return inputs
        from .deskew import deskew

        return deskew(inputs)

    def dataset_for(self, dataset):
        """A data.Dataset as this model reads it (deskewed if it learned so)."""
        return dataset.deskewed if self.deskews else dataset


def save_model(path: str | Path, network: Network, metadata: dict | None = None) -> Path:
    """Write `network` and `metadata` to `path` (safetensors) atomically; returns the path."""
    path = Path(path)
    meta = dict(metadata or {})
    meta.update(format=FORMAT, format_version=FORMAT_VERSION, digitnet_version=__version__,
                layer_sizes=list(network.layer_sizes), activation=network.activation,
                output=network.output)
    tensors = {}
    for l, (w, b) in enumerate(zip(network.weights, network.biases)):
        tensors[f"weights.{l}"] = np.ascontiguousarray(w, dtype=np.float32)
        tensors[f"biases.{l}"] = np.ascontiguousarray(b, dtype=np.float32)
    blob = safetensors.numpy.save(tensors, metadata={"digitnet": json.dumps(meta)})
    return write_atomically(path, lambda file: file.write(blob), what="model")


def save_model_or_rescue(out: Path, network: Network, metadata: dict) -> tuple[Path, str | None]:
    """Save to `out`; if that fails (a full disk, a folder gone read-only during a long training),
    save to the first place that works of the working folder, the home folder and the temp folder,
    so the run is never lost. Returns (where it is, why `out` failed or None)."""
    try:
        return save_model(out, network, metadata), None
    except DigitnetError as error:
        failure = str(error)
    name = f"digitnet-rescued-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.safetensors"
    tried = []
    for folder in (Path.cwd, Path.home, lambda: Path(tempfile.gettempdir()), lambda: Path("/dev/shm")):
        try:
            return save_model(folder() / name, network, metadata), failure
        except (DigitnetError, OSError, RuntimeError) as error:  # the working folder may be gone, HOME unset
            tried.append(str(error))
    raise DigitnetError(f"{failure}; and no other place worked ({'; '.join(tried)}): the model is lost")


def _without_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    """json's object_pairs_hook: a key given twice could mean two things to two readers; refuse it."""
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key[:40]!r}")
        result[key] = value
    return result


def _parse_json(text: str | bytes):
    """Untrusted JSON -> Python. Raises ValueError for bad syntax or UTF-8, a duplicate key, a number of
    over 4300 digits, and nesting deeper than Python's recursion limit (a RecursionError otherwise)."""
    try:
        return json.loads(text, object_pairs_hook=_without_duplicate_keys)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _header(blob: bytes, name: str) -> dict:
    if len(blob) < 8:
        raise DigitnetError(f"{name}: not a digitnet model file (too short: {len(blob)} bytes)")
    (header_size,) = struct.unpack("<Q", blob[:8])
    if header_size > MAX_HEADER_BYTES or 8 + header_size > len(blob):
        raise DigitnetError(f"{name}: not a digitnet model file (header length {header_size} does not fit the file)")
    try:
        header = _parse_json(blob[8:8 + header_size])
    except ValueError as error:  # includes JSONDecodeError and UnicodeDecodeError
        reason = str(error).splitlines()[0][:100]
        raise DigitnetError(f"{name}: not a digitnet model file (its header is not JSON: {reason})") from None
    if not isinstance(header, dict):
        raise DigitnetError(f"{name}: not a digitnet model file (its header is not a JSON object)")
    return header


def _metadata(header: dict, name: str) -> dict:
    raw = header.get("__metadata__", {})
    text = raw.get("digitnet") if isinstance(raw, dict) else None
    if not isinstance(text, str):
        raise DigitnetError(f"{name}: a safetensors file, but not a digitnet model (no digitnet metadata)")
    try:
        meta = _parse_json(text)
    except ValueError as error:
        reason = str(error).splitlines()[0][:100]
        raise DigitnetError(f"{name}: its digitnet metadata is not valid JSON ({reason})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DigitnetError(f"{name}: a safetensors file, but not a digitnet model (format {meta.get('format') if isinstance(meta, dict) else None!r})")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise DigitnetError(f"{name}: model format version {version!r} is not supported (this digitnet reads "
                            f"version {FORMAT_VERSION}); upgrade digitnet or retrain the model")
    return meta


def _structure(meta: dict, name: str) -> tuple[tuple[int, ...], str, str]:
    sizes = meta.get("layer_sizes")
    problem = Sizes().why_not(sizes) if isinstance(sizes, list) else "is not a list"
    if problem is not None:  # the limits Network (so train) applies
        raise DigitnetError(f"{name}: layer_sizes {printable(repr(sizes)[:80])} {problem}")
    activation, output = meta.get("activation"), meta.get("output")
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise DigitnetError(f"{name}: unknown activation {activation!r} (known: {', '.join(ACTIVATIONS)})")
    if not isinstance(output, str) or output not in OUTPUTS:
        raise DigitnetError(f"{name}: unknown output {output!r} (known: {', '.join(OUTPUTS)})")
    return tuple(sizes), activation, output


def load_model(path: str | Path) -> Model:
    """Read a model file written by `save_model`. Any problem raises a one-line DigitnetError."""
    path = Path(path)
    name = str(path)
    blob = read_bytes(path, MAX_MODEL_BYTES, "model file")
    meta = _metadata(_header(blob, name), name)
    layer_sizes, activation, output = _structure(meta, name)
    expected = {}
    for l, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
        expected[f"weights.{l}"] = (n_out, n_in)
        expected[f"biases.{l}"] = (n_out,)
    try:
        tensors = safetensors.numpy.load(blob)
    except Exception as error:  # the format library's own checks (offsets, lengths, dtypes)
        raise DigitnetError(f"{name}: damaged model file ({str(error).splitlines()[0][:200]})") from None
    if set(tensors) != set(expected):
        raise DigitnetError(f"{name}: holds tensors {sorted(tensors)}, layer_sizes {list(layer_sizes)} need {sorted(expected)}")
    for key, shape in expected.items():
        tensor = tensors[key]
        if tensor.dtype != np.float32:
            raise DigitnetError(f"{name}: {key} is {tensor.dtype}, expected float32")
        if tensor.shape != shape:
            raise DigitnetError(f"{name}: {key} has shape {tensor.shape}, layer_sizes {list(layer_sizes)} need {shape}")
        if not np.isfinite(tensor).all():
            raise DigitnetError(f"{name}: {key} contains NaN or infinite numbers; the model is broken")
    n_layers = len(layer_sizes) - 1
    network = Network(layer_sizes, activation, output,
                      weights=[tensors[f"weights.{l}"] for l in range(n_layers)],
                      biases=[tensors[f"biases.{l}"] for l in range(n_layers)])
    return Model(network, meta, path)


DIGIT_INPUTS, DIGIT_OUTPUTS = 784, 10  # a 28x28 image in, one output neuron per digit out


def check_reads_digits(model: Model, purpose: str) -> Model:
    """Refuse, naming the file, a model that loads but cannot do `purpose` (e.g. "evaluate"): every
    command but `info` reads 28x28 images (784 inputs) and answers one of 10 digits (10 outputs)."""
    sizes = model.network.layer_sizes
    if sizes[0] != DIGIT_INPUTS or sizes[-1] != DIGIT_OUTPUTS:
        structure = "-".join(map(str, sizes))
        raise DigitnetError(f"{printable(model.path)}: a {structure} network has {sizes[0]:,} inputs and "
                            f"{sizes[-1]:,} outputs; {purpose} needs {DIGIT_INPUTS} inputs (a 28x28 image) "
                            f"and {DIGIT_OUTPUTS} outputs (one per digit)")
    return model


HISTORY_FIELDS = ("epoch", "loss", "train_accuracy", "validation_accuracy", "seconds")


def is_number(value) -> bool:
    """A finite float, or an int a float (and JavaScript) holds exactly, from untrusted JSON
    (True and False are not numbers here; JSON's 10**400 is an int that math.isfinite rejects)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) < 2**53
    return isinstance(value, float) and math.isfinite(value)


def history_records(metadata: dict) -> list[dict]:
    """The per-epoch training history from a model's (untrusted) metadata: only the records that are
    complete, with a whole-number epoch and finite numbers, reduced to HISTORY_FIELDS."""
    history = metadata.get("history")
    if not isinstance(history, list):
        return []
    return [{key: record[key] for key in HISTORY_FIELDS} for record in history
            if isinstance(record, dict) and all(is_number(record.get(key)) for key in HISTORY_FIELDS)
            and isinstance(record["epoch"], int)]


def default_model_path() -> Path:
    """The trained video network shipped inside the package."""
    return Path(str(resources.files("digitnet") / "models" / "default.safetensors"))


# The models shipped inside the package, by name -> file in digitnet/models (see recipes.py for how each was made).
SHIPPED_MODEL_FILES = {
    "video": "default.safetensors",  # the video's 784-16-16-10 sigmoid network, digitnet train's defaults
    "record": "record.safetensors",  # the same 13,002 weights and biases, trained for the record
    "strong": "strong.safetensors",  # 784-800-10 ReLU on distorted digits: for real handwriting
}
DEFAULT_MODEL_NAME = "video"


def shipped_models() -> dict[str, Path]:
    """Each shipped model's name -> its file inside the installed package, "video" (the default) first."""
    folder = resources.files("digitnet") / "models"
    return {name: Path(str(folder / file_name)) for name, file_name in SHIPPED_MODEL_FILES.items()}


def resolve_model_path(name_or_path: str | Path | None) -> Path:
    """A shipped model's name ("video", "record", "strong"), a model file's path, or None (the
    video's) -> the path to load. A bare name means the shipped model even if a file of that name
    is in the current folder: write ./strong for that file."""
    if name_or_path is None:
        name_or_path = DEFAULT_MODEL_NAME
    if isinstance(name_or_path, str) and name_or_path in SHIPPED_MODEL_FILES:
        return shipped_models()[name_or_path]
    return Path(name_or_path)
