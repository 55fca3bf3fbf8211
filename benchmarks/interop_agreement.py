"""How closely the other tools agree with digitnet on the shipped model, over all 10,000 MNIST test
images: onnxruntime running digitnet's ONNX export, PyTorch running to_torch's nn.Sequential (float32
and float64), and the model imported back from its ONNX file. Prints the largest difference in any
probability and how many guesses differ.

    python benchmarks/interop_agreement.py        (needs pip install -e '.[onnx,torch]')
"""

import tempfile
from pathlib import Path

import numpy as np
import onnxruntime
import torch

from digitnet import default_model_path, load_dataset, load_model
from digitnet.interop import export_model, import_model
from digitnet.interop.torch_format import to_torch


def report(name, theirs, ours):
    print(f"{name:<44} max |difference| {np.abs(theirs - ours).max():.2e}   "
          f"guesses that differ: {(theirs.argmax(1) != ours.argmax(1)).sum()} of {len(ours):,}")


def main():
    network = load_model(default_model_path()).network
    images = load_dataset().test_images
    ours = network.predict_probabilities(images)
    with tempfile.TemporaryDirectory() as folder:
        path = export_model(network, Path(folder) / "digitnet.onnx")
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        report("onnxruntime on the ONNX export (float32)", session.run(None, {"pixels": images})[0], ours)
        report("digitnet after import of that ONNX file", import_model(path).network.predict_probabilities(images), ours)
    with torch.no_grad():
        report("PyTorch to_torch(network), float32", to_torch(network)(torch.from_numpy(images)).numpy(), ours)
        wide = network.copy(np.float64)
        report("PyTorch to_torch, float64 vs digitnet float64",
               to_torch(wide)(torch.from_numpy(images.astype(np.float64))).numpy(), wide.predict_probabilities(images))


if __name__ == "__main__":
    main()
