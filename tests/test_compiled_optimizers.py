"""The optimizers' compiled update (compiled_optimizers.py, Numba) against their numpy update, and
the numpy fallback when the compiled path is switched off or Numba is missing."""

import os
import subprocess
import sys

import numpy as np
import pytest

from digitnet import compiled_optimizers
from digitnet.data import load_dataset
from digitnet.network import Network
from digitnet.optimizers import FLUSH_EVERY, OPTIMIZERS, make_optimizer
from digitnet.training import TrainingSettings, train

pytest.importorskip("numba")


def numpy_only(monkeypatch):
    monkeypatch.setenv(compiled_optimizers.SWITCH, "0")


def steps_taken(optimizer_name, dtype, decay, monkeypatch, compiled, steps=3 * FLUSH_EVERY + 5):
    """The parameters and moments after `steps` flat steps (train's kind) of gradients that include
    zeros (so moments decay through the subnormal numbers, and flushes matter), tiny and huge values."""
    if compiled:
        monkeypatch.delenv(compiled_optimizers.SWITCH, raising=False)
    else:
        numpy_only(monkeypatch)
    rng = np.random.default_rng(5)
    n = 40_000  # more than one of the numpy path's blocks (optimizers.BLOCK_ELEMENTS)
    parameter = rng.standard_normal(n).astype(dtype)
    gradient = np.empty_like(parameter)
    rates = np.where(rng.random(n) < 0.9, dtype(1e-3), dtype(0)) if decay else None
    optimizer = make_optimizer(optimizer_name, [parameter], 0.01, 0.9)
    step = optimizer.step_function([gradient], rates)
    assert (compiled_optimizers.step_function(optimizer, gradient, rates) is not None) == compiled
    for s in range(steps):
        scale = 10.0 ** rng.integers(-30, 3, n)
        gradient[...] = rng.standard_normal(n) * scale * (rng.random(n) < (0.7 if s < 4 else 0.2))
        optimizer.learning_rate = 0.01 / (1 + s)  # as the schedule changes it between epochs
        step()
    state = [getattr(optimizer, name)[0] for name in ("scaled_first_moments", "scaled_second_moments", "velocities")
             if hasattr(optimizer, name)]
    return parameter, state


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("decay", [False, True])
def test_the_compiled_update_computes_the_numpy_update(optimizer, dtype, decay, monkeypatch):
    # The kernel does numpy's operations in numpy's order with IEEE rounding (no fastmath), so the
    # results agree to the last bit on this machine; the tolerance is one float32 rounding, to leave
    # room for another machine's library, not for another formula (a change of formula is ~1e-3 off).
    compiled, compiled_state = steps_taken(optimizer, dtype, decay, monkeypatch, compiled=True)
    plain, plain_state = steps_taken(optimizer, dtype, decay, monkeypatch, compiled=False)
    np.testing.assert_allclose(compiled, plain, rtol=1e-6, atol=0)
    for mine, theirs in zip(compiled_state, plain_state):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=0)
    assert not np.array_equal(compiled, steps_taken(optimizer, dtype, not decay, monkeypatch, compiled=True)[0])


@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_the_compiled_update_flushes_subnormal_moments_every_few_steps(optimizer):
    parameter = np.ones(64, np.float32)
    stepper = make_optimizer(optimizer, [parameter], 0.01, 0.9)
    gradient = np.full(64, 1e-30, np.float32)
    step = stepper.step_function([gradient])
    state = stepper.scaled_first_moments[0] if optimizer == "adam" else stepper.velocities[0]
    tiny, seen_subnormal = np.finfo(np.float32).tiny, False
    for s in range(2000):
        if s == 3:
            gradient[...] = 0  # the gradient has gone: the state decays geometrically to 0
        step()
        subnormal = bool(((state != 0) & (np.abs(state) < tiny)).any())
        seen_subnormal |= subnormal
        if stepper.updates % FLUSH_EVERY == 0:
            assert not subnormal
    assert seen_subnormal and (state == 0).all()


def test_nan_and_infinity_pass_through_so_divergence_is_seen():
    parameter = np.ones(8, np.float32)
    gradient = np.array([np.nan, np.inf, -np.inf, 1, 0, 0, 0, 0], np.float32)
    step = make_optimizer("adam", [parameter], 0.01).step_function([gradient])
    step()
    assert np.isnan(parameter[:3]).all() and np.isfinite(parameter[3:]).all()


def test_training_numpy_only_ends_where_the_compiled_path_does(monkeypatch):
    data = load_dataset().subset(train=1000, validation=200)
    settings = TrainingSettings(epochs=2, seed=3)
    compiled, plain = Network(seed=3), Network(seed=3)
    train(compiled, data, settings)
    numpy_only(monkeypatch)
    train(plain, data, settings)
    for mine, theirs in zip(compiled.weights + compiled.biases, plain.weights + plain.biases):
        # the compiled steps' products and float32 tanh round otherwise (see test_compiled_steps.py)
        np.testing.assert_allclose(mine, theirs, rtol=1e-3, atol=5e-5)


def test_without_numba_training_runs_on_numpy():
    # A machine where Numba does not import (a platform without its wheels): sys.modules["numba"] =
    # None makes `import numba` fail there, as a missing package does.
    script = (
        "import sys; sys.modules['numba'] = None\n"
        "from digitnet import compiled_optimizers\n"
        "from digitnet.data import load_dataset\n"
        "from digitnet.network import Network\n"
        "from digitnet.training import TrainingSettings, train\n"
        "assert not compiled_optimizers.available()\n"
        "data = load_dataset().subset(train=2000, validation=500)\n"
        "network = Network(seed=0)\n"
        "train(network, data, TrainingSettings(epochs=3))\n"
        "print(network.accuracy(data.validation_images, data.validation_labels))\n"
    )
    environment = {key: value for key, value in os.environ.items() if key != compiled_optimizers.SWITCH}
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment,
                              timeout=300)
    assert finished.returncode == 0, finished.stderr
    data = load_dataset().subset(train=2000, validation=500)
    compiled = Network(seed=0)
    train(compiled, data, TrainingSettings(epochs=3))  # the same training here, compiled: learnt the same
    assert float(finished.stdout) == pytest.approx(compiled.accuracy(data.validation_images, data.validation_labels),
                                                   abs=0.01)
