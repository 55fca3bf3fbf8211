"""Plain numbers for other languages: `.npz` (NumPy, no pickle) and `.json`.

Both hold `weights.l` `(n_out, n_in)` and `biases.l` `(n_out,)` for each layer l, as digitnet keeps
them (row i of weights.l holds the weights into neuron i of layer l+1), and a description: layer
sizes, squishes and what the inputs are. The `.npz` keeps the description as a JSON string in an
array named "structure" (a string array, so `np.load(..., allow_pickle=False)` reads it).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from .. import __version__
from ..files import write_atomically
from ..network import Network
from .chain import INPUT_DESCRIPTION

FORMAT = "digitnet-weights"


def describe(network: Network) -> dict:
    return {"format": FORMAT, "digitnet_version": __version__, "layer_sizes": list(network.layer_sizes),
            "activation": network.activation, "output": network.output, "input": INPUT_DESCRIPTION,
            "math": "for each layer l: z = weights[l] @ a + biases[l]; a = activation(z) "
                    "(the output layer uses output); a starts as the input"}


def export_npz(network: Network, path, metadata: dict | None = None) -> Path:
    arrays = {"structure": np.array(json.dumps(describe(network)))}
    for l, (w, b) in enumerate(zip(network.weights, network.biases)):
        arrays[f"weights.{l}"], arrays[f"biases.{l}"] = w.astype(np.float32), b.astype(np.float32)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return write_atomically(path, lambda file: file.write(buffer.getvalue()), what="NumPy file")


def export_json(network: Network, path, metadata: dict | None = None) -> Path:
    document = describe(network)
    # float32 numbers printed with float32's shortest round-trip form, so reading them back gives
    # the same float32 values.
    document["layers"] = [{"weights": [[float(np.format_float_positional(x, unique=True, trim="-"))
                                        for x in row] for row in w.astype(np.float32)],
                           "biases": [float(np.format_float_positional(x, unique=True, trim="-"))
                                      for x in b.astype(np.float32)]}
                          for w, b in zip(network.weights, network.biases)]
    text = json.dumps(document, separators=(",", ":")) + "\n"
    return write_atomically(path, lambda file: file.write(text.encode()), what="JSON file")
