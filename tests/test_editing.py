"""editing.py: edits change a copy, never the original; each kind does what the video says; bad edits
are one-line DigitnetErrors naming the edit; the effect on a test set; saving never overwrites."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from digitnet import DigitnetError, Network
from digitnet.editing import (EDIT_KINDS, MAX_EDITS, OFF_BIAS, Edit, FastAnswers, apply_edits, check_edits, edit_effect,
                              edits_from_json, save_edited_model)
from digitnet.modelfile import default_model_path, load_model, save_model

SQUISHES = [("sigmoid", "sigmoid"), ("sigmoid", "softmax"), ("relu", "softmax"), ("tanh", "sigmoid")]


def small_network(activation="sigmoid", output="softmax", seed=0):
    return Network((784, 6, 5, 10), activation, output, seed=seed)


def images(count=20, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (count, 784)).astype(np.float32)


def snapshot(network):
    return [w.copy() for w in network.weights] + [b.copy() for b in network.biases]


def assert_same_numbers(before, network):
    for old, new in zip(before, network.weights + network.biases):
        np.testing.assert_array_equal(old, new)


# Any valid edit of the small network (784-6-5-10), drawn by hypothesis.
neurons = st.sampled_from([(1, i) for i in range(6)] + [(2, i) for i in range(5)] + [(3, i) for i in range(10)])
finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False)


@st.composite
def edits(draw):
    kind = draw(st.sampled_from(EDIT_KINDS))
    layer, neuron = draw(neurons)
    if kind == "bias":
        return Edit("bias", layer, neuron, value=draw(finite))
    if kind == "scale":
        return Edit("scale", layer, neuron, factor=draw(finite))
    if kind == "weights":
        n_in = (784, 6, 5)[layer - 1]
        return Edit("weights", layer, neuron, weights=tuple(draw(st.lists(finite, min_size=n_in, max_size=n_in))))
    return Edit("off", layer, neuron)


@settings(max_examples=30, deadline=None)
@given(edit_list=st.lists(edits(), max_size=6))
def test_the_original_network_never_changes(edit_list):
    network = small_network()
    before = snapshot(network)
    apply_edits(network, edit_list)
    assert_same_numbers(before, network)


@pytest.mark.parametrize("activation, output", SQUISHES)
def test_no_edits_and_scale_one_give_the_original_outputs_exactly(activation, output):
    network = small_network(activation, output)
    x = images()
    original = network.feedforward(x)
    np.testing.assert_array_equal(apply_edits(network, []).feedforward(x), original)
    ones = [Edit("scale", layer, neuron, factor=1.0) for layer in (1, 2, 3) for neuron in range(5)]
    np.testing.assert_array_equal(apply_edits(network, ones).feedforward(x), original)


@settings(max_examples=25, deadline=None)
@given(layer_neuron=st.sampled_from([(1, i) for i in range(6)] + [(2, i) for i in range(5)]),
       squishes=st.sampled_from(SQUISHES), seed=st.integers(0, 1000))
def test_switching_a_hidden_neuron_off_equals_zeroing_its_outgoing_weights(layer_neuron, squishes, seed):
    layer, neuron = layer_neuron
    network = small_network(*squishes, seed=seed)
    zeroed = network.copy()
    zeroed.weights[layer][:, neuron] = 0.0  # weights[layer] leads out of layer `layer`
    x = images(seed=seed)
    np.testing.assert_allclose(apply_edits(network, [Edit("off", layer, neuron)]).feedforward(x),
                               zeroed.feedforward(x), rtol=0, atol=1e-6)


@pytest.mark.parametrize("activation, output", SQUISHES)
@pytest.mark.parametrize("layer, neuron", [(1, 2), (2, 4), (3, 7)])
def test_a_switched_off_neuron_has_activation_zero_for_every_input(activation, output, layer, neuron):
    edited = apply_edits(small_network(activation, output), [Edit("off", layer, neuron)])
    trace = edited.trace(images(50))
    np.testing.assert_array_equal(trace.activations[layer][:, neuron], 0.0)
    if layer == 3:  # an output switched off is never the guess
        assert not (edited.predict_digit(images(200)) == neuron).any()


def test_off_is_applied_last_whatever_the_order():
    network = small_network()
    off_first = apply_edits(network, [Edit("off", 1, 0), Edit("bias", 1, 0, value=5.0), Edit("scale", 1, 0, factor=3.0)])
    off_last = apply_edits(network, [Edit("bias", 1, 0, value=5.0), Edit("off", 1, 0)])
    x = images()
    np.testing.assert_array_equal(off_first.feedforward(x), off_last.feedforward(x))
    np.testing.assert_array_equal(off_first.trace(x).activations[1][:, 0], 0.0)
    assert off_first.biases[0][0] == OFF_BIAS["sigmoid"]


def test_the_videos_bias_of_minus_ten_fires_only_when_the_weighted_sum_is_above_ten():
    # Weights 1 on a 5x5 region, 0 elsewhere, bias -10: z = (ink in the region) - 10.
    region = np.zeros((28, 28))
    region[10:15, 10:15] = 1.0
    edited = apply_edits(small_network(), [Edit("weights", 1, 0, weights=tuple(region.ravel())),
                                           Edit("bias", 1, 0, value=-10.0)])
    x = np.zeros((3, 784), np.float32)
    x[0].reshape(28, 28)[10:12, 10:15] = 1.0   # 10 pixels of ink in the region: z = 0
    x[1].reshape(28, 28)[10:13, 10:15] = 1.0   # 15: z = 5
    x[2].reshape(28, 28)[0:5, 0:5] = 1.0       # 25 pixels, all outside: z = -10
    trace = edited.trace(x)
    np.testing.assert_allclose(trace.weighted_sums[0][:, 0], [0.0, 5.0, -10.0], atol=1e-5)
    a = trace.activations[1][:, 0]
    assert a[1] > 0.99 and a[2] < 1e-4 and a[0] == pytest.approx(0.5)


@settings(max_examples=25, deadline=None)
@given(first=st.floats(-10, 10, allow_nan=False), second=st.floats(-10, 10, allow_nan=False), layer_neuron=neurons)
def test_scales_compose_by_multiplying(first, second, layer_neuron):
    layer, neuron = layer_neuron
    network = small_network()
    twice = apply_edits(network, [Edit("scale", layer, neuron, factor=first), Edit("scale", layer, neuron, factor=second)])
    once = apply_edits(network, [Edit("scale", layer, neuron, factor=first * second)])
    np.testing.assert_allclose(twice.weights[layer - 1][neuron], once.weights[layer - 1][neuron], rtol=1e-5, atol=1e-6)


def test_weights_then_scale_scales_the_painted_weights_and_a_later_bias_wins():
    painted = tuple(np.linspace(-1, 1, 784))
    edited = apply_edits(small_network(), [Edit("weights", 1, 3, weights=painted), Edit("scale", 1, 3, factor=2.0),
                                           Edit("bias", 1, 3, value=1.0), Edit("bias", 1, 3, value=-2.5)])
    np.testing.assert_allclose(edited.weights[0][3], 2 * np.array(painted, np.float32), rtol=1e-6)
    assert edited.biases[0][3] == -2.5


@settings(max_examples=40, deadline=None)
@given(edit_list=st.lists(edits(), max_size=5))
def test_edits_survive_json_round_trip(edit_list):
    assert edits_from_json([edit.to_json() for edit in edit_list]) == edit_list


@pytest.mark.parametrize("item, words", [
    ({"kind": "grow", "layer": 1, "neuron": 0}, "kind 'grow'"),
    ({"kind": "bias", "layer": 1, "neuron": 0}, "needs value"),
    ({"kind": "bias", "layer": 1, "neuron": 0, "value": float("nan")}, "finite"),
    ({"kind": "bias", "layer": 1, "neuron": 0, "value": float("inf")}, "finite"),
    ({"kind": "bias", "layer": 1, "neuron": 0, "value": 1e6}, "between -1000 and 1000"),
    ({"kind": "bias", "layer": 1, "neuron": 0, "value": "1"}, "need a number"),
    ({"kind": "bias", "layer": 1, "neuron": 0, "value": True}, "need a number"),
    ({"kind": "bias", "layer": 1, "neuron": 0, "value": 1, "factor": 2}, "takes no factor"),
    ({"kind": "scale", "layer": 1, "neuron": 0, "factor": -101}, "between -100 and 100"),
    ({"kind": "off", "layer": 1, "neuron": 0, "value": 0}, "takes no value"),
    ({"kind": "weights", "layer": 1, "neuron": 0, "weights": "abc"}, "list of numbers"),
    ({"kind": "weights", "layer": 1, "neuron": 0, "weights": [0.0, None]}, "weights[1]"),
    ({"kind": "weights", "layer": 1, "neuron": 0, "weights": [0.0, 1e9]}, "weights[1]"),
    ({"kind": "off", "layer": 0, "neuron": 0}, "layer 0 is the input"),
    ({"kind": "off", "layer": 1.5, "neuron": 0}, "whole number"),
    ({"kind": "off", "layer": 1, "neuron": -1}, "numbered from 0"),
    ({"kind": "off", "layer": 1}, "missing neuron"),
    ({"kind": "off", "layer": 1, "neuron": 0, "colour": "red"}, "unknown field 'colour'"),
    ("off", "need an object"),
])
def test_each_kind_of_bad_edit_is_one_line_naming_the_edit(item, words):
    with pytest.raises(DigitnetError) as caught:
        edits_from_json([{"kind": "off", "layer": 1, "neuron": 1}, item])
    message = str(caught.value)
    assert message.startswith("edits[1]: ") and words in message and "\n" not in message


def test_too_many_edits_and_a_non_list_are_refused():
    with pytest.raises(DigitnetError, match="too many"):
        edits_from_json([{"kind": "off", "layer": 1, "neuron": 0}] * (MAX_EDITS + 1))
    with pytest.raises(DigitnetError, match="need a list"):
        edits_from_json({"kind": "off"})


@pytest.mark.parametrize("edit, words", [
    (Edit("off", 4, 0), "layer 4 does not exist: this network has layers 1-3"),
    (Edit("off", 2, 5), "layer 2 has neurons 0-4, not 5"),
    (Edit("bias", 3, 10, value=0.0), "layer 3 has neurons 0-9, not 10"),
    (Edit("weights", 2, 0, weights=(0.0,) * 784), "a neuron of layer 2 has 6 incoming weights, not 784"),
    (Edit("weights", 1, 0, weights=(0.0,) * 783), "has 784 incoming weights, not 783"),
])
def test_edits_that_do_not_fit_the_network_are_refused(edit, words):
    with pytest.raises(DigitnetError, match="^edits\\[0\\]: ") as caught:
        apply_edits(small_network(), [edit])
    assert words in str(caught.value)
    check_edits(Network((784, 6, 6, 11)), [Edit("off", 2, 5)])  # fits a larger one


def test_edit_effect_counts_by_hand():
    labels = np.array([0, 0, 1, 1, 2, 3])
    before = np.array([0, 1, 1, 1, 2, 0])   # right: 0, 2, 3, 4  -> 4/6
    after = np.array([0, 0, 1, 2, 3, 0])    # right: 0, 1, 2     -> 3/6
    effect = edit_effect(labels, before, after, n_digits=4)
    assert (effect.accuracy, effect.original_accuracy, effect.correct, effect.total) == (0.5, 4 / 6, 3, 6)
    np.testing.assert_array_equal(effect.changed, [1, 3, 4])
    np.testing.assert_array_equal(effect.old_guesses, [1, 1, 2])
    np.testing.assert_array_equal(effect.new_guesses, [0, 2, 3])
    np.testing.assert_array_equal(effect.labels, [0, 1, 2])
    assert (effect.fixed_count, effect.broken_count) == (1, 2)
    np.testing.assert_allclose(effect.per_digit_accuracy, [1.0, 0.5, 0.0, 0.0])
    np.testing.assert_allclose(effect.per_digit_original, [0.5, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(effect.per_digit_count, [2, 2, 1, 1])
    with pytest.raises(DigitnetError, match="same length"):
        edit_effect(labels, before[:3], after)


@pytest.fixture
def original(tmp_path):
    path = tmp_path / "video.safetensors"
    shutil.copy(default_model_path(), path)
    return load_model(path)


def test_a_saved_edited_model_loads_as_the_edited_network_and_the_original_is_untouched(original, tmp_path):
    before = original.path.read_bytes()
    edit_list = [Edit("bias", 1, 3, value=-10.0), Edit("off", 2, 7),
                 Edit("weights", 1, 0, weights=tuple(np.linspace(-1, 1, 784)))]
    target = save_edited_model(tmp_path / "edited.safetensors", original, edit_list, test_accuracy=0.9)
    assert original.path.read_bytes() == before
    loaded = load_model(target)
    expected = apply_edits(original.network, edit_list)
    for got, want in zip(loaded.network.weights + loaded.network.biases, expected.weights + expected.biases):
        np.testing.assert_array_equal(got, want)
    meta = loaded.metadata
    assert meta["edited_from"]["file"] == "video.safetensors" and len(meta["edited_from"]["sha256"]) == 64
    assert edits_from_json(meta["edits"]) == edit_list
    assert meta["test_accuracy"] == 0.9 and meta["original_test_accuracy"] == original.metadata["test_accuracy"]
    assert meta["history"] == original.metadata["history"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edited.safetensors", "video.safetensors"]  # no temp files
    assert (os.stat(target).st_mode & 0o777) == 0o644


def test_saving_never_overwrites_and_needs_edits(original, tmp_path):
    existing = tmp_path / "taken.safetensors"
    save_model(existing, Network((784, 3, 10)))
    before = existing.read_bytes()
    with pytest.raises(DigitnetError, match="exists; choose another name"):
        save_edited_model(existing, original, [Edit("off", 1, 0)])
    assert existing.read_bytes() == before
    with pytest.raises(DigitnetError, match="no edits"):
        save_edited_model(tmp_path / "new.safetensors", original, [])
    with pytest.raises(DigitnetError, match="does not exist"):
        save_edited_model(tmp_path / "nowhere" / "new.safetensors", original, [Edit("off", 1, 0)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.safetensors", "video.safetensors"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_saving_into_a_read_only_folder_is_one_line(original, tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(DigitnetError, match="cannot write"):
            save_edited_model(folder / "new.safetensors", original, [Edit("off", 1, 0)])
    finally:
        folder.chmod(0o755)


def test_an_impossible_file_name_is_one_line(original, tmp_path):
    with pytest.raises(DigitnetError, match="cannot write"):
        save_edited_model(tmp_path / ("x" * 300 + ".safetensors"), original, [Edit("off", 1, 0)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["video.safetensors"]


@settings(max_examples=20, deadline=None)
@given(edit_list=st.lists(edits(), max_size=5), squishes=st.sampled_from(SQUISHES))
def test_fast_answers_agree_with_a_full_pass_of_the_edited_network(edit_list, squishes):
    network = small_network(*squishes)
    x = images(200, seed=3)
    answers = FastAnswers(network, x)
    np.testing.assert_array_equal(answers.guesses, network.predict_digit(x))  # the unedited path: exactly
    edited = apply_edits(network, edit_list)
    full = edited.trace(x).outputs  # (200, 10)
    fast = answers.guesses_of(edited)
    # The same answer wherever the brightest output is not a near tie (float32 rounding may break one).
    top_two = np.sort(full, axis=1)[:, -2:]
    clear = top_two[:, 1] - top_two[:, 0] > 1e-4
    np.testing.assert_array_equal(fast[clear], full.argmax(axis=1)[clear])


def test_fast_answers_refuse_a_network_of_another_shape():
    with pytest.raises(DigitnetError, match="not an edited copy"):
        FastAnswers(small_network(), images()).guesses_of(Network((784, 3, 10)))


def test_a_name_taken_is_its_own_error(original, tmp_path):
    from digitnet.editing import NameTakenError
    with pytest.raises(NameTakenError):
        save_edited_model(original.path, original, [Edit("off", 1, 0)])


def test_apply_edits_takes_edits_not_dicts():
    with pytest.raises(DigitnetError, match="edits\\[0\\]: dict is not an Edit .*edits_from_json"):
        apply_edits(small_network(), [{"kind": "off", "layer": 1, "neuron": 0}])
