"""PyTorch both ways: to_torch equals digitnet in float64 and trains on; modules and state dicts (.pt,
.safetensors) come back in; what is not a chain of Linear layers, or would run code, is refused."""

import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import safetensors.torch  # noqa: E402

from digitnet.errors import DigitnetError  # noqa: E402
from digitnet.interop import export_model, import_model  # noqa: E402
from digitnet.interop.torch_format import from_torch, to_torch  # noqa: E402
from digitnet.modelfile import default_model_path, load_model  # noqa: E402
from digitnet.network import Network  # noqa: E402
from interop_helpers import assert_refused_in_one_line, mnist, run_cli, small_training_set  # noqa: E402

nn = torch.nn


@pytest.fixture(scope="module")
def shipped():
    return load_model(default_model_path())


@pytest.mark.parametrize("activation,output", [("sigmoid", "softmax"), ("relu", "sigmoid"), ("tanh", "softmax")])
def test_to_torch_equals_digitnet_in_float64(activation, output):
    network = Network((784, 30, 20, 10), activation=activation, output=output, seed=1, dtype=np.float64)
    module = to_torch(network)
    images = mnist().test_images[:2000].astype(np.float64)
    with torch.no_grad():
        theirs = module(torch.from_numpy(images)).numpy()
    assert theirs.dtype == np.float64
    np.testing.assert_allclose(theirs, network.feedforward(images), rtol=0, atol=1e-6)


def test_to_torch_trains_on_in_pytorch_and_comes_back(shipped):
    network = Network((784, 16, 16, 10), output="softmax", seed=0)
    module = to_torch(network, with_output=False)  # logits, for CrossEntropyLoss
    images, labels = small_training_set(3000)
    x, y = torch.from_numpy(images), torch.from_numpy(labels)
    optimizer = torch.optim.Adam(module.parameters(), lr=0.01)
    with torch.no_grad():
        loss_before = nn.functional.cross_entropy(module(x), y).item()
    for _ in range(2):
        for start in range(0, len(x), 50):
            optimizer.zero_grad()
            nn.functional.cross_entropy(module(x[start:start + 50]), y[start:start + 50]).backward()
            optimizer.step()
    with torch.no_grad():
        loss_after = nn.functional.cross_entropy(module(x), y).item()
    assert loss_after < loss_before / 3
    back = from_torch(module)  # no softmax at the end: logits, read through one
    assert (back.layer_sizes, back.activation, back.output) == ((784, 16, 16, 10), "sigmoid", "softmax")
    test = mnist().test_images
    with torch.no_grad():
        theirs = torch.softmax(module(torch.from_numpy(test)), dim=1).numpy()
    np.testing.assert_allclose(back.predict_probabilities(test), theirs, atol=1e-5)
    assert back.accuracy(test, mnist().test_labels) > 0.8


def test_nested_sequentials_dropout_and_flatten_are_read():
    torch.manual_seed(0)
    module = nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(784, 8), nn.Tanh(), nn.Dropout(0.2)),
                           nn.Linear(8, 10), nn.LogSoftmax(dim=1)).eval()
    network = from_torch(module)
    x = torch.rand(7, 1, 28, 28)
    with torch.no_grad():
        expected = module(x).exp().numpy()
    np.testing.assert_allclose(network.predict_probabilities(x.reshape(7, 784).numpy()), expected, atol=1e-6)


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.out = nn.Linear(784, 16), nn.Linear(16, 16), nn.Linear(16, 10)

    def forward(self, x):
        h = torch.sigmoid(self.fc1(x))
        return self.out(h + torch.sigmoid(self.fc2(h)))  # the skip connection


REFUSED = {
    "convolution": (lambda: nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(2704, 10)), "layer 0 (Conv2d)"),
    "skip connection": (Residual, "Residual, not an nn.Sequential"),
    "unsupported activation": (lambda: nn.Sequential(nn.Linear(784, 16), nn.GELU(), nn.Linear(16, 10)), "layer 1 (GELU)"),
    "wrong input size": (lambda: nn.Sequential(nn.Linear(100, 16), nn.ReLU(), nn.Linear(16, 10)), "layer 0 (Linear)"),
    "two linears in a row": (lambda: nn.Sequential(nn.Linear(784, 16), nn.Linear(16, 10)), "layer 1 (Linear)"),
}


@pytest.mark.parametrize("kind", REFUSED)
def test_modules_that_are_not_a_chain_are_refused_naming_the_layer(kind):
    build, culprit = REFUSED[kind]
    with pytest.raises(DigitnetError) as error:
        from_torch(build(), source="mine.pt")
    message = str(error.value)
    assert message.startswith("mine.pt: ") and culprit in message and "\n" not in message, message


def test_a_state_dict_in_python_reads_as_its_module_does():
    torch.manual_seed(2)
    module = nn.Sequential(nn.Linear(784, 10), nn.ReLU(), nn.Linear(10, 10))
    with pytest.raises(DigitnetError, match="does not say which squish"):
        from_torch(module.state_dict())
    from_state = from_torch(module.state_dict(), activation="relu", output="logits")
    from_module = from_torch(module)
    for theirs, ours in zip(from_state.weights + from_state.biases, from_module.weights + from_module.biases):
        np.testing.assert_array_equal(theirs, ours)


def test_pt_state_dict_loads_into_pytorch_and_imports_back(shipped, tmp_path):
    path = export_model(shipped.network, tmp_path / "video.pt")
    state = torch.load(path, weights_only=True)
    module = to_torch(shipped.network)
    module.load_state_dict(state)  # the keys and shapes of the Sequential to_torch builds
    refused = run_cli("import", path, "--to", tmp_path / "back.safetensors")
    assert_refused_in_one_line(refused, "video.pt", "--activation", "--output")
    result = run_cli("import", path, "--activation", "sigmoid", "--output", "softmax", "--to", tmp_path / "back.safetensors")
    assert result.returncode == 0, result.stderr
    assert "test accuracy on MNIST: 96.38%" in result.stdout  # the shipped model's figure: read as meant
    back = load_model(tmp_path / "back.safetensors")
    for theirs, ours in zip(back.network.weights + back.network.biases, shipped.network.weights + shipped.network.biases):
        np.testing.assert_array_equal(theirs, ours)
    assert back.metadata["origin"]["format"] == "pytorch state dict"


def test_safetensors_state_dict_carries_its_structure(shipped, tmp_path):
    path = export_model(shipped.network, tmp_path / "video.safetensors")
    module = to_torch(shipped.network)
    module.load_state_dict(safetensors.torch.load_file(path))
    model = import_model(path)  # no activations named: the file's metadata says them
    assert (model.network.activation, model.network.output) == ("sigmoid", "softmax")
    with pytest.raises(DigitnetError, match="already a digitnet model file"):
        import_model(default_model_path())


def test_a_state_dict_from_a_users_own_module(tmp_path):
    torch.manual_seed(0)
    module = nn.Sequential()
    module.add_module("hidden", nn.Linear(784, 12))
    module.add_module("squish", nn.ReLU())
    module.add_module("out", nn.Linear(12, 10))
    torch.save(module.state_dict(), tmp_path / "mine.pth")
    model = import_model(tmp_path / "mine.pth", activation="relu", output="logits")
    x = torch.rand(5, 784)
    with torch.no_grad():
        expected = torch.softmax(module(x), dim=1).numpy()
    np.testing.assert_allclose(model.network.predict_probabilities(x.numpy()), expected, atol=1e-6)


class Payload:
    """Unpickling this (the unsafe way) would create a file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_hostile_state_dicts_are_refused_and_never_run(tmp_path):
    marker = tmp_path / "payload_ran"
    path = tmp_path / "evil.pt"
    torch.save({"0.weight": torch.zeros(16, 784), "0.bias": Payload(str(marker))}, path)
    with open(path, "rb") as file:  # the payload is real: torch.load without weights_only runs it
        torch.load(file, weights_only=False)
    assert marker.exists()
    marker.unlink()
    result = run_cli("import", path, "--activation", "relu", "--output", "softmax", "--to", tmp_path / "x.safetensors")
    assert_refused_in_one_line(result, "evil.pt", "weights_only")
    assert not marker.exists() and not (tmp_path / "x.safetensors").exists()

    bare = tmp_path / "bare.pt"
    bare.write_bytes(pickle.dumps(Payload(str(marker))))
    assert_refused_in_one_line(run_cli("import", bare, "--activation", "relu", "--output", "softmax",
                                       "--to", tmp_path / "x.safetensors"), "bare.pt")
    assert not marker.exists()

    conv = tmp_path / "conv.pt"
    torch.save({"conv1.weight": torch.zeros(4, 1, 3, 3), "conv1.bias": torch.zeros(4)}, conv)
    assert_refused_in_one_line(run_cli("import", conv, "--activation", "relu", "--output", "softmax",
                                       "--to", tmp_path / "x.safetensors"), "conv.pt", "conv1.weight", "convolution")

    cut = tmp_path / "cut.pt"
    cut.write_bytes((tmp_path / "conv.pt").read_bytes()[:300])
    assert_refused_in_one_line(run_cli("import", cut, "--activation", "relu", "--output", "softmax",
                                       "--to", tmp_path / "x.safetensors"), "cut.pt")


def test_a_missing_torch_package_names_the_extra(tmp_path):
    result = run_cli("export", "--to", tmp_path / "d.pt", prelude="import sys; sys.modules['torch'] = None")
    assert_refused_in_one_line(result, "pip install 'digitnet[torch]'")
    (tmp_path / "w.pt").write_bytes(b"PK\x03\x04 any bytes")
    result = run_cli("import", tmp_path / "w.pt", "--activation", "relu", "--output", "logits", "--to",
                     tmp_path / "w.safetensors", prelude="import sys; sys.modules['torch'] = None")
    assert_refused_in_one_line(result, "pip install 'digitnet[torch]'")
    # .safetensors, .npz and .json need no extra
    for suffix in (".safetensors", ".npz", ".json"):
        done = run_cli("export", "--to", tmp_path / f"d{suffix}", prelude="import sys; sys.modules['torch'] = None")
        assert done.returncode == 0, done.stderr


def test_the_explorer_opens_an_imported_model(tmp_path):
    import warnings
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*httpx2")
        from fastapi.testclient import TestClient
    from digitnet.web import create_app

    torch.manual_seed(1)
    module = nn.Sequential(nn.Linear(784, 32), nn.Tanh(), nn.Linear(32, 10))  # logits at the end
    torch.save(module.state_dict(), tmp_path / "tanh.pt")
    assert run_cli("import", tmp_path / "tanh.pt", "--activation", "tanh", "--output", "logits",
                   "--to", tmp_path / "tanh.safetensors").returncode == 0
    client = TestClient(create_app(tmp_path / "tanh.safetensors"), base_url="http://127.0.0.1")  # a loopback name
    image = mnist().test_images[0]
    answer = client.post("/api/predict", json={"pixels": image.tolist()})
    assert answer.status_code == 200, answer.text
    with torch.no_grad():
        expected = torch.softmax(module(torch.from_numpy(image[None])), dim=1)[0].numpy()
    assert answer.json()["digit"] == int(expected.argmax())
    np.testing.assert_allclose(answer.json()["probabilities"], expected, atol=1e-5)
    assert client.get("/api/model").status_code == 200
