"""sweep/database.py: the SQLite results database; a foreign or broken file is one line, never changed;
two sweeps running at once on one file each land every run exactly once."""

import os
import sqlite3
import subprocess
import sys

import pytest

from digitnet import DigitnetError
from digitnet.sweep import open_results, parse_spec, run_sweep
from digitnet.sweep.database import APPLICATION_ID, ResultsDatabase


def tiny_spec(name="tiny", hidden=([4], [6]), seeds=2):
    return parse_spec({"name": name, "seeds": seeds, "data": {"train_images": 500},
                       "grid": {"hidden_layers": [list(h) for h in hidden], "epochs": 1}})


def test_a_new_database_is_marked_as_digitnets_and_in_wal_mode(tmp_path):
    path = tmp_path / "r.sqlite"
    with open_results(path) as database:
        assert database.rows() == [] and database.finished_keys() == set()
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_results_survive_reopening_and_a_run_lands_once(tmp_path):
    spec = tiny_spec()
    path = tmp_path / "r.sqlite"
    with open_results(path) as database:
        progress = run_sweep(spec, database, n_jobs=1)
        assert progress.finished == 4 and len(progress.new_results) == 4
        assert database.add(progress.new_results[0]) is False  # already there: ignored
    with open_results(path) as database:
        rows = database.rows()
        assert sorted(row["key"] for row in rows) == sorted(run.key for run in spec.runs)
        row = rows[0]
        assert row["layer_sizes"] in ((784, 4, 10), (784, 6, 10)) and len(row["validation_curve"]) == 1
        assert row["best_epoch"] == 1 and row["validation_accuracy"] == row["validation_curve"][0]
        assert 0.1 < row["test_accuracy"] <= 1 and row["digitnet_version"] and len(row["data_checksum"]) == 64
        assert row["train_images"] == 500 and row["run"].structure.hidden_layers == tuple(row["layer_sizes"][1:-1])
        again = run_sweep(spec, database, n_jobs=1)
        assert again.skipped == 4 and again.new_results == []


@pytest.mark.parametrize("make, problem", [
    (lambda p: p.write_bytes(b"this is not a database, just some text\n" * 50), "not a readable SQLite database"),
    (lambda p: p.write_bytes(b"SQLite format 3\x00" + os.urandom(4000)), "not a readable SQLite database"),
    (lambda p: sqlite3.connect(p).execute("CREATE TABLE invoices (id INTEGER)"), "not one of digitnet's"),
    (lambda p: sqlite3.connect(p).executescript(f"PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 9;"
                                               "CREATE TABLE runs (key TEXT)"), "schema version 9"),
    (lambda p: sqlite3.connect(p).executescript(f"PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 1;"
                                               "CREATE TABLE runs (key TEXT)"), "does not have the columns"),
    (lambda p: p.mkdir(), "is a folder"),
])
def test_a_foreign_or_broken_file_is_one_line_and_left_alone(tmp_path, make, problem):
    path = tmp_path / "r.sqlite"
    make(path)
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(DigitnetError) as caught:
        open_results(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and problem in message and "\n" not in message
    if before is not None:
        assert path.read_bytes() == before


def test_a_damaged_copy_of_a_real_database_is_one_line(tmp_path):
    path = tmp_path / "r.sqlite"
    with open_results(path) as database:
        run_sweep(tiny_spec(hidden=([4],), seeds=1), database, n_jobs=1)
    sqlite3.connect(path).execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    data[100:len(data)] = b"\x00" * (len(data) - 100)  # every page after the header zeroed
    path.write_bytes(bytes(data))
    with pytest.raises(DigitnetError, match="r.sqlite: "):
        with open_results(path) as database:
            database.rows()


def test_the_cli_names_the_file_in_one_line(tmp_path):
    path = tmp_path / "foreign.sqlite"
    sqlite3.connect(path).execute("CREATE TABLE invoices (id INTEGER)")
    for args in (["sweep", "report", "--db", str(path)],
                 ["sweep", "report", "--db", str(tmp_path / "missing.sqlite")]):
        result = subprocess.run([sys.executable, "-m", "digitnet.cli", *args], capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("digitnet sweep: error: ") and "Traceback" not in result.stderr


def test_two_sweeps_at_once_on_one_database_land_every_run_once(tmp_path):
    # Two real `digitnet sweep` processes, started together, with 2 runs in common.
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text('name = "a"\nseeds = 2\n[data]\ntrain_images = 500\n[grid]\nhidden_layers = [[4], [5], [6]]\n'
                     'epochs = 1\n')
    second.write_text('name = "b"\nseeds = 2\n[data]\ntrain_images = 500\n[grid]\nhidden_layers = [[6], [7]]\n'
                      'epochs = 1\n')
    db = tmp_path / "shared.sqlite"
    processes = [subprocess.Popen([sys.executable, "-m", "digitnet.cli", "sweep", str(spec), "--db", str(db),
                                   "--jobs", "1", "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for spec in (first, second)]
    for process in processes:
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err
    with open_results(db) as database:
        rows = database.rows()
    expected = {run.key for path in (first, second) for run in parse_spec_file(path).runs}
    keys = [row["key"] for row in rows]
    assert len(keys) == len(set(keys)) == len(expected) == 8 and set(keys) == expected


def parse_spec_file(path):
    from digitnet.sweep import load_spec
    return load_spec(path)


def test_a_missing_data_folder_fails_before_any_training(tmp_path):
    spec = parse_spec({"data": {"folder": str(tmp_path / "nowhere")}, "grid": {"hidden_layers": [[4]]}})
    with open_results(tmp_path / "r.sqlite") as database:
        with pytest.raises(DigitnetError, match="nowhere: not a directory"):
            run_sweep(spec, database)
        assert database.rows() == []


def test_a_stop_just_after_a_rows_commit_is_still_counted(tmp_path):
    """Ctrl-C or SIGTERM can land between a row's commit and the sweep's own count: the count the
    sweep reports must come from the database, which is what the rerun will see."""
    class StopRightAfterTheSecondCommit(ResultsDatabase):
        def add(self, result, model_file=None):
            written = super().add(result, model_file)
            if len(self.finished_keys()) == 2:
                raise KeyboardInterrupt  # as the signal handler would, after the commit
            return written

    spec = tiny_spec()
    database = StopRightAfterTheSecondCommit(tmp_path / "r.sqlite")
    try:
        progress = run_sweep(spec, database, n_jobs=1)
    finally:
        database.close()
    assert progress.interrupted
    assert progress.finished == 2 and len(progress.new_results) == 1  # the second row is saved, not yet counted
    with open_results(tmp_path / "r.sqlite") as database:
        assert run_sweep(spec, database, n_jobs=1).skipped == 2
