"""The results database: one SQLite file, one row per finished run, written as each run finishes.

SQLite in WAL mode lets one sweep write while others read (a report, the explorer) and lets two
sweeps share a file: each insert is its own short transaction, and the run's key is the primary
key, so a run that two sweeps both finish lands once (the second insert is ignored). Only finished
runs are ever written, so a sweep stopped at any moment leaves nothing half-done: starting it again
skips every key already present and trains the rest.

The file is marked as digitnet's (SQLite's application_id) with a schema version (user_version),
so a foreign database or a file that is not SQLite at all is refused with one line, never changed.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from ..errors import DigitnetError
from .runs import Run, RunResult

APPLICATION_ID = 0x44474E53  # "DGNS": marks the file as a digitnet sweep database
SCHEMA_VERSION = 1
BUSY_SECONDS = 60  # how long a write waits for another sweep's write to the same file

SCHEMA = """
CREATE TABLE runs (
    key TEXT PRIMARY KEY,          -- Run.key: what the run computes, hashed
    sweep TEXT NOT NULL,           -- the name of the sweep that first finished it
    layer_sizes TEXT NOT NULL,     -- JSON list, e.g. [784, 16, 16, 10]
    activation TEXT NOT NULL,
    output TEXT NOT NULL,
    epochs INTEGER NOT NULL,
    batch_size INTEGER NOT NULL,
    learning_rate REAL NOT NULL,
    schedule TEXT NOT NULL,
    optimizer TEXT NOT NULL,
    momentum REAL NOT NULL,
    cost TEXT NOT NULL,
    weight_decay REAL NOT NULL,
    shift_pixels INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    data_folder TEXT,              -- NULL: the shipped MNIST
    train_images INTEGER,          -- NULL: all of them
    parameter_count INTEGER NOT NULL,
    test_accuracy REAL NOT NULL,
    validation_accuracy REAL NOT NULL,  -- of the best epoch
    best_epoch INTEGER NOT NULL,
    validation_curve TEXT NOT NULL,     -- JSON list, one accuracy per epoch
    training_seconds REAL NOT NULL,
    data_checksum TEXT NOT NULL,
    digitnet_version TEXT NOT NULL,
    model_file TEXT,               -- relative to the database's folder; NULL: not saved
    worker TEXT NOT NULL,          -- host:pid that trained it
    finished_at REAL NOT NULL,     -- Unix time the row was written
    run TEXT NOT NULL              -- the whole Run as JSON, to rebuild it
);
"""
COLUMNS = ("key", "sweep", "layer_sizes", "activation", "output", "epochs", "batch_size", "learning_rate",
           "schedule", "optimizer", "momentum", "cost", "weight_decay", "shift_pixels", "seed", "data_folder",
           "train_images", "parameter_count", "test_accuracy", "validation_accuracy", "best_epoch",
           "validation_curve", "training_seconds", "data_checksum", "digitnet_version", "model_file", "worker",
           "finished_at", "run")


class ResultsDatabase:
    """An open results database. Use as a context manager, or call close()."""

    def __init__(self, path: str | Path, create: bool = True):
        self.path = Path(path)
        if self.path.is_dir():
            raise DigitnetError(f"{self.path}: is a folder; give a file name for the results database")
        if not self.path.exists() and not create:
            raise DigitnetError(f"{self.path}: no such results database; run `digitnet sweep SPEC --db "
                                f"{self.path}` first")
        if not self.path.parent.is_dir():
            raise DigitnetError(f"{self.path}: folder {self.path.parent} does not exist")
        try:
            self.connection = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
        except sqlite3.Error as error:
            raise DigitnetError(f"{self.path}: cannot open as a database ({error})") from None
        try:
            self._prepare(create)
        except BaseException:
            self.connection.close()
            raise

    def _fail(self, problem: str):
        raise DigitnetError(f"{self.path}: {problem}")

    def _prepare(self, create: bool) -> None:
        try:
            c = self.connection
            application_id = c.execute("PRAGMA application_id").fetchone()[0]
            version = c.execute("PRAGMA user_version").fetchone()[0]
            tables = [row[0] for row in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            if application_id == 0 and version == 0 and not tables:
                if not create:
                    self._fail("holds no sweep results yet")
                # A new (or empty) file: make it ours. BEGIN IMMEDIATE, so two sweeps starting on one
                # new file at once do not both create the table.
                c.execute("PRAGMA journal_mode = WAL")
                c.execute("BEGIN IMMEDIATE")
                try:
                    if not c.execute("SELECT 1 FROM sqlite_master WHERE name = 'runs'").fetchone():
                        c.execute(SCHEMA)
                        c.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                        c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    c.execute("COMMIT")
                except BaseException:
                    c.execute("ROLLBACK")
                    raise
                application_id = c.execute("PRAGMA application_id").fetchone()[0]
                version = c.execute("PRAGMA user_version").fetchone()[0]
            if application_id != APPLICATION_ID:
                self._fail("is an SQLite database, but not one of digitnet's sweep results; "
                           "give another --db file (a new name makes a new database)")
            if version != SCHEMA_VERSION:
                self._fail(f"is a sweep database of schema version {version}; this digitnet reads version "
                           f"{SCHEMA_VERSION}")
            columns = [row[1] for row in c.execute("PRAGMA table_info(runs)")]
            if tuple(columns) != COLUMNS:
                self._fail("its runs table does not have the columns digitnet writes; the file was changed "
                           "by something else")
            c.execute("PRAGMA journal_mode = WAL")  # only once the file is known to be ours
        except sqlite3.DatabaseError as error:
            self._fail(f"not a readable SQLite database ({error}); give another --db file")

    def close(self) -> None:
        self.connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read(self, query: str, parameters=()):
        try:
            return self.connection.execute(query, parameters).fetchall()
        except sqlite3.DatabaseError as error:
            self._fail(f"cannot read ({error})")

    def finished_keys(self) -> set[str]:
        return {row[0] for row in self._read("SELECT key FROM runs")}

    def add(self, result: RunResult, model_file: str | None = None) -> bool:
        """Write one finished run; False if its key was already there (finished by another sweep)."""
        run, settings = result.run, result.run.settings
        values = (
            run.key, run.sweep, json.dumps(list(run.structure.layer_sizes)), run.structure.activation,
            run.structure.output, settings.epochs, settings.batch_size, settings.learning_rate, settings.schedule,
            settings.optimizer, settings.momentum, settings.cost, settings.weight_decay, settings.shift_pixels,
            settings.seed, run.data.folder, run.data.train_images, result.parameter_count, result.test_accuracy,
            result.validation_accuracy, result.best_epoch, json.dumps(result.validation_curve),
            result.training_seconds, result.data_checksum, result.digitnet_version, model_file, result.worker,
            time.time(), json.dumps(run.to_dict(), sort_keys=True))
        placeholders = ", ".join("?" * len(COLUMNS))
        try:
            cursor = self.connection.execute(
                f"INSERT OR IGNORE INTO runs ({', '.join(COLUMNS)}) VALUES ({placeholders})", values)
        except sqlite3.OperationalError as error:
            self._fail(f"cannot write ({error}); the finished runs so far are kept")
        return cursor.rowcount == 1

    def rows(self) -> list[dict]:
        """Every finished run as a dict of the columns (JSON columns decoded, `run` as a Run), oldest first."""
        result = []
        for values in self._read(f"SELECT {', '.join(COLUMNS)} FROM runs ORDER BY finished_at, key"):
            row = dict(zip(COLUMNS, values))
            try:
                row["layer_sizes"] = tuple(json.loads(row["layer_sizes"]))
                row["validation_curve"] = [float(v) for v in json.loads(row["validation_curve"])]
                row["run"] = Run.from_dict(json.loads(row["run"]))
            except (ValueError, TypeError, KeyError, DigitnetError):
                self._fail(f"run {row['key']} has a damaged record; the file was changed by something else")
            result.append(row)
        return result


def open_results(path: str | Path, create: bool = True) -> ResultsDatabase:
    """Open (or with create, make) a results database; DigitnetError if it is not one."""
    return ResultsDatabase(path, create)
