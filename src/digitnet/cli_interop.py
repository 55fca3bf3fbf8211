"""The `digitnet export` and `digitnet import` commands: parsing and printing only; the work is in
digitnet.interop. `cli.py` registers them with `add_interop_commands` and dispatches to COMMANDS."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import DigitnetError

EXPORT_HELP = """\
Write a digitnet model for other tools; the format comes from the suffix of --to:
  .onnx          ONNX: one Gemm per layer, the squishes, Softmax at the end (run it with onnxruntime)
  .pt            a PyTorch state dict of nn.Sequential(Linear, Sigmoid, Linear, Sigmoid, Linear, Softmax)
  .safetensors   the same state dict as safetensors, the structure in its metadata
  .npz           NumPy arrays weights.0, biases.0, ... and a JSON description (no pickle)
  .json          plain numbers, for any language
weights.l is (n_out, n_in): row i holds the weights into neuron i. Inputs are 784 brightness
values in [0, 1], a 28x28 image row by row.

examples:
  digitnet export --to digitnet.onnx                  the shipped network, as ONNX
  digitnet export model.safetensors --to model.pt     a network you trained, for PyTorch
"""

IMPORT_HELP = """\
Turn a network trained elsewhere into a digitnet model file that every command and the explorer
open. Accepted: any chain of fully connected layers with sigmoid, ReLU or tanh between them (one
squish for all hidden layers) and softmax, sigmoid, or nothing (logits, read through a softmax) at
the end, taking 784 inputs (28x28) and giving 10 outputs. Anything else (a convolution, a skip
connection, another squish, another input size) is refused, naming the first node or layer that
cannot be read. Importing never runs code from the file.
  .onnx                  an ONNX graph (Gemm, or MatMul + Add; Sigmoid, Relu, Tanh, Softmax)
  .pt, .pth              a PyTorch state dict (torch.load with weights_only=True)
  .safetensors           a PyTorch state dict as safetensors
  .npz, .json            the numbers `digitnet export` writes (changed by another program, say)
A state dict holds only numbers: name its squishes with --activation and --output (files written
by `digitnet export` say so themselves).

examples:
  digitnet import mlp.onnx --to mlp.safetensors
  digitnet import weights.pt --activation relu --output logits --to mine.safetensors
  digitnet serve --model mine.safetensors
"""


def add_interop_commands(commands) -> None:
    """Add `export` and `import` to the `digitnet` subparsers."""
    from .interop.chain import HIDDEN_SQUISHES, OUTPUT_SQUISHES

    export = commands.add_parser("export", help="write a model as ONNX, a PyTorch state dict, .npz or .json",
                                 description=EXPORT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    export.add_argument("model", nargs="?", metavar="MODEL",
                        help="a shipped model's name (video, record, strong) or a model file (default: video)")
    export.add_argument("--to", required=True, metavar="FILE", help="file to write; its suffix picks the format")

    imported = commands.add_parser("import", help="turn an ONNX or PyTorch network into a digitnet model",
                                   description=IMPORT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    imported.add_argument("file", metavar="FILE", help=".onnx, .pt, .pth, .safetensors, .npz or .json file")
    imported.add_argument("--to", required=True, metavar="MODEL", help="digitnet model file to write (.safetensors)")
    imported.add_argument("--activation", choices=HIDDEN_SQUISHES,
                          help="a state dict's squish between layers (not needed for ONNX)")
    imported.add_argument("--output", choices=OUTPUT_SQUISHES,
                          help="a state dict's last squish; logits: none (not needed for ONNX)")
    imported.add_argument("--deskew", action="store_true",
                          help="the network learned on deskewed digits (a .pt or .safetensors export of digitnet's "
                               "record, say): every command then deskews for it. ONNX, .npz and .json files "
                               "exported by digitnet say so themselves")


def _same_file(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def _writing(path, write):
    """Call `write()`; an operating-system error (a name too long, a full disk, no permission) is
    the user's to fix, so it becomes one line naming the file."""
    try:
        return write()
    except OSError as error:
        raise DigitnetError(f"{path}: cannot write it ({error.strerror or error}); choose another --to file") from None


def command_export(args) -> int:
    from .interop import export_model
    from .modelfile import load_model, resolve_model_path

    source = resolve_model_path(args.model)  # a shipped model's name (video, record, strong) or a file
    if _same_file(source, Path(args.to)):
        raise DigitnetError(f"{args.to}: is the model being exported; choose another --to file")
    model = load_model(source)
    path = _writing(args.to, lambda: export_model(model.network, args.to, model.metadata))
    print(f"wrote {path} ({model.network.describe()})")
    if model.deskews:
        print("note: this model learned on deskewed digits: give it digitnet.deskew.deskew(inputs), not the raw "
              "inputs (the exported file holds the network only; ONNX, .npz and .json say so in their metadata, "
              "and `digitnet import --deskew` marks a .pt or .safetensors one)", file=sys.stderr)
    return 0


def command_import(args) -> int:
    from .data import load_dataset
    from .interop import import_model
    from .modelfile import save_model

    target = Path(args.to)
    if target.suffix.lower() != ".safetensors":
        raise DigitnetError(f"{target}: a digitnet model file ends with .safetensors; choose such a --to name")
    if _same_file(Path(args.file), target):
        raise DigitnetError(f"{target}: is the file being imported; choose another --to file")
    model = import_model(args.file, args.activation, args.output)
    if args.deskew:
        model.metadata["training"] = {**model.metadata.get("training", {}), "deskew": True}
    _writing(target, lambda: save_model(target, model.network, model.metadata))
    origin = model.metadata["origin"]
    print(f"wrote {target} ({model.network.describe()}; from {origin['format']}, outputs read as {origin['output']}"
          + ("; it reads deskewed digits" if model.deskews else "") + ")")
    # A quick check that the numbers were read as meant: a state dict imported with the wrong
    # --activation still loads, but guesses at chance.
    test = model.dataset_for(load_dataset())  # deskewed, if the network learned so
    from .evaluation import evaluate

    accuracy = evaluate(model.network, test.test_pixels, test.test_labels).accuracy
    print(f"test accuracy on MNIST: {accuracy:.2%}" + ("  (near chance: were --activation and --output right?)"
                                                       if accuracy < 0.2 else ""))
    return 0


COMMANDS = {"export": command_export, "import": command_import}
