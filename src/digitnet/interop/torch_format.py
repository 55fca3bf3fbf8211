"""PyTorch, out and in: `nn.Sequential` modules and their state dicts (the `torch` extra).

Out: `to_torch(network)` is `nn.Sequential(Linear, Sigmoid, Linear, Sigmoid, Linear, Softmax)` (the
squishes of the network), so `state_dict()` keys are "0.weight", "0.bias", "2.weight", ... ;
`nn.Linear.weight` is `(n_out, n_in)` like digitnet's `weights[l]`, so the numbers are copied as
they are. A state dict is written as `.pt` (torch.save of plain tensors) or `.safetensors` (written
with the safetensors package, no torch needed, the structure in its metadata).

In: `from_torch` reads an `nn.Sequential` (nested ones too) of Linear layers and squishes, or a state
dict with the activations named. `.pt` files are read with `torch.load(weights_only=True)`, which
unpickles only tensors and plain containers and refuses anything that would run code; `.safetensors`
files are JSON and raw numbers.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import safetensors.numpy

from ..errors import DigitnetError
from ..files import read_bytes, write_atomically
from ..modelfile import MAX_MODEL_BYTES
from ..network import Network
from .chain import HIDDEN_SQUISHES, OUTPUT_SQUISHES, Dense, Squish, chain_steps, network_from_chain, refuse
from .extras import require

TORCH_LAYER_NAMES = {"sigmoid": "Sigmoid", "relu": "ReLU", "tanh": "Tanh", "softmax": "Softmax"}
SAFETENSORS_KEY = "digitnet_torch"  # the safetensors metadata entry that describes the Sequential


def to_torch(network: Network, dtype=None, with_output: bool = True):
    """`network` as a new `torch.nn.Sequential` with the same numbers, in `dtype` (default: the
    network's, float32 or float64). with_output=False leaves off the last squish, so the module
    gives logits, as `nn.CrossEntropyLoss` wants for training on."""
    torch = require("torch", "to_torch")
    dtype = dtype or (torch.float64 if network.dtype == np.float64 else torch.float32)
    layers = []
    for kind, value in chain_steps(network, with_output=with_output):
        if kind == "dense":
            weights, biases = network.weights[value], network.biases[value]
            linear = torch.nn.Linear(weights.shape[1], weights.shape[0], dtype=dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(np.array(weights)))  # (n_out, n_in), as digitnet's
                linear.bias.copy_(torch.from_numpy(np.array(biases)))
            layers.append(linear)
        else:
            layers.append(torch.nn.Softmax(dim=-1) if value == "softmax" else getattr(torch.nn, TORCH_LAYER_NAMES[value])())
    return torch.nn.Sequential(*layers)


def state_dict_arrays(network: Network) -> dict[str, np.ndarray]:
    """The state dict of `to_torch(network)` as float32 numpy arrays, without needing torch."""
    arrays = {}
    for index, (kind, value) in enumerate(chain_steps(network)):
        if kind == "dense":
            arrays[f"{index}.weight"] = np.ascontiguousarray(network.weights[value], np.float32)
            arrays[f"{index}.bias"] = np.ascontiguousarray(network.biases[value], np.float32)
    return arrays


def structure_description(network: Network) -> dict:
    return {"layers": [("Linear" if kind == "dense" else TORCH_LAYER_NAMES[value]) for kind, value in chain_steps(network)],
            "layer_sizes": list(network.layer_sizes), "activation": network.activation, "output": network.output}


def export_state_dict(network: Network, path, metadata: dict | None = None) -> Path:
    """Write the state dict of `to_torch(network)` to `path`: `.safetensors` (with the structure in its
    metadata) or `.pt` (torch.save of a dict of tensors; needs torch)."""
    path = Path(path)
    arrays = state_dict_arrays(network)
    if path.suffix.lower() == ".safetensors":
        blob = safetensors.numpy.save(arrays, metadata={"format": "pt",
                                                        SAFETENSORS_KEY: json.dumps(structure_description(network))})
        return write_atomically(path, lambda file: file.write(blob), what="state dict")
    torch = require("torch", "export to .pt")
    tensors = {key: torch.from_numpy(array) for key, array in arrays.items()}
    return write_atomically(path, lambda file: torch.save(tensors, file), what="state dict")


# -- in --------------------------------------------------------------------------------------------

def _module_steps(module, source, prefix: str = "") -> list:
    """An nn.Sequential's layers as chain steps; nested Sequentials are read in place."""
    torch = require("torch", "from_torch")
    nn = torch.nn
    steps = []
    for name, layer in module.named_children():
        where = f"layer {prefix}{name} ({type(layer).__name__})"
        if isinstance(layer, nn.Sequential):
            steps += _module_steps(layer, source, f"{prefix}{name}.")
        elif isinstance(layer, nn.Linear):
            weights = layer.weight.detach().cpu().double().numpy()
            biases = layer.bias.detach().cpu().double().numpy() if layer.bias is not None else np.zeros(len(weights))
            steps.append(Dense(weights, biases, where))
        elif type(layer) in (nn.Sigmoid, nn.ReLU, nn.Tanh):
            steps.append(Squish({nn.Sigmoid: "sigmoid", nn.ReLU: "relu", nn.Tanh: "tanh"}[type(layer)], where))
        elif type(layer) in (nn.Softmax, nn.LogSoftmax):
            if layer.dim not in (1, -1):
                raise refuse(source, where, f"a softmax over dimension {layer.dim}; digitnet's is over the neurons (dim=1)")
            steps.append(Squish("softmax" if isinstance(layer, nn.Softmax) else "logits", where))
        elif type(layer) in (nn.Identity, nn.Dropout):
            continue
        elif type(layer) is nn.Flatten and layer.start_dim == 1 and layer.end_dim == -1:
            continue
        else:
            raise refuse(source, where, "not a layer digitnet can read; it reads nn.Sequential chains of Linear "
                                        "layers with Sigmoid, ReLU or Tanh between them")
    return steps


def _natural_key(prefix: str):
    """'layers.10' after 'layers.2': numbers compared as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", prefix)]


def _state_dict_steps(arrays: dict[str, np.ndarray], activation, output, source) -> list:
    """A state dict's Linear layers, ordered by name ('0', '2', 'fc1', 'layers.10'), with the named squishes."""
    layers: dict[str, dict[str, np.ndarray]] = {}
    for key, array in arrays.items():
        prefix, _, kind = key.rpartition(".")
        if kind not in ("weight", "bias"):
            raise refuse(source, key, "not a Linear layer's weight or bias (digitnet reads only fully connected layers)")
        if kind == "weight" and array.ndim != 2:
            raise refuse(source, key, f"has shape {tuple(array.shape)}: not a Linear layer's weight matrix"
                                      + (" (a convolution's kernel)" if array.ndim == 4 else ""))
        layers.setdefault(prefix, {})[kind] = array
    if activation is None or output is None:
        raise DigitnetError(f"{source}: a state dict does not say which squish sits between its layers; name them: "
                            f"activation {'/'.join(HIDDEN_SQUISHES)} and output {'/'.join(OUTPUT_SQUISHES)} "
                            "(--activation and --output on the command line)")
    if activation not in HIDDEN_SQUISHES:
        raise DigitnetError(f"activation {activation!r}: choose one of {', '.join(HIDDEN_SQUISHES)}")
    if output not in OUTPUT_SQUISHES:
        raise DigitnetError(f"output {output!r}: choose one of {', '.join(OUTPUT_SQUISHES)}")
    steps = []
    for prefix in sorted(layers, key=_natural_key):
        parts = layers[prefix]
        if "weight" not in parts:
            raise refuse(source, f"{prefix}.bias", "a bias with no weight matrix beside it")
        weights = parts["weight"]
        biases = parts.get("bias", np.zeros(len(weights)))
        if steps:
            steps.append(Squish(activation, f"between layers before {prefix}"))
        steps.append(Dense(weights, biases, f"layer {prefix}"))
    if output != "logits":
        steps.append(Squish(output, "the output"))
    return steps


def from_torch(module_or_state_dict, activation: str | None = None, output: str | None = None,
               source="the module", input_size: int | None = 784, output_size: int | None = 10) -> Network:
    """An `nn.Sequential` of Linear layers and squishes, or a state dict of such a module, as a Network.

    A state dict holds only numbers, so name its squishes: `activation` (between layers: "sigmoid",
    "relu", "tanh") and `output` ("softmax", "sigmoid", or "logits" for none). input_size and
    output_size (784 and 10, for digitnet's commands) may be None to accept any.
    """
    return _read_torch(module_or_state_dict, activation, output, source, input_size, output_size)[0]


def _read_torch(module_or_state_dict, activation, output, source, input_size=784, output_size=10):
    if isinstance(module_or_state_dict, dict):
        arrays = {}
        for key, tensor in module_or_state_dict.items():
            if not isinstance(key, str) or not hasattr(tensor, "detach"):
                raise refuse(source, str(key)[:60], "not a tensor; a state dict maps names to tensors")
            arrays[key] = tensor.detach().cpu().double().numpy()
        steps = _state_dict_steps(arrays, activation, output, source)
    else:
        torch = require("torch", "from_torch")
        if not isinstance(module_or_state_dict, torch.nn.Sequential):
            raise DigitnetError(f"{source}: a {type(module_or_state_dict).__name__}, not an nn.Sequential; its forward "
                                "could route inputs anywhere (a skip connection), so digitnet reads only "
                                "nn.Sequential chains (or a state dict with activation= and output=)")
        steps = _module_steps(module_or_state_dict, source)
    return network_from_chain(steps, source, input_size, output_size)


def read_state_dict_file(path, activation: str | None = None, output: str | None = None) -> tuple[Network, str, dict]:
    """A `.pt` or `.safetensors` state dict -> (Network, how the outputs were read, details)."""
    path = Path(path)
    blob = read_bytes(path, MAX_MODEL_BYTES, "state dict")
    details = {}
    if path.suffix.lower() == ".safetensors":
        try:
            header_length = int.from_bytes(blob[:8], "little")
            header = json.loads(blob[8:8 + header_length]) if 8 + header_length <= len(blob) else {}
            arrays = safetensors.numpy.load(blob)
        except Exception as error:
            raise DigitnetError(f"{path}: not a readable safetensors file ({str(error).splitlines()[0][:120]})") from None
        meta = header.get("__metadata__") or {} if isinstance(header, dict) else {}
        if isinstance(meta, dict) and "digitnet" in meta:
            raise DigitnetError(f"{path}: already a digitnet model file; open it with any digitnet command as it is")
        structure = meta.get(SAFETENSORS_KEY) if isinstance(meta, dict) else None
        if structure and (activation is None or output is None):
            try:
                described = json.loads(structure)
                activation = activation or described["activation"]
                output = output or described["output"]
            except (ValueError, KeyError, TypeError):
                raise DigitnetError(f"{path}: its {SAFETENSORS_KEY} metadata is not readable") from None
    else:
        torch = require("torch", "import of .pt files")
        try:
            loaded = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
        except Exception as error:
            first_line = str(error).strip().splitlines()[0][:160] if str(error).strip() else type(error).__name__
            reason = ("it holds Python objects beyond tensors, which could run code, so torch.load(weights_only=True) "
                      "refused it; save model.state_dict() instead" if "weights_only" in str(error).lower()
                      or "Unsupported global" in str(error) else f"not a PyTorch file torch.load can read: {first_line}")
            raise DigitnetError(f"{path}: {reason}") from None
        if not isinstance(loaded, dict):
            raise DigitnetError(f"{path}: holds a {type(loaded).__name__}, not a state dict (a dict of tensors)")
        arrays = {}
        for key, tensor in loaded.items():
            if not isinstance(key, str) or not isinstance(tensor, torch.Tensor):
                raise refuse(path, str(key)[:60], "not a tensor; a state dict maps names to tensors")
            arrays[key] = tensor.detach().cpu().double().numpy()
    arrays = {key: np.asarray(value) for key, value in arrays.items()}
    network, read_as = network_from_chain(_state_dict_steps(arrays, activation, output, path), path)
    return network, read_as, details
