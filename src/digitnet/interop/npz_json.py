"""Plain numbers for other languages: `.npz` (NumPy, no pickle) and `.json`.

Both hold `weights.l` `(n_out, n_in)` and `biases.l` `(n_out,)` for each layer l, as digitnet keeps
them (row i of weights.l holds the weights into neuron i of layer l+1), and a description: layer
sizes, squishes and what the inputs are. The `.npz` keeps the description as a JSON string in an
array named "structure" (a string array, so `np.load(..., allow_pickle=False)` reads it).

Both come back in with `import_npz` / `import_json` (e.g. after another program changed the numbers):
no pickle is ever loaded, every zip member's size is checked before it is read, and the layers go
through the same chain check as every import.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import DigitnetError
from ..files import read_bytes, write_atomically
from ..modelfile import MAX_MODEL_BYTES, _parse_json, learned_deskewed
from ..network import Network
from .chain import (DESKEW, HIDDEN_SQUISHES, PREPROCESSING_KEY, Dense, Squish, input_description,
                    network_from_chain, refuse)

FORMAT = "digitnet-weights"


def describe(network: Network, metadata: dict | None = None) -> dict:
    deskewed = learned_deskewed(metadata)
    described = {"format": FORMAT, "digitnet_version": __version__, "layer_sizes": list(network.layer_sizes),
                 "activation": network.activation, "output": network.output,
                 "input": input_description(network, deskewed),
                 "math": "for each layer l: z = weights[l] @ a + biases[l]; a = activation(z) "
                         "(the output layer uses output); a starts as the input"}
    if deskewed:
        described[PREPROCESSING_KEY] = DESKEW
    return described


def says_deskewed(structure) -> bool:
    """Whether a file's structure (describe's) says its network learned on deskewed digits."""
    return isinstance(structure, dict) and structure.get(PREPROCESSING_KEY) == DESKEW


def export_npz(network: Network, path, metadata: dict | None = None) -> Path:
    arrays = {"structure": np.array(json.dumps(describe(network, metadata)))}
    for l, (w, b) in enumerate(zip(network.weights, network.biases)):
        arrays[f"weights.{l}"], arrays[f"biases.{l}"] = w.astype(np.float32), b.astype(np.float32)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return write_atomically(path, lambda file: file.write(buffer.getvalue()), what="NumPy file")


def export_json(network: Network, path, metadata: dict | None = None) -> Path:
    document = describe(network, metadata)
    # float32 numbers printed with float32's shortest round-trip form, so reading them back gives
    # the same float32 values.
    document["layers"] = [{"weights": [[float(np.format_float_positional(x, unique=True, trim="-"))
                                        for x in row] for row in w.astype(np.float32)],
                           "biases": [float(np.format_float_positional(x, unique=True, trim="-"))
                                      for x in b.astype(np.float32)]}
                          for w, b in zip(network.weights, network.biases)]
    text = json.dumps(document, separators=(",", ":")) + "\n"
    return write_atomically(path, lambda file: file.write(text.encode()), what="JSON file")


# -- in --------------------------------------------------------------------------------------------

def _steps(structure, layers: list[tuple[object, object]], source) -> list:
    """The description and each layer's (weights, biases) -> chain steps."""
    if not isinstance(structure, dict) or structure.get("format") != FORMAT:
        raise DigitnetError(f"{source}: not a digitnet weights file (its description lacks format {FORMAT!r})")
    activation, output = structure.get("activation"), structure.get("output")
    if activation not in HIDDEN_SQUISHES or output not in ("softmax", "sigmoid"):
        raise DigitnetError(f"{source}: activation {str(activation)[:20]!r} / output {str(output)[:20]!r} are not "
                            f"digitnet's ({', '.join(HIDDEN_SQUISHES)} / softmax, sigmoid)")
    steps = []
    for l, (weights, biases) in enumerate(layers):
        try:
            weights, biases = np.asarray(weights, np.float64), np.asarray(biases, np.float64)
        except (ValueError, TypeError):
            raise refuse(source, f"layer {l}", "its weights and biases are not rows of numbers") from None
        if steps:
            steps.append(Squish(activation, f"before layer {l}"))
        steps.append(Dense(weights, biases, f"layer {l}"))
    return steps + [Squish(output, "the output")]


def import_npz(path) -> tuple[Network, str, bool]:
    """An .npz written by `export_npz` -> (Network, how its outputs are read, learned on deskewed digits)."""
    blob = read_bytes(path, MAX_MODEL_BYTES, "NumPy file")
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:  # sizes first: a small file may unzip to terabytes
            if sum(member.file_size for member in archive.infolist()) > MAX_MODEL_BYTES:
                raise DigitnetError(f"{path}: unpacks to more than {MAX_MODEL_BYTES:,} bytes; too large for a network")
        with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
            structure = _parse_json(str(arrays["structure"])) if "structure" in arrays.files else None
            count = sum(name.startswith("weights.") for name in arrays.files)
            layers = [(arrays[f"weights.{l}"], arrays[f"biases.{l}"]) for l in range(count)]
    except DigitnetError:
        raise
    except Exception as error:  # a bad zip, a pickled object array, a missing layer, bad JSON
        reason = str(error).strip().splitlines()[0][:120] if str(error).strip() else type(error).__name__
        raise DigitnetError(f"{path}: not a digitnet .npz file ({reason})") from None
    return (*network_from_chain(_steps(structure, layers, path), path), says_deskewed(structure))


def import_json(path) -> tuple[Network, str, bool]:
    """A .json written by `export_json` -> (Network, how its outputs are read, learned on deskewed digits)."""
    try:
        document = _parse_json(read_bytes(path, MAX_MODEL_BYTES, "JSON file"))
    except ValueError as error:
        raise DigitnetError(f"{path}: not JSON ({str(error).splitlines()[0][:100]})") from None
    layers = document.get("layers") if isinstance(document, dict) else None
    if not isinstance(layers, list) or not all(isinstance(layer, dict) for layer in layers):
        raise DigitnetError(f"{path}: not a digitnet weights file (no list of layers)")
    network, read_as = network_from_chain(_steps(document, [(layer.get("weights"), layer.get("biases"))
                                                            for layer in layers], path), path)
    return network, read_as, says_deskewed(document)
