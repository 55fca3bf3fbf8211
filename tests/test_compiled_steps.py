"""The compiled training steps (compiled_steps.py, compiled_kernels.train_steps) against the NumPy fast
path they stand in for, for every structure, cost and optimizer; and the float32 tanh they use."""

import numpy as np
import pytest

from digitnet import compiled_steps
from digitnet.costs import COSTS, one_hot
from digitnet.data import load_dataset
from digitnet.fast_backprop import Workspace, with_ones_column
from digitnet.network import Network
from digitnet.optimizers import OPTIMIZERS, make_optimizer

pytest.importorskip("numba")

STRUCTURES = [((784, 16, 16, 10), "sigmoid", "softmax"), ((30, 12, 10), "relu", "sigmoid"),
              ((20, 9, 7, 10), "tanh", "softmax"), ((784, 10), "sigmoid", "sigmoid"),
              ((50, 8, 6, 5, 10), "sigmoid", "softmax")]


def test_fast_tanh_is_tanh_to_a_few_units_in_the_last_place():
    import numba

    from digitnet.compiled_kernels import fast_tanh

    @numba.njit
    def apply(x, out):
        for i in range(len(x)):
            out[i] = fast_tanh(x[i])

    x = np.concatenate([np.linspace(-12, 12, 2_000_001), [0.0, -0.0, 1e-30, -1e-30, 3.9e-4, 4.1e-4, 1e30, -1e30]])
    x = x.astype(np.float32)
    out = np.empty_like(x)
    apply(x, out)
    exact = np.tanh(x.astype(np.float64))
    assert np.abs(out - exact).max() < 4e-7                      # np.tanh's float32: 6e-8
    assert (np.abs(out) <= 1).all() and (np.sign(out) == np.sign(x)).all()
    special = np.array([np.nan, np.inf, -np.inf], np.float32)
    apply(special, out[:3])
    assert np.isnan(out[0]) and out[1] == 1 and out[2] == -1  # NaN stays NaN: divergence is still seen


def run_steps(structure, cost_name, optimizer_name, dtype, weight_decay, monkeypatch, compiled, rows=200, batch=16):
    """The parameters after one pass of `batch`-row steps over `rows` MNIST images, through
    Workspace.runner: compiled, or (DIGITNET_COMPILED=0) the NumPy steps."""
    monkeypatch.setenv(compiled_steps.SWITCH, "1" if compiled else "0")
    layer_sizes, activation, output = structure
    data = load_dataset()
    pixels = data.train_pixels[:rows, :layer_sizes[0]]
    inputs = with_ones_column(pixels.astype(dtype) / 255)
    targets = one_hot(data.train_labels[:rows], dtype=dtype)
    workspace = Workspace(Network(layer_sizes, activation, output, seed=4, dtype=dtype), cost_name)
    optimizer = make_optimizer(optimizer_name, [workspace.parameters], 0.05 if optimizer_name != "adam" else 0.01)
    results = [np.zeros((rows, 10), dtype) for _ in range(2)] + [np.zeros((rows, 1), dtype) for _ in range(2)]
    run = workspace.runner(optimizer, weight_decay, batch, [inputs, inputs], rows, targets, *results)
    assert (compiled_steps.runner(workspace, optimizer, weight_decay, batch, [inputs, inputs], rows, targets,
                                  *results) is not None) == compiled
    run(0, 0, -(-rows // batch))  # every step, the last one short (200 = 12 x 16 + 8)
    return workspace.parameters.copy(), results


@pytest.mark.parametrize("structure", STRUCTURES)
@pytest.mark.parametrize("cost_name", COSTS)
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_compiled_steps_take_the_numpy_steps(structure, cost_name, optimizer, monkeypatch):
    # float32: BLAS may sum a product of another shape in another order, and the compiled sigmoid's
    # tanh is within 6 units in the last place; over 13 steps that stays within these tolerances,
    # where a wrong formula (a missing mean, a wrong derivative) is off by ~1e-2
    decay = 1e-3 if optimizer == "adam" else 0.0
    mine, my_results = run_steps(structure, cost_name, optimizer, np.float32, decay, monkeypatch, compiled=True)
    theirs, their_results = run_steps(structure, cost_name, optimizer, np.float32, decay, monkeypatch, compiled=False)
    np.testing.assert_allclose(mine, theirs, rtol=1e-3, atol=2e-5)
    np.testing.assert_allclose(my_results[1], their_results[1], rtol=1e-3, atol=2e-5)  # the outputs kept
    if structure[2] == "softmax":
        np.testing.assert_allclose(my_results[3], their_results[3], rtol=1e-4)  # each row's sum of e^(z - max)


@pytest.mark.parametrize("structure", STRUCTURES)
@pytest.mark.parametrize("cost_name", COSTS)
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_compiled_steps_agree_in_float64(structure, cost_name, optimizer, monkeypatch):
    # in float64 the compiled steps use the C library's tanh: only the order of summation differs
    mine, my_results = run_steps(structure, cost_name, optimizer, np.float64, 1e-3, monkeypatch, compiled=True)
    theirs, their_results = run_steps(structure, cost_name, optimizer, np.float64, 1e-3, monkeypatch, compiled=False)
    np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12)
    for a, b in zip(my_results, their_results):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
