"""Learning: gradients against finite differences, a step worked by hand, the fast path against the
reference, reproducibility, accuracy."""

import dataclasses

import numpy as np
import pytest

from digitnet.data import load_dataset
from digitnet.errors import DigitnetError
from digitnet.network import ACTIVATIONS, Network
from threadpoolctl import threadpool_limits

from digitnet.fast_backprop import Workspace
from digitnet.optimizers import FLUSH_EVERY
from digitnet.training import (COSTS, OPTIMIZERS, TrainingSettings, backprop, cost, learning_rate_at,
                               make_optimizer, one_hot, shift_images, train)


@pytest.fixture(scope="module")
def mnist():
    return load_dataset()


@pytest.fixture(params=["compiled", "numpy"])
def optimizer_path(request, monkeypatch):
    """Each flat-step test on both of the optimizers' paths: compiled (Numba) and numpy's."""
    if request.param == "numpy":
        monkeypatch.setenv("DIGITNET_COMPILED", "0")
    else:
        pytest.importorskip("numba")
        monkeypatch.delenv("DIGITNET_COMPILED", raising=False)
    return request.param


def small_dataset(dataset, n_train=2000, n_validation=500):
    return dataset.subset(train=n_train, validation=n_validation)


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


# The fast path (train's Workspace: the bias trick, one flat parameter vector, buffers reused, the
# batch mean taken on the output delta) must compute what backprop computes. It sums in another
# order (each bias inside its matrix product, the softmax's row sums by BLAS), so the two agree to
# float32 rounding, not to the bit.
FAST_PATH_STRUCTURES = [((784, 16, 16, 10), "sigmoid", "softmax"), ((30, 12, 10), "relu", "sigmoid"),
                        ((20, 9, 7, 10), "tanh", "softmax"), ((784, 10), "sigmoid", "sigmoid")]


@pytest.mark.parametrize("structure", FAST_PATH_STRUCTURES)
@pytest.mark.parametrize("cost_name", COSTS)
@pytest.mark.parametrize("rows", [32, 16, 24, 1])
def test_fast_backprop_equals_the_reference(structure, cost_name, rows):
    layer_sizes, activation, output = structure
    rng = np.random.default_rng(rows)
    network = Network(layer_sizes, activation, output, seed=2)
    for b in network.biases:
        b[...] = rng.normal(0, 0.5, b.shape)
    inputs = rng.random((rows, layer_sizes[0]), dtype=np.float32)
    targets = one_hot(rng.integers(0, 10, rows))
    grad_weights, grad_biases, loss, outputs = backprop(network, inputs, targets, cost_name)

    workspace = Workspace(network, cost_name)
    weighted_sums, fast_outputs = np.empty((rows, 10), np.float32), np.empty((rows, 10), np.float32)
    row_max, row_sum = np.empty((rows, 1), np.float32), np.empty((rows, 1), np.float32)
    workspace.backprop(inputs, targets, weighted_sums, fast_outputs, row_max, row_sum)
    np.testing.assert_allclose(fast_outputs, outputs, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(weighted_sums, network.trace(inputs).weighted_sums[-1], rtol=1e-5, atol=1e-6)
    assert cost(network, fast_outputs, weighted_sums, targets, cost_name) == pytest.approx(loss, rel=1e-5)
    if output == "softmax" and cost_name == "cross_entropy":  # train's cheap form: log(sum) + max - z_y
        right_digit_z = weighted_sums[np.arange(rows), targets.argmax(axis=1)]
        cheap = np.log(row_sum[:, 0]) + (row_max[:, 0] - right_digit_z)
        assert cheap.mean() == pytest.approx(loss, rel=1e-5)
    for mine, reference in zip(workspace.grad_weights + workspace.grad_biases, grad_weights + grad_biases):
        assert mine.shape == reference.shape and mine.dtype == np.float32
        # to float32 rounding of the gradient's own size (entries near zero lose relative precision)
        np.testing.assert_allclose(mine, reference, rtol=1e-4, atol=1e-6 * np.abs(reference).max())


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
@pytest.mark.parametrize("cost_name", COSTS)
@pytest.mark.parametrize("layer_sizes", [(12, 10), (12, 7, 10), (12, 9, 7, 10)])
@pytest.mark.parametrize("rows", [1, 7, 33])
def test_fast_backprop_equals_the_reference_in_float64(activation, output, cost_name, layer_sizes, rows):
    # In float64 the different order of summation is invisible: every combination, tightly.
    rng = np.random.default_rng(rows)
    network = Network(layer_sizes, activation, output, seed=3, dtype=np.float64)
    for b in network.biases:
        b[...] = rng.normal(0, 0.5, b.shape)
    inputs, targets = rng.random((rows, layer_sizes[0])), one_hot(rng.integers(0, 10, rows), dtype=np.float64)
    grad_weights, grad_biases, _, outputs = backprop(network, inputs, targets, cost_name)
    workspace = Workspace(network, cost_name)
    weighted_sums, fast_outputs, row_max, row_sum = (np.empty(shape) for shape in [(rows, 10)] * 2 + [(rows, 1)] * 2)
    workspace.backprop(inputs, targets, weighted_sums, fast_outputs, row_max, row_sum)
    np.testing.assert_allclose(fast_outputs, outputs, rtol=1e-12, atol=1e-15)
    for mine, reference in zip(workspace.grad_weights + workspace.grad_biases, grad_weights + grad_biases):
        np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-14)


def test_fast_backprop_keeps_its_weights_and_biases_where_the_network_has_them():
    network = Network((12, 5, 3, 10), seed=3)
    for b in network.biases:
        b[...] = np.random.default_rng(0).normal(size=b.shape)
    workspace = Workspace(network, "cross_entropy")
    assert workspace.parameters.size == network.parameter_count
    for mine, theirs in zip(workspace.weights + workspace.biases, network.weights + network.biases):
        np.testing.assert_array_equal(mine, theirs)
    workspace.parameters += 1
    copy = network.copy()
    workspace.copy_to(copy)
    for mine, before in zip(copy.weights + copy.biases, network.weights + network.biases):
        np.testing.assert_array_equal(mine, before + 1)
    workspace.gradient[...] = 0
    workspace.add_weight_decay(0.5)  # decays the weights only: the biases' gradient stays 0
    for decayed, weights in zip(workspace.grad_weights, workspace.weights):
        np.testing.assert_array_equal(decayed, np.float32(0.5) * weights)
    assert all(not g.any() for g in workspace.grad_biases)


def textbook_steps(name, parameter, gradients, learning_rate=0.01, momentum=0.9):
    """Each optimizer's update as the papers write it, in float64: the weights after each gradient."""
    parameter, m, v, velocity, seen = parameter.astype(np.float64), 0.0, 0.0, 0.0, []
    for t, g in enumerate(gradients, start=1):
        if name == "sgd":
            parameter = parameter - learning_rate * g
        elif name == "momentum":
            velocity = momentum * velocity - learning_rate * g
            parameter = parameter + velocity
        else:  # Adam, Kingma & Ba (2015): algorithm 1 in the efficient form of their section 2
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            step_size = learning_rate * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
            parameter = parameter - step_size * m / (np.sqrt(v) + 1e-8)
        seen.append(parameter)
    return seen


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_optimizers_step_as_the_textbook_writes_them(optimizer, optimizer_path):
    rng = np.random.default_rng(5)
    parameter = rng.standard_normal(300).astype(np.float32)
    # gradients of very different sizes, some exactly zero: Adam's epsilon and scaling both matter
    gradients = [(rng.standard_normal(300) * 10.0 ** rng.integers(-6, 1, 300)).astype(np.float32) for _ in range(20)]
    gradients[3][:50] = 0
    expected = textbook_steps(optimizer, parameter, [g.astype(np.float64) for g in gradients])
    per_array, flat = parameter.copy(), parameter.copy()  # `step`, and the closure train uses
    stepper = make_optimizer(optimizer, [per_array], 0.01, 0.9)
    flat_gradient = np.empty_like(flat)
    flat_step = make_optimizer(optimizer, [flat], 0.01, 0.9).step_function([flat_gradient])
    for gradient, after in zip(gradients, expected):
        stepper.step([gradient.copy()])
        flat_gradient[...] = gradient
        flat_step()
        np.testing.assert_allclose(per_array, after, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(flat, per_array)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_one_flat_optimizer_equals_one_per_array(optimizer):
    rng = np.random.default_rng(3)
    network = Network((30, 12, 10), seed=1)
    reference = network.copy()
    workspace = Workspace(network, "cross_entropy")
    flat = make_optimizer(optimizer, [workspace.parameters], 0.01, 0.9)
    per_array = make_optimizer(optimizer, reference.weights + reference.biases, 0.01, 0.9)
    for _ in range(5):
        gradients = [rng.standard_normal(p.shape).astype(np.float32) for p in reference.weights + reference.biases]
        for view, gradient in zip(workspace.grad_weights + workspace.grad_biases, gradients):
            view[...] = gradient
        workspace.add_weight_decay(1e-3)
        for gradient, w in zip(gradients, reference.weights):
            gradient += 1e-3 * w
        flat.step([workspace.gradient])
        per_array.step(gradients)
    workspace.copy_to(network)
    for mine, theirs in zip(network.weights + network.biases, reference.weights + reference.biases):
        np.testing.assert_array_equal(mine, theirs)


def reference_train(network, data, settings):
    """The training loop as the math reads: shuffle, shift, backprop each mini-batch, decay, step.
    `train` arranges this same arithmetic for speed, and must give the same weights."""
    rng = np.random.default_rng(settings.seed)
    targets = one_hot(data.train_labels)
    parameters = network.weights + network.biases
    optimizer = make_optimizer(settings.optimizer, parameters, settings.learning_rate, settings.momentum)
    for epoch in range(1, settings.epochs + 1):
        optimizer.learning_rate = learning_rate_at(settings, epoch)
        order = rng.permutation(len(data.train_images))
        images, shuffled_targets = data.train_images[order], targets[order]
        if settings.shift_pixels:
            shift_images(images, rng, settings.shift_pixels)
        for start in range(0, len(images), settings.batch_size):
            stop = start + settings.batch_size
            grad_weights, grad_biases, _, _ = backprop(network, images[start:stop], shuffled_targets[start:stop],
                                                       settings.cost)
            for g, w in zip(grad_weights, network.weights):
                g += settings.weight_decay * w
            optimizer.step(grad_weights + grad_biases)


@pytest.mark.parametrize("structure, settings, n_train", [
    (((784, 16, 16, 10), "sigmoid", "softmax"), TrainingSettings(epochs=2, seed=4), 1000),  # the CLI's defaults
    (((784, 12, 10), "relu", "sigmoid"),
     TrainingSettings(epochs=2, batch_size=16, optimizer="momentum", learning_rate=0.5, cost="quadratic",
                      shift_pixels=0, schedule="constant"), 1000),
    (((784, 10, 10), "tanh", "softmax"),
     TrainingSettings(epochs=2, optimizer="sgd", learning_rate=0.5, shift_pixels=2), 1000),
    (((784, 16, 16, 10), "sigmoid", "softmax"), TrainingSettings(epochs=2, batch_size=24), 1000),  # not a power of 2
])
def test_train_gives_the_weights_of_the_reference_loop(mnist, structure, settings, n_train):
    data = small_dataset(mnist, n_train=n_train, n_validation=100)
    network, reference = Network(*structure, seed=settings.seed), Network(*structure, seed=settings.seed)
    at_epoch_end = []
    train(network, data, settings,
          on_epoch=lambda record: at_epoch_end.append([p.copy() for p in network.weights + network.biases]))
    with threadpool_limits(limits=1, user_api="blas"):  # as train does (some BLAS results depend on it)
        reference_train(reference, data, settings)
    for mine, theirs in zip(at_epoch_end[-1], reference.weights + reference.biases):
        # rounding differences add up over 80 steps (and the compiled path's float32 tanh is within 6
        # units in the last place, np.tanh's 1): a wrong formula is off by 1e-2, not 5e-5
        np.testing.assert_allclose(mine, theirs, rtol=1e-3, atol=5e-5)


@pytest.mark.parametrize("settings", [
    TrainingSettings(epochs=2, seed=4),                                                    # the defaults
    TrainingSettings(epochs=1, batch_size=7, optimizer="sgd", learning_rate=0.5, shift_pixels=0),  # odd last batch
    TrainingSettings(epochs=1, batch_size=1, cost="quadratic", learning_rate=0.01, shift_pixels=2),
])
def test_train_in_float64_ends_where_the_reference_loop_does(mnist, settings):
    # In float64 the fast path's other order of summation is invisible, so the whole loop (shuffling,
    # shifting, decay, schedule, optimizer, the last partial batch) is checked tightly.
    data = small_dataset(mnist, n_train=203, n_validation=50)
    network = Network((784, 12, 10), "sigmoid", "softmax", seed=settings.seed, dtype=np.float64)
    reference, at_epoch_end = network.copy(), []
    train(network, data, settings,  # (afterwards the network holds its best epoch's weights, maybe not the last)
          on_epoch=lambda record: at_epoch_end.append([p.copy() for p in network.weights + network.biases]))
    reference_train(reference, data, settings)
    for mine, theirs in zip(at_epoch_end[-1], reference.weights + reference.biases):
        np.testing.assert_allclose(mine, theirs, rtol=1e-8, atol=1e-10)


def test_shift_images_moves_each_image_by_its_drawn_offset():
    images = np.random.default_rng(0).random((60, 784), dtype=np.float32)
    shifted = images.copy()
    shift_images(shifted, np.random.default_rng(5), 2)
    shifts = np.random.default_rng(5).integers(-2, 3, size=(60, 2))  # what shift_images draws
    for image, moved, (dy, dx) in zip(images.reshape(-1, 28, 28), shifted.reshape(-1, 28, 28), shifts):
        expected = np.zeros((28, 28), np.float32)
        expected[max(dy, 0):28 + min(dy, 0), max(dx, 0):28 + min(dx, 0)] = \
            image[max(-dy, 0):28 + min(-dy, 0), max(-dx, 0):28 + min(-dx, 0)]
        np.testing.assert_array_equal(moved, expected)


def test_callbacks_see_the_current_weights(mnist):
    data = small_dataset(mnist)
    network = Network(seed=0)
    seen = []

    def on_epoch(record):
        seen.append(network.accuracy(data.validation_images, data.validation_labels) == record.validation_accuracy)

    train(network, data, TrainingSettings(epochs=3, learning_rate=0.05), on_epoch=on_epoch)
    assert seen == [True, True, True]


@pytest.mark.parametrize("n_validation", [10_000, 1_537, 1, 0])
def test_the_validation_pass_on_two_threads_counts_what_network_accuracy_does(mnist, n_validation):
    # train counts the validation set in two parts on two threads (from ~5,000 images on); the
    # figure must be network.accuracy's, to the bit, for big sets, small ones and none.
    data = mnist.subset(train=500, validation=n_validation)
    network = Network(seed=0)
    seen = []
    train(network, data, TrainingSettings(epochs=2, learning_rate=0.05),
          on_epoch=lambda record: seen.append((record.validation_accuracy,
                                               network.accuracy(data.validation_images, data.validation_labels))))
    assert [mine for mine, _ in seen] == [theirs for _, theirs in seen]


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


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_the_flat_step_walks_blocks_and_decays_as_the_plain_step_does(optimizer, optimizer_path):
    # train's step: gradient += rates * parameter, then the update, BLOCK_ELEMENTS at a time; it must
    # give exactly what decaying the whole vector and one plain `step` give, across block boundaries
    from digitnet.optimizers import BLOCK_ELEMENTS
    rng = np.random.default_rng(11)
    n = 2 * BLOCK_ELEMENTS + 123
    parameter = rng.standard_normal(n).astype(np.float32)
    rates = np.where(rng.random(n) < 0.9, np.float32(1e-2), np.float32(0))
    flat, plain = parameter.copy(), parameter.copy()
    flat_gradient = np.empty_like(flat)
    flat_step = make_optimizer(optimizer, [flat], 0.01, 0.9).step_function([flat_gradient], rates)
    stepper = make_optimizer(optimizer, [plain], 0.01, 0.9)
    for _ in range(4):
        gradient = rng.standard_normal(n).astype(np.float32)
        flat_gradient[...] = gradient
        flat_step()
        stepper.step([gradient + rates * plain])
        np.testing.assert_array_equal(flat, plain)
    assert not np.array_equal(flat, parameter)


def test_given_targets_replace_the_labels(mnist):
    data = small_dataset(mnist, n_train=600, n_validation=100)
    settings = TrainingSettings(epochs=2, seed=2)
    plain, same, uniform = (Network(seed=2) for _ in range(3))
    train(plain, data, settings)
    train(same, data, settings, targets=one_hot(data.train_labels))  # the labels' own rows: the same model
    for mine, theirs in zip(same.weights + same.biases, plain.weights + plain.biases):
        np.testing.assert_array_equal(mine, theirs)
    # targets of 1/10 for every digit: the outputs learn to hedge, far more than the labels' model does
    train(uniform, data, TrainingSettings(epochs=4, seed=2, learning_rate=0.02),
          targets=np.full((len(data.train_labels), 10), 0.1))
    spread = lambda network: network.feedforward(data.test_images[:200]).max(axis=1).mean()  # noqa: E731
    assert spread(uniform) < 0.2 < spread(plain)


@pytest.mark.parametrize("shape", [(599, 10), (600, 9), (600,)])
def test_targets_of_the_wrong_shape_are_refused_in_one_line(mnist, shape):
    data = small_dataset(mnist, n_train=600, n_validation=100)
    with pytest.raises(DigitnetError, match="targets of shape") as error:
        train(Network(seed=0), data, TrainingSettings(epochs=1), targets=np.zeros(shape))
    assert "\n" not in str(error.value)


def test_uint8_pixels_are_predicted_as_their_float_inputs_block_by_block(mnist):
    from digitnet.evaluation import evaluate, predicted_digits
    network = Network(seed=3)
    for count in (0, 1, 1024, 2500):
        pixels, images = mnist.test_pixels[:count], mnist.test_images[:count]
        np.testing.assert_array_equal(predicted_digits(network, pixels), predicted_digits(network, images))
    np.testing.assert_array_equal(evaluate(network, mnist.test_pixels, mnist.test_labels).confusion,
                                  evaluate(network, mnist.test_images, mnist.test_labels).confusion)


@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_moments_decaying_to_zero_skip_the_subnormal_numbers(optimizer):
    # a gradient gone to 0: the state decays geometrically; below the smallest normal float it is set
    # to 0 at the next flush (every FLUSH_EVERY steps), so it never stays subnormal (x86 computes those
    # ~100x slower), and the weights move as if nothing was cut
    parameter = np.ones(50, np.float32)
    stepper = make_optimizer(optimizer, [parameter], 0.01, 0.9)
    gradient = np.full(50, 1e-30, np.float32)
    tiny = np.finfo(np.float32).tiny
    state = stepper.scaled_first_moments[0] if optimizer == "adam" else stepper.velocities[0]
    subnormal_steps, longest_run, run, before = 0, 0, 0, parameter.copy()
    for step in range(2000):
        stepper.step([gradient if step < 3 else np.zeros_like(gradient)])
        subnormal = bool(((state != 0) & (np.abs(state) < tiny)).any())
        if stepper.updates % FLUSH_EVERY == 0:
            assert not subnormal  # a flush leaves none
        run = run + 1 if subnormal else 0
        subnormal_steps, longest_run = subnormal_steps + subnormal, max(longest_run, run)
    assert 0 < subnormal_steps and longest_run < FLUSH_EVERY  # they occur, and never outlive a flush
    assert (state == 0).all()
    assert np.allclose(parameter, before, atol=1e-6)
