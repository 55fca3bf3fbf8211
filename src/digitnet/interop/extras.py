"""Optional libraries (onnx, torch, scikit-learn) imported only when a feature needs them, with a
one-line error naming the extra to install when one is missing."""

from __future__ import annotations

import importlib

from ..errors import DigitnetError

# module -> (the extra that installs it, what to call it in messages)
EXTRAS = {
    "onnx": "onnx", "onnxruntime": "onnx",
    "torch": "torch",
    "sklearn": "sklearn",
    "nbclient": "jupyter", "nbformat": "jupyter", "ipykernel": "jupyter",
}


def require(module: str, feature: str):
    """Import `module` for `feature` ("ONNX export"); DigitnetError saying which extra to install
    if it is missing (or blocked, as a `sys.modules[module] = None` entry does)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        extra = EXTRAS.get(module.split(".")[0], module)
        raise DigitnetError(f"{feature} needs the {module.split('.')[0]} package, which is not installed; "
                            f"install it with: pip install 'digitnet[{extra}]'") from None
