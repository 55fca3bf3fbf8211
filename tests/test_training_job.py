"""Tests for digitnet.training_job: `train` in a worker process, its messages, pause/stop, a killed worker.

Tiny networks (784-8-10) and one or two epochs: each worker costs a process start (~1 s) and MNIST.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from digitnet import cli
from digitnet.errors import DigitnetError
from digitnet.modelfile import load_model, save_model
from digitnet.network import Network
from digitnet.training import TrainingSettings
from digitnet.training_job import (JobSpec, TrainingJob, decode_snapshot, default_neurons, encode_snapshot,
                                   progress_every, save_new_model)

WAIT_SECONDS = 120  # a generous bound on a condition, on a machine shared by many jobs


def spec_for(out: Path, epochs: int = 1, seed: int = 3, layers=(8,), **settings) -> JobSpec:
    return JobSpec((784, *layers, 10), "sigmoid", "softmax", TrainingSettings(epochs=epochs, seed=seed, **settings),
                   out, default_neurons(layers[0]), update_seconds=0.0)  # report at every on_batch


def messages_until(job: TrainingJob, stop_at, on_message=None) -> list[tuple[str, dict]]:
    """The worker's messages until `stop_at(kind)` is true (or it ended), calling on_message on each."""
    seen, deadline = [], time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        message = job.next_message(timeout=0.5)
        if message is None:
            continue
        seen.append(message)
        if on_message is not None:
            on_message(*message)
        if stop_at(message[0]) or message[0] in ("ended", "failed"):
            return seen
    pytest.fail(f"the worker did not get there in {WAIT_SECONDS} s; saw {[kind for kind, _ in seen]}")


def assert_same_weights(a: Network, b: Network) -> None:
    for w_a, w_b, b_a, b_b in zip(a.weights, b.weights, a.biases, b.biases):
        np.testing.assert_array_equal(w_a, w_b)
        np.testing.assert_array_equal(b_a, b_b)


def test_a_paused_job_gives_exactly_the_model_digitnet_train_gives(tmp_path):
    # Same settings, same seed, same machine, same numpy and OpenBLAS (one BLAS thread in both: train
    # sets it), the same `train` code path: the float32 arithmetic is the same sequence of operations,
    # so the weights are bit for bit equal, not merely close. Pausing in the middle must not change a number.
    assert cli.main(["train", "--layers", "8", "--epochs", "2", "--seed", "3", "--quiet",
                     "--out", str(tmp_path / "cli.safetensors")]) == 0
    job = TrainingJob(spec_for(tmp_path / "lab.safetensors", epochs=2)).start()
    paused = []

    def pause_once(kind, data):
        if kind == "progress" and not paused:
            job.pause()
            paused.append(data["step"])
    messages_until(job, lambda kind: kind == "paused", pause_once)
    frozen = job.current_network().weights[0].copy()
    job.resume()
    seen = messages_until(job, lambda kind: False)
    kinds = [kind for kind, _ in seen]
    assert kinds[0] == "resumed" and kinds[-1] == "ended" and kinds.count("epoch") == 2
    assert not np.array_equal(frozen, job.current_network().weights[0])  # it went on learning after the pause
    cli_model, lab_model = load_model(tmp_path / "cli.safetensors"), load_model(tmp_path / "lab.safetensors")
    assert_same_weights(cli_model.network, lab_model.network)
    assert_same_weights(lab_model.network, job.current_network())  # job:ID's weights are the saved ones at the end
    for meta in (cli_model.metadata, lab_model.metadata):  # seconds differ; everything else is the same
        for record in meta["history"]:
            record.pop("seconds")
        meta.pop("training_seconds")
    for key in ("training", "history", "best_epoch", "interrupted", "test_accuracy", "data_checksum"):
        assert lab_model.metadata[key] == cli_model.metadata[key], key
    job.close()


def test_progress_reports_speed_time_left_and_decodable_snapshots(tmp_path):
    job = TrainingJob(spec_for(tmp_path / "m.safetensors")).start()
    progress = [data for kind, data in messages_until(job, lambda kind: False) if kind == "progress"]
    assert len(progress) >= 5  # every ~1,600 images with update_seconds=0: ~31 per epoch
    last = progress[-1]
    assert (last["epoch"], last["step"], last["steps"]) == (1, 1563, 1563)
    assert last["images_done"] == last["images_total"] == 50_000 and last["seconds_left"] == 0
    assert all(p["images_per_second"] > 0 for p in progress[1:])
    steps = [p["step"] for p in progress]
    assert steps == sorted(steps)
    # The lab's own cost so far, a running total: it only grows, and is a part of the training's time.
    reporting = [p["reporting_seconds"] for p in progress]
    assert reporting == sorted(reporting) and reporting[0] >= 0
    assert 0 < last["reporting_seconds"] < last["elapsed"]
    # The last snapshot is the network at the end of the epoch, within half a quantization step.
    snapshot = last["weights"]
    assert snapshot["neurons"] == list(range(8)) and snapshot["inputs"] == 784
    final = job.current_network()  # the best (only) epoch's weights, which is the end of epoch 1
    step = np.asarray(snapshot["scales"])[:, None]
    assert np.all(np.abs(decode_snapshot(snapshot) - final.weights[0]) <= step / 2 + 1e-12)
    job.close()


def test_stop_keeps_the_best_epoch_as_ctrl_c_does(tmp_path):
    out = tmp_path / "m.safetensors"
    job = TrainingJob(spec_for(out, epochs=20)).start()

    def stop_after_first_epoch(kind, data):
        if kind == "epoch":
            job.stop()
    seen = messages_until(job, lambda kind: False, stop_after_first_epoch)
    ended = seen[-1]
    assert ended[0] == "ended" and ended[1]["interrupted"] and ended[1]["saved"] == out.name
    model = load_model(out)
    epochs = [record["epoch"] for record in model.metadata["history"]]
    assert 1 <= len(epochs) < 20 and model.metadata["interrupted"] is True
    assert model.metadata["best_epoch"] == ended[1]["best_epoch"] in epochs
    job.close()


def test_stop_before_the_first_epoch_saves_nothing(tmp_path):
    job = TrainingJob(spec_for(tmp_path / "m.safetensors", epochs=3)).start()
    job.stop()  # before it even started: on_batch raises at once
    seen = messages_until(job, lambda kind: False)
    assert seen[-1] == ("ended", {"saved": None, "interrupted": True, "best_epoch": 0, "test_accuracy": None})
    assert list(tmp_path.iterdir()) == []
    job.close()


def test_a_killed_worker_is_a_failure_naming_the_signal_and_leaves_no_file(tmp_path):
    job = TrainingJob(spec_for(tmp_path / "m.safetensors", epochs=20)).start()
    messages_until(job, lambda kind: kind == "progress")
    os.kill(job.process.pid, signal.SIGKILL)  # what the out-of-memory killer sends
    kind, data = messages_until(job, lambda kind: False)[-1]
    assert kind == "failed" and "SIGKILL" in data["error"] and "\n" not in data["error"]
    assert list(tmp_path.iterdir()) == []
    assert job.next_message(timeout=0.1) is None  # reported once
    job.close()


def test_a_diverging_job_fails_with_train_s_own_message(tmp_path):
    job = TrainingJob(JobSpec((784, 16, 16, 10), "relu", "sigmoid",
                              TrainingSettings(epochs=2, learning_rate=1e6, optimizer="sgd"),
                              tmp_path / "m.safetensors", (0,))).start()
    kind, data = messages_until(job, lambda kind: False)[-1]
    assert kind == "failed" and "diverged" in data["error"]
    assert list(tmp_path.iterdir()) == []
    job.close()


def test_save_new_model_never_replaces_a_file(tmp_path):
    out = tmp_path / "taken.safetensors"
    out.write_bytes(b"someone else's file")
    with pytest.raises(DigitnetError, match="not saved over it"):
        save_new_model(out, Network((784, 4, 10)), {})
    assert out.read_bytes() == b"someone else's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.safetensors"]  # no partial file left
    fresh = save_new_model(tmp_path / "new.safetensors", Network((784, 4, 10), seed=2), {"note": "x"})
    assert load_model(fresh).metadata["note"] == "x"


def test_save_new_model_says_which_folder_cannot_be_written(tmp_path):
    with pytest.raises(DigitnetError, match="cannot save the model|does not exist"):
        save_new_model(tmp_path / "missing" / "m.safetensors", Network((784, 4, 10)), {})


@hypothesis_settings(max_examples=50, deadline=None)
@given(arrays(np.float32, (5, 784), elements=st.floats(-50, 50, width=32)))
def test_snapshots_are_within_half_a_step_of_every_weight(weights):
    network = Network((784, 5, 10), weights=[weights, np.zeros((10, 5))], biases=[np.arange(5.0), np.zeros(10)])
    snapshot = encode_snapshot(network, (4, 0, 2))
    assert snapshot["neurons"] == [4, 0, 2] and snapshot["biases"] == [4.0, 0.0, 2.0]
    decoded = decode_snapshot(snapshot)  # (3, 784)
    scales = np.asarray(snapshot["scales"])[:, None]
    assert np.all(np.abs(decoded - weights[[4, 0, 2]].astype(np.float64)) <= scales / 2 * (1 + 1e-9))
    assert len(snapshot["data"]) == 4 * -(-3 * 784 // 3)  # base64 of 3 x 784 bytes: one byte per weight


def test_which_neurons_the_snapshots_carry():
    assert default_neurons(16) == tuple(range(16))
    wide = default_neurons(100)
    assert len(wide) == 32 and wide[0] == 0 and wide[-1] == 99 and len(set(wide)) == 32


def test_progress_every_matches_the_cli_for_the_default_batch():
    assert progress_every(32) == 50  # train's default: the CLI's numbers exactly
    assert progress_every(10_000) == 1


def test_the_initial_network_is_the_cli_s(tmp_path):
    spec = spec_for(tmp_path / "m.safetensors", seed=7, layers=(16, 16))
    assert_same_weights(spec.initial_network(), Network((784, 16, 16, 10), "sigmoid", "softmax", seed=7))
    save_model(tmp_path / "x.safetensors", spec.initial_network())  # an ordinary network


ORPHANING_SCRIPT = """
import sys, time
from pathlib import Path
from digitnet.training import TrainingSettings
from digitnet.training_job import JobSpec, TrainingJob
if __name__ == "__main__":
    job = TrainingJob(JobSpec((784, 8, 10), "sigmoid", "softmax", TrainingSettings(epochs=50), Path(sys.argv[1]), (0,)))
    job.start()
    while (message := job.next_message(0.5)) is None or message[0] != "epoch":
        pass
    print(job.process.pid, flush=True)
    time.sleep(600)
"""


def test_a_worker_whose_server_was_killed_stops_and_saves_its_best_epoch(tmp_path):
    out = tmp_path / "orphan.safetensors"
    source = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))}
    script = tmp_path / "server.py"
    script.write_text(ORPHANING_SCRIPT)
    parent = subprocess.Popen([sys.executable, str(script), str(out)], env=env, stdout=subprocess.PIPE)
    try:
        worker = int(parent.stdout.readline())  # printed once an epoch has ended
    finally:
        parent.kill()  # SIGKILL: no chance to stop its worker
        parent.wait()
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(worker, signal.SIGKILL)
        pytest.fail("the orphaned worker went on training")
    model = load_model(out)
    assert model.metadata["interrupted"] is True and 1 <= len(model.metadata["history"]) < 50


def test_what_an_interrupted_save_leaves_is_found_and_nothing_else(tmp_path):
    """A worker killed mid-save leaves save_new_model's hidden `.NAME.PID.partial` and, inside it,
    save_model's own temp file (write_atomically's prefix adds another dot): both are found, as
    real saves name them, and no other file of the folder is."""
    from digitnet import files
    from digitnet.training_job import _partial_files

    out = tmp_path / "lab-run.safetensors"
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    left = [partial, tmp_path / (files._temp_prefix(partial) + "k3j4h5g6" + files.TEMP_SUFFIX),
            tmp_path / (files._temp_prefix(out) + "a1b2c3d4" + files.TEMP_SUFFIX)]
    others = [tmp_path / "lab-run.safetensors.bak", tmp_path / ".lab-other.safetensors.1.partial",
              tmp_path / "lab-run2.safetensors", tmp_path / ".notes.tmp"]
    for path in left + others:
        path.write_bytes(b"x")
    assert sorted(_partial_files(out)) == sorted(left)
