"""ONNX, out and in, with the `onnx` package (the `onnx` extra).

Out: one Gemm per layer (z = a W^T + b, with W stored as digitnet's `(n_out, n_in)` and transB=1), the
hidden squish after each but the last, Softmax or Sigmoid at the end; input "pixels" `(batch, 784)`,
output "outputs" `(batch, 10)`. The model's metadata names the layer sizes, the squishes and what the
inputs are. Checked by `onnx.checker`.

In: the graph is walked from its one input along the nodes (ONNX keeps them in order), each of which
must take the previous node's result and constants only. Gemm, or MatMul followed by Add, become
fully connected layers; Sigmoid, Relu, Tanh, Softmax and LogSoftmax squishes; Flatten, Identity and
Dropout pass through. Anything else (a Conv, a Loop, a node reading two earlier results, i.e. a skip
connection) is refused at that node. The file's bytes are parsed with protobuf, never with external
data files beside it (those are refused), and every initializer's declared size is checked before
its numbers are read.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import DigitnetError
from ..files import read_bytes, write_atomically
from ..modelfile import MAX_MODEL_BYTES, learned_deskewed
from ..network import Network
from .chain import (DESKEW, MAX_LAYER_SIZE, PREPROCESSING_KEY, Dense, Squish, chain_steps, input_description,
                    network_from_chain, origin_metadata, refuse)
from .extras import require

OPSET = 21        # a recent opset that onnxruntime 1.17+ runs
IR_VERSION = 10   # the IR version that goes with opset 21
MAX_INITIALIZER_ELEMENTS = MAX_LAYER_SIZE * 1024  # 67 M numbers: far above any MLP on 28x28 inputs
SQUISH_OPS = {"Sigmoid": "sigmoid", "Relu": "relu", "Tanh": "tanh", "Softmax": "softmax", "LogSoftmax": "logits"}
PASS_THROUGH_OPS = ("Identity", "Dropout", "Flatten")
EXPORT_OP = {"sigmoid": "Sigmoid", "relu": "Relu", "tanh": "Tanh", "softmax": "Softmax"}


def to_onnx(network: Network, metadata: dict | None = None):
    """`network` as an `onnx.ModelProto` (float32), checked by `onnx.checker`."""
    onnx = require("onnx", "ONNX export")
    from onnx import TensorProto, helper, numpy_helper

    deskewed = learned_deskewed(metadata)  # said in the file: it holds the network, not the deskewing
    initializers, nodes = [], []
    current = "pixels"
    steps = chain_steps(network)
    for index, (kind, value) in enumerate(steps):
        result = "outputs" if index == len(steps) - 1 else f"a{index}"
        if kind == "dense":
            l = value
            initializers += [numpy_helper.from_array(network.weights[l].astype(np.float32), f"weights.{l}"),
                             numpy_helper.from_array(network.biases[l].astype(np.float32), f"biases.{l}")]
            result = result if index == len(steps) - 1 else f"z{l + 1}"
            nodes.append(helper.make_node("Gemm", [current, f"weights.{l}", f"biases.{l}"], [result],
                                          name=f"layer{l + 1}", transB=1))  # z = a W^T + b
        else:
            attributes = {"axis": -1} if value == "softmax" else {}
            nodes.append(helper.make_node(EXPORT_OP[value], [current], [result],
                                          name=f"{value}{index // 2 + 1}", **attributes))
        current = result
    sizes = network.layer_sizes
    graph = helper.make_graph(
        nodes, "digitnet", [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["batch", sizes[0]])],
        [helper.make_tensor_value_info("outputs", TensorProto.FLOAT, ["batch", sizes[-1]])], initializers,
        doc_string=f"digitnet {network.describe()}: inputs are {input_description(network, deskewed)}")
    model = helper.make_model(graph, producer_name="digitnet", producer_version=__version__,
                              opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION,
                              doc_string="The network of 3Blue1Brown's 'But what is a neural network?', by digitnet")
    outputs = f"the {network.output} output layer's activations, one per {'digit' if sizes[-1] == 10 else 'class'}"
    info = {"layer_sizes": ",".join(map(str, sizes)), "activation": network.activation, "output": network.output,
            "input": input_description(network, deskewed), "outputs": outputs, "digitnet_version": __version__}
    if deskewed:
        info[PREPROCESSING_KEY] = DESKEW
    for key in ("test_accuracy", "data_source"):
        if metadata and key in metadata:
            info[key] = str(metadata[key])
    helper.set_model_props(model, info)
    onnx.checker.check_model(model, full_check=True)
    return model


def export_onnx(network: Network, path, metadata: dict | None = None) -> Path:
    """Write `network` to `path` as ONNX (atomically)."""
    blob = to_onnx(network, metadata).SerializeToString()
    return write_atomically(path, lambda file: file.write(blob), what="ONNX file")


def _check_self_contained(tensor, source) -> None:
    """Refuse a tensor whose numbers live in another file: reading it would open a path the file names."""
    from onnx import TensorProto
    if tensor.data_location == TensorProto.EXTERNAL or tensor.external_data:
        raise refuse(source, f"initializer {tensor.name!r}", "its numbers are in an external data file; digitnet "
                     "reads one self-contained .onnx file (save it so: torch.onnx.export(..., external_data=False))")


def _node_where(node) -> str:
    return f"node {node.name!r} ({node.op_type})" if node.name else f"a {node.op_type} node"


def _constant_arrays(model, source) -> dict[str, np.ndarray]:
    """Initializers and Constant nodes' values by name, each checked before its numbers are read."""
    from onnx import numpy_helper

    tensors = list(model.graph.initializer)
    for node in model.graph.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            for attribute in node.attribute:
                if attribute.name == "value" and attribute.t is not None:
                    attribute.t.name = node.output[0] if node.output else attribute.t.name
                    tensors.append(attribute.t)
    arrays = {}
    for tensor in tensors:
        where = f"initializer {tensor.name!r}"
        _check_self_contained(tensor, source)
        if any(d < 0 for d in tensor.dims) or math.prod(tensor.dims) > MAX_INITIALIZER_ELEMENTS:
            raise refuse(source, where, f"declares {math.prod(tensor.dims):,} numbers, more than the "
                                        f"{MAX_INITIALIZER_ELEMENTS:,} any fully connected layer here needs")
        try:
            arrays[tensor.name] = numpy_helper.to_array(tensor)
        except Exception as error:  # the onnx library's own checks of lengths and types
            raise refuse(source, where, f"cannot be read ({str(error).splitlines()[0][:120]})") from None
    return arrays


def _attribute(node, name: str, default):
    from onnx import helper
    for attribute in node.attribute:
        if attribute.name == name:
            return helper.get_attribute_value(attribute)
    return default


def _steps(model, source) -> list:
    """The graph as chain steps (see module docstring)."""
    graph = model.graph
    constants = _constant_arrays(model, source)
    inputs = [value.name for value in graph.input if value.name not in constants]
    if len(inputs) != 1:
        raise refuse(source, "the graph", f"has {len(inputs)} inputs ({', '.join(inputs[:4])}); "
                                          "digitnet's network takes one, the image")
    if len(graph.output) != 1:
        raise refuse(source, "the graph", f"has {len(graph.output)} outputs; digitnet's network gives one")
    current, steps = inputs[0], []
    pending_matmul = None  # a MatMul's weights waiting for the Add of its biases
    for node in graph.node:
        where = _node_where(node)
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            continue
        if node.domain not in ("", "ai.onnx"):
            raise refuse(source, where, f"an operator of domain {node.domain!r}; digitnet reads only standard "
                                        "ONNX operators")
        data_inputs = [name for name in node.input if name and name not in constants]
        if current not in node.input:
            raise refuse(source, where, "is not on the chain from the input (a branch digitnet cannot follow)")
        if len(data_inputs) != 1:
            raise refuse(source, where, "combines the results of two earlier nodes (a skip connection); "
                                        "digitnet reads only a plain chain of layers")
        if len(node.output) < 1:
            raise refuse(source, where, "has no output")
        op = node.op_type
        if pending_matmul is not None and op != "Add":
            steps.append(Dense(pending_matmul[0], np.zeros(pending_matmul[0].shape[0]), pending_matmul[1]))
            pending_matmul = None
        if op == "Gemm":
            if node.input[0] != current or _attribute(node, "transA", 0):
                raise refuse(source, where, "multiplies the weights from the left (transA); digitnet needs a W^T + b")
            weights = constants[node.input[1]].astype(np.float64)
            if weights.ndim != 2:
                raise refuse(source, where, f"weights of shape {weights.shape}; a fully connected layer's are a matrix")
            if not _attribute(node, "transB", 0):
                weights = weights.T  # stored (n_in, n_out)
            weights = weights * _attribute(node, "alpha", 1.0)
            n_out = weights.shape[0]
            biases = np.asarray(constants[node.input[2]], np.float64) if len(node.input) > 2 and node.input[2] \
                else np.zeros(n_out)
            try:  # C may be (n_out,), (1, n_out) or one number
                biases = np.broadcast_to(biases.reshape(-1) if biases.size == n_out else biases, (n_out,))
            except ValueError:
                raise refuse(source, where, f"biases of shape {biases.shape} do not fit {n_out} neurons") from None
            biases = biases * _attribute(node, "beta", 1.0)
            steps.append(Dense(weights, np.array(biases), where))
        elif op == "MatMul":
            if node.input[0] != current:
                raise refuse(source, where, "multiplies the weights from the left; digitnet needs a W^T")
            weights = constants[node.input[1]]
            if weights.ndim != 2:
                raise refuse(source, where, f"weights of shape {weights.shape}; a fully connected layer's are a matrix")
            pending_matmul = (weights.T.astype(np.float64), where)
        elif op == "Add" and pending_matmul is not None:
            other = [name for name in node.input if name != current][0]
            biases = np.asarray(constants[other], np.float64).reshape(-1)
            steps.append(Dense(pending_matmul[0], biases, pending_matmul[1]))
            pending_matmul = None
        elif op in SQUISH_OPS:
            kind = SQUISH_OPS[op]
            if kind in ("softmax", "logits") and _attribute(node, "axis", -1) not in (-1, 1):
                raise refuse(source, where, "a softmax over another axis than the neurons'")
            steps.append(Squish(kind, where))
        elif op == "Reshape":  # torch's dynamo exporter writes nn.Flatten as Reshape(x, [-1, n])
            shape = constants.get(node.input[1]) if len(node.input) > 1 else None
            if shape is None or shape.ndim != 1 or len(shape) != 2 or shape[0] not in (-1, 0) or shape[1] < 1:
                raise refuse(source, where, "a Reshape to anything but (batch, n); digitnet reads only a chain "
                                            "of fully connected layers")
        elif op in PASS_THROUGH_OPS:
            if op == "Flatten" and _attribute(node, "axis", 1) != 1:
                raise refuse(source, where, "flattens at another axis than 1")
        else:
            raise refuse(source, where, f"{op} is not an operator digitnet reads; it reads only chains of fully "
                                        "connected layers (Gemm, or MatMul + Add) with Sigmoid, Relu or Tanh between them")
        current = node.output[0]
    if pending_matmul is not None:
        steps.append(Dense(pending_matmul[0], np.zeros(pending_matmul[0].shape[0]), pending_matmul[1]))
    if current != graph.output[0].name:
        raise refuse(source, "the graph", f"its output {graph.output[0].name!r} is not the end of the chain")
    return steps


def from_onnx_bytes(blob: bytes, source="<bytes>") -> tuple[Network, dict]:
    """An ONNX file's bytes -> (Network, metadata with its origin)."""
    onnx = require("onnx", "ONNX import")
    try:
        model = onnx.load_model_from_string(blob)  # bytes only: never opens external data files
    except Exception as error:  # protobuf's DecodeError and friends
        raise DigitnetError(f"{source}: not an ONNX model (its protobuf cannot be read: "
                            f"{str(error).splitlines()[0][:100] if str(error) else type(error).__name__})") from None
    if not model.HasField("graph") or not model.graph.node:
        raise DigitnetError(f"{source}: not an ONNX model (no graph of nodes in it)")
    for tensor in model.graph.initializer:  # before the checker, which would look for the files
        _check_self_contained(tensor, source)
    try:
        onnx.checker.check_model(model)
    except Exception as error:  # onnx.checker.ValidationError: the spec's own rules
        reason = str(error).strip().splitlines()[0][:160] if str(error).strip() else type(error).__name__
        raise DigitnetError(f"{source}: not a valid ONNX model ({reason})") from None
    network, output = network_from_chain(_steps(model, source), source)
    props = {prop.key: prop.value[:200] for prop in model.metadata_props}
    details = {"producer": f"{model.producer_name} {model.producer_version}".strip()[:100],
               "opset": max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=None)}
    if props.get("layer_sizes"):
        details["original_metadata"] = dict(list(props.items())[:20])
    return network, origin_metadata(source, "onnx", output, deskewed=props.get(PREPROCESSING_KEY) == DESKEW, **details)


def import_onnx(path) -> tuple[Network, dict]:
    """Read an .onnx file (see the module docstring for what is accepted)."""
    return from_onnx_bytes(read_bytes(path, MAX_MODEL_BYTES, "ONNX file"), Path(path))
