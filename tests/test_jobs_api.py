"""The lab's API against a real uvicorn server: start a job, watch its Server-Sent Events, pause,
resume, stop, the saved model in /api/model's list, bad settings, the job limit, a killed worker.

Tiny networks (784-8-10), one epoch where one will do; every wait is for a condition.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi import HTTPException
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic import ValidationError

with warnings.catch_warnings():  # starlette suggests httpx2 for its TestClient; httpx is what we have
    warnings.filterwarnings("ignore", message=".*httpx2")
    from fastapi.testclient import TestClient

from digitnet import cli
from digitnet.errors import DigitnetError
from digitnet.modelfile import load_model
from digitnet.training import TrainingSettings
from digitnet.training_job import decode_snapshot
from digitnet.web import create_app
from digitnet.web.jobs import check_neurons, check_request
from digitnet.web.schemas_jobs import JobRequest
from digitnet.web.server import default_models_dir

WAIT_SECONDS = 120  # a bound on waiting for a condition, on a machine shared by many jobs
TINY = {"layers": [8], "epochs": 1, "seed": 3}


class Server:
    """A real uvicorn serving `app` on a free loopback port, in a thread."""

    def __init__(self, app):
        import uvicorn

        self.app = app
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def close(self):
        self.http.close()
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return tmp_path_factory.mktemp("lab") / "models"  # not there yet: made when the first job starts


@pytest.fixture(scope="module")
def server(models):
    server = Server(create_app(models_dir=models, create_models_dir=True))
    yield server
    server.close()


@pytest.fixture
def http(server):
    yield server.http
    for job in server.http.get("/api/jobs").json()["jobs"]:  # leave no job running for the next test
        if job["state"] not in ("finished", "stopped", "failed"):
            server.http.post(f"/api/jobs/{job['id']}/stop")
            wait_for(server.http, job["id"], lambda j: j["state"] in ("finished", "stopped", "failed"))


def events(http: httpx.Client, job_id: str, until=None):
    """The job's SSE stream as (event, data) pairs, to its end (or until `until(event, data)`)."""
    seen, name = [], None
    with http.stream("GET", f"/api/jobs/{job_id}/events", timeout=WAIT_SECONDS) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                seen.append((name, json.loads(line[len("data: "):])))
                if until is not None and until(*seen[-1]):
                    break
    return seen


def wait_for(http: httpx.Client, job_id: str, condition) -> dict:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        job = http.get(f"/api/jobs/{job_id}").json()
        if condition(job):
            return job
        time.sleep(0.05)
    pytest.fail(f"job {job_id} never got there: {job['state']}")


def start(http: httpx.Client, **body) -> dict:
    response = http.post("/api/jobs", json={**TINY, **body})
    assert response.status_code == 201, response.text
    return response.json()


def test_train_watch_and_use_the_new_model(http, models):
    lab = http.get("/api/lab").json()
    assert lab["enabled"] and lab["models_dir"] == str(models.resolve()) and lab["max_jobs"] == 1
    assert lab["defaults"]["layers"] == [16, 16] and lab["defaults"]["epochs"] == 30
    assert [preset["name"] for preset in lab["presets"]] == ["the video's network", "bigger: 100 hidden", "ReLU"]
    job = start(http, name="first")
    assert job["state"] == "starting" and job["name"] == "first.safetensors" and job["model"] == f"job:{job['id']}"
    # Held until the stream below watches: one epoch of 784-8-10 can otherwise end before it connects,
    # and a late watcher rightly gets the finished job alone (its history inside), not the live events.
    assert http.post(f"/api/jobs/{job['id']}/pause").json()["state"] == "paused"
    assert models.is_dir()  # the folder is made when the first job starts
    # While it runs, job:ID is a model for every route: the guess for a drawing uses the current weights.
    guess = http.post(f"/api/predict?model=job:{job['id']}", json={"pixels": [0.5] * 784})
    assert guess.status_code == 200 and len(guess.json()["activations"][1]) == 8

    def resume_once_watching(name, data):
        if name == "job" and data["state"] == "paused":
            assert http.post(f"/api/jobs/{job['id']}/resume").status_code == 200
        return False  # read on to the end

    stream = events(http, job["id"], until=resume_once_watching)
    names = [name for name, _ in stream]
    assert names[0] == "job" and names.count("epoch") == 1 and "progress" in names and "weights" in names, names
    final = stream[-1][1]
    assert names[-1] == "job" and final["state"] == "finished" and final["saved"] == "first.safetensors"
    assert 0.5 < final["test_accuracy"] < 1 and final["best_epoch"] == 1 and len(final["history"]) == 1
    assert http.get("/api/model").json()["models"] == ["first.safetensors"]
    saved = http.get("/api/model", params={"model": "first.safetensors"}).json()
    assert saved["layer_sizes"] == [784, 8, 10] and saved["training"]["settings"]["seed"] == 3
    assert http.get(f"/api/model?model=job:{job['id']}").json() == saved  # job:ID is now the saved file
    # The last snapshot is the saved first layer, to within half a step of 8 bits.
    snapshot = [data for name, data in stream if name == "weights"][-1]
    weights = load_model(models / "first.safetensors").network.weights[0]
    assert np.all(np.abs(decode_snapshot(snapshot) - weights) <= np.asarray(snapshot["scales"])[:, None] / 2 + 1e-12)
    comparison = http.get(f"/api/jobs/{job['id']}/compare").json()
    assert comparison["old"]["model"] is None and comparison["old"]["layer_sizes"] == [784, 16, 16, 10]
    assert comparison["new"]["accuracy"] == final["test_accuracy"] and len(comparison["new"]["per_digit_accuracy"]) == 10
    assert comparison["old"]["accuracy"] > 0.95  # the shipped model
    neuron = http.get("/api/neuron/1/0", params={"model": comparison["new"]["model"]})
    assert neuron.status_code == 200 and len(neuron.json()["weights"]) == 784


def test_the_model_trained_through_the_server_is_digitnet_train_s(http, models, tmp_path):
    # Same machine, same numpy and OpenBLAS, one BLAS thread (train sets it) and the same `train` in both:
    # the same float32 operations in the same order, so equal bit for bit (no tolerance needed).
    body = {"layers": [8], "epochs": 1, "seed": 11, "activation": "tanh", "learning_rate": 0.01, "shift_pixels": 0}
    job = start(http, **body, name="same-as-cli")
    assert cli.main(["train", "--layers", "8", "--epochs", "1", "--seed", "11", "--activation", "tanh",
                     "--learning-rate", "0.01", "--shift-pixels", "0", "--quiet",
                     "--out", str(tmp_path / "cli.safetensors")]) == 0
    wait_for(http, job["id"], lambda j: j["state"] == "finished")
    lab, reference = load_model(models / "same-as-cli.safetensors"), load_model(tmp_path / "cli.safetensors")
    for a, b in zip(lab.network.weights + lab.network.biases, reference.network.weights + reference.network.biases):
        np.testing.assert_array_equal(a, b)
    assert lab.metadata["test_accuracy"] == reference.metadata["test_accuracy"]


def test_pause_resume_and_stop_keeps_the_best_epoch(http, models):
    job = start(http, epochs=30, name="stopped")
    events(http, job["id"], until=lambda name, data: name == "progress")
    paused = http.post(f"/api/jobs/{job['id']}/pause").json()
    assert paused["state"] == "paused"
    assert http.get(f"/api/jobs/{job['id']}").json()["state"] == "paused"  # a reload sees it paused
    assert http.post(f"/api/jobs/{job['id']}/resume").json()["state"] == "running"
    events(http, job["id"], until=lambda name, data: name == "epoch")  # one epoch ended: there is a best one
    stopping = http.post(f"/api/jobs/{job['id']}/stop").json()
    assert stopping["state"] == "stopping"
    final = events(http, job["id"])[-1][1]  # a new stream: the job so far, then to its end
    assert final["state"] == "stopped" and final["saved"] == "stopped.safetensors"
    model = load_model(models / "stopped.safetensors")
    assert model.metadata["interrupted"] is True and 1 <= len(model.metadata["history"]) < 30
    assert model.metadata["best_epoch"] == final["best_epoch"]
    for verb in ("pause", "resume", "stop"):
        refused = http.post(f"/api/jobs/{job['id']}/{verb}")
        assert refused.status_code == 409 and f"nothing to {verb}" in refused.json()["detail"]


def test_job_model_is_made_again_only_when_the_weights_change(server, http):
    """Drawings on job:ID reuse one Model while the weights stand still (a paused job), and get the
    worker's newer weights as soon as it publishes them."""
    job = start(http, epochs=30, name="cached")
    events(http, job["id"], until=lambda name, data: name == "progress")
    http.post(f"/api/jobs/{job['id']}/pause")
    registry = server.app.state.explorer.jobs
    training = registry.get(job["id"]).training
    deadline = time.monotonic() + WAIT_SECONDS
    while True:  # the worker pauses at its next check: until then it may publish once more
        first = registry.model(job["id"])
        time.sleep(0.5)  # two report periods (update_seconds 0.25)
        if registry.model(job["id"]) is first:
            break
        assert time.monotonic() < deadline
    assert registry.model(job["id"]) is first and first.network is training.current_network()
    frozen = first.network.weights[0].copy()
    http.post(f"/api/jobs/{job['id']}/resume")
    events(http, job["id"], until=lambda name, data: name == "progress")
    wait_for(http, job["id"], lambda j: j["progress"]["images_done"] > 0)
    while (later := registry.model(job["id"])) is first:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert not np.array_equal(later.network.weights[0], frozen)  # it learned meanwhile, and job:ID shows it


def test_a_second_tab_sees_the_job_and_its_progress_so_far(server, http):
    job = start(http, epochs=30, name="watched")
    events(http, job["id"], until=lambda name, data: name == "epoch")
    listed = http.get("/api/jobs").json()["jobs"]
    assert listed[0]["id"] == job["id"] and "weights" not in listed[0]
    reloaded = http.get(f"/api/jobs/{job['id']}").json()
    assert len(reloaded["history"]) >= 1 and reloaded["progress"]["epoch"] >= 1 and reloaded["weights"]["inputs"] == 784
    first_tab, second_tab = [], []
    threads = [threading.Thread(target=lambda seen=seen: seen.extend(events(http, job["id"], until=lambda n, d: n == "epoch")))
               for seen in (first_tab, second_tab)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_SECONDS)
    for seen in (first_tab, second_tab):
        name, first = seen[0]
        assert name == "job" and len(first["history"]) >= 1  # the stream replays the history first
        assert seen[-1][0] == "epoch"
    # Both tabs closed their streams: the job stops sending to them (nothing piles up for a closed tab).
    watched = server.app.state.explorer.jobs.get(job["id"])
    deadline = time.monotonic() + WAIT_SECONDS
    while watched.watchers and time.monotonic() < deadline:
        time.sleep(0.05)
    assert watched.watchers == []
    http.post(f"/api/jobs/{job['id']}/stop")


def test_a_second_job_beyond_the_limit_is_refused(http):
    job = start(http, epochs=30, name="the-one")
    refused = http.post("/api/jobs", json=TINY)
    assert refused.status_code == 409
    assert refused.json()["detail"] == (f"this server trains at most 1 job at a time (--max-jobs 1); job {job['id']} "
                                        "is running: stop it or wait")


def test_a_killed_worker_fails_the_job_and_the_server_keeps_serving(server, http, models):
    job = start(http, epochs=30, name="killed")
    events(http, job["id"], until=lambda name, data: name == "progress")
    worker = server.app.state.explorer.jobs.get(job["id"]).training.process
    os.kill(worker.pid, signal.SIGKILL)  # what the out-of-memory killer does
    final = events(http, job["id"])[-1][1]
    assert final["state"] == "failed" and "SIGKILL" in final["error"] and "\n" not in final["error"]
    assert not any(path.name.startswith((".killed", "killed")) for path in models.iterdir())  # no half-written file
    assert http.get("/api/model").status_code == 200
    gone = http.get(f"/api/model?model=job:{job['id']}")
    assert gone.status_code == 404 and "without saving a model" in gone.json()["detail"]
    assert start(http, name="after-the-kill")["state"] == "starting"  # the limit counts it no more


# TrainingSettings' own words are its business: these name the setting, as every message must.
BAD_SETTINGS = [
    ({"layers": [-3]}, "layers[0]: -3 neurons is outside the lab's limit of 1-1024"),
    ({"layers": [1_000_000]}, "layers[0]: 1000000 neurons is outside the lab's limit of 1-1024"),
    ({"layers": [16] * 5}, "over the lab's limit of 0-4 hidden layers"),
    ({"layers": [1024, 1024, 1024]}, "weights and biases is over the lab's limit of 2,000,000"),
    ({"learning_rate": math.nan}, "training settings: learning_rate must be"),
    ({"learning_rate": -1}, "training settings: learning_rate must be"),
    ({"momentum": 1.5}, "training settings: momentum must be"),
    ({"shift_pixels": 9}, "training settings: shift_pixels must be"),
    ({"activation": "swish"}, "activation 'swish': choose one of sigmoid, relu, tanh"),
    ({"optimizer": "lbfgs"}, "training settings: optimizer must be one of"),
    ({"epochs": "10"}, "epochs: Input should be a valid integer"),
    ({"learning_rate": "0.1"}, "learning_rate: Input should be a valid number"),
    ({"layers": ["16"]}, "layers[0]: Input should be a valid integer"),
    ({"epochs": True}, "epochs: Input should be a valid integer"),
    ({"epochs": 1000}, "epochs: 1000 is outside the lab's limit of 1-100"),
    ({"epochs": 0}, "epochs: 0 is outside the lab's limit of 1-100"),
    ({"batch_size": 10**6}, "batch_size: 1000000 is outside the lab's limit of 1-10000"),
    ({"seed": -1}, "seed: -1 is outside the lab's limit"),
    ({"neurons": list(range(33))}, "neurons: give 1-32 first-layer neurons"),
    ({"neurons": [8]}, "neurons: each must be a different neuron 0-7"),
    ({"colour": "red"}, "colour: Extra inputs are not permitted"),
    ({"layers": None}, "layers: Input should be a valid list"),
    ({"name": "../escape"}, "give a file name, not a path"),
    ({"name": "/etc/passwd"}, "give a file name, not a path"),
    ({"name": ".hidden"}, "give a file name, not a path"),
    ({"name": "a" * 200}, "use at most 100 letters"),
    ({"name": "bad\u00e9name"}, "use at most 100 letters"),
    ({"started_from": "nowhere.safetensors"}, "'nowhere.safetensors' is not a model file in the models folder"),
]


@pytest.mark.parametrize("change, message", BAD_SETTINGS, ids=[json.dumps(c)[:40] for c, _ in BAD_SETTINGS])
def test_bad_settings_are_one_line_4xx_naming_the_problem(http, change, message):
    body = json.dumps({**TINY, **change}, allow_nan=True)  # NaN as Python's json writes it (JSON has none)
    response = http.post("/api/jobs", content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and message in detail
    assert http.get("/api/jobs").json()["jobs"] == [] or all(
        job["state"] in ("finished", "stopped", "failed") for job in http.get("/api/jobs").json()["jobs"])


def test_the_errors_quoted_in_the_api_doc_are_the_servers_words(http):
    """docs/lab-api.md's table of errors: each row's request, sent, answers that row's status and
    detail word for word (the doc once quoted messages the code did not give)."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "lab-api.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\{.*\})` \| (\d{3}) \| `([^`]+)`", doc, flags=re.MULTILINE)
    assert len(rows) >= 8, "the doc's table of errors is gone or changed shape"
    for request, status, detail in rows:
        response = http.post("/api/jobs", json={**TINY, **json.loads(request)})
        assert (response.status_code, response.json()["detail"]) == (int(status), detail), request


def test_a_body_that_is_not_an_object_gets_an_example_of_one(http):
    for body in ("[]", "null", "7"):
        refused = http.post("/api/jobs", content=body, headers={"content-type": "application/json"})
        assert refused.status_code == 422
        assert refused.json()["detail"] == 'the body must be a JSON object, e.g. {"layers": [16, 16], "epochs": 30}'


def test_a_name_that_would_overwrite_a_file_is_refused(http, models):
    models.mkdir(exist_ok=True)
    (models / "kept.safetensors").write_bytes(b"someone's model")
    for name in ("kept", "kept.safetensors"):
        refused = http.post("/api/jobs", json={**TINY, "name": name})
        assert refused.status_code == 409 and "nothing is overwritten" in refused.json()["detail"]
    assert (models / "kept.safetensors").read_bytes() == b"someone's model"


def test_unknown_jobs_are_404(http):
    for call in (http.get("/api/jobs/999"), http.get("/api/jobs/999/events"), http.post("/api/jobs/999/stop"),
                 http.get("/api/model?model=job:999")):
        assert call.status_code == 404 and "no training job '999'" in call.json()["detail"]


def test_no_training_turns_the_lab_off(tmp_path):
    client = TestClient(create_app(models_dir=tmp_path, training=False), base_url="http://127.0.0.1")
    assert client.get("/api/lab").json()["enabled"] is False
    for call in (client.post("/api/jobs", json=TINY), client.get("/api/jobs"), client.get("/api/jobs/1/events")):
        assert call.status_code == 403
        assert call.json()["detail"] == "training is turned off on this server (digitnet serve --no-training)"
    assert client.get("/api/model").status_code == 200  # the rest of the explorer is there


def test_without_a_models_folder_a_job_cannot_start(tmp_path):
    refused = TestClient(create_app(), base_url="http://127.0.0.1").post("/api/jobs", json=TINY)
    assert refused.status_code == 409 and "--models-dir" in refused.json()["detail"]


def test_max_jobs_must_allow_one(tmp_path):
    with pytest.raises(DigitnetError, match="allow at least 1 job"):
        create_app(models_dir=tmp_path, max_jobs=0)


def test_the_default_models_folder_is_the_user_s_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_models_dir() == tmp_path / "data" / "digitnet" / "models"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/is/ignored")  # as the XDG specification says
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_models_dir() == tmp_path / ".local" / "share" / "digitnet" / "models"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_models_dir() == tmp_path / ".local" / "share" / "digitnet" / "models"


def test_serve_flags_reach_the_app(monkeypatch):
    seen = {}
    monkeypatch.setattr("digitnet.web.server.serve", lambda *args, **kwargs: seen.update(kwargs))
    assert cli.main(["serve", "--no-training", "--max-jobs", "3"]) == 0
    assert seen["training"] is False and seen["max_jobs"] == 3 and seen["models_dir"] is None


def test_ctrl_c_on_the_server_saves_the_running_job_s_best_epoch(tmp_path):
    # `digitnet serve` as a user runs it, with a page watching the job's stream: Ctrl-C (SIGINT) must end
    # the stream, stop the job as Ctrl-C stops `digitnet train` (best epoch saved) and exit quietly.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen([sys.executable, "-m", "digitnet.cli", "serve", "--models-dir", str(tmp_path),
                                "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            deadline = time.monotonic() + WAIT_SECONDS
            while True:
                try:
                    http.get("/api/lab")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline and process.poll() is None, "the server did not start"
                    time.sleep(0.1)
            job = start(http, epochs=50, name="interrupted")
            with http.stream("GET", f"/api/jobs/{job['id']}/events", timeout=WAIT_SECONDS) as stream:
                lines = stream.iter_lines()
                for line in lines:
                    if line == "event: epoch":
                        break
                process.send_signal(signal.SIGINT)
                list(lines)  # the server ends the stream, so this returns
        _, errors = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    # 130, as for any command stopped by Ctrl-C (uvicorn re-raises the signal once it has shut down).
    assert process.returncode == 130 and b"Traceback" not in errors, errors.decode(errors="replace")
    model = load_model(tmp_path / "interrupted.safetensors")
    assert model.metadata["interrupted"] is True and 1 <= len(model.metadata["history"]) < 50
    assert sorted(path.name for path in tmp_path.iterdir()) == ["interrupted.safetensors"]


ANY_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                        lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                        max_leaves=10)
FIELDS = list(JobRequest.model_fields)


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELDS + ["other"]),
                       st.one_of(ANY_JSON, st.integers(-2, 2000), st.lists(st.integers(-5, 2000), max_size=6)),
                       max_size=6))
def test_any_request_body_is_a_job_or_one_line_naming_the_problem(body):
    # The class of bad settings as a whole: whatever JSON arrives, checking it gives a spec and
    # settings, or a 4xx/DigitnetError of one line; never another exception (a 500).
    try:
        request = JobRequest.model_validate(body)
        layer_sizes, settings = check_request(request)
        check_neurons(request.neurons, layer_sizes)
    except ValidationError as error:
        assert error.errors()
    except HTTPException as error:
        assert 400 <= error.status_code < 500 and "\n" not in error.detail
    except DigitnetError as error:
        assert "\n" not in str(error) and str(error).startswith("training settings:")
    else:
        assert isinstance(settings, TrainingSettings) and len(layer_sizes) <= 6


def test_another_site_cannot_start_or_stop_training(http):
    # A page elsewhere could make the user's browser POST here; the explorer's origin check covers the lab.
    for path in ("/api/jobs", "/api/jobs/1/stop"):
        refused = http.post(path, json=TINY, headers={"Origin": "http://elsewhere.example"})
        assert refused.status_code == 403 and "\n" not in refused.json()["detail"]
    assert all(job["name"] != "lab-8-sigmoid.safetensors" or job["state"] != "starting"
               for job in http.get("/api/jobs").json()["jobs"])
