"""Export and import by file suffix: the one place that maps a file name to its format."""

from __future__ import annotations

from pathlib import Path

from ..errors import DigitnetError
from ..modelfile import Model
from ..network import Network

EXPORT_FORMATS = {
    ".onnx": "ONNX (Gemm + squishes + Softmax), for onnxruntime and other runtimes",
    ".pt": "a PyTorch nn.Sequential state dict (torch.save of plain tensors)",
    ".safetensors": "a PyTorch nn.Sequential state dict as safetensors",
    ".npz": "NumPy arrays weights.l, biases.l and a JSON description (no pickle)",
    ".json": "plain numbers and a description, for any language",
}
IMPORT_FORMATS = {
    ".onnx": "an ONNX chain of Gemm (or MatMul + Add) layers with Sigmoid/Relu/Tanh between",
    ".pt": "a PyTorch state dict, read with torch.load(weights_only=True)",
    ".pth": "a PyTorch state dict, read with torch.load(weights_only=True)",
    ".safetensors": "a PyTorch state dict as safetensors",
    ".npz": "the NumPy arrays `digitnet export` writes",
    ".json": "the plain numbers `digitnet export` writes",
}


def _suffix(path: Path, formats: dict, verb: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in formats:
        raise DigitnetError(f"{path}: cannot tell the format to {verb}; end the name with {', '.join(formats)}")
    return suffix


def export_model(network: Network, path, metadata: dict | None = None) -> Path:
    """Write `network` to `path` in the format its suffix names (EXPORT_FORMATS), atomically."""
    path = Path(path)
    suffix = _suffix(path, EXPORT_FORMATS, "export")
    if suffix == ".onnx":
        from .onnx_format import export_onnx
        return export_onnx(network, path, metadata)
    if suffix in (".pt", ".safetensors"):
        from .torch_format import export_state_dict
        return export_state_dict(network, path, metadata)
    from .npz_json import export_json, export_npz
    return (export_npz if suffix == ".npz" else export_json)(network, path, metadata)


def import_model(path, activation: str | None = None, output: str | None = None) -> Model:
    """Read a model made elsewhere (IMPORT_FORMATS) as a digitnet Model whose metadata records its
    origin. A state dict names no squishes: give `activation` and `output` (see torch_format)."""
    path = Path(path)
    suffix = _suffix(path, IMPORT_FORMATS, "import")
    if suffix == ".onnx":
        from .onnx_format import import_onnx
        network, metadata = import_onnx(path)
        return Model(network, metadata, path)
    from .chain import origin_metadata
    if suffix in (".npz", ".json"):
        from .npz_json import import_json, import_npz
        network, read_as, deskewed = (import_npz if suffix == ".npz" else import_json)(path)
        return Model(network, origin_metadata(path, suffix[1:], read_as, deskewed), path)
    from .torch_format import read_state_dict_file
    network, read_as, details = read_state_dict_file(path, activation, output)
    return Model(network, origin_metadata(path, "pytorch state dict", read_as, **details), path)
