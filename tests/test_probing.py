"""probing.py: a hand-built neuron picks the images it was built to pick; rankings hold for any
network; bad layers, neurons and counts are one-line DigitnetErrors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from digitnet import DigitnetError, Network
from digitnet.probing import layer_responses, probe_neuron


def region_detector():
    """A 784-2-3-10 network whose hidden neuron 1 counts the ink in the top-left 4x4 corner
    (weights 1 there, 0 elsewhere, bias 0) and whose second layer's neuron 0 copies it."""
    weights = [np.zeros((2, 784)), np.zeros((3, 2)), np.zeros((10, 3))]
    corner = np.zeros((28, 28))
    corner[:4, :4] = 1.0
    weights[0][1] = corner.ravel()
    weights[1][0, 1] = 1.0
    return Network((784, 2, 3, 10), weights=weights, biases=[np.zeros(2), np.zeros(3), np.zeros(10)])


def images_with_corner_ink(amounts):
    """One image per amount: `amount` pixels of the corner lit (in reading order), plus noise elsewhere
    that the corner detector must ignore."""
    rng = np.random.default_rng(0)
    result = np.zeros((len(amounts), 28, 28), np.float32)
    result[:, 10:, 10:] = rng.uniform(0, 1, (len(amounts), 18, 18))
    for k, amount in enumerate(amounts):
        result[k, :4, :4].flat[:amount] = 1.0
    return result.reshape(len(amounts), 784)


def test_a_hand_built_corner_detector_picks_the_images_with_the_most_and_least_corner_ink():
    amounts = [3, 16, 0, 9, 12, 1, 16, 5, 7, 2, 11, 4]
    images = images_with_corner_ink(amounts)
    probe = probe_neuron(region_detector(), images, layer=1, neuron=1, count=3, average_of=2)
    np.testing.assert_array_equal(probe.most_exciting, [1, 6, 4])   # 16, 16 (tie: lower index first), 12
    np.testing.assert_array_equal(probe.least_exciting, [2, 5, 9])  # 0, 1, 2
    np.testing.assert_allclose(probe.weighted_sums, amounts)
    np.testing.assert_array_equal(probe.top, [1, 6])
    np.testing.assert_allclose(probe.average_of_top, images[[1, 6]].mean(axis=0), atol=1e-7)
    assert probe.average_of_top.reshape(28, 28)[:4, :4].min() == 1.0  # the top images' corner is full of ink


def test_a_second_layer_neuron_is_ranked_by_its_own_weighted_sum():
    amounts = [3, 16, 0, 9]
    probe = probe_neuron(region_detector(), images_with_corner_ink(amounts), layer=2, neuron=0, count=2, average_of=1)
    np.testing.assert_array_equal(probe.most_exciting, [1, 3])  # z2 = sigmoid(amount): the same order
    np.testing.assert_allclose(probe.weighted_sums, 0.5 * (1 + np.tanh(0.5 * np.array(amounts))), rtol=1e-6)


def test_saturated_activations_still_rank_by_weighted_sum():
    # Corner ink 16 s with bias 4: z = 24, 44, 34, which all give a = 1.0 exactly in float32;
    # the ranking must still put z = 44 first.
    network = region_detector()
    network.biases[0][1] = 4.0
    images = np.zeros((3, 28, 28), np.float32)
    for k, s in enumerate([20 / 16, 40 / 16, 30 / 16]):
        images[k, :4, :4] = s
    probe = probe_neuron(network, images.reshape(3, 784), layer=1, neuron=1, count=3, average_of=1)
    assert (probe.activations == 1.0).all()
    np.testing.assert_array_equal(probe.most_exciting, [1, 2, 0])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), layer=st.integers(1, 3), count=st.integers(1, 30))
def test_rankings_hold_for_any_network(seed, layer, count):
    rng = np.random.default_rng(seed)
    network = Network((784, 7, 5, 10), seed=seed)
    images = rng.uniform(0, 1, (30, 784)).astype(np.float32)
    neuron = int(rng.integers(network.layer_sizes[layer]))
    probe = probe_neuron(network, images, layer, neuron, count=count, average_of=count)
    z = probe.weighted_sums
    np.testing.assert_allclose(z, network.trace(images).weighted_sums[layer - 1][:, neuron], rtol=1e-6, atol=1e-6)
    top, bottom = z[probe.most_exciting], z[probe.least_exciting]
    assert (np.diff(top) <= 0).all() and (np.diff(bottom) >= 0).all()
    rest = np.setdiff1d(np.arange(30), probe.most_exciting)
    assert len(rest) == 0 or z[rest].max() <= top.min()
    assert len(set(probe.most_exciting.tolist())) == count


def test_layer_responses_match_the_trace():
    network = Network((784, 7, 5, 10), seed=1)
    images = np.random.default_rng(2).uniform(0, 1, (4, 784))
    trace = network.trace(images)
    for layer in (1, 2, 3):
        z, a = layer_responses(network, images, layer)
        np.testing.assert_allclose(z, trace.weighted_sums[layer - 1], rtol=1e-6)
        np.testing.assert_allclose(a, trace.activations[layer], rtol=1e-6)


@pytest.mark.parametrize("arguments, words", [
    ({"layer": 0}, "layer 0: choose a layer from 1 to 3"),
    ({"layer": 4}, "choose a layer from 1 to 3"),
    ({"layer": True}, "choose a layer"),
    ({"neuron": 7}, "layer 1 has neurons 0-6"),
    ({"neuron": -1}, "layer 1 has neurons 0-6"),
    ({"count": 0}, "count 0: need a whole number from 1 to 5"),
    ({"count": 6}, "from 1 to 5"),
    ({"average_of": 2.5}, "average_of 2.5"),
])
def test_bad_probes_are_one_line(arguments, words):
    network = Network((784, 7, 5, 10))
    with pytest.raises(DigitnetError) as caught:
        probe_neuron(network, np.zeros((5, 784)), **{"layer": 1, "neuron": 0, "count": 1, **arguments})
    assert words in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(DigitnetError, match="784"):
        probe_neuron(network, np.zeros((5, 28, 28)), 1, 0, count=1)
