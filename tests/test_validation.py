"""The public API's boundary: every wrong type or value of every parameter is a one-line
DigitnetError naming the parameter, never a TypeError or ValueError from inside numpy, and never a
silent default. And the limits on sizes are one set: what train may build, load_model loads."""

from __future__ import annotations


import numpy as np
import pytest

from digitnet.errors import DigitnetError, printable
from digitnet.modelfile import load_model, save_model
from digitnet.network import Network
from digitnet.optimizers import make_optimizer
from digitnet.training import TrainingSettings
from digitnet.validation import MAX_LAYER_SIZE, MAX_LAYERS, MAX_PARAMETERS, parameter_count

# Wrong values of every type a caller could pass by mistake, for each kind of parameter.
NOT_WHOLE = ["3", 2.5, True, None, [3], float("nan")]
NOT_REAL = ["0.1", "x", True, None, [0.1], float("nan"), float("inf"), -float("inf"), 1j]
NOT_NAME = [3, None, b"adam", ["adam"], "ADAM", "lbfgs", ""]

SETTINGS_CASES = (
    [("epochs", v) for v in NOT_WHOLE + [0, -1, 10**7]]
    + [("batch_size", v) for v in NOT_WHOLE + [0]]
    + [("learning_rate", v) for v in NOT_REAL + [0, -0.1]]
    + [("momentum", v) for v in NOT_REAL + [1, -0.5]]
    + [("weight_decay", v) for v in NOT_REAL + [-1e-4]]
    + [("shift_pixels", v) for v in NOT_WHOLE + [5, -1]]
    + [("seed", v) for v in NOT_WHOLE + [-1, 2**32]]
    + [(name, v) for name in ("schedule", "optimizer", "cost") for v in NOT_NAME]
)


@pytest.mark.parametrize("name, value", SETTINGS_CASES, ids=[f"{n}={v!r}" for n, v in SETTINGS_CASES])
def test_every_wrong_training_setting_is_a_digitnet_error_naming_it(name, value):
    with pytest.raises(DigitnetError) as caught:
        TrainingSettings(**{name: value})
    message = str(caught.value)
    assert message.startswith(f"training settings: {name} must be ") and "\n" not in message


def test_numpy_numbers_are_as_good_as_python_ones():
    settings = TrainingSettings(epochs=np.int64(2), learning_rate=np.float32(0.01), momentum=np.float64(0.5))
    assert settings.epochs == 2


NETWORK_CASES = (
    [("layer_sizes", v) for v in [(784, "a", 10), (784,), (784, 0, 10), (784, -3, 10), (784, 2.5, 10), "784",
                                   (784, True, 10), (784, MAX_LAYER_SIZE + 1, 10), (784,) * (MAX_LAYERS + 1),
                                   (784, 20_000, 20_000, 10), None, 784]]
    + [("activation", v) for v in NOT_NAME + ["swish"]]
    + [("output", v) for v in NOT_NAME + ["linear"]]
    + [("seed", v) for v in NOT_WHOLE + [-1]]
    + [("dtype", v) for v in ["int8", np.int32, "float16", "nonsense"]]
    + [("weights", v) for v in [[np.array([["a"]])], ["not an array"]]]
)


@pytest.mark.parametrize("name, value", NETWORK_CASES, ids=[f"{n}={v!r}"[:60] for n, v in NETWORK_CASES])
def test_every_wrong_network_argument_is_a_digitnet_error(name, value):
    arguments = {"layer_sizes": (784, 4, 10), name: value}
    with pytest.raises(DigitnetError) as caught:
        Network(**arguments)
    assert str(caught.value).startswith("network: ") and "\n" not in str(caught.value)


OPTIMIZER_CASES = ([("name", v) for v in NOT_NAME] + [("learning_rate", v) for v in NOT_REAL + [0]]
                   + [("momentum", v) for v in NOT_REAL + [1.0]])


@pytest.mark.parametrize("name, value", OPTIMIZER_CASES, ids=[f"{n}={v!r}" for n, v in OPTIMIZER_CASES])
def test_make_optimizer_refuses_what_it_does_not_know_instead_of_returning_adam(name, value):
    arguments = {"name": "adam", "learning_rate": 0.01, "momentum": 0.9, name: value}
    with pytest.raises(DigitnetError, match=f"optimizer: {name} must be"):
        make_optimizer(arguments["name"], [np.zeros(3, np.float32)], arguments["learning_rate"], arguments["momentum"])


@pytest.mark.parametrize("sizes", [(2, MAX_LAYER_SIZE, 10), (784,) + (8,) * (MAX_LAYERS - 2) + (10,)],
                         ids=["widest layer", "deepest network"])
def test_the_largest_network_train_may_build_is_one_load_model_loads(tmp_path, sizes):
    # One set of limits: Network (so train) and load_model agree at the edge.
    network = Network(sizes, seed=0)
    path = save_model(tmp_path / "edge.safetensors", network)
    assert load_model(path).network.layer_sizes == sizes


@pytest.mark.parametrize("sizes", [(784, MAX_LAYER_SIZE + 1, 10), (784,) + (8,) * (MAX_LAYERS - 1) + (10,)],
                         ids=["a layer too wide", "a layer too many"])
def test_one_past_the_limits_is_refused_before_any_weight_is_drawn(sizes):
    with pytest.raises(DigitnetError, match="network: layer sizes"):
        Network(sizes)


def test_the_parameter_limit_keeps_a_model_file_loadable():
    from digitnet.modelfile import MAX_MODEL_BYTES
    assert MAX_PARAMETERS * 4 < MAX_MODEL_BYTES  # float32 on disk, plus the header
    assert parameter_count((784, 16, 16, 10)) == 13_002


@pytest.mark.parametrize("text, shown", [
    ("seven.png", "seven.png"),
    ("a\nb", "a\\nb"),
    ("\x1b]0;owned\x07title", "\\x1b]0;owned\\x07title"),
    ("evil\u202egnp.exe", "evil\\u202egnp.exe"),
    ("line\u2028break", "line\\u2028break"),
    ("bad\udcffbyte", "bad\\udcffbyte"),
    ("naïve 7 ✓", "naïve 7 ✓"),
])
def test_printable_escapes_what_a_terminal_would_act_on(text, shown):
    assert printable(text) == shown
    assert printable(text).isprintable()


