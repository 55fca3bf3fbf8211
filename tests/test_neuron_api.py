"""The neuron lab's routes (/api/lab/*): each with good input checked against the library's own
answer, each kind of bad input a 4xx with one line, two pages' edits independent, and a saved
edited model that loads while the original file stays byte for byte the same."""

from __future__ import annotations

import base64
import io
import json
import shutil
import threading
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image, ImageDraw

with warnings.catch_warnings():  # starlette suggests httpx2 for its TestClient; httpx is what we have
    warnings.filterwarnings("ignore", message=".*httpx2")
    from fastapi.testclient import TestClient

from digitnet.editing import apply_edits, edits_from_json
from digitnet.insight import dream, explain
from digitnet.modelfile import default_model_path, load_model, save_model
from digitnet.network import Network
from digitnet.web import create_app

BIAS_UP_2 = {"kind": "bias", "layer": 3, "neuron": 2, "value": 40}   # the "2" output fires for any input
OFF_1_3 = {"kind": "off", "layer": 1, "neuron": 3}


def local_client(app):
    """A page of the server as the browser on this computer opens it (the server answers only to its own names)."""
    return TestClient(app, base_url="http://127.0.0.1")


@pytest.fixture(scope="module")
def client():
    return local_client(create_app())


@pytest.fixture
def models_dir(tmp_path):
    shutil.copy(default_model_path(), tmp_path / "video.safetensors")
    save_model(tmp_path / "small.safetensors", Network((784, 8, 10), seed=1), {"history": []})
    return tmp_path


@pytest.fixture(scope="module")
def folder_client(tmp_path_factory):
    """A server with a models folder of its own for the whole module (fuzzed saves land there)."""
    folder = tmp_path_factory.mktemp("models")
    shutil.copy(default_model_path(), folder / "video.safetensors")
    return local_client(create_app(models_dir=folder))


def assert_clear_error(response, status):
    """A 4xx whose body is exactly {"detail": one line of text}; returns the line."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str) and body["detail"]
    assert "\n" not in body["detail"]
    return body["detail"]


def drawn_seven():
    image = Image.new("RGB", (280, 280), "black")
    pen = ImageDraw.Draw(image)
    pen.line([(60, 50), (220, 50), (120, 240)], fill="white", width=23)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def edited_network(network, items):
    return apply_edits(network, edits_from_json(items))


# ---- the edits every lab route takes: each kind of mistake ------------------------------------------

BAD_EDITS = [
    ([{"kind": "grow", "layer": 1, "neuron": 0}], "does not match any of the expected tags"),
    ([{"layer": 1, "neuron": 0}], "kind"),
    ([{"kind": "off", "layer": 0, "neuron": 0}], "greater than or equal to 1"),
    ([{"kind": "off", "layer": 4, "neuron": 0}], "edits[0]: layer 4 does not exist"),
    ([OFF_1_3, {"kind": "off", "layer": 2, "neuron": 16}], "edits[1]: layer 2 has neurons 0-15, not 16"),
    ([{"kind": "off", "layer": 1, "neuron": -1}], "greater than or equal to 0"),
    ([{"kind": "off", "layer": "1", "neuron": 0}], "valid integer"),
    ([{"kind": "off", "layer": 1.5, "neuron": 0}], "valid integer"),
    ([{"kind": "bias", "layer": 1, "neuron": 0}], "value: missing"),
    ([{"kind": "bias", "layer": 1, "neuron": 0, "value": "3"}], "valid number"),
    ([{"kind": "bias", "layer": 1, "neuron": 0, "value": 1e9}], "less than or equal to 1000"),
    ([{"kind": "scale", "layer": 1, "neuron": 0, "factor": -1e3}], "greater than or equal to -100"),
    ([{"kind": "scale", "layer": 1, "neuron": 0, "value": 2}], "Extra inputs are not permitted"),
    ([{"kind": "weights", "layer": 1, "neuron": 0, "weights": [0.1] * 783}], "has 784 incoming weights, not 783"),
    ([{"kind": "weights", "layer": 2, "neuron": 0, "weights": [0.1] * 784}], "has 16 incoming weights, not 784"),
    ([{"kind": "weights", "layer": 1, "neuron": 0, "weights": [None] * 784}], "valid number"),
    ([{"kind": "weights", "layer": 1, "neuron": 0, "weights": [500.0] * 784}], "less than or equal to 100"),
    ([OFF_1_3] * 1001, "at most 1000"),
    ({"kind": "off"}, "valid list"),
    ("off", "valid list"),
]


@pytest.mark.parametrize("edits, words", BAD_EDITS)
@pytest.mark.parametrize("route, body", [
    ("/api/lab/predict", {"pixels": [0.0] * 784}), ("/api/lab/evaluate", {}),
    ("/api/lab/probe", {"layer": 1, "neuron": 0}), ("/api/lab/dream", {"digit": 3, "steps": 1}),
    ("/api/lab/explain", {"pixels": [0.5] * 784})])
def test_every_lab_route_refuses_each_kind_of_bad_edit_in_one_line(client, route, body, edits, words):
    assert words in assert_clear_error(client.post(route, json={**body, "edits": edits}), 422)


@pytest.mark.parametrize("raw", [
    '{"pixels": [0], "edits": [{"kind": "bias", "layer": 1, "neuron": 0, "value": NaN}]}',
    '{"edits": [{"kind": "bias", "layer": 1, "neuron": 0, "value": Infinity}]}',
    '{"edits": [{"kind": "weights", "layer": 1, "neuron": 0, "weights": [NaN]}]}',
    '{"edits": [', '{"edits": []} trailing'])
def test_non_finite_numbers_and_broken_json_are_refused(client, raw):
    response = client.post("/api/lab/evaluate", content=raw, headers={"content-type": "application/json"})
    assert_clear_error(response, 422)
    assert client.post("/api/lab/evaluate", json={}).status_code == 200  # and the server keeps serving


def test_edits_must_fit_the_model_the_page_names(models_dir):
    client = local_client(create_app(models_dir=models_dir))
    fits_video = [{"kind": "off", "layer": 2, "neuron": 12}]
    assert client.post("/api/lab/evaluate?model=video.safetensors", json={"edits": fits_video}).status_code == 200
    detail = assert_clear_error(client.post("/api/lab/evaluate?model=small.safetensors", json={"edits": fits_video}), 422)
    assert "layer 2 has neurons 0-9, not 12" in detail
    assert_clear_error(client.post("/api/lab/evaluate?model=nope.safetensors", json={}), 404)


# ---- /api/lab/predict ------------------------------------------------------------------------------

def test_predict_without_edits_is_the_plain_prediction(client):
    body = {"image": drawn_seven()}
    plain, lab = client.post("/api/predict", json=body).json(), client.post("/api/lab/predict", json=body).json()
    for field in ("input", "weighted_sums", "activations", "digit", "probabilities"):
        assert lab[field] == plain[field]
    assert lab["digit"] == lab["original_digit"] == 7 and lab["original_probabilities"] == plain["probabilities"]


def test_predict_with_edits_gives_every_z_and_a_of_the_edited_network(client, network, test_set):
    images, _ = test_set
    edits = [OFF_1_3, {"kind": "scale", "layer": 2, "neuron": 5, "factor": 3}, BIAS_UP_2]
    answer = client.post("/api/lab/predict", json={"pixels": images[0].tolist(), "edits": edits}).json()
    trace = edited_network(network, edits).trace(images[:1])
    for got, expected in zip(answer["weighted_sums"], trace.weighted_sums):
        assert got == pytest.approx(expected[0].tolist(), abs=1e-5)
    for got, expected in zip(answer["activations"], trace.activations):
        assert got == pytest.approx(expected[0].tolist(), abs=1e-5)
    assert answer["activations"][1][3] == 0.0  # switched off
    assert answer["digit"] == 2 and answer["original_digit"] == int(network.predict_digit(images[:1])[0]) == 7


def test_painted_weights_turn_a_neuron_into_the_videos_region_detector(client, test_set):
    region = np.zeros((28, 28))
    region[5:10, 10:18] = 1.0  # weights 1 in a band near the top, 0 elsewhere; bias -10
    edits = [{"kind": "weights", "layer": 1, "neuron": 0, "weights": region.ravel().tolist()},
             {"kind": "bias", "layer": 1, "neuron": 0, "value": -10}]
    images, _ = test_set
    ink = (images.reshape(-1, 28, 28)[:, 5:10, 10:18]).sum(axis=(1, 2))
    for index in (int(ink.argmax()), int(ink.argmin())):
        answer = client.post("/api/lab/predict", json={"pixels": images[index].tolist(), "edits": edits}).json()
        assert answer["weighted_sums"][0][0] == pytest.approx(ink[index] - 10, abs=1e-4)
    assert ink.max() > 15 and ink.min() == 0  # so one fired and one did not


def test_predict_refuses_a_bad_drawing_as_the_plain_route_does(client):
    assert "exactly one of image" in assert_clear_error(client.post("/api/lab/predict", json={"edits": []}), 422)
    blank = Image.new("RGB", (50, 50))
    buffer = io.BytesIO()
    blank.save(buffer, "PNG")
    detail = assert_clear_error(client.post("/api/lab/predict", json={
        "image": base64.b64encode(buffer.getvalue()).decode()}), 422)
    assert "blank" in detail


# ---- /api/lab/evaluate and /api/lab/test-images ----------------------------------------------------

def test_evaluate_without_edits_changes_nothing(client, network, test_set):
    images, labels = test_set
    result = client.post("/api/lab/evaluate", json={"edits": []}).json()
    assert result["accuracy"] == result["original_accuracy"] == pytest.approx(network.accuracy(images, labels), abs=2e-4)
    assert result["changed"] == [] and result["changed_count"] == result["fixed_count"] == result["broken_count"] == 0
    assert result["total"] == 10_000 and sum(d["count"] for d in result["per_digit"]) == 10_000
    assert all(d["change"] == 0 for d in result["per_digit"])
    scale_one = [{"kind": "scale", "layer": layer, "neuron": 0, "factor": 1} for layer in (1, 2, 3)]
    assert client.post("/api/lab/evaluate", json={"edits": scale_one}).json()["changed_count"] == 0


def test_evaluate_with_an_edit_agrees_with_the_edited_network(client, network, test_set):
    images, labels = test_set
    result = client.post("/api/lab/evaluate", json={"edits": [OFF_1_3]}).json()
    before, after = network.predict_digit(images), edited_network(network, [OFF_1_3]).predict_digit(images)
    assert result["accuracy"] == pytest.approx((after == labels).mean(), abs=5e-4)  # a near tie may round either way
    expected_changed = set(np.flatnonzero(before != after).tolist())
    got_changed = {c["index"] for c in result["changed"]}
    assert len(got_changed ^ expected_changed) <= 5 and result["changed_count"] == len(got_changed) > 100
    for change in result["changed"][:50]:
        i = change["index"]
        assert (change["label"], change["old_guess"], change["new_guess"]) == (labels[i], before[i], after[i])
    assert [c["index"] for c in result["changed"]] == sorted(got_changed)
    assert result["fixed_count"] - result["broken_count"] == result["correct"] - round(result["original_accuracy"] * 10_000)
    for digit in result["per_digit"]:
        mask = labels == digit["digit"]
        assert digit["count"] == mask.sum()
        assert digit["accuracy"] == pytest.approx((after[mask] == labels[mask]).mean(), abs=2e-3)
        assert digit["change"] == pytest.approx(digit["accuracy"] - digit["original_accuracy"], abs=1e-5)


def test_evaluate_lists_at_most_a_thousand_changes_but_counts_them_all(client):
    all_but_zero = [{"kind": "off", "layer": 3, "neuron": d} for d in range(1, 10)]  # every answer becomes 0
    result = client.post("/api/lab/evaluate", json={"edits": all_but_zero}).json()
    assert result["accuracy"] == pytest.approx(0.098, abs=1e-3)  # MNIST's 980 zeros
    assert result["changed_count"] > 8000 and len(result["changed"]) == 1000 and result["changed_truncated"]
    assert all(c["new_guess"] == 0 for c in result["changed"])


def test_changed_images_can_be_fetched(client, test_set):
    images, labels = test_set
    changed = client.post("/api/lab/evaluate", json={"edits": [OFF_1_3]}).json()["changed"][:5]
    asked = [c["index"] for c in changed][::-1]
    got = client.get("/api/lab/test-images", params={"indices": ",".join(map(str, asked))}).json()["images"]
    assert [g["index"] for g in got] == asked
    for image in got:
        assert image["label"] == labels[image["index"]]
        assert np.allclose(np.array(image["pixels"]) / 255, images[image["index"]], atol=0.5 / 255 + 1e-6)


@pytest.mark.parametrize("indices, words", [
    ("x", "'x' is not a test image index"), ("-1", "'-1'"), ("10000", "'10000'"), ("1,,2", "''"),
    ("1.5", "'1.5'"), (",".join(["1"] * 101), "too many"), ("", "at least 1 character"), ("١", "'١'")])
def test_test_images_refuse_bad_indices(client, indices, words):
    assert words in assert_clear_error(client.get("/api/lab/test-images", params={"indices": indices}), 422)
    assert_clear_error(client.get("/api/lab/test-images"), 422)


# ---- /api/lab/save ---------------------------------------------------------------------------------

def test_a_saved_edited_model_is_served_and_the_original_file_is_unchanged(models_dir, test_set):
    original_bytes = (models_dir / "video.safetensors").read_bytes()
    client = local_client(create_app(models_dir=models_dir))
    edits = [OFF_1_3, {"kind": "bias", "layer": 2, "neuron": 4, "value": -10}]
    evaluation = client.post("/api/lab/evaluate?model=video.safetensors", json={"edits": edits}).json()
    saved = client.post("/api/lab/save?model=video.safetensors", json={"name": "no-three", "edits": edits})
    assert saved.status_code == 200, saved.text
    answer = saved.json()
    assert answer["name"] == "no-three.safetensors" and "no-three.safetensors" in answer["models"]
    assert answer["test_accuracy"] == pytest.approx(evaluation["accuracy"]) and answer["edit_count"] == 2
    assert (models_dir / "video.safetensors").read_bytes() == original_bytes
    loaded = load_model(models_dir / "no-three.safetensors")
    assert edits_from_json(loaded.metadata["edits"]) == edits_from_json(edits)
    assert loaded.metadata["edited_from"]["file"] == "video.safetensors"
    # The saved model, named as any other, answers as the edited network did.
    pixels = test_set[0][0].tolist()
    as_edits = client.post("/api/lab/predict?model=video.safetensors", json={"pixels": pixels, "edits": edits}).json()
    as_file = client.post("/api/predict?model=no-three.safetensors", json={"pixels": pixels}).json()
    for got, expected in zip(as_file["activations"], as_edits["activations"]):
        assert got == pytest.approx(expected, abs=1e-6)
    assert client.get("/api/model?model=no-three.safetensors").json()["training"]["test_accuracy"] == \
        pytest.approx(evaluation["accuracy"])


def test_save_never_overwrites(models_dir):
    client = local_client(create_app(models_dir=models_dir))
    before = (models_dir / "small.safetensors").read_bytes()
    for name in ("small.safetensors", "small", "video.safetensors"):
        detail = assert_clear_error(client.post("/api/lab/save", json={"name": name, "edits": [OFF_1_3]}), 409)
        assert "already exists" in detail
    assert (models_dir / "small.safetensors").read_bytes() == before


@pytest.mark.parametrize("name", ["../outside", "../outside.safetensors", "/tmp/outside.safetensors", "a/b",
                                  "a\\b", ".hidden", "..", "x..safetensors", "name with spaces", "naïve", "", " ",
                                  "x" * 101])
def test_save_refuses_names_that_are_not_a_plain_file_of_the_folder(models_dir, name):
    client = local_client(create_app(models_dir=models_dir))
    before = sorted(p.name for p in models_dir.parent.rglob("*"))
    assert_clear_error(client.post("/api/lab/save", json={"name": name, "edits": [OFF_1_3]}), 422)
    assert sorted(p.name for p in models_dir.parent.rglob("*")) == before


def test_save_needs_edits_and_a_models_folder(client, models_dir):
    assert "nowhere to save" in assert_clear_error(client.post("/api/lab/save", json={"name": "x", "edits": [OFF_1_3]}), 409)
    folder_client = local_client(create_app(models_dir=models_dir))
    assert "nothing to save" in assert_clear_error(folder_client.post("/api/lab/save", json={"name": "x"}), 422)
    assert_clear_error(folder_client.post("/api/lab/save", json={"edits": [OFF_1_3]}), 422)  # no name
    assert not (models_dir / "x.safetensors").exists()


# ---- two pages -------------------------------------------------------------------------------------

def test_two_pages_edits_never_reach_each_other(models_dir, test_set):
    """Two tabs at once on one server, each sending its own edits many times: each gets only its own."""
    app = create_app(models_dir=models_dir)
    pixels = test_set[0][0].tolist()  # a 7
    pages = {"bias-up-2": ([BIAS_UP_2], 2), "plain": ([], 7),
             "bias-up-5": ([{**BIAS_UP_2, "neuron": 5}], 5)}
    wrong, failures = [], []

    def page(name):
        edits, digit = pages[name]
        tab = local_client(app)
        try:
            for _ in range(15):
                answer = tab.post("/api/lab/predict", json={"pixels": pixels, "edits": edits}).json()
                accuracy = tab.post("/api/lab/evaluate", json={"edits": edits}).json()["accuracy"]
                if answer["digit"] != digit or (name == "plain") != (accuracy > 0.9):
                    wrong.append((name, answer["digit"], accuracy))
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=page, args=(name,)) for name in pages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures and not wrong
    assert local_client(app).post("/api/lab/predict", json={"pixels": pixels}).json()["digit"] == 7


# ---- /api/lab/probe --------------------------------------------------------------------------------

def test_probe_ranks_the_test_images_by_the_neurons_weighted_sum(client, network, test_set):
    images, labels = test_set
    answer = client.post("/api/lab/probe", json={"layer": 2, "neuron": 4}).json()
    z = network.trace(images).weighted_sums[1][:, 4]
    most = [image["index"] for image in answer["most_exciting"]]
    least = [image["index"] for image in answer["least_exciting"]]
    assert len(most) == len(least) == 9
    assert np.allclose([image["weighted_sum"] for image in answer["most_exciting"]], z[most], atol=1e-4)
    assert min(z[most]) >= np.sort(z)[-9] - 1e-4 and max(z[least]) <= np.sort(z)[8] + 1e-4
    top = np.argsort(-z, kind="stable")[:100]
    assert answer["average_count"] == 100 and sum(answer["label_counts_of_top"]) == 100
    assert np.allclose(answer["average_of_top"], images[top].mean(axis=0), atol=1e-3)
    assert answer["label_counts_of_top"] == np.bincount(labels[top], minlength=10).tolist()
    first = answer["most_exciting"][0]
    assert first["label"] == labels[first["index"]] and len(first["pixels"]) == 784


def test_probe_sees_the_pages_edits(client, test_set):
    images, _ = test_set
    corner = np.zeros((28, 28))
    corner[20:28, 0:10] = 1.0  # a painted detector of ink in the bottom-left corner
    edits = [{"kind": "weights", "layer": 1, "neuron": 6, "weights": corner.ravel().tolist()}]
    answer = client.post("/api/lab/probe", json={"layer": 1, "neuron": 6, "count": 3, "average_of": 10,
                                                 "edits": edits}).json()
    ink = images.reshape(-1, 28, 28)[:, 20:28, 0:10].sum(axis=(1, 2))
    assert [image["index"] for image in answer["most_exciting"]] == np.argsort(-ink, kind="stable")[:3].tolist()
    assert np.reshape(answer["average_of_top"], (28, 28))[20:28, 0:10].mean() > 0.2


@pytest.mark.parametrize("body, status, words", [
    ({"layer": 0, "neuron": 0}, 422, "greater than or equal to 1"),
    ({"layer": 4, "neuron": 0}, 422, "layer 4: choose a layer from 1 to 3"),
    ({"layer": 1, "neuron": 16}, 422, "layer 1 has neurons 0-15"),
    ({"layer": 1}, 422, "neuron: missing"),
    ({"layer": 1, "neuron": 0, "count": 0}, 422, "count"),
    ({"layer": 1, "neuron": 0, "count": 101}, 422, "count"),
    ({"layer": 1, "neuron": 0, "average_of": 10_001}, 422, "average_of"),
    ({"layer": True, "neuron": 0}, 422, "valid integer"),
])
def test_probe_refuses_bad_requests(client, body, status, words):
    assert words in assert_clear_error(client.post("/api/lab/probe", json=body), status)


# ---- /api/lab/dream and /api/lab/explain -----------------------------------------------------------

def test_dream_gives_the_library_dream_and_the_network_sees_its_digit(client, network):
    answer = client.post("/api/lab/dream", json={"digit": 3, "steps": 100}).json()
    assert np.allclose(answer["pixels"], dream(network, 3, steps=100), atol=1e-5)
    assert answer["guess"] == 3 == int(np.argmax(answer["probabilities"]))
    assert min(answer["pixels"]) >= 0 and max(answer["pixels"]) <= 1
    again = client.post("/api/lab/dream", json={"digit": 3, "steps": 100}).json()
    assert again["pixels"] == answer["pixels"]  # seeded: the same body, the same picture
    with_edit = client.post("/api/lab/dream", json={"digit": 3, "steps": 100, "edits": [OFF_1_3]}).json()
    assert with_edit["pixels"] != answer["pixels"]


@pytest.mark.parametrize("body, words", [
    ({"digit": 10}, "digit 10: this network's outputs are 0-9"), ({"digit": -1}, "greater than or equal to 0"),
    ({"digit": "3"}, "valid integer"), ({"digit": 3, "steps": 0}, "steps"), ({"digit": 3, "steps": 2001}, "steps"),
    ({}, "digit: missing")])
def test_dream_refuses_bad_requests(client, body, words):
    assert words in assert_clear_error(client.post("/api/lab/dream", json=body), 422)


def test_explain_gives_gradient_times_input_for_the_guess_or_a_chosen_digit(client, network):
    url = drawn_seven()
    answer = client.post("/api/lab/explain", json={"image": url}).json()
    inputs = np.array(answer["input"])
    assert answer["digit"] == 7
    assert np.allclose(answer["contributions"], explain(network, inputs, 7), atol=1e-4)
    assert all(c == 0 for c, x in zip(answer["contributions"], inputs) if x == 0)  # dark pixels pushed nothing
    assert answer["largest"] == pytest.approx(np.abs(answer["contributions"]).max(), abs=1e-6)
    assert answer["largest"] > 0
    other = client.post("/api/lab/explain", json={"image": url, "digit": 1}).json()
    assert other["digit"] == 1 and np.allclose(other["contributions"], explain(network, inputs, 1), atol=1e-4)
    edited = client.post("/api/lab/explain", json={"image": url, "edits": [BIAS_UP_2]}).json()
    assert edited["digit"] == 2  # the edited network's guess


@pytest.mark.parametrize("body, words", [
    ({"pixels": [0.5] * 784, "digit": 10}, "digit 10"), ({"pixels": [0.5] * 784, "digit": 2.5}, "valid integer"),
    ({"pixels": [0.5] * 10}, "at least 784"), ({}, "exactly one of image")])
def test_explain_refuses_bad_requests(client, body, words):
    assert words in assert_clear_error(client.post("/api/lab/explain", json=body), 422)


def test_every_lab_route_is_described_at_docs(client):
    paths = set(client.get("/openapi.json").json()["paths"])
    assert {"/api/lab/predict", "/api/lab/evaluate", "/api/lab/test-images", "/api/lab/save", "/api/lab/probe",
            "/api/lab/dream", "/api/lab/explain"} <= paths
    assert "/api/lab/probe" in client.get("/docs").text


# ---- anything at all -------------------------------------------------------------------------------

odd_values = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=4)
              | st.lists(st.floats(-200, 200), max_size=3))
edit_like = st.fixed_dictionaries(
    {}, optional={"kind": st.sampled_from(["bias", "scale", "weights", "off", "grow"]) | odd_values,
                  "layer": st.integers(-1, 5) | odd_values, "neuron": st.integers(-1, 17) | odd_values,
                  "value": odd_values, "factor": odd_values,
                  "weights": st.sampled_from([[0.1] * 784, [0.1] * 16, [float("nan")] * 784]) | odd_values,
                  "extra": odd_values})
lab_bodies = st.fixed_dictionaries({}, optional={
    "edits": st.lists(edit_like, max_size=3) | odd_values, "pixels": st.sampled_from([[0.2] * 784]) | odd_values,
    "layer": st.integers(-1, 5) | odd_values, "neuron": st.integers(-1, 17) | odd_values,
    "digit": st.integers(-1, 11) | odd_values, "steps": st.integers(-1, 3) | odd_values,
    "count": st.integers(-1, 101) | odd_values, "average_of": odd_values, "name": st.text(max_size=8) | odd_values})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(["predict", "evaluate", "probe", "dream", "explain", "save"]), body=lab_bodies)
def test_any_body_to_any_lab_route_is_an_answer_or_a_one_line_4xx(folder_client, route, body):
    response = folder_client.post(f"/api/lab/{route}", content=json.dumps(body), headers={"content-type": "application/json"})
    if response.status_code >= 400:  # a 5xx would raise here: TestClient re-raises server errors
        assert_clear_error(response, response.status_code)
        assert response.status_code < 500


def test_pages_saving_one_name_at_once_make_one_file_and_the_rest_are_told(models_dir):
    app = create_app(models_dir=models_dir)
    statuses = []
    barrier = threading.Barrier(4)

    def save(neuron):
        tab = local_client(app)
        barrier.wait()
        response = tab.post("/api/lab/save", json={"name": "race", "edits": [{**OFF_1_3, "neuron": neuron}]})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=save, args=(neuron,)) for neuron in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409, 409, 409]
    saved = load_model(models_dir / "race.safetensors")
    assert len(saved.metadata["edits"]) == 1
    assert sorted(p.name for p in models_dir.iterdir()) == ["race.safetensors", "small.safetensors", "video.safetensors"]


def test_another_site_cannot_save_or_evaluate_through_the_users_browser(models_dir):
    client = local_client(create_app(models_dir=models_dir))
    for route, body in (("/api/lab/save", {"name": "evil", "edits": [OFF_1_3]}), ("/api/lab/evaluate", {})):
        response = client.post(route, json=body, headers={"Origin": "http://evil.example"})
        assert_clear_error(response, 403)
    assert not (models_dir / "evil.safetensors").exists()


# ---- far from digits -------------------------------------------------------------------------------

def canvas(strokes) -> str:
    """A 280x280 pad as the page sends it (white ink on black) with `strokes(pen)` drawn, as a data URL."""
    image = Image.new("RGB", (280, 280), "black")
    strokes(ImageDraw.Draw(image))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


SHAPES = {
    "X": (lambda pen: (pen.line((60, 60, 220, 220), fill="white", width=23),
                       pen.line((220, 60, 60, 220), fill="white", width=23)), True),
    "smiley": (lambda pen: (pen.ellipse((40, 40, 240, 240), outline="white", width=16),
                            pen.ellipse((95, 95, 120, 120), fill="white"), pen.ellipse((160, 95, 185, 120), fill="white"),
                            pen.arc((85, 110, 195, 200), 20, 160, fill="white", width=16)), True),
    "dot": (lambda pen: pen.ellipse((130, 130, 152, 152), fill="white"), True),
    "3": (lambda pen: (pen.arc((90, 40, 190, 140), 180, 90, fill="white", width=23),
                       pen.arc((80, 130, 190, 240), 270, 160, fill="white", width=23)), False),
    "7": (lambda pen: pen.line([(60, 50), (220, 50), (120, 240)], fill="white", width=23), False),
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("route", ["/api/predict", "/api/lab/predict"])
def test_the_answer_says_when_a_drawing_is_far_from_every_digit(client, route, shape):
    strokes, far = SHAPES[shape]
    answer = client.post(route, json={"image": canvas(strokes)}).json()
    familiarity = answer["familiarity"]
    assert familiarity["is_far"] is far and familiarity["threshold"] == 1.0
    assert (familiarity["score"] > 1.0) is far
    if not far:
        assert answer["digit"] == int(shape)


def test_real_test_digits_are_near_and_the_signal_ignores_edits(client, test_set):
    images, _ = test_set
    scores = []
    for index in range(0, 20):
        plain = client.post("/api/predict", json={"pixels": images[index].tolist()}).json()["familiarity"]
        edited = client.post("/api/lab/predict", json={"pixels": images[index].tolist(), "edits": [BIAS_UP_2]}).json()
        assert edited["familiarity"] == plain  # a property of the input, not of the network
        scores.append(plain["is_far"])
    assert sum(scores) <= 2  # 4.4% of MNIST's test digits are flagged: its oddest scrawls


def test_the_server_prepares_the_test_set_and_training_digits_before_the_first_page_asks():
    app = create_app()
    state = app.state.explorer
    state.prepare_in_background().join(timeout=120)
    assert state._training_digits is not None and state._test_set is not None
    answer = local_client(app).post("/api/predict", json={"image": canvas(SHAPES["X"][0])}).json()
    assert answer["familiarity"]["is_far"]
