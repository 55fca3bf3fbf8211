"""`digitnet sweep` on local processes, as a user runs it: a real subprocess, a real database;
Ctrl-C and resume, the report's table and pictures, saved models."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from digitnet.modelfile import load_model
from digitnet.sweep import load_spec, open_results

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def sweep_command(*args):
    return [sys.executable, "-m", "digitnet.cli", "sweep", *args]


def run(*args):
    result = subprocess.run(sweep_command(*args), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def finished_at(db: Path) -> dict[str, float]:
    """key -> when its row was written, read as a second program would (read-only, during the sweep)."""
    try:
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return dict(connection.execute("SELECT key, finished_at FROM runs"))
        finally:
            connection.close()
    except sqlite3.Error:  # not made yet
        return {}


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_a_stopped_sweep_keeps_every_finished_run_and_the_rerun_trains_only_the_rest(tmp_path, stop):
    spec_path = tmp_path / "resume.toml"
    spec_path.write_text('name = "resume"\nseeds = 4\n[data]\ntrain_images = 4000\n'
                         '[grid]\nhidden_layers = [[40], [30], [20], [10]]\nepochs = 1\n')
    spec = load_spec(spec_path)
    db = tmp_path / "resume.sqlite"
    # SIGINT as Ctrl-C sends it (the default handler restored: a background shell would ignore it).
    sweep = subprocess.Popen(sweep_command(str(spec_path), "--db", str(db), "--quiet"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while len(finished_at(db)) < 2 and sweep.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    sweep.send_signal(stop)
    out, err = sweep.communicate(timeout=60)
    assert sweep.returncode == 130, err
    assert "Traceback" not in err and "run the same command again" in err
    before = finished_at(db)
    assert 2 <= len(before) < len(spec.runs) == 16
    assert f"{len(before)} of 16 runs are saved" in err

    result = run(str(spec_path), "--db", str(db), "--quiet")
    after = finished_at(db)
    assert set(after) == {r.key for r in spec.runs}  # nothing missing
    assert all(after[key] == when for key, when in before.items())  # nothing finished was trained again
    assert f"({16 - len(before)} trained now, {len(before)} before)" in result.stdout
    with open_results(db) as database:
        assert len(database.rows()) == 16


def test_the_small_example_and_its_report(tmp_path):
    db = tmp_path / "small.sqlite"
    result = run(str(EXAMPLES / "sweep-small.toml"), "--db", str(db))
    spec = load_spec(EXAMPLES / "sweep-small.toml")
    assert f"{len(spec.runs)} of {len(spec.runs)} runs in {db}" in result.stdout
    assert "best new run:" in result.stderr
    report = run("report", "--db", str(db), "--out", str(tmp_path / "pictures"))
    lines = report.stdout.splitlines()
    assert lines[0] == f"{len(spec.runs)} runs, {len(spec.runs) // 2} points (mean ± spread over seeds; " \
                       "P: on the Pareto front)"
    table = [line for line in lines if "784-" in line]
    assert len(table) == len(spec.runs) // 2
    assert all(" 2 " in line and "±" in line for line in table)
    assert any("<- the video's" in line for line in table)  # 784-16-16-10 sigmoid is in the example
    accuracies = [float(line.split("±")[0].split()[-1]) for line in table]
    assert accuracies == sorted(accuracies, reverse=True)  # best first
    assert table[0].startswith("P ")  # the best is always on the Pareto front
    for name in ("accuracy_vs_size", "accuracy_vs_setting", "best_curves"):
        picture = tmp_path / "pictures" / f"{name}.png"
        assert f"wrote {picture}" in report.stdout
        with Image.open(picture) as image:
            assert image.size[0] >= 700 and image.size[1] >= 350


def test_save_models_keeps_each_runs_model_beside_the_database(tmp_path):
    spec_path = tmp_path / "keep.toml"
    spec_path.write_text('save_models = true\n[data]\ntrain_images = 500\n[grid]\nhidden_layers = [[5], [7]]\n'
                         'epochs = 1\n')
    db = tmp_path / "keep.sqlite"
    run(str(spec_path), "--db", str(db), "--quiet")
    with open_results(db) as database:
        rows = database.rows()
    assert len(rows) == 2
    for row in rows:
        assert row["model_file"] == f"keep.models/{row['key']}.safetensors"
        model = load_model(tmp_path / row["model_file"])
        assert model.network.layer_sizes == row["layer_sizes"]
        assert model.metadata["run_key"] == row["key"]
        assert abs(model.metadata["test_accuracy"] - row["test_accuracy"]) < 1e-12
        assert len(model.metadata["history"]) == 1


def test_user_mistakes_on_the_command_line_are_one_line(tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text("[grid]\nlearnig_rate = [0.1]\n")
    cases = [
        (sweep_command(str(spec), "--db", str(tmp_path / "r.sqlite")), "unknown key 'learnig_rate'"),
        (sweep_command(str(tmp_path / "none.toml"), "--db", str(tmp_path / "r.sqlite")), "no such sweep spec"),
        (sweep_command(str(EXAMPLES / "sweep-small.toml"), "--db", str(tmp_path / "no" / "r.sqlite")),
         "does not exist"),
        (sweep_command(str(EXAMPLES / "sweep-small.toml"), "--db", str(tmp_path / "r.sqlite"), "--jobs", "0"),
         "jobs must be"),
    ]
    for command, problem in cases:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                env={**os.environ, "PYTHONWARNINGS": "ignore"})
        assert result.returncode == 1, result.stderr
        assert result.stderr.count("\n") == 1 and problem in result.stderr, result.stderr
