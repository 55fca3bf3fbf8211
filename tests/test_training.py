"""Learning: gradients against finite differences, a step worked by hand, reproducibility, accuracy."""

import dataclasses

import numpy as np
import pytest

from digitnet.data import load_dataset
from digitnet.errors import DigitnetError
from digitnet.network import ACTIVATIONS, Network
from digitnet.training import (COSTS, OPTIMIZERS, TrainingSettings, backprop, cost, learning_rate_at,
                               one_hot, train)


@pytest.fixture(scope="module")
def mnist():
    return load_dataset()


def small_dataset(dataset, n_train=2000, n_validation=500):
    return dataclasses.replace(dataset, train_images=dataset.train_images[:n_train],
                               train_labels=dataset.train_labels[:n_train],
                               validation_images=dataset.validation_images[:n_validation],
                               validation_labels=dataset.validation_labels[:n_validation])


def total_cost(network, inputs, targets, cost_name):
    trace = network.trace(inputs)
    return cost(network, trace.outputs, trace.weighted_sums[-1], targets, cost_name)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
@pytest.mark.parametrize("cost_name", COSTS)
def test_backprop_matches_finite_differences(activation, output, cost_name):
    rng = np.random.default_rng(42)
    network = Network((12, 7, 5, 10), activation, output, seed=1, dtype=np.float64)
    for b in network.biases:  # nonzero biases, and ReLU units away from their kink
        b[...] = rng.normal(0, 0.5, b.shape)
    inputs = rng.random((6, 12))
    targets = one_hot(rng.integers(0, 10, 6), dtype=np.float64)
    grad_weights, grad_biases, loss, _ = backprop(network, inputs, targets, cost_name)
    assert loss == pytest.approx(total_cost(network, inputs, targets, cost_name))
    epsilon = 1e-6
    for parameters, gradients in ((network.weights, grad_weights), (network.biases, grad_biases)):
        for parameter, gradient in zip(parameters, gradients):
            numeric = np.zeros_like(parameter)
            for index in np.ndindex(parameter.shape):
                saved = parameter[index]
                parameter[index] = saved + epsilon
                plus = total_cost(network, inputs, targets, cost_name)
                parameter[index] = saved - epsilon
                minus = total_cost(network, inputs, targets, cost_name)
                parameter[index] = saved
                numeric[index] = (plus - minus) / (2 * epsilon)
            np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-8)


def test_one_training_step_worked_by_hand():
    # A 2-2-2 sigmoid network, quadratic cost, plain SGD with learning rate 1, one example.
    network = Network((2, 2, 2), "sigmoid", "sigmoid", dtype=np.float64,
                      weights=[[[0.5, -0.5], [0.25, 0.75]], [[1.0, -1.0], [0.5, 0.5]]],
                      biases=[[0.0, 0.0], [0.0, 0.0]])
    # x = (1, 0): z1 = (0.5, 0.25), a1 = (σ(0.5), σ(0.25)) = (0.6224593, 0.5621765)
    # z2 = (a1_0 - a1_1, (a1_0 + a1_1) / 2) = (0.0602828, 0.5923179), a2 = (0.5150661, 0.6438968)
    # y = (1, 0): C = ((0.5150661 - 1)^2 + 0.6438968^2) / 2 = 0.3248820
    # delta2 = (a2 - y) a2 (1 - a2) = (-0.1211234, 0.1476415)
    # delta1 = (W2^T delta2) a1 (1 - a1) = (-0.0473026, 0.1949441) * (0.2349871, 0.2461296)
    #        = (-0.0111163, 0.0479824)
    # W2 -= delta2 a1^T ; b2 -= delta2 ; W1 -= delta1 x^T ; b1 -= delta1
    grad_weights, grad_biases, loss, outputs = backprop(network, [[1.0, 0.0]], [[1.0, 0.0]], "quadratic")
    assert loss == pytest.approx(0.3248820, abs=1e-7)
    np.testing.assert_allclose(outputs, [[0.5150661, 0.6438968]], atol=1e-7)
    from digitnet.training import SGD
    SGD(network.weights + network.biases, learning_rate=1.0).step(grad_weights + grad_biases)
    np.testing.assert_allclose(network.weights[1], [[1.0753944, -0.9319073], [0.4080992, 0.4169994]], atol=1e-7)
    np.testing.assert_allclose(network.biases[1], [0.1211234, -0.1476415], atol=1e-7)
    np.testing.assert_allclose(network.weights[0], [[0.5111163, -0.5], [0.2020176, 0.75]], atol=1e-7)
    np.testing.assert_allclose(network.biases[0], [0.0111163, -0.0479824], atol=1e-7)


def test_same_seed_same_data_gives_bit_identical_weights(mnist):
    data = small_dataset(mnist)
    settings = TrainingSettings(epochs=2, seed=7)
    first, second = Network(seed=7), Network(seed=7)
    train(first, data, settings)
    train(second, data, settings)
    for a, b in zip(first.weights + first.biases, second.weights + second.biases):
        assert a.dtype == np.float32
        assert np.array_equal(a, b)
    third = Network(seed=8)
    train(third, data, dataclasses.replace(settings, seed=8))
    assert not np.array_equal(first.weights[0], third.weights[0])


# Quadratic cost through a sigmoid output learns slowly (the squish flattens its gradient: Nielsen's
# "learning slowdown"), so it gets bigger steps and a lower bar after 4 short epochs.
LEARNING_RATES = {("adam", "cross_entropy"): 0.01, ("momentum", "cross_entropy"): 1.0, ("sgd", "cross_entropy"): 3.0,
                  ("adam", "quadratic"): 0.03, ("momentum", "quadratic"): 2.0, ("sgd", "quadratic"): 10.0}


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("cost_name", COSTS)
def test_every_optimizer_and_cost_learns(mnist, optimizer, cost_name):
    data = small_dataset(mnist)
    network = Network(output="softmax" if cost_name == "cross_entropy" else "sigmoid", seed=0)
    result = train(network, data, TrainingSettings(epochs=4, learning_rate=LEARNING_RATES[optimizer, cost_name],
                                                   optimizer=optimizer, momentum=0.5, cost=cost_name,
                                                   weight_decay=1e-4))
    assert result.history[-1].loss < result.history[0].loss
    chance_multiple = 7 if cost_name == "cross_entropy" else 4
    assert network.accuracy(data.validation_images, data.validation_labels) > chance_multiple / 10


def test_network_keeps_its_best_validation_epoch(mnist):
    data = small_dataset(mnist)
    network = Network(seed=0)
    result = train(network, data, TrainingSettings(epochs=4, learning_rate=0.05, schedule="constant"))
    best = max(r.validation_accuracy for r in result.history)
    assert result.history[result.best_epoch - 1].validation_accuracy == best
    assert network.accuracy(data.validation_images, data.validation_labels) == best


def test_ctrl_c_stops_cleanly_and_keeps_the_best_epoch(mnist):
    data = small_dataset(mnist)
    network = Network(seed=0)
    seen = []

    def interrupt_in_epoch_three(epoch, done, total, loss):
        seen.append(epoch)
        if epoch == 3:
            raise KeyboardInterrupt

    result = train(network, data, TrainingSettings(epochs=10), on_batch=interrupt_in_epoch_three, progress_every=10)
    assert result.interrupted and len(result.history) == 2 and 3 in seen
    assert network.accuracy(data.validation_images, data.validation_labels) == \
        result.history[result.best_epoch - 1].validation_accuracy


def test_divergence_is_a_clear_error(mnist):
    network = Network(output="sigmoid", activation="relu", seed=0)
    with pytest.raises(DigitnetError, match="diverged.*smaller learning rate"):
        train(network, small_dataset(mnist), TrainingSettings(epochs=2, learning_rate=1e6, optimizer="sgd"))


def test_cosine_schedule_glides_down():
    settings = TrainingSettings(epochs=10, learning_rate=0.01)
    rates = [learning_rate_at(settings, e) for e in range(1, 11)]
    assert rates[0] == 0.01 and all(a > b for a, b in zip(rates, rates[1:])) and rates[-1] < 0.0005


def test_bad_settings_are_clear_errors():
    with pytest.raises(DigitnetError, match="learning_rate"):
        TrainingSettings(learning_rate=-1)
    with pytest.raises(DigitnetError, match="optimizer"):
        TrainingSettings(optimizer="lbfgs")
    with pytest.raises(DigitnetError, match="batch_size"):
        TrainingSettings(batch_size=0)


@pytest.mark.slow
def test_brief_training_on_full_mnist_reaches_94_percent(mnist):
    network = Network(output="softmax", seed=0)
    train(network, mnist, TrainingSettings(epochs=5))
    assert network.accuracy(mnist.test_images, mnist.test_labels) >= 0.94
