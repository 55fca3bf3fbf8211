"""ONNX both ways: digitnet's export checked by onnx.checker and run by onnxruntime; a network trained in
PyTorch and exported by torch.onnx.export imported with the same answers; hostile and unsupported
graphs refused in one line naming the file and the first node that cannot be read."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from digitnet.errors import DigitnetError  # noqa: E402
from digitnet.interop import export_model, import_model  # noqa: E402
from digitnet.interop.onnx_format import OPSET, to_onnx  # noqa: E402
from digitnet.modelfile import default_model_path, load_model  # noqa: E402
from digitnet.network import Network  # noqa: E402
from interop_helpers import assert_refused_in_one_line, mnist, run_cli, small_training_set  # noqa: E402


@pytest.fixture(scope="module")
def shipped():
    return load_model(default_model_path())


def test_export_passes_the_checker_and_says_what_the_inputs_are(shipped, tmp_path):
    path = export_model(shipped.network, tmp_path / "digitnet.onnx", shipped.metadata)
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == OPSET >= 21
    assert [node.op_type for node in model.graph.node] == ["Gemm", "Sigmoid", "Gemm", "Sigmoid", "Gemm", "Softmax"]
    props = {p.key: p.value for p in model.metadata_props}
    assert props["layer_sizes"] == "784,16,16,10"
    assert "784 brightness values in [0, 1]" in props["input"]


def test_onnxruntime_gives_digitnets_probabilities_on_all_test_images(shipped, tmp_path):
    path = export_model(shipped.network, tmp_path / "digitnet.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    images = mnist().test_images
    assert len(images) == 10_000
    theirs = session.run(None, {"pixels": images})[0]
    ours = shipped.network.predict_probabilities(images)
    # float32 on both sides, summed in different orders: a few float32 ulps of numbers below 1
    assert np.abs(theirs - ours).max() < 1e-5


@pytest.mark.parametrize("activation,output", [("relu", "sigmoid"), ("tanh", "softmax")])
def test_export_then_import_is_the_same_network(tmp_path, activation, output):
    network = Network((784, 12, 7, 10), activation=activation, output=output, seed=3)
    model = import_model(export_model(network, tmp_path / "n.onnx"))
    assert (model.network.layer_sizes, model.network.activation, model.network.output) == \
        ((784, 12, 7, 10), activation, output)
    for theirs, ours in zip(model.network.weights + model.network.biases, network.weights + network.biases):
        np.testing.assert_array_equal(theirs, ours)
    assert model.metadata["origin"]["format"] == "onnx"


@pytest.fixture(scope="module")
def trained_in_pytorch():
    """A ReLU network trained a little in PyTorch, taking (batch, 1, 28, 28) images."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 24), torch.nn.ReLU(),
                                 torch.nn.Linear(24, 24), torch.nn.ReLU(), torch.nn.Linear(24, 10))
    images, labels = small_training_set(3000)
    optimizer = torch.optim.Adam(module.parameters(), lr=0.01)
    x, y = torch.from_numpy(images).reshape(-1, 1, 28, 28), torch.from_numpy(labels)
    for _ in range(3):  # epochs
        for start in range(0, len(x), 100):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(module(x[start:start + 100]), y[start:start + 100]).backward()
            optimizer.step()
    return module.eval()


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::UserWarning")
@pytest.mark.parametrize("exporter", ["torchscript", "dynamo"])
def test_a_network_trained_in_pytorch_and_exported_by_torch_onnx_export(tmp_path, trained_in_pytorch, exporter):
    import torch
    module, example = trained_in_pytorch, torch.zeros(2, 1, 28, 28)
    path = tmp_path / "from_torch.onnx"
    if exporter == "torchscript":
        torch.onnx.export(module, (example,), str(path), dynamo=False, input_names=["image"],
                          output_names=["logits"], dynamic_axes={"image": {0: "batch"}})
    else:  # the default exporter since PyTorch 2.9 (needs onnxscript); it writes Flatten as a Reshape
        pytest.importorskip("onnxscript")
        torch.onnx.export(module, (example,), str(path), dynamo=True, external_data=False,
                          dynamic_shapes=({0: torch.export.Dim("batch")},))
    imported = import_model(path)
    assert imported.network.layer_sizes == (784, 24, 24, 10) and imported.network.activation == "relu"
    assert imported.metadata["origin"]["output"].startswith("logits")
    test = mnist().test_images
    with torch.no_grad():
        theirs = torch.softmax(module(torch.from_numpy(test).reshape(-1, 1, 28, 28)), dim=1).numpy()
    ours = imported.network.predict_probabilities(test)
    assert np.abs(theirs - ours).max() < 1e-5
    top_two = np.sort(theirs, axis=1)[:, -2:]
    clear = top_two[:, 1] - top_two[:, 0] > 1e-5  # where float32 rounding cannot swap the guess
    assert clear.mean() > 0.99
    np.testing.assert_array_equal(imported.network.predict_digit(test)[clear], theirs.argmax(axis=1)[clear])
    assert (theirs.argmax(axis=1) == mnist().test_labels).mean() > 0.8  # it did learn


def test_matmul_plus_add_and_constant_nodes_are_read_as_layers(tmp_path):
    rng = np.random.default_rng(0)
    w1, b1, w2, b2 = (rng.standard_normal(shape).astype(np.float32) for shape in [(784, 8), (8,), (8, 10), (10,)])
    nodes = [helper.make_node("Constant", [], ["w1"], value=numpy_helper.from_array(w1)),
             helper.make_node("MatMul", ["x", "w1"], ["m1"], name="mm1"), helper.make_node("Add", ["m1", "b1"], ["z1"]),
             helper.make_node("Tanh", ["z1"], ["a1"]),
             helper.make_node("MatMul", ["a1", "w2"], ["m2"]), helper.make_node("Add", ["b2", "m2"], ["z2"]),
             helper.make_node("Softmax", ["z2"], ["y"], axis=1)]
    path = save_graph(tmp_path / "mm.onnx", nodes, {"b1": b1, "w2": w2, "b2": b2})
    network = import_model(path).network
    x = rng.random((5, 784), dtype=np.float32)
    expected = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    assert network.activation == "tanh"
    np.testing.assert_allclose(network.feedforward(x), expected, atol=1e-6)


# -- hostile and unsupported graphs ---------------------------------------------------------------

def save_graph(path, nodes, initializers, n_in=784, external=(), opset=OPSET):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", n_in])],
                              [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, ["n", "k"])],
                              [numpy_helper.from_array(v if np.asarray(v).dtype.kind == "i" else np.asarray(v, np.float32), k)
                               for k, v in initializers.items()])
    for tensor in graph.initializer:
        if tensor.name in external:
            tensor.ClearField("raw_data")
            tensor.data_location = TensorProto.EXTERNAL
            tensor.external_data.add(key="location", value="../../../../etc/passwd")
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)
    path.write_bytes(model.SerializeToString())
    return path


def dense(name, n_in, n_out, x, y, seed=0):
    """A Gemm node and its initializers."""
    rng = np.random.default_rng(seed)
    node = helper.make_node("Gemm", [x, f"{name}.w", f"{name}.b"], [y], name=name, transB=1)
    return node, {f"{name}.w": rng.standard_normal((n_out, n_in)), f"{name}.b": np.zeros(n_out)}


def graph_with(middle_nodes, extra_initializers=None, n_in=784, first_out=16, **kwargs):
    """input -> Gemm fc1 -> MIDDLE (reading 'a1', writing 'h') -> Gemm fc2 -> Softmax."""
    fc1, init1 = dense("fc1", n_in, first_out, "x", "z1")
    fc2, init2 = dense("fc2", first_out, 10, "h", "z2", seed=1)
    nodes = [fc1, helper.make_node("Relu", ["z1"], ["a1"], name="relu1"), *middle_nodes, fc2,
             helper.make_node("Softmax", ["z2"], ["y"], name="softmax")]
    return nodes, {**init1, **init2, **(extra_initializers or {})}, kwargs


def conv_graph():
    """A small CNN's start: Conv on the image, then Flatten and a Gemm."""
    fc, initializers = dense("fc", 4 * 26 * 26, 10, "f", "z")
    nodes = [helper.make_node("Conv", ["x", "kernel"], ["c"], name="conv1"),
             helper.make_node("Flatten", ["c"], ["f"]), fc, helper.make_node("Softmax", ["z"], ["y"])]
    return nodes, {**initializers, "kernel": np.ones((4, 1, 3, 3))}, {}


HOSTILE = {
    "conv": (lambda: conv_graph(), "conv1"),
    "loop": (lambda: graph_with([helper.make_node(
        "Loop", ["", "", "a1"], ["h"], name="loop1",
        body=helper.make_graph([helper.make_node("Identity", ["v"], ["v_out"])], "body",
                               [helper.make_tensor_value_info(n, t, s) for n, t, s in
                                [("i", TensorProto.INT64, []), ("c", TensorProto.BOOL, []), ("v", TensorProto.FLOAT, None)]],
                               [helper.make_tensor_value_info(n, t, s) for n, t, s in
                                [("c", TensorProto.BOOL, []), ("v_out", TensorProto.FLOAT, None)]]))]), "loop1"),
    "skip connection": (lambda: graph_with([helper.make_node("Relu", ["a1"], ["a2"], name="relu2"),
                                            helper.make_node("Add", ["a1", "a2"], ["h"], name="residual")]), "residual"),
    "unsupported activation": (lambda: graph_with([helper.make_node("Elu", ["a1"], ["h"], name="elu1")]), "elu1"),
    "mixed activations": (lambda: graph_with([helper.make_node("Identity", ["a1"], ["h1"]),
                                              *[n for n in [dense("mid", 16, 16, "h1", "zm")[0]]],
                                              helper.make_node("Tanh", ["zm"], ["h"], name="tanh_mid")],
                                             dense("mid", 16, 16, "h1", "zm")[1]), "tanh_mid"),
    "reshape to an image": (lambda: graph_with([helper.make_node("Reshape", ["a1", "shape"], ["h"], name="to_image")],
                                               {"shape": np.array([-1, 1, 4, 4])}), "to_image"),
    "wrong input size": (lambda: graph_with([helper.make_node("Identity", ["a1"], ["h"])], n_in=100), "fc1"),
    "external data": (lambda: graph_with([helper.make_node("Identity", ["a1"], ["h"])], external=("fc1.w",)), "fc1.w"),
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_unsupported_graphs_are_refused_naming_the_node(tmp_path, kind):
    build, culprit = HOSTILE[kind]
    nodes, initializers, kwargs = build()
    path = save_graph(tmp_path / f"{kind.replace(' ', '_')}.onnx", nodes, initializers, **kwargs)
    with pytest.raises(DigitnetError) as error:
        import_model(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ") and culprit in message and "\n" not in message, message


def test_a_huge_initializer_is_refused_before_its_numbers_are_read(tmp_path):
    nodes, initializers, _ = graph_with([helper.make_node("Identity", ["a1"], ["h"])])
    path = save_graph(tmp_path / "huge.onnx", nodes, initializers)
    model = onnx.load(str(path))
    tensor = model.graph.initializer[0]
    del tensor.dims[:]
    tensor.dims.extend([1 << 20, 1 << 20])  # claims 2^40 numbers: 4 TB of float32
    path.write_bytes(model.SerializeToString())
    with pytest.raises(DigitnetError, match=r"huge.onnx: .*(fc1.w|1,099,511,627,776)"):
        import_model(path)


def test_a_truncated_file_is_refused_or_loses_only_metadata(shipped, tmp_path):
    blob = to_onnx(shipped.network, shipped.metadata).SerializeToString()
    path = tmp_path / "cut.onnx"
    refused = 0
    for length in sorted({*range(0, 200, 7), *range(200, len(blob), len(blob) // 97), len(blob) - 1}):
        path.write_bytes(blob[:length])
        try:
            network = import_model(path).network
        except DigitnetError as error:
            assert str(error).startswith(f"{path}: ") and "\n" not in str(error)
            refused += 1
            continue
        # protobuf stops at any field boundary; only the trailing metadata may be lost that way
        for theirs, ours in zip(network.weights, shipped.network.weights):
            np.testing.assert_array_equal(theirs, ours)
    assert refused > 100


def test_not_onnx_at_all(tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"\xff\xfe garbage that is no protobuf \x00\x01" * 10)
    with pytest.raises(DigitnetError, match=r"junk.onnx: not an? (valid )?ONNX model"):
        import_model(path)


def test_cli_round_trip_and_refusal(shipped, tmp_path):
    result = run_cli("export", "--to", tmp_path / "d.onnx")
    assert result.returncode == 0 and "wrote" in result.stdout, result.stderr
    result = run_cli("import", tmp_path / "d.onnx", "--to", tmp_path / "back.safetensors")
    assert result.returncode == 0, result.stderr
    back = load_model(tmp_path / "back.safetensors")
    np.testing.assert_array_equal(back.network.weights[0], shipped.network.weights[0])
    assert back.metadata["origin"]["format"] == "onnx"
    evaluated = run_cli("evaluate", tmp_path / "back.safetensors")
    assert "test accuracy: 96.38%" in evaluated.stdout, evaluated.stderr

    nodes, initializers, kwargs = HOSTILE["conv"][0]()
    bad = save_graph(tmp_path / "conv.onnx", nodes, initializers, **kwargs)
    result = run_cli("import", bad, "--to", tmp_path / "never.safetensors")
    assert_refused_in_one_line(result, "conv.onnx", "conv1", "Conv")
    assert not (tmp_path / "never.safetensors").exists()


def test_a_missing_onnx_package_names_the_extra(tmp_path):
    result = run_cli("export", "--to", tmp_path / "d.onnx", prelude="import sys; sys.modules['onnx'] = None")
    assert_refused_in_one_line(result, "pip install 'digitnet[onnx]'")
    assert not (tmp_path / "d.onnx").exists()


def test_mutated_files_give_a_network_or_one_line():
    """Random bytes changed in the graph's structure (the start and end of the file, where nodes and
    metadata are; the weights in between are just numbers): never another exception."""
    from digitnet.interop.onnx_format import from_onnx_bytes
    blob = to_onnx(Network((784, 6, 5, 10), activation="relu", seed=0)).SerializeToString()
    rng = np.random.default_rng(0)
    outcomes = {"network": 0, "refused": 0}
    for _ in range(400):
        mutated = bytearray(blob)
        for _ in range(rng.integers(1, 6)):
            position = rng.integers(0, 400) if rng.random() < 0.5 else rng.integers(len(blob) - 800, len(blob))
            mutated[position] = rng.integers(0, 256)
        try:
            from_onnx_bytes(bytes(mutated), "mutated.onnx")
            outcomes["network"] += 1
        except DigitnetError as error:
            assert str(error).startswith("mutated.onnx: ") and "\n" not in str(error)
            outcomes["refused"] += 1
    assert outcomes["refused"] > 100 and outcomes["network"] > 10  # both kinds of outcome were reached
