"""sweep on a real Dask cluster: Dask's own `dask scheduler` and two `dask worker` processes on
loopback, started here; the same rows as a local run, and a worker killed mid-sweep."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from digitnet.sweep import open_results, parse_spec, run_sweep  # noqa: E402
from digitnet.sweep.launch import LoopbackCluster, free_port  # noqa: E402

COMPARED = ("key", "layer_sizes", "activation", "seed", "parameter_count", "test_accuracy", "validation_accuracy",
            "best_epoch", "validation_curve", "data_checksum", "train_images")


@pytest.fixture
def cluster():
    with LoopbackCluster(workers=2) as cluster:  # Dask's own commands, as separate processes
        yield cluster


def tiny_spec(**grid):
    return parse_spec({"name": "tiny", "seeds": 2, "data": {"train_images": 1000},
                       "grid": {"hidden_layers": [[4], [8], [6, 6]], "epochs": 1, **grid}})


def rows_by_key(path):
    with open_results(path, create=False) as database:
        return {row["key"]: {column: row[column] for column in COMPARED} for row in database.rows()}


def test_a_cluster_gives_the_same_rows_as_local_processes(cluster, tmp_path):
    spec = tiny_spec()
    with open_results(tmp_path / "local.sqlite") as database:
        run_sweep(spec, database, n_jobs=2)
    with open_results(tmp_path / "cluster.sqlite") as database:
        progress = run_sweep(spec, database, scheduler=cluster.client)
    assert progress.finished == len(spec.runs) == 6 and not progress.interrupted
    local, remote = rows_by_key(tmp_path / "local.sqlite"), rows_by_key(tmp_path / "cluster.sqlite")
    assert set(local) == set(remote) == {run.key for run in spec.runs}
    for key in local:  # same machine, same code, same seed: the same numbers
        assert remote[key] == local[key]
    with open_results(tmp_path / "cluster.sqlite") as database:
        workers = {row["worker"] for row in database.rows()}
    worker_pids = {str(process.pid) for process in cluster.workers}
    assert {worker.rsplit(":", 1)[1] for worker in workers} <= worker_pids  # trained on the workers, not here


def test_a_worker_killed_mid_sweep_still_gives_every_run_once(cluster, tmp_path):
    spec = parse_spec({"name": "kill", "seeds": 3, "data": {"train_images": 6000},
                       "grid": {"hidden_layers": [[60], [50], [40]], "epochs": 1}})
    database = open_results(tmp_path / "kill.sqlite")
    victim = cluster.workers[0]
    killed = []

    def on_result(progress):
        # After the first result, kill the first worker while it is training something.
        if killed:
            return
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            processing = cluster.client.processing()
            busy = [address for address, tasks in processing.items() if tasks]
            pids = cluster.client.run(os.getpid, workers=busy) if busy else {}
            if victim.pid in pids.values():
                victim.send_signal(signal.SIGKILL)
                victim.wait(timeout=20)
                killed.append(True)
                return
            time.sleep(0.02)

    progress = run_sweep(spec, database, scheduler=cluster.client, on_result=on_result)
    assert killed and victim.returncode == -signal.SIGKILL
    assert progress.finished == len(spec.runs) == 9 and not progress.interrupted
    rows = database.rows()
    database.close()
    keys = [row["key"] for row in rows]
    assert sorted(keys) == sorted(run.key for run in spec.runs)  # each run once, none missing
    survivor = str(cluster.workers[1].pid)
    assert any(row["worker"].endswith(":" + survivor) for row in rows)


def test_a_scheduler_that_does_not_answer_is_one_line(tmp_path):
    port = free_port()  # nothing listens there
    spec = Path(__file__).resolve().parents[1] / "examples" / "sweep-small.toml"
    result = subprocess.run([sys.executable, "-m", "digitnet.cli", "sweep", str(spec), "--db",
                             str(tmp_path / "r.sqlite"), "--scheduler", f"tcp://127.0.0.1:{port}",
                             "--connect-timeout", "1"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"tcp://127.0.0.1:{port}" in lines[0] and "did not answer" in lines[0], result.stderr
    bad = subprocess.run([sys.executable, "-m", "digitnet.cli", "sweep", str(spec), "--db", str(tmp_path / "r.sqlite"),
                          "--scheduler", "localhost 8786"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1 and "tcp://" in bad.stderr
