"""Interop: the network out to other tools (ONNX, PyTorch, NumPy, JSON) and in from them.

One module per format; `chain.py` holds what every reader shares: a model made elsewhere becomes a
digitnet `Network` only if it is a chain of fully connected layers with one squish between them
(see `chain.network_from_chain`). The formats' own libraries (onnx, torch) are optional extras,
imported only when a function needs them (`extras.require`).

    from digitnet.interop import export_model, import_model, to_torch, from_torch, from_sklearn
    export_model(network, "model.onnx")          # the format comes from the suffix
    model = import_model("trained_elsewhere.onnx")
    module = to_torch(network)                   # nn.Sequential; from_torch(module) comes back
"""

from .files import EXPORT_FORMATS, IMPORT_FORMATS, export_model, import_model
from .sklearn_format import from_sklearn
from .torch_format import from_torch, to_torch

__all__ = ["EXPORT_FORMATS", "IMPORT_FORMATS", "export_model", "import_model", "from_sklearn", "from_torch",
           "to_torch"]
