"""A real `digitnet train` process, stopped the hard way: no model is ever lost or half-written.

`save_model` writes a temp file beside the target and renames it over the target, so a crash,
SIGKILL or power cut during the save leaves the previous model as it was. Ctrl-C during training
stops at once but keeps the best epoch so far, saved, and exits 130 without a traceback.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from digitnet.modelfile import load_model, save_model
from digitnet.network import Network
from helpers import digitnet_env, write_idx_set

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    """100 training images plus the 10,000 that `train` holds out for validation, and 10 test images."""
    return write_idx_set(tmp_path_factory.mktemp("idx") / "set", n_train=10_100, n_test=10, gzipped=False)


def start_train(*args) -> subprocess.Popen:
    """`python -m digitnet.cli train ...` as a user starts it, with Ctrl-C raising KeyboardInterrupt.

    A process started in the background inherits SIGINT ignored, and Python then installs no
    KeyboardInterrupt handler; a terminal's foreground job has the default, so restore that.
    """
    return subprocess.Popen([sys.executable, "-m", "digitnet.cli", "train", *map(str, args)], env=digitnet_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def read_until(process: subprocess.Popen, pattern: str) -> list[str]:
    """stderr lines up to and including the first that matches `pattern`."""
    lines = []
    while True:
        line = process.stderr.readline()
        if not line:
            process.kill()
            raise AssertionError(f"train ended before printing {pattern!r}:\n" + "".join(lines))
        lines.append(line)
        if re.search(pattern, line):
            return lines


def temp_files(folder: Path, target: str) -> list[Path]:
    """The temp files `save_model` makes beside `target`: .NAME.XXXXXXXX.tmp"""
    return [folder / name for name in os.listdir(folder) if name.startswith(f".{target}.") and name.endswith(".tmp")]


def test_sigkill_during_the_save_leaves_the_previous_model_intact(tmp_path, small_set):
    out = tmp_path / "model.safetensors"
    save_model(out, Network((784, 3, 10), seed=1), {"note": "the model before"})
    before = out.read_bytes()
    outcomes = []
    for attempt in range(6):
        # 784-1500-1500-10 is 3.4 million numbers, a 14 MB file: its write and fsync take a while.
        process = start_train("--layers", 1500, 1500, "--epochs", 1, "--data", small_set, "--out", out,
                              "--seed", attempt)
        read_until(process, r"epoch\s+1/1")  # trained; now it evaluates 10 test images and saves
        temp = []
        deadline = time.monotonic() + 60
        while not temp and process.poll() is None and time.monotonic() < deadline:
            temp = temp_files(tmp_path, out.name)
        if temp:
            process.kill()  # SIGKILL: nothing in the process gets to clean up
        process.communicate(timeout=60)
        left = temp_files(tmp_path, out.name)
        after = out.read_bytes()
        assert load_model(out).network.layer_sizes in ((784, 3, 10), (784, 1500, 1500, 10))  # never half a file
        if left:  # killed between creating the temp file and renaming it: the old model must be untouched
            assert process.returncode == -signal.SIGKILL
            assert after == before, "the previous model changed although the save never finished"
            outcomes.append("killed mid-save")
            for path in left:
                path.unlink()
            break
        outcomes.append("too late" if temp else "missed the temp file")
        out.write_bytes(before)  # the save completed; put the previous model back and try again
    assert "killed mid-save" in outcomes, outcomes
    assert load_model(out).metadata["note"] == "the model before"


def test_ctrl_c_during_training_keeps_the_best_epoch(tmp_path, small_set):
    out = tmp_path / "model.safetensors"
    process = start_train("--layers", 16, "--epochs", 500, "--data", small_set, "--out", out)
    head = read_until(process, r"epoch\s+1/500")
    process.send_signal(signal.SIGINT)
    stdout, rest = process.communicate(timeout=60)
    stderr = "".join(head) + rest
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    assert "interrupted" in stderr and f"saved to {out}" in stderr
    assert "test accuracy" in stdout
    model = load_model(out)
    assert model.metadata["interrupted"] is True
    assert 1 <= model.metadata["best_epoch"] <= len(model.metadata["history"]) < 500
    assert model.network.layer_sizes == (784, 16, 10)
    assert temp_files(tmp_path, out.name) == []


def test_ctrl_c_before_the_first_epoch_saves_nothing_and_keeps_the_previous_model(tmp_path, small_set):
    out = tmp_path / "model.safetensors"
    save_model(out, Network((784, 3, 10), seed=1))
    before = out.read_bytes()
    # Wide layers make the first epoch (10,000 validation images) take about a second.
    process = start_train("--layers", 1500, 1500, "--epochs", 3, "--data", small_set, "--out", out)
    head = read_until(process, r"validating on")  # the data is loaded and training begins
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=60)
    stderr = "".join(head) + rest
    assert "epoch   1/3" not in stderr, "the first epoch finished before Ctrl-C arrived"
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    # Caught in the training loop ("stopped before the first epoch finished; nothing saved") or, a
    # moment earlier, by the CLI ("digitnet train: interrupted"): either way nothing is written.
    assert "nothing saved" in stderr or "digitnet train: interrupted" in stderr, stderr
    assert out.read_bytes() == before
    assert temp_files(tmp_path, out.name) == []


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_or_sighup_during_training_keeps_the_best_epoch_like_ctrl_c(tmp_path, small_set, stop):
    # `kill PID`, systemd stopping a job, or the terminal closing: the same as Ctrl-C.
    out = tmp_path / "model.safetensors"
    process = start_train("--layers", 16, "--epochs", 500, "--data", small_set, "--out", out)
    read_until(process, r"epoch\s+1/500")
    process.send_signal(stop)
    _, rest = process.communicate(timeout=60)
    assert process.returncode == 128 + stop, rest
    assert "Traceback" not in rest and "interrupted: keeping the best epoch" in rest, rest
    model = load_model(out)
    assert model.metadata["interrupted"] and model.metadata["best_epoch"] >= 1


def test_sigterm_during_the_save_leaves_no_temp_file_and_the_previous_model(tmp_path, small_set):
    out = tmp_path / "model.safetensors"
    save_model(out, Network((784, 3, 10), seed=1), {"note": "the model before"})
    before = out.read_bytes()
    outcomes = []
    for attempt in range(6):
        process = start_train("--layers", 1500, 1500, "--epochs", 1, "--data", small_set, "--out", out,
                              "--seed", attempt)
        read_until(process, r"epoch\s+1/1")  # trained; now it evaluates 10 test images and saves
        temp = []
        while not temp and process.poll() is None:  # the condition: the temp file exists
            temp = temp_files(tmp_path, out.name)
        if temp:
            process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=60)
        assert "Traceback" not in rest, rest
        assert temp_files(tmp_path, out.name) == [], "SIGTERM left the temp file behind"
        if process.returncode == 128 + signal.SIGTERM:  # stopped mid-save: the old model is untouched
            assert out.read_bytes() == before
            outcomes.append("stopped mid-save")
            break
        outcomes.append("too late")  # the save had finished; restore and try again
        out.write_bytes(before)
    assert "stopped mid-save" in outcomes, outcomes


def test_ctrl_c_at_any_moment_of_training_is_one_clean_stop(tmp_path, small_set):
    # Ctrl-C landing inside a wait for another thread (the shuffler's next chunk, the validation
    # half) once gave "RuntimeError: cannot release un-acquired lock"; at random moments, 8 times
    rng = np.random.default_rng(7)
    for attempt in range(8):
        out = tmp_path / f"model{attempt}.safetensors"
        process = start_train("--layers", 16, "--epochs", 500, "--data", small_set, "--out", out)
        head = read_until(process, r"epoch\s+1/500")
        time.sleep(float(rng.uniform(0, 0.3)))
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=60)
        stderr = "".join(head) + rest
        assert "Traceback" not in stderr and "RuntimeError" not in stderr, stderr
        assert process.returncode == 130, stderr
        assert load_model(out).metadata["interrupted"] is True
