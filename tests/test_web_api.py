"""Tests for digitnet.web's JSON API: every endpoint, with good input and with every kind of bad input.

Bad input must give a 4xx with one readable line in {"detail": "..."} (never a 500), and the server
must keep answering afterwards.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import socket
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

with warnings.catch_warnings():  # starlette suggests httpx2 for its TestClient; httpx is what we have
    warnings.filterwarnings("ignore", message=".*httpx2")
    from fastapi.testclient import TestClient

from digitnet.errors import DigitnetError
from digitnet.modelfile import default_model_path, save_model
from digitnet.network import Network
from digitnet.preprocess import to_network_input
from digitnet.web import create_app, serve
from digitnet.web.middleware import MAX_BODY_BYTES


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(), base_url="http://127.0.0.1")


@pytest.fixture
def models_dir(tmp_path):
    """A models folder: the shipped model, a smaller 784-8-10 one, and a file that is not a model."""
    shutil.copy(default_model_path(), tmp_path / "video.safetensors")
    save_model(tmp_path / "small.safetensors", Network((784, 8, 10), seed=1), {"history": []})
    (tmp_path / "broken.safetensors").write_bytes(b"this is not a model file at all")
    (tmp_path / "notes.txt").write_text("not listed: only *.safetensors files are")
    return tmp_path


def png_data_url(draw=None, size=280, stroke=23):
    """A canvas-like PNG (white ink on black) as a data URL; `draw(pen)` draws on it."""
    image = Image.new("RGB", (size, size), "black")
    if draw:
        draw(ImageDraw.Draw(image), stroke)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def draw_one(pen, stroke):
    pen.line([(140, 40), (136, 240)], fill="white", width=stroke)


def assert_clear_error(response, status):
    """A 4xx whose body is exactly {"detail": one line of text}."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str) and body["detail"]
    assert "\n" not in body["detail"]
    return body["detail"]


# ---- the page --------------------------------------------------------------------------------------

def test_page_and_every_asset_it_names_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    names = set(re.findall(r'/static/([\w.-]+)', page.text))
    assert {"app.js", "style.css"} <= names
    scripts = [client.get(f"/static/{name}") for name in names]
    assert all(r.status_code == 200 for r in scripts)
    # The modules import each other: follow every import too.
    imported = set()
    for response in scripts:
        imported |= set(re.findall(r'from "\./([\w.-]+\.js)"', response.text))
    for name in imported:
        response = client.get(f"/static/{name}")
        assert response.status_code == 200 and "javascript" in response.headers["content-type"]
    # Offline: nothing is fetched from anywhere else (no CDN, no web fonts).
    everything = page.text + "".join(client.get(f"/static/{n}").text for n in names | imported)
    assert not re.search(r"""(src|href)\s*=\s*["']https?:|from\s+["']https?:|url\(\s*["']?https?:|@import""", everything)


def test_unknown_static_file_is_404(client):
    assert_clear_error(client.get("/static/secrets.py"), 404)
    assert client.get("/static/..%2Fserver.py").status_code == 404


def test_openapi_documents_every_endpoint(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/model", "/api/model/select", "/api/predict", "/api/neuron/{layer}/{index}",
            "/api/layer/{layer}", "/api/examples"} <= set(paths)


def test_the_api_page_lists_every_call_and_works_offline(client):
    # FastAPI's own /docs loads Swagger from a CDN; ours is plain HTML from the same description.
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for path in client.get("/openapi.json").json()["paths"]:
        assert path in page.text
    assert "<script" not in page.text and "https://" not in page.text and "http://" not in page.text
    assert client.get("/redoc").status_code == 404


# ---- /api/model ------------------------------------------------------------------------------------

def test_model_describes_the_video_network_and_its_training(client, network):
    info = client.get("/api/model").json()
    assert info["name"] == "default.safetensors"
    assert info["layer_sizes"] == [784, 16, 16, 10]
    assert info["parameter_count"] == 13_002
    assert info["layer_activations"] == ["input", "sigmoid", "sigmoid", network.output]
    training = info["training"]
    assert training["epochs"] == len(training["history"]) >= 1
    assert 0.9 < training["best_validation_accuracy"] <= 1 and 0.9 < training["test_accuracy"] <= 1
    assert info["models"] is None  # started without a models folder


# ---- /api/predict ----------------------------------------------------------------------------------

def test_predict_pixels_gives_every_layer_as_the_network_computes_it(client, network, test_set):
    images, labels = test_set
    answer = client.post("/api/predict", json={"pixels": images[0].tolist()}).json()
    trace = network.trace(images[:1])
    assert answer["input"] == pytest.approx(images[0].tolist(), abs=1e-6)
    assert [len(a) for a in answer["activations"]] == [784, 16, 16, 10]
    assert [len(z) for z in answer["weighted_sums"]] == [16, 16, 10]
    for got, expected in zip(answer["weighted_sums"], trace.weighted_sums):
        assert got == pytest.approx(expected[0].tolist(), abs=1e-5)
    for got, expected in zip(answer["activations"], trace.activations):
        assert got == pytest.approx(expected[0].tolist(), abs=1e-5)
    assert answer["digit"] == int(network.predict_digit(images[:1])[0]) == labels[0]
    assert sum(answer["probabilities"]) == pytest.approx(1, abs=1e-4)
    assert answer["digit"] == int(np.argmax(answer["probabilities"]))


def test_predict_accepts_whole_numbers_as_pixels(client):
    pixels = [0] * 784
    pixels[300:310] = [1] * 10
    assert client.post("/api/predict", json={"pixels": pixels}).status_code == 200


def test_predict_drawing_is_prepared_like_the_cli_does(client):
    url = png_data_url(draw_one)
    answer = client.post("/api/predict", json={"image": url}).json()
    expected = to_network_input(base64.b64decode(url.split(",", 1)[1]))
    assert answer["input"] == pytest.approx(expected.tolist(), abs=1e-6)
    assert answer["digit"] == 1
    bare = client.post("/api/predict", json={"image": url.split(",", 1)[1]})  # bare base64 works too
    assert bare.status_code == 200 and bare.json()["digit"] == 1


def test_a_key_with_a_line_break_still_gets_one_line(client):
    """Unknown keys are named in the error; a key is the sender's text and may hold a line break."""
    for route in ("/api/predict", "/api/model/select"):
        detail = assert_clear_error(client.post(route, json={"a\nb\u2028c": 1}), 422)
        assert "'a\\nb\\u2028c'" in detail


def test_predict_says_where_the_server_time_went(client):
    """Server-Timing names each stage of a drawing's answer; the stages ran inside the handler, so
    they add up to at most its total (each figure rounded to 0.01 ms)."""
    from digitnet.web.timing import parse_server_timing

    response = client.post("/api/predict", json={"image": png_data_url(draw_one)})
    stages = parse_server_timing(response.headers["server-timing"])
    assert list(stages) == ["wait", "model", "prepare", "familiarity", "network", "json", "total"]
    assert all(milliseconds >= 0 for milliseconds in stages.values())
    assert sum(stages.values()) - stages["total"] <= stages["total"] + 0.01 * len(stages)
    assert stages["prepare"] > 0  # a PNG was decoded and prepared
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize("body, expected", [
    ({"pixels": [0.5] * 783}, "at least 784"),
    ({"pixels": [0.5] * 785}, "at most 784"),
    ({"pixels": [[0.5] * 28] * 28}, "valid number"),
    ({"pixels": ["0.5"] * 784}, "valid number"),
    ({"pixels": [True] * 784}, "valid number"),
    ({"pixels": [None] * 784}, "valid number"),
    ({"pixels": [1.5] + [0.0] * 783}, "less than or equal to 1"),
    ({"pixels": [-0.1] + [0.0] * 783}, "greater than or equal to 0"),
    ({"pixels": "0.5"}, "valid list"),
    ({}, "exactly one of image"),
    ({"image": None, "pixels": None}, "exactly one of image"),
    ({"image": png_data_url(draw_one), "pixels": [0.0] * 784}, "exactly one of image"),
    ({"pixels": [0.0] * 784, "label": 3}, "label: Extra inputs are not permitted"),
    ({"image": 12}, "valid string"),
    ({"image": "data:image/png;base64,%%%not base64%%%"}, "not valid base64"),
    ({"image": "data:image/png;base64," + base64.b64encode(b"GIF? no, just text").decode()}, "image"),
    ({"image": ""}, "image"),
    ({"image": png_data_url()}, "blank"),
    ([0.5] * 784, "must be a JSON object"),
    ("hello", "must be a JSON object"),
    (7, "must be a JSON object"),
])
def test_predict_refuses_bad_input_clearly(client, body, expected):
    detail = assert_clear_error(client.post("/api/predict", json=body), 422)
    assert expected in detail


@pytest.mark.parametrize("raw, expected", [
    (b'{"pixels": [NaN' + b", 0" * 783 + b"]}", "finite number"),
    (b'{"pixels": [Infinity' + b", 0" * 783 + b"]}", "finite number"),
    (b'{"pixels": [-Infinity' + b", 0" * 783 + b"]}", "finite number"),
    (b'{"pixels": [0.1, 0.2', "not valid JSON"),
    (b"", "JSON"),
    (b"\xff\xfe not utf-8", "not valid JSON"),
])
def test_predict_refuses_malformed_json_and_non_finite_numbers(client, raw, expected):
    response = client.post("/api/predict", content=raw, headers={"Content-Type": "application/json"})
    assert expected in assert_clear_error(response, 422)


def test_predict_refuses_a_body_that_is_not_json(client):
    response = client.post("/api/predict", content=b"pixels=1,2,3", headers={"Content-Type": "text/plain"})
    assert "JSON object" in assert_clear_error(response, 422)


def test_a_picture_with_too_many_pixels_is_refused_before_decoding(client):
    buffer = io.BytesIO()
    Image.new("1", (5000, 5000)).save(buffer, "PNG")  # ~3 kB of PNG, 25 megapixels
    assert len(buffer.getvalue()) < MAX_BODY_BYTES
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    assert "too large" in assert_clear_error(client.post("/api/predict", json={"image": url}), 413)


def test_oversized_body_is_refused_before_parsing_and_the_server_keeps_serving(client):
    huge = b'{"image": "' + b"A" * (MAX_BODY_BYTES + 10) + b'"}'
    detail = assert_clear_error(client.post("/api/predict", content=huge,
                                            headers={"Content-Type": "application/json"}), 413)
    assert "too large" in detail

    def chunks():  # no Content-Length: the limit must hold while reading
        for _ in range(5):
            yield b"A" * (MAX_BODY_BYTES // 4)

    assert_clear_error(client.post("/api/predict", content=chunks(),
                                   headers={"Content-Type": "application/json"}), 413)
    assert client.post("/api/predict", json={"pixels": [0.0] * 784}).status_code == 200


def test_a_body_just_under_the_limit_is_read(client):
    padding = " " * (MAX_BODY_BYTES - 20_000)  # JSON allows whitespace; the body is still valid
    body = ('{"pixels": [' + ", ".join(["0"] * 784) + "]" + padding + "}").encode()
    assert len(body) <= MAX_BODY_BYTES
    response = client.post("/api/predict", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200


# ---- /api/neuron and /api/layer --------------------------------------------------------------------

def test_neuron_gives_its_bias_and_incoming_weights(client, network):
    first = client.get("/api/neuron/1/7").json()
    assert first["layer"] == 1 and first["index"] == 7 and first["squish"] == "sigmoid"
    assert first["bias"] == pytest.approx(float(network.biases[0][7]), abs=1e-6)
    assert first["weights"] == pytest.approx(network.weights[0][7].tolist(), abs=1e-6)  # a 28x28 picture
    output = client.get("/api/neuron/3/9").json()
    assert len(output["weights"]) == 16 and output["squish"] == network.output


@pytest.mark.parametrize("path, status, expected", [
    ("/api/neuron/0/5", 404, "layer 0 is the input"),
    ("/api/neuron/4/0", 404, "layers 1-3"),
    ("/api/neuron/-1/0", 404, "layers 1-3"),
    ("/api/neuron/1/16", 404, "neurons 0-15"),
    ("/api/neuron/3/10", 404, "neurons 0-9"),
    ("/api/neuron/1/-1", 404, "neurons 0-15"),
    ("/api/neuron/one/0", 422, "valid integer"),
    ("/api/neuron/1/1.5", 422, "valid integer"),
    ("/api/neuron/1/99999999999999999999999", 404, "neurons 0-15"),
    ("/api/layer/0", 404, "layer 0 is the input"),
    ("/api/layer/4", 404, "layers 1-3"),
    ("/api/layer/x", 422, "valid integer"),
])
def test_bad_layer_or_neuron_is_a_clear_4xx(client, path, status, expected):
    assert expected in assert_clear_error(client.get(path), status)


def test_layer_gives_the_whole_matrix_and_biases(client, network):
    for layer, (n_out, n_in) in enumerate([(16, 784), (16, 16), (10, 16)], start=1):
        answer = client.get(f"/api/layer/{layer}").json()
        weights = np.array(answer["weights"])
        assert weights.shape == (n_out, n_in) and len(answer["biases"]) == n_out
        np.testing.assert_allclose(weights, network.weights[layer - 1], atol=1e-6)
        assert answer["row_start"] == 0 and answer["total_rows"] == n_out


def test_a_layer_too_large_for_one_answer_comes_in_parts_that_add_up(tmp_path):
    wide = Network((784, 700, 10), seed=3)  # 548,800 weights in layer 1: over one answer's 500,000
    save_model(tmp_path / "wide.safetensors", wide, {"history": []})
    client = TestClient(create_app(models_dir=tmp_path), base_url="http://127.0.0.1")
    rows, start = [], 0
    while start < 700:
        answer = client.get(f"/api/layer/1?model=wide.safetensors&row_start={start}")
        assert answer.status_code == 200 and len(answer.content) < 8_000_000
        part = answer.json()
        assert part["row_start"] == start and part["total_rows"] == 700
        assert 0 < len(part["weights"]) * 784 <= 500_000 and len(part["biases"]) == len(part["weights"])
        rows += part["weights"]
        start += len(part["weights"])
    np.testing.assert_allclose(np.array(rows), wide.weights[0], atol=1e-6)
    assert "past" in assert_clear_error(client.get("/api/layer/1?model=wide.safetensors&row_start=700"), 404)


# ---- /api/examples ---------------------------------------------------------------------------------

def test_examples_are_test_images_with_the_models_guesses_some_wrong(client, network, test_set):
    images, labels = test_set
    examples = client.get("/api/examples").json()["examples"]
    assert len(examples) == 24
    assert len({e["index"] for e in examples}) == 24
    assert {e["label"] for e in examples} == set(range(10))
    assert 1 <= sum(not e["correct"] for e in examples) < 24
    indices = [e["index"] for e in examples]
    guesses = network.predict_digit(images[indices])
    for example, guess in zip(examples, guesses):
        assert example["label"] == labels[example["index"]]
        assert example["guess"] == guess and example["correct"] == (guess == example["label"])
        pixels = np.array(example["pixels"])
        assert pixels.shape == (784,) and pixels.min() >= 0 and pixels.max() <= 255
        np.testing.assert_allclose(pixels / 255, images[example["index"]], atol=1e-6)


def test_examples_count_and_start(client):
    assert len(client.get("/api/examples?count=5").json()["examples"]) == 5
    later = client.get("/api/examples?count=5&start=9000").json()["examples"]
    assert all(e["index"] >= 9000 for e in later if e["correct"])


@pytest.mark.parametrize("query", ["count=0", "count=101", "count=ten", "count=2.5", "start=-1", "start=10000"])
def test_examples_refuse_bad_counts(client, query):
    assert_clear_error(client.get(f"/api/examples?{query}"), 422)


# ---- switching models ------------------------------------------------------------------------------

def test_select_needs_a_models_folder(client):
    assert "models folder" in assert_clear_error(client.post("/api/model/select", json={"name": "x.safetensors"}), 409)


def test_each_call_names_its_model_from_the_models_folder(models_dir):
    client = TestClient(create_app(models_dir=models_dir), base_url="http://127.0.0.1")
    info = client.get("/api/model").json()
    assert info["models"] == ["broken.safetensors", "small.safetensors", "video.safetensors"]
    selected = client.post("/api/model/select", json={"name": "small.safetensors"}).json()
    assert selected["name"] == "small.safetensors" and selected["layer_sizes"] == [784, 8, 10]
    assert selected["training"] is None or selected["training"]["epochs"] == 0
    assert client.get("/api/model?model=small.safetensors").json() == selected
    answer = client.post("/api/predict?model=small.safetensors", json={"pixels": [0.0] * 784}).json()
    assert [len(a) for a in answer["activations"]] == [784, 8, 10]
    assert len(client.get("/api/layer/1?model=small.safetensors").json()["weights"]) == 8
    assert len(client.get("/api/neuron/1/7?model=small.safetensors").json()["weights"]) == 784
    small_examples = client.get("/api/examples?count=24&model=small.safetensors").json()["examples"]
    video_examples = client.get("/api/examples?count=24&model=video.safetensors").json()["examples"]
    assert [e["guess"] for e in small_examples] != [e["guess"] for e in video_examples]  # each model's own guesses
    assert client.get("/api/model?model=video.safetensors").json()["parameter_count"] == 13_002


def test_one_page_switching_models_changes_nothing_for_another(models_dir):
    # Two pages on one server: the first selects another model; the second, naming none, still sees
    # the model the server started with, in every call.
    client = TestClient(create_app(models_dir=models_dir), base_url="http://127.0.0.1")
    client.post("/api/model/select", json={"name": "small.safetensors"})
    assert client.get("/api/model").json()["name"] == "default.safetensors"
    assert len(client.get("/api/layer/1").json()["weights"]) == 16
    answer = client.post("/api/predict", json={"pixels": [0.0] * 784}).json()
    assert [len(a) for a in answer["activations"]] == [784, 16, 16, 10]


def test_a_model_file_changed_on_disk_is_read_again(models_dir):
    client = TestClient(create_app(models_dir=models_dir), base_url="http://127.0.0.1")
    assert client.get("/api/model?model=small.safetensors").json()["layer_sizes"] == [784, 8, 10]
    (models_dir / "small.safetensors").write_bytes((models_dir / "video.safetensors").read_bytes())
    assert client.get("/api/model?model=small.safetensors").json()["layer_sizes"] == [784, 16, 16, 10]


@pytest.mark.parametrize("query, status", [("model=missing.safetensors", 404), ("model=../video.safetensors", 404),
                                           ("model=broken.safetensors", 422), ("model=", 422)])
def test_calls_refuse_a_model_the_folder_does_not_have(models_dir, query, status):
    client = TestClient(create_app(models_dir=models_dir), base_url="http://127.0.0.1")
    for response in (client.get(f"/api/model?{query}"), client.get(f"/api/layer/1?{query}"),
                     client.post(f"/api/predict?{query}", json={"pixels": [0.0] * 784})):
        assert_clear_error(response, status)


def test_a_model_file_removed_after_it_was_listed_is_a_404(models_dir, monkeypatch):
    app = create_app(models_dir=models_dir)
    assert "small.safetensors" in app.state.explorer.model_files()
    monkeypatch.setattr(app.state.explorer, "_inside_folder", lambda name: True)  # it was there when checked
    (models_dir / "small.safetensors").unlink()  # between the check and the reading
    detail = assert_clear_error(TestClient(app, base_url="http://127.0.0.1").get("/api/model?model=small.safetensors"), 404)
    assert "no longer in the models folder" in detail


def test_links_leading_out_of_the_models_folder_are_not_followed(models_dir, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere")
    shutil.copy(default_model_path(), outside / "secret.safetensors")
    (models_dir / "escape.safetensors").symlink_to(outside / "secret.safetensors")
    (models_dir / "passwd.safetensors").symlink_to("/etc/passwd")
    (models_dir / "loop.safetensors").symlink_to(models_dir / "loop.safetensors")
    (models_dir / "alias.safetensors").symlink_to(models_dir / "video.safetensors")  # inside: fine
    client = TestClient(create_app(models_dir=models_dir), base_url="http://127.0.0.1")
    listed = client.get("/api/model").json()["models"]
    assert "alias.safetensors" in listed and not {"escape.safetensors", "passwd.safetensors", "loop.safetensors"} & set(listed)
    for name in ["escape.safetensors", "passwd.safetensors", "loop.safetensors"]:
        assert_clear_error(client.get(f"/api/model?model={name}"), 404)
        assert_clear_error(client.post("/api/model/select", json={"name": name}), 404)
    assert client.get("/api/model?model=alias.safetensors").status_code == 200


def test_errors_name_files_as_the_page_knows_them_and_never_list_the_folder(models_dir):
    client = TestClient(create_app(models_dir=models_dir), base_url="http://127.0.0.1")
    answers = [client.get("/api/model?model=missing.safetensors"), client.post("/api/model/select", json={"name": "broken.safetensors"}),
               client.get("/api/layer/1?model=../video.safetensors"), client.get("/api/model?model=notes.txt")]
    for answer in answers:
        detail = answer.json()["detail"]
        assert 400 <= answer.status_code < 500 and "\n" not in detail
        assert str(models_dir) not in detail and "/tmp" not in detail  # no path of the server's machine
        assert "small.safetensors" not in detail  # never asked for: the list is /api/model's


def test_a_folder_of_many_files_is_not_listed_again_on_every_call(tmp_path, monkeypatch):
    shutil.copy(default_model_path(), tmp_path / "video.safetensors")
    for i in range(5_000):
        (tmp_path / f"run-{i:05}.txt").touch()
    client = TestClient(create_app(models_dir=tmp_path), base_url="http://127.0.0.1")
    listings = []
    real_glob = Path.glob
    monkeypatch.setattr(Path, "glob", lambda self, pattern: listings.append(pattern) or real_glob(self, pattern))
    for _ in range(20):
        assert client.post("/api/predict?model=video.safetensors", json={"pixels": [0.0] * 784}).status_code == 200
        assert client.get("/api/model").status_code == 200
    assert len(listings) <= 1  # read once, then kept until the folder changes
    (tmp_path / "new.safetensors").write_bytes((tmp_path / "video.safetensors").read_bytes())
    assert "new.safetensors" in client.get("/api/model").json()["models"]


def test_naming_a_model_needs_a_models_folder(client):
    assert "models folder" in assert_clear_error(client.get("/api/layer/1?model=x.safetensors"), 409)


def test_a_bad_model_file_is_a_clear_message_and_the_other_models_stay(models_dir):
    client = TestClient(create_app(models_dir=models_dir), base_url="http://127.0.0.1")
    detail = assert_clear_error(client.post("/api/model/select", json={"name": "broken.safetensors"}), 422)
    assert "broken.safetensors" in detail and "model" in detail
    assert client.get("/api/model").json()["name"] == "default.safetensors"
    assert client.post("/api/predict", json={"pixels": [0.0] * 784}).status_code == 200
    assert client.post("/api/predict?model=video.safetensors", json={"pixels": [0.0] * 784}).status_code == 200


@pytest.mark.parametrize("body, status", [
    ({"name": "missing.safetensors"}, 404),
    ({"name": "notes.txt"}, 404),
    ({"name": "../video.safetensors"}, 404),
    ({"name": "/etc/passwd"}, 404),
    ({"name": ""}, 422),
    ({"name": 3}, 422),
    ({}, 422),
])
def test_select_refuses_names_outside_the_folder(models_dir, body, status):
    client = TestClient(create_app(models_dir=models_dir), base_url="http://127.0.0.1")
    assert_clear_error(client.post("/api/model/select", json=body), status)


# ---- create_app and serve --------------------------------------------------------------------------

def test_create_app_refuses_a_bad_model_or_folder(tmp_path):
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 4)
    with pytest.raises(DigitnetError, match="bad.safetensors"):
        create_app(tmp_path / "bad.safetensors")
    with pytest.raises(DigitnetError, match="no such model file"):
        create_app(tmp_path / "missing.safetensors")
    with pytest.raises(DigitnetError, match="not a folder"):
        create_app(models_dir=tmp_path / "nowhere")


def test_apps_hold_their_own_model(models_dir):
    first = TestClient(create_app(models_dir=models_dir), base_url="http://127.0.0.1")
    second = TestClient(create_app(models_dir=models_dir), base_url="http://127.0.0.1")
    first.post("/api/model/select", json={"name": "small.safetensors"})
    assert second.get("/api/model").json()["layer_sizes"] == [784, 16, 16, 10]


def test_serve_explains_a_port_in_use(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(DigitnetError, match=f"cannot listen on 127.0.0.1:{port}"):
            serve(port=port)
    assert "digitnet explorer:" not in capsys.readouterr().out  # no address announced for a server that is not there


def test_serve_prints_its_address_once_listening(monkeypatch, capsys):
    import uvicorn

    def run_briefly(server):  # stands in for uvicorn's loop: "starts", is announced, then stops
        server.started = True
        time.sleep(1.0)

    opened = []
    monkeypatch.setattr(uvicorn.Server, "run", run_briefly)
    monkeypatch.setattr("webbrowser.open", opened.append)
    serve(port=8765, open_browser=True)
    assert "digitnet explorer: http://127.0.0.1:8765/" in capsys.readouterr().out
    assert opened == ["http://127.0.0.1:8765/"]


def test_numbers_that_overflow_are_one_line_never_nan_or_null(tmp_path):
    """Finite but huge weights make the weighted sums overflow float32; sigmoid outputs that all
    round to 0 make the division by their sum 0/0. Neither may reach the page as NaN, inf or null."""
    huge = Network((784, 16, 10), "sigmoid", "sigmoid", seed=0)
    huge.weights[0][...] = 3e38  # finite, but 784 of them summed is not
    save_model(tmp_path / "huge.safetensors", huge, {"history": []})
    silent = Network((784, 10), "sigmoid", "sigmoid", seed=0)
    silent.weights[0][...] = 0.0
    silent.biases[0][...] = -200.0  # sigmoid(-200) rounds to 0 in float32 for every output
    save_model(tmp_path / "silent.safetensors", silent, {"history": []})
    client = TestClient(create_app(models_dir=tmp_path), base_url="http://127.0.0.1")
    pixels = {"pixels": [1.0] * 784}
    for route in ["/api/predict", "/api/lab/predict"]:
        body = pixels if route == "/api/predict" else {**pixels, "edits": []}
        detail = assert_clear_error(client.post(f"{route}?model=huge.safetensors", json=body), 422)
        assert "overflow" in detail
        answer = client.post(f"{route}?model=silent.safetensors", json=body)
        assert answer.status_code == 200, answer.text
        assert "NaN" not in answer.text and "null" not in answer.text.replace('"familiarity":null', "")
        probabilities = answer.json()["probabilities"]
        assert all(isinstance(p, float) for p in probabilities) and abs(sum(probabilities) - 1) < 1e-4


def test_a_deskewing_model_is_shown_and_judged_on_deskewed_digits(tmp_path):
    """The record learned on deskewed digits: the page's input layer shows the digit deskewed (what the
    network sees), and the test-set figures (examples, the lab's accuracy) are on deskewed digits."""
    from digitnet.data import load_dataset
    from digitnet.deskew import deskew
    from digitnet.modelfile import load_model, shipped_models

    shutil.copy(shipped_models()["record"], tmp_path / "record.safetensors")
    client = TestClient(create_app(models_dir=tmp_path), base_url="http://127.0.0.1")
    mnist = load_dataset()
    raw = mnist.test_images[7]
    answer = client.post("/api/predict?model=record.safetensors", json={"pixels": raw.tolist()}).json()
    np.testing.assert_allclose(answer["input"], deskew(raw), atol=1e-6)
    assert np.abs(np.array(answer["input"]) - raw).max() > 0.3  # deskewing changed it: not the raw digit shown
    plain = client.post("/api/predict", json={"pixels": raw.tolist()}).json()  # the video's network: as given
    np.testing.assert_allclose(plain["input"], raw, atol=1e-6)
    record = load_model(shipped_models()["record"])
    evaluation = client.post("/api/lab/evaluate?model=record.safetensors", json={"edits": []}).json()
    assert evaluation["accuracy"] == pytest.approx(record.metadata["test_accuracy"], abs=1e-4)
    examples = client.get("/api/examples?model=record.safetensors&count=20").json()["examples"]
    upright = deskew(mnist.test_images)
    guesses = record.network.predict_digit(upright)
    assert all(example["guess"] == guesses[example["index"]] for example in examples)
    # the neuron lab: a drawing, an edited network's accuracy, a neuron's favourite test images
    lab = client.post("/api/lab/predict?model=record.safetensors", json={"pixels": raw.tolist(), "edits": []}).json()
    np.testing.assert_allclose(lab["input"], deskew(raw), atol=1e-6)
    off = [{"kind": "off", "layer": 1, "neuron": 3}]
    edited = client.post("/api/lab/evaluate?model=record.safetensors", json={"edits": off}).json()
    from digitnet.editing import Edit, apply_edits
    expected = apply_edits(record.network, [Edit("off", layer=1, neuron=3)]).accuracy(upright, mnist.test_labels)
    assert edited["accuracy"] == pytest.approx(expected, abs=1e-4)
    from digitnet.probing import probe_neuron
    probed = client.post("/api/lab/probe?model=record.safetensors", json={"layer": 1, "neuron": 3}).json()
    favourites = probe_neuron(record.network, upright, layer=1, neuron=3).most_exciting
    assert [image["index"] for image in probed["most_exciting"]] == [int(i) for i in favourites]
    first = probed["most_exciting"][0]  # shown as MNIST has it: a click deskews it once, as for any digit
    assert first["pixels"] == np.rint(mnist.test_images[first["index"]] * 255).astype(int).tolist()
    # a dream fed back is already the network's input: as_seen, it is not deskewed a second time
    dreamlike = upright[7]
    fed = client.post("/api/predict?model=record.safetensors", json={"pixels": dreamlike.tolist(), "as_seen": True})
    np.testing.assert_allclose(fed.json()["input"], dreamlike, atol=1e-6)


def test_the_shipped_models_open_by_name_with_or_without_a_models_folder(client, tmp_path):
    from digitnet.modelfile import SHIPPED_MODEL_FILES

    folder = TestClient(create_app(models_dir=tmp_path), base_url="http://127.0.0.1")
    for http in (client, folder):
        info = http.get("/api/model").json()
        assert info["shipped"] == list(SHIPPED_MODEL_FILES) == ["video", "record", "strong"]
        strong = http.post("/api/model/select", json={"name": "strong"}).json()
        assert strong["name"] == "strong" and strong["layer_sizes"] == [784, 800, 10] and not strong["deskews"]
        record = http.get("/api/model?model=record").json()
        assert record["name"] == "record" and record["deskews"] and record["training"]["test_accuracy"] > 0.975
        answer = http.post("/api/predict?model=strong", json={"pixels": [0.0] * 784})
        assert answer.status_code == 200 and len(answer.json()["activations"][1]) == 800
        assert len(http.get("/api/examples?model=record&count=12").json()["examples"]) == 12
    assert client.get("/api/model").json()["models"] is None  # no folder: nothing else to list
    assert_clear_error(client.get("/api/model?model=records"), 409)  # not a shipped name: a folder's file
