"""Interop: the network out to other tools (ONNX, PyTorch, NumPy, JSON) and in from them.

One module per format; `chain.py` holds what every reader shares: a model made elsewhere becomes a
digitnet `Network` only if it is a chain of fully connected layers with one squish between them
(see `chain.network_from_chain`). The formats' own libraries (onnx, torch) are optional extras,
imported only when a function needs them (`extras.require`).

    from digitnet.interop import export_model, import_model
    export_model(network, "model.onnx")          # the format comes from the suffix
    model = import_model("trained_elsewhere.onnx")
"""

from .files import EXPORT_FORMATS, IMPORT_FORMATS, export_model, import_model

__all__ = ["EXPORT_FORMATS", "IMPORT_FORMATS", "export_model", "import_model"]
